package main

import (
	"encoding/json"
	"github.com/munit-eval/munit-eval/warning"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/synth"
)

// tinyWorld writes a small synthetic world (6 domain-A inputs, 30 real
// images) and its planted models into a temporary folder.
func tinyWorld(t *testing.T) (dir string, models map[string]string) {
	t.Helper()
	if err := model.Init(""); err != nil {
		t.Fatalf("onnxruntime not available (run make setup): %v", err)
	}
	dir = t.TempDir()
	if err := synth.WriteWorld(filepath.Join(dir, "world"), 1, 6, 30); err != nil {
		t.Fatal(err)
	}
	models, err := synth.BuildModels(filepath.Join(dir, "models"), 1)
	if err != nil {
		t.Fatal(err)
	}
	// The world's baselines are stochastic (test-time noise), so a plain
	// deterministic generator stands in for "one output per input".
	models[keyDeterministic] = writeGenerator(t, filepath.Join(dir, "models"), 3)
	return dir, models
}

// okJSON runs the CLI, wants exit 0, and decodes its stdout into v.
func okJSON(t *testing.T, v any, args ...string) result {
	t.Helper()
	r := cli(t, append([]string{"-q"}, args...)...)
	if r.code != 0 {
		t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("%v: stdout is not the JSON asked for: %v\n%s", args, err, r.stdout)
	}
	return r
}

// keyDeterministic names tinyWorld's deterministic generator (Tanh of the
// image, no latent, no noise) in its models map.
const keyDeterministic = "deterministic"

