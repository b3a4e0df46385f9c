package registry

import (
	"github.com/munit-eval/munit-eval/warning"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/results"
)

// TestScoresSplitOrder checks is_splits' default against torch-fidelity's
// (shuffle with numpy.random.RandomState(2020), 10 splits) and the
// contiguous option, on the case of issue 14: 100 inputs x 100 samples,
// 10 classes, one class per block of 10 inputs. Contiguous splits then each
// hold one class (IS = 1 exactly up to the 30-nat logit margin, tolerance
// 1e-9); shuffled splits mix all ten (torch-fidelity 0.4.0 gives 9.9558 on
// the noisy variant of this case; here every split is near 10).
func TestScoresSplitOrder(t *testing.T) {
	const m, k, c = 100, 100, 10
	logits := make([]float32, m*k*c)
	for i := range m {
		for s := range k {
			logits[(i*k+s)*c+i/10] = 30
		}
	}
	classes := make([]string, c)
	for j := range classes {
		classes[j] = string(rune('a' + j))
	}
	var def, cont results.Metrics
	if _, err := Scores(logits, m, k, classes, ScoreOptions{Splits: 10}, &def); err != nil {
		t.Fatal(err)
	}
	if _, err := Scores(logits, m, k, classes, ScoreOptions{Splits: 10, ContiguousSplits: true}, &cont); err != nil {
		t.Fatal(err)
	}
	if cont.ISSplits.Order != results.SplitOrderContiguous || math.Abs(cont.ISSplits.Mean-1) > 1e-9 {
		t.Errorf("contiguous: order %q mean %v, want contiguous 1", cont.ISSplits.Order, cont.ISSplits.Mean)
	}
	if def.ISSplits.Order != results.SplitOrderShuffled || def.ISSplits.ShuffleSeed == nil || *def.ISSplits.ShuffleSeed != 2020 {
		t.Errorf("default order %q seed %v, want shuffled with seed 2020", def.ISSplits.Order, def.ISSplits.ShuffleSeed)
	}
	probs, err := metrics.ProbsFromLogits(logits, m, k, c)
	if err != nil {
		t.Fatal(err)
	}
	want, err := metrics.SplitInceptionScore(metrics.Rows(probs), metrics.SplitOptions{Splits: 10, Shuffle: true, Seed: 2020})
	if err != nil {
		t.Fatal(err)
	}
	if def.ISSplits.Mean != want.Mean || def.ISSplits.Std != want.Std || def.ISSplits.Mean < 9.5 {
		t.Errorf("default split IS %v ± %v, want %v ± %v (near 10)", def.ISSplits.Mean, def.ISSplits.Std, want.Mean, want.Std)
	}
}

// TestScoresFloat64Logits checks that float64 logits are scored in float64:
// logits that differ by 1e-9 (below float32's resolution at 1) give the
// IS of the exact values, not of their float32 roundings.
func TestScoresFloat64Logits(t *testing.T) {
	const m, k, c = 4, 2, 3
	l64 := make([]float64, m*k*c)
	for i := range l64 {
		l64[i] = float64((i/c+i)%c) + 1e-7*float64(i%7)
	}
	l32 := make([]float32, len(l64))
	for i, v := range l64 {
		l32[i] = float32(v)
	}
	var a, b results.Metrics
	if _, err := Scores(l64, m, k, []string{"x", "y", "z"}, ScoreOptions{}, &a); err != nil {
		t.Fatal(err)
	}
	if _, err := Scores(l32, m, k, []string{"x", "y", "z"}, ScoreOptions{}, &b); err != nil {
		t.Fatal(err)
	}
	probs, err := metrics.ProbsFromLogits(l64, m, k, c)
	if err != nil {
		t.Fatal(err)
	}
	s, err := metrics.ScoreMUNIT(probs)
	if err != nil {
		t.Fatal(err)
	}
	if *a.IS != s.IS || *a.IS == *b.IS || *a.IS <= 0 {
		t.Errorf("IS from float64 logits %v, float64 reference %v, float32-rounded %v: want the reference, not the rounding", *a.IS, s.IS, *b.IS)
	}
}

