package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/pipeline"
)

// TestRun: the demo command's work — with setupOnly the world and its
// file alone; otherwise the evaluation, the study and the report, the
// tables on w and each step on the log.
func TestRun(t *testing.T) {
	if err := model.Init(""); err != nil {
		t.Fatalf("onnxruntime not available (run make setup): %v", err)
	}
	o := Options{Seed: 3, Inputs: 4, Real: 12, Samples: 4, Questions: 8}
	dir := t.TempDir()
	var w, log bytes.Buffer
	if err := Run(context.Background(), &w, dir, true, o, pipeline.Options{Threads: 1, Quiet: true, Log: &log}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "eval.yaml")); err != nil || w.Len() > 0 || !strings.Contains(log.String(), "wrote the synthetic world") {
		t.Fatalf("setup only: %v; printed %q, logged %q", err, w.String(), log.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "results")); err == nil {
		t.Error("setup only evaluated")
	}
	log.Reset()
	// Not quiet: the steps are logged too (no bars: the log is no terminal).
	if err := Run(context.Background(), &w, dir, false, o, pipeline.Options{Threads: 1, Log: &log}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"shapes / MUNIT: ", "simulated AMT study", "the report to", "demo finished in"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "report", "index.html")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(w.String(), "MUNIT") || !strings.Contains(w.String(), "BicycleGAN") {
		t.Errorf("tables:\n%s", w.String())
	}
}
