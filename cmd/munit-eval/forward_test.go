package main

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/onnxbuild"
)

// writeDropoutGenerator writes a generator with one dropout noise input
// (docs/models.md): translated = tanh(image * (u >= 0.5) / 0.5), u [N,1,H,W].
func writeDropoutGenerator(t *testing.T, dir, noiseMeta string) string {
	t.Helper()
	g := onnxbuild.NewGraph("dropout")
	x := g.Input("image", -1, 3, -1, -1)
	u := g.Input("dropout_0", -1, 1, -1, -1)
	keep := g.Op("Cast", []string{g.Op("GreaterOrEqual", []string{u, g.Scalar(0.5)}, nil)}, onnxbuild.Attrs{"to": int64(1)})
	y := g.Op("Mul", []string{x, g.Op("Div", []string{keep, g.Scalar(0.5)}, nil)}, nil)
	g.OpNamed("Tanh", []string{y}, nil, "translated")
	g.Output("translated", -1, 3, -1, -1)
	meta := map[string]string{model.MetaRole: "generator", model.MetaMethod: "CycleGAN", model.MetaLatentDim: "0", model.MetaNoise: noiseMeta}
	p := filepath.Join(dir, "dropout.onnx")
	if err := onnxbuild.NewModel(g, meta).WriteFile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestForwardNoiseInput feeds a dropout mask by name through forward and
// compares with the formula computed here (within 1e-6, float32 tanh);
// inspect lists the noise input, and a missing mask is refused by name.
func TestForwardNoiseInput(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	gen := writeDropoutGenerator(t, dir, `[{"input":"dropout_0","dist":"uniform","channels":1,"stride":1}]`)
	x := &images.Array{Shape: []int{1, 3, 2, 2}, Data: []float32{0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, 0.8, -0.9, 0.05, 0.15, 0.25}}
	u := &images.Array{Shape: []int{1, 1, 2, 2}, Data: []float32{0.9, 0.1, 0.5, 0.49}}
	xp, up := filepath.Join(dir, "x.npy"), filepath.Join(dir, "u.npy")
	if err := images.WriteNPY(xp, x); err != nil {
		t.Fatal(err)
	}
	if err := images.WriteNPY(up, u); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if r := cli(t, "forward", gen, "--input", "image="+xp, "--input", "dropout_0="+up, "--out", out); r.code != 0 {
		t.Fatalf("forward: exit %d: %s", r.code, r.stderr)
	}
	got, err := images.ReadNPY(filepath.Join(out, "translated.npy"))
	if err != nil {
		t.Fatal(err)
	}
	for j, v := range got.Data {
		keep := 0.0
		if u.Data[j%4] >= 0.5 {
			keep = 2
		}
		if want := math.Tanh(float64(x.Data[j]) * keep); math.Abs(want-float64(v)) > 1e-6 {
			t.Fatalf("translated[%d] = %v, want %v", j, v, want)
		}
	}
	wantBadInput(t, cli(t, "forward", gen, "--input", "image="+xp, "--out", out), `input "dropout_0" not given`)

	r := cli(t, "inspect", gen)
	if r.code != 0 || !strings.Contains(r.stdout, "noise:      dropout_0 (uniform, 1 channels, stride 1") {
		t.Fatalf("inspect: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	bad := writeDropoutGenerator(t, t.TempDir(), `[{"input":"dropout_1","dist":"uniform","channels":1,"stride":1}]`)
	wantBadInput(t, cli(t, "inspect", bad), `names input "dropout_1", which the model does not have`)
}
