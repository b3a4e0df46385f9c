package metrics

import (
	"math"
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

// oneHotish returns the softmax of logits with 30 on class cl and 0
// elsewhere (a confident classifier), and its entropy.
func oneHotish(cl, c int) ([]float64, float64) {
	l := make([]float64, c)
	l[cl] = 30
	p := Softmax(l)
	return p, entropy(p)
}

// TestCoverageISCIS: the jackknife intervals of IS and CIS
// (MUNITScores.Jackknife) against their population values, M = 100
// inputs × K = 20 samples, C = 4 confident classes, R = 1000 repetitions:
//
//   - uniform: every sample's class uniform and independent: the class
//     marginal is uniform, the case where the plug-in IS can only fall below
//     its population value ln 4 − h (h the entropy of one row), and plug-in
//     intervals covered 0%; CIS = ln 4 − h as well.
//   - clustered: input i draws its samples' classes from π_i ~ Dirichlet(1,
//     1, 1, 1): IS = ln 4 − h, CIS = E H(π) − h = (1/2 + 1/3 + 1/4) − h
//     (E H of a flat Dirichlet on C classes is ψ(C+1) − ψ(2)).
func TestCoverageISCIS(t *testing.T) {
	const reps, m, k, c = 1000, 100, 20, 4
	rows := make([][]float64, c)
	var h float64
	for cl := range c {
		rows[cl], h = oneHotish(cl, c)
	}
	for _, tc := range []struct {
		name    string
		pi      func(r *rand.Rand) []float64
		is, cis float64
	}{
		{"uniform", func(*rand.Rand) []float64 { return []float64{0.25, 0.25, 0.25, 0.25} }, math.Log(4) - h, math.Log(4) - h},
		{"clustered", func(r *rand.Rand) []float64 {
			g := make([]float64, c)
			var s float64
			for j := range g {
				g[j] = r.ExpFloat64()
				s += g[j]
			}
			for j := range g {
				g[j] /= s
			}
			return g
		}, math.Log(4) - h, 1.0/2 + 1.0/3 + 1.0/4 - h},
	} {
		var isCov, cisCov, plugCov int
		for rep := range reps {
			r := rand.New(rand.NewPCG(uint64(rep), 7))
			probs := make([][][]float64, m)
			for i := range probs {
				pi := tc.pi(r)
				probs[i] = make([][]float64, k)
				for s := range probs[i] {
					u, cl := r.Float64(), 0
					for cl < c-1 && u > pi[cl] {
						u -= pi[cl]
						cl++
					}
					probs[i][s] = rows[cl]
				}
			}
			sc, err := ScoreMUNIT(probs)
			if err != nil {
				t.Fatal(err)
			}
			j, err := sc.Jackknife(0.95)
			if err != nil {
				t.Fatal(err)
			}
			if holds(j.ISCI, tc.is) {
				isCov++
			}
			if holds(j.CISCI, tc.cis) {
				cisCov++
			}
			if sc.IS >= tc.is {
				plugCov++
			}
		}
		checkCoverage(t, tc.name+" IS", float64(isCov)/reps, reps)
		checkCoverage(t, tc.name+" CIS", float64(cisCov)/reps, reps)
		t.Logf("%s: plug-in IS at or above its population value in %d of %d", tc.name, plugCov, reps)
	}
}

// TestFIDBlocksFit checks the bootstrap's refit from block statistics
// against FitGaussian: every block once is the whole set, block 0 twice is
// the set with those rows repeated (to 1e-12).
func TestFIDBlocksFit(t *testing.T) {
	x := randomFeatures(9, 60, 5, 3)
	b, err := blockStats(x, 6, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		counts []int
		rows   [][]float64
	}{
		{[]int{1, 1, 1, 1, 1, 1}, x},
		{[]int{2, 0, 1, 0, 0, 3}, append(append(append(append(append(append([][]float64{}, x[:10]...), x[:10]...), x[20:30]...), x[50:]...), x[50:]...), x[50:]...)},
	} {
		got, err := b.fit(tc.counts)
		if err != nil {
			t.Fatal(err)
		}
		want, err := FitGaussian(tc.rows)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if math.Abs(got.Mean[i]-want.Mean[i]) > 1e-12 {
				t.Fatalf("counts %v: mean %v, want %v", tc.counts, got.Mean, want.Mean)
			}
			for j := range 5 {
				if math.Abs(got.Cov.At(i, j)-want.Cov.At(i, j)) > 1e-12 {
					t.Fatalf("counts %v: cov(%d,%d) %v, want %v", tc.counts, i, j, got.Cov.At(i, j), want.Cov.At(i, j))
				}
			}
		}
	}
}

// TestCoverageFID: FIDJackknife's interval against the population
// FID, at the case where the percentile interval covered 0 of 40: D = 64,
// 50 inputs × 20 samples, 800 real. Generated features are an input effect
// plus noise, x = u_g + e, u ~ N(0, 0.25·W), e ~ N(0, W), W = diag(w_j),
// w_j from 0.5 to 1.5; real features y ~ N(0.1·1, 1.1²·W). The population
// FID has the closed form Σ_j 0.1² + Σ_j w_j (sqrt(1.25) − 1.1)²
// (diagonal covariances). R = 300 repetitions (100 with -short), each
// with G = 50 leave-one-out fits, the repetitions spread over the cores.
func TestCoverageFID(t *testing.T) {
	const d, groups, per, nreal = 64, 50, 20, 800
	reps := 300
	if testing.Short() {
		reps = 100
	}
	w := make([]float64, d)
	var truth float64
	for j := range w {
		w[j] = 0.5 + float64(j)/float64(d-1)
		truth += 0.01 + w[j]*(math.Sqrt(1.25)-1.1)*(math.Sqrt(1.25)-1.1)
	}
	cover := make([]bool, reps)
	above := make([]bool, reps)
	next := make(chan int)
	done := make(chan struct{})
	for range workers() {
		go func() {
			defer func() { done <- struct{}{} }()
			for rep := range next {
				r := rand.New(rand.NewPCG(uint64(rep), 11))
				x := make([][]float64, 0, groups*per)
				for range groups {
					u := make([]float64, d)
					for j := range u {
						u[j] = 0.5 * math.Sqrt(w[j]) * r.NormFloat64()
					}
					for range per {
						row := make([]float64, d)
						for j := range row {
							row[j] = u[j] + math.Sqrt(w[j])*r.NormFloat64()
						}
						x = append(x, row)
					}
				}
				y := make([][]float64, nreal)
				for i := range y {
					y[i] = make([]float64, d)
					for j := range y[i] {
						y[i][j] = 0.1 + 1.1*math.Sqrt(w[j])*r.NormFloat64()
					}
				}
				iv, err := FIDJackknife(x, per, y, 0.95)
				if err != nil {
					t.Error(err)
					continue
				}
				cover[rep] = holds(iv.CI, truth)
				above[rep] = iv.Value > truth
			}
		}()
	}
	for rep := range reps {
		next <- rep
	}
	close(next)
	for range workers() {
		<-done
	}
	n, a := 0, 0
	for i := range reps {
		if cover[i] {
			n++
		}
		if above[i] {
			a++
		}
	}
	t.Logf("population FID %.4f; plug-in above it in %d of %d", truth, a, reps)
	checkCoverage(t, "FID D=64", float64(n)/float64(reps), reps)
}
