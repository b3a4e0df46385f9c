package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGateTripsOnWorseModel is the dogfooding gate's own test: the
// committed ci/eval.yaml protocol with the planted MUNIT swapped for a
// two-mode model (the world's BicycleGAN, still called MUNIT) must fail
// `munit-eval check` against the committed ci/baseline/ (exit 1), and the
// real MUNIT must pass it (exit 0).
func TestGateTripsOnWorseModel(t *testing.T) {
	needORT(t)
	if testing.Short() {
		t.Skip("runs the synthetic world through the pipeline")
	}
	eval, err := os.ReadFile(filepath.Join("..", "..", "ci", "eval.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	baseline, err := filepath.Abs(filepath.Join("..", "..", "ci", "baseline", "shapes__MUNIT.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	world := filepath.Join(dir, "world")
	if r := cli(t, "-q", "demo", "--setup-only", "--out", world); r.code != 0 {
		t.Fatalf("demo --setup-only: %s", r.stderr)
	}
	// Keep the committed protocol; point it at this world and keep only MUNIT.
	head, _, _ := strings.Cut(string(eval), "    methods:")
	head = strings.ReplaceAll(head, "../.cache/gate", world)
	for name, methods := range map[string]string{
		"same":  "    methods:\n      - name: MUNIT\n        content_encoder: " + world + "/models/munit_content.onnx\n        decoder: " + world + "/models/munit_decoder.onnx\n",
		"worse": "    methods:\n      - name: MUNIT\n        generator: " + world + "/models/bicyclegan.onnx\n",
	} {
		t.Run(name, func(t *testing.T) {
			sub := filepath.Join(dir, name)
			os.MkdirAll(sub, 0o755)
			y := strings.Replace(head, "out: "+world+"/out", "out: "+filepath.Join(sub, "out"), 1) + methods
			p := filepath.Join(sub, "eval.yaml")
			os.WriteFile(p, []byte(y), 0o644)
			if r := cli(t, "-q", "run", "--no-report", p); r.code != 0 {
				t.Fatalf("run: exit %d: %s", r.code, r.stderr)
			}
			r := cli(t, "check", "--baseline", baseline, "--results", filepath.Join(sub, "out", "results", "shapes__MUNIT.json"))
			want := map[string]int{"same": 0, "worse": 1}[name]
			if r.code != want {
				t.Fatalf("check: exit %d, want %d\n%s%s", r.code, want, r.stdout, r.stderr)
			}
			if name == "worse" && !strings.Contains(r.stdout, "regressed") {
				t.Fatalf("no regressed verdict:\n%s", r.stdout)
			}
		})
	}
}
