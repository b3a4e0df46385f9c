package onnxbuild_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/onnxbuild"
)

// sample builds a small generator-like graph exercising every kind of
// attribute, both initializer types, dynamic and fixed axes.
func sample() *onnxbuild.Model {
	g := onnxbuild.NewGraph("sample")
	x := g.Input("image", -1, 3, -1, -1)
	s := g.Input("style", -1, 8)
	w := g.Const("conv.w", []int64{4, 3, 3, 3}, make([]float32, 108))
	y := g.Op("Conv", []string{x, w, ""}, onnxbuild.Attrs{
		"pads": []int{1, 1, 1, 1}, "strides": []int64{1, 1}, "group": 1,
	})
	y = g.Op("LeakyRelu", []string{y}, onnxbuild.Attrs{"alpha": 0.2})
	m := g.Op("ReduceMean", []string{s}, onnxbuild.Attrs{"axes": []int64{1}, "keepdims": 1})
	m = g.Reshape(m, -1, 1, 1, 1)
	y = g.Add(y, m)
	y = g.Op("Resize", []string{y, "", g.Vector(1, 1, 2, 2)}, onnxbuild.Attrs{
		"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
		"floats_attr": []float64{0.5, 1.5}, "strings_attr": []string{"a", "b"}, "f64": 0.25,
	})
	g.OpNamed("Tanh", []string{y}, nil, "translated")
	g.Output("translated", -1, 4, -1, -1)
	md := onnxbuild.NewModel(g, map[string]string{
		"munit_eval.role": "generator", "munit_eval.method": "Test", "munit_eval.latent_dim": "8",
		"zz": "", "unicode": "é — ✓",
	})
	md.DocString = "a test model"
	return md
}

func TestRoundTrip(t *testing.T) {
	m := sample()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	info, err := onnxbuild.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if info.IRVersion != 8 || !reflect.DeepEqual(info.Opsets, map[string]int64{"": 17}) {
		t.Errorf("ir %d opsets %v, want 8 and {\"\": 17}", info.IRVersion, info.Opsets)
	}
	if info.GraphName != "sample" || info.DocString != "a test model" || info.ProducerName == "" {
		t.Errorf("graph %q doc %q producer %q", info.GraphName, info.DocString, info.ProducerName)
	}
	if !reflect.DeepEqual(info.Metadata, m.Metadata) {
		t.Errorf("metadata %v, want %v", info.Metadata, m.Metadata)
	}
	wantIn := []onnxbuild.ValueInfo{
		{Name: "image", ElemType: onnxbuild.TypeFloat, HasShape: true, Shape: []int64{-1, 3, -1, -1}, DimParams: []string{"N", "", "d2", "d3"}},
		{Name: "style", ElemType: onnxbuild.TypeFloat, HasShape: true, Shape: []int64{-1, 8}, DimParams: []string{"N", ""}},
	}
	if !reflect.DeepEqual(info.Inputs, wantIn) {
		t.Errorf("inputs %+v\nwant %+v", info.Inputs, wantIn)
	}
	wantOut := []onnxbuild.ValueInfo{{Name: "translated", ElemType: onnxbuild.TypeFloat, HasShape: true,
		Shape: []int64{-1, 4, -1, -1}, DimParams: []string{"N", "", "d2", "d3"}}}
	if !reflect.DeepEqual(info.Outputs, wantOut) {
		t.Errorf("outputs %+v\nwant %+v", info.Outputs, wantOut)
	}
	wantOps := []string{"Conv", "LeakyRelu", "ReduceMean", "Reshape", "Add", "Resize", "Tanh"}
	if !slices.Equal(info.OpTypes(), wantOps) {
		t.Errorf("ops %v, want %v", info.OpTypes(), wantOps)
	}
	conv := info.Nodes[0]
	if !slices.Equal(conv.Inputs, []string{"image", "conv.w", ""}) || len(conv.Outputs) != 1 {
		t.Errorf("conv inputs %q outputs %q", conv.Inputs, conv.Outputs)
	}
	wantConv := onnxbuild.Attrs{"pads": []int64{1, 1, 1, 1}, "strides": []int64{1, 1}, "group": int64(1)}
	if !reflect.DeepEqual(conv.Attrs, wantConv) {
		t.Errorf("conv attrs %v, want %v", conv.Attrs, wantConv)
	}
	if a := info.Nodes[1].Attrs["alpha"]; a != float32(0.2) {
		t.Errorf("alpha %v (%T), want float32 0.2", a, a)
	}
	rs := info.Nodes[5].Attrs
	if rs["mode"] != "nearest" || !reflect.DeepEqual(rs["floats_attr"], []float32{0.5, 1.5}) ||
		!reflect.DeepEqual(rs["strings_attr"], []string{"a", "b"}) || rs["f64"] != float32(0.25) {
		t.Errorf("resize attrs %v", rs)
	}
	if last := info.Nodes[len(info.Nodes)-1]; !slices.Equal(last.Outputs, []string{"translated"}) {
		t.Errorf("last node outputs %q", last.Outputs)
	}
	w := info.Initializer("conv.w")
	if w == nil || w.DataType != onnxbuild.TypeFloat || !slices.Equal(w.Dims, []int64{4, 3, 3, 3}) {
		t.Fatalf("conv.w = %+v", w)
	}
	if d, err := w.Float32s(); err != nil || len(d) != 108 {
		t.Errorf("conv.w data: %d values, %v", len(d), err)
	}
	if _, err := w.Int64s(); err == nil {
		t.Error("Int64s of a FLOAT tensor: no error")
	}
	shape := info.Initializer(info.Nodes[3].Inputs[1])
	if shape == nil {
		t.Fatal("reshape's shape initializer missing")
	}
	if d, err := shape.Int64s(); err != nil || !slices.Equal(d, []int64{-1, 1, 1, 1}) {
		t.Errorf("reshape shape %v, %v", d, err)
	}
}

