package pipeline

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestEmitSlurm checks the sbatch script: bash -n accepts it, and run with
// a fake sbatch on PATH it submits the array job (--array=0-3, the
// resources, the task running `run FILE` without a shard so that it reads
// SLURM_ARRAY_TASK_ID) and then the scoring job depending on it with
// afterok, printing both ids.
func TestEmitSlurm(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	e := Emit{File: "/shared/eval dir/eval.yaml", Shards: 4, Binary: "/opt/munit-eval", Workdir: "/shared/run",
		CPUs: 3, Memory: "6G", Time: "2:00:00", GPUs: 1, Device: "cuda", ORTLib: "/opt/ort-gpu/libonnxruntime.so",
		Partition: "gpu", JobName: "mu"}
	var b bytes.Buffer
	if err := EmitSlurm(&b, e); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "submit.sh")
	if err := os.WriteFile(script, b.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v: %s", err, out)
	}
	// The fake sbatch logs its arguments and its stdin (the job script)
	// and answers job ids 101, 102 as --parsable does ("id;cluster").
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	fake := `#!/usr/bin/env bash
n=$(( $(ls "$LOG" 2>/dev/null | wc -l) + 1 ))
{ printf '%s\n' "$@"; echo ---; cat; } > "$LOG/$n"
echo "10$n;cluster"
`
	os.WriteFile(filepath.Join(bin, "sbatch"), []byte(fake), 0o755)
	logs := filepath.Join(dir, "log")
	os.Mkdir(logs, 0o755)
	cmd := exec.Command("bash", script)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "LOG="+logs)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("submit: %v: %s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "shards=101 score=102" {
		t.Fatalf("submit printed %q, want the two job ids", got)
	}
	read := func(n string) string {
		b, err := os.ReadFile(filepath.Join(logs, n))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	run := "exec /opt/munit-eval -q --threads 3 --device cuda --ort-lib /opt/ort-gpu/libonnxruntime.so run '/shared/eval dir/eval.yaml'"
	common := []string{"#SBATCH --partition=gpu\n", "#SBATCH --cpus-per-task=3\n", "#SBATCH --mem=6G\n",
		"#SBATCH --time=2:00:00\n", "#SBATCH --gres=gpu:1\n", "#SBATCH --chdir=/shared/run\n"}
	shards := read("1")
	for _, want := range append([]string{"--parsable\n---\n#!/usr/bin/env bash\n", "#SBATCH --job-name=mu-shards\n", "#SBATCH --array=0-3\n", run + "\n"}, common...) {
		if !strings.Contains(shards, want) {
			t.Errorf("array job lacks %q:\n%s", want, shards)
		}
	}
	score := read("2")
	for _, want := range append([]string{"--dependency=afterok:101\n", "--kill-on-invalid-dep=yes\n", "#SBATCH --job-name=mu-score\n",
		run + " --score-only --shards 4\n"}, common...) {
		if !strings.Contains(score, want) {
			t.Errorf("scoring job lacks %q:\n%s", want, score)
		}
	}
	if strings.Contains(score, "--array") || strings.Contains(shards, "--shard ") {
		t.Error("the scoring job is an array, or the array tasks are given a fixed shard")
	}
}

