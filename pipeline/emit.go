package pipeline

// Emitting the jobs of a sharded evaluation for a cluster's own scheduler:
// a Slurm array job plus a scoring job that depends on it, or a Kubernetes
// Indexed Job plus a scoring Job. munit-eval schedules nothing itself.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/munit-eval/munit-eval/translate"
)

// Emit says how to run an evaluation file as a sharded job on a cluster.
// Zero values take the defaults of EmitDefaults.
type Emit struct {
	// File is the evaluation file as the jobs name it: absolute, or
	// relative to Workdir.
	File string
	// Shards is N, the number of shard tasks (at least 1).
	Shards int
	// Binary is the munit-eval executable on the cluster's nodes.
	Binary string
	// Workdir is the jobs' working directory.
	Workdir string
	// JobName prefixes the jobs' names (NAME-shards, NAME-score).
	JobName string
	// CPUs, Memory and Time are each task's resources: cores (also
	// onnxruntime's --threads), memory in Slurm's units ("8G" is 8 GiB, a
	// plain number megabytes; written 8Gi for Kubernetes; "" none asked)
	// and wall time limit (Slurm's "HH:MM:SS"; "" none asked).
	CPUs   int
	Memory string
	Time   string
	// GPUs per task (0: none); with Device "cuda" and ORTLib, a GPU build
	// of onnxruntime's shared library.
	GPUs   int
	Device string
	ORTLib string
	// Partition is the Slurm partition ("": the default one).
	Partition string
	// Image, Claim and Mount are Kubernetes': the container image holding
	// Binary, the PersistentVolumeClaim (ReadWriteMany) that holds the
	// evaluation's files and store, and where it is mounted.
	Image, Claim, Mount string
}

// memSize is a memory amount both Slurm and Kubernetes read (a K/M/G/T
// suffix, binary in Slurm; Kubernetes' Ki/Mi/Gi/Ti also pass).
var memSize = regexp.MustCompile(`^[0-9]+([KMGT]i?)?$`)

// partitionName is a Slurm partition, or a comma-separated list of them.
var partitionName = regexp.MustCompile(`^[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*$`)

// claimName is a Kubernetes object name (a DNS-1123 subdomain), as a
// PersistentVolumeClaim's must be.
var claimName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// k8sJobName is a Job name whose pods' names and labels stay valid (a
// DNS-1123 label, leaving room for "-shards").
var k8sJobName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,54}[a-z0-9])?$`)

// imageRef is a container image reference: registry/path:tag@digest, no
// spaces or shell or YAML syntax.
var imageRef = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$`)

// plainText refuses a value that would break out of the line it is
// written on: control characters (a newline ends a comment, a #SBATCH line
// or a heredoc early), Unicode line separators and invalid UTF-8.
func plainText(flag, v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("emit: %s %q: not valid UTF-8", flag, v)
	}
	if i := strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }); i >= 0 {
		return fmt.Errorf("emit: %s %q: contains a control character (%U at byte %d); the jobs would run text it smuggles in", flag, v, []rune(v[i:])[0], i)
	}
	return nil
}

// EmitDefaults are the defaults of Emit's zero fields.
var EmitDefaults = Emit{Binary: "munit-eval", JobName: "munit-eval", CPUs: 2, Memory: "8G", Time: "24:00:00",
	Device: "cpu", Image: "munit-eval:latest", Claim: "munit-eval", Mount: "/data"}

