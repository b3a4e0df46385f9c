package model_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/paritytest"
	"github.com/munit-eval/munit-eval/model"
)

func initORT(t testing.TB) {
	t.Helper()
	if err := model.Init(""); err != nil {
		t.Skipf("onnxruntime not available (run `make setup`): %v", err)
	}
}

func loadTensor(t testing.TB, paths ...string) model.Tensor {
	t.Helper()
	var imgs []*images.Image
	for _, p := range paths {
		m, err := images.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, m)
	}
	h, w := imgs[0].H, imgs[0].W
	data := make([]float32, len(imgs)*3*h*w)
	if err := images.ToTensor(imgs, data); err != nil {
		t.Fatal(err)
	}
	return model.Tensor{Shape: []int64{int64(len(imgs)), 3, int64(h), int64(w)}, Data: data}
}

func readNPY(t testing.TB, path string) *images.Array {
	t.Helper()
	a, err := images.ReadNPY(path)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func maxAbsDiff(a []float32, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// TestParityGenerators runs the parity generators on the reference inputs
// and compares with the PyTorch outputs. Tolerance 1e-3 absolute, as the
// fixtures' README states (onnxruntime itself agrees within 2e-5).
func TestParityGenerators(t *testing.T) {
	var refs struct {
		InputsNPY  string `json:"inputs_npy"`
		Generators map[string]struct {
			ONNX           string      `json:"onnx"`
			Style          [][]float32 `json:"style"`
			TorchOutputNPY string      `json:"torch_output_npy"`
		} `json:"generators"`
	}
	paritytest.JSON(t, "generator_refs.json", &refs)
	dir := paritytest.Dir(t)
	initORT(t)
	in := readNPY(t, filepath.Join(dir, refs.InputsNPY))
	for name, g := range refs.Generators {
		t.Run(name, func(t *testing.T) {
			s, err := model.Open(filepath.Join(dir, g.ONNX), model.Options{Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			info := s.Info()
			if p := model.Check(info, model.RoleGenerator); len(p) > 0 {
				t.Fatalf("contract problems: %v", p)
			}
			shape := make([]int64, len(in.Shape))
			for i, d := range in.Shape {
				shape[i] = int64(d)
			}
			feeds := map[string]model.Tensor{info.ImageInput: {Shape: shape, Data: in.Data}}
			if info.LatentInput != "" {
				if len(g.Style) != in.Shape[0] {
					t.Fatalf("%d style rows for %d inputs", len(g.Style), in.Shape[0])
				}
				var z []float32
				for _, row := range g.Style {
					z = append(z, row...)
				}
				zs := []int64{int64(len(g.Style)), int64(len(g.Style[0]))}
				if info.LatentRank4 {
					zs = append(zs, 1, 1)
				}
				feeds[info.LatentInput] = model.Tensor{Shape: zs, Data: z}
			}
			out, err := s.Run(feeds)
			if err != nil {
				t.Fatal(err)
			}
			want := readNPY(t, filepath.Join(dir, g.TorchOutputNPY))
			got := out[info.Outputs[0].Name]
			if len(got.Data) != len(want.Data) {
				t.Fatalf("output has %d values, reference %d", len(got.Data), len(want.Data))
			}
			if d := maxAbsDiff(got.Data, want.Data); d > 1e-3 {
				t.Errorf("max |onnxruntime - torch| = %g, want <= 1e-3", d)
			} else {
				t.Logf("max |onnxruntime - torch| = %.3g", d)
			}
		})
	}
}

// TestParityClassifier compares the parity classifier's logits with
// PyTorch's within the stated 1e-4.
func TestParityClassifier(t *testing.T) {
	var refs struct {
		Model     string   `json:"model"`
		Classes   []string `json:"classes"`
		Tolerance float64  `json:"tolerance"`
		Images    []string `json:"images"`
		LogitsNPY string   `json:"logits_npy"`
	}
	paritytest.JSON(t, "classifier_refs.json", &refs)
	dir := paritytest.Dir(t)
	initORT(t)
	s, err := model.Open(filepath.Join(dir, refs.Model), model.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Info().Classes; len(got) != len(refs.Classes) {
		t.Fatalf("classes %v, want %v", got, refs.Classes)
	}
	want := readNPY(t, filepath.Join(dir, refs.LogitsNPY))
	// Images come in two sizes; run each on its own (the model resizes).
	for i, rel := range refs.Images {
		x := loadTensor(t, filepath.Join(dir, rel))
		out, err := s.Run(map[string]model.Tensor{"image": x}, "logits")
		if err != nil {
			t.Fatal(err)
		}
		k := len(refs.Classes)
		if d := maxAbsDiff(out["logits"].Data, want.Data[i*k:(i+1)*k]); d > refs.Tolerance {
			t.Errorf("%s: max logit difference %g > %g", rel, d, refs.Tolerance)
		}
	}
}

// TestParityModelsInspect checks that every parity model satisfies its contract.
func TestParityModelsInspect(t *testing.T) {
	dir := paritytest.Dir(t)
	initORT(t)
	ms, _ := filepath.Glob(filepath.Join(dir, "models", "*.onnx"))
	if len(ms) == 0 {
		t.Skip("no parity models")
	}
	for _, m := range ms {
		info, err := model.Inspect(m)
		if err != nil {
			t.Fatal(err)
		}
		if p := model.Check(info, ""); len(p) > 0 {
			t.Errorf("%s: %v", filepath.Base(m), p)
		}
	}
}
