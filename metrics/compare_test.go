package metrics

import (
	"math"
	"testing"
)

// Reference values below come from scipy 1.10 (scripts: stats.ttest_ind
// with equal_var=False, stats.t and stats.norm quantiles) or, for Holm and
// Newcombe, from the formulas evaluated in float64 numpy; Newcombe's
// 56/70 − 48/80 example matches his Table II, method 10: [0.0524, 0.3339].

func TestWelchInterval(t *testing.T) {
	a := []float64{0.31, 0.29, 0.35, 0.27, 0.33, 0.30, 0.36, 0.28}
	b := []float64{0.25, 0.30, 0.22, 0.27, 0.26, 0.24, 0.29, 0.21, 0.23, 0.28}
	r, err := WelchT(a, b)
	if err != nil {
		t.Fatal(err)
	}
	ci := r.Interval(0.95)
	const tol = 1e-12
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"t", r.T, 3.7469036407898404},
		{"p", r.P, 0.0020351236048264643},
		{"df", r.DF, 14.564102373511721},
		{"lo", ci[0], 0.02416822166863284},
		{"hi", ci[1], 0.08833177833136721},
	} {
		if !near(c.got, c.want, tol) {
			t.Errorf("%s = %.17g, scipy %.17g (tol %g)", c.name, c.got, c.want, tol)
		}
	}
}

func TestTAndNormalIntervals(t *testing.T) {
	const tol = 1e-10
	p, ci := TInterval(1.3, 0.6, 7.5, 0.9)
	if !near(p, 0.06437859333735849, tol) || !near(ci[0], 0.17455151248217193, tol) || !near(ci[1], 2.425448487517828, tol) {
		t.Errorf("TInterval = %v %v, scipy 0.0643786 [0.174552, 2.425448]", p, ci)
	}
	p, ci = NormalInterval(0.004, 0.0025, 0.95)
	if !near(p, 0.10959858339911595, tol) || !near(ci[0], -0.0008999099613501349, tol) || !near(ci[1], 0.008899909961350136, tol) {
		t.Errorf("NormalInterval = %v %v", p, ci)
	}
	// Infinite df is the normal distribution.
	p2, ci2 := TInterval(0.004, 0.0025, math.Inf(1), 0.95)
	if p2 != p || ci2 != ci {
		t.Errorf("TInterval at df = Inf: %v %v, normal %v %v", p2, ci2, p, ci)
	}
	if p, _ := TInterval(1, 0, 3, 0.95); !math.IsNaN(p) {
		t.Errorf("se 0: p %v, want NaN", p)
	}
	if p, ci := NormalInterval(0, 0, 0.95); p != 1 || ci != [2]float64{0, 0} {
		t.Errorf("se 0, v 0: %v %v", p, ci)
	}
}

func TestWelchDiffTest(t *testing.T) {
	// se = sqrt(0.2 + 0.16) = 0.6: TInterval's scipy case, at the
	// Welch–Satterthwaite df of the two variances.
	df := WelchSatterthwaiteDF(0.2, 4, 0.16, 9)
	p, ci := WelchDiffTest(1.3, 0.2, 4, 0.16, 9, 0.9)
	if wp, wci := TInterval(1.3, 0.6, df, 0.9); p != wp || ci != wci {
		t.Errorf("WelchDiffTest = %v %v, TInterval at df %v = %v %v", p, ci, df, wp, wci)
	}
	// Both variances known (df +Inf): the normal test.
	inf := math.Inf(1)
	p, ci = WelchDiffTest(0.004, 0.0025*0.0025, inf, 0, inf, 0.95)
	if wp, wci := NormalInterval(0.004, 0.0025, 0.95); p != wp || ci != wci {
		t.Errorf("known variances: %v %v, normal %v %v", p, ci, wp, wci)
	}
	// No variance: the difference is exact.
	if p, ci := WelchDiffTest(0, 0, 3, 0, 3, 0.95); p != 1 || ci != [2]float64{0, 0} {
		t.Errorf("se 0, delta 0: %v %v", p, ci)
	}
	if p, ci := WelchDiffTest(0.5, 0, 3, 0, 3, 0.95); p != 0 || ci != [2]float64{0.5, 0.5} {
		t.Errorf("se 0, delta 0.5: %v %v", p, ci)
	}
}

