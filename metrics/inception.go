package metrics

import (
	"fmt"
	"math"

	"github.com/munit-eval/munit-eval/warning"
)

// MUNITScores holds the Inception Score and Conditional Inception Score
// of the MUNIT paper (Huang, Liu, Belongie, Kautz, "Multimodal
// Unsupervised Image-to-Image Translation", ECCV 2018, §5.1) for one set
// of M inputs × K samples, as computed by [ScoreMUNIT].
type MUNITScores struct {
	// IS = mean_i mean_k KL(p_ik || q), in nats (the paper's tables).
	IS float64
	// ISExp = exp(IS) (what the official evaluation script prints).
	ISExp float64
	// CIS = mean_i mean_k KL(p_ik || q_i), in nats (the paper's tables).
	CIS float64
	// CISExp = exp(CIS).
	CISExp float64
	// ISMeanOverInputsOfExp = mean_i exp(mean_k KL(p_ik || q)), a variant
	// some re-implementations report; kept for comparison only.
	ISMeanOverInputsOfExp float64
	// CISMeanOverInputsOfExp = mean_i exp(mean_k KL(p_ik || q_i)).
	CISMeanOverInputsOfExp float64
	// ISPerInput[i] = mean_k KL(p_ik || q).
	ISPerInput []float64
	// CISPerInput[i] = mean_k KL(p_ik || q_i).
	CISPerInput []float64
	// Marginal is q = mean_i q_i, the classifier's marginal over all
	// samples.
	Marginal []float64
	// Inputs, Samples and Classes are M, K and C.
	Inputs, Samples, Classes int
	// Warnings are things a reader must know that did not stop the
	// computation (one sample per input, classes never predicted).
	Warnings []warning.Warning

	inputMarginal [][]float64 // q_i
	negEntropy    []float64   // mean_k Σ_c p_ikc ln p_ikc
	probs         [][][]float64
}

// ScoreMUNIT computes the MUNIT paper's IS and CIS (docs/metrics.md) from a
// probability tensor probs[i][k][c] (M inputs, K samples per input, C
// classes; p_ik = softmax of the classifier's logits for sample k of
// input i):
//
//	q_i = mean_k p_ik                       (p(y | x1), per input)
//	q   = mean_i q_i                        (p(y), over all samples)
//	CIS = mean_i mean_k KL(p_ik || q_i)
//	IS  = mean_i mean_k KL(p_ik || q)
//
// with natural logarithms and 0·ln 0 = 0 (see [KL]), plus exp(IS) and
// exp(CIS). Every input must have the same K ≥ 1 and every row the same
// C ≥ 1; rows must be finite, non-negative and sum to 1 within 1e-6.
// Closed forms: K confident samples spread evenly over C classes within
// every input give CIS = IS = ln C; one class per input, the inputs
// spread evenly over C classes, gives CIS = 0 and IS = ln C.
func ScoreMUNIT(probs [][][]float64) (*MUNITScores, error) {
	m := len(probs)
	if m == 0 {
		return nil, fmt.Errorf("metrics: IS/CIS: no inputs")
	}
	k := len(probs[0])
	if k == 0 {
		return nil, fmt.Errorf("metrics: IS/CIS: input 0 has no samples")
	}
	c := len(probs[0][0])
	if c == 0 {
		return nil, fmt.Errorf("metrics: IS/CIS: input 0 sample 0 has no classes")
	}
	for i, in := range probs {
		if len(in) != k {
			return nil, fmt.Errorf("metrics: IS/CIS: input %d has %d samples, input 0 has %d", i, len(in), k)
		}
		for j, row := range in {
			if len(row) != c {
				return nil, fmt.Errorf("metrics: IS/CIS: input %d sample %d has %d classes, want %d", i, j, len(row), c)
			}
			if err := checkProbRow(row); err != nil {
				return nil, fmt.Errorf("metrics: IS/CIS: input %d sample %d: %w", i, j, err)
			}
		}
	}

	s := &MUNITScores{
		probs:  probs,
		Inputs: m, Samples: k, Classes: c,
		ISPerInput:    make([]float64, m),
		CISPerInput:   make([]float64, m),
		Marginal:      make([]float64, c),
		inputMarginal: make([][]float64, m),
		negEntropy:    make([]float64, m),
	}
	// q_i and q.
	for i, in := range probs {
		qi := make([]float64, c)
		for _, row := range in {
			for cl, v := range row {
				qi[cl] += v
			}
		}
		for cl := range qi {
			qi[cl] /= float64(k)
			s.Marginal[cl] += qi[cl]
		}
		s.inputMarginal[i] = qi
	}
	for cl := range s.Marginal {
		s.Marginal[cl] /= float64(m)
	}
	logQ := logOrZero(s.Marginal)

	// KL(p||q) = Σ p ln p − Σ p ln q, with terms where p = 0 dropped
	// (q = 0 implies p = 0 here, since q_i and q average p).
	top := make([]int, c)
	logQi := make([]float64, c)
	for i, in := range probs {
		copyLogOrZero(logQi, s.inputMarginal[i])
		var sumIS, sumCIS, sumNegEnt float64
		for _, row := range in {
			var ne, cq, cqi float64
			best := 0
			for cl, v := range row {
				if v > row[best] {
					best = cl
				}
				if v == 0 {
					continue
				}
				lv := math.Log(v)
				ne += v * lv
				cq += v * logQ[cl]
				cqi += v * logQi[cl]
			}
			top[best]++
			sumNegEnt += ne
			sumIS += ne - cq
			sumCIS += ne - cqi
		}
		s.negEntropy[i] = sumNegEnt / float64(k)
		s.ISPerInput[i] = sumIS / float64(k)
		s.CISPerInput[i] = sumCIS / float64(k)
	}
	s.IS = Mean(s.ISPerInput)
	s.CIS = Mean(s.CISPerInput)
	s.ISExp = math.Exp(s.IS)
	s.CISExp = math.Exp(s.CIS)
	for i := range m {
		s.ISMeanOverInputsOfExp += math.Exp(s.ISPerInput[i])
		s.CISMeanOverInputsOfExp += math.Exp(s.CISPerInput[i])
	}
	s.ISMeanOverInputsOfExp /= float64(m)
	s.CISMeanOverInputsOfExp /= float64(m)

	if k == 1 {
		s.Warnings = append(s.Warnings, warning.New(CodeOneSample, SubjectIS, "one sample per input: CIS is 0 by definition"))
	}
	var never []int
	for cl, n := range top {
		if n == 0 {
			never = append(never, cl)
		}
	}
	if len(never) > 0 {
		s.Warnings = append(s.Warnings, NeverPredicted(never, c, nil))
	}
	return s, nil
}

