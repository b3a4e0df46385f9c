package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/onnxbuild"
	"github.com/munit-eval/munit-eval/results"
)

// TestScoresTable1000Classes: a 1,000-class classifier (an ImageNet
// Inception) that predicts 3 classes gives a short summary naming classes,
// not a 16,516-character line listing every class.
func TestScoresTable1000Classes(t *testing.T) {
	doc := results.New("MUNIT", "edges2shoes")
	m := &doc.Metrics
	m.NumInputs, m.SamplesPerInput = results.Int(100), results.Int(100)
	m.IS, m.ISExp, m.CIS, m.CISExp = results.Float(1.2), results.Float(3.32), results.Float(0.4), results.Float(1.49)
	m.ISCI95, m.CISCI95 = &[2]float64{1.1, 1.3}, &[2]float64{0.35, 0.41}
	m.Classes = make([]string, 1000)
	m.ClassShare = make([]float64, 1000)
	for i := range m.Classes {
		m.Classes[i] = fmt.Sprintf("n%08d_name", i)
	}
	m.Classes[0], m.Classes[1] = "tench", "goldfish"
	m.ClassShare[7], m.ClassShare[500], m.ClassShare[999] = 0.5, 0.3, 0.2
	var b bytes.Buffer
	if err := metricTable(&b, doc); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(out) > 2000 || len(lines) > 12 {
		t.Errorf("%d characters in %d lines, want at most 2000 in 12:\n%s", len(out), len(lines), out)
	}
	for _, l := range lines {
		if n := len([]rune(l)); n > 200 {
			t.Errorf("line of %d characters: %q", n, l)
		}
	}
	for _, want := range []string{"3 of 1000 classes predicted", "n00000007_name 50.0%", "never predicted: 997 classes, e.g. tench, goldfish"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

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
