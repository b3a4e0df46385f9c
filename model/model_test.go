package model_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/onnxbuild"
)

// writeModel builds a tiny model: out = tanh(image * 0.5 [+ mean(style)]).
// chans is the image input's channel count; batch fixes the batch axis when > 0.
func writeModel(t testing.TB, dir, name string, chans int64, batch int64, withStyle bool, meta map[string]string) string {
	t.Helper()
	g := onnxbuild.NewGraph(name)
	n := int64(-1)
	if batch > 0 {
		n = batch
	}
	x := g.Input("image", n, chans, -1, -1)
	half := g.Const("", []int64{1}, []float32{0.5})
	y := g.Op("Mul", []string{x, half}, nil)
	if withStyle {
		s := g.Input("style", n, 8)
		m := g.Op("ReduceMean", []string{s}, onnxbuild.Attrs{"axes": []int64{1}, "keepdims": 1})
		shape := g.ConstInt64("", []int64{4}, []int64{-1, 1, 1, 1})
		m4 := g.Op("Reshape", []string{m, shape}, nil)
		y = g.Op("Add", []string{y, m4}, nil)
	}
	g.OpNamed("Tanh", []string{y}, nil, "translated")
	g.Output("translated", n, chans, -1, -1)
	p := filepath.Join(dir, name+".onnx")
	if err := onnxbuild.NewModel(g, meta).WriteFile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func genMeta(latent string) map[string]string {
	return map[string]string{"munit_eval.role": "generator", "munit_eval.method": "Test", "munit_eval.latent_dim": latent}
}

func TestInspectAndCheck(t *testing.T) {
	initORT(t)
	dir := t.TempDir()
	ok := writeModel(t, dir, "ok", 3, 0, true, genMeta("8"))
	info, err := model.Inspect(ok)
	if err != nil {
		t.Fatal(err)
	}
	if info.Role != model.RoleGenerator || info.Method != "Test" || info.LatentDim != 8 ||
		info.ImageInput != "image" || info.LatentInput != "style" || info.FixedBatch != 0 {
		t.Fatalf("info = %+v", info)
	}
	if p := model.Check(info, ""); len(p) != 0 {
		t.Fatalf("problems: %v", p)
	}
	if len(info.SHA256) != 64 {
		t.Fatalf("sha256 %q", info.SHA256)
	}
	want, _ := model.HashFile(ok)
	if info.SHA256 != want {
		t.Fatalf("sha256 %s, file hashes to %s", info.SHA256, want)
	}
	// The same model checked as another role says what does not fit.
	for role, wantProblem := range map[model.Role]string{
		model.RoleClassifier: `no output named "logits"`,
		model.RoleLPIPS:      "no outputs lpips_0",
		model.RoleDecoder:    `no input named "content"`,
	} {
		p := model.Check(info, role)
		if !containsAny(p, wantProblem) || !containsAny(p, "metadata says role") {
			t.Errorf("as %s: problems %v, want %q", role, p, wantProblem)
		}
	}
}

func TestCheckProblems(t *testing.T) {
	initORT(t)
	dir := t.TempDir()
	cases := []struct {
		name string
		path string
		want string
	}{
		{"grey generator", writeModel(t, dir, "grey", 1, 0, false, genMeta("0")), "has 1 channels"},
		{"latent mismatch", writeModel(t, dir, "lat", 3, 0, true, genMeta("16")), "latent_dim=16"},
		{"no role", writeModel(t, dir, "norole", 3, 0, false, nil), "no munit_eval.role"},
		{"bad latent meta", writeModel(t, dir, "badlat", 3, 0, false, genMeta("x")), "not a non-negative integer"},
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

func TestBadFiles(t *testing.T) {
	initORT(t)
	dir := t.TempDir()
	good := writeModel(t, dir, "good", 3, 0, false, genMeta("0"))
	b, _ := os.ReadFile(good)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(i*7919 + i/3)
	}
	cases := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.onnx"), "no such file"},
		{"directory", dir, "is a directory"},
		{"empty", write("empty.onnx", nil), "empty file"},
		{"random", write("random.onnx", random), "not a valid ONNX model"},
		{"truncated", write("trunc.onnx", b[:len(b)/2]), "not a valid ONNX model"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := model.Inspect(c.path)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
				t.Fatalf("Inspect error %v, want one naming %s and saying %q", err, c.path, c.want)
			}
			if _, err := model.Open(c.path, model.Options{}); err == nil {
				t.Fatal("Open succeeded")
			}
		})
	}
}