func TestWelchSatterthwaiteDF(t *testing.T) {
	// Two equal variances with equal df: df = 2·df1.
	if got := WelchSatterthwaiteDF(0.3, 9, 0.3, 9); !near(got, 18, 1e-14) {
		t.Errorf("equal halves: %v, want 18", got)
	}
	// One variance dominates: df → its own df.
	if got := WelchSatterthwaiteDF(1, 4, 0, 30); got != 4 {
		t.Errorf("one-sided: %v, want 4", got)
	}
	if got := WelchSatterthwaiteDF(0, 4, 0, 30); !math.IsInf(got, 1) {
		t.Errorf("both zero: %v, want +Inf", got)
	}
}

func TestHolm(t *testing.T) {
	got := Holm([]float64{0.01, 0.04, 0.03, 0.005, 0.5, 0.03})
	want := []float64{0.05, 0.12, 0.12, 0.03, 0.5, 0.12}
	for i := range want {
		if !near(got[i], want[i], 1e-15) {
			t.Fatalf("Holm = %v, want %v", got, want)
		}
	}
	if len(Holm(nil)) != 0 {
		t.Error("Holm(nil) not empty")
	}
}

func TestNewcombeDiff(t *testing.T) {
	lo, hi := NewcombeDiff(56, 70, 48, 80, Z95)
	if !near(lo, 0.052431472402365065, 1e-13) || !near(hi, 0.333872654036906, 1e-13) {
		t.Errorf("Newcombe 56/70 − 48/80 = [%v, %v], want [0.0524, 0.3339]", lo, hi)
	}
	if lo, _ := NewcombeDiff(3, 2, 1, 2, Z95); !math.IsNaN(lo) {
		t.Error("no NaN for k > n")
	}
}

func TestBootstrapAndKIDVariance(t *testing.T) {
	reps := []float64{1, 2, 3, 4} // s² = 5/3
	if got := BootstrapVariance(reps, 10); !near(got, 5.0/3*10/9, 1e-15) {
		t.Errorf("BootstrapVariance = %v, want %v", got, 5.0/3*10/9)
	}
	if got := BootstrapVariance(reps, 0); !near(got, 5.0/3, 1e-15) {
		t.Errorf("BootstrapVariance without n = %v", got)
	}
	// s² = 5/3, m = 100, n = 500, S = 4: 5/3 · (100/400 + 1/4) = 5/6.
	if v, ok := KIDVariance(reps, 100, 500); !ok || !near(v, 5.0/6, 1e-15) {
		t.Errorf("KIDVariance = %v %v, want 5/6", v, ok)
	}
	if _, ok := KIDVariance(reps, 500, 500); ok {
		t.Error("KIDVariance with m = n: want false")
	}
	for _, n := range []int{100, 50, 0} {
		if _, ok := KIDVariance(reps, 100, n); ok {
			t.Errorf("KIDVariance with n %d ≤ m 100: want false", n)
		}
	}
	if _, ok := KIDVariance([]float64{1}, 100, 500); ok {
		t.Error("KIDVariance of one subset: want false")
	}
}

func TestCompareIntervals(t *testing.T) {
	for _, tc := range []struct {
		name     string
		b        float64
		bci      [2]float64
		n        float64
		nci      [2]float64
		alpha    float64
		sig, ok  bool
		deltaLow float64
	}{
		// r = z_0.995/z_0.975 = 1.3142: widened [0.937, 1.066] and [1.137, 1.263]: apart.
		{"apart", 1, [2]float64{0.95, 1.05}, 1.2, [2]float64{1.15, 1.25}, 0.01, true, true, 0.2 - 0.05 - 0.05},
		// Widened at alpha 0.01 they touch: [0.934, 1.066] and [1.034, ...]: overlap.
		{"overlap after widening", 1, [2]float64{0.95, 1.05}, 1.1, [2]float64{1.05, 1.15}, 0.01, false, true, 0.1 - 0.05 - 0.05},
		{"value outside its interval", 1, [2]float64{1.1, 1.2}, 1.1, [2]float64{1.05, 1.15}, 0.01, false, false, 0},
	} {
		got, ok := CompareIntervals(tc.b, tc.bci, tc.n, tc.nci, tc.alpha, 0.95)
		if ok != tc.ok || got.Significant != tc.sig || (ok && !near(got.DeltaCI[0], tc.deltaLow, 1e-12)) {
			t.Errorf("%s: %+v %v, want significant %v ok %v delta lo %v", tc.name, got, ok, tc.sig, tc.ok, tc.deltaLow)
		}
	}
}
