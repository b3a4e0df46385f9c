package metrics

import (
	"math/rand/v2"
	"testing"
)

// Coverage simulations: each draws many seeded data sets from a
// distribution whose answer is known, computes the metric's 95% interval
// on each, and counts how often the interval holds the answer. The
// coverage must lie in [92%, 98%]; with R repetitions its binomial
// standard error at 95% is sqrt(0.95·0.05/R) (0.69% at R = 1000, 1.1% at
// R = 400), so a correct method fails by chance with probability below
// 1e-4 at R = 1000. The repetitions are stated in each test.

// coverage reports the share of reps for which covers(rng, rep) is true.
func coverage(reps int, seed uint64, covers func(r *rand.Rand, rep int) bool) float64 {
	r := rand.New(rand.NewPCG(seed, 0xc0ffee))
	n := 0
	for i := range reps {
		if covers(r, i) {
			n++
		}
	}
	return float64(n) / float64(reps)
}

func checkCoverage(t *testing.T, name string, got float64, reps int) {
	t.Helper()
	t.Logf("%s: coverage %.1f%% over %d repetitions", name, 100*got, reps)
	if got < 0.92 || got > 0.98 {
		t.Errorf("%s: 95%% interval covers the true value in %.1f%% of %d repetitions, want [92%%, 98%%]", name, 100*got, reps)
	}
}

func holds(ci [2]float64, v float64) bool { return ci[0] <= v && v <= ci[1] }

// TestCoverageLPIPSDiversity: BootstrapMeanCI (the LPIPS diversity
// interval) over M inputs of 19 pair distances each, the distances being
// an input effect plus noise; the true mean is 0.3. R = 1000 repetitions,
// B = 2000 resamples (the default). M = 8 is the case where the plain percentile interval
// covered 87%.
func TestCoverageLPIPSDiversity(t *testing.T) {
	const reps, boot, pairs = 1000, 2000, 19
	for _, tc := range []struct {
		name   string
		m      int
		effect func(r *rand.Rand) float64 // input mean, expectation 0.3
	}{
		{"normal M=8", 8, func(r *rand.Rand) float64 { return 0.3 + 0.05*r.NormFloat64() }},
		{"normal M=50", 50, func(r *rand.Rand) float64 { return 0.3 + 0.05*r.NormFloat64() }},
		{"skewed M=20", 20, func(r *rand.Rand) float64 { return 0.25 + 0.05*r.ExpFloat64() }},
	} {
		got := coverage(reps, 1, func(r *rand.Rand, rep int) bool {
			groups := make([][]float64, tc.m)
			for i := range groups {
				mu := tc.effect(r)
				groups[i] = make([]float64, pairs)
				for j := range groups[i] {
					groups[i][j] = mu + 0.1*r.NormFloat64()
				}
			}
			lo, hi, _ := BootstrapMeanCI(groups, boot, uint64(rep), 0.95)
			return lo <= 0.3 && 0.3 <= hi
		})
		checkCoverage(t, tc.name, got, reps)
	}
}
