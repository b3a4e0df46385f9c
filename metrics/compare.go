package metrics

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// This file holds the statistics of the regression gate (gate/ chooses
// which test applies to which metric and turns the outcome into a
// verdict; the arithmetic lives here).

// WelchSatterthwaiteDF returns the Welch–Satterthwaite degrees of freedom
// of the sum of two independent variance estimates v1, v2 (variances of
// two estimators, e.g. s²/n each) with df1 and df2 degrees of freedom
// (Satterthwaite 1946; Welch 1947):
//
//	df = (v1 + v2)² / ( v1²/df1 + v2²/df2 )
//
// It returns +Inf when the denominator is 0 (both variances 0, or both
// df infinite) and NaN when an input is NaN or a df is not positive.
func WelchSatterthwaiteDF(v1, df1, v2, df2 float64) float64 {
	if math.IsNaN(v1+v2+df1+df2) || !(df1 > 0 && df2 > 0) {
		return math.NaN()
	}
	d := v1*v1/df1 + v2*v2/df2
	if d == 0 {
		return math.Inf(1)
	}
	return (v1 + v2) * (v1 + v2) / d
}

// TInterval is the two-sided test of H0: θ = 0 and the interval at level
// for an estimate delta with standard error se > 0 and df degrees of
// freedom (Student's t; the normal distribution when df is +Inf, NaN or
// above 1e7, where gonum's quantile fails and the difference is below
// 1e−6):
//
//	t = |delta| / se,  p = 2 · P(T_df > t)
//	[delta − q·se, delta + q·se],  q = t_{(1+level)/2, df}
//
// df below 1 is clamped to 1 (Welch's df is at least min(n)−1 ≥ 1; less
// only comes from rounding). It returns p = NaN and NaN bounds when se is
// not positive and finite or level is outside (0, 1).
func TInterval(delta, se, df, level float64) (p float64, ci [2]float64) {
	nan := [2]float64{math.NaN(), math.NaN()}
	if !(se > 0) || math.IsInf(se, 0) || !(level > 0 && level < 1) || math.IsNaN(delta) {
		return math.NaN(), nan
	}
	t := math.Abs(delta / se)
	var q float64
	if math.IsNaN(df) || df > 1e7 {
		p = math.Erfc(t / math.Sqrt2)
		q = normalQuantile((1 + level) / 2)
	} else {
		st := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: math.Max(df, 1)}
		p, q = min(1, 2*st.Survival(t)), st.Quantile((1+level)/2)
	}
	return p, [2]float64{delta - q*se, delta + q*se}
}

// WelchDiffTest is Welch's test of H0: θ₁ = θ₂ from the difference delta
// of two independent estimates whose variances v1, v2 (squared standard
// errors: bootstrap, jackknife) rest on df1 and df2 degrees of freedom
// (+Inf for a variance taken as known), with the interval at level
// (Welch 1947; Satterthwaite 1946):
//
//	se = sqrt(v1 + v2)
//	df = (v1 + v2)² / ( v1²/df1 + v2²/df2 )   ([WelchSatterthwaiteDF])
//	p  = 2 · P(T_df > |delta|/se),  delta ± t_{(1+level)/2, df} · se   ([TInterval])
//
// With se = 0 the difference is exact: p = 1 and [0, 0] when delta = 0,
// p = 0 and [delta, delta] otherwise (as [NormalInterval]).
func WelchDiffTest(delta, v1, df1, v2, df2, level float64) (p float64, ci [2]float64) {
	se := math.Sqrt(v1 + v2)
	if se == 0 {
		return NormalInterval(delta, 0, level)
	}
	return TInterval(delta, se, WelchSatterthwaiteDF(v1, df1, v2, df2), level)
}

// BootstrapVariance returns the variance of an estimator over n
// independent units estimated from its bootstrap replicates θ*_b:
//
//	v = s²(θ*) · n/(n − 1)
//
// with s² the sample variance (B − 1) of the replicates. The ideal
// bootstrap variance of a mean over n units is (n−1)/n · s²_x/n, the
// plug-in estimate (Efron & Tibshirani 1993, §5.2), so the factor
// n/(n−1) makes it the usual unbiased s²_x/n. With n < 2 (unknown) the
// factor is omitted. It returns NaN for fewer than 2 replicates.
func BootstrapVariance(replicates []float64, n int) float64 {
	s := Std(replicates)
	v := s * s
	if n >= 2 {
		v *= float64(n) / float64(n-1)
	}
	return v
}

// KIDVariance estimates the run-to-run variance of KID (the mean over S
// subsets of size m drawn without replacement from n samples) from the
// spread s² (sample variance) of its subset values. Treating each subset
// value as a U-statistic whose variance is c/m (its leading term; Serfling
// 1980, ch. 5), the spread within one sample is s² ≈ c(1/m − 1/n), the
// full-sample estimate varies by c/n between runs and the subset draw
// adds s²/S:
//
//	Var(KID) ≈ c/n + s²/S = s² · ( m/(n − m) + 1/S )
//
// This is conservative when the generated and real sets are close (the
// variance then falls as 1/m², and the real set does not change between
// runs). A variance of s²/S alone ignores that all subsets come from the
// same samples (with m close to n, every subset is nearly the whole set).
// It returns false when the variance cannot be estimated (m ≥ n, m < 2,
// fewer than 2 subsets).
func KIDVariance(values []float64, m, n int) (float64, bool) {
	s := len(values)
	if s < 2 || m < 2 || n <= m {
		return 0, false
	}
	sd := Std(values)
	return sd * sd * (float64(m)/float64(n-m) + 1/float64(s)), true
}