// withDefaults fills zero fields and checks the rest.
func (e Emit) withDefaults() (Emit, error) {
	d := EmitDefaults
	if e.Binary == "" {
		e.Binary = d.Binary
	}
	if e.JobName == "" {
		e.JobName = d.JobName
	}
	if e.CPUs == 0 {
		e.CPUs = d.CPUs
	}
	if e.Device == "" {
		e.Device = d.Device
	}
	if e.Image == "" {
		e.Image = d.Image
	}
	if e.Claim == "" {
		e.Claim = d.Claim
	}
	if e.Mount == "" {
		e.Mount = d.Mount
	}
	for _, f := range []struct{ flag, v string }{{"evaluation file", e.File}, {"--binary", e.Binary}, {"--workdir", e.Workdir},
		{"--ort-lib", e.ORTLib}, {"--partition", e.Partition}, {"--image", e.Image}, {"--claim", e.Claim}, {"--mount", e.Mount}} {
		if err := plainText(f.flag, f.v); err != nil {
			return e, err
		}
	}
	switch {
	case e.File == "":
		return e, errors.New("emit: no evaluation file")
	case strings.HasPrefix(e.File, "-"):
		return e, fmt.Errorf("emit: evaluation file %q starts with '-': the jobs would read it as an option (name it ./%s)", e.File, e.File)
	case e.Shards < 1:
		return e, fmt.Errorf("emit: --shards %d: want at least 1", e.Shards)
	case e.Shards > translate.MaxShards:
		return e, fmt.Errorf("emit: --shards %d: at most %d", e.Shards, translate.MaxShards)
	case e.CPUs < 1:
		return e, fmt.Errorf("emit: --cpus %d: want at least 1", e.CPUs)
	case e.GPUs < 0:
		return e, fmt.Errorf("emit: --gpus %d: want 0 or more", e.GPUs)
	case e.Device != "cpu" && e.Device != "cuda":
		return e, fmt.Errorf("emit: --device %q: want cpu or cuda", e.Device)
	case e.GPUs > 0 && e.Device != "cuda":
		return e, fmt.Errorf("emit: --gpus %d with --device %s: the jobs would not use the GPUs; add --device cuda (and --ort-lib, a GPU build of onnxruntime)", e.GPUs, e.Device)
	case e.Device == "cuda" && e.GPUs == 0:
		return e, errors.New("emit: --device cuda needs --gpus 1 (one GPU per shard)")
	case e.Memory != "" && !memSize.MatchString(e.Memory):
		return e, fmt.Errorf("emit: --mem %q: want a size such as 8G, 500M or 8Gi", e.Memory)
	case e.Time != "" && !validTime(e.Time):
		return e, fmt.Errorf("emit: --time %q: want Slurm's form, e.g. 24:00:00, 90 (minutes) or 2-00:00:00", e.Time)
	case !safeName.MatchString(e.JobName):
		return e, fmt.Errorf("emit: --job-name %q: use letters, digits, '.', '_' and '-'", e.JobName)
	case e.Partition != "" && !partitionName.MatchString(e.Partition):
		return e, fmt.Errorf("emit: --partition %q: want a partition name (letters, digits, '.', '_', '-'), or several separated by commas", e.Partition)
	}
	return e, nil
}

// checkK8s checks what only the Kubernetes Jobs use.
func (e Emit) checkK8s() error {
	switch {
	case !k8sJobName.MatchString(e.JobName):
		return fmt.Errorf("emit: --job-name %q: Kubernetes wants lower-case letters, digits and '-', at most 56 characters", e.JobName)
	case !imageRef.MatchString(e.Image):
		return fmt.Errorf("emit: --image %q: want an image reference such as registry.example.com/munit-eval:1", e.Image)
	case len(e.Claim) > 253 || !claimName.MatchString(e.Claim):
		return fmt.Errorf("emit: --claim %q: want a PersistentVolumeClaim name (lower-case letters, digits, '-' and '.')", e.Claim)
	case !strings.HasPrefix(e.Mount, "/"):
		return fmt.Errorf("emit: --mount %q: want an absolute path inside the container, such as /data", e.Mount)
	}
	return nil
}

// args are the munit-eval arguments of a task: the global flags, then run
// and the file; extra follow.
func (e Emit) args(extra ...string) []string {
	a := []string{e.Binary, "-q", "--threads", strconv.Itoa(e.CPUs)}
	if e.Device != "cpu" {
		a = append(a, "--device", e.Device)
	}
	if e.ORTLib != "" {
		a = append(a, "--ort-lib", e.ORTLib)
	}
	return append(append(a, "run", e.File), extra...)
}

