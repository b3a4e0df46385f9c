package registry

import (
	"math"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/results"
)

// perInputMeans returns the per-input mean distances of d: the stored ones,
// or else the means of the stored pairs grouped by input (in input order).
func perInputMeans(d *results.Diversity) (m []float64, fromPairs bool) {
	if len(d.PerInputMean) > 0 {
		return d.PerInputMean, false
	}
	if len(d.Pairs) == 0 {
		return nil, false
	}
	groups := map[int][]float64{}
	for _, p := range d.Pairs {
		groups[p.Input] = append(groups[p.Input], p.Distance)
	}
	keys := make([]int, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		m = append(m, metrics.Mean(groups[k]))
	}
	return m, true
}

// Diversity is compared on the per-input means: inputs are the
// independent units (the pairs of one input share their input).
var lpipsCompare = []Quantity{{Name: results.KeyLPIPSDiversity, Better: +1, By: BySamples, Samples: "per-input means", RankTest: true,
	Get: func(d *results.Document) (Value, bool) {
		dv := lpips(d)
		if dv == nil {
			return Value{}, false
		}
		ci := dv.CI95
		v := Value{V: dv.Mean, CI: &ci}
		var fromPairs bool
		v.Samples, fromPairs = perInputMeans(dv)
		if fromPairs {
			v.Note = "per-input means computed from the stored pairs"
		}
		return v, true
	}}}

func lpipsComparable(d *results.Document) []Field {
	var out []Field
	if dv := lpips(d); dv != nil {
		out = append(out, Field{"lpips_diversity.num_inputs", dv.NumInputs}, Field{"lpips_diversity.pairs_per_input", dv.PairsPerInput},
			Field{"lpips_diversity.pairing", dv.Pairing}, Field{"lpips net", dv.LPIPSNet}, Field{"lpips version", dv.LPIPSVersion})
	}
	if m, ok := d.Models[results.ModelLPIPS]; ok {
		out = append(out, Field{"models.lpips.net", m.Net}, Field{"models.lpips.version", m.Version})
	}
	return out
}

// inputCount is the number of inputs the IS/CIS bootstrap resampled.
func inputCount(d *results.Document) int {
	if d.Metrics.NumInputs != nil {
		return *d.Metrics.NumInputs
	}
	return d.Protocol.NumInputs
}

// scoreQuantities are a score (IS or CIS) in nats, compared through its
// bootstrap replicates over inputs, and its exp() form, which follows it.
func scoreQuantities(key, expKey string, nats, exps func(m *results.Metrics) *float64, ci func(m *results.Metrics) *[2]float64, reps func(m *results.Metrics) []float64) []Quantity {
	get := func(value func(m *results.Metrics) *float64, exp bool) func(d *results.Document) (Value, bool) {
		return func(d *results.Document) (Value, bool) {
			m := &d.Metrics
			x := value(m)
			if x == nil {
				return Value{}, false
			}
			v := Value{V: *x, CI: ci(m), Replicates: reps(m), Inputs: inputCount(d)}
			if exp {
				v.CI, v.Transform = expCI(v.CI), math.Exp
			}
			return v, true
		}
	}
	return []Quantity{
		{Name: key, Better: +1, By: ByReplicates, Get: get(nats, false)},
		{Name: expKey, Better: +1, By: ByReplicates, Follows: key, Get: get(exps, true)},
	}
}

var isCompare = append(append(
	scoreQuantities(results.KeyIS, results.KeyISExp, func(m *results.Metrics) *float64 { return m.IS }, func(m *results.Metrics) *float64 { return m.ISExp },
		func(m *results.Metrics) *[2]float64 { return m.ISCI95 }, func(m *results.Metrics) []float64 { return m.ISBootstrap }),
	scoreQuantities(results.KeyCIS, results.KeyCISExp, func(m *results.Metrics) *float64 { return m.CIS }, func(m *results.Metrics) *float64 { return m.CISExp },
		func(m *results.Metrics) *[2]float64 { return m.CISCI95 }, func(m *results.Metrics) []float64 { return m.CISBootstrap })...),
	// Disjoint splits are independent: Welch's t on the split values.
	Quantity{Name: results.KeyISSplits, Better: +1, By: BySamples, Samples: "split values", Get: func(d *results.Document) (Value, bool) {
		s := d.Metrics.ISSplits
		if s == nil {
			return Value{}, false
		}
		return Value{V: s.Mean, Samples: s.Values}, true
	}})

