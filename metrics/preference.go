package metrics

import (
	"fmt"
	"math"
)

// Z95 is the two-sided 95% standard normal quantile Φ⁻¹(0.975).
const Z95 = 1.959963984540054

// Wilson returns the Wilson score interval (Wilson 1927; Brown, Cai &
// DasGupta 2001) for a binomial proportion with k successes in n trials
// and normal quantile z (Z95 for 95%):
//
//	p̂ = k/n,  centre = (p̂ + z²/(2n)) / (1 + z²/n)
//	half = z / (1 + z²/n) · sqrt( p̂(1−p̂)/n + z²/(4n²) )
//
// returning [centre − half, centre + half], clamped to [0, 1] against
// rounding. Unlike the Wald interval it stays inside [0, 1] and is
// sensible at k = 0 or k = n. It returns NaN bounds when n < 1, k is
// outside [0, n] or z ≤ 0.
func Wilson(k, n int, z float64) (lo, hi float64) {
	if n < 1 || k < 0 || k > n || !(z > 0) {
		return math.NaN(), math.NaN()
	}
	fn := float64(n)
	p := float64(k) / fn
	z2 := z * z
	den := 1 + z2/fn
	centre := (p + z2/(2*fn)) / den
	half := z / den * math.Sqrt(p*(1-p)/fn+z2/(4*fn*fn))
	return max(0, centre-half), min(1, centre+half)
}

// TwoProportionZ is the pooled two-proportion z-test of H0: p1 = p2
// (e.g. a baseline's preference share in a baseline and a new AMT
// study), with k1 of n1 and k2 of n2 successes:
//
//	p̂ = (k1 + k2)/(n1 + n2),  se = sqrt( p̂(1−p̂)(1/n1 + 1/n2) )
//	z = (k1/n1 − k2/n2) / se,  p = 2(1 − Φ(|z|)) = erfc(|z|/√2)
//
// (Agresti, Categorical Data Analysis), a normal approximation fit for n·p̂ and
// n·(1−p̂) ≥ 5 in both groups. When se = 0 (both groups all successes or
// all failures) it returns z = 0, p = 1. It returns an error when a
// count is out of range.
func TwoProportionZ(k1, n1, k2, n2 int) (z, p float64, err error) {
	if n1 < 1 || n2 < 1 || k1 < 0 || k1 > n1 || k2 < 0 || k2 > n2 {
		return 0, 0, fmt.Errorf("metrics: two-proportion test: counts %d/%d and %d/%d out of range", k1, n1, k2, n2)
	}
	f1, f2 := float64(n1), float64(n2)
	pool := float64(k1+k2) / (f1 + f2)
	se := math.Sqrt(pool * (1 - pool) * (1/f1 + 1/f2))
	if se == 0 {
		return 0, 1, nil
	}
	z = (float64(k1)/f1 - float64(k2)/f2) / se
	return z, math.Erfc(math.Abs(z) / math.Sqrt2), nil
}

// Judgment is one worker's answer to one two-alternative question.
type Judgment struct {
	// Question and Worker identify the question and the worker (any
	// integers; they need not be dense).
	Question, Worker int
	// Prefer is true when the worker preferred the output of interest
	// (the baseline over the reference).
	Prefer bool
}

// PreferenceBootstrap returns a 95% percentile bootstrap interval for the
// share of judgments that prefer, resampling questions and workers
// (the two-way "pigeonhole" bootstrap of Owen, Ann. Appl. Stat. 2007,
// for crossed random effects): each of resamples
// replicates draws the distinct questions with replacement (question q
// drawn c_q times) and, independently, the distinct workers with
// replacement (c_w times), and computes
//
//	θ* = Σ_j c_{q(j)} c_{w(j)} [prefer_j] / Σ_j c_{q(j)} c_{w(j)}
//
// over all judgments j. This accounts for both question difficulty and
// worker bias, so it is wider than the Wilson interval when either
// varies. A replicate in which no drawn worker answered a drawn question
// has no value and is dropped; the interval uses the rest. It returns
// NaN bounds when there are no judgments, resamples < 1 or every
// replicate was dropped.
func PreferenceBootstrap(judgments []Judgment, resamples int, seed uint64) (lo, hi float64) {
	if len(judgments) == 0 || resamples < 1 {
		return math.NaN(), math.NaN()
	}
	qIndex := map[int]int{}
	wIndex := map[int]int{}
	qs := make([]int, len(judgments))
	ws := make([]int, len(judgments))
	for j, jd := range judgments {
		qi, ok := qIndex[jd.Question]
		if !ok {
			qi = len(qIndex)
			qIndex[jd.Question] = qi
		}
		wi, ok := wIndex[jd.Worker]
		if !ok {
			wi = len(wIndex)
			wIndex[jd.Worker] = wi
		}
		qs[j], ws[j] = qi, wi
	}
	nq, nw := len(qIndex), len(wIndex)
	cq := make([]float64, nq)
	cw := make([]float64, nw)
	r := newRand(seed)
	reps := make([]float64, 0, resamples)
	for range resamples {
		clear(cq)
		clear(cw)
		for range nq {
			cq[r.IntN(nq)]++
		}
		for range nw {
			cw[r.IntN(nw)]++
		}
		var num, den float64
		for j, jd := range judgments {
			w := cq[qs[j]] * cw[ws[j]]
			den += w
			if jd.Prefer {
				num += w
			}
		}
		if den > 0 {
			reps = append(reps, num/den)
		}
	}
	ci := PercentileInterval(reps, 0.95)
	return ci[0], ci[1]
}
