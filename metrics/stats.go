package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Mean returns the arithmetic mean (1/N) Σ x_i, accumulated in float64.
// It returns NaN for an empty slice.
func Mean(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// Std returns the sample standard deviation
//
//	s = sqrt( Σ (x_i − x̄)² / (N − 1) )
//
// (Bessel's correction, numpy's std with ddof=1), computed in two passes.
// It returns NaN when N < 2.
func Std(x []float64) float64 {
	if len(x) < 2 {
		return math.NaN()
	}
	return math.Sqrt(sumSqDev(x) / float64(len(x)-1))
}

// PopulationStd returns the population standard deviation
//
//	σ = sqrt( Σ (x_i − x̄)² / N )
//
// (numpy's default np.std, ddof=0), as torch-fidelity reports over splits
// and subsets. It returns NaN for an empty slice.
func PopulationStd(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	return math.Sqrt(sumSqDev(x) / float64(len(x)))
}

func sumSqDev(x []float64) float64 {
	m := Mean(x)
	var s float64
	for _, v := range x {
		d := v - m
		s += d * d
	}
	return s
}

// StdErr returns the standard error of the mean, s / sqrt(N), with s the
// sample standard deviation of [Std]. It returns NaN when N < 2.
func StdErr(x []float64) float64 {
	return Std(x) / math.Sqrt(float64(len(x)))
}

// ClusteredStdErr returns the standard error of the mean of every value of
// groups (clusters: the pairs of one input share its samples, so they are
// not independent), the cluster-robust estimate with the usual G/(G−1)
// small-sample factor (CR1; Cameron & Miller 2015, eq. 11):
//
//	ȳ = Σ_ij y_ij / N,   e_i = Σ_j (y_ij − ȳ),
//	SE² = G/(G−1) · Σ_i e_i² / N²,
//
// over G non-empty groups of N values in all. With equal group sizes it is
// the standard error of the group means, s(ȳ_i)/sqrt(G), which is what a
// bootstrap over groups estimates. It returns NaN when G < 2.
func ClusteredStdErr(groups [][]float64) float64 {
	var n, g int
	var sum float64
	for _, x := range groups {
		if len(x) == 0 {
			continue
		}
		g++
		n += len(x)
		for _, v := range x {
			sum += v
		}
	}
	if g < 2 {
		return math.NaN()
	}
	mean := sum / float64(n)
	var ss float64
	for _, x := range groups {
		var e float64
		for _, v := range x {
			e += v - mean
		}
		ss += e * e
	}
	return math.Sqrt(float64(g) / float64(g-1) * ss / (float64(n) * float64(n)))
}

// Percentile returns the p-th percentile (0 ≤ p ≤ 100) of x by linear
// interpolation between order statistics, numpy's default ("linear",
// Hyndman & Fan 1996 definition 7):
//
//	h = (N − 1)·p/100,  Q = x_(⌊h⌋) + (h − ⌊h⌋)·(x_(⌊h⌋+1) − x_(⌊h⌋))
//
// with x_(0) ≤ … ≤ x_(N−1) the sorted values. x is not modified. It
// returns NaN for an empty slice, for p outside [0, 100], or when x holds
// NaN.
func Percentile(x []float64, p float64) float64 {
	if len(x) == 0 || !(p >= 0 && p <= 100) {
		return math.NaN()
	}
	s := slices.Clone(x)
	for _, v := range s {
		if math.IsNaN(v) {
			return math.NaN()
		}
	}
	slices.Sort(s)
	return percentileSorted(s, p)
}

func percentileSorted(s []float64, p float64) float64 {
	h := float64(len(s)-1) * p / 100
	lo := math.Floor(h)
	i := int(lo)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[i] + (h-lo)*(s[i+1]-s[i])
}

// PercentileInterval returns the central percentile interval of x at the
// given level (0 < level < 1): the [Percentile] at 100·(1−level)/2 and at
// 100·(1+level)/2. For bootstrap replicates this is Efron's percentile
// interval (Efron & Tibshirani 1993, §13.3). It returns NaN bounds for
// an empty x or a level outside (0, 1).
func PercentileInterval(x []float64, level float64) [2]float64 {
	nan := [2]float64{math.NaN(), math.NaN()}
	if len(x) == 0 || !(level > 0 && level < 1) {
		return nan
	}
	s := slices.Clone(x)
	for _, v := range s {
		if math.IsNaN(v) {
			return nan
		}
	}
	slices.Sort(s)
	return [2]float64{percentileSorted(s, 100*(1-level)/2), percentileSorted(s, 100*(1+level)/2)}
}

// pcgStream is the second PCG word for every generator of this package,
// so that a caller's seed alone determines the stream.
const pcgStream = 0x6d756e69742d6576 // "munit-ev"

// newRand returns the package's deterministic generator for seed:
// math/rand/v2's PCG seeded with (seed, pcgStream).
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, pcgStream))
}
