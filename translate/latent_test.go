package translate

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

func TestLatentDependsOnKeyOnly(t *testing.T) {
	a := Latent(7, 3, 5, 8)
	if b := Latent(7, 3, 5, 8); !slices.Equal(a, b) {
		t.Fatalf("same key gave %v then %v", a, b)
	}
	// The first d values do not depend on the requested size.
	if c := Latent(7, 3, 5, 13); !slices.Equal(a, c[:8]) {
		t.Fatalf("dim 13 prefix %v, want %v", c[:8], a)
	}
	// Any change of seed, input or k gives another code.
	for _, other := range [][3]int{{8, 3, 5}, {7, 4, 5}, {7, 3, 6}, {7, 5, 3}, {-7, 3, 5}} {
		if b := Latent(int64(other[0]), other[1], other[2], 8); slices.Equal(a, b) {
			t.Errorf("Latent(%v) equals Latent(7,3,5)", other)
		}
	}
}

// normalCDF is the standard normal CDF, Phi(x) = (1 + erf(x / sqrt 2)) / 2.
func normalCDF(x float64) float64 { return 0.5 * (1 + math.Erf(x/math.Sqrt2)) }

// TestLatentIsStandardNormal checks 40,000 draws (5,000 codes of size 8)
// against N(0, 1): the Kolmogorov-Smirnov statistic below its 0.1% critical
// value 1.95/sqrt(n), the mean within 4 standard errors of 0, the variance
// within 4 standard errors (sqrt(2/n)) of 1, and the correlation of
// coordinates 0 and 1 (one Box-Muller pair) and of consecutive inputs within
// 4/sqrt(n) of 0.
func TestLatentIsStandardNormal(t *testing.T) {
	const codes, dim = 5000, 8
	var all []float64
	var c01, cin float64
	prev := Latent(1, 0, 0, dim)
	for i := 0; i < codes; i++ {
		z := Latent(1, i, i%3, dim)
		for _, v := range z {
			all = append(all, float64(v))
		}
		c01 += float64(z[0]) * float64(z[1])
		cin += float64(z[2]) * float64(prev[2])
		prev = z
	}
	n := float64(len(all))
	var mean, m2 float64
	for _, v := range all {
		mean += v
	}
	mean /= n
	for _, v := range all {
		m2 += (v - mean) * (v - mean)
	}
	variance := m2 / (n - 1)
	if math.Abs(mean) > 4/math.Sqrt(n) {
		t.Errorf("mean %g, want 0 within %g", mean, 4/math.Sqrt(n))
	}
	if math.Abs(variance-1) > 4*math.Sqrt(2/n) {
		t.Errorf("variance %g, want 1 within %g", variance, 4*math.Sqrt(2/n))
	}
	sort.Float64s(all)
	var d float64
	for i, v := range all {
		f := normalCDF(v)
		d = max(d, math.Abs(f-float64(i)/n), math.Abs(float64(i+1)/n-f))
	}
	if crit := 1.95 / math.Sqrt(n); d > crit {
		t.Errorf("KS statistic %g above the 0.1%% critical value %g", d, crit)
	}
	for name, c := range map[string]float64{"z0*z1": c01 / codes, "consecutive inputs": cin / codes} {
		if math.Abs(c) > 4/math.Sqrt(codes) {
			t.Errorf("correlation of %s %g, want 0 within %g", name, c, 4/math.Sqrt(codes))
		}
	}
}

func TestSelectRandom(t *testing.T) {
	for _, tc := range []struct{ n, m int }{{10, 3}, {10, 10}, {1, 1}, {100, 37}} {
		a := selectRandom(5, tc.n, tc.m)
		if len(a) != tc.m || !slices.IsSorted(a) {
			t.Fatalf("n=%d m=%d: %v not %d sorted indices", tc.n, tc.m, a, tc.m)
		}
		for i := 1; i < len(a); i++ {
			if a[i] == a[i-1] {
				t.Fatalf("n=%d m=%d: repeated index in %v", tc.n, tc.m, a)
			}
		}
		if a[0] < 0 || a[len(a)-1] >= tc.n {
			t.Fatalf("n=%d m=%d: index out of range in %v", tc.n, tc.m, a)
		}
		if b := selectRandom(5, tc.n, tc.m); !slices.Equal(a, b) {
			t.Fatalf("same seed gave %v then %v", a, b)
		}
	}
	if slices.Equal(selectRandom(1, 100, 10), selectRandom(2, 100, 10)) {
		t.Error("seeds 1 and 2 picked the same subset")
	}
}

// TestSelectRandomUniform checks that each of n=10 indices is picked with
// probability m/n = 0.3 over 4,000 seeds: a count of 1,200 with binomial
// standard deviation sqrt(4000*0.3*0.7) = 29, allowed 5 deviations.
func TestSelectRandomUniform(t *testing.T) {
	const seeds, n, m = 4000, 10, 3
	count := make([]int, n)
	for s := 0; s < seeds; s++ {
		for _, i := range selectRandom(int64(s), n, m) {
			count[i]++
		}
	}
	want := float64(seeds * m / n)
	sd := math.Sqrt(seeds * 0.3 * 0.7)
	for i, c := range count {
		if math.Abs(float64(c)-want) > 5*sd {
			t.Errorf("index %d picked %d times, want %g ± %g", i, c, want, 5*sd)
		}
	}
}

// TestBoundedUint checks Lemire's bounded draw for n = 3 (not a power of
// two, so the rejection step matters) over 30,000 draws: each value about
// 10,000 times, within 5 binomial standard deviations (81.6).
func TestBoundedUint(t *testing.T) {
	g := rand.NewPCG(1, 2)
	var count [3]int
	for i := 0; i < 30000; i++ {
		count[boundedUint(g, 3)]++
	}
	sd := math.Sqrt(30000 * (1.0 / 3) * (2.0 / 3))
	for v, c := range count {
		if math.Abs(float64(c)-10000) > 5*sd {
			t.Errorf("value %d drawn %d times, want 10000 ± %g", v, c, 5*sd)
		}
	}
}

// TestSplitMix64 checks the first outputs of SplitMix64 seeded with 0
// against the reference implementation's published sequence
// (https://prng.di.unimi.it/splitmix64.c: next() with x = 0 returns
// 0xe220a8397b1dcdaf, then 0x6e789e6aa1b965f4).
func TestSplitMix64(t *testing.T) {
	if got := splitMix64(0); got != 0xe220a8397b1dcdaf {
		t.Errorf("splitMix64(0) = %#x, want 0xe220a8397b1dcdaf", got)
	}
	if got := splitMix64(0x9e3779b97f4a7c15); got != 0x6e789e6aa1b965f4 {
		t.Errorf("second output = %#x, want 0x6e789e6aa1b965f4", got)
	}
}