// TestEmitK8s parses the two Jobs with yaml.v3 and checks the fields a
// cluster needs: an Indexed Job with completions = parallelism = shards,
// --shards N on the command (the index comes from JOB_COMPLETION_INDEX),
// the claim mounted where the pods work, the resources, and the scoring
// Job.
func TestEmitK8s(t *testing.T) {
	var b bytes.Buffer
	e := Emit{File: "evals/eval.yaml", Shards: 16, CPUs: 4, Memory: "8G", Time: "1-00:00:00", GPUs: 1, Device: "cuda",
		ORTLib: "/opt/ort/libonnxruntime.so", Image: "reg/munit-eval:1", Claim: "evals", Mount: "/data"}
	if err := EmitK8s(&b, e); err != nil {
		t.Fatal(err)
	}
	type container struct {
		Image        string
		WorkingDir   string   `yaml:"workingDir"`
		Command      []string `yaml:"command"`
		Resources    map[string]map[string]string
		VolumeMounts []struct {
			Name      string
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	}
	type job struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string
		Metadata   struct {
			Name   string
			Labels map[string]string
		}
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int
			Parallelism    int
			Deadline       int `yaml:"activeDeadlineSeconds"`
			Template       struct {
				Spec struct {
					RestartPolicy string `yaml:"restartPolicy"`
					Containers    []container
					Volumes       []struct {
						Name string
						PVC  struct {
							ClaimName string `yaml:"claimName"`
						} `yaml:"persistentVolumeClaim"`
					}
				}
			}
		}
	}
	dec := yaml.NewDecoder(&b)
	dec.KnownFields(false)
	var jobs []job
	for {
		var j job
		err := dec.Decode(&j)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	if len(jobs) != 2 {
		t.Fatalf("%d YAML documents, want 2 Jobs", len(jobs))
	}
	cmd := []string{"munit-eval", "-q", "--threads", "4", "--device", "cuda", "--ort-lib", "/opt/ort/libonnxruntime.so", "run", "evals/eval.yaml"}
	for i, j := range jobs {
		step := []string{"shards", "score"}[i]
		s := j.Spec
		c := s.Template.Spec.Containers
		switch {
		case j.APIVersion != "batch/v1" || j.Kind != "Job" || j.Metadata.Name != "munit-eval-"+step || j.Metadata.Labels["munit-eval/step"] != step:
			t.Errorf("job %d: %s %s %q %v", i, j.APIVersion, j.Kind, j.Metadata.Name, j.Metadata.Labels)
		case len(c) != 1 || c[0].Image != "reg/munit-eval:1" || c[0].WorkingDir != "/data":
			t.Errorf("%s: containers %+v", step, c)
		case len(c[0].VolumeMounts) != 1 || c[0].VolumeMounts[0].MountPath != "/data" || len(s.Template.Spec.Volumes) != 1 ||
			s.Template.Spec.Volumes[0].PVC.ClaimName != "evals" || s.Template.Spec.Volumes[0].Name != c[0].VolumeMounts[0].Name:
			t.Errorf("%s: the claim is not mounted at /data: %+v %+v", step, c[0].VolumeMounts, s.Template.Spec.Volumes)
		case c[0].Resources["limits"]["nvidia.com/gpu"] != "1" || c[0].Resources["requests"]["cpu"] != "4" || c[0].Resources["requests"]["memory"] != "8Gi":
			t.Errorf("%s: resources %v", step, c[0].Resources)
		case s.Template.Spec.RestartPolicy != "Never" || s.Deadline != 86400:
			t.Errorf("%s: restartPolicy %q, activeDeadlineSeconds %d", step, s.Template.Spec.RestartPolicy, s.Deadline)
		}
		want := append(append([]string(nil), cmd...), "--shards", "16")
		if step == "shards" {
			if s.CompletionMode != "Indexed" || s.Completions != 16 || s.Parallelism != 16 {
				t.Errorf("shards: completionMode %q, completions %d, parallelism %d, want Indexed, 16, 16", s.CompletionMode, s.Completions, s.Parallelism)
			}
		} else {
			want = append(append([]string(nil), cmd...), "--score-only", "--shards", "16")
			if s.CompletionMode != "" || s.Completions > 1 || s.Parallelism > 1 {
				t.Errorf("score: %+v, want one plain pod", s)
			}
		}
		if strings.Join(c[0].Command, " ") != strings.Join(want, " ") {
			t.Errorf("%s: command %q, want %q", step, c[0].Command, want)
		}
	}
}

// TestEmitRefuses: options that would make jobs that cannot work.
func TestEmitRefuses(t *testing.T) {
	ok := Emit{File: "e.yaml", Shards: 2, Workdir: "/w"}
	cases := []struct {
		name string
		edit func(*Emit)
		want string
	}{
		{"no shards", func(e *Emit) { e.Shards = 0 }, "--shards 0"},
		{"gpus on cpu", func(e *Emit) { e.GPUs = 1 }, "--device cuda"},
		{"cuda without gpus", func(e *Emit) { e.Device = "cuda" }, "--gpus 1"},
		{"bad time", func(e *Emit) { e.Time = "2h" }, `--time "2h"`},
		{"bad memory", func(e *Emit) { e.Memory = "8 GB" }, `--mem "8 GB"`},
		{"bad name", func(e *Emit) { e.JobName = "a b" }, "--job-name"},
	}
	for _, c := range cases {
		e := ok
		c.edit(&e)
		for _, f := range []func(io.Writer, Emit) error{EmitSlurm, EmitK8s} {
			err := f(io.Discard, e)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want an error naming %s", c.name, err, c.want)
			}
		}
	}
	if err := EmitSlurm(io.Discard, ok); err != nil {
		t.Fatal(err)
	}
}

// TestSlurmSeconds reads Slurm's time limit forms.
func TestSlurmSeconds(t *testing.T) {
	for in, want := range map[string]int{"90": 5400, "10:30": 630, "2:00:00": 7200, "1-0": 86400, "1-2:30": 95400, "2-00:00:01": 172801} {
		if got, ok := slurmSeconds(in); !ok || got != want {
			t.Errorf("slurmSeconds(%q) = %d, %v, want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "2h", "1:2:3:4", "-5", "a-1"} {
		if _, ok := slurmSeconds(bad); ok {
			t.Errorf("slurmSeconds(%q) accepted", bad)
		}
	}
}

// TestMemorySpelling: one --mem for both schedulers, in their units.
func TestMemorySpelling(t *testing.T) {
	for in, want := range map[string][2]string{"8G": {"8G", "8Gi"}, "8Gi": {"8G", "8Gi"}, "500M": {"500M", "500Mi"},
		"4000": {"4000", "4000Mi"}, "1T": {"1T", "1Ti"}, "": {"", ""}} {
		if s, k := slurmMemory(in), k8sMemory(in); s != want[0] || k != want[1] {
			t.Errorf("%q: slurm %q, k8s %q, want %q", in, s, k, want)
		}
	}
}
