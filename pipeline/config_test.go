package pipeline

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/registry"
)

// writeTree makes the files an evaluation file names, so only the YAML varies.
func writeTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"in", "real", "baseline"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	for _, f := range []string{"lpips.onnx", "cls.onnx", "g.onnx", "enc.onnx", "dec.onnx"} {
		os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644)
	}
	return dir
}

const good = `out: out
seed: 3
protocol:
  num_inputs: 10
  pairs: 4
models:
  lpips: lpips.onnx
  classifier: cls.onnx
datasets:
  - name: shapes
    inputs: in
    real: real
    methods:
      - name: MUNIT
        generator: g.onnx
      - name: Two
        content_encoder: enc.onnx
        decoder: dec.onnx
      - name: Folder
        folder: baseline
`

func TestParseGood(t *testing.T) {
	dir := writeTree(t)
	c, err := Parse(filepath.Join(dir, "eval.yaml"), []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Seed != 3 || c.Protocol.NumInputs != 10 || c.Protocol.Pairs != 4 || c.Protocol.SamplesPerInput != 100 || c.Protocol.Pairing != "independent" {
		t.Fatalf("protocol %+v (defaults must fill what the file omits)", c.Protocol)
	}
	if got := c.Resolve(c.Datasets[0].Methods[0].Generator.Value); got != filepath.Join(dir, "g.onnx") {
		t.Fatalf("resolve: %s", got)
	}
	if !c.Wants(registry.KeyKID) || !c.WantsReport() || c.Wants(registry.KeyPRDC) {
		t.Fatal("default metrics and report")
	}
	if c.Protocol.Resize != "legacy" || c.Protocol.PRK != 3 || c.Protocol.DCK != 5 {
		t.Fatalf("resize and PRDC defaults: %+v", c.Protocol)
	}
	withPRDC := strings.Replace(good, "pairs: 4", "pairs: 4\n  resize: clean\n  pr_k: 4\n  dc_k: 7", 1) + "metrics: [fid, prdc]\n"
	c, err = Parse(filepath.Join(dir, "eval.yaml"), []byte(withPRDC))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Wants(registry.KeyPRDC) || !c.Wants(registry.KeyFID) || c.Wants(registry.KeyKID) || c.Protocol.Resize != "clean" || c.Protocol.PRK != 4 || c.Protocol.DCK != 7 {
		t.Fatalf("prdc file: metrics %v protocol %+v", c.Metrics, c.Protocol)
	}
	// What the file gave is known, so that a count it asked for that the
	// samples cannot meet is an error, not a warning.
	if g := c.Protocol.Given; !g["num_inputs"] || !g["pr_k"] || !g["seed"] || g["samples_per_input"] {
		t.Fatalf("given keys %v", g)
	}
	// Each metric may name its own features model; the plan carries
	// them resolved.
	two := strings.Replace(good, "  classifier: cls.onnx", "  classifier: cls.onnx\n  metric_features: {fd: g.onnx, cmmd: enc.onnx}", 1) + "metrics: [fid, fd, cmmd, sfid]\n"
	if c, err = Parse(filepath.Join(dir, "eval.yaml"), []byte(two)); err != nil {
		t.Fatal(err)
	}
	if m := c.Plan(Options{}).Models; m.Metric["fd"] != filepath.Join(dir, "g.onnx") || m.Metric["cmmd"] != filepath.Join(dir, "enc.onnx") || len(m.Metric) != 2 || m.Classifier != filepath.Join(dir, "cls.onnx") {
		t.Fatalf("metric features models %+v", m)
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	dir := writeTree(t)
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown top key", strings.Replace(good, "seed: 3", "sede: 3", 1), "line 2"},
		{"unknown nested key", strings.Replace(good, "pairs: 4", "pears: 4", 1), `line 5: unknown key "pears"`},
		{"unknown method key", strings.Replace(good, "generator: g.onnx", "generater: g.onnx", 1), `line 15: unknown key "generater"`},
		{"missing model", strings.Replace(good, "lpips: lpips.onnx", "lpips: nope.onnx", 1), "line 7: nope.onnx: no such file"},
		{"missing inputs", strings.Replace(good, "inputs: in", "inputs: nowhere", 1), "line 11: nowhere: no such file"},
		{"inputs is a file", strings.Replace(good, "inputs: in", "inputs: g.onnx", 1), "line 11: g.onnx: not a folder"},
		{"two kinds", strings.Replace(good, "        generator: g.onnx", "        generator: g.onnx\n        folder: baseline", 1), "line 14: method \"MUNIT\": give exactly one"},
		{"samples and generator", strings.Replace(good, "        generator: g.onnx", "        generator: g.onnx\n        samples: baseline", 1), "line 14: method \"MUNIT\": give exactly one"},
		{"latents of a folder", strings.Replace(good, "        folder: baseline", "        folder: baseline\n        latents: g.onnx", 1), "latents need a generator"},
		{"fractional real size", strings.Replace(good, "    real: real\n", "    real: real\n    real_size: 1.5\n", 1), "real_size: want a whole number"},
		{"huge real size", strings.Replace(good, "    real: real\n", "    real: real\n    real_size: 100000\n", 1), "real_size must be between 0 and 4096"},
		{"bad fid interval", strings.Replace(good, "pairs: 4", "pairs: 4\n  fid_interval: sometimes", 1), `fid_interval "sometimes": want auto, on or off`},
		{"encoder without decoder", strings.Replace(good, "        decoder: dec.onnx\n", "", 1), "line 17: method \"Two\": content_encoder needs a decoder"},
		{"duplicate method", strings.Replace(good, "name: Two", "name: MUNIT", 1), "also that of \"MUNIT\", declared on line 14"},
		{"same folder", strings.Replace(good, "name: Two", "name: MUNIT*", 1) + "      - name: MUNIT_star\n        generator: g.onnx\n", `folder MUNIT_star is also that of "MUNIT*"`},
		{"real data name", strings.Replace(good, "name: Two", "name: Real data", 1), "taken by the real-data row"},
		{"bad pairing", strings.Replace(good, "pairs: 4", "pairs: 4\n  pairing: shuffled", 1), "unknown pairing"},
		{"bad number", strings.Replace(good, "num_inputs: 10", "num_inputs: ten", 1), "line 4"},
		{"zero inputs", strings.Replace(good, "num_inputs: 10", "num_inputs: 0", 1), "num_inputs must be at least 1"},
		{"unknown metric", strings.Replace(good, "seed: 3", "seed: 3\nmetrics: [lpips, psnr]", 1), `unknown metric "psnr"`},
		{"fid without real", strings.Replace(good, "    real: real\n", "", 1), "fid/kid/prdc need a real folder"},
		{"bad resize", strings.Replace(good, "pairs: 4", "pairs: 4\n  resize: bicubic", 1), `line 4: resize "bicubic": want legacy or clean`},
		{"zero pr_k", strings.Replace(good, "pairs: 4", "pairs: 4\n  pr_k: 0", 1), "pr_k must be at least 1"},
		{"no out", strings.Replace(good, "out: out\n", "", 1), "no out"},
		{"bad dataset name", strings.Replace(good, "name: shapes", "name: a/b", 1), "dataset name"},
		{"empty", "", "empty evaluation file"},
		{"fractional count", strings.Replace(good, "num_inputs: 10", "num_inputs: 4.5", 1), `line 4: num_inputs: want a whole number, got "4.5"`},
		{"fractional seed", strings.Replace(good, "seed: 3", "seed: 3.5", 1), `line 2: seed: want a whole number`},
		{"seed and seeds", strings.Replace(good, "seed: 3", "seed: 3\nseeds: [4, 5]", 1), "line 3: give seed or seeds, not both"},
		{"empty seeds", strings.Replace(good, "seed: 3", "seeds: []", 1), "line 2: seeds is empty"},
		{"repeated seed", strings.Replace(good, "seed: 3", "seeds: [4, 5, 4]", 1), "line 2: seeds lists 4 twice"},
		{"fractional seeds", strings.Replace(good, "seed: 3", "seeds: [4, 5.5]", 1), "line 2"},
		{"negative bootstrap", strings.Replace(good, "pairs: 4", "pairs: 4\n  bootstrap: -1", 1), "line 4: bootstrap must be at least"},
		{"no bootstrap with lpips", strings.Replace(good, "pairs: 4", "pairs: 4\n  bootstrap: 0", 1), "LPIPS diversity always has its interval"},
		{"zero batch", strings.Replace(good, "pairs: 4", "pairs: 4\n  batch: 0", 1), "batch must be at least 1"},
		{"zero kid subsets", strings.Replace(good, "pairs: 4", "pairs: 4\n  kid_subsets: 0", 1), "kid_subsets must be at least 1"},
		{"negative size", strings.Replace(good, "pairs: 4", "pairs: 4\n  size: -2", 1), "size must be at least 0"},
		{"bad select", strings.Replace(good, "pairs: 4", "pairs: 4\n  select: last", 1), "select"},
		{"all with one sample", strings.Replace(good, "pairs: 4", "pairs: 4\n  pairing: all\n  samples_per_input: 1", 1), "samples_per_input must be at least 2 for pairing all"},
		{"second document", good + "---\nout: other\n", "a second YAML document"},
		// Numbers bounded like the flags (one Validate): none may crash the
		// process or exhaust the machine.
		{"size 100000", strings.Replace(good, "pairs: 4", "pairs: 4\n  size: 100000", 1), "line 4: size must be at most 4096"},
		{"size over the batch budget", strings.Replace(good, "pairs: 4", "pairs: 4\n  size: 4096", 1), "lower batch to 4"},
		{"huge batch", strings.Replace(good, "pairs: 4", "pairs: 4\n  batch: 1000000", 1), "batch must be at most 1024"},
		{"huge bootstrap", strings.Replace(good, "pairs: 4", "pairs: 4\n  bootstrap: 1000000000", 1), "bootstrap must be at most"},
		{"huge num_real", strings.Replace(good, "pairs: 4", "pairs: 4\n  num_real: 100000000000", 1), "num_real must be at most"},
		{"huge kid subsets", strings.Replace(good, "pairs: 4", "pairs: 4\n  kid_subsets: 100000000", 1), "kid_subsets must be at most"},
		{"overflowing integer", strings.Replace(good, "pairs: 4", "pairs: 99999999999999999999999", 1), "line 5"},
		{"metric_features of a metric without features", strings.Replace(good, "  classifier: cls.onnx", "  classifier: cls.onnx\n  metric_features:\n    lpips: cls.onnx", 1), `line 10: metric_features names "lpips"`},
		{"missing metric features model", strings.Replace(good, "  classifier: cls.onnx", "  classifier: cls.onnx\n  metric_features: {fd: dino.onnx}", 1), "line 9: dino.onnx: no such file"},
		{"fd without a features model", strings.Replace(strings.Replace(good, "  classifier: cls.onnx\n", "", 1), "seed: 3", "seed: 3\nmetrics: [lpips, fd]", 1), "metrics name fd but models has no features (or classifier) model, nor metric_features.fd"},
		{"unknown top key names no Go type", strings.Replace(good, "seed: 3", "sede: 3", 1), `line 2: unknown key "sede"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(filepath.Join(dir, "eval.yaml"), []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "eval.yaml") {
				t.Fatalf("error %v, want one naming eval.yaml and containing %q", err, c.want)
			}
		})
	}
}

// TestBootstrapZeroWithoutLPIPS: one rule for the bootstrap, the CLI's and
// the file's: 0 (no interval) is allowed when LPIPS diversity, whose
// interval is always computed, is not asked for.
func TestBootstrapZeroWithoutLPIPS(t *testing.T) {
	dir := writeTree(t)
	y := strings.Replace(good, "pairs: 4", "pairs: 4\n  bootstrap: 0", 1) + "metrics: [is, fid]\n"
	c, err := Parse(filepath.Join(dir, "eval.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if c.Protocol.Bootstrap != 0 || c.Wants(registry.KeyLPIPS) || !c.Wants(registry.KeyIS) {
		t.Fatalf("protocol %+v, metrics %v", c.Protocol, c.Metrics)
	}
}

// FuzzParse feeds arbitrary bytes to the evaluation-file parser: it must
// return a config or an error, never panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("datasets: [1, 2]"))
	f.Add([]byte("protocol: {num_inputs: -1}"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		Parse(filepath.Join(dir, "eval.yaml"), b)
	})
}

// TestExampleParses keeps examples/eval.yaml valid: its files are created
// empty in a temporary folder and the example is parsed there.
func TestExampleParses(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "examples", "eval.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		key, val, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- ")), ":")
		val = strings.TrimSpace(val)
		if !ok || val == "" {
			continue
		}
		p := filepath.Join(dir, val)
		switch {
		case strings.HasSuffix(val, ".onnx"):
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte("x"), 0o644)
		case key == "inputs" || key == "real" || key == "folder":
			os.MkdirAll(p, 0o755)
		}
	}
	c, err := Parse(filepath.Join(dir, "eval.yaml"), b)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Datasets) != 1 || len(c.Datasets[0].Methods) != 4 {
		t.Fatalf("example has %d datasets", len(c.Datasets))
	}
	p := c.Protocol
	p.Given = nil
	if !reflect.DeepEqual(p, evaluate.DefaultProtocol()) {
		t.Errorf("the example's protocol %+v is not the documented defaults %+v", p, evaluate.DefaultProtocol())
	}
}

// TestParsePresets checks protocol: NAME (a preset as published) and a
// preset key with overrides: the file's own keys win, the preset's
// metrics are the default, and an unknown name is refused naming the line.
func TestParsePresets(t *testing.T) {
	dir := writeTree(t)
	plain := strings.Replace(good, "protocol:\n  num_inputs: 10\n  pairs: 4\n", "protocol: dsgan\n", 1)
	c, err := Parse(filepath.Join(dir, "eval.yaml"), []byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Protocol
	if p.Preset != "dsgan" || p.NumInputs != 100 || p.Pairs != 20 || p.Trials != 20 || p.SamplesPerInput != 20 || p.Select != "random" || !p.Given["trials"] {
		t.Fatalf("protocol: dsgan gave %+v", p)
	}
	if !reflect.DeepEqual(c.Metrics, []string{registry.KeyLPIPS, registry.KeyFID}) {
		t.Fatalf("dsgan metrics %v", c.Metrics)
	}
	over := strings.Replace(good, "num_inputs: 10", "preset: bicyclegan\n  num_inputs: 10", 1) + "metrics: [lpips, fid]\n"
	c, err = Parse(filepath.Join(dir, "eval.yaml"), []byte(over))
	if err != nil {
		t.Fatal(err)
	}
	p = c.Protocol
	if p.Preset != "bicyclegan" || p.NumInputs != 10 || p.Pairs != 4 || p.Pairing != "consecutive" || p.SamplesPerInput != 20 || len(c.Metrics) != 2 {
		t.Fatalf("bicyclegan with overrides gave %+v, metrics %v", p, c.Metrics)
	}
	bad := strings.Replace(good, "protocol:\n  num_inputs: 10\n  pairs: 4\n", "protocol: stargan\n", 1)
	_, err = Parse(filepath.Join(dir, "eval.yaml"), []byte(bad))
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), `"stargan": unknown protocol preset (want munit, bicyclegan`) {
		t.Fatalf("unknown preset: %v", err)
	}
}