func logOrZero(q []float64) []float64 {
	l := make([]float64, len(q))
	copyLogOrZero(l, q)
	return l
}

// copyLogOrZero sets dst[j] = ln q[j], or 0 where q[j] = 0 (such terms
// are multiplied by p = 0).
func copyLogOrZero(dst, q []float64) {
	for j, v := range q {
		if v > 0 {
			dst[j] = math.Log(v)
		} else {
			dst[j] = 0
		}
	}
}

// MUNITBootstrap holds bootstrap replicates of IS and CIS over inputs and
// their percentile intervals.
type MUNITBootstrap struct {
	// IS and CIS are the replicates, in nats.
	IS, CIS []float64
	// ISCI and CISCI are the percentile intervals at Level, in nats; the
	// exp() forms' intervals are exp of these bounds.
	ISCI, CISCI [2]float64
	// Level is the interval's confidence level, e.g. 0.95.
	Level float64
}

// Bootstrap resamples the M inputs with replacement ([BootstrapGroups],
// seeded), recomputing for each replicate
//
//	CIS* = mean_{i ∈ R} CIS_i
//	IS*  = mean_{i ∈ R} mean_k Σ_c p_ikc ln p_ikc − Σ_c q*_c ln q*_c,
//	       q* = mean_{i ∈ R} q_i
//
// (IS* is mean KL(p_ik || q*) expanded, so the marginal is refitted to
// each resample, as the score itself would be on those inputs), and the
// [PercentileInterval]s at level. Inputs are the independent units; the K
// samples of one input move together. It returns an error when resamples
// < 1 or level is outside (0, 1).
func (s *MUNITScores) Bootstrap(resamples int, seed uint64, level float64) (*MUNITBootstrap, error) {
	if resamples < 1 {
		return nil, fmt.Errorf("metrics: IS/CIS bootstrap: %d resamples, need at least 1", resamples)
	}
	if !(level > 0 && level < 1) {
		return nil, fmt.Errorf("metrics: IS/CIS bootstrap: level %v outside (0, 1)", level)
	}
	if len(s.inputMarginal) != s.Inputs || s.Inputs == 0 {
		return nil, fmt.Errorf("metrics: IS/CIS bootstrap: scores were not computed by ScoreMUNIT")
	}
	qs := make([]float64, s.Classes)
	b := &MUNITBootstrap{Level: level}
	b.CIS = BootstrapGroups(s.Inputs, resamples, seed, func(idx []int) float64 {
		var t float64
		for _, i := range idx {
			t += s.CISPerInput[i]
		}
		return t / float64(len(idx))
	})
	b.IS = BootstrapGroups(s.Inputs, resamples, seed, func(idx []int) float64 {
		return s.resampledIS(idx, qs)
	})
	b.ISCI = PercentileInterval(b.IS, level)
	b.CISCI = PercentileInterval(b.CIS, level)
	return b, nil
}