// NewcombeDiff returns Newcombe's hybrid score interval (Newcombe 1998,
// method 10) for the difference of two independent binomial proportions
// p1 − p2, with k1 of n1 and k2 of n2 successes, from the [Wilson]
// intervals (l_i, u_i) at normal quantile z:
//
//	Δ = p1 − p2
//	[Δ − sqrt((p1 − l1)² + (u2 − p2)²),  Δ + sqrt((u1 − p1)² + (p2 − l2)²)]
//
// It returns NaN bounds when a count is out of range.
func NewcombeDiff(k1, n1, k2, n2 int, z float64) (lo, hi float64) {
	l1, u1 := Wilson(k1, n1, z)
	l2, u2 := Wilson(k2, n2, z)
	if math.IsNaN(l1) || math.IsNaN(l2) {
		return math.NaN(), math.NaN()
	}
	p1, p2 := float64(k1)/float64(n1), float64(k2)/float64(n2)
	d := p1 - p2
	return d - math.Hypot(p1-l1, u2-p2), d + math.Hypot(u1-p1, p2-l2)
}

// Holm returns Holm's step-down adjusted p-values (Holm 1979) in the order
// of p. With the m p-values sorted, p_(1) ≤ … ≤ p_(m),
//
//	p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) · p_(j))
//
// and rejecting where p̃ < alpha keeps the family-wise error rate (the
// probability that any true null is rejected) at most alpha, for any
// dependence between the tests. Ties keep their input order. NaN
// p-values are not allowed (the result is then NaN for them and for
// every larger one).
func Holm(p []float64) []float64 {
	m := len(p)
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return p[order[a]] < p[order[b]] })
	adj := make([]float64, m)
	running := 0.0
	for rank, i := range order {
		running = math.Max(running, math.Min(1, float64(m-rank)*p[i]))
		adj[i] = running
	}
	return adj
}

// IntervalComparison is the result of [CompareIntervals].
type IntervalComparison struct {
	// Significant is true when the two intervals, widened to level
	// 1 − alpha, do not overlap.
	Significant bool
	// DeltaCI is the interval of new − base obtained by adding the
	// half-widths of the stored intervals.
	DeltaCI [2]float64
}

// CompareIntervals compares two estimates by their stored intervals at
// level (e.g. 0.95), when nothing else is known about them: each interval
// [lo, hi] around its value v is widened to the 1 − alpha level as
//
//	[v − r(v − lo), v + r(hi − v)],  r = z_{1−alpha/2} / z_{(1+level)/2}
//
// and the difference is significant when the two widened intervals do not
// overlap. Non-overlap of two intervals implies significance at a level
// below alpha (Schenker & Gentleman 2001), so the comparison is
// conservative. The interval of Δ = new − base adds the half-widths:
//
//	[Δ − (n − lo_n) − (hi_b − b),  Δ + (hi_n − n) + (b − lo_b)].
//
// It returns false when an interval does not contain its value (asymmetric
// intervals are fine) or alpha or level is outside (0, 1).
func CompareIntervals(base float64, baseCI [2]float64, new float64, newCI [2]float64, alpha, level float64) (IntervalComparison, bool) {
	bl, bh := base-baseCI[0], baseCI[1]-base
	nl, nh := new-newCI[0], newCI[1]-new
	if !(bl >= 0 && bh >= 0 && nl >= 0 && nh >= 0) || !(alpha > 0 && alpha < 1) || !(level > 0 && level < 1) {
		return IntervalComparison{}, false
	}
	d := new - base
	out := IntervalComparison{DeltaCI: [2]float64{d - nl - bh, d + nh + bl}}
	r := normalQuantile(1-alpha/2) / normalQuantile((1+level)/2)
	switch {
	case new > base:
		out.Significant = new-r*nl > base+r*bh
	case new < base:
		out.Significant = new+r*nh < base-r*bl
	}
	return out, true
}

// normalQuantile is Φ⁻¹(p), exactly [Z95] at p = 0.975 so that 95%
// intervals agree to the last bit wherever they are computed.
func normalQuantile(p float64) float64 {
	if p == 0.975 {
		return Z95
	}
	return distuv.UnitNormal.Quantile(p)
}

// NormalInterval returns the normal-theory interval v ± z_{(1+level)/2}·se
// and the two-sided p-value of H0: v = 0, p = erfc(|v/se|/√2). With se = 0
// it returns [v, v] and p = 1 when v = 0, 0 otherwise. It returns NaN for a
// negative or non-finite se or a level outside (0, 1).
func NormalInterval(v, se, level float64) (p float64, ci [2]float64) {
	switch {
	case se < 0 || math.IsNaN(se) || math.IsInf(se, 0) || !(level > 0 && level < 1):
		return math.NaN(), [2]float64{math.NaN(), math.NaN()}
	case se == 0:
		p = 0
		if v == 0 {
			p = 1
		}
		return p, [2]float64{v, v}
	}
	q := normalQuantile((1 + level) / 2)
	return math.Erfc(math.Abs(v/se) / math.Sqrt2), [2]float64{v - q*se, v + q*se}
}
