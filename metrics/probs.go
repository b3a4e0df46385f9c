package metrics

import (
	"fmt"
	"math"
)

// Class probabilities from classifier logits, the input of the Inception
// Scores (inception.go, splitis.go).

// probSumTol is how far a probability row may sum from 1 before the
// scores reject it.
const probSumTol = 1e-6

// Softmax returns p_j = exp(x_j − m) / Σ_k exp(x_k − m), m = max_k x_k,
// computed in float64 from float32 or float64 logits (subtracting the
// maximum keeps exp from overflowing; the result is the same as torch's
// softmax in float64). Logits must be finite; an empty input gives an
// empty result.
func Softmax[T float32 | float64](logits []T) []float64 {
	p := make([]float64, len(logits))
	if len(logits) == 0 {
		return p
	}
	m := maxOf(logits)
	var s float64
	for j, v := range logits {
		e := math.Exp(float64(v) - m)
		p[j] = e
		s += e
	}
	for j := range p {
		p[j] /= s
	}
	return p
}

// LogSoftmax returns ln p_j = (x_j − m) − ln Σ_k exp(x_k − m),
// m = max_k x_k, in float64 from float32 or float64 logits (the
// log-sum-exp form, exact where ln(Softmax) would underflow to −Inf).
// Logits must be finite; an empty input gives an empty result.
func LogSoftmax[T float32 | float64](logits []T) []float64 {
	lp := make([]float64, len(logits))
	if len(logits) == 0 {
		return lp
	}
	m := maxOf(logits)
	var s float64
	for _, v := range logits {
		s += math.Exp(float64(v) - m)
	}
	ls := math.Log(s)
	for j, v := range logits {
		lp[j] = (float64(v) - m) - ls
	}
	return lp
}

func maxOf[T float32 | float64](x []T) float64 {
	m := float64(x[0])
	for _, v := range x[1:] {
		if float64(v) > m {
			m = float64(v)
		}
	}
	return m
}

// KL returns the Kullback–Leibler divergence in nats
//
//	KL(p || q) = Σ_j p_j (ln p_j − ln q_j)
//
// with the conventions 0·ln(0/q) = 0 and p_j > 0, q_j = 0 ⇒ +Inf
// (Cover & Thomas 2006, §2.3; scipy.stats.entropy(p, q)). p and q are
// used as given (not renormalised). It returns NaN when the lengths
// differ.
func KL(p, q []float64) float64 {
	if len(p) != len(q) {
		return math.NaN()
	}
	var s float64
	for j, pj := range p {
		if pj == 0 {
			continue
		}
		if q[j] == 0 {
			return math.Inf(1)
		}
		s += pj * (math.Log(pj) - math.Log(q[j]))
	}
	return s
}

// ProbsFromLogits turns a C-order float32 or float64 logits array of shape [M, K, C]
// (M inputs, K samples per input, C classes; as a classifier's `logits`
// output or a user's .npy file holds it) into the probability tensor
// p[i][k] = Softmax(logits[i, k, :]) that [MUNITScores] takes, in float64
// (float64 logits are never rounded to float32). It returns
// an error naming the first offending row when the shape is not positive,
// the length does not match, or a logit is NaN or infinite.
func ProbsFromLogits[T float32 | float64](logits []T, m, k, c int) ([][][]float64, error) {
	if m < 1 || k < 1 || c < 1 {
		return nil, fmt.Errorf("metrics: logits shape [%d, %d, %d]: every axis must be at least 1", m, k, c)
	}
	if len(logits) != m*k*c {
		return nil, fmt.Errorf("metrics: logits shape [%d, %d, %d] needs %d values, got %d", m, k, c, m*k*c, len(logits))
	}
	probs := make([][][]float64, m)
	for i := range probs {
		probs[i] = make([][]float64, k)
		for j := range probs[i] {
			row := logits[(i*k+j)*c : (i*k+j+1)*c]
			for cl, v := range row {
				if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
					return nil, fmt.Errorf("metrics: logits[%d, %d, %d] is %v: logits must be finite", i, j, cl, v)
				}
			}
			probs[i][j] = Softmax(row)
		}
	}
	return probs, nil
}

// checkProbRow reports whether row is a probability vector: finite,
// non-negative, summing to 1 within probSumTol.
func checkProbRow(row []float64) error {
	var s float64
	for c, v := range row {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("class %d has probability %v", c, v)
		}
		s += v
	}
	if math.Abs(s-1) > probSumTol {
		return fmt.Errorf("probabilities sum to %v, not 1", s)
	}
	return nil
}

// Rows flattens a probability tensor [M][K][C] input-major into N = M·K
// rows (row i·K + k is sample k of input i), sharing the row slices, for
// [SplitInceptionScore].
func Rows(probs [][][]float64) [][]float64 {
	var rows [][]float64
	for _, in := range probs {
		rows = append(rows, in...)
	}
	return rows
}
