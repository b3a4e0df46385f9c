package model_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/onnxbuild"
)

func TestParseNoise(t *testing.T) {
	cases := []struct {
		in   string
		want []model.NoiseInput
		err  string
	}{
		{"", nil, ""},
		{"  ", nil, ""},
		{`[]`, []model.NoiseInput{}, ""},
		{`[{"input":"u","dist":"uniform","channels":1,"stride":1},{"input":"n","dist":"normal","channels":8,"stride":4}]`,
			[]model.NoiseInput{{"u", "uniform", 1, 1}, {"n", "normal", 8, 4}}, ""},
		{`{"input":"u"}`, nil, "not a JSON list"},
		{`[{"input":"u","dist":"uniform","channels":1,"stride":1,"p":0.5}]`, nil, "unknown field"},
		{`[{"dist":"uniform","channels":1,"stride":1}]`, nil, "no input name"},
		{`[{"input":"u","dist":"gauss","channels":1,"stride":1}]`, nil, `dist "gauss"`},
		{`[{"input":"u","dist":"normal","channels":0,"stride":1}]`, nil, "channels 0"},
		{`[{"input":"u","dist":"normal","channels":1,"stride":0}]`, nil, "stride 0"},
		{`[{"input":"u","dist":"normal","channels":1,"stride":1},{"input":"u","dist":"uniform","channels":1,"stride":1}]`, nil, "listed twice"},
		{`[] []`, nil, "trailing data"},
	}
	for _, c := range cases {
		got, err := model.ParseNoise(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseNoise(%s): error %v, want one containing %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || len(got) != len(c.want) {
			t.Errorf("ParseNoise(%s) = %v, %v; want %v", c.in, got, err, c.want)
			continue
		}
		for j := range got {
			if got[j] != c.want[j] {
				t.Errorf("ParseNoise(%s)[%d] = %+v, want %+v", c.in, j, got[j], c.want[j])
			}
		}
	}
}

func TestNoiseShape(t *testing.T) {
	n := model.NoiseInput{Input: "n", Dist: model.NoiseNormal, Channels: 4, Stride: 2}
	s, err := n.Shape(3, 8, 6)
	if err != nil || model.ShapeString(s) != "[3,4,4,3]" {
		t.Fatalf("Shape = %v, %v", s, err)
	}
	if _, err := n.Shape(1, 7, 6); err == nil || !strings.Contains(err.Error(), "multiples of 2") {
		t.Fatalf("odd side: %v", err)
	}
}

func FuzzParseNoise(f *testing.F) {
	f.Add(`[{"input":"u","dist":"uniform","channels":1,"stride":1}]`)
	f.Add(`[{"input":"n","dist":"normal","channels":8,"stride":4}]`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, s string) {
		ns, err := model.ParseNoise(s)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, n := range ns {
			if n.Input == "" || seen[n.Input] || n.Channels < 1 || n.Stride < 1 ||
				(n.Dist != model.NoiseUniform && n.Dist != model.NoiseNormal) {
				t.Fatalf("accepted %+v from %q", n, s)
			}
			seen[n.Input] = true
		}
	})
}

// writeNoiseModel builds translated = tanh(image * (u >= 0.5) + mean_hw(n))
// with u [N,1,H,W] and n [N,nc,H/2,W/2] (nc = 3, or the given channels)
// and the given metadata; imageHW fixes the image's sides when > 0.
func writeNoiseModel(t testing.TB, dir, name string, nc, imageHW int64, meta map[string]string) string {
	t.Helper()
	g := onnxbuild.NewGraph(name)
	hw := int64(-1)
	if imageHW > 0 {
		hw = imageHW
	}
	x := g.Input("image", -1, 3, hw, hw)
	u := g.Input("drop_u", -1, 1, -1, -1)
	n := g.Input("enc_n", -1, nc, -1, -1)
	keep := g.Op("Cast", []string{g.Op("GreaterOrEqual", []string{u, g.Scalar(0.5)}, nil)}, onnxbuild.Attrs{"to": int64(1)})
	y := g.Op("Mul", []string{x, keep}, nil)
	m := g.Op("ReduceMean", []string{n}, onnxbuild.Attrs{"axes": []int64{2, 3}, "keepdims": 1})
	y = g.Op("Add", []string{y, m}, nil)
	g.OpNamed("Tanh", []string{y}, nil, "translated")
	g.Output("translated", -1, 3, hw, hw)
	p := filepath.Join(dir, name+".onnx")
	if err := onnxbuild.NewModel(g, meta).WriteFile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodNoise = `[{"input":"drop_u","dist":"uniform","channels":1,"stride":1},{"input":"enc_n","dist":"normal","channels":3,"stride":2}]`

func noiseMeta(role, noise string) map[string]string {
	m := map[string]string{"munit_eval.role": role, "munit_eval.method": "Noisy", "munit_eval.latent_dim": "0"}
	if noise != "" {
		m[model.MetaNoise] = noise
	}
	return m
}

func TestCheckNoise(t *testing.T) {
	initORT(t)
	dir := t.TempDir()
	ok := writeNoiseModel(t, dir, "ok", 3, 0, noiseMeta("generator", goodNoise))
	info, err := model.Inspect(ok)
	if err != nil {
		t.Fatal(err)
	}
	if p := model.Check(info, ""); len(p) != 0 {
		t.Fatalf("problems: %v", p)
	}
	if len(info.Noise) != 2 || info.Noise[1].Input != "enc_n" || info.ImageInput != "image" || info.LatentInput != "" {
		t.Fatalf("info = %+v", info)
	}
	cases := []struct {
		name, path, want string
	}{
		{"undeclared", writeNoiseModel(t, dir, "undeclared", 3, 0, noiseMeta("generator", "")), `unexpected input "drop_u"`},
		{"unknown input", writeNoiseModel(t, dir, "unknown", 3, 0, noiseMeta("generator",
			`[{"input":"drop_u","dist":"uniform","channels":1,"stride":1},{"input":"enc_n","dist":"normal","channels":3,"stride":2},{"input":"zz","dist":"normal","channels":1,"stride":1}]`)),
			`names input "zz", which the model does not have`},
		{"bad dist", writeNoiseModel(t, dir, "baddist", 3, 0, noiseMeta("generator", `[{"input":"drop_u","dist":"bernoulli","channels":1,"stride":1}]`)), `dist "bernoulli"`},
		{"channels", writeNoiseModel(t, dir, "chans", 1, 0, noiseMeta("generator", goodNoise)), `has 3 channels, but its shape is [-1,1,-1,-1]`},
		{"not divisible", writeNoiseModel(t, dir, "odd", 3, 65, noiseMeta("generator", goodNoise)), "height 65 is not a multiple"},
		{"image input", writeNoiseModel(t, dir, "img", 3, 0, noiseMeta("generator", `[{"input":"image","dist":"uniform","channels":3,"stride":1}]`)), "image, latent or content input"},
		{"on an encoder", writeNoiseModel(t, dir, "enc", 3, 0, noiseMeta("content_encoder", goodNoise)), "noise inputs belong on the decoder"},
		{"latent_dim without style", writeNoiseModel(t, dir, "lat", 3, 0, map[string]string{"munit_eval.role": "generator", "munit_eval.latent_dim": "8", model.MetaNoise: goodNoise}), "latent_dim=8, but the model has no style input"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info, err := model.Inspect(c.path)
			if err != nil {
				t.Fatal(err)
			}
			if p := model.Check(info, ""); !containsAny(p, c.want) {
				t.Fatalf("problems %v, want one containing %q", p, c.want)
			}
		})
	}
}
