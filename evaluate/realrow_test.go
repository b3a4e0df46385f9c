package evaluate

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/munit-eval/munit-eval/inception"
	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/synth"
)

// TestRealHalves: the halves are disjoint, cover every image, are sorted
// and sized n/2 and n - n/2, and are a function of the seed.
func TestRealHalves(t *testing.T) {
	for _, n := range []int{2, 7, 200} {
		a, b := RealHalves(5, n)
		if len(a) != n/2 || len(b) != n-n/2 || !slices.IsSorted(a) || !slices.IsSorted(b) {
			t.Fatalf("n %d: halves %v, %v", n, a, b)
		}
		all := slices.Sorted(slices.Values(append(slices.Clone(a), b...)))
		for i, v := range all {
			if v != i {
				t.Fatalf("n %d: halves %v, %v do not partition 0..%d", n, a, b, n-1)
			}
		}
		a2, _ := RealHalves(5, n)
		if !slices.Equal(a, a2) {
			t.Errorf("n %d: same seed, different halves", n)
		}
	}
	a, _ := RealHalves(5, 200)
	c, _ := RealHalves(6, 200)
	if slices.Equal(a, c) {
		t.Error("seeds 5 and 6 give the same halves")
	}
}

// TestRealHalvesGaussianFID is planted ground truth for the real-data row:
// two seeded halves of one Gaussian set in d dimensions, n points each,
// give an FID whose expectation is the known small-sample bias
//
//	E FID ≈ 2d/n + d(d+1)/(2(n-1)),
//
// the squared distance of the two sample means (each coordinate's
// difference has variance 2/n) plus the trace term, which to second order
// is a quarter of the squared Frobenius distance of the two sample
// covariances (each entry's variance (1 + δij)/(n-1)). Over 40 draws the
// mean FID lies within 15% of it (the mean's standard error is about 5%
// here, and the formula's error is O(n^-1.5)); KID, unbiased, averages 0
// within four standard errors.
func TestRealHalvesGaussianFID(t *testing.T) {
	const d, n, draws = 4, 400, 40
	want := 2*float64(d)/n + float64(d*(d+1))/(2*(n-1))
	var fids, kids []float64
	for s := range draws {
		rng := rand.New(rand.NewPCG(uint64(s), 1))
		set := make([][]float64, 2*n)
		for i := range set {
			set[i] = make([]float64, d)
			for j := range set[i] {
				set[i][j] = rng.NormFloat64()
			}
		}
		a, b := RealHalves(int64(s), 2*n)
		x, y := make([][]float64, len(a)), make([][]float64, len(b))
		for i, k := range a {
			x[i] = set[k]
		}
		for i, k := range b {
			y[i] = set[k]
		}
		f, err := metrics.FID(x, y)
		if err != nil {
			t.Fatal(err)
		}
		k, err := metrics.KID(x, y, metrics.KIDOptions{Subsets: 20, SubsetSize: n / 2, Seed: uint64(s)})
		if err != nil {
			t.Fatal(err)
		}
		fids, kids = append(fids, f), append(kids, k.Mean)
	}
	mf, _ := meanSE(fids)
	t.Logf("mean FID of two halves %.5f, small-sample bias %.5f", mf, want)
	if math.Abs(mf-want) > 0.15*want {
		t.Errorf("mean FID of two halves %.5f, want the small-sample bias %.5f within 15%%", mf, want)
	}
	if mk, se := meanSE(kids); math.Abs(mk) > 4*se {
		t.Errorf("mean KID of two halves %.6f (se %.6f), want 0 within 4 standard errors", mk, se)
	}
}

func meanSE(v []float64) (mean, se float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(v)-1) / float64(len(v)))
}

// TestRealRowEveryMetric measures the real-data row of the synthetic world
// with the default metrics: LPIPS over real pairs; IS of the 12 real
// images, each its own input, equal to the paper's IS computed here from
// the classifier's logits (CIS left out); FID and KID between the seeded
// halves, equal to FID and KID computed here from the features of the
// images RealHalves names.
func TestRealRowEveryMetric(t *testing.T) {
	dir, models := world(t)
	ctx := context.Background()
	p := DefaultProtocol()
	p.NumInputs, p.Pairs, p.Bootstrap, p.Seed = 4, 2, 100, 7
	p.KIDSubsets, p.KIDSubsetSize = 5, 0
	w := entries(t)
	s, err := OpenScorers(ModelFiles{LPIPS: models[synth.KeyLPIPS], Classifier: models[synth.KeyClassifier]}, registry.NeedsOf(w), model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	files, err := RealFiles(filepath.Join(dir, "world", "testB"), p)
	if err != nil {
		t.Fatal(err)
	}
	real := realSet("real", files, 0)
	row, err := Measure(ctx, s, Job{Dataset: "shapes", Protocol: p, Metrics: w, RealRow: true, RealInputs: 4, Set: real, Real: real, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := inception.NewRunner(s.Classifier, "").RunItems(ctx, real.items(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	feats, err := inception.Features(outs)
	if err != nil {
		t.Fatal(err)
	}
	var logits []float64
	for _, o := range outs {
		for _, v := range o.Logits {
			logits = append(logits, float64(v))
		}
	}
	probs, err := metrics.ProbsFromLogits(logits, len(files), 1, len(s.Classifier.Classes))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := metrics.ScoreMUNIT(probs)
	if err != nil {
		t.Fatal(err)
	}
	a, b := RealHalves(p.Seed, len(files))
	x, y := make([][]float64, len(a)), make([][]float64, len(b))
	for i, k := range a {
		x[i] = feats[k]
	}
	for i, k := range b {
		y[i] = feats[k]
	}
	fid, err := metrics.FID(x, y)
	if err != nil {
		t.Fatal(err)
	}
	// KID subsets of half a half: 3 of the 6 in each.
	kid, err := metrics.KID(x, y, metrics.KIDOptions{Subsets: 5, SubsetSize: 3, Seed: uint64(p.Seed)})
	if err != nil {
		t.Fatal(err)
	}
	m := row.Metrics
	if row.Method != results.MethodRealData || m.LPIPSDiversity == nil || m.LPIPSDiversity.N != 8 {
		t.Fatalf("real row %q: LPIPS %+v", row.Method, m.LPIPSDiversity)
	}
	if m.IS == nil || math.Abs(*m.IS-sc.IS) > 1e-12 || m.ISCI95 == nil || m.CIS != nil || m.CISCI95 != nil {
		t.Errorf("real row IS %v (interval %v), CIS %v; want IS %v with an interval and no CIS", m.IS, m.ISCI95, m.CIS, sc.IS)
	}
	if m.FID == nil || m.FID.NumSamples != 6 || m.FID.NumReal != 6 || math.Abs(m.FID.Value-fid) > 1e-12*max(1, fid) {
		t.Errorf("real row FID %+v, want %v between halves of 6 and 6", m.FID, fid)
	}
	if m.KID == nil || m.KID.SubsetSize != 3 || math.Abs(m.KID.Mean-kid.Mean) > 1e-12 {
		t.Errorf("real row KID %+v, want %v over subsets of 3", m.KID, kid.Mean)
	}
	for _, w := range row.Warnings {
		if w.Code == metrics.CodeOneSample || w.Code == metrics.CodeClipped {
			t.Errorf("real row warns %q, which concerns no value it shows", w.Detail)
		}
	}
}
