// Package demo is munit-eval's synthetic world, evaluated end to end: it
// writes the world (synth), its planted models and an evaluation file that
// package pipeline runs, and the simulated AMT study (amt) whose preference
// goes into MUNIT's results document. It lives apart from pipeline so that
// `munit-eval run` does not link the synthetic world or the study.
package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/munit-eval/munit-eval/amt"
	"github.com/munit-eval/munit-eval/pipeline"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/synth"
	"github.com/munit-eval/munit-eval/translate"
)

// Options size the demo. DefaultOptions runs on two CPU cores in
// well under two minutes.
type Options struct {
	Seed uint64
	// Inputs is the number of domain-A inputs M, Real the number of
	// domain-B real images, Samples the samples per input K (the paper's 100).
	Inputs, Real, Samples int
	// Questions per baseline in the simulated AMT study (0 skips it).
	Questions int
}

// DefaultOptions are the demo's sizes.
func DefaultOptions() Options {
	return Options{Seed: 1, Inputs: 40, Real: 200, Samples: 100, Questions: 200}
}

// Preferences are the preferences the demo's simulated AMT workers are
// given: the MUNIT paper's edges→shoes Quality column (share of judgments
// preferring the baseline over MUNIT), so the analysis must recover them.
var Preferences = map[string]float64{"UNIT": 0.374, "CycleGAN": 0.360, "CycleGAN*": 0.295, "BicycleGAN": 0.567}

// methods are the synthetic world's methods in the paper's row order.
var methods = []struct{ name, yaml string }{
	{"UNIT", "generator: models/unit.onnx"},
	{"CycleGAN", "generator: models/cyclegan.onnx"},
	{"CycleGAN*", "generator: models/cyclegan_star.onnx"},
	{"MUNIT", "content_encoder: models/munit_content.onnx\n        decoder: models/munit_decoder.onnx"},
	{"BicycleGAN", "generator: models/bicyclegan.onnx"},
}

// Dataset is the synthetic world's dataset name.
const Dataset = "shapes"

// SetUp writes the synthetic world (world/testA, world/testB), its
// planted models (models/) and an evaluation file (eval.yaml) into dir, and
// returns the parsed evaluation.
func SetUp(dir string, o Options) (*pipeline.Config, error) {
	if err := synth.WriteWorld(filepath.Join(dir, "world"), o.Seed, o.Inputs, o.Real); err != nil {
		return nil, err
	}
	if _, err := synth.BuildModels(filepath.Join(dir, "models"), o.Seed); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `# The synthetic world's evaluation, written by munit-eval demo.
out: .
seed: 0
protocol:
  num_inputs: %d
  samples_per_input: %d
  pairs: 19
  pairing: independent
  kid_subset_size: %d
models:
  lpips: models/lpips.onnx
  classifier: models/classifier.onnx
metrics: [lpips, is, fid, kid]
datasets:
  - name: %s
    inputs: world/testA
    real: world/testB
    methods:
`, o.Inputs, o.Samples, o.Real, Dataset)
	for _, m := range methods {
		fmt.Fprintf(&b, "      - name: %s\n        %s\n", m.name, m.yaml)
	}
	p := filepath.Join(dir, "eval.yaml")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return pipeline.Parse(p, b.Bytes())
}

// Run is the demo command's work: it sets up the world in dir (SetUp),
// evaluates it under run (whose Log hears every step; nil: nothing),
// runs the simulated study when o asks for questions (AMT), and finishes
// as a run does, printing the comparison tables to w. With setupOnly it
// stops after the set-up.
func Run(ctx context.Context, w io.Writer, dir string, setupOnly bool, o Options, run pipeline.Options) error {
	start, log := time.Now(), run.Log
	if log == nil {
		log = io.Discard
	}
	c, err := SetUp(dir, o)
	if err != nil {
		return err
	}
	if setupOnly {
		fmt.Fprintf(log, "wrote the synthetic world, its models and eval.yaml to %s\n", dir)
		return nil
	}
	out, err := pipeline.Run(ctx, c, run)
	if err != nil {
		return err
	}
	if o.Questions > 0 {
		if !run.Quiet {
			fmt.Fprintf(log, "%s: simulated AMT study\n", Dataset)
		}
		if err := AMT(ctx, c, out, o); err != nil {
			return err
		}
	}
	if err := c.Finish(w, out, run.Log, false); err != nil {
		return err
	}
	fmt.Fprintf(log, "demo finished in %.1f s\n", time.Since(start).Seconds())
	return nil
}

// AMT runs the simulated human study of the demo: an AMT batch
// comparing MUNIT with each baseline (c's store), answered by simulated
// workers who prefer each baseline with Preferences (plus two careless
// workers, who fail catch questions and are excluded), analysed as a real
// results file would be. The preference goes into MUNIT's results document,
// labelled simulated, which is rewritten.
func AMT(ctx context.Context, c *pipeline.Config, out *pipeline.Outcome, o Options) error {
	store := c.StoreDir(Dataset)
	cfg := amt.DefaultMakeConfig()
	for _, m := range methods {
		dir, err := translate.MethodDir(m.name)
		if err != nil {
			return err
		}
		cfg.Methods = append(cfg.Methods, amt.Method{Name: m.name, Store: filepath.Join(store, dir)})
	}
	cfg.Reference = "MUNIT"
	cfg.Dataset = Dataset
	cfg.Questions = o.Questions
	cfg.Seed = int64(o.Seed)
	cfg.Out = filepath.Join(c.Resolve(c.Out), "amt")
	cfg.Force = true
	key, err := amt.Make(ctx, cfg)
	if err != nil {
		return fmt.Errorf("demo: amt make: %w", err)
	}
	csv, err := amt.Simulate(key, Preferences, 2, o.Seed)
	if err != nil {
		return err
	}
	csvPath := filepath.Join(cfg.Out, "simulated-results.csv")
	if err := os.WriteFile(csvPath, csv, 0o644); err != nil {
		return err
	}
	rows, warnings, err := amt.ReadResults(csvPath, bytes.NewReader(csv), key)
	if err != nil {
		return err
	}
	opts := amt.DefaultAnalyzeOptions()
	opts.Seed = o.Seed
	a, err := amt.Analyze(key, rows, opts)
	if err != nil {
		return err
	}
	pref := a.Document(key, Dataset)
	for i, doc := range out.Docs {
		if doc.Method != "MUNIT" || doc.Dataset != Dataset {
			continue
		}
		doc.Metrics.Preference = map[string]results.Preference{}
		for name, p := range pref.Metrics.Preference {
			p.Simulated = true
			doc.Metrics.Preference[name] = p
		}
		doc.Warnings = append(doc.Warnings, warnings...)
		doc.Warnings = append(doc.Warnings, pref.Warnings...)
		return results.Write(out.Paths[i], doc)
	}
	return fmt.Errorf("demo: no MUNIT results document to add the preference to")
}
