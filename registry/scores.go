package registry

import (
	"fmt"
	"github.com/munit-eval/munit-eval/warning"
	"math"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/results"
)

// ScoreOptions configure Scores.
type ScoreOptions struct {
	// Bootstrap resamples over inputs for the IS/CIS intervals.
	Bootstrap int
	// Seed seeds the bootstrap.
	Seed int64
	// Splits for the conventional Inception Score (default 10).
	Splits int
	// ContiguousSplits splits the rows in order, without torch-fidelity's
	// default shuffle (numpy.random.RandomState(2020).permutation); the
	// default (false) shuffles exactly as torch-fidelity does.
	ContiguousSplits bool
}

// Codes of the warnings of Scores and FIDKID (besides metrics').
const (
	// CodeNoInterval: an interval that could not be computed, and why.
	CodeNoInterval = "no-interval"
	// CodeNoSplitIS: the split Inception Score could not be computed.
	CodeNoSplitIS = "no-split-is"
	// CodeSingular: fewer images than feature dimensions.
	CodeSingular = "singular-covariance"
)

// SplitShuffleSeed is torch-fidelity's default rng_seed for the shuffle of
// the split Inception Score.
const SplitShuffleSeed = 2020

// Scores computes the MUNIT paper's IS and CIS (nats and exp forms), their
// 95% bootstrap intervals over inputs, and the conventional split IS from a
// C-order [M, K, C] logits array (float32, or float64 kept in float64 end
// to end), into m. It returns warnings the reader must see (one sample per
// input, classes never predicted, few rows per split).
func Scores[T float32 | float64](logits []T, mIn, k int, classes []string, o ScoreOptions, m *results.Metrics) ([]warning.Warning, error) {
	c := len(classes)
	probs, err := metrics.ProbsFromLogits(logits, mIn, k, c)
	if err != nil {
		return nil, err
	}
	s, err := metrics.ScoreMUNIT(probs)
	if err != nil {
		return nil, err
	}
	var warnings []warning.Warning
	for _, w := range s.Warnings {
		if w.Code == metrics.CodeNeverPredicted {
			w = metrics.NeverPredicted(w.Classes, c, classes) // named, count first
		}
		warnings = append(warnings, w)
	}
	// Too few samples for the classes they land in: IS and CIS are biased
	// low by more than their intervals are wide (docs/coverage.md).
	warnings = append(warnings, metrics.Undersampled(probs)...)
	m.IS, m.ISExp = results.Float(s.IS), results.Float(s.ISExp)
	m.CIS, m.CISExp = results.Float(s.CIS), results.Float(s.CISExp)
	m.CISPerInput = s.CISPerInput
	m.NumInputs, m.SamplesPerInput = results.Int(mIn), results.Int(k)
	m.Classes = classes
	if o.Bootstrap > 0 && mIn > 1 {
		// The bootstrap replicates are what the gate compares; the
		// intervals are the jackknife's, which cover the population
		// values where the plug-in scores are biased (docs/metrics.md).
		b, err := s.Bootstrap(o.Bootstrap, uint64(o.Seed), 0.95)
		if err != nil {
			return nil, err
		}
		m.ISBootstrap, m.CISBootstrap = b.IS, b.CIS
		j, err := s.Jackknife(0.95)
		if err != nil {
			return nil, err
		}
		m.IntervalMethods = map[string]string{}
		if ci := j.ISCI; !math.IsNaN(ci[0]) {
			m.ISPopulationCI95, m.ISBiasCorrected = &ci, results.Float(j.IS)
			m.ISCI95 = aroundPlugIn(s.IS, j.ISHalfWidth, s.Classes)
			m.IntervalMethods[results.KeyIS] = results.IntervalJackknifeT
		}
		if ci := j.CISCI; !math.IsNaN(ci[0]) {
			m.CISPopulationCI95, m.CISBiasCorrected = &ci, results.Float(j.CIS)
			m.CISCI95 = aroundPlugIn(s.CIS, j.CISHalfWidth, s.Classes)
			m.IntervalMethods[results.KeyCIS] = results.IntervalJackknifeT
		} else {
			warnings = append(warnings, warning.New(CodeNoInterval, metrics.SubjectIS, "one sample per input: no CIS interval"))
		}
	} else if mIn <= 1 {
		warnings = append(warnings, warning.New(CodeNoInterval, metrics.SubjectIS, "one input: no bootstrap interval over inputs"))
	}
	sopt := metrics.SplitOptions{Splits: o.Splits, Shuffle: !o.ContiguousSplits, Seed: SplitShuffleSeed}
	split, err := metrics.SplitInceptionScore(metrics.Rows(probs), sopt)
	if err != nil {
		warnings = append(warnings, warning.New(CodeNoSplitIS, metrics.SubjectIS, "no split Inception Score: %v", err))
	} else {
		m.ISSplits = &results.ISSplits{Splits: split.Splits, Mean: split.Mean, Std: split.Std, Values: split.PerSplit,
			Order: results.SplitOrderContiguous}
		if sopt.Shuffle {
			m.ISSplits.Order, m.ISSplits.ShuffleSeed = results.SplitOrderShuffled, results.Int(SplitShuffleSeed)
		}
		warnings = append(warnings, split.Warnings...)
	}
	// Which classes the samples land in, as argmax shares.
	share := make([]float64, c)
	for _, row := range metrics.Rows(probs) {
		best := 0
		for j := range row {
			if row[j] > row[best] {
				best = j
			}
		}
		share[best]++
	}
	for j := range share {
		share[j] /= float64(mIn * k)
	}
	m.ClassShare = share
	return warnings, nil
}

