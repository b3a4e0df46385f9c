package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/pipeline"
	"github.com/munit-eval/munit-eval/results"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// yamlKeys lists the keys of an evaluation file, sections joined by dots
// ("protocol.num_inputs", "datasets.methods.generator"): every yaml tag of
// pipeline.Config, through its sections and lists.
func yamlKeys(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		ft := t.Field(i).Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() != reflect.Struct || len(yamlKeys(ft, "")) == 0 {
			out = append(out, prefix+tag) // a value, or a leaf such as pipeline.Path
			continue
		}
		out = append(out, yamlKeys(ft, prefix+tag+".")...)
	}
	return out
}

// TestFlagsMatchYAMLKeys: every flag of the metric commands sets a key of
// the evaluation file, and every key of the file has a flag, through the
// one table planKeys; the exceptions say why.
func TestFlagsMatchYAMLKeys(t *testing.T) {
	fileOnly := map[string]string{
		"out":          "run's output folder (the commands write --results FILE and keep samples in --store)",
		"report":       "run's report (the commands print tables; munit-eval report makes one)",
		"keep_samples": "run --keep-samples: which of the run's store files stay (a metric command's --store is translate's)",
		"seeds":        "run repeats a whole file per seed and averages; a command measures one --seed",
		// The metric commands score reference-guided and multi-domain
		// samples from translate's store (--samples): translate has these.
		"datasets.methods.style_encoder":   "translate --style-encoder",
		"datasets.methods.references":      "translate --references",
		"datasets.methods.reference_order": "translate --reference-order",
		"datasets.methods.mapping":         "translate --mapping",
		"datasets.methods.target_domain":   "translate --target-domain",
		"datasets.domains":                 "run expands StarGAN v2's folders into tasks; a command scores one task's folders",
	}
	flagOnly := map[string]string{
		"results": "output", "json": "output", "wide": "output", "help": "cobra's",
		"store": "the file's store is OUT/store/<dataset>",
		"force": "run --force", "shard": "run --shard", "shards": "run --shards",
		"prdc":   "prdc in --metrics",
		"logits": "is --logits scores a file: no models, no samples", "classes": "is --logits's class names",
		"real-features": "cmmd and fd --features X.npy score embeddings files: no models, no samples",
	}
	keys := yamlKeys(reflect.TypeOf(pipeline.Config{}), "")
	rows := map[string]bool{}
	flags := map[string]bool{}
	for _, r := range planKeys {
		rows[r.key], flags[r.flag] = true, true
		if !slices.Contains(keys, r.key) {
			t.Errorf("planKeys row %q: no such key in the evaluation file", r.key)
		}
	}
	for _, k := range keys {
		if !rows[k] && fileOnly[k] == "" {
			t.Errorf("evaluation-file key %q has no flag (add a planKeys row)", k)
		}
	}
	for _, name := range []string{"lpips", "is", "cis", "fid", "kid", "prdc", "cmmd", "fd"} {
		cmd, _, err := rootCmd.Find([]string{name})
		if err != nil || cmd.Name() != name {
			t.Fatalf("no command %s", name)
		}
		cmd.InitDefaultHelpFlag()
		cmd.NonInheritedFlags().VisitAll(func(f *pflag.Flag) {
			if !flags[f.Name] && flagOnly[f.Name] == "" {
				t.Errorf("%s --%s has no evaluation-file key (add a planKeys row)", name, f.Name)
			}
		})
		for fl := range flags {
			if cmd.Flags().Lookup(fl) == nil {
				t.Errorf("%s lacks --%s", name, fl)
			}
		}
	}
}

