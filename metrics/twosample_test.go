package metrics

import (
	"math"
	"strings"
	"testing"
)

func TestMannWhitneyU(t *testing.T) {
	tests := []struct {
		name string
		a, b []float64
		u, p float64
		tol  float64
	}{
		// scipy.stats.mannwhitneyu documentation: males vs females,
		// U1 = 17, method="asymptotic" p = 0.11134688653314041.
		{"scipy docs", []float64{19, 22, 16, 29, 24}, []float64{20, 11, 17, 12}, 17, 0.11134688653314041, 1e-12},
		// Hand-derived with ties: pooled ranks 1, (2,3,4)→3, 5, 6; R_a = 7,
		// U_a = 1, U = 8, μ = 4.5, σ² = 9/12 · (7 − 24/30) = 4.65,
		// z = 3/sqrt(4.65) = 1.391217, p = erfc(z/√2) = 0.1641597 (table).
		{"ties", []float64{1, 2, 2}, []float64{2, 3, 4}, 1, 0.1641597, 1e-6},
		// Identical samples: U = n_a n_b / 2, z < 0, p clipped to 1.
		{"identical", []float64{1, 2, 3}, []float64{1, 2, 3}, 4.5, 1, 0},
		{"all equal", []float64{5, 5}, []float64{5, 5, 5}, 3, 1, 0},
	}
	for _, tt := range tests {
		got, err := MannWhitneyU(tt.a, tt.b)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got.U != tt.u || !near(got.P, tt.p, tt.tol) {
			t.Errorf("%s: U = %v, p = %.17g; want %v, %.17g", tt.name, got.U, got.P, tt.u, tt.p)
		}
		// Two-sided: swapping the samples keeps p.
		back, _ := MannWhitneyU(tt.b, tt.a)
		if !near(back.P, got.P, 1e-15) {
			t.Errorf("%s: p not symmetric: %v vs %v", tt.name, got.P, back.P)
		}
	}
	if _, err := MannWhitneyU(nil, []float64{1}); err == nil || !strings.Contains(err.Error(), "sample a has 0 values") {
		t.Errorf("empty sample: %v", err)
	}
}

func TestStudentTwoSided(t *testing.T) {
	// Closed forms of the t distribution: df = 1 is Cauchy,
	// p = 1 − (2/π) atan|t|; df = 2 has p = 1 − |t| / sqrt(2 + t²).
	for _, tv := range []float64{0.3, 1, 2.5, 10} {
		if got, want := studentTwoSided(tv, 1), 1-2/math.Pi*math.Atan(tv); !near(got, want, 1e-12) {
			t.Errorf("df 1, t %v: %v, want %v", tv, got, want)
		}
		if got, want := studentTwoSided(-tv, 2), 1-tv/math.Sqrt(2+tv*tv); !near(got, want, 1e-12) {
			t.Errorf("df 2, t %v: %v, want %v", -tv, got, want)
		}
	}
}

func TestWelchT(t *testing.T) {
	// Hand-computed: a = 1..4 (mean 2.5, s² = 5/3), b = 2,4,…,10 (mean 6,
	// s² = 10): v_a = 5/12, v_b = 2, t = −3.5/sqrt(29/12),
	// df = (29/12)² / ((5/12)²/3 + 2²/4).
	a := []float64{1, 2, 3, 4}
	b := []float64{2, 4, 6, 8, 10}
	res, err := WelchT(a, b)
	if err != nil {
		t.Fatal(err)
	}
	va, vb := 5.0/12, 2.0
	wantT := -3.5 / math.Sqrt(va+vb)
	wantDF := (va + vb) * (va + vb) / (va*va/3 + vb*vb/4)
	if !near(res.T, wantT, 1e-12) || !near(res.DF, wantDF, 1e-12) {
		t.Errorf("t = %v, df = %v; want %v, %v", res.T, res.DF, wantT, wantDF)
	}
	if !near(res.P, studentTwoSided(wantT, wantDF), 1e-15) || !(res.P > 0.05 && res.P < 0.1) {
		t.Errorf("p = %v", res.P)
	}
	if r, _ := WelchT([]float64{1, 1}, []float64{1, 1, 1}); r.P != 1 || r.T != 0 {
		t.Errorf("constant equal samples: %+v", r)
	}
	if r, _ := WelchT([]float64{1, 1}, []float64{2, 2}); r.P != 0 || !math.IsInf(r.T, -1) {
		t.Errorf("constant different samples: %+v", r)
	}
	if _, err := WelchT([]float64{1}, b); err == nil {
		t.Error("one value accepted")
	}
	if _, err := WelchT(a, []float64{1, math.NaN()}); err == nil || !strings.Contains(err.Error(), "sample b value 1 is NaN") {
		t.Errorf("NaN: %v", err)
	}
}

// TestTwoSampleFalsePositives runs 100 seeded same-distribution trials
// (two samples of 100 per-input means from N(0.1, 0.02²), the shape of a
// rerun of a diversity evaluation) and requires at most 1 rejection at
// alpha 0.01 for each test, and that a real shift of 0.015 (0.75 sd) is
// caught in at least 95 trials.
func TestTwoSampleFalsePositives(t *testing.T) {
	const trials, n, alpha = 100, 100, 0.01
	draw := func(seed uint64, shift float64) []float64 {
		r := newRand(seed)
		x := make([]float64, n)
		for i := range x {
			x[i] = 0.1 + shift + 0.02*r.NormFloat64()
		}
		return x
	}
	var welchFP, mwFP, welchMiss, mwMiss int
	for s := range uint64(trials) {
		a, b := draw(2*s, 0), draw(2*s+1, 0)
		w, err := WelchT(a, b)
		if err != nil {
			t.Fatal(err)
		}
		u, err := MannWhitneyU(a, b)
		if err != nil {
			t.Fatal(err)
		}
		if w.P < alpha {
			welchFP++
		}
		if u.P < alpha {
			mwFP++
		}
		c := draw(2*s+1, 0.015)
		if w, _ := WelchT(a, c); w.P >= alpha {
			welchMiss++
		}
		if u, _ := MannWhitneyU(a, c); u.P >= alpha {
			mwMiss++
		}
	}
	t.Logf("false positives: Welch %d, Mann-Whitney %d; missed shifts: %d, %d", welchFP, mwFP, welchMiss, mwMiss)
	if welchFP > 1 || mwFP > 1 {
		t.Errorf("false positives at alpha %v over %d trials: Welch %d, Mann-Whitney %d; want ≤ 1", alpha, trials, welchFP, mwFP)
	}
	if welchMiss > 5 || mwMiss > 5 {
		t.Errorf("a shift of 0.75 sd missed in %d (Welch) and %d (Mann-Whitney) of %d trials", welchMiss, mwMiss, trials)
	}
}
