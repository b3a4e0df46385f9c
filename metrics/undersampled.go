package metrics

import (
	"math"

	"github.com/munit-eval/munit-eval/warning"
)

// Codes of the undersampling warnings.
const (
	// CodeUndersampled: each input's K samples are too few to estimate
	// its class marginal q_i: CIS is biased low by more than its interval
	// is wide.
	CodeUndersampled = "undersampled-inputs"
	// CodeUndersampledMarginal: the M·K samples are too few to estimate
	// the class marginal q: IS is biased low likewise.
	CodeUndersampledMarginal = "undersampled-marginal"
	// CodeFewInputs: fewer than 30 inputs: the LPIPS interval over inputs
	// can fall short of 95% when their diversities are skewed.
	CodeFewInputs = "few-inputs"
)

// missingMassLimit is the Good–Turing missing mass above which a class
// marginal counts as undersampled; docs/coverage.md shows the regimes it
// separates.
const missingMassLimit = 0.1

// Undersampled returns the warnings that IS or CIS cannot be trusted
// because the samples are too few for the classes they land in (probs
// [M][K][C]). The estimate of a class marginal from n draws misses the
// probability of the classes not drawn, which Good and Turing estimate as
// f1/n, f1 the number of classes drawn exactly once (Good 1953): the
// plug-in entropy, and with it IS and CIS, is then biased low by far more
// than the spread of the scores over inputs, so their intervals miss the
// population value. CIS is warned about when the mean over inputs of f1/K
// (top-1 classes of each input's K samples) exceeds 0.1, IS when f1/(M·K)
// over all samples does. K = 1 gives no CIS warning (CIS is then 0 by
// definition, warned about apart).
func Undersampled(probs [][][]float64) []warning.Warning {
	if len(probs) == 0 || len(probs[0]) == 0 {
		return nil
	}
	m, k := len(probs), len(probs[0])
	all := map[int]int{}
	in := map[int]int{}
	var perInput float64
	for _, samples := range probs {
		clear(in)
		for _, row := range samples {
			best := 0
			for j := range row {
				if row[j] > row[best] {
					best = j
				}
			}
			in[best]++
			all[best]++
		}
		perInput += float64(singletons(in)) / float64(len(samples))
	}
	perInput /= float64(m)
	overall := float64(singletons(all)) / float64(m*k)
	var out []warning.Warning
	if k > 1 && perInput > missingMassLimit {
		out = append(out, warning.New(CodeUndersampled, SubjectIS,
			"K = %d samples per input miss an estimated %.0f%% of each input's class distribution (Good–Turing): CIS (at most ln K = %.2f per input) is biased low and its interval does not cover the population value; use more samples per input (docs/coverage.md)",
			k, 100*perInput, math.Log(float64(k))))
	}
	if overall > missingMassLimit {
		out = append(out, warning.New(CodeUndersampledMarginal, SubjectIS,
			"the %d samples miss an estimated %.0f%% of their class distribution (Good–Turing): IS is biased low and its interval does not cover the population value; use more samples (docs/coverage.md)",
			m*k, 100*overall))
	}
	return out
}

func singletons(counts map[int]int) int {
	n := 0
	for _, c := range counts {
		if c == 1 {
			n++
		}
	}
	return n
}

// fewInputsMin is the number of inputs from which the LPIPS interval over
// inputs holds its coverage in every regime of docs/coverage.md.
const fewInputsMin = 30

// FewInputs returns the warning that the LPIPS diversity interval over
// inputs may cover less than 95% because it rests on fewer than 30 inputs:
// with per-input diversities that are strongly skewed, the studentized
// bootstrap covers 89–90% at 8 inputs and 92% at 20, where with mildly
// skewed ones it holds 94% (docs/coverage.md), and so few inputs cannot
// tell the two apart (their sample skewness, given in the detail, is too
// noisy to say). It returns nil from 30 inputs on.
func FewInputs(groups [][]float64) *warning.Warning {
	g := len(groups)
	if g >= fewInputsMin {
		return nil
	}
	w := warning.New(CodeFewInputs, "lpips", "the diversity interval rests on %d inputs: it may cover less than 95%% (89–92%% at 8–20 inputs whose diversities are strongly skewed, docs/coverage.md); use at least %d inputs", g, fewInputsMin)
	return &w
}

// Skewness is the sample skewness g1 = m3 / m2^{3/2} (Fisher's, biased
// moments, as scipy.stats.skew); NaN for fewer than 2 values or no
// spread.
func Skewness(x []float64) float64 {
	if len(x) < 2 {
		return math.NaN()
	}
	mu := Mean(x)
	var m2, m3 float64
	for _, v := range x {
		d := v - mu
		m2 += d * d
		m3 += d * d * d
	}
	n := float64(len(x))
	m2, m3 = m2/n, m3/n
	if m2 == 0 {
		return math.NaN()
	}
	return m3 / math.Pow(m2, 1.5)
}
