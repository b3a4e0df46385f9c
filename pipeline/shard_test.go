package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/synth"
	"github.com/munit-eval/munit-eval/translate"
)

// TestShardedRun evaluates one file (a stochastic two-stage method, a
// deterministic one, two datasets) unsharded, and as three shards: the
// scoring step refuses while shard 1/3 has not run, naming its inputs and
// the shard to rerun; once every shard ran (two of them at once), it
// writes documents byte-identical to the unsharded run's, created apart,
// and the store's samples are the same files.
func TestShardedRun(t *testing.T) {
	load := shardWorld(t)
	fixed := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	ctx := context.Background()
	one := load("one")
	ref, err := Run(ctx, one, Options{Threads: 1, Quiet: true, Now: fixed})
	if err != nil {
		t.Fatal(err)
	}

	sh := load("sharded")
	shard := func(i int) error {
		out, err := Run(ctx, sh, Options{Threads: 1, Quiet: true, Shard: translate.Shard{Index: i, Count: 3}})
		if err == nil && (len(out.Generated) != 3 || len(out.Docs) != 0) {
			err = fmt.Errorf("shard %d/3: %d methods generated, %d documents, want 3 and none", i, len(out.Generated), len(out.Docs))
		}
		return err
	}
	if err := shard(0); err != nil {
		t.Fatal(err)
	}
	if err := shard(2); err != nil {
		t.Fatal(err)
	}
	_, err = Run(ctx, sh, Options{Threads: 1, Quiet: true, ScoreOnly: true})
	var inc *IncompleteError
	if !errors.As(err, &inc) || len(inc.Units) != 3 {
		t.Fatalf("scoring with shard 1/3 missing: %v, want an IncompleteError naming 3 methods", err)
	}
	// Shard 1/3 owns inputs 1 and 4 (0001.png, 0004.png).
	for _, want := range []string{"one / MUNIT: 2 of 5 inputs lack samples (0001.png, 0004.png)", "two / UNIT:", "--shard 1/3, then score again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q lacks %q", err, want)
		}
	}
	if _, err := os.Stat(sh.ResultsDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused scoring step made %s (%v)", sh.ResultsDir(), err)
	}
	// Shard 1/3 twice at once: the store lock refuses one; both shards'
	// work together still completes the store.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for j := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[j] = shard(1) }()
	}
	wg.Wait()
	if errs[0] != nil && errs[1] != nil {
		t.Fatalf("shard 1/3 twice: both failed: %v; %v", errs[0], errs[1])
	}
	got, err := Run(ctx, sh, Options{Threads: 1, Quiet: true, ScoreOnly: true, Now: fixed})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Paths) != len(ref.Paths) || len(got.Paths) != 5 {
		t.Fatalf("%d documents sharded, %d unsharded, want 5", len(got.Paths), len(ref.Paths))
	}
	for i, p := range ref.Paths {
		a, _ := os.ReadFile(p)
		b, _ := os.ReadFile(got.Paths[i])
		if filepath.Base(p) != filepath.Base(got.Paths[i]) || !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s differs from the unsharded %s", got.Paths[i], p)
		}
	}
	for _, rel := range []string{"one/MUNIT/manifest.json", "one/CycleGAN/manifest.json", "two/UNIT/manifest.json", "one/MUNIT/0004/3.png"} {
		a, err1 := os.ReadFile(filepath.Join(one.Resolve("one"), "store", rel))
		b, err2 := os.ReadFile(filepath.Join(sh.Resolve("sharded"), "store", rel))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("store file %s differs (%v, %v)", rel, err1, err2)
		}
	}
}

