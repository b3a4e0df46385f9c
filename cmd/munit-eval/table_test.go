package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/onnxbuild"
)

// write1000Classifier writes a classifier with 1,000 classes named like
// an ImageNet Inception's (logits = mean colour x a fixed matrix).
func write1000Classifier(t *testing.T, dir string) (string, []string) {
	t.Helper()
	const c = 1000
	g := onnxbuild.NewGraph("c1000")
	x := g.Input("image", -1, 3, -1, -1)
	pooled := g.Op("Flatten", []string{g.Op("GlobalAveragePool", []string{x}, nil)}, onnxbuild.Attrs{"axis": 1})
	w := make([]float32, 3*c)
	for i := range w {
		w[i] = float32(i%7) - 3
	}
	g.OpNamed("MatMul", []string{pooled, g.Const("w", []int64{3, c}, w)}, nil, "logits")
	g.Output("logits", -1, c)
	names := make([]string, c)
	for i := range names {
		names[i] = fmt.Sprintf("n%08d imagenet_class_%d", 1440764+i, i)
	}
	p := filepath.Join(dir, "inception1000.onnx")
	meta := map[string]string{"munit_eval.role": "classifier", "munit_eval.classes": strings.Join(names, ","),
		"notes": strings.Repeat("a long free-text note. ", 40)}
	if err := onnxbuild.NewModel(g, meta).WriteFile(p); err != nil {
		t.Fatal(err)
	}
	return p, names
}

// TestInspect1000Classes: inspect on a 1,000-class classifier prints no
// line over 200 characters and stays short (it printed an 11,498-character
// classes line and a 10,510-character metadata line); --full and --json
// keep every name.
func TestInspect1000Classes(t *testing.T) {
	needORT(t)
	p, names := write1000Classifier(t, t.TempDir())
	r := cli(t, "inspect", p)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	if len(r.stdout) > 2000 || len(lines) > 20 {
		t.Errorf("%d characters in %d lines, want at most 2000 in 20:\n%s", len(r.stdout), len(lines), r.stdout)
	}
	for _, l := range lines {
		if n := len([]rune(l)); n > 200 {
			t.Errorf("line of %d characters: %q", n, l)
		}
	}
	for _, want := range []string{"classes:    1000: n01440764 imagenet_class_0, ", "996 more; --full", "(920 characters; --full"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	full := cli(t, "inspect", "--full", p)
	if full.code != 0 || !strings.Contains(full.stdout, strings.Join(names, ", ")) {
		t.Errorf("--full does not list every class: exit %d", full.code)
	}
	var rep struct {
		Metadata map[string]string `json:"metadata"`
	}
	js := cli(t, "inspect", "--json", p)
	if err := json.Unmarshal([]byte(js.stdout), &rep); err != nil || rep.Metadata["munit_eval.classes"] != strings.Join(names, ",") {
		t.Errorf("--json does not keep the classes whole: %v", err)
	}
}
