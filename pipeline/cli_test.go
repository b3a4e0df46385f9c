package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunFileRefuses: contradictory settings are refused before the file
// is read, naming the flags.
func TestRunFileRefuses(t *testing.T) {
	for _, tc := range []struct {
		a    Args
		want string
	}{
		{Args{Options: Options{ScoreOnly: true}, ShardSpec: "0/2"}, "--shard generates and --score-only scores"},
		{Args{Options: Options{Force: true}, ShardSpec: "0/2"}, "run: --force discards the store"},
		{Args{Options: Options{Force: true, ScoreOnly: true}}, "run: --force discards the store"},
		{Args{ShardSpec: "2/2"}, "run: "},
		{Args{Emit: "slurm", ShardSpec: "0/2"}, "belong to the emitted jobs"},
		{Args{Emit: "slurm"}, "run --emit slurm: give --shards N"},
		{Args{Emit: "pbs", Options: Options{Shards: 2}}, "run: "},
	} {
		err := RunFile(context.Background(), &bytes.Buffer{}, filepath.Join(t.TempDir(), "none.yaml"), tc.a)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "no such file") {
			t.Errorf("%+v: error %v, want %q before reading the file", tc.a, err, tc.want)
		}
	}
}

// TestRunFile: a whole run writes its documents and report and prints the
// tables, naming what it wrote on the log; --no-report prints the tables
// alone; a shard task prints what it generated.
func TestRunFile(t *testing.T) {
	dir := smallWorld(t)
	file := filepath.Join(dir, "eval.yaml")
	os.WriteFile(file, []byte(`out: out
protocol: {num_inputs: 3, samples_per_input: 4, pairs: 2, bootstrap: 20}
models: {lpips: models/lpips.onnx, classifier: models/classifier.onnx}
metrics: [lpips, is]
datasets:
  - name: shapes
    inputs: world/testA
    methods:
      - {name: UNIT, generator: models/unit.onnx}
`), 0o644)
	var w, log bytes.Buffer
	if err := RunFile(context.Background(), &w, file, Args{Options: Options{Threads: 1, Quiet: true, Log: &log}}); err != nil {
		t.Fatal(err)
	}
	// -q (Quiet) logs no step lines: only the closing summary.
	if strings.Contains(log.String(), "shapes / UNIT: ") {
		t.Errorf("quiet run logged its steps:\n%s", log.String())
	}
	report := filepath.Join(dir, "out", "report", "index.html")
	if _, err := os.Stat(report); err != nil || !strings.Contains(w.String(), "UNIT") || !strings.Contains(log.String(), "the report to "+report) {
		t.Errorf("report %v; tables:\n%s\nlog:\n%s", err, w.String(), log.String())
	}
	w.Reset()
	os.RemoveAll(filepath.Join(dir, "out", "report"))
	if err := RunFile(context.Background(), &w, file, Args{Options: Options{Threads: 1, Quiet: true}, NoReport: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(report); err == nil || !strings.Contains(w.String(), "UNIT") {
		t.Errorf("--no-report: report written (%v) or no tables:\n%s", err, w.String())
	}
	w.Reset()
	if err := RunFile(context.Background(), &w, file, Args{Options: Options{Threads: 1, Quiet: true}, ShardSpec: "1/2"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(w.String(), "shard 1/2 generated its samples and computed their per-sample values (partials); nothing scored") {
		t.Errorf("shard summary:\n%s", w.String())
	}
}
