package inception

import (
	"context"
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/paritytest"
	"github.com/munit-eval/munit-eval/model"
)

func openClassifier(t testing.TB) *Classifier {
	t.Helper()
	p := paritytest.Path(t, filepath.Join("models", "classifier_tinycolor.onnx"))
	if err := model.Init(""); err != nil {
		t.Skipf("onnxruntime not available (run `make setup`): %v", err)
	}
	c, err := Open(p, model.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// classifierRefs returns the parity images and the PyTorch logits [16, 4]
// of classifier_refs.json.
func classifierRefs(t *testing.T) ([]images.Ref, *images.Array, []string) {
	var refs struct {
		Classes   []string `json:"classes"`
		Images    []string `json:"images"`
		LogitsNPY string   `json:"logits_npy"`
	}
	paritytest.JSON(t, "classifier_refs.json", &refs)
	dir := paritytest.Dir(t)
	want, err := images.ReadNPY(filepath.Join(dir, refs.LogitsNPY))
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Shape) != 2 || want.Shape[0] != len(refs.Images) || want.Shape[1] != len(refs.Classes) {
		t.Fatalf("%s has shape %v for %d images, %d classes", refs.LogitsNPY, want.Shape, len(refs.Images), len(refs.Classes))
	}
	var out []images.Ref
	for _, p := range refs.Images {
		out = append(out, images.Ref{Path: filepath.Join(dir, p)})
	}
	return out, want, refs.Classes
}

// TestRunnerParity runs the parity images (64x64 and 256x256 mixed, so some
// batches run once per size) through Runner.Run at several batch sizes and
// compares the logits with PyTorch's within 1e-4 (the fixture's tolerance).
func TestRunnerParity(t *testing.T) {
	c := openClassifier(t)
	refs, want, classes := classifierRefs(t)
	if !reflect.DeepEqual(c.Classes, classes) {
		t.Fatalf("classes %v, want %v", c.Classes, classes)
	}
	k := len(classes)
	for _, batch := range []int{1, 5, 16} {
		c.eng = nil // a fresh memory cache
		r := NewRunner(c, t.TempDir())
		r.Batch = batch
		out, err := r.Run(context.Background(), append([]images.Ref(nil), refs...))
		if err != nil {
			t.Fatal(err)
		}
		if r.Computed != len(refs) || r.Reused != 0 {
			t.Fatalf("batch %d: computed %d, reused %d", batch, r.Computed, r.Reused)
		}
		worst := 0.0
		for i, o := range out {
			if len(o.Logits) != k || len(o.Features) != c.FeatureDim {
				t.Fatalf("image %d: %d logits, %d features", i, len(o.Logits), len(o.Features))
			}
			for j, v := range o.Logits {
				d := math.Abs(float64(v) - float64(want.Data[i*k+j]))
				worst = math.Max(worst, d)
				if d > 1e-4 {
					t.Errorf("batch %d, %s class %d: %v, torch %v", batch, filepath.Base(refs[i].Path), j, v, want.Data[i*k+j])
				}
			}
		}
		t.Logf("batch %d: worst |ours - torch| = %.2g", batch, worst)
	}

}