// shellQuote quotes s for a POSIX shell (as is when it needs no quotes).
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellLine(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

// EmitSlurm writes a bash script that submits the evaluation to Slurm: an
// array job of e.Shards tasks (--array=0-(N-1)), each running `munit-eval
// run FILE --shards N`, which reads its shard from SLURM_ARRAY_TASK_ID (and
// checks N against SLURM_ARRAY_TASK_COUNT), and a scoring job (`run FILE
// --score-only --shards N`) that starts after every task succeeded
// (--dependency=afterok:<array job>) and is cancelled if one fails
// (--kill-on-invalid-dep=yes). The script prints the two job ids as its
// last line: "shards=<id> score=<id>".
//
// Every value is checked or quoted: free text (paths, the binary) never
// reaches a #SBATCH line, whose quoting rules are Slurm's own; the working
// directory is an sbatch argument, quoted for bash, and the task commands
// are quoted for bash inside quoted heredocs that no value can end (values
// hold no newline).
func EmitSlurm(w io.Writer, e Emit) error {
	e, err := e.withDefaults()
	if err != nil {
		return err
	}
	if e.Workdir == "" {
		return errors.New("emit: no working directory")
	}
	var b strings.Builder
	res := func(name string) {
		fmt.Fprintf(&b, "#SBATCH --job-name=%s\n", name)
		if e.Partition != "" {
			fmt.Fprintf(&b, "#SBATCH --partition=%s\n", e.Partition)
		}
		fmt.Fprintf(&b, "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=%d\n", e.CPUs)
		if e.Memory != "" {
			fmt.Fprintf(&b, "#SBATCH --mem=%s\n", slurmMemory(e.Memory))
		}
		if e.Time != "" {
			fmt.Fprintf(&b, "#SBATCH --time=%s\n", e.Time)
		}
		if e.GPUs > 0 {
			fmt.Fprintf(&b, "#SBATCH --gres=gpu:%d\n", e.GPUs)
		}
	}
	n := strconv.Itoa(e.Shards)
	chdir := shellQuote("--chdir=" + e.Workdir)
	fmt.Fprintf(&b, `#!/usr/bin/env bash
# Sharded evaluation of %[1]s on Slurm, written by munit-eval run --emit slurm.
# Run this script (bash) on a submit node: it submits
#   %[2]s-shards  an array job of %[3]d tasks; task I runs shard I/%[3]d (from
#                 SLURM_ARRAY_TASK_ID), generating that share of every method's samples;
#   %[2]s-score   the scoring job, after every task succeeded (afterok): it scores the
#                 assembled store and writes the results and the report.
# A failed task cancels the scoring job; rerun that shard alone with
#   %[4]s
# then submit the scoring step again (the last sbatch below). Logs: slurm-<name>-<job>*.out in %[5]s.
set -euo pipefail
command -v sbatch >/dev/null || { echo "sbatch not found: run this on a Slurm submit node" >&2; exit 2; }

shards=$(sbatch --parsable %[6]s <<'MUNIT_EVAL_SHARDS'
#!/usr/bin/env bash
`, e.File, e.JobName, e.Shards, shellLine(e.args("--shard", "I/"+n)), e.Workdir, chdir)
	res(e.JobName + "-shards")
	fmt.Fprintf(&b, "#SBATCH --array=0-%d\n#SBATCH --output=slurm-%%x-%%A_%%a.out\n", e.Shards-1)
	fmt.Fprintf(&b, "exec %s\nMUNIT_EVAL_SHARDS\n)\nshards=${shards%%%%;*}\n\n", shellLine(e.args("--shards", n)))
	fmt.Fprintf(&b, "score=$(sbatch --parsable %s --dependency=afterok:\"$shards\" --kill-on-invalid-dep=yes <<'MUNIT_EVAL_SCORE'\n#!/usr/bin/env bash\n", chdir)
	res(e.JobName + "-score")
	fmt.Fprintf(&b, "#SBATCH --output=slurm-%%x-%%j.out\n")
	fmt.Fprintf(&b, "exec %s\nMUNIT_EVAL_SCORE\n)\nscore=${score%%%%;*}\n", shellLine(e.args("--score-only", "--shards", n)))
	b.WriteString("echo \"shards=$shards score=$score\"\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// EmitK8s writes two Kubernetes Jobs as one YAML stream: NAME-shards, an
// Indexed Job (completionMode Indexed, completions = parallelism =
// e.Shards) whose pod I runs `munit-eval run FILE --shards N`, reading its
// shard from JOB_COMPLETION_INDEX, and NAME-score, the scoring Job. Both
// mount the PersistentVolumeClaim e.Claim at e.Mount and work in e.Workdir,
// so the evaluation file's relative paths resolve inside the volume.
// Kubernetes has no dependency between Jobs: the header says how to apply
// the scoring Job once the shards' Job is complete (the label
// munit-eval/step selects each).
func EmitK8s(w io.Writer, e Emit) error {
	if e.Workdir == "" {
		e.Workdir = e.Mount
		if e.Workdir == "" {
			e.Workdir = EmitDefaults.Mount
		}
	}
	e, err := e.withDefaults()
	if err == nil {
		err = e.checkK8s()
	}
	if err != nil {
		return err
	}
	mem := k8sMemory(e.Memory)
	fmt.Fprintf(w, `# Sharded evaluation of %[1]s on Kubernetes, written by munit-eval run --emit k8s.
# The claim %[2]s (ReadWriteMany) holds the evaluation file, its models, images and out
# folder; it is mounted at %[3]s and the pods work in %[4]s. Save this as jobs.yaml, then:
#   kubectl apply -f jobs.yaml -l munit-eval/step=shards
#   kubectl wait --for=jsonpath='{.status.conditions[0].status}'=True --timeout=%[6]s job/%[5]s-shards
#   kubectl apply -f jobs.yaml -l munit-eval/step=score
#   kubectl wait --for=condition=complete --timeout=%[6]s job/%[5]s-score; kubectl logs job/%[5]s-score
# The first wait ends when the shards' Job completes or fails, whichever comes first: a
# shard that fails 3 times fails the Job at once (backoffLimitPerIndex 2, maxFailedIndexes
# 0: Kubernetes 1.29 or later), and its .status.failedIndexes names it. The scoring Job
# then fails in seconds, its log naming the shards whose samples are missing and the
# commands that finish them; rerun those shards, then delete the scoring Job and apply it
# again. Finished samples and partials are kept: only missing ones are computed.
`, e.File, e.Claim, e.Mount, e.Workdir, e.JobName, k8sWait(e.Time))
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	for _, step := range []string{"shards", "score"} {
		args := e.args("--shards", strconv.Itoa(e.Shards))
		if step == "score" {
			args = e.args("--score-only", "--shards", strconv.Itoa(e.Shards))
		}
		if err := enc.Encode(k8sJob(e, step, args, mem)); err != nil {
			return err
		}
	}
	return enc.Close()
}

// k8sWait is the header's kubectl wait timeout: the jobs' --time (which
// is also their activeDeadlineSeconds, so a Job has failed by then), or a
// day when none is given.
func k8sWait(t string) string {
	if s, ok := slurmSeconds(t); ok && t != "" {
		return strconv.Itoa(s) + "s"
	}
	return "24h"
}

// k8sMemory spells a memory amount as Kubernetes reads it: Slurm's 8G
// (GiB) is 8Gi, a plain number (Slurm's megabytes) gets Mi.
func k8sMemory(m string) string {
	switch {
	case m == "" || strings.HasSuffix(m, "i"):
		return m
	case strings.IndexAny(m[len(m)-1:], "KMGT") == 0:
		return m + "i"
	}
	return m + "Mi"
}

// slurmMemory spells a memory amount as sbatch reads it (no "i": Slurm's
// units are binary already).
func slurmMemory(m string) string { return strings.TrimSuffix(m, "i") }

// k8sJob is one Job as a YAML tree (maps marshal with sorted keys, which
// yaml.v3 keeps stable).
func k8sJob(e Emit, step string, args []string, mem string) map[string]any {
	labels := map[string]any{"app.kubernetes.io/name": "munit-eval", "munit-eval/step": step}
	res := map[string]any{"cpu": strconv.Itoa(e.CPUs)}
	if mem != "" {
		res["memory"] = mem
	}
	limits := map[string]any{}
	for k, v := range res {
		limits[k] = v
	}
	if e.GPUs > 0 {
		limits["nvidia.com/gpu"] = strconv.Itoa(e.GPUs)
	}
	pod := map[string]any{
		"restartPolicy": "Never",
		"containers": []any{map[string]any{
			"name": "munit-eval", "image": e.Image, "workingDir": e.Workdir,
			"command":      args,
			"resources":    map[string]any{"requests": res, "limits": limits},
			"volumeMounts": []any{map[string]any{"name": "store", "mountPath": e.Mount}},
		}},
		"volumes": []any{map[string]any{"name": "store", "persistentVolumeClaim": map[string]any{"claimName": e.Claim}}},
	}
	spec := map[string]any{
		"backoffLimit": 2,
		"template":     map[string]any{"metadata": map[string]any{"labels": labels}, "spec": pod},
	}
	if step == "shards" {
		spec["completionMode"] = "Indexed"
		spec["completions"] = e.Shards
		spec["parallelism"] = e.Shards
		// Two retries per shard, and the Job fails as soon as one shard
		// has used them (instead of after 2N failures in all, which one
		// bad shard can take hours to reach): the scoring step, applied
		// when the Job fails, then names the shard in seconds.
		delete(spec, "backoffLimit")
		spec["backoffLimitPerIndex"] = 2
		spec["maxFailedIndexes"] = 0
	}
	if s, ok := slurmSeconds(e.Time); ok && e.Time != "" {
		spec["activeDeadlineSeconds"] = s
	}
	return map[string]any{
		"apiVersion": "batch/v1", "kind": "Job",
		"metadata": map[string]any{"name": e.JobName + "-" + step, "labels": labels},
		"spec":     spec,
	}
}

// maxTimePart bounds each number of a time limit (a million days is
// beyond any scheduler's limit).
const maxTimePart = 1_000_000

// validTime reports whether t is a Slurm time limit slurmSeconds reads.
func validTime(t string) bool {
	_, ok := slurmSeconds(t)
	return ok
}

// slurmSeconds reads a Slurm time limit in seconds: "M", "M:S", "H:M:S",
// "D-H", "D-H:M" or "D-H:M:S". Each number is below maxTimePart, so the
// sum cannot overflow (activeDeadlineSeconds is written from it).
func slurmSeconds(t string) (int, bool) {
	days, hasDays := 0, false
	if d, rest, ok := strings.Cut(t, "-"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n >= maxTimePart {
			return 0, false
		}
		days, t, hasDays = n, rest, true
	}
	var v []int
	for _, p := range strings.Split(t, ":") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n >= maxTimePart {
			return 0, false
		}
		v = append(v, n)
	}
	s := days * 86400
	switch {
	case hasDays && len(v) <= 3:
		for len(v) < 3 {
			v = append(v, 0)
		}
		return s + v[0]*3600 + v[1]*60 + v[2], true
	case len(v) == 1:
		return v[0] * 60, true
	case len(v) == 2:
		return v[0]*60 + v[1], true
	case len(v) == 3:
		return v[0]*3600 + v[1]*60 + v[2], true
	}
	return 0, false
}

// EmitFor writes the jobs of kind ("slurm" or "k8s") for e. For Slurm the
// evaluation file is checked here (the submit node shares the cluster's
// filesystem) and named by its absolute path, the working directory
// defaults to the current one and the binary to this executable; for
// Kubernetes the file is named as given, relative to the working
// directory inside the volume, and checked only when it exists here.
func EmitFor(w io.Writer, kind string, e Emit) error {
	switch kind {
	case "slurm":
		if _, err := Load(e.File); err != nil {
			return err
		}
		var err error
		if e.File, err = filepath.Abs(e.File); err != nil {
			return err
		}
		if e.Workdir == "" {
			if e.Workdir, err = os.Getwd(); err != nil {
				return err
			}
		}
		if e.Binary == "" {
			if exe, err := os.Executable(); err == nil {
				e.Binary = exe
			}
		}
		if e.ORTLib != "" {
			if e.ORTLib, err = filepath.Abs(e.ORTLib); err != nil {
				return err
			}
		}
		return EmitSlurm(w, e)
	case "k8s":
		if _, err := os.Stat(e.File); err == nil {
			if _, err := Load(e.File); err != nil {
				return err
			}
		}
		return EmitK8s(w, e)
	}
	return fmt.Errorf("--emit %q: want slurm or k8s", kind)
}
