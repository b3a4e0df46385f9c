package metrics

import (
	"math"
	"slices"
	"testing"
)

func TestBootstrapGroupsDeterministic(t *testing.T) {
	collect := func(seed uint64) [][]int {
		var draws [][]int
		BootstrapGroups(7, 20, seed, func(idx []int) float64 {
			for _, i := range idx {
				if i < 0 || i >= 7 {
					t.Fatalf("index %d outside [0, 7)", i)
				}
			}
			draws = append(draws, slices.Clone(idx))
			return 0
		})
		return draws
	}
	a, b, c := collect(1), collect(1), collect(2)
	if !slices.EqualFunc(a, b, slices.Equal) {
		t.Error("same seed gave different draws")
	}
	if slices.EqualFunc(a, c, slices.Equal) {
		t.Error("different seeds gave the same draws")
	}
	if BootstrapGroups(0, 10, 1, func([]int) float64 { return 0 }) != nil {
		t.Error("n = 0 should give nil")
	}
}

func TestBootstrapMeanCI(t *testing.T) {
	// Constant data: every replicate is the constant.
	lo, hi, reps := BootstrapMeanCI([][]float64{{2, 2}, {2}, {2, 2, 2}}, 100, 3, 0.95)
	if lo != 2 || hi != 2 || len(reps) != 100 {
		t.Errorf("constant groups: [%v, %v], %d replicates; want [2, 2], 100", lo, hi, len(reps))
	}
	// The replicate is the pooled mean of the drawn groups, not the mean
	// of group means: check one replicate by redrawing its indices.
	groups := [][]float64{{1}, {2, 3, 4}, {10, 20}}
	_, _, reps = BootstrapMeanCI(groups, 5, 9, 0.9)
	var want []float64
	BootstrapGroups(len(groups), 5, 9, func(idx []int) float64 {
		var s, n float64
		for _, g := range idx {
			for _, v := range groups[g] {
				s += v
				n++
			}
		}
		want = append(want, s/n)
		return 0
	})
	for i := range want {
		if !near(reps[i], want[i], 1e-12) {
			t.Errorf("replicate %d = %v, want %v", i, reps[i], want[i])
		}
	}
	for _, bad := range [][][]float64{nil, {{1}, {}}, {{math.NaN()}}} {
		if lo, _, _ := BootstrapMeanCI(bad, 10, 1, 0.95); !math.IsNaN(lo) {
			t.Errorf("BootstrapMeanCI(%v) lo = %v, want NaN", bad, lo)
		}
	}
	if lo, _, _ := BootstrapMeanCI(groups, 10, 1, 1); !math.IsNaN(lo) {
		t.Error("level 1 should give NaN")
	}
}

// TestBootstrapCoverage checks that the 95% interval covers the true
// mean about 95% of the time: 400 data sets (fixed seeds) of 40 groups
// of 5 values from N(3, 2²); the percentile bootstrap's coverage at this
// size is a little under nominal, and a binomial(400, 0.95) count lies in
// [0.91, 0.98] with probability > 0.999.
func TestBootstrapCoverage(t *testing.T) {
	const trials, groups, per, mu, sd = 400, 100, 5, 3.0, 2.0
	covered := 0
	for s := range uint64(trials) {
		r := newRand(1000 + s)
		data := make([][]float64, groups)
		for g := range data {
			data[g] = make([]float64, per)
			for j := range data[g] {
				data[g][j] = mu + sd*r.NormFloat64()
			}
		}
		lo, hi, _ := BootstrapMeanCI(data, 500, s, 0.95)
		if lo <= mu && mu <= hi {
			covered++
		}
	}
	rate := float64(covered) / trials
	t.Logf("coverage %.4f over %d seeded trials", rate, trials)
	if rate < 0.91 || rate > 0.98 {
		t.Errorf("coverage %.4f outside [0.91, 0.98]", rate)
	}
}

func TestBootstrapDiffCI(t *testing.T) {
	a := []float64{1, 2, 3, 4, 5}
	b := []float64{0, 0, 0, 0, 0}
	if lo, hi := BootstrapDiffCI(a, b, 0.5); lo != 2 || hi != 4 {
		t.Errorf("BootstrapDiffCI = [%v, %v], want [2, 4]", lo, hi)
	}
	// A constant shift gives a point interval at the shift.
	c := []float64{1.5, 2.5, 3.5, 4.5, 5.5}
	if lo, hi := BootstrapDiffCI(c, a, 0.95); !near(lo, 0.5, 1e-15) || !near(hi, 0.5, 1e-15) {
		t.Errorf("shift: [%v, %v], want [0.5, 0.5]", lo, hi)
	}
	if lo, _ := BootstrapDiffCI(a, b[:3], 0.95); !math.IsNaN(lo) {
		t.Error("mismatched lengths should give NaN")
	}
}

// TestExpandedPercentileTwoUnits: with n = 2 the expanded level rounds to 1,
// and the interval is the replicates' range, never NaN (a NaN bound cannot
// be written to a results document).
func TestExpandedPercentileTwoUnits(t *testing.T) {
	reps := []float64{0.3, 0.1, 0.2, 0.5, 0.4}
	got := ExpandedPercentileInterval(reps, 0.95, 2)
	if math.Abs(got[0]-0.1) > 1e-12 || math.Abs(got[1]-0.5) > 1e-12 {
		t.Errorf("n = 2: %v, want the range [0.1, 0.5]", got)
	}
	zero := ExpandedPercentileInterval([]float64{0, 0, 0}, 0.95, 2)
	if zero != [2]float64{0, 0} {
		t.Errorf("n = 2, all zero: %v, want [0, 0]", zero)
	}
}