// resampledIS is IS over the inputs idx (with repeats):
// mean_{i∈idx} negEntropy_i − Σ_c q*_c ln q*_c, q* = mean_{i∈idx} q_i.
// qs is scratch of length Classes.
func (s *MUNITScores) resampledIS(idx []int, qs []float64) float64 {
	clear(qs)
	var ne float64
	for _, i := range idx {
		ne += s.negEntropy[i]
		for cl, v := range s.inputMarginal[i] {
			qs[cl] += v
		}
	}
	n := float64(len(idx))
	var h float64
	for _, v := range qs {
		if v > 0 {
			v /= n
			h -= v * math.Log(v)
		}
	}
	return ne/n + h
}

// MUNITJackknife holds the bias-corrected IS and CIS and the intervals
// whose coverage of the population values is measured (see
// [MUNITScores.Jackknife]).
type MUNITJackknife struct {
	// IS and CIS are the jackknife bias-corrected estimates, in nats.
	IS, CIS float64
	// ISBias and CISBias are the estimated biases of the plug-in values:
	// plug-in − corrected (≤ 0 when the plug-in underestimates).
	ISBias, CISBias float64
	// ISCI and CISCI are Student-t intervals at Level around the corrected
	// estimates, in nats, clamped to [0, ln C].
	ISCI, CISCI [2]float64
	// ISHalfWidth and CISHalfWidth are the intervals' half-widths before
	// clamping: Student's t times the jackknife standard error (the
	// interval for the expectation of a plug-in value is the plug-in ±
	// them).
	ISHalfWidth, CISHalfWidth float64
	// Level is the intervals' confidence level.
	Level float64
}

// Jackknife returns bias-corrected IS and CIS with intervals for their
// population values (K → ∞ samples per input, M → ∞ inputs). The plug-in
// scores are biased low: the entropy of an estimated marginal
// underestimates the entropy of the true one (for hard predictions by
// (C−1)/(2n) with n draws, Miller 1955), and both scores are that entropy
// minus the mean entropy of the rows, which is unbiased. Writing
// H(q) = −Σ_c q_c ln q_c and h_ik = H(p_ik):
//
// CIS: per input i, the second-order jackknife of the entropy of q_i over
// its K samples ([jackknifeEntropy]: the bias terms in 1/K and 1/K² are
// removed; the first-order jackknife alone left a bias of order 1/K² that,
// summed over 100 inputs of 10 samples, dominated the interval's width),
//
//	CIS_i^J  = H_J(q_i) − mean_k h_ik
//	CIS^J    = mean_i CIS_i^J,  CI: CIS^J ± t_{M−1} · sd_i(CIS_i^J)/sqrt(M)
//
// (inputs are independent; K ≥ 2 is needed, else the interval is NaN).
// The bias removed is about (C−1)/(2K) per input for confident
// predictions, Σ_c Var_k(p_ikc)/(2K q_ic) in general.
//
// IS: the delete-one-input jackknife over the M inputs (the K samples of
// an input move together, as they are dependent), with
// IS^(−i) = H(q^(−i)) − mean_{i' ≠ i} mean_k h_i'k, q^(−i) = (M q − q_i)/(M−1):
//
//	IS^J = M·IS − (M−1)·mean_i IS^(−i)
//	se_J = sqrt( (M−1)/M · Σ_i (IS^(−i) − mean IS^(−·))² )
//	CI:    IS^J ± t_{M−1} · se_J
//
// The bias removed is of order (C−1)/(2N) for N samples spread evenly, and
// more when inputs cluster their samples in few classes. With M < 2 the
// IS interval is NaN. Both scores lie in [0, ln C] (IS ≤ H(q) ≤ ln C), and
// the corrected values and the bounds are clamped to it: with few inputs
// that each hold one class, the jackknife extrapolates beyond ln C. It returns an error for a level outside (0, 1) or
// scores not computed by ScoreMUNIT.
func (s *MUNITScores) Jackknife(level float64) (*MUNITJackknife, error) {
	if !(level > 0 && level < 1) {
		return nil, fmt.Errorf("metrics: IS/CIS jackknife: level %v outside (0, 1)", level)
	}
	if len(s.probs) != s.Inputs || s.Inputs == 0 {
		return nil, fmt.Errorf("metrics: IS/CIS jackknife: scores were not computed by ScoreMUNIT")
	}
	m, k, c := s.Inputs, s.Samples, s.Classes
	lnC := math.Log(float64(c))
	nan := [2]float64{math.NaN(), math.NaN()}
	j := &MUNITJackknife{Level: level, ISCI: nan, CISCI: nan, IS: math.NaN(), CIS: math.NaN()}

	// CIS: jackknife over the samples of each input.
	if k >= 2 {
		cisJ := make([]float64, m)
		scratch := make([]float64, c)
		for i, in := range s.probs {
			cisJ[i] = jackknifeEntropy(in, s.inputMarginal[i], scratch) + s.negEntropy[i]
		}
		j.CIS = clampTo(Mean(cisJ), lnC)
		j.CISBias = s.CIS - j.CIS
		if m >= 2 {
			_, ci := tIntervalAround(Mean(cisJ), Std(cisJ)/math.Sqrt(float64(m)), float64(m-1), level)
			j.CISCI = [2]float64{clampTo(ci[0], lnC), clampTo(ci[1], lnC)}
			j.CISHalfWidth = (ci[1] - ci[0]) / 2
		}
	}

	// IS: jackknife over inputs.
	if m >= 2 {
		fm := float64(m)
		var ne float64
		for _, v := range s.negEntropy {
			ne += v
		}
		loo := make([]float64, c)
		isLOO := make([]float64, m)
		for i := range m {
			for cl := range loo {
				loo[cl] = (fm*s.Marginal[cl] - s.inputMarginal[i][cl]) / (fm - 1)
			}
			isLOO[i] = entropy(loo) + (ne-s.negEntropy[i])/(fm-1)
		}
		mean := Mean(isLOO)
		isJ := fm*s.IS - (fm-1)*mean
		j.IS = clampTo(isJ, lnC)
		j.ISBias = s.IS - j.IS
		se := math.Sqrt((fm - 1) / fm * sumSqDev(isLOO))
		_, ci := tIntervalAround(isJ, se, fm-1, level)
		j.ISCI = [2]float64{clampTo(ci[0], lnC), clampTo(ci[1], lnC)}
		j.ISHalfWidth = (ci[1] - ci[0]) / 2
	}
	return j, nil
}