// TestMetricCommandsHappyPath runs lpips, is, cis, fid and kid on the tiny
// world and checks them against the planted truth (a deterministic
// generator has diversity 0 and CIS 0; MUNIT reaches 4 modes, so its CIS
// is near ln 4 and its diversity positive) and against `run` on the same
// samples: the commands and the evaluation file are one implementation, so
// the numbers must be equal to the last bit.
func TestMetricCommandsHappyPath(t *testing.T) {
	dir, models := tinyWorld(t)
	inputs, real := filepath.Join(dir, "world", "testA"), filepath.Join(dir, "world", "testB")
	out := filepath.Join(dir, "out")
	y := `out: out
seed: 5
protocol: {num_inputs: 6, samples_per_input: 8, pairs: 3, bootstrap: 200, fid_bootstrap: 20, kid_subsets: 10, kid_subset_size: 30}
models: {lpips: models/lpips.onnx, classifier: models/classifier.onnx}
datasets:
  - name: shapes
    inputs: world/testA
    real: world/testB
    methods:
      - {name: MUNIT, content_encoder: models/munit_content.onnx, decoder: models/munit_decoder.onnx}
      - {name: Tiny, generator: models/gen3.onnx}
report: false
`
	evalFile := filepath.Join(dir, "eval.yaml")
	if err := os.WriteFile(evalFile, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, "-q", "run", evalFile); r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.stderr)
	}
	readDoc := func(name string) *results.Document {
		doc, err := results.Read(filepath.Join(out, "results", "shapes__"+name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	runMUNIT, runCycle, runReal := readDoc("MUNIT"), readDoc("Tiny"), readDoc("Real_data")
	munitStore := filepath.Join(out, "store", "shapes", "MUNIT")
	common := []string{"--num-inputs", "6", "--seed", "5", "--json"}

	t.Run("lpips", func(t *testing.T) {
		var docs []*results.Document
		okJSON(t, &docs, append([]string{"lpips", "--lpips", models[synth.KeyLPIPS], "--samples", munitStore, "--pairs", "3",
			"--bootstrap", "200", "--real", real}, common...)...)
		if len(docs) != 2 || docs[0].Method != "MUNIT" || docs[1].Method != results.MethodRealData {
			t.Fatalf("want [MUNIT, Real data], got %d documents", len(docs))
		}
		for i, want := range []*results.Document{runMUNIT, runReal} {
			got, w := docs[i].Metrics.LPIPSDiversity, want.Metrics.LPIPSDiversity
			if got.Mean != w.Mean || got.CI95 != w.CI95 || got.N != w.N {
				t.Errorf("%s: lpips %v %v (%d pairs), run %v %v (%d pairs)", docs[i].Method, got.Mean, got.CI95, got.N, w.Mean, w.CI95, w.N)
			}
		}
		if d := docs[0].Metrics.LPIPSDiversity; !(d.Mean > 0) || d.N != 6*3 {
			t.Errorf("MUNIT diversity %v over %d pairs, want > 0 over 18", d.Mean, d.N)
		}
		// One shape whatever the flags: an array, also for one document.
		var one []*results.Document
		okJSON(t, &one, append([]string{"lpips", "--lpips", models[synth.KeyLPIPS], "--samples", munitStore, "--pairs", "3"}, common...)...)
		if len(one) != 1 || one[0].Metrics.LPIPSDiversity.Mean != docs[0].Metrics.LPIPSDiversity.Mean {
			t.Fatalf("lpips --json without --real: %d documents", len(one))
		}
	})

	t.Run("lpips deterministic generator", func(t *testing.T) {
		var docs []*results.Document
		store := filepath.Join(dir, "cli-store")
		okJSON(t, &docs, append([]string{"lpips", "--lpips", models[synth.KeyLPIPS], "--generator", models[keyDeterministic],
			"--inputs", inputs, "--store", store, "--pairs", "3"}, common...)...)
		if d := docs[0].Metrics.LPIPSDiversity; d.Mean != 0 || d.N != 18 {
			t.Fatalf("Tiny (deterministic) diversity %v over %d pairs, want exactly 0 over 18 (its one output repeated)", d.Mean, d.N)
		}
	})

	t.Run("is and cis", func(t *testing.T) {
		var is, cis results.Document
		okJSON(t, &is, append([]string{"is", "--classifier", models[synth.KeyClassifier], "--samples", munitStore,
			"--samples-per-input", "8", "--bootstrap", "200"}, common...)...)
		okJSON(t, &cis, append([]string{"cis", "--classifier", models[synth.KeyClassifier], "--samples", munitStore,
			"--samples-per-input", "8", "--bootstrap", "200"}, common...)...)
		if *is.Metrics.CIS != *runMUNIT.Metrics.CIS || *is.Metrics.IS != *runMUNIT.Metrics.IS || *is.Metrics.CISCI95 != *runMUNIT.Metrics.CISCI95 {
			t.Errorf("is: IS %v CIS %v, run: IS %v CIS %v", *is.Metrics.IS, *is.Metrics.CIS, *runMUNIT.Metrics.IS, *runMUNIT.Metrics.CIS)
		}
		if *cis.Metrics.CIS != *is.Metrics.CIS || *cis.Metrics.IS != *is.Metrics.IS {
			t.Errorf("is and cis differ: %v vs %v", *is.Metrics.CIS, *cis.Metrics.CIS)
		}
		// Planted: 4 equally likely modes, each classified with certainty:
		// CIS = ln 4 less about (4-1)/(2K) at K = 8, with the noise of 6 inputs.
		if c := *is.Metrics.CIS; c < synth.PlantedCIS(4)-0.5 || c > synth.PlantedCIS(4)+0.01 {
			t.Errorf("MUNIT CIS %v, want within [ln 4 - 0.5, ln 4]", c)
		}
		var det results.Document
		okJSON(t, &det, append([]string{"cis", "--classifier", models[synth.KeyClassifier], "--generator", models[keyDeterministic],
			"--inputs", inputs, "--store", filepath.Join(dir, "cli-store"), "--samples-per-input", "8", "--bootstrap", "0"}, common...)...)
		if c := *det.Metrics.CIS; math.Abs(c) > 1e-6 || det.Metrics.CISCI95 != nil {
			t.Errorf("Tiny (deterministic) CIS %v (interval %v), want 0 and no interval with --bootstrap 0", c, det.Metrics.CISCI95)
		}
		if math.Abs(*det.Metrics.CIS-*runCycle.Metrics.CIS) > 1e-12 {
			t.Errorf("Tiny CIS %v, run %v", *det.Metrics.CIS, *runCycle.Metrics.CIS)
		}
	})

	t.Run("fid and kid", func(t *testing.T) {
		var fid, kid results.Document
		args := append([]string{"--classifier", models[synth.KeyClassifier], "--samples", munitStore, "--real", real,
			"--fid-bootstrap", "20", "--kid-subsets", "10", "--kid-subset-size", "30"}, common...)
		okJSON(t, &fid, append([]string{"fid"}, args...)...)
		okJSON(t, &kid, append([]string{"kid"}, args...)...)
		f, w := fid.Metrics.FID, runMUNIT.Metrics.FID
		if f.Value != w.Value || *f.CI95 != *w.CI95 || fid.Metrics.KID.Mean != runMUNIT.Metrics.KID.Mean {
			t.Errorf("fid: FID %v %v KID %v, run: FID %v %v KID %v", f.Value, *f.CI95, fid.Metrics.KID.Mean, w.Value, *w.CI95, runMUNIT.Metrics.KID.Mean)
		}
		// 0 samples per input (the default) takes all the store holds.
		if f.NumSamples != 6*8 || f.NumReal != 30 || !(f.Value >= 0) {
			t.Errorf("FID %v between %d samples and %d real images, want >= 0 between 48 and 30", f.Value, f.NumSamples, f.NumReal)
		}
		if kid.Metrics.FID.Value != f.Value || kid.Metrics.KID.Mean != fid.Metrics.KID.Mean {
			t.Errorf("fid and kid differ")
		}
		if _, ok := fid.Models[results.ModelFeatures]; !ok {
			t.Errorf("the features model is not recorded under %q: %v", results.ModelFeatures, fid.Models)
		}
		var few results.Document
		okJSON(t, &few, append([]string{"fid", "--num-real", "12"}, args...)...)
		if few.Metrics.FID.NumReal != 12 {
			t.Errorf("--num-real 12 used %d real images", few.Metrics.FID.NumReal)
		}
	})

	t.Run("default store is announced once", func(t *testing.T) {
		work, cache := t.TempDir(), t.TempDir()
		t.Setenv("XDG_CACHE_HOME", cache)
		store := filepath.Join(cache, "munit-eval")
		cmd := []string{"lpips", "--lpips", models[synth.KeyLPIPS], "--generator", models[keyDeterministic], "--inputs", inputs, "--num-inputs", "2", "--pairs", "1"}
		r := runIn(t, work, cmd...)
		if r.code != 0 || strings.Count(r.stderr, "made the per-user store "+store) != 1 {
			t.Fatalf("exit %d, stderr %q: want one line naming %s", r.code, r.stderr, store)
		}
		if _, err := os.Stat(filepath.Join(store, "Tiny")); err != nil {
			t.Fatal(err)
		}
		if r := runIn(t, work, cmd...); r.code != 0 || strings.Contains(r.stderr, "store") {
			t.Errorf("the store announced again: exit %d, %q", r.code, r.stderr)
		}
		if r := runIn(t, work, append(cmd, "--store", "mine")...); strings.Contains(r.stderr, "store") {
			t.Errorf("a named store is announced: %q", r.stderr)
		}
		if _, err := os.Stat(filepath.Join(work, "store")); err == nil {
			t.Error("./store was made in the folder the command ran in")
		}
	})
}

// runIn runs the CLI quietly in dir (with the library found here).
func runIn(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return cliIn(t, dir, append([]string{"-q", "--ort-lib", model.LibraryPath()}, args...)...)
}

// TestMetricFlagBounds: the CLI refuses protocol values out of bounds with
// the evaluation file's rule (one Validate), naming the flag, with one
// "munit-eval:" prefix.
func TestMetricFlagBounds(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"lpips", "--lpips", "l.onnx", "--real", ".", "--bootstrap", "0"}, "lpips: --bootstrap must be at least 1"},
		{[]string{"lpips", "--lpips", "l.onnx", "--real", ".", "--pairs", "0"}, "--pairs must be at least 1"},
		{[]string{"lpips", "--lpips", "l.onnx", "--real", ".", "--pairing", "all", "--samples-per-input", "1"}, "--samples-per-input must be at least 2 for pairing all"},
		{[]string{"lpips", "--lpips", "l.onnx", "--real", ".", "--num-inputs", "0"}, "--num-inputs must be at least 1"},
		{[]string{"is", "--logits", "x.npy", "--bootstrap", "-1"}, "is: --bootstrap must be at least 0"},
		{[]string{"cis", "--logits", "x.npy", "--splits", "0"}, "cis: --splits must be at least 1"},
		{[]string{"fid", "--classifier", "c.onnx", "--samples", "s", "--real", ".", "--kid-subsets", "0"}, "fid: --kid-subsets must be at least 1"},
		{[]string{"kid", "--classifier", "c.onnx", "--samples", "s", "--real", ".", "--num-real", "-1"}, "kid: --num-real must be at least 0"},
		{[]string{"kid", "--classifier", "c.onnx", "--samples", "s", "--real", ".", "--fid-interval", "maybe"}, `--fid-interval "maybe": want auto, on or off`},
		{[]string{"fid", "--classifier", "c.onnx", "--real", "."}, "fid: give --generator"},
		{[]string{"is", "--classifier", "c.onnx", "--generator", "g.onnx"}, "is: --generator needs --inputs"},
	}
	for _, c := range cases {
		r := cli(t, c.args...)
		wantBadInput(t, r, c.want)
		if strings.Count(r.stderr, "munit-eval") != 1 {
			t.Errorf("%v: %q: want one munit-eval prefix", c.args, r.stderr)
		}
	}
}

