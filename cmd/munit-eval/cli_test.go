package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/paritytest"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/onnxbuild"
)

// The CLI tests run the built binary, as a user would: flags do not leak
// between runs and exit codes are real.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "munit-eval-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "munit-eval")
	// The commands' per-user store goes to a temporary folder, never the
	// real home directory (a test may set its own).
	os.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

func cli(t *testing.T, args ...string) result {
	t.Helper()
	return cliIn(t, "", args...)
}

// cliIn runs the binary in dir ("": here).
func cliIn(t *testing.T, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "CI=true")
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// wantBadInput checks exit 2 with exactly one line on stderr that contains
// every fragment, and no panic trace.
func wantBadInput(t *testing.T, r result, fragments ...string) {
	t.Helper()
	if r.code != 2 {
		t.Fatalf("exit %d, want 2; stderr: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("stderr has %d lines, want 1:\n%s", len(lines), r.stderr)
	}
	for _, f := range fragments {
		if !strings.Contains(r.stderr, f) {
			t.Errorf("stderr %q lacks %q", r.stderr, f)
		}
	}
	if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "panic") {
		t.Fatalf("panic: %s", r.stderr)
	}
}

func needORT(t *testing.T) {
	t.Helper()
	if err := model.Init(""); err != nil {
		t.Skipf("onnxruntime not available (run `make setup`): %v", err)
	}
}

// writeGenerator writes a one-op generator whose image input has chans channels.
func writeGenerator(t *testing.T, dir string, chans int64) string {
	t.Helper()
	g := onnxbuild.NewGraph("g")
	x := g.Input("image", -1, chans, -1, -1)
	g.OpNamed("Tanh", []string{x}, nil, "translated")
	g.Output("translated", -1, chans, -1, -1)
	p := filepath.Join(dir, "gen"+string(rune('0'+chans))+".onnx")
	meta := map[string]string{"munit_eval.role": "generator", "munit_eval.method": "Tiny", "munit_eval.latent_dim": "0"}
	if err := onnxbuild.NewModel(g, meta).WriteFile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInspectBadInput(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	good := writeGenerator(t, dir, 3)
	b, _ := os.ReadFile(good)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		return p
	}
	noContract := filepath.Join(dir, "plain.onnx")
	{
		g := onnxbuild.NewGraph("plain")
		x := g.Input("x", -1, 5)
		g.OpNamed("Relu", []string{x}, nil, "y")
		g.Output("y", -1, 5)
		if err := onnxbuild.NewModel(g, nil).WriteFile(noContract); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		path string
		want string
	}{
		{"missing", filepath.Join(dir, "missing.onnx"), "no such file"},
		{"directory", dir, "is a directory"},
		{"zero bytes", write("zero.onnx", nil), "empty file"},
		{"random bytes", write("random.onnx", bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef, 0x17}, 500)), "not a valid ONNX model"},
		{"truncated", write("trunc.onnx", b[:len(b)*2/3]), "not a valid ONNX model"},
		{"fits no contract", noContract, "no munit_eval.role metadata"},
		{"grey generator", writeGenerator(t, dir, 1), "has 1 channels"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantBadInput(t, cli(t, "inspect", c.path), c.path, c.want)
		})
	}
}