// TestInitializerData checks data survives the round trip bit for bit.
func TestInitializerData(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	g := onnxbuild.NewGraph("data")
	f := onnxbuild.RandNormal(r, 3, 2*3*5)
	i := []int64{-9, 0, 1 << 40, -1 << 50}
	fn := g.Const("", []int64{2, 3, 5}, f)
	in := g.ConstInt64("ints", []int64{2, 2}, i)
	sc := g.Scalar(-7.5)
	g.Identity(fn, "y")
	g.Output("y", 2, 3, 5)
	b, err := onnxbuild.NewModel(g, nil).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	info, err := onnxbuild.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := info.Initializer(fn).Float32s(); err != nil || !slices.Equal(got, f) {
		t.Errorf("float data %v, %v", got, err)
	}
	if got, err := info.Initializer(in).Int64s(); err != nil || !slices.Equal(got, i) {
		t.Errorf("int data %v, %v", got, err)
	}
	s := info.Initializer(sc)
	if got, err := s.Float32s(); err != nil || len(s.Dims) != 0 || !slices.Equal(got, []float32{-7.5}) {
		t.Errorf("scalar dims %v data %v, %v", s.Dims, got, err)
	}
}

func TestMarshalDeterministic(t *testing.T) {
	a, err := sample().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		b, err := sample().Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatal("two builds of the same model marshal to different bytes")
		}
	}
}

func TestValidationErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func(g *onnxbuild.Graph)
		want  string
	}{
		{"undefined input", func(g *onnxbuild.Graph) {
			g.OpNamed("Relu", []string{"nowhere"}, nil, "y")
			g.Output("y")
		}, `reads "nowhere"`},
		{"input used before defined", func(g *onnxbuild.Graph) {
			g.OpNamed("Relu", []string{"later"}, nil, "y")
			g.OpNamed("Relu", []string{"x"}, nil, "later")
			g.Output("y")
		}, `reads "later"`},
		{"duplicate input and initializer", func(g *onnxbuild.Graph) {
			g.Const("x", []int64{1}, []float32{1})
			g.Identity("x", "y")
			g.Output("y")
		}, `duplicate name "x"`},
		{"duplicate node output", func(g *onnxbuild.Graph) {
			g.Identity("x", "y")
			g.Identity("x", "y")
			g.Output("y")
		}, `duplicate name "y"`},
		{"node output shadows input", func(g *onnxbuild.Graph) {
			g.Identity("x", "x")
			g.Output("x")
		}, `duplicate name "x"`},
		{"output not produced", func(g *onnxbuild.Graph) {
			g.Relu("x")
			g.Output("y")
		}, `output "y" is not produced`},
		{"no outputs", func(g *onnxbuild.Graph) { g.Relu("x") }, "no outputs"},
		{"output declared twice", func(g *onnxbuild.Graph) {
			g.Identity("x", "y")
			g.Output("y")
			g.Output("y")
		}, "declared twice"},
		{"bad attribute type", func(g *onnxbuild.Graph) {
			g.OpNamed("Relu", []string{"x"}, onnxbuild.Attrs{"bad": map[string]int{}}, "y")
			g.Output("y")
		}, `attribute "bad"`},
		{"initializer size", func(g *onnxbuild.Graph) {
			g.Const("c", []int64{2, 2}, []float32{1, 2, 3})
			g.Identity("x", "y")
			g.Output("y")
		}, "needs 4 values, got 3"},
		{"int initializer size", func(g *onnxbuild.Graph) {
			g.ConstInt64("c", []int64{3}, []int64{1})
			g.Identity("x", "y")
			g.Output("y")
		}, "needs 3 values, got 1"},
		{"empty op type", func(g *onnxbuild.Graph) {
			g.OpNamed("", []string{"x"}, nil, "y")
			g.Output("y")
		}, "empty op type"},
		{"empty output name", func(g *onnxbuild.Graph) {
			g.OpNamed("Relu", []string{"x"}, nil, "")
			g.Output("")
		}, "empty name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := onnxbuild.NewGraph("bad")
			g.Input("x", -1, 3)
			c.build(g)
			m := onnxbuild.NewModel(g, nil)
			_, err := m.Marshal()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Marshal error %v, want one containing %q", err, c.want)
			}
			path := filepath.Join(t.TempDir(), "bad.onnx")
			if err := m.WriteFile(path); err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("WriteFile error %v, want one naming %s", err, path)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("WriteFile left %s behind (%v)", path, err)
			}
		})
	}
	if _, err := (&onnxbuild.Model{}).Marshal(); err == nil {
		t.Error("model without graph: no error")
	}
}

