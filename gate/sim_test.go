package gate

import (
	"math"
	"math/rand/v2"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/results"
)

// world describes a simulated evaluation. Documents are built the way the
// munit-eval commands build them (metrics.ScoreMUNIT and its bootstrap,
// metrics.FID with a bootstrap over input groups, metrics.KID, the
// per-input means of simulated pair distances), from random draws: the
// input-level effects come from inputSeed (the same inputs in a rerun), the
// samples, the pair distances, the bootstraps and the judgments from
// runSeed.
type world struct {
	inputs, samples, pairs, classes int
	// diversity: per-input mean distance ~ N(divMean, divInputSD), pair
	// distance ~ N(input mean, divPairSD).
	divMean, divInputSD, divPairSD float64
	// modes: each input's samples fall in `modes` or `modes − 1` of the
	// classes; conf is the classifier's confidence in the sample's class.
	modes int
	conf  float64
	// features: sample feature = input centre + N(shift, featSD); real
	// features N(0, 1) in dims dimensions.
	dims          int
	shift, featSD float64
	kidSubsets    int
	kidSize       int
	// preference: judgments preferring "CycleGAN" ~ Binomial(judgments, pref).
	judgments int
	pref      float64
	// bootstrap replicates of IS/CIS (and diversity), fidBootstrap of FID,
	// as the commands' defaults.
	bootstrap, fidBootstrap int
}

func defaultWorld() world {
	return world{
		inputs: 50, samples: 10, pairs: 19, classes: 4,
		divMean: 0.3, divInputSD: 0.05, divPairSD: 0.1,
		modes: 4, conf: 0.9,
		dims: 4, shift: 0.3, featSD: 1,
		kidSubsets: 50, kidSize: 100,
		judgments: 400, pref: 0.3,
		bootstrap: 2000, fidBootstrap: 100,
	}
}

func gauss(r *rand.Rand, mu, sd float64) float64 { return mu + sd*r.NormFloat64() }

// doc simulates one evaluation of w.
func (w world) doc(inputSeed, runSeed uint64) *results.Document {
	in := rand.New(rand.NewPCG(inputSeed, 1))
	run := rand.New(rand.NewPCG(runSeed, 2))
	d := results.New("MUNIT", "edges2shoes")
	d.Protocol = results.Protocol{NumInputs: w.inputs, SamplesPerInput: w.samples, PairsPerInput: w.pairs,
		Pairing: "consecutive", Seed: int64(runSeed), Bootstrap: w.bootstrap}

	// LPIPS diversity.
	groups := make([][]float64, w.inputs)
	div := &results.Diversity{NumInputs: w.inputs, PairsPerInput: w.pairs, Pairing: "consecutive",
		LPIPSNet: "alex", LPIPSVersion: "0.1"}
	var all []float64
	for i := range groups {
		mu := gauss(in, w.divMean, w.divInputSD)
		for range w.pairs {
			groups[i] = append(groups[i], gauss(run, mu, w.divPairSD))
		}
		all = append(all, groups[i]...)
		div.PerInputMean = append(div.PerInputMean, metrics.Mean(groups[i]))
	}
	div.Mean, div.Std, div.Stderr, div.N = metrics.Mean(all), metrics.Std(all), metrics.StdErr(all), len(all)
	lo, hi, _ := metrics.BootstrapMeanCI(groups, w.bootstrap, runSeed, 0.95)
	div.CI95 = [2]float64{lo, hi}
	d.Metrics.LPIPSDiversity = div

	// IS / CIS: input i draws its samples among modes_i classes (modes or
	// modes − 1: inputs differ in how ambiguous they are) starting at an
	// input-specific class.
	probs := make([][][]float64, w.inputs)
	for i := range probs {
		first := in.IntN(w.classes)
		modes := max(1, w.modes-in.IntN(2))
		for range w.samples {
			c := (first + run.IntN(modes)) % w.classes
			p := make([]float64, w.classes)
			for j := range p {
				p[j] = (1 - w.conf) / float64(w.classes-1)
			}
			p[c] = w.conf
			probs[i] = append(probs[i], p)
		}
	}
	s, err := metrics.ScoreMUNIT(probs)
	if err != nil {
		panic(err)
	}
	b, err := s.Bootstrap(w.bootstrap, runSeed, 0.95)
	if err != nil {
		panic(err)
	}
	m := &d.Metrics
	m.IS, m.ISExp, m.CIS, m.CISExp = results.Float(s.IS), results.Float(s.ISExp), results.Float(s.CIS), results.Float(s.CISExp)
	m.ISCI95, m.CISCI95 = &b.ISCI, &b.CISCI
	m.ISBootstrap, m.CISBootstrap = b.IS, b.CIS

	// FID / KID: the real set is fixed (seed 99).
	real := rand.New(rand.NewPCG(99, 3))
	y := make([][]float64, 400)
	for i := range y {
		y[i] = make([]float64, w.dims)
		for j := range y[i] {
			y[i][j] = real.NormFloat64()
		}
	}
	x := make([][]float64, 0, w.inputs*w.samples)
	for range w.inputs {
		centre := make([]float64, w.dims)
		for j := range centre {
			centre[j] = gauss(in, 0, 0.5)
		}
		for range w.samples {
			v := make([]float64, w.dims)
			for j := range v {
				v[j] = centre[j] + gauss(run, w.shift, w.featSD)
			}
			x = append(x, v)
		}
	}
	fid, err := metrics.FID(x, y)
	if err != nil {
		panic(err)
	}
	realFit, err := metrics.FitGaussian(y)
	if err != nil {
		panic(err)
	}
	rows := make([][]float64, 0, len(x))
	reps := metrics.BootstrapGroups(w.inputs, w.fidBootstrap, runSeed, func(idx []int) float64 {
		rows = rows[:0]
		for _, i := range idx {
			rows = append(rows, x[i*w.samples:(i+1)*w.samples]...)
		}
		g, err := metrics.FitGaussian(rows)
		if err != nil {
			return math.NaN()
		}
		v, err := metrics.FrechetDistance(g, realFit)
		if err != nil {
			return math.NaN()
		}
		return v
	})
	fci := metrics.PercentileInterval(reps, 0.95)
	m.FID = &results.FID{Value: fid, CI95: &fci, Bootstrap: reps, NumSamples: len(x), NumReal: len(y), FeatureDim: w.dims}
	k, err := metrics.KID(x, y, metrics.KIDOptions{Subsets: w.kidSubsets, SubsetSize: w.kidSize, Seed: runSeed})
	if err != nil {
		panic(err)
	}
	m.KID = &results.KID{Mean: k.Mean, Std: k.Std, Subsets: len(k.Values), SubsetSize: k.SubsetSize, Values: k.Values}

	// Preference of CycleGAN over MUNIT.
	pref := 0
	for range w.judgments {
		if run.Float64() < w.pref {
			pref++
		}
	}
	wl, wh := metrics.Wilson(pref, w.judgments, metrics.Z95)
	m.Preference = map[string]results.Preference{"CycleGAN": {
		Percent: 100 * float64(pref) / float64(w.judgments), Wilson: [2]float64{100 * wl, 100 * wh},
		Judgments: w.judgments, Preferred: pref, Workers: 20,
	}}
	return d
}
