package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSummaryStats(t *testing.T) {
	// Hand-computed: x̄ = 5, Σ(x−x̄)² = 32, so s = sqrt(32/7), σ = 2.
	x := []float64{2, 4, 4, 4, 5, 5, 7, 9}
	tests := []struct {
		name      string
		got, want float64
	}{
		{"mean", Mean(x), 5},
		{"std", Std(x), math.Sqrt(32.0 / 7)},
		{"population std", PopulationStd(x), 2},
		{"stderr", StdErr(x), math.Sqrt(32.0/7) / math.Sqrt(8)},
		{"mean of one", Mean([]float64{3}), 3},
	}
	for _, tt := range tests {
		if !near(tt.got, tt.want, 1e-15) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	for name, v := range map[string]float64{
		"mean of none": Mean(nil), "std of one": Std([]float64{1}),
		"stderr of one": StdErr([]float64{1}), "population std of none": PopulationStd(nil),
	} {
		if !math.IsNaN(v) {
			t.Errorf("%s = %v, want NaN", name, v)
		}
	}
}

func TestPercentile(t *testing.T) {
	// numpy.percentile([4, 1, 3, 2], p) (linear): h = 3p/100.
	x := []float64{4, 1, 3, 2}
	tests := []struct{ p, want float64 }{
		{0, 1}, {25, 1.75}, {50, 2.5}, {90, 3.7}, {100, 4},
	}
	for _, tt := range tests {
		if got := Percentile(x, tt.p); !near(got, tt.want, 1e-15) {
			t.Errorf("Percentile(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if x[0] != 4 {
		t.Error("Percentile modified its input")
	}
	for _, p := range []float64{-1, 101, math.NaN()} {
		if got := Percentile(x, p); !math.IsNaN(got) {
			t.Errorf("Percentile(%v) = %v, want NaN", p, got)
		}
	}
	if got := Percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("Percentile(nil) = %v, want NaN", got)
	}
	ci := PercentileInterval([]float64{1, 2, 3, 4, 5}, 0.5) // 25th and 75th
	if ci != [2]float64{2, 4} {
		t.Errorf("PercentileInterval = %v, want [2 4]", ci)
	}
}

// TestClusteredStdErr checks the cluster-robust standard error against its
// closed form (unequal groups, computed by hand below), the equal-size
// identity s(ȳ_i)/sqrt(G), and, on pairs that share samples as the "all"
// pairing's do, its agreement with the bootstrap interval over inputs
// (half-width / 1.96 within 0.8-1.25 of it), where the naive standard error
// is several times too small.
func TestClusteredStdErr(t *testing.T) {
	// Groups {1, 2}, {4}, {6, 7, 8}: N = 6, ȳ = 28/6, e = (3 − 28/3,
	// 4 − 28/6, 21 − 14) = (−19/3, −2/3, 7); SE² = 3/2 · (361/9 + 4/9 +
	// 49)/36.
	got := ClusteredStdErr([][]float64{{1, 2}, {4}, {6, 7, 8}})
	want := math.Sqrt(1.5 * (361.0/9 + 4.0/9 + 49) / 36)
	if math.Abs(got-want) > 1e-14*want {
		t.Errorf("unequal groups: %v, want %v", got, want)
	}
	eq := [][]float64{{1, 3}, {2, 2}, {5, 9}, {0, 4}}
	var means []float64
	for _, g := range eq {
		means = append(means, Mean(g))
	}
	if got, want := ClusteredStdErr(eq), Std(means)/2; math.Abs(got-want) > 1e-14 {
		t.Errorf("equal groups: %v, want %v", got, want)
	}
	if !math.IsNaN(ClusteredStdErr([][]float64{{1, 2, 3}})) {
		t.Error("one group: want NaN")
	}

	// 30 inputs, each with its own scale; 8 samples per input and the 28
	// "all" pairs, whose distances share the samples' effects.
	rng := rand.New(rand.NewPCG(3, 4))
	var groups [][]float64
	var all []float64
	for range 30 {
		scale := 0.5 + rng.Float64()
		s := make([]float64, 8)
		for k := range s {
			s[k] = rng.NormFloat64()
		}
		var g []float64
		for a := range s {
			for b := a + 1; b < len(s); b++ {
				g = append(g, scale*(1+0.3*(s[a]+s[b])))
			}
		}
		groups = append(groups, g)
		all = append(all, g...)
	}
	lo, hi, _ := BootstrapMeanCI(groups, 4000, 1, 0.95)
	boot := (hi - lo) / (2 * 1.96)
	cl, naive := ClusteredStdErr(groups), StdErr(all)
	if r := cl / boot; r < 0.8 || r > 1.25 {
		t.Errorf("clustered SE %v vs bootstrap %v: ratio %v", cl, boot, r)
	}
	if naive > cl/2 {
		t.Errorf("naive SE %v not far below the clustered %v on shared samples", naive, cl)
	}
}
