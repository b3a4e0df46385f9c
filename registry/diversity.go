package registry

import (
	"fmt"
	"math"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/results"
)

// Summarize computes the diversity statistics over all pairs (groups[i]
// holds input i's pair distances): mean, sample std of the pair distances,
// the standard error of the mean clustered by input
// (metrics.ClusteredStdErr: the pairs of one input share samples, so a
// standard error that treats them as independent is several times too
// small; with one input it is the naive one), each input's mean, and the
// studentized bootstrap interval over inputs (metrics.BootstrapTMeanCI,
// bootstrap resamples seeded by seed), which keeps its coverage on skewed
// and heavy-tailed per-input diversities better than the percentile
// interval (docs/coverage.md) and is built on the same clustered standard
// error. With one input there is no interval over inputs: the expanded
// percentile interval of the single group's resamples is kept, as before.
func Summarize(groups [][]float64, pairs []results.Pair, bootstrap int, seed int64) *results.Diversity {
	all := make([]float64, len(pairs))
	for i, p := range pairs {
		all[i] = p.Distance
	}
	div := &results.Diversity{
		Mean:      metrics.Mean(all),
		N:         len(all),
		NumInputs: len(groups),
		Pairs:     pairs,
	}
	if len(all) >= 2 {
		div.Std = metrics.Std(all)
		div.Stderr, div.StderrMethod = metrics.StdErr(all), results.StderrNaive
		if se := metrics.ClusteredStdErr(groups); !math.IsNaN(se) {
			div.Stderr, div.StderrMethod = se, results.StderrClustered
		}
	}
	lo, hi := metrics.BootstrapTMeanCI(groups, bootstrap, uint64(seed), 0.95)
	div.Interval = results.IntervalBootstrapT
	if math.IsNaN(lo) {
		lo, hi, _ = metrics.BootstrapMeanCI(groups, bootstrap, uint64(seed), 0.95)
		div.Interval = results.IntervalExpandedPercentile
	}
	// Distances are never negative; neither is their expectation.
	div.CI95 = [2]float64{max(0, lo), hi}
	div.PerInputMean = make([]float64, len(groups))
	for i, g := range groups {
		div.PerInputMean[i] = metrics.Mean(g)
	}
	return div
}

// SummarizeTrials splits each input's pairs (groups[i]) into trials equal
// consecutive blocks, trial t being every input's block t, and returns each
// trial's mean distance, their mean and their population standard
// deviation (results.Trials).
func SummarizeTrials(groups [][]float64, trials int) (*results.Trials, error) {
	if len(groups) == 0 || trials < 1 {
		return nil, fmt.Errorf("lpips trials: %d trials of %d inputs", trials, len(groups))
	}
	per := len(groups[0]) / trials
	for i, g := range groups {
		if per == 0 || len(g) != per*trials {
			return nil, fmt.Errorf("lpips trials: input %d has %d pairs, not %d trials of %d", i, len(g), trials, per)
		}
	}
	t := &results.Trials{Count: trials, PairsPerTrial: per, Means: make([]float64, trials)}
	for k := range trials {
		var sum float64
		for _, g := range groups {
			for _, d := range g[k*per : (k+1)*per] {
				sum += d
			}
		}
		t.Means[k] = sum / float64(per*len(groups))
	}
	t.Mean = metrics.Mean(t.Means)
	var ss float64
	for _, v := range t.Means {
		ss += (v - t.Mean) * (v - t.Mean)
	}
	t.Std = math.Sqrt(ss / float64(trials))
	return t, nil
}
