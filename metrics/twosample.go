package metrics

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// TTest is the result of [WelchT].
type TTest struct {
	// T is the t statistic, (mean(a) − mean(b)) / se.
	T float64
	// DF is the Welch–Satterthwaite degrees of freedom.
	DF float64
	// P is the two-sided p-value.
	P float64
	// Diff is mean(a) − mean(b) and SE its standard error
	// sqrt(s_a²/n_a + s_b²/n_b).
	Diff, SE float64
}

// Interval returns Welch's interval for E[a] − E[b] at level (e.g. 0.95):
//
//	Diff ± t_{(1+level)/2, DF} · SE
//
// (see [TInterval]); [Diff, Diff] when SE = 0.
func (t TTest) Interval(level float64) [2]float64 {
	if t.SE == 0 {
		return [2]float64{t.Diff, t.Diff}
	}
	_, ci := TInterval(t.Diff, t.SE, t.DF, level)
	return ci
}

// WelchT is Welch's unequal-variances t-test of H0: E[a] = E[b] (Welch
// 1947), as scipy.stats.ttest_ind(a, b, equal_var=False):
//
//	v_a = s_a²/n_a,  v_b = s_b²/n_b   (sample variances, N−1)
//	t  = (ā − b̄) / sqrt(v_a + v_b)
//	df = (v_a + v_b)² / ( v_a²/(n_a−1) + v_b²/(n_b−1) )   (Satterthwaite)
//	p  = 2 · P(T_df > |t|)             (Student's t, gonum distuv.StudentsT)
//
// For the regression gate, a and b are per-input means (independent
// units), not per-pair values. When both variances are 0, it returns
// t = 0, p = 1 if the means are equal and t = ±Inf, p = 0 otherwise. It
// returns an error when a sample has fewer than 2 values or holds NaN or
// Inf.
func WelchT(a, b []float64) (TTest, error) {
	if err := checkSample("a", a, 2); err != nil {
		return TTest{}, fmt.Errorf("metrics: Welch t-test: %w", err)
	}
	if err := checkSample("b", b, 2); err != nil {
		return TTest{}, fmt.Errorf("metrics: Welch t-test: %w", err)
	}
	na, nb := float64(len(a)), float64(len(b))
	va := sumSqDev(a) / (na - 1) / na
	vb := sumSqDev(b) / (nb - 1) / nb
	diff := Mean(a) - Mean(b)
	se2 := va + vb
	if se2 == 0 {
		if diff == 0 {
			return TTest{T: 0, DF: na + nb - 2, P: 1, Diff: 0}, nil
		}
		return TTest{T: math.Copysign(math.Inf(1), diff), DF: na + nb - 2, P: 0, Diff: diff}, nil
	}
	t := diff / math.Sqrt(se2)
	df := WelchSatterthwaiteDF(va, na-1, vb, nb-1)
	return TTest{T: t, DF: df, P: studentTwoSided(t, df), Diff: diff, SE: math.Hypot(StdErr(a), StdErr(b))}, nil
}

// studentTwoSided returns 2·P(T_df > |t|).
func studentTwoSided(t, df float64) float64 {
	st := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}
	return min(1, 2*st.Survival(math.Abs(t)))
}

// UTest is the result of [MannWhitneyU].
type UTest struct {
	// U is U_a = R_a − n_a(n_a+1)/2, the number of pairs (a_i, b_j) with
	// a_i > b_j, ties counting 1/2 (scipy's statistic for x = a).
	U float64
	// Z is the continuity-corrected normal deviate of max(U_a, U_b).
	Z float64
	// P is the two-sided p-value.
	P float64
}

// MannWhitneyU is the Mann–Whitney U (Wilcoxon rank-sum) test of H0: a
// and b come from the same distribution (Mann & Whitney 1947), with the
// normal approximation, the tie correction and the continuity correction,
// as scipy.stats.mannwhitneyu(a, b, method="asymptotic") (two-sided):
//
//	R_a = Σ ranks of a in the pooled sample (midranks for ties)
//	U_a = R_a − n_a(n_a+1)/2,  U_b = n_a n_b − U_a,  U = max(U_a, U_b)
//	μ = n_a n_b / 2
//	σ² = n_a n_b / 12 · ( (n+1) − Σ_t (t³ − t) / (n(n−1)) ),  n = n_a + n_b
//	z = (U − μ − 1/2) / σ,  p = min(1, 2(1 − Φ(z)))
//
// with t the size of each group of tied values. When σ = 0 (all values
// equal) it returns p = 1. It returns an error when a sample is empty or
// holds NaN or Inf.
func MannWhitneyU(a, b []float64) (UTest, error) {
	if err := checkSample("a", a, 1); err != nil {
		return UTest{}, fmt.Errorf("metrics: Mann-Whitney U: %w", err)
	}
	if err := checkSample("b", b, 1); err != nil {
		return UTest{}, fmt.Errorf("metrics: Mann-Whitney U: %w", err)
	}
	type obs struct {
		v   float64
		inA bool
	}
	all := make([]obs, 0, len(a)+len(b))
	for _, v := range a {
		all = append(all, obs{v, true})
	}
	for _, v := range b {
		all = append(all, obs{v, false})
	}
	slices.SortFunc(all, func(x, y obs) int {
		switch {
		case x.v < y.v:
			return -1
		case x.v > y.v:
			return 1
		}
		return 0
	})
	var ra, ties float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+j+1) / 2 // mean of 1-based ranks i+1 … j
		for _, o := range all[i:j] {
			if o.inA {
				ra += rank
			}
		}
		t := float64(j - i)
		ties += t*t*t - t
		i = j
	}
	na, nb := float64(len(a)), float64(len(b))
	n := na + nb
	ua := ra - na*(na+1)/2
	u := max(ua, na*nb-ua)
	mu := na * nb / 2
	sigma := math.Sqrt(na * nb / 12 * ((n + 1) - ties/(n*(n-1))))
	if sigma == 0 || math.IsNaN(sigma) {
		return UTest{U: ua, Z: 0, P: 1}, nil
	}
	z := (u - mu - 0.5) / sigma
	p := min(1, math.Erfc(z/math.Sqrt2))
	return UTest{U: ua, Z: z, P: p}, nil
}

func checkSample(name string, x []float64, minN int) error {
	if len(x) < minN {
		return fmt.Errorf("sample %s has %d values, need at least %d", name, len(x), minN)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("sample %s value %d is %v", name, i, v)
		}
	}
	return nil
}