// TestCommandsEqualRun: on the demo world, every metric command gives the
// numbers `run` gives with the same settings: the same metric values, pair
// counts and samples per input; a command given run's metrics gives run's
// whole document; and the real-data row draws as many pairs either way.
// Then a default translate serves cis with its defaults, with run's
// numbers.
func TestCommandsEqualRun(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	if r := cli(t, "-q", "demo", "--setup-only", "--out", dir, "--inputs", "6", "--real", "40", "--samples-per-input", "10"); r.code != 0 {
		t.Fatalf("demo: %s", r.stderr)
	}
	evalFile := filepath.Join(dir, "eval.yaml")
	y, _ := os.ReadFile(evalFile)
	y = []byte(strings.Replace(string(y), "metrics: [lpips, is, fid, kid]", "metrics: [lpips, is, fid, kid, prdc]\nreport: false", 1))
	os.WriteFile(evalFile, y, 0o644)
	if r := cliIn(t, dir, "-q", "--ort-lib", model.LibraryPath(), "run", "eval.yaml"); r.code != 0 {
		t.Fatalf("run: %s", r.stderr)
	}
	readDoc := func(name string) *results.Document {
		doc, err := results.Read(filepath.Join(dir, "results", "shapes__"+name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	// The file's settings as flags, relative to the demo folder as the file
	// is; a metric's own settings go to its command only (another refuses
	// them: they would change nothing it computes).
	settings := []string{"--num-inputs", "6", "--samples-per-input", "10", "--seed", "0",
		"--lpips", "models/lpips.onnx", "--classifier", "models/classifier.onnx", "--dataset", "shapes", "--real", "world/testB", "--json"}
	sources := map[string][]string{
		"MUNIT":    {"--generator", "models/munit_content.onnx", "--decoder", "models/munit_decoder.onnx", "--inputs", "world/testA", "--store", "store/shapes", "--method", "MUNIT"},
		"CycleGAN": {"--samples", "store/shapes/CycleGAN"},
	}
	command := func(v any, name string, src []string, extra ...string) {
		t.Helper()
		r := cliIn(t, dir, append(append(append([]string{"-q", "--ort-lib", model.LibraryPath(), name}, src...), settings...), extra...)...)
		if r.code != 0 {
			t.Fatalf("%s %v: exit %d: %s", name, src, r.code, r.stderr)
		}
		if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	realRow := readDoc("Real_data")
	for method, src := range sources {
		want := readDoc(method)
		var lp []*results.Document
		command(&lp, "lpips", src, "--pairs", "19")
		if len(lp) != 2 || !reflect.DeepEqual(lp[0].Metrics.LPIPSDiversity, want.Metrics.LPIPSDiversity) ||
			!reflect.DeepEqual(lp[1].Metrics.LPIPSDiversity, realRow.Metrics.LPIPSDiversity) || lp[1].Protocol.NumInputs != realRow.Protocol.NumInputs {
			t.Errorf("%s: lpips and its real-data row differ from run's", method)
		}
		var is, fid, prdc results.Document
		command(&is, "cis", src)
		command(&fid, "kid", src, "--kid-subset-size", "40")
		command(&prdc, "prdc", src)
		got := results.Metrics{IS: is.Metrics.IS, CIS: is.Metrics.CIS, ISCI95: is.Metrics.ISCI95, CISCI95: is.Metrics.CISCI95,
			ISSplits: is.Metrics.ISSplits, FID: fid.Metrics.FID, KID: fid.Metrics.KID, PRDC: prdc.Metrics.PRDC}
		w := results.Metrics{IS: want.Metrics.IS, CIS: want.Metrics.CIS, ISCI95: want.Metrics.ISCI95, CISCI95: want.Metrics.CISCI95,
			ISSplits: want.Metrics.ISSplits, FID: want.Metrics.FID, KID: want.Metrics.KID, PRDC: want.Metrics.PRDC}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: cis, kid and prdc differ from run's", method)
		}
		for _, d := range []results.Document{is, fid, prdc} {
			if d.Protocol.SamplesPerInput != want.Protocol.SamplesPerInput || d.Protocol.NumInputs != want.Protocol.NumInputs {
				t.Errorf("%s: %d inputs x %d samples, run %d x %d", method, d.Protocol.NumInputs, d.Protocol.SamplesPerInput,
					want.Protocol.NumInputs, want.Protocol.SamplesPerInput)
			}
		}
		// Given run's metrics, a command writes run's document.
		var all []*results.Document
		command(&all, "lpips", src, "--metrics", "lpips,is,fid,kid,prdc", "--pairs", "19", "--kid-subset-size", "40")
		all[0].Created, want.Created = "", ""
		all[0].Protocol.Inputs, all[0].Protocol.Samples, want.Protocol.Inputs, want.Protocol.Samples = "", "", "", ""
		if !reflect.DeepEqual(all[0], want) {
			t.Errorf("%s: lpips --metrics lpips,is,fid,kid,prdc: not run's document", method)
		}
	}

	// translate with its defaults, then cis with its defaults, is run with
	// the default metrics on the same world.
	work := t.TempDir()
	world := filepath.Join(dir, "world", "testA")
	if r := runIn(t, work, "translate", "--generator", filepath.Join(dir, "models", "munit_content.onnx"), "--decoder", filepath.Join(dir, "models", "munit_decoder.onnx"),
		"--inputs", world, "--out", "store", "--method", "MUNIT"); r.code != 0 {
		t.Fatalf("translate: %s", r.stderr)
	}
	var cis results.Document
	r := runIn(t, work, "cis", "--classifier", filepath.Join(dir, "models", "classifier.onnx"), "--samples", "store/MUNIT", "--json")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &cis) != nil {
		t.Fatalf("cis after a default translate: exit %d: %s", r.code, r.stderr)
	}
	def := strings.Join([]string{"out: out", "models: {classifier: " + filepath.Join(dir, "models", "classifier.onnx") + "}", "metrics: [is]", "report: false",
		"datasets:", "  - name: shapes", "    inputs: " + world, "    methods:", "      - {name: MUNIT, samples: store/MUNIT}", ""}, "\n")
	os.WriteFile(filepath.Join(work, "eval.yaml"), []byte(def), 0o644)
	if r := runIn(t, work, "run", "eval.yaml"); r.code != 0 {
		t.Fatalf("run with defaults: %s", r.stderr)
	}
	want, err := results.Read(filepath.Join(work, "out", "results", "shapes__MUNIT.json"))
	if err != nil {
		t.Fatal(err)
	}
	if cis.Protocol.SamplesPerInput != 100 || *cis.Metrics.CIS != *want.Metrics.CIS || *cis.Metrics.IS != *want.Metrics.IS {
		t.Errorf("cis after a default translate: K %d CIS %v, run's CIS %v", cis.Protocol.SamplesPerInput, *cis.Metrics.CIS, *want.Metrics.CIS)
	}
}

// TestFlagDefaultsAreTheFile's: every metric command's planKeys flags
// default to what the evaluation file defaults to (evaluate.Protocol's
// defaults, the file's seed 0 and empty paths), as docs/commands.md says;
// --metrics alone differs by command.
func TestFlagDefaultsAreTheFiles(t *testing.T) {
	file := &planFlags{Command: evaluate.Command{Plan: evaluate.Plan{Protocol: evaluate.DefaultProtocol()}}}
	ref := &cobra.Command{Use: "ref"}
	file.register(ref)
	for _, name := range []string{"lpips", "is", "cis", "fid", "kid", "prdc", "cmmd", "fd"} {
		cmd, _, err := rootCmd.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range planKeys {
			if r.flag == "metrics" {
				continue
			}
			got, want := cmd.Flags().Lookup(r.flag), ref.Flags().Lookup(r.flag)
			if got == nil || want == nil || got.DefValue != want.DefValue {
				t.Errorf("%s --%s: default %v, the file's %v", name, r.flag, got, want)
			}
		}
	}
}