func TestInspectParityModels(t *testing.T) {
	dir := paritytest.Dir(t)
	needORT(t)
	want := map[string]struct {
		role   string
		method string
		latent int
	}{
		"gen_munit_small.onnx":      {"generator", "MUNIT", 8},
		"gen_cyclegan_small.onnx":   {"generator", "CycleGAN", 0},
		"lpips_alex.onnx":           {"lpips", "", 0},
		"lpips_squeeze.onnx":        {"lpips", "", 0},
		"classifier_tinycolor.onnx": {"classifier", "", 0},
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			r := cli(t, "inspect", "--json", filepath.Join(dir, "models", name))
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			var rep map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"role", "method", "latent_dim", "inputs", "outputs", "metadata", "sha256", "contract_ok", "problems"} {
				if _, ok := rep[k]; !ok {
					t.Errorf("--json lacks %q", k)
				}
			}
			if rep["role"] != w.role || rep["method"] != w.method || rep["latent_dim"] != float64(w.latent) || rep["contract_ok"] != true {
				t.Errorf("role %v method %v latent %v ok %v; want %+v", rep["role"], rep["method"], rep["latent_dim"], rep["contract_ok"], w)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	needORT(t)
	r := cli(t, "version")
	if r.code != 0 || !strings.Contains(r.stdout, "munit-eval ") || !strings.Contains(r.stdout, "onnxruntime 1.30.0") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	wantBadInput(t, cli(t, "inspect"), "want MODEL.onnx")
	wantBadInput(t, cli(t, "lpips", "--pairs", "x"), "invalid argument")
	wantBadInput(t, cli(t, "nosuchcommand"), "unknown command")
	wantBadInput(t, cli(t, "--ort-lib", "/nonexistent/libonnxruntime.so", "version"), "--ort-lib")
}

func TestLogitsBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, shape []int, data []float32) string {
		p := filepath.Join(dir, name)
		if err := images.WriteNPY(p, &images.Array{Shape: shape, Data: data}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	nan := float32(0)
	nan = nan / nan
	wantBadInput(t, cli(t, "is", "--logits", write("nan.npy", []int{1, 2, 2}, []float32{0, 1, nan, 0})), "nan.npy", "NaN")
	wantBadInput(t, cli(t, "cis", "--logits", write("rank.npy", []int{2, 2}, []float32{0, 1, 2, 3})), "rank.npy", "rank 3")
	wantBadInput(t, cli(t, "is", "--logits", write("k0.npy", []int{2, 0, 4}, nil)), "k0.npy", "must be positive")
	wantBadInput(t, cli(t, "is", "--logits", filepath.Join(dir, "none.npy")), "none.npy")
}

// TestLogitsClosedForm scores logits whose answer is known: every input
// spreads its samples evenly over C confident classes, so IS = CIS = ln C.
func TestLogitsClosedForm(t *testing.T) {
	const m, k, c = 3, 8, 4
	var data []float32
	for i := 0; i < m; i++ {
		for s := 0; s < k; s++ {
			for j := 0; j < c; j++ {
				v := float32(-60)
				if j == s%c {
					v = 60
				}
				data = append(data, v)
			}
		}
	}
	p := filepath.Join(t.TempDir(), "even.npy")
	if err := images.WriteNPY(p, &images.Array{Shape: []int{m, k, c}, Data: data}); err != nil {
		t.Fatal(err)
	}
	r := cli(t, "cis", "--logits", p, "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var doc struct {
		Metrics struct {
			IS, CIS float64
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	const ln4 = 1.3862943611198906
	if d := doc.Metrics.IS - ln4; d > 1e-9 || d < -1e-9 {
		t.Errorf("IS %v, want ln 4", doc.Metrics.IS)
	}
	if d := doc.Metrics.CIS - ln4; d > 1e-9 || d < -1e-9 {
		t.Errorf("CIS %v, want ln 4", doc.Metrics.CIS)
	}
}

// TestOrtLibFlag runs commands from a folder outside the repository, with no
// $ONNXRUNTIME_LIB: they must load the library --ort-lib names (every
// command, including those that open models through the packages).
func TestOrtLibFlag(t *testing.T) {
	needORT(t)
	lib := model.LibraryPath()
	dir := t.TempDir()
	run := func(args ...string) result {
		cmd := exec.Command(binary, args...)
		cmd.Dir = dir
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, model.LibraryEnv+"=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{out.String(), errb.String(), code}
	}
	if r := run("-q", "demo", "--setup-only", "--out", "w"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := run("--ort-lib", lib, "-q", "translate", "--generator", "w/models/cyclegan.onnx", "--inputs", "w/world/testA", "--out", "st", "--num-inputs", "2"); r.code != 0 {
		t.Fatalf("translate: %s", r.stderr)
	}
	cis := []string{"cis", "--classifier", "w/models/classifier.onnx", "--samples", "st/CycleGAN", "--samples-per-input", "1", "--json"}
	if r := run(append([]string{"--ort-lib", lib}, cis...)...); r.code != 0 {
		t.Fatalf("cis --ort-lib: exit %d: %s", r.code, r.stderr)
	}
	// Without the flag the same command finds no library (unless the system
	// has one installed), which shows the flag is what made it work.
	for _, d := range []string{"/usr/lib", "/usr/local/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"} {
		if m, _ := filepath.Glob(filepath.Join(d, "libonnxruntime.so*")); len(m) > 0 {
			return
		}
	}
	wantBadInput(t, run(cis...), "--ort-lib")
}
