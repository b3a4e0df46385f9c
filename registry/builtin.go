package registry

import (
	"fmt"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/warning"
)

// Keys of the built-in metrics.
const (
	KeyLPIPS = "lpips"
	KeyIS    = "is"
	KeyFID   = "fid"
	KeyKID   = "kid"
	// KeyPRDC is precision, recall, density and coverage.
	KeyPRDC = "prdc"
)

// Codes of the warnings the built-in entries make.
const (
	CodeLPIPSv0        = "lpips-v0"
	CodeFlatFolder     = "flat-folder"
	CodeNoRealFeatures = "no-real-features"
)

// The built-in metrics, in the order of the paper's tables: LPIPS
// diversity, IS/CIS, then the distances to real images FID, KID and PRDC
// (not a default: it costs three N×N distance matrices).
func init() {
	Register(&Entry{Key: KeyLPIPS, Title: "LPIPS diversity", Needs: NeedPairs, Default: true,
		Compute: computeLPIPS, Present: func(m *results.Metrics) bool { return m.LPIPSDiversity != nil },
		Table: TableQuality, Columns: lpipsColumns, Protocol: lpipsProtocol, Details: lpipsDetails,
		Compare: lpipsCompare, Comparable: lpipsComparable})
	Register(&Entry{Key: KeyIS, Title: "IS and CIS", Needs: NeedLogits, PerSample: true, Default: true,
		Compute: computeIS, Present: func(m *results.Metrics) bool { return m.IS != nil || m.ISSplits != nil },
		Table: TableScores, Columns: isColumns, Protocol: isProtocol, Details: isDetails, DetailNotes: isDetailNotes,
		Compare: isCompare, Comparable: isComparable})
	Register(&Entry{Key: KeyFID, Title: "FID", Needs: NeedFeatures | NeedReal, PerSample: true, Default: true, Stats: true,
		Compute: computeFID, Present: func(m *results.Metrics) bool { return m.FID != nil },
		Table: TableDistances, Columns: fidColumns, Protocol: fidProtocol, Details: fidDetails,
		Compare: fidCompare, Comparable: fidComparable})
	Register(&Entry{Key: KeyKID, Title: "KID", Needs: NeedFeatures | NeedReal, PerSample: true, Default: true,
		Compute: computeKID, Present: func(m *results.Metrics) bool { return m.KID != nil },
		Table: TableDistances, Columns: kidColumns, Protocol: kidProtocol, Details: kidDetails,
		Compare: kidCompare})
	Register(&Entry{Key: KeyPRDC, Title: "precision, recall, density, coverage", Needs: NeedFeatures | NeedReal, PerSample: true,
		Compute: computePRDC, Present: func(m *results.Metrics) bool { return m.PRDC != nil },
		Table: TablePRDC, Columns: prdcColumns, Protocol: prdcProtocol, Details: prdcDetails,
		Compare: prdcCompare, Comparable: prdcComparable})
}

// computeLPIPS summarises the pair distances (Summarize) and warns about
// LPIPS v0.0, whose values are about half of v0.1's.
func computeLPIPS(in *Inputs, m *results.Metrics) ([]warning.Warning, error) {
	div := Summarize(in.PairGroups, in.Pairs, in.Params.Bootstrap, in.Params.Seed)
	div.Pairing, div.PairsPerInput = in.Pairing, in.PairsPerInput
	div.LPIPSNet, div.LPIPSVersion = in.LPIPSNet, in.LPIPSVersion
	if in.Trials > 1 {
		t, err := SummarizeTrials(in.PairGroups, in.Trials)
		if err != nil {
			return nil, err
		}
		div.Trials = t
	}
	m.LPIPSDiversity = div
	var ws []warning.Warning
	if in.LPIPSVersion == "0.0" {
		ws = append(ws, warning.New(CodeLPIPSv0, KeyLPIPS, "LPIPS version 0.0 (no scaling layer): values are about half of v0.1's; compare only with numbers of the same version (docs/protocols.md)"))
	}
	if w := metrics.FewInputs(in.PairGroups); w != nil {
		ws = append(ws, *w)
	}
	return ws, nil
}

// computeIS is Scores on grouped samples; a flat folder has no inputs, so
// it gets the conventional split Inception Score alone.
func computeIS(in *Inputs, m *results.Metrics) ([]warning.Warning, error) {
	p := in.Params
	if in.RealRow {
		return realIS(in, m)
	}
	if in.Grouped {
		return Scores(in.Logits, in.M, in.K, in.Classes, ScoreOptions{Bootstrap: p.Bootstrap, Seed: p.Seed, Splits: p.Splits,
			ContiguousSplits: p.ContiguousSplits}, m)
	}
	c := len(in.Classes)
	probs, err := metrics.ProbsFromLogits(in.Logits, in.M*in.K, 1, c)
	if err != nil {
		return nil, err
	}
	sopt := metrics.SplitOptions{Splits: p.Splits, Shuffle: !p.ContiguousSplits, Seed: SplitShuffleSeed}
	split, err := metrics.SplitInceptionScore(metrics.Rows(probs), sopt)
	if err != nil {
		return nil, err
	}
	m.ISSplits = &results.ISSplits{Splits: split.Splits, Mean: split.Mean, Std: split.Std, Values: split.PerSplit, Order: results.SplitOrderContiguous}
	if sopt.Shuffle {
		m.ISSplits.Order, m.ISSplits.ShuffleSeed = results.SplitOrderShuffled, results.Int(SplitShuffleSeed)
	}
	m.Classes = in.Classes
	return append(split.Warnings, warning.New(CodeFlatFolder, KeyIS, "the samples are a flat folder: IS and CIS as the MUNIT paper defines them need samples grouped by input, so only the conventional split Inception Score is reported")), nil
}