func TestRunFixedBatchSplits(t *testing.T) {
	initORT(t)
	dir := t.TempDir()
	p := writeModel(t, dir, "fixed", 3, 2, true, genMeta("8"))
	s, err := model.Open(p, model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Info().FixedBatch != 2 {
		t.Fatalf("FixedBatch %d", s.Info().FixedBatch)
	}
	const n, hw = 5, 4
	img := make([]float32, n*3*hw*hw)
	for i := range img {
		img[i] = float32(i%17)/17 - 0.5
	}
	z := make([]float32, n*8)
	for i := range z {
		z[i] = float32(i%5) / 5
	}
	out, err := s.Run(map[string]model.Tensor{
		"image": {Shape: []int64{n, 3, hw, hw}, Data: img},
		"style": {Shape: []int64{n, 8}, Data: z},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := out["translated"]
	if len(got.Shape) != 4 || got.Shape[0] != n || len(got.Data) != len(img) {
		t.Fatalf("output shape %v, %d values", got.Shape, len(got.Data))
	}
	row := 3 * hw * hw
	for i := 0; i < n; i++ {
		mean := 0.0
		for _, v := range z[i*8 : (i+1)*8] {
			mean += float64(v)
		}
		mean /= 8
		for j := 0; j < row; j++ {
			want := math.Tanh(0.5*float64(img[i*row+j]) + mean)
			if d := float64(got.Data[i*row+j]) - want; d > 1e-6 || d < -1e-6 {
				t.Fatalf("row %d value %d: %g, want %g", i, j, got.Data[i*row+j], want)
			}
		}
	}
}

func TestRunBadInputs(t *testing.T) {
	initORT(t)
	p := writeModel(t, t.TempDir(), "m", 3, 0, true, genMeta("8"))
	s, err := model.Open(p, model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	img := model.Tensor{Shape: []int64{1, 3, 2, 2}, Data: make([]float32, 12)}
	z := model.Tensor{Shape: []int64{1, 8}, Data: make([]float32, 8)}
	cases := []struct {
		name string
		in   map[string]model.Tensor
		out  []string
		want string
	}{
		{"missing input", map[string]model.Tensor{"image": img}, nil, `input "style" not given`},
		{"extra input", map[string]model.Tensor{"image": img, "style": z, "x": z}, nil, `no input named "x"`},
		{"wrong rank", map[string]model.Tensor{"image": img, "style": {Shape: []int64{1, 8, 1}, Data: z.Data}}, nil, "rank"},
		{"wrong width", map[string]model.Tensor{"image": img, "style": {Shape: []int64{1, 4}, Data: z.Data[:4]}}, nil, "model wants"},
		{"short data", map[string]model.Tensor{"image": {Shape: img.Shape, Data: img.Data[:5]}, "style": z}, nil, "needs 12 values"},
		{"batch mismatch", map[string]model.Tensor{"image": img, "style": {Shape: []int64{2, 8}, Data: make([]float32, 16)}}, nil, "batch"},
		{"unknown output", map[string]model.Tensor{"image": img, "style": z}, []string{"logits"}, `no output named "logits"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Run(c.in, c.out...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestDeviceErrors(t *testing.T) {
	initORT(t)
	p := writeModel(t, t.TempDir(), "m", 3, 0, false, genMeta("0"))
	if _, err := model.Open(p, model.Options{Device: "tpu"}); err == nil || !strings.Contains(err.Error(), `unknown device "tpu"`) {
		t.Fatalf("error %v", err)
	}
	// The CPU build of onnxruntime has no CUDA provider: the error must say so.
	s, err := model.Open(p, model.Options{Device: "cuda"})
	if err == nil {
		s.Close()
		t.Skip("this onnxruntime build has CUDA")
	}
	if !strings.Contains(err.Error(), "CUDA execution provider is not available") {
		t.Fatalf("error %v", err)
	}
}

func TestLibraryNotFoundMessage(t *testing.T) {
	err := model.Init(filepath.Join(t.TempDir(), "nope.so"))
	if model.ORTVersion() != "" {
		return // initialised earlier; Init is idempotent and ignores the flag
	}
	if err == nil || !strings.Contains(err.Error(), "--ort-lib") {
		t.Fatalf("error %v", err)
	}
}

func containsAny(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// writeFeaturesModel builds a tiny feature extractor: out_k = the image's
// global mean pool (3 channels), under each of the given output names.
func writeFeaturesModel(t testing.TB, dir, name string, outs []string, meta map[string]string) string {
	t.Helper()
	g := onnxbuild.NewGraph(name)
	x := g.Input("image", -1, 3, -1, -1)
	pool := g.Op("ReduceMean", []string{x}, onnxbuild.Attrs{"axes": []int64{2, 3}, "keepdims": 0})
	for _, o := range outs {
		g.Identity(pool, o)
		g.Output(o, -1, 3)
	}
	p := filepath.Join(dir, name+".onnx")
	if err := onnxbuild.NewModel(g, meta).WriteFile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCheckFeatures: the features role (DINOv2, CLIP) has a "features"
// output [N,D] and may have "spatial"; its feature_dim metadata must agree;
// the classifier role may carry "spatial" (sFID's) beside logits and features.
func TestCheckFeatures(t *testing.T) {
	initORT(t)
	dir := t.TempDir()
	meta := func(role, dim string) map[string]string {
		m := map[string]string{model.MetaRole: role, model.MetaPreprocess: "dgm-eval"}
		if dim != "" {
			m[model.MetaFeatureDim] = dim
		}
		return m
	}
	cases := []struct {
		name string
		path string
		want string // "" = fits
	}{
		{"features", writeFeaturesModel(t, dir, "f", []string{"features"}, meta("features", "3")), ""},
		{"features and spatial", writeFeaturesModel(t, dir, "fs", []string{"features", "spatial"}, meta("features", "")), ""},
		{"classifier with spatial", writeFeaturesModel(t, dir, "cs", []string{"logits", "features", "spatial"}, meta("classifier", "3")), ""},
		{"no features", writeFeaturesModel(t, dir, "nf", []string{"embedding"}, meta("features", "")), `no output named "features"`},
		{"logits on features", writeFeaturesModel(t, dir, "lf", []string{"features", "logits"}, meta("features", "")), `unexpected output "logits"`},
		{"dim mismatch", writeFeaturesModel(t, dir, "dm", []string{"features"}, meta("features", "1024")), "feature_dim=1024"},
		{"bad dim", writeFeaturesModel(t, dir, "bd", []string{"features"}, meta("features", "x")), "not a positive integer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info, err := model.Inspect(c.path)
			if err != nil {
				t.Fatal(err)
			}
			p := model.Check(info, "")
			if c.want == "" && len(p) != 0 {
				t.Fatalf("problems %v, want none", p)
			}
			if c.want != "" && !containsAny(p, c.want) {
				t.Fatalf("problems %v, want one containing %q", p, c.want)
			}
		})
	}
	// A features model is not a classifier: it has no logits.
	info, err := model.Inspect(cases[0].path)
	if err != nil {
		t.Fatal(err)
	}
	if p := model.Check(info, model.RoleClassifier); !containsAny(p, `no output named "logits"`) {
		t.Errorf("as classifier: problems %v", p)
	}
}
