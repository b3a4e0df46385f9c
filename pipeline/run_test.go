package pipeline

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/synth"
)

// TestRunChecksEverythingFirst: a model of the wrong role, or an input
// folder that is not an image folder, anywhere in the file is refused
// before any work: the first method's samples are never made.
func TestRunChecksEverythingFirst(t *testing.T) {
	dir := smallWorld(t)
	os.MkdirAll(filepath.Join(dir, "notes"), 0o755)
	os.WriteFile(filepath.Join(dir, "notes", "a.txt"), []byte("hi"), 0o644)
	const base = `out: out
protocol: {num_inputs: 3, samples_per_input: 4, pairs: 2, kid_subset_size: 6}
models: {lpips: models/lpips.onnx, classifier: models/classifier.onnx}
datasets:
  - name: first
    inputs: world/testA
    real: world/testB
    methods:
      - {name: UNIT, generator: models/unit.onnx}
  - name: second
    inputs: world/testA
    real: world/testB
    methods:
      - {name: MUNIT, content_encoder: models/munit_content.onnx, decoder: models/munit_decoder.onnx}
      - {name: Wrong, generator: models/unit.onnx}
`
	cases := []struct {
		name, from, to string
		want           []string
	}{
		{"generator of another role", "{name: Wrong, generator: models/unit.onnx}", "{name: Wrong, generator: models/lpips.onnx}",
			[]string{"lpips.onnx", "generator contract", `method "Wrong"`}},
		{"decoder of another role", "decoder: models/munit_decoder.onnx", "decoder: models/classifier.onnx",
			[]string{"classifier.onnx", "decoder contract"}},
		{"content encoder of another role", "content_encoder: models/munit_content.onnx", "content_encoder: models/unit.onnx",
			[]string{"unit.onnx", "content_encoder contract"}},
		{"inputs not images", "  - name: second\n    inputs: world/testA", "  - name: second\n    inputs: notes",
			[]string{"a.txt", "line 11"}},
		{"scoring model of another role", "lpips: models/lpips.onnx", "lpips: models/unit.onnx", []string{"unit.onnx"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			y := strings.Replace(base, c.from, c.to, 1)
			if y == base {
				t.Fatal("case does not change the file")
			}
			sub := t.TempDir()
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".yaml")
			y = strings.Replace(y, "out: out", "out: "+sub, 1)
			if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Run(context.Background(), cfg, Options{Threads: 1, Quiet: true})
			if err == nil {
				t.Fatal("run accepted the file")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if _, err := os.Stat(filepath.Join(sub, "store")); !os.IsNotExist(err) {
				t.Errorf("work started before the check: %s/store exists (%v)", sub, err)
			}
		})
	}
}

// cancelOn is a log that cancels the run when a line contains text.
type cancelOn struct {
	text   string
	cancel context.CancelFunc
}

func (c cancelOn) Write(b []byte) (int, error) {
	if strings.Contains(string(b), c.text) {
		c.cancel()
	}
	return len(b), nil
}

// TestRunWritesASet: a run that fails after measuring one dataset writes
// none of its documents, so the results folder keeps the earlier run's set
// whole instead of a mix of two protocols (here two seeds).
func TestRunWritesASet(t *testing.T) {
	dir := smallWorld(t)
	const file = `out: out
seed: SEED
metrics: [is]
protocol: {num_inputs: 3, samples_per_input: 4}
models: {classifier: models/classifier.onnx}
datasets:
  - name: first
    inputs: world/testA
    methods:
      - {name: UNIT, generator: models/unit.onnx}
  - name: second
    inputs: world/testA
    methods:
      - {name: CycleGAN, generator: models/cyclegan.onnx}
`
	run := func(seed string, log io.Writer, ctx context.Context) error {
		p := filepath.Join(dir, "eval.yaml")
		if err := os.WriteFile(p, []byte(strings.Replace(file, "SEED", seed, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Run(ctx, cfg, Options{Threads: 1, Log: log}) // not quiet: cancelOn hears the step lines
		return err
	}
	if err := run("1", nil, context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := run("2", cancelOn{"second", cancel}, ctx); err == nil {
		t.Fatal("the cancelled run succeeded")
	}
	docs, paths, err := results.ReadAll(filepath.Join(dir, "out", "results"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 {
		t.Fatalf("results %v, want the first run's two documents", paths)
	}
	for i, d := range docs {
		if d.Protocol.Seed != 1 {
			t.Errorf("%s: seed %d: a document of the failed run was written", paths[i], d.Protocol.Seed)
		}
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, "out", "results", "*.set-tmp")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

// smallWorld writes a synthetic world (3 inputs, 6 real images) and its
// models into a temporary folder, which it returns.
func smallWorld(t *testing.T) string {
	t.Helper()
	if err := model.Init(""); err != nil {
		t.Fatalf("onnxruntime not available (run make setup): %v", err)
	}
	dir := t.TempDir()
	if err := synth.WriteWorld(filepath.Join(dir, "world"), 1, 3, 6); err != nil {
		t.Fatal(err)
	}
	if _, err := synth.BuildModels(filepath.Join(dir, "models"), 1); err != nil {
		t.Fatal(err)
	}
	return dir
}
