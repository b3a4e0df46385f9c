package inception

import (
	"context"
	"github.com/munit-eval/munit-eval/registry"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/paritytest"
	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/results"
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

// TestScores checks Scores on logits whose softmax is one-hot to within
// 3e-13 (30 against 0), against the closed forms of DESIGN.md §3.
func TestScores(t *testing.T) {
	const m, k, c = 4, 4, 4
	classes := []string{"a", "b", "c", "d"}
	for _, tc := range []struct {
		name        string
		class       func(i, s int) int
		is, cis     float64
		share       []float64
		wantWarning bool
	}{
		// Every input's samples cover the four classes: CIS = IS = ln 4.
		{"diverse", func(i, s int) int { return s }, math.Log(4), math.Log(4), []float64{0.25, 0.25, 0.25, 0.25}, false},
		// One class per input, inputs spread over the classes: CIS = 0, IS = ln 4.
		{"collapsed", func(i, s int) int { return i }, math.Log(4), 0, []float64{0.25, 0.25, 0.25, 0.25}, false},
		// Everything in class 2: both 0.
		{"one class", func(i, s int) int { return 2 }, 0, 0, []float64{0, 0, 1, 0}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logits := make([]float32, m*k*c)
			for i := 0; i < m; i++ {
				for s := 0; s < k; s++ {
					logits[(i*k+s)*c+tc.class(i, s)] = 30
				}
			}
			var got results.Metrics
			warnings, err := registry.Scores(logits, m, k, classes, registry.ScoreOptions{Bootstrap: 50, Seed: 1, Splits: 2}, &got)
			if err != nil {
				t.Fatal(err)
			}
			const tol = 1e-9
			if math.Abs(*got.IS-tc.is) > tol || math.Abs(*got.CIS-tc.cis) > tol {
				t.Errorf("IS %v CIS %v, want %v %v", *got.IS, *got.CIS, tc.is, tc.cis)
			}
			if math.Abs(*got.ISExp-math.Exp(tc.is)) > tol || math.Abs(*got.CISExp-math.Exp(tc.cis)) > tol {
				t.Errorf("exp forms %v %v", *got.ISExp, *got.CISExp)
			}
			for j := range tc.share {
				if math.Abs(got.ClassShare[j]-tc.share[j]) > tol {
					t.Errorf("class shares %v, want %v", got.ClassShare, tc.share)
					break
				}
			}
			if *got.NumInputs != m || *got.SamplesPerInput != k || len(got.CISPerInput) != m {
				t.Errorf("inputs %d samples %d per-input %d", *got.NumInputs, *got.SamplesPerInput, len(got.CISPerInput))
			}
			if got.ISCI95 == nil || got.ISCI95[0] > *got.IS+tol || got.ISCI95[1] < *got.IS-tol {
				t.Errorf("IS interval %v does not hold IS %v", got.ISCI95, *got.IS)
			}
			if tc.wantWarning && len(warnings) == 0 {
				t.Error("no warning for a single predicted class")
			}
		})
	}
	var m0 results.Metrics
	if _, err := registry.Scores(make([]float32, 5), 2, 2, []string{"a", "b"}, registry.ScoreOptions{}, &m0); err == nil {
		t.Error("no error for logits of the wrong length")
	}
}

// TestFIDKID: a set against itself has FID 0; shifting every feature by a
// vector mu leaves the covariance as it is, so FID = |mu|^2 exactly (here
// 3 * 0.5^2); KID grows from the set against itself to the shifted set.
func TestFIDKID(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n, d = 300, 3
	x := make([][]float64, n)
	shifted := make([][]float64, n)
	for i := range x {
		x[i] = make([]float64, d)
		shifted[i] = make([]float64, d)
		for j := range x[i] {
			x[i][j] = rng.NormFloat64() * float64(j+1)
			shifted[i][j] = x[i][j] + 0.5
		}
	}
	o := registry.DistanceOptions{FIDBootstrap: 20, GroupSize: 3, KID: metrics.KIDOptions{Subsets: 20, SubsetSize: 100, Seed: 1}, Seed: 2, WantFID: true, WantKID: true}
	var self, shift results.Metrics
	if _, err := registry.FIDKID(x, x, o, &self); err != nil {
		t.Fatal(err)
	}
	if _, err := registry.FIDKID(shifted, x, o, &shift); err != nil {
		t.Fatal(err)
	}
	if math.Abs(self.FID.Value) > 1e-8 {
		t.Errorf("FID of a set with itself %v, want 0", self.FID.Value)
	}
	if want := 3 * 0.25; math.Abs(shift.FID.Value-want) > 1e-8 {
		t.Errorf("FID of a shifted set %v, want %v", shift.FID.Value, want)
	}
	if self.FID.NumSamples != n || self.FID.FeatureDim != d || self.FID.CI95 == nil {
		t.Errorf("FID record %+v", self.FID)
	}
	if shift.KID.Mean <= 0 || shift.KID.Mean <= self.KID.Mean {
		t.Errorf("KID self %v, shifted %v: want the shifted one larger and positive", self.KID.Mean, shift.KID.Mean)
	}
	var m0 results.Metrics
	if _, err := registry.FIDKID(x, [][]float64{{1, 2}, {3, 4}}, o, &m0); err == nil {
		t.Error("no error for feature sets of different dimensions")
	}
}