// TestRunWarnsOnMethodMismatch: a generator whose munit_eval.method
// metadata names another method than the evaluation file's name is
// measured, with a warning in its results document and on stderr (run
// filed a CycleGAN* export under MUNIT without a word).
func TestRunWarnsOnMethodMismatch(t *testing.T) {
	dir, models := tinyWorld(t)
	gen := writeGenerator(t, dir, 3) // munit_eval.method: Tiny
	y := `out: out
protocol: {num_inputs: 2, pairs: 2, bootstrap: 10}
metrics: [lpips]
models: {lpips: ` + models[synth.KeyLPIPS] + `}
datasets:
  - name: shapes
    inputs: world/testA
    methods:
      - {name: MUNIT, generator: ` + gen + `}
      - {name: Tiny, generator: ` + gen + `}
report: false
`
	evalFile := filepath.Join(dir, "eval.yaml")
	if err := os.WriteFile(evalFile, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	r := cli(t, "-q", "run", evalFile)
	if r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.stderr)
	}
	want := `the generator's metadata names the method "Tiny", but it is evaluated as "MUNIT"`
	if !strings.Contains(r.stderr, "shapes / MUNIT: warning: "+want) || strings.Count(r.stderr, "metadata names") != 1 {
		t.Errorf("stderr lacks the warning once:\n%s", r.stderr)
	}
	for name, wantIt := range map[string]bool{"MUNIT": true, "Tiny": false} {
		doc, err := results.Read(filepath.Join(dir, "out", "results", "shapes__"+name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(warning.Details(doc.Warnings), want); got != wantIt {
			t.Errorf("%s: warning in the document: %v, want %v (%q)", name, got, wantIt, doc.Warnings)
		}
	}
	if !strings.Contains(r.stdout, "metadata names the method") {
		t.Errorf("the table does not carry the warning:\n%s", r.stdout)
	}
}