// TestScores checks Scores on logits whose softmax is one-hot to within
// 3e-13 (30 against 0), against the closed forms of docs/metrics.md.
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
			warnings, err := Scores(logits, m, k, classes, ScoreOptions{Bootstrap: 50, Seed: 1, Splits: 2}, &got)
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
	if _, err := Scores(make([]float32, 5), 2, 2, []string{"a", "b"}, ScoreOptions{}, &m0); err == nil {
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
	o := DistanceOptions{FIDBootstrap: 20, GroupSize: 3, KID: metrics.KIDOptions{Subsets: 20, SubsetSize: 100, Seed: 1}, Seed: 2, WantFID: true, WantKID: true}
	var self, shift results.Metrics
	if _, err := FIDKID(x, x, o, &self); err != nil {
		t.Fatal(err)
	}
	if _, err := FIDKID(shifted, x, o, &shift); err != nil {
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
	if _, err := FIDKID(x, [][]float64{{1, 2}, {3, 4}}, o, &m0); err == nil {
		t.Error("no error for feature sets of different dimensions")
	}
}

// TestFIDNoDegenerateInterval: three samples against three real images
// (features for which the jackknife's bias correction exceeds the FID by
// more than two standard errors) get no interval for the population FID
// and a warning saying why, instead of the interval [0, 0] beside a
// positive standard error; the interval shown, for the plug-in's
// expectation, holds the value.
func TestFIDNoDegenerateInterval(t *testing.T) {
	r := rand.New(rand.NewPCG(32, 1))
	rows := func() [][]float64 {
		x := make([][]float64, 3)
		for i := range x {
			x[i] = []float64{r.NormFloat64()}
		}
		return x
	}
	x, y := rows(), rows()
	if iv, err := metrics.FIDJackknife(x, 1, y, 0.95); err != nil || iv.CI != [2]float64{} || iv.StdErr == 0 {
		t.Fatalf("the features no longer collapse the interval: %+v, %v", iv, err)
	}
	var m results.Metrics
	warns, err := FIDKID(x, y, DistanceOptions{FIDBootstrap: 10, GroupSize: 1, WantFID: true}, &m)
	if err != nil {
		t.Fatal(err)
	}
	f := m.FID
	if f == nil || f.PopulationCI95 != nil || f.BiasCorrected != nil || f.CI95 == nil || f.CI95[0] > f.Value || f.Value > f.CI95[1] ||
		f.CI95[0] != 0 || !strings.Contains(strings.Join(warning.Details(warns), "\n"), "no interval for the population FID: the jackknife over 3 groups") {
		t.Fatalf("FID %+v, warnings %q", m.FID, warns)
	}
}

// TestCMMDEntry: the cmmd entry's value is metrics.CMMD of the gathered
// embeddings, its fragment reads back, the interval shown holds the value,
// and with fewer than 3 input groups there is none and a warning says why.
func TestCMMDEntry(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	rows := func(n int, shift float64) [][]float64 {
		x := make([][]float64, n)
		for i := range x {
			x[i] = []float64{r.NormFloat64() + shift, r.NormFloat64(), r.NormFloat64()}
		}
		return x
	}
	x, y := rows(40, 0.5), rows(40, 0)
	var m results.Metrics
	ws, err := Lookup(KeyCMMD).Compute(&Inputs{M: 10, K: 4, Grouped: true, Features: x, RealFeatures: y}, &m)
	if err != nil || len(ws) != 0 {
		t.Fatalf("compute: %v %v", ws, err)
	}
	want, err := metrics.CMMD(x, y, metrics.DefaultCMMDSigma)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := cmmdOf(&results.Document{Metrics: m})
	if !ok || c.Value != want || c.CI95 == nil || c.CI95[0] > c.Value || c.Value > c.CI95[1] || c.PopulationCI95 == nil || c.Groups != 10 {
		t.Fatalf("fragment %+v (ok %v), want value %v inside its interval over 10 groups", c, ok, want)
	}
	var few results.Metrics
	ws, err = Lookup(KeyCMMD).Compute(&Inputs{M: 2, K: 20, Grouped: true, Features: x, RealFeatures: y}, &few)
	if c, _ := cmmdOf(&results.Document{Metrics: few}); err != nil || c.CI95 != nil || len(ws) != 1 || ws[0].Code != CodeNoInterval {
		t.Fatalf("two groups: %+v, %v, %v", c, ws, err)
	}
}
