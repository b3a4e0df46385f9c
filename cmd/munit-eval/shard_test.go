package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/results"
)

// cliEnv runs the binary with extra environment variables (a Slurm array
// task's, a Kubernetes Indexed Job's).
func cliEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(append(os.Environ(), "CI=true"), env...)
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// TestRunSharded runs an evaluation as two shard tasks (one told by a
// Kubernetes Indexed Job's environment, one by a Slurm array task's) and
// the scoring step, which refuses before the second shard ran; the metric
// commands shard their generation the same way, and measuring the
// assembled store gives the unsharded command's numbers.
func TestRunSharded(t *testing.T) {
	dir, models := tinyWorld(t)
	y := `out: out
protocol: {num_inputs: 5, samples_per_input: 4, pairs: 2, bootstrap: 20, kid_subset_size: 30}
models: {lpips: models/lpips.onnx, classifier: models/classifier.onnx}
datasets:
  - name: shapes
    inputs: world/testA
    real: world/testB
    methods:
      - {name: MUNIT, content_encoder: models/munit_content.onnx, decoder: models/munit_decoder.onnx}
report: false
`
	file := filepath.Join(dir, "eval.yaml")
	if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	r := cliEnv(t, []string{"JOB_COMPLETION_INDEX=0"}, "-q", "run", file, "--shards", "2")
	if r.code != 0 || !strings.Contains(r.stdout, "shapes / MUNIT shard 0/2: 5 inputs x 4 samples") || !strings.Contains(r.stdout, "--score-only") {
		t.Fatalf("shard 0/2: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	wantBadInput(t, cli(t, "-q", "run", file, "--score-only"), "not scored", "shapes / MUNIT: 2 of 5 inputs lack samples (0001.png, 0003.png)", "--shard 1/2")
	r = cliEnv(t, []string{"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=2"}, "-q", "run", file, "--shard", "auto")
	if r.code != 0 || !strings.Contains(r.stdout, "shard 1/2") || !strings.Contains(r.stdout, "store complete") {
		t.Fatalf("shard 1/2: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "results")); !os.IsNotExist(err) {
		t.Fatalf("a shard task wrote results (%v)", err)
	}
	if r := cli(t, "-q", "run", file, "--score-only"); r.code != 0 || !strings.Contains(r.stdout, "MUNIT") {
		t.Fatalf("score: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := results.Read(filepath.Join(dir, "out", "results", "shapes__MUNIT.json")); err != nil {
		t.Fatal(err)
	}
	wantBadInput(t, cli(t, "-q", "run", file, "--shard", "0/2", "--score-only"), "--score-only")
	wantBadInput(t, cli(t, "-q", "run", file, "--shard", "2/2"), "0 <= I < N")

	// cis: two shards of generation, then the store measured; the same
	// CIS as the unsharded command's, to the last bit.
	inputs := filepath.Join(dir, "world", "testA")
	gen := []string{"cis", "--classifier", models["classifier"], "--generator", models["munit"], "--inputs", inputs,
		"--num-inputs", "5", "--samples-per-input", "6", "--bootstrap", "0"}
	store := filepath.Join(dir, "cis-store")
	for i, env := range [][]string{nil, {"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=2"}} {
		args := append(append([]string{"-q"}, gen...), "--store", store)
		if i == 0 {
			args = append(args, "--shard", "0/2")
		} else {
			args = append(args, "--shard", "auto")
		}
		r := cliEnv(t, env, args...)
		if r.code != 0 || !strings.Contains(r.stderr, "nothing measured") || strings.Contains(r.stdout, "CIS") {
			t.Fatalf("cis shard %d/2: exit %d\n%s%s", i, r.code, r.stdout, r.stderr)
		}
	}
	var sharded, whole results.Document
	okJSON(t, &sharded, "cis", "--classifier", models["classifier"], "--samples", filepath.Join(store, "MUNIT"),
		"--num-inputs", "5", "--samples-per-input", "6", "--bootstrap", "0", "--json")
	okJSON(t, &whole, append(gen, "--store", filepath.Join(dir, "cis-whole"), "--json")...)
	if sharded.Metrics.CIS == nil || whole.Metrics.CIS == nil || *sharded.Metrics.CIS != *whole.Metrics.CIS || *sharded.Metrics.IS != *whole.Metrics.IS {
		t.Fatalf("CIS of the sharded store %v, unsharded %v", sharded.Metrics.CIS, whole.Metrics.CIS)
	}
	wantBadInput(t, cli(t, "-q", "cis", "--classifier", models["classifier"], "--samples", filepath.Join(store, "MUNIT"), "--shard", "0/2"), "--shard")

	// Sharding only when asked: a metric command with --results inside a
	// Slurm array task, with no --shard or --shards, measures everything
	// and writes its results (it once became shard 1/2, exited 0 and
	// wrote nothing).
	res := filepath.Join(dir, "in-array.json")
	r = cliEnv(t, []string{"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=2"}, append(append([]string{"-q"}, gen...),
		"--store", filepath.Join(dir, "cis-array"), "--results", res)...)
	if r.code != 0 || strings.Contains(r.stderr, "nothing measured") {
		t.Fatalf("cis in a Slurm array task: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var inArray results.Document
	if b, err := os.ReadFile(res); err != nil {
		t.Fatalf("cis in a Slurm array task wrote no results: %v", err)
	} else if err := json.Unmarshal(b, &inArray); err != nil || inArray.Metrics.CIS == nil || *inArray.Metrics.CIS != *whole.Metrics.CIS {
		t.Fatalf("cis in a Slurm array task: %v, CIS %v, want %v", err, inArray.Metrics.CIS, *whole.Metrics.CIS)
	}
	wantBadInput(t, cli(t, append(append([]string{"-q"}, gen...), "--store", filepath.Join(dir, "cis-auto"), "--shard", "auto")...),
		"--shard auto", "neither a Slurm array task")
}

// TestRunEmit checks the CLI side of --emit: the sbatch script names the
// file by its absolute path and this binary, and passes bash -n; the k8s
// Jobs name the file as given; bad combinations are usage errors.
func TestRunEmit(t *testing.T) {
	dir, _ := tinyWorld(t)
	y := `out: out
protocol: {num_inputs: 5, samples_per_input: 4, pairs: 2}
metrics: [lpips]
models: {lpips: models/lpips.onnx}
datasets:
  - {name: shapes, inputs: world/testA, methods: [{name: UNIT, generator: models/unit.onnx}]}
`
	file := filepath.Join(dir, "eval.yaml")
	if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	r := cliIn(t, dir, "run", "eval.yaml", "--emit", "slurm", "--shards", "8", "--cpus", "4")
	if r.code != 0 {
		t.Fatalf("emit slurm: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"#SBATCH --array=0-7\n", " run " + file + " --shards 8\n", "--threads 4 run " + file + " --score-only --shards 8\n",
		"sbatch --parsable --chdir=" + dir + " ", "--dependency=afterok:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("sbatch script lacks %q:\n%s", want, r.stdout)
		}
	}
	script := filepath.Join(t.TempDir(), "submit.sh")
	os.WriteFile(script, []byte(r.stdout), 0o644)
	if out, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v: %s", err, out)
	}
	r = cliIn(t, dir, "run", "eval.yaml", "--emit", "k8s", "--shards", "3", "--claim", "evals")
	if r.code != 0 || !strings.Contains(r.stdout, "completionMode: Indexed") || !strings.Contains(r.stdout, "claimName: evals") ||
		!strings.Contains(r.stdout, "- eval.yaml\n") {
		t.Fatalf("emit k8s: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	wantBadInput(t, cliIn(t, dir, "run", "eval.yaml", "--emit", "slurm"), "--shards N")
	wantBadInput(t, cliIn(t, dir, "run", "eval.yaml", "--emit", "pbs", "--shards", "2"), "want slurm or k8s")
	wantBadInput(t, cliIn(t, dir, "run", "eval.yaml", "--emit", "slurm", "--shards", "2", "--gpus", "1"), "--device cuda")
	wantBadInput(t, cliIn(t, dir, "run", "eval.yaml", "--emit", "slurm", "--shards", "2", "--shard", "0/2"), "belong to the emitted jobs")
	wantBadInput(t, cliIn(t, dir, "run", "eval.yaml", "--emit", "slurm", "--shards", "2", "--partition", "gpu\n#SBATCH --uid=0"), "--partition", "control character")
	wantBadInput(t, cliIn(t, dir, "run", "eval.yaml", "--emit", "k8s", "--shards", "2", "--mount", "data"), "--mount", "absolute")
}
