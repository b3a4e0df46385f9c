package metrics

import (
	"fmt"
	"math"

	"github.com/munit-eval/munit-eval/warning"
)

// DefaultSplits is the conventional number of splits of the Inception
// Score (Salimans et al. 2016; torch-fidelity's isc_splits).
const DefaultSplits = 10

// SplitOptions configures [SplitInceptionScore].
type SplitOptions struct {
	// Splits is the number of contiguous splits; 0 means DefaultSplits.
	Splits int
	// Shuffle permutes the rows before splitting with
	// numpy.random.RandomState(Seed).permutation(N), as torch-fidelity
	// does by default (shuffle=True, rng_seed=2020).
	Shuffle bool
	// Seed is the RandomState seed used when Shuffle is set.
	Seed uint32
}

// SplitScore is the conventional Inception Score over splits.
type SplitScore struct {
	// Splits is the number of splits used.
	Splits int
	// Mean and Std are the mean and the population standard deviation
	// (ddof 0) of PerSplit.
	Mean, Std float64
	// PerSplit[t] = exp(mean KL within split t against its marginal).
	PerSplit []float64
	// Warnings are things a reader must know (few rows per split).
	Warnings []warning.Warning
}

// SplitInceptionScore computes the conventional Inception Score of
// Salimans et al. ("Improved Techniques for Training GANs", NeurIPS 2016)
// the way torch-fidelity 0.4.0 does (isc_features_to_metric): the N rows
// p_n of probability vectors (all samples, for M×K samples input-major,
// n = i·K + k) are optionally permuted (see [SplitOptions]) and split in
// order into s contiguous parts [t·N/s, (t+1)·N/s) (integer division);
// each part t scores
//
//	IS_t = exp( mean_{n ∈ t} KL(p_n || q_t) ),  q_t = mean_{n ∈ t} p_n
//
// and the result is the mean and the population standard deviation of
// IS_t over the splits. With 0·ln 0 = 0; torch-fidelity, working from
// log-softmax, gives NaN instead in the rare case where a probability
// underflows to exactly 0 for a whole split. It returns an error when
// N < s or a row is not a probability vector, and a warning when a split
// holds fewer than 10 rows.
func SplitInceptionScore(rows [][]float64, opts SplitOptions) (*SplitScore, error) {
	s := opts.Splits
	if s == 0 {
		s = DefaultSplits
	}
	n := len(rows)
	if s < 1 {
		return nil, fmt.Errorf("metrics: split IS: %d splits, need at least 1", s)
	}
	if n < s {
		return nil, fmt.Errorf("metrics: split IS: %d rows cannot fill %d splits", n, s)
	}
	c := len(rows[0])
	if c == 0 {
		return nil, fmt.Errorf("metrics: split IS: row 0 has no classes")
	}
	for r, row := range rows {
		if len(row) != c {
			return nil, fmt.Errorf("metrics: split IS: row %d has %d classes, row 0 has %d", r, len(row), c)
		}
		if err := checkProbRow(row); err != nil {
			return nil, fmt.Errorf("metrics: split IS: row %d: %w", r, err)
		}
	}
	order := make([]int, n)
	for r := range order {
		order[r] = r
	}
	if opts.Shuffle {
		order = numpyPermutation(n, opts.Seed)
	}
	out := &SplitScore{Splits: s, PerSplit: make([]float64, s)}
	q := make([]float64, c)
	lq := make([]float64, c)
	for t := range s {
		lo, hi := t*n/s, (t+1)*n/s
		clear(q)
		for _, r := range order[lo:hi] {
			for cl, v := range rows[r] {
				q[cl] += v
			}
		}
		for cl := range q {
			q[cl] /= float64(hi - lo)
		}
		copyLogOrZero(lq, q)
		var kl float64
		for _, r := range order[lo:hi] {
			var k float64
			for cl, v := range rows[r] {
				if v > 0 {
					k += v * (math.Log(v) - lq[cl])
				}
			}
			kl += k
		}
		out.PerSplit[t] = math.Exp(kl / float64(hi-lo))
	}
	out.Mean = Mean(out.PerSplit)
	out.Std = PopulationStd(out.PerSplit)
	if n/s < 10 {
		out.Warnings = append(out.Warnings, warning.New(CodeFewRows, SubjectIS, "fewer than 10 rows per split (%d rows, %d splits)", n, s))
	}
	return out, nil
}