// TestRerunShardsBounded: the shards to rerun are worked out from the
// missing inputs, so a huge N (from --shards or a fragment's name) answers
// at once instead of looping over 0..N-1 at full CPU; N beyond
// translate.MaxShards names no shard.
func TestRerunShardsBounded(t *testing.T) {
	miss := &translate.IncompleteError{Inputs: 5, SamplesPerInput: 1, Missing: []int{3, 1}, MissingFiles: []string{"3.png", "1.png"}}
	for _, c := range []struct {
		n    int
		want string
	}{
		{2, "[1/2]"},
		{translate.MaxShards, "[1/100000 3/100000]"},
		{4_000_000_000_000, "[]"},
	} {
		done := make(chan string, 1)
		go func() {
			e := &IncompleteError{File: "e.yaml", Units: []Unit{{Dataset: "d", Method: "m", Missing: miss}}, Shards: c.n}
			_ = e.Error()
			done <- fmt.Sprint(e.RerunShards())
		}()
		select {
		case got := <-done:
			if got != c.want {
				t.Errorf("N = %d: rerun %s, want %s", c.n, got, c.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("N = %d: the message did not come within 10 s", c.n)
		}
	}
	// run --score-only --shards N: N is checked before anything is read.
	err := (&Config{file: "e.yaml"}).checkComplete(context.Background(), &evaluate.Plan{}, Options{Shards: 4_000_000_000_000})
	if err == nil || !strings.Contains(err.Error(), "e.yaml: --shards 4000000000000: want 1 to 100000") {
		t.Errorf("--score-only --shards 4e12: %v", err)
	}
}

// TestDamagedUnderRun: a damaged manifest or fragment is explained in
// run's terms (run has no --repair or --force for a shard): the file, its
// shard, and the commands that repair it; other errors pass unchanged.
func TestDamagedUnderRun(t *testing.T) {
	c := &Config{file: "e.yaml"}
	frag := filepath.Join("out", "store", "d", "M", "manifest.shard-0-of-2.json")
	err := c.Damaged(fmt.Errorf("translate: %w; rerun with --repair", &translate.DamagedError{Path: frag, Shard: &translate.Shard{Index: 0, Count: 2}, Err: errors.New(frag + ": not a sample manifest")}))
	for _, want := range []string{frag, "(the fragment of shard 0/2)", "delete it and rerun munit-eval run e.yaml --shard 0/2", "munit-eval translate --repair", "--out " + filepath.Join("out", "store", "d")} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: want %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "rerun with --repair") {
		t.Errorf("%v: still offers run a --repair it does not have", err)
	}
	other := errors.New("x")
	if c.Damaged(other) != other {
		t.Error("another error was changed")
	}
}

// shardWorld writes a synthetic world and its models (a stochastic
// two-stage method, a deterministic one, two datasets) and returns a
// loader of an evaluation file over them whose out folder is out.
func shardWorld(t *testing.T) func(out string) *Config {
	t.Helper()
	if err := model.Init(""); err != nil {
		t.Fatalf("onnxruntime not available (run make setup): %v", err)
	}
	dir := t.TempDir()
	if err := synth.WriteWorld(filepath.Join(dir, "world"), 1, 5, 6); err != nil {
		t.Fatal(err)
	}
	if _, err := synth.BuildModels(filepath.Join(dir, "models"), 1); err != nil {
		t.Fatal(err)
	}
	const file = `out: OUT
protocol: {num_inputs: 5, samples_per_input: 4, pairs: 2, kid_subset_size: 6, bootstrap: 50, fid_bootstrap: 0}
models: {lpips: models/lpips.onnx, classifier: models/classifier.onnx}
report: false
datasets:
  - name: one
    inputs: world/testA
    real: world/testB
    methods:
      - {name: MUNIT, content_encoder: models/munit_content.onnx, decoder: models/munit_decoder.onnx}
      - {name: CycleGAN, generator: models/cyclegan.onnx}
  - name: two
    inputs: world/testA
    real: world/testB
    methods:
      - {name: UNIT, generator: models/unit.onnx}
`
	return func(out string) *Config {
		t.Helper()
		p := filepath.Join(dir, out+".yaml")
		if err := os.WriteFile(p, []byte(strings.Replace(file, "OUT", out, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

// TestShardedScoring: the shards compute every per-sample value into
// their partials and the scoring step only reduces. For N = 1 (the
// whole run, then --score-only), 2 and 3 the documents are byte-identical
// to an unsharded run's. With N = 2 every sample PNG is overwritten with
// other bytes before scoring: the scoring step reads no sample, so the
// documents are still identical. With N = 3 one shard's LPIPS partial is
// removed and its classifier partial garbled: the scoring step says so,
// computes what they held from the samples, and the documents are still
// identical.
func TestShardedScoring(t *testing.T) {
	if err := model.Init(""); err != nil {
		t.Fatalf("onnxruntime not available (run make setup): %v", err)
	}
	load := shardWorld(t)
	fixed := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	ctx := context.Background()
	ref, err := Run(ctx, load("ref"), Options{Threads: 1, Quiet: true, Now: fixed})
	if err != nil {
		t.Fatal(err)
	}
	same := func(n int, got *Outcome) {
		t.Helper()
		if len(got.Paths) != len(ref.Paths) || len(got.Paths) != 5 {
			t.Fatalf("N = %d: %d documents, %d unsharded, want 5", n, len(got.Paths), len(ref.Paths))
		}
		for i, p := range ref.Paths {
			a, _ := os.ReadFile(p)
			b, _ := os.ReadFile(got.Paths[i])
			if filepath.Base(p) != filepath.Base(got.Paths[i]) || !bytes.Equal(a, b) || len(a) == 0 {
				t.Errorf("N = %d: %s differs from the unsharded %s", n, got.Paths[i], p)
			}
		}
	}
	for _, n := range []int{1, 2, 3} {
		c := load(fmt.Sprintf("n%d", n))
		for i := range n {
			if _, err := Run(ctx, c, Options{Threads: 1, Quiet: true, Shard: translate.Shard{Index: i, Count: n}}); err != nil {
				t.Fatalf("shard %d/%d: %v", i, n, err)
			}
		}
		store := filepath.Join(c.Resolve(c.Out), "store")
		switch n {
		case 2:
			for _, ds := range []string{"one", "two"} {
				parts, _ := filepath.Glob(filepath.Join(store, ds, ".cache", "partials", "shard-*-of-2"))
				if len(parts) != 2 {
					t.Fatalf("N = 2: dataset %s has partials %v, want one per shard", ds, parts)
				}
			}
			pngs, _ := filepath.Glob(filepath.Join(store, "*", "*", "*", "*.png"))
			if len(pngs) != 5*4*3 {
				t.Fatalf("N = 2: %d sample files, want 60", len(pngs))
			}
			for _, p := range pngs {
				if err := os.WriteFile(p, []byte("not the sample the manifest names"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		case 3:
			part := evaluate.PartialsDir(filepath.Join(store, "one"), translate.Shard{Index: 1, Count: 3})
			if err := os.RemoveAll(filepath.Join(part, "lpips")); err != nil {
				t.Fatal(err)
			}
			outs, _ := filepath.Glob(filepath.Join(part, "classifier", "*.outputs"))
			if len(outs) != 1 {
				t.Fatalf("N = 3: shard 1's classifier partials %v, want one", outs)
			}
			if err := os.WriteFile(outs[0], []byte("garbled"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		var log bytes.Buffer
		got, err := Run(ctx, c, Options{Threads: 1, Quiet: true, ScoreOnly: true, Now: fixed, Log: &log})
		if err != nil {
			t.Fatalf("N = %d: scoring: %v", n, err)
		}
		same(n, got)
		lacked := strings.Count(log.String(), "the shards' partials lacked")
		if n == 3 {
			for _, want := range []string{"not a cache log", "one / MUNIT: the shards' partials lacked", "LPIPS embeddings", "classifier outputs"} {
				if !strings.Contains(log.String(), want) {
					t.Errorf("N = 3, a shard's partials removed and garbled: the log lacks %q:\n%s", want, log.String())
				}
			}
		} else if lacked != 0 {
			t.Errorf("N = %d: the scoring step computed values the partials should hold:\n%s", n, log.String())
		}
	}
}