// entropy returns H(q) = −Σ_c q_c ln q_c with 0·ln 0 = 0; tiny negative
// values from rounding in a leave-one-out marginal count as 0.
func entropy(q []float64) float64 {
	var h float64
	for _, v := range q {
		if v > 0 {
			h -= v * math.Log(v)
		}
	}
	return h
}

// tIntervalAround is [TInterval] for an estimate with standard error se,
// returning [v, v] when se is 0.
func tIntervalAround(v, se, df, level float64) (float64, [2]float64) {
	if se == 0 {
		return 1, [2]float64{v, v}
	}
	return TInterval(v, se, df, level)
}

// jackknifeEntropy returns the generalised (Schucany–Gray) jackknife of
// the entropy of q = mean_k rows[k] over its K rows: with T_n the mean
// plug-in entropy H over the marginals of all subsets of n rows
// (T_K = H(q), T_{K−1} over the K leave-one-out marginals
// (K q − p_k)/(K−1), T_{K−2} over the K(K−1)/2 leave-two-out marginals
// (K q − p_k − p_l)/(K−2)), and E T_n = H + a/n + b/n² + O(n⁻³), it
// extrapolates T to 1/n = 0 through the three points (Lagrange):
//
//	H_J = Σ_j w_j T_{n_j},  w_j = Π_{l≠j} x_l / (x_l − x_j),  x_j = 1/n_j.
//
// With K = 2 only the first two points are used (Quenouille's
// K·T_K − (K−1)·T_{K−1}); with K = 1 it returns H(q). The leave-two-out
// sum costs K²·C/2 logarithms. scratch has length C.
func jackknifeEntropy(rows [][]float64, q, scratch []float64) float64 {
	k := len(rows)
	tK := entropy(q)
	if k < 2 {
		return tK
	}
	fk := float64(k)
	var t1 float64
	for _, row := range rows {
		for cl := range scratch {
			scratch[cl] = (fk*q[cl] - row[cl]) / (fk - 1)
		}
		t1 += entropy(scratch)
	}
	t1 /= fk
	if k < 3 {
		return fk*tK - (fk-1)*t1
	}
	var t2 float64
	for a := range k {
		for b := a + 1; b < k; b++ {
			for cl := range scratch {
				scratch[cl] = (fk*q[cl] - rows[a][cl] - rows[b][cl]) / (fk - 2)
			}
			t2 += entropy(scratch)
		}
	}
	t2 /= fk * (fk - 1) / 2
	x := [3]float64{1 / fk, 1 / (fk - 1), 1 / (fk - 2)}
	t := [3]float64{tK, t1, t2}
	var h float64
	for j := range 3 {
		w := 1.0
		for l := range 3 {
			if l != j {
				w *= x[l] / (x[l] - x[j])
			}
		}
		h += w * t[j]
	}
	return h
}

// clampTo returns v limited to [0, hi].
func clampTo(v, hi float64) float64 { return max(0, min(v, hi)) }