// TestAutoNames checks that fresh names never collide with explicit ones.
func TestAutoNames(t *testing.T) {
	g := onnxbuild.NewGraph("names")
	x := g.Input("Relu_1", 2)
	a := g.Relu(x)
	c := g.Const("const_1", []int64{1}, []float32{1})
	d := g.Const("", []int64{1}, []float32{2})
	outs := g.OpN("Split", []string{g.Add(a, g.Add(c, d))}, onnxbuild.Attrs{"num_outputs": 2}, 2)
	g.Identity(outs[0], "y")
	g.Output("y")
	names := []string{x, a, c, d, outs[0], outs[1]}
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" || seen[n] {
			t.Fatalf("names %q: empty or repeated", names)
		}
		seen[n] = true
	}
	if _, err := onnxbuild.NewModel(g, nil).Marshal(); err != nil {
		t.Fatal(err)
	}
}

func TestParseBadInput(t *testing.T) {
	good, err := sample().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(r.UintN(256))
	}
	cases := map[string][]byte{
		"empty":     nil,
		"random":    random,
		"truncated": good[:len(good)/2],
		"text":      []byte("this is not a model\n"),
		"no graph":  {0x08, 0x08}, // ir_version 8 only
		"bad tag":   {0x00},
	}
	for name, b := range cases {
		if _, err := onnxbuild.Parse(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	good, err := sample().Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:100])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := onnxbuild.Parse(b)
		if err != nil {
			return
		}
		for i := range info.Initializers {
			info.Initializers[i].Float32s() // must not panic
			info.Initializers[i].Int64s()
		}
	})
}

// TestORTMetadataAndDynamicBatch opens a model with onnxruntime (package
// model): metadata and input shapes as ORT reads them, and one dynamic-batch
// network run at N=1 and N=3 against the Go reference.
func TestORTMetadataAndDynamicBatch(t *testing.T) {
	initORT(t)
	r := rand.New(rand.NewPCG(11, 12))
	w := randTens(r, -0.5, 0.5, 4, 3, 3, 3)
	b := randTens(r, -0.5, 0.5, 4)
	sc, bi := randTens(r, 0.5, 1.5, 4), randTens(r, -0.5, 0.5, 4)

	g := onnxbuild.NewGraph("dyn")
	x := g.Input("image", -1, 3, -1, -1)
	y := g.Conv(g.ReflectPad(x, 1), cnst(g, w), cnst(g, b), 1, 0)
	y = g.Relu(g.InstanceNorm(y, cnst(g, sc), cnst(g, bi), 1e-5))
	g.OpNamed("Tanh", []string{y}, nil, "translated")
	g.Output("translated", -1, 4, -1, -1)
	meta := map[string]string{"munit_eval.role": "decoder", "k": "v=1;2", "empty": ""}
	m := onnxbuild.NewModel(g, meta)

	path := filepath.Join(t.TempDir(), "dyn.onnx")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	info, err := model.Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	// ORT may drop empty values; every non-empty one must come back as is.
	for k, v := range meta {
		if got, ok := info.Metadata[k]; (ok || v != "") && got != v {
			t.Errorf("ORT metadata[%q] = %q, want %q", k, got, v)
		}
	}
	if len(info.Inputs) != 1 || !slices.Equal(info.Inputs[0].Shape, []int64{-1, 3, -1, -1}) {
		t.Errorf("ORT inputs %+v, want image [-1 3 -1 -1]", info.Inputs)
	}

	ref := func(x *tens) *tens {
		y := conv2d(reflectPad2d(x, 1), w, b.data, 1, 0)
		y = instanceNorm(y, sc.data, bi.data, float64(float32(1e-5)))
		return mapT(y, func(v float64) float64 { return math.Tanh(max(v, 0)) })
	}
	x3 := randTens(r, -1, 1, 3, 3, 5, 6)
	x1 := &tens{shape: []int{1, 3, 5, 6}, data: x3.data[:90]}
	out1 := runModel(t, m, map[string]*tens{"image": x1})
	out3 := runModel(t, m, map[string]*tens{"image": x3})
	compare(t, "N=1", out1["translated"], ref(x1))
	compare(t, "N=3", out3["translated"], ref(x3))
}

