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
// resources, the task running `run FILE --shards 4` without a shard index so
// that it reads SLURM_ARRAY_TASK_ID) and then the scoring job depending on it with
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
		"#SBATCH --time=2:00:00\n", "#SBATCH --gres=gpu:1\n", "--chdir=/shared/run\n"}
	shards := read("1")
	for _, want := range append([]string{"--parsable\n--chdir=/shared/run\n---\n#!/usr/bin/env bash\n", "#SBATCH --job-name=mu-shards\n", "#SBATCH --array=0-3\n", run + " --shards 4\n"}, common...) {
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
	if strings.Contains(score, "--array") || strings.Contains(shards, "--shard ") || strings.Contains(shards, "#SBATCH --chdir") {
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
			Deadline       int  `yaml:"activeDeadlineSeconds"`
			BackoffLimit   *int `yaml:"backoffLimit"`
			PerIndex       *int `yaml:"backoffLimitPerIndex"`
			MaxFailed      *int `yaml:"maxFailedIndexes"`
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
	// The header's steps fail fast: the first wait ends on the shards'
	// Job failing as well as completing (the scoring Job then names the
	// missing shards), within the jobs' --time, not after 24 h.
	header := b.String()[:strings.Index(b.String(), "\napiVersion")]
	for _, want := range []string{
		"kubectl apply -f jobs.yaml -l munit-eval/step=shards\n",
		"kubectl wait --for=jsonpath='{.status.conditions[0].status}'=True --timeout=86400s job/munit-eval-shards\n",
		"kubectl apply -f jobs.yaml -l munit-eval/step=score\n",
		"kubectl wait --for=condition=complete --timeout=86400s job/munit-eval-score; kubectl logs job/munit-eval-score\n",
		"fails the Job at once", "its log naming the shards whose samples are missing",
	} {
		if !strings.Contains(header, want) {
			t.Errorf("the header lacks %q:\n%s", want, header)
		}
	}
	if strings.Contains(header, "condition=complete --timeout=24h job/munit-eval-shards") {
		t.Errorf("the header still waits for the shards' Job to complete only:\n%s", header)
	}
	var h2 bytes.Buffer
	e2 := e
	e2.Time = ""
	if err := EmitK8s(&h2, e2); err != nil || !strings.Contains(h2.String(), "--timeout=24h job/munit-eval-shards") {
		t.Errorf("without --time the waits take a day: %v\n%s", err, h2.String())
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
			if s.BackoffLimit != nil || s.PerIndex == nil || *s.PerIndex != 2 || s.MaxFailed == nil || *s.MaxFailed != 0 {
				t.Errorf("shards: backoffLimit %v, backoffLimitPerIndex %v, maxFailedIndexes %v, want none, 2 and 0 (fail at a shard's third failure)", s.BackoffLimit, s.PerIndex, s.MaxFailed)
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

// TestEmitRefusesInjection: a value with a newline or other control
// character would end a comment, a #SBATCH line or a heredoc early and run
// what follows (or, in the Kubernetes header, start a Pod of its own): every
// free-text option is refused, naming it; names the clusters parse are
// checked against their grammar.
func TestEmitRefusesInjection(t *testing.T) {
	ok := Emit{File: "/e/eval.yaml", Shards: 2, Workdir: "/w"}
	evil := "x\nMUNIT_EVAL_SHARDS\ntouch /tmp/pwned\n---\nkind: Pod"
	cases := []struct {
		name  string
		edit  func(*Emit)
		want  string
		slurm bool // Slurm refuses it too (else Kubernetes only)
	}{
		{"file", func(e *Emit) { e.File = "/e/" + evil }, "evaluation file", true},
		{"workdir", func(e *Emit) { e.Workdir = "/w" + evil }, "--workdir", true},
		{"binary", func(e *Emit) { e.Binary = "/b\rx" }, "--binary", true},
		{"ort-lib", func(e *Emit) { e.ORTLib = "/l\x00" }, "--ort-lib", true},
		{"partition newline", func(e *Emit) { e.Partition = "gpu\n#SBATCH --uid=0" }, "--partition", true},
		{"partition shell", func(e *Emit) { e.Partition = "gpu;reboot" }, "--partition", true},
		{"image", func(e *Emit) { e.Image = "img\n" }, "--image", true},
		{"claim", func(e *Emit) { e.Claim = "c\u2028x" }, "--claim", true},
		{"mount", func(e *Emit) { e.Mount = "/m\x1b[2J" }, "--mount", true},
		{"invalid utf-8", func(e *Emit) { e.File = "/e/\xff.yaml" }, "UTF-8", true},
		{"option-like file", func(e *Emit) { e.File = "--force" }, "starts with '-'", true},
		{"too many shards", func(e *Emit) { e.Shards = 4_000_000_000_000 }, "at most 100000", true},
		{"huge time", func(e *Emit) { e.Time = "99999999999999999-0" }, "--time", true},
		{"relative mount", func(e *Emit) { e.Mount = "data" }, "--mount", false},
		{"claim grammar", func(e *Emit) { e.Claim = "My Claim" }, "--claim", false},
		{"image grammar", func(e *Emit) { e.Image = "img latest" }, "--image", false},
		{"k8s job name", func(e *Emit) { e.JobName = "Mu_x" }, "--job-name", false},
	}
	for _, c := range cases {
		e := ok
		c.edit(&e)
		var b bytes.Buffer
		if err := EmitK8s(&b, e); err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: k8s: %v, want one line naming %s", c.name, err, c.want)
		}
		if b.Len() > 0 {
			t.Errorf("%s: k8s wrote %d bytes before refusing", c.name, b.Len())
		}
		err := EmitSlurm(io.Discard, e)
		if c.slurm && (err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n")) {
			t.Errorf("%s: slurm: %v, want one line naming %s", c.name, err, c.want)
		}
		if !c.slurm && err != nil {
			t.Errorf("%s: slurm refused what it does not use: %v", c.name, err)
		}
	}
}

// TestEmitSlurmQuotes: paths full of shell syntax (quotes, $(...),
// backquotes, '#', spaces) reach sbatch and munit-eval exactly as given and
// run nothing. The fake sbatch runs each job script with bash, and the fake
// binary records its arguments.
func TestEmitSlurmQuotes(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	pwned := filepath.Join(dir, "PWNED")
	nasty := ` it's "$(touch ` + pwned + `)" ` + "`touch " + pwned + "`" + ` #x; $HOME \ `
	work := filepath.Join(dir, "work"+nasty)
	bin := filepath.Join(dir, "bin"+nasty)
	for _, d := range []string{work, bin, filepath.Join(dir, "path")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	binary := filepath.Join(bin, "munit-eval")
	os.WriteFile(binary, []byte("#!/usr/bin/env bash\nprintf '%s\\n' \"$@\" > \"$ARGS.$SLURM_ARRAY_TASK_ID\"\n"), 0o755)
	// The fake sbatch logs its arguments and runs the job script from
	// stdin, in --chdir, as a task would.
	sbatch := `#!/usr/bin/env bash
n=$(( $(ls "$LOG" 2>/dev/null | wc -l) + 1 ))
printf '%s\n' "$@" > "$LOG/$n"
script=$(cat)
for a in "$@"; do case $a in --chdir=*) cd "${a#--chdir=}";; esac; done
SLURM_ARRAY_TASK_ID=$n bash -c "$script"
echo "10$n"
`
	os.WriteFile(filepath.Join(dir, "path", "sbatch"), []byte(sbatch), 0o755)
	logs := filepath.Join(dir, "log")
	os.Mkdir(logs, 0o755)
	file := filepath.Join(dir, "eval"+nasty+".yaml")
	var b bytes.Buffer
	if err := EmitSlurm(&b, Emit{File: file, Shards: 4, Binary: binary, Workdir: work}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", b.String())
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(dir, "path")+":"+os.Getenv("PATH"), "LOG="+logs, "ARGS="+filepath.Join(dir, "args"))
	if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "shards=101 score=102" {
		t.Fatalf("submit: %v: %s", err, out)
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Fatal("a path's shell syntax ran")
	}
	for n, want := range map[string][]string{
		"1": {"-q", "--threads", "2", "run", file, "--shards", "4"},
		"2": {"-q", "--threads", "2", "run", file, "--score-only", "--shards", "4"},
	} {
		got, err := os.ReadFile(filepath.Join(dir, "args."+n))
		if err != nil {
			t.Fatalf("job %s did not run munit-eval: %v", n, err)
		}
		if g := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n"); strings.Join(g, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("job %s ran munit-eval with %q, want %q", n, g, want)
		}
		args, _ := os.ReadFile(filepath.Join(logs, n))
		if !strings.Contains(string(args), "--chdir="+work+"\n") {
			t.Errorf("sbatch %s was not given --chdir=%q: %q", n, work, args)
		}
	}
}

// TestEmitK8sQuotes: a path full of YAML syntax stays one value: the
// stream holds exactly the two Jobs, and the header is all comments.
func TestEmitK8sQuotes(t *testing.T) {
	file := "evals/a: b # c'\"{x}[y] &z *w ---.yaml"
	var b bytes.Buffer
	if err := EmitK8s(&b, Emit{File: file, Shards: 3, Workdir: "/data/w: x #y"}); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "apiVersion") {
			break
		}
		if !strings.HasPrefix(line, "#") {
			t.Fatalf("header line %q is not a comment", line)
		}
	}
	dec := yaml.NewDecoder(&b)
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	if len(docs) != 2 {
		t.Fatalf("%d documents, want the two Jobs", len(docs))
	}
	for _, d := range docs {
		c := d["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
		cmd := c["command"].([]any)
		if d["kind"] != "Job" || cmd[5] != file || c["workingDir"] != "/data/w: x #y" {
			t.Errorf("%v: command %q, workingDir %q", d["kind"], cmd, c["workingDir"])
		}
	}
}