// realIS is the real-data row's IS: the MUNIT paper's IS of the N real
// images, each its own input (M = N, K = 1): mean_x KL(p(y|x) || p(y))
// with p(y) their mean, the scale of every method's IS, with its jackknife
// interval over images. CIS is 0 by definition at K = 1 and is left out,
// with the warnings about it.
func realIS(in *Inputs, m *results.Metrics) ([]warning.Warning, error) {
	p := in.Params
	ws, err := Scores(in.Logits, in.M*in.K, 1, in.Classes, ScoreOptions{Bootstrap: p.Bootstrap, Seed: p.Seed, Splits: p.Splits,
		ContiguousSplits: p.ContiguousSplits}, m)
	if err != nil {
		return nil, err
	}
	m.CIS, m.CISExp, m.CISCI95, m.CISPopulationCI95, m.CISBootstrap, m.CISBiasCorrected, m.CISPerInput = nil, nil, nil, nil, nil, nil, nil
	delete(m.IntervalMethods, results.KeyCIS)
	var out []warning.Warning
	for _, w := range ws {
		// With more than one input, Scores' only no-interval warning is
		// the CIS one.
		if w.Code == metrics.CodeOneSample || (w.Code == CodeNoInterval && in.M*in.K > 1) {
			continue
		}
		out = append(out, w)
	}
	return out, nil
}

// computeFID is FID against real features (with its interval) or against
// published statistics (without: the interval needs the real features).
func computeFID(in *Inputs, m *results.Metrics) ([]warning.Warning, error) {
	if in.RealStats != nil {
		f, err := fidToStats(in.Features, in.RealStats)
		m.FID = f
		return nil, err
	}
	return FIDKID(in.Features, in.RealFeatures, in.distanceOptions(true, false), m)
}

// fidToStats is the Fréchet distance of features x to published statistics
// g (no interval: it needs the real features).
func fidToStats(x [][]float64, g *metrics.Gaussian) (*results.FID, error) {
	if len(x) > 0 && len(x[0]) != len(g.Mean) {
		return nil, fmt.Errorf("the samples' features have %d dimensions, the statistics %d: were they made with another features model?", len(x[0]), len(g.Mean))
	}
	v, err := metrics.FIDToGaussian(x, g)
	if err != nil {
		return nil, err
	}
	return &results.FID{Value: v, NumSamples: len(x), NumReal: g.N, FeatureDim: len(g.Mean)}, nil
}

// computeKID is KID in subsets; it needs real features.
func computeKID(in *Inputs, m *results.Metrics) ([]warning.Warning, error) {
	if in.RealStats != nil {
		return noRealFeatures(KeyKID), nil
	}
	o := in.distanceOptions(false, true)
	if n := min(len(in.Features), len(in.RealFeatures)); in.RealRow && (o.KID.SubsetSize <= 0 || o.KID.SubsetSize > n/2) {
		// The real row's halves are half the real set: subsets as large as
		// a half would all be that half, with an sd of 0 that says nothing.
		// KID is unbiased at any subset size, so half a half keeps its
		// expectation and gives subsets that differ.
		o.KID.SubsetSize = max(n/2, 2)
	}
	return FIDKID(in.Features, in.RealFeatures, o, m)
}

// computePRDC is precision/recall (k = PRK, as torch-fidelity) and
// density/coverage (k = DCK, as prdc), the real features as the reference.
func computePRDC(in *Inputs, m *results.Metrics) ([]warning.Warning, error) {
	if in.RealStats != nil {
		return noRealFeatures(KeyPRDC), nil
	}
	pr, err := metrics.PRDC(in.RealFeatures, in.Features, metrics.PRDCOptions{PRK: in.Params.PRK, DCK: in.Params.DCK})
	if err != nil {
		return nil, err
	}
	m.PRDC = &results.PRDC{Precision: pr.Precision, Recall: pr.Recall, FScore: pr.FScore,
		Density: pr.Density, Coverage: pr.Coverage, PRK: pr.PRK, DCK: pr.DCK, NumSamples: pr.NumFake, NumReal: pr.NumReal}
	return nil, nil
}

func noRealFeatures(key string) []warning.Warning {
	return []warning.Warning{warning.New(CodeNoRealFeatures, key, "no %s against real statistics: it needs the real images' features, and a .npz holds only mu and sigma", key)}
}

func (in *Inputs) distanceOptions(fid, kid bool) DistanceOptions {
	p := in.Params
	return DistanceOptions{FIDBootstrap: p.FIDBootstrap, GroupSize: in.K,
		KID:  metrics.KIDOptions{Subsets: p.KIDSubsets, SubsetSize: p.KIDSubsetSize, Seed: uint64(p.Seed)},
		Seed: p.Seed, WantFID: fid, WantKID: kid}
}
