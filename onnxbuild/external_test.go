package onnxbuild_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/munit-eval/munit-eval/onnxbuild"
)

// TestInlineExternalData: externalized initializers come back inline with
// their values, from the byte ranges the model names; a model without
// external data is returned untouched.
func TestInlineExternalData(t *testing.T) {
	g := onnxbuild.NewGraph("g")
	x := g.Input("x", 1, 4)
	w := g.Const("w", []int64{4}, []float32{1, 2, 3, 4})
	b := g.Const("b", []int64{2}, []float32{5, 6})
	y := g.Op("Mul", []string{x, w}, nil)
	g.OpNamed("Add", []string{y, g.Op("ReduceSum", []string{b}, nil)}, nil, "y")
	g.Output("y", 1, 4)
	orig, err := onnxbuild.NewModel(g, nil).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	same, changed, err := onnxbuild.InlineExternalData(orig, func(onnxbuild.ExternalData) ([]byte, error) {
		t.Fatal("load called for a model without external data")
		return nil, nil
	})
	if err != nil || changed || &same[0] != &orig[0] {
		t.Fatalf("a model without external data: changed %v, %v", changed, err)
	}
	ext, data, err := onnxbuild.ExternalizeInitializers(orig, "w.bin", 8)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 24 {
		t.Fatalf("external file of %d bytes, want 16 + 8", len(data))
	}
	var asked []onnxbuild.ExternalData
	in, changed, err := onnxbuild.InlineExternalData(ext, func(x onnxbuild.ExternalData) ([]byte, error) {
		asked = append(asked, x)
		return data[x.Offset : x.Offset+x.Length], nil
	})
	if err != nil || !changed || bytes.Equal(in, ext) {
		t.Fatalf("inline: changed %v, %v", changed, err)
	}
	if len(asked) != 2 || asked[0] != (onnxbuild.ExternalData{Tensor: "w", Location: "w.bin", Offset: 0, Length: 16, Size: 16}) ||
		asked[1] != (onnxbuild.ExternalData{Tensor: "b", Location: "w.bin", Offset: 16, Length: 8, Size: 8}) {
		t.Fatalf("asked %+v", asked)
	}
	mi, err := onnxbuild.Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]float32{"w": {1, 2, 3, 4}, "b": {5, 6}} {
		got, err := mi.Initializer(name).Float32s()
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %v, %v; want %v", name, got, err, want)
		}
	}
}