// TestParseAlternativeEncodings feeds Parse a hand-encoded model using the
// encodings Marshal never writes but other exporters may: float_data
// (packed), int64_data and dims unpacked, an attribute without its type
// field (IR version 1), an unknown field, and a dimension with neither
// value nor name.
func TestParseAlternativeEncodings(t *testing.T) {
	msg := func(num protowire.Number, parts ...[]byte) []byte {
		b := protowire.AppendTag(nil, num, protowire.BytesType)
		return protowire.AppendBytes(b, bytes.Join(parts, nil))
	}
	str := func(num protowire.Number, s string) []byte { return msg(num, []byte(s)) }
	vint := func(num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
	}
	packedFloats := []byte{}
	for _, f := range []float32{1.5, -2, 3.25, 0, 8, 9} {
		packedFloats = protowire.AppendFixed32(packedFloats, math.Float32bits(f))
	}
	floatT := msg(5, vint(1, 2), vint(1, 3), vint(2, 1), str(8, "w"), msg(4, packedFloats))
	intT := msg(5, vint(1, 2), vint(2, 7), str(8, "shape"), vint(7, 4), vint(7, 1<<63|5))
	attr := msg(5, str(1, "axis"), vint(3, 1)) // no type field
	node := msg(1, str(1, "x"), str(1, "w"), str(2, "y"), str(4, "Concat"), attr, vint(99, 7))
	dimUnknown := msg(1)                    // Dimension without value or param
	dimN := msg(1, str(2, "batch"))         // dim_param
	shape := msg(2, dimUnknown, dimN)       // TypeProto.Tensor.shape
	tensorType := msg(1, vint(1, 1), shape) // TypeProto.tensor_type
	input := msg(11, str(1, "x"), msg(2, tensorType))
	output := msg(12, str(1, "y"), msg(2, msg(1, vint(1, 1))))
	graph := msg(7, node, str(2, "g"), floatT, intT, input, output)
	data := bytes.Join([][]byte{vint(1, 3), graph, msg(8, vint(2, 9)), vint(500, 1)}, nil)

	mi, err := onnxbuild.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if mi.IRVersion != 3 || mi.Opsets[""] != 9 || mi.GraphName != "g" {
		t.Errorf("ir %d opsets %v graph %q", mi.IRVersion, mi.Opsets, mi.GraphName)
	}
	if got, err := mi.Initializer("w").Float32s(); err != nil || !slices.Equal(got, []float32{1.5, -2, 3.25, 0, 8, 9}) {
		t.Errorf("float_data %v, %v", got, err)
	}
	if got, err := mi.Initializer("shape").Int64s(); err != nil || !slices.Equal(got, []int64{4, -1<<63 | 5}) {
		t.Errorf("int64_data %v, %v", got, err)
	}
	if a := mi.Nodes[0].Attrs["axis"]; a != int64(1) {
		t.Errorf("untyped attribute %v (%T), want int64 1", a, a)
	}
	want := onnxbuild.ValueInfo{Name: "x", ElemType: 1, HasShape: true, Shape: []int64{-1, -1}, DimParams: []string{"", "batch"}}
	if !reflect.DeepEqual(mi.Inputs[0], want) {
		t.Errorf("input %+v, want %+v", mi.Inputs[0], want)
	}
	if o := mi.Outputs[0]; o.HasShape || o.Shape != nil {
		t.Errorf("output without shape parsed as %+v", o)
	}
	// The same data with wrong sizes must be refused by the accessors.
	bad := bytes.Join([][]byte{vint(1, 8), msg(7, msg(5, vint(1, 1<<40), vint(1, 1<<40), vint(2, 1), str(8, "huge"), msg(9)))}, nil)
	mi, err = onnxbuild.Parse(bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mi.Initializer("huge").Float32s(); err == nil {
		t.Error("tensor of 2^80 elements with no data: no error")
	}
}