// DistanceOptions configure FIDKID.
type DistanceOptions struct {
	// FIDBootstrap > 0 asks for the FID interval (a jackknife over the
	// input groups, metrics.FIDJackknife; the count itself is no longer
	// used); 0 skips it, and AutoFIDBootstrap computes it when the
	// features have at most MaxAutoFIDBootstrapDim dimensions and skips it
	// (with a warning) above: each leave-one-out value is a full FID,
	// seconds at D = 2048.
	FIDBootstrap int
	// GroupSize is the number of samples per input (rows of one group move
	// together in the bootstrap).
	GroupSize int
	KID       metrics.KIDOptions
	Seed      int64
	// WantFID and WantKID select the metrics.
	WantFID, WantKID bool
}

// AutoFIDBootstrap asks FIDKID to choose the number of FID bootstrap
// resamples from the feature dimension.
const AutoFIDBootstrap = -1

// DefaultFIDBootstrap and MaxAutoFIDBootstrapDim set AutoFIDBootstrap's choice.
const (
	DefaultFIDBootstrap    = 100
	MaxAutoFIDBootstrapDim = 256
)

// FIDKID computes FID (with a jackknife bias-corrected interval over input
// groups paired with blocks of real images, metrics.FIDJackknife) and KID
// between sample features x and real features y into m.
func FIDKID(x, y [][]float64, o DistanceOptions, m *results.Metrics) ([]warning.Warning, error) {
	var warnings []warning.Warning
	if len(x) < 2 || len(y) < 2 {
		return nil, fmt.Errorf("FID/KID need at least 2 samples and 2 real images, got %d and %d", len(x), len(y))
	}
	d := len(x[0])
	if len(y[0]) != d {
		return nil, fmt.Errorf("sample features have %d dimensions, real features %d", d, len(y[0]))
	}
	if o.WantFID && (len(x) <= d || len(y) <= d) {
		warnings = append(warnings, warning.New(CodeSingular, metrics.SubjectFID, "FID from %d samples and %d real images in %d dimensions: the covariances are singular and FID is biased upwards; use more images", len(x), len(y), d))
	}
	if o.WantFID {
		v, err := metrics.FID(x, y)
		if err != nil {
			return nil, err
		}
		f := &results.FID{Value: v, NumSamples: len(x), NumReal: len(y), FeatureDim: d}
		reps := o.FIDBootstrap
		if reps == AutoFIDBootstrap {
			reps = DefaultFIDBootstrap
			if d > MaxAutoFIDBootstrapDim {
				reps = 0
				warnings = append(warnings, warning.New(CodeNoInterval, metrics.SubjectFID, "no FID interval: %d-dimensional features make each bootstrap replicate a full, slow FID; ask for one with an explicit FID bootstrap count", d))
			}
		}
		g := max(o.GroupSize, 1)
		if reps > 0 && len(x)/g >= 3 && len(y) >= len(x)/g {
			iv, err := metrics.FIDJackknife(x, g, y, 0.95)
			if err != nil {
				return nil, err
			}
			// The interval shown is for the plug-in's expectation at these
			// counts: the value ± z·SE, clamped at 0, which holds it.
			half := metrics.Z95 * iv.StdErr
			f.CI95 = &[2]float64{max(0, iv.Value-half), iv.Value + half}
			f.StdErr, f.Groups = iv.StdErr, iv.Groups
			m.IntervalMethods = mergeMethod(m.IntervalMethods, results.KeyFID, results.IntervalJackknifeT)
			if iv.CI[1] <= 0 && iv.StdErr > 0 {
				// The bias correction took the whole population interval
				// below 0, where it is clamped: [0, 0] beside a positive
				// standard error says nothing but that there are too few
				// groups.
				warnings = append(warnings, warning.New(CodeNoInterval, metrics.SubjectFID, "no interval for the population FID: the jackknife over %d groups corrects FID %.4g by a bias of %.4g, to %.4g with a standard error of %.4g, so the whole interval lies below 0 (FID cannot): too few groups to estimate it; use more inputs",
					iv.Groups, iv.Value, iv.Bias, iv.Value-iv.Bias, iv.StdErr))
			} else {
				ci := iv.CI
				f.PopulationCI95, f.BiasCorrected = &ci, results.Float(iv.Corrected)
			}
		} else if reps > 0 {
			warnings = append(warnings, warning.New(CodeNoInterval, metrics.SubjectFID, "no FID interval: %d sample groups and %d real images, need at least 3 groups and as many real images", len(x)/g, len(y)))
		}
		m.FID = f
	}
	if o.WantKID {
		r, err := metrics.KID(x, y, o.KID)
		if err != nil {
			return nil, err
		}
		m.KID = &results.KID{Mean: r.Mean, Std: r.Std, Subsets: len(r.Values), SubsetSize: r.SubsetSize, Values: r.Values}
		warnings = append(warnings, r.Warnings...)
	}
	return warnings, nil
}

// aroundPlugIn is the interval for the expectation of a plug-in IS or CIS
// at this M and K: the plug-in ± half (Student's t times the jackknife
// standard error), clamped to [0, ln C] as the scores are. It always holds
// the value.
func aroundPlugIn(plugIn, half float64, classes int) *[2]float64 {
	lnC := math.Log(float64(classes))
	return &[2]float64{max(0, plugIn-half), min(lnC, plugIn+half)}
}

// mergeMethod records an interval method in a (possibly nil) map.
func mergeMethod(m map[string]string, key, method string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[key] = method
	return m
}
