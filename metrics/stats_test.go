package metrics

import (
	"math"
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