func isComparable(d *results.Document) []Field {
	m := &d.Metrics
	var out []Field
	if m.NumInputs != nil {
		out = append(out, Field{"metrics.num_inputs", *m.NumInputs})
	}
	if m.SamplesPerInput != nil {
		out = append(out, Field{"metrics.samples_per_input", *m.SamplesPerInput})
	}
	if len(m.Classes) > 0 {
		out = append(out, Field{"classes", strings.Join(m.Classes, ",")})
	}
	return out
}

// FID is compared through its jackknife standard error over input groups,
// or, in documents written before it was stored, its bootstrap replicates.
var fidCompare = []Quantity{{Name: results.KeyFID, Better: -1, By: ByStdErr, TestName: "jackknife-welch",
	Get: func(d *results.Document) (Value, bool) {
		f := d.Metrics.FID
		if f == nil {
			return Value{}, false
		}
		return Value{V: f.Value, CI: f.CI95, StdErr: f.StdErr, Groups: f.Groups, Replicates: f.Bootstrap, Inputs: d.Protocol.NumInputs}, true
	}}}

func fidComparable(d *results.Document) []Field {
	if f := d.Metrics.FID; f != nil {
		return []Field{{"fid.num_samples", f.NumSamples}, {"fid.num_real", f.NumReal}, {"fid.feature_dim", f.FeatureDim}}
	}
	return nil
}

// sampleCount is the number of generated samples behind a document's KID.
func sampleCount(d *results.Document) int {
	if d.Metrics.FID != nil && d.Metrics.FID.NumSamples > 0 {
		return d.Metrics.FID.NumSamples
	}
	return d.Protocol.NumInputs * max(d.Protocol.SamplesPerInput, 1)
}

// KID is compared with a normal test whose variance allows for the overlap
// of subsets drawn from the same samples (metrics.KIDVariance); its 95%
// interval is the normal one of that variance.
var kidCompare = []Quantity{{Name: results.KeyKID, Better: -1, By: ByVariance, TestName: "kid-normal",
	Get: func(d *results.Document) (Value, bool) {
		k := d.Metrics.KID
		if k == nil {
			return Value{}, false
		}
		sd := k.Std
		v := Value{V: k.Mean, N: len(k.Values), SD: &sd}
		vr, ok := metrics.KIDVariance(k.Values, k.SubsetSize, sampleCount(d))
		if !ok {
			v.Note = "subset values, subset size or sample count missing, or subsets as large as the sample set: not tested"
			return v, true
		}
		_, ci := metrics.NormalInterval(k.Mean, math.Sqrt(vr), 0.95)
		v.Variance, v.CI = &vr, &ci
		return v, true
	}}}

// prdcQuantity is one of the four PRDC values: no interval is stored, so
// check shows it and does not test it.
func prdcQuantity(name string, get func(p *results.PRDC) float64) Quantity {
	return Quantity{Name: name, Better: +1, By: ByIntervals, Get: func(d *results.Document) (Value, bool) {
		if p := d.Metrics.PRDC; p != nil {
			return Value{V: get(p)}, true
		}
		return Value{}, false
	}}
}

var prdcCompare = []Quantity{
	prdcQuantity("precision", func(p *results.PRDC) float64 { return p.Precision }),
	prdcQuantity("recall", func(p *results.PRDC) float64 { return p.Recall }),
	prdcQuantity("density", func(p *results.PRDC) float64 { return p.Density }),
	prdcQuantity("coverage", func(p *results.PRDC) float64 { return p.Coverage }),
}

func prdcComparable(d *results.Document) []Field {
	if p := d.Metrics.PRDC; p != nil {
		return []Field{{"prdc.pr_k", p.PRK}, {"prdc.dc_k", p.DCK}, {"prdc.num_samples", p.NumSamples}, {"prdc.num_real", p.NumReal}}
	}
	return nil
}
