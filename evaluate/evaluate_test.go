package evaluate

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/lpips"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/synth"
	"github.com/munit-eval/munit-eval/warning"
)

// entries are the registry entries of keys (the defaults when none), in
// the registry's order.
func entries(t testing.TB, keys ...string) []*registry.Entry {
	t.Helper()
	pl := Plan{Metrics: keys}
	es, err := pl.Entries()
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// world writes a tiny synthetic world (4 inputs, 12 real images) and its
// planted models.
func world(t *testing.T) (dir string, models map[string]string) {
	t.Helper()
	if err := model.Init(""); err != nil {
		t.Fatalf("onnxruntime not available (run make setup): %v", err)
	}
	dir = t.TempDir()
	if err := synth.WriteWorld(filepath.Join(dir, "world"), 2, 4, 12); err != nil {
		t.Fatal(err)
	}
	models, err := synth.BuildModels(filepath.Join(dir, "models"), 2)
	if err != nil {
		t.Fatal(err)
	}
	return dir, models
}

// TestMeasurePlanted acquires and measures the planted generators: the
// deterministic CycleGAN has its one output repeated (diversity exactly 0,
// CIS 0), the 4-mode MUNIT has a CIS near ln 4; a store read back gives the
// same numbers and describes itself.
func TestMeasurePlanted(t *testing.T) {
	dir, models := world(t)
	ctx := context.Background()
	p := DefaultProtocol()
	p.NumInputs, p.SamplesPerInput, p.Pairs, p.Bootstrap, p.Seed = 4, 12, 2, 100, 7
	p.KIDSubsets, p.KIDSubsetSize, p.FIDBootstrap = 5, 12, 0
	w := entries(t)
	s, err := OpenScorers(ModelFiles{LPIPS: models[synth.KeyLPIPS], Classifier: models[synth.KeyClassifier]}, registry.NeedsOf(w), model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	realFiles, err := RealFiles(filepath.Join(dir, "world", "testB"), p)
	if err != nil {
		t.Fatal(err)
	}
	real := realSet("real", realFiles, 0)
	store := filepath.Join(dir, "store")
	measure := func(src Source) *results.Document {
		t.Helper()
		pm := p
		smp, err := Acquire(ctx, src, &pm, pm.SamplesNeeded(w), RunOptions{Threads: 1, Quiet: true})
		if err != nil {
			t.Fatal(err)
		}
		doc, err := Measure(ctx, s, Job{Method: smp.Method, Dataset: "shapes", Protocol: pm, Metrics: w, Set: smp,
			Real: real, Cache: store, Quiet: true})
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	inputs := filepath.Join(dir, "world", "testA")
	cyc := measure(Source{Generator: models[synth.KeyCycleGAN], Inputs: inputs, Store: store})
	if d := cyc.Metrics.LPIPSDiversity; d.Mean != 0 || d.N != 4*2 {
		t.Errorf("CycleGAN diversity %v over %d pairs, want exactly 0 over 8", d.Mean, d.N)
	}
	if c := *cyc.Metrics.CIS; math.Abs(c) > 1e-6 {
		t.Errorf("CycleGAN CIS %v, want 0", c)
	}
	munit := measure(Source{Method: "MUNIT", Generator: models[synth.KeyMUNITContent], Decoder: models[synth.KeyMUNITDecoder], Inputs: inputs, Store: store})
	// ln 4 less about (4-1)/(2K) = 0.125 at K = 12, with 4 inputs' noise.
	if c := *munit.Metrics.CIS; c < synth.PlantedCIS(4)-0.5 || c > synth.PlantedCIS(4)+1e-9 {
		t.Errorf("MUNIT CIS %v, want within [ln 4 - 0.5, ln 4]", c)
	}
	if munit.Protocol.SamplesPerInput != 12 || munit.Protocol.PairsPerInput != 2 || munit.Metrics.FID == nil || munit.Metrics.KID == nil ||
		munit.Models[results.ModelContentEncoder].SHA256 == "" || munit.Models[results.ModelClassifier].File != "classifier.onnx" {
		t.Errorf("MUNIT document: protocol %+v, models %v", munit.Protocol, munit.Models)
	}
	// Where each method's variation comes from, copied from the store's
	// manifest: CycleGAN's noise inputs, MUNIT's style code.
	if cyc.Protocol.Randomness != "noise" || munit.Protocol.Randomness != "style" {
		t.Errorf("randomness: CycleGAN %q, MUNIT %q; want noise, style", cyc.Protocol.Randomness, munit.Protocol.Randomness)
	}
	if _, ok := munit.Models[results.ModelFeatures]; ok {
		t.Error("the features model is recorded twice (it is the classifier)")
	}
	// Read back from the store with another seed, not asked: the store's
	// seed describes the samples and seeds the bootstrap, so the numbers
	// match.
	p.Seed = 99
	back := measure(Source{Samples: filepath.Join(store, "MUNIT")})
	p.Seed = 7
	if *back.Metrics.CIS != *munit.Metrics.CIS || *back.Metrics.CISCI95 != *munit.Metrics.CISCI95 || back.Protocol.Seed != 7 ||
		back.Protocol.Samples != filepath.Join(store, "MUNIT") || back.Metrics.LPIPSDiversity.Mean != munit.Metrics.LPIPSDiversity.Mean {
		t.Errorf("read back: CIS %v seed %d samples %q, want %v, 7", *back.Metrics.CIS, back.Protocol.Seed, back.Protocol.Samples, *munit.Metrics.CIS)
	}

	// The real-data row: 4 x 2 pairs of distinct real images.
	row, err := Measure(ctx, s, Job{Dataset: "shapes", Protocol: p, Metrics: entries(t, "lpips"), RealRow: true, RealInputs: 4, Set: real})
	if err != nil {
		t.Fatal(err)
	}
	if d := row.Metrics.LPIPSDiversity; row.Method != results.MethodRealData || d.N != 8 || !(d.Mean > 0) || row.Protocol.Real != "real" ||
		row.Protocol.Randomness != "" {
		t.Errorf("real row %s: %d pairs, mean %v", row.Method, d.N, d.Mean)
	}
}

// TestWrongModelsRefused: a model of another role is refused by its path
// and role before any work.
func TestWrongModelsRefused(t *testing.T) {
	_, models := world(t)
	if err := CheckSource(Source{Generator: models[synth.KeyLPIPS]}); err == nil || !strings.Contains(err.Error(), "lpips.onnx") ||
		!strings.Contains(err.Error(), "generator contract") {
		t.Errorf("generator: %v", err)
	}
	if err := CheckSource(Source{Generator: models[synth.KeyMUNITContent], Decoder: models[synth.KeyUNIT]}); err == nil ||
		!strings.Contains(err.Error(), "decoder contract") {
		t.Errorf("decoder: %v", err)
	}
	if err := CheckSource(Source{Generator: models[synth.KeyMUNITContent], Decoder: models[synth.KeyMUNITDecoder]}); err != nil {
		t.Errorf("the planted pair: %v", err)
	}
	if _, err := OpenScorers(ModelFiles{Classifier: models[synth.KeyLPIPS]}, registry.NeedLogits, model.Options{Threads: 1}); err == nil ||
		!strings.Contains(err.Error(), "lpips.onnx") {
		t.Errorf("classifier: %v", err)
	}
	if _, err := OpenScorers(ModelFiles{}, registry.NeedFeatures|registry.NeedReal, model.Options{Threads: 1}); err == nil {
		t.Error("FID without a model accepted")
	}
}

// TestMeasureTrials runs DSGAN's repeated trials and MSGAN's random pairs
// on the planted MUNIT: trial t's mean is the mean of every input's pairs
// 2t and 2t+1 recomputed from the document's pairs, the spread their
// population standard deviation; the preset is recorded, and its LPIPS
// version warned about when the model's differs.
func TestMeasureTrials(t *testing.T) {
	dir, models := world(t)
	ctx := context.Background()
	w := entries(t, registry.KeyLPIPS)
	s, err := OpenScorers(ModelFiles{LPIPS: models[synth.KeyLPIPS]}, registry.NeedsOf(w), model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := DefaultProtocol()
	p.NumInputs, p.Pairs, p.Trials, p.Bootstrap, p.Seed = 4, 2, 3, 50, 7
	p.Given = map[string]bool{"num_inputs": true, "pairs": true, "trials": true}
	if err := ApplyPreset(&p, "dsgan"); err != nil {
		t.Fatal(err)
	}
	p.Select = "first"
	src := Source{Method: "MUNIT", Generator: models[synth.KeyMUNITContent], Decoder: models[synth.KeyMUNITDecoder],
		Inputs: filepath.Join(dir, "world", "testA"), Store: filepath.Join(dir, "store")}
	measure := func(p Protocol) *results.Document {
		t.Helper()
		set, err := Acquire(ctx, src, &p, p.SamplesNeeded(w), RunOptions{Threads: 1, Quiet: true})
		if err != nil {
			t.Fatal(err)
		}
		doc, err := Measure(ctx, s, Job{Method: set.Method, Dataset: "shapes", Protocol: p, Metrics: w, Set: set, Quiet: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := results.Validate("trials", doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	doc := measure(p)
	d := doc.Metrics.LPIPSDiversity
	tr := d.Trials
	if tr == nil || tr.Count != 3 || tr.PairsPerTrial != 2 || d.N != 4*6 || doc.Protocol.Preset != "dsgan" {
		t.Fatalf("trials %+v, %d pairs, preset %q", tr, d.N, doc.Protocol.Preset)
	}
	var ss float64
	for k := range 3 {
		var sum float64
		for _, pr := range d.Pairs {
			if pr.A/4 == k { // pairs (4k, 4k+1) and (4k+2, 4k+3): trial k's
				sum += pr.Distance
			}
		}
		if want := sum / 8; math.Abs(tr.Means[k]-want) > 1e-12 {
			t.Errorf("trial %d mean %v, recomputed %v", k, tr.Means[k], want)
		}
		ss += (tr.Means[k] - d.Mean) * (tr.Means[k] - d.Mean)
	}
	if math.Abs(tr.Mean-d.Mean) > 1e-12 || math.Abs(tr.Std-math.Sqrt(ss/3)) > 1e-12 || !(tr.Std > 0) {
		t.Errorf("trials mean %v std %v, want %v and %v", tr.Mean, tr.Std, d.Mean, math.Sqrt(ss/3))
	}
	warned := slices.ContainsFunc(doc.Warnings, func(w warning.Warning) bool { return w.Code == CodePresetLPIPS })
	if warned != (s.LPIPS.Version != "0.0") {
		t.Errorf("LPIPS v%s under dsgan (v0.0): warned %v", s.LPIPS.Version, warned)
	}

	// MSGAN's random pairs: 5 distinct pairs of 6 samples, the same for
	// every input, and the seed's alone.
	q := DefaultProtocol()
	q.NumInputs, q.Bootstrap, q.Seed, q.Given = 4, 50, 7, map[string]bool{"num_inputs": true}
	if err := ApplyPreset(&q, "msgan"); err != nil {
		t.Fatal(err)
	}
	q.SamplesPerInput, q.Pairs = 6, 5
	doc = measure(q)
	d = doc.Metrics.LPIPSDiversity
	want := lpips.PairIndices(lpips.Random, 5, 6, 7)
	for i, pr := range d.Pairs {
		if ab := want[i%5]; pr.A != ab[0] || pr.B != ab[1] || pr.Input != i/5 {
			t.Fatalf("pair %d is input %d (%d, %d), want input %d %v", i, pr.Input, pr.A, pr.B, i/5, ab)
		}
	}
	if d.Pairing != "random" || d.Trials != nil || d.N != 20 {
		t.Fatalf("msgan: pairing %q, trials %v, %d pairs", d.Pairing, d.Trials, d.N)
	}
}
