package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/warning"
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
	if err := WriteMetrics(&b, 0, doc); err != nil {
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
	for _, want := range []string{"classes predicted (argmax): 3 of 1000", "n00000007_name 50.0%", "never predicted: 997 classes, e.g. tench, goldfish"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestOutputDocument: a document is stamped, written to Results (the
// write named on Log), and printed as its table with its warnings under
// it, or with JSON as the document alone.
func TestOutputDocument(t *testing.T) {
	d := doc("MUNIT", "edges2shoes")
	d.Created, d.Versions = "", results.Versions{}
	d.Metrics.LPIPSDiversity = div(0.109, 0.002, 1900)
	d.Warn(warning.New("test", warning.SubjectSamples, "a planted warning"))
	var out, log bytes.Buffer
	o := Output{Results: filepath.Join(t.TempDir(), "munit.json"), ORTVersion: "1.30.0", Log: &log}
	table := func(w io.Writer) error { _, err := io.WriteString(w, "TABLE\n"); return err }
	if err := o.Document(&out, d, table); err != nil {
		t.Fatal(err)
	}
	if out.String() != "TABLE\nwarning: a planted warning\n" || log.String() != "wrote "+o.Results+"\n" {
		t.Errorf("printed %q, logged %q", out.String(), log.String())
	}
	back, err := results.Read(o.Results)
	if err != nil {
		t.Fatal(err)
	}
	if back.Created == "" || back.Versions.MunitEval == "" || back.Versions.ONNXRuntime != "1.30.0" {
		t.Errorf("not stamped: created %q, versions %+v", back.Created, back.Versions)
	}
	out.Reset()
	if err := (Output{JSON: true}).Document(&out, d, table); err != nil {
		t.Fatal(err)
	}
	var got results.Document
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.Method != "MUNIT" || strings.Contains(out.String(), "TABLE") {
		t.Errorf("JSON: %v, method %q:\n%s", err, got.Method, out.String())
	}
}

// TestOutputRealRow: the real-data row goes to FILE.real.json, in
// Documents as in LPIPS, whose JSON is one array of the documents; a
// repeated warning is printed once, the synthetic model's note once.
func TestOutputRealRow(t *testing.T) {
	dir := t.TempDir()
	method, real := doc("MUNIT", "edges2shoes"), doc(results.MethodRealData, "edges2shoes")
	for _, d := range []*results.Document{method, real} {
		d.Metrics.LPIPSDiversity = div(0.2, 0.01, 1900)
		d.Warn(warning.New("test", warning.SubjectSamples, "the same warning"))
		ref := d.Models[results.ModelLPIPS]
		ref.Synthetic = true
		d.Models[results.ModelLPIPS] = ref
	}
	var out, log bytes.Buffer
	o := Output{Results: filepath.Join(dir, "munit.json"), Log: &log}
	if err := o.Documents(&out, []*results.Document{method, real}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"munit.json", "munit.real.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(log.String(), "munit.real.json") || !strings.Contains(out.String(), "note: the lpips model lpips_alex.onnx is synthetic") {
		t.Errorf("logged %q, printed:\n%s", log.String(), out.String())
	}
	out.Reset()
	if err := (Output{}).LPIPS(&out, []*results.Document{method, real}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "the same warning"); n != 1 {
		t.Errorf("the repeated warning printed %d times:\n%s", n, out.String())
	}
	if n := strings.Count(out.String(), "is synthetic"); n != 1 {
		t.Errorf("the synthetic note printed %d times:\n%s", n, out.String())
	}
	out.Reset()
	if err := (Output{JSON: true}).LPIPS(&out, []*results.Document{method, real}); err != nil {
		t.Fatal(err)
	}
	var docs []results.Document
	if err := json.Unmarshal(out.Bytes(), &docs); err != nil || len(docs) != 2 || docs[1].Method != results.MethodRealData {
		t.Errorf("JSON array: %v, %d documents", err, len(docs))
	}
}

// TestBoldFor: pipes and files get the marker character.
func TestBoldFor(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if BoldFor(f) != BoldStar || BoldFor(&bytes.Buffer{}) != BoldStar {
		t.Error("a file or a buffer gets the terminal's bold attribute")
	}
}

// TestMetricTablesWidth100: on a 100-column terminal the metric commands'
// tables keep each value with its interval (the interval in the value's
// cell, the layout vertical when even that is too wide), and every line,
// the 1,000-class line included, fits; unwrapped, that line stays short.
func TestMetricTablesWidth100(t *testing.T) {
	doc := results.New("MUNIT w/o L^x_recon", "edges2shoes")
	m := &doc.Metrics
	m.NumInputs, m.SamplesPerInput = results.Int(100), results.Int(100)
	m.IS, m.ISExp, m.CIS, m.CISExp = results.Float(1.2), results.Float(3.32), results.Float(0.4), results.Float(1.49)
	m.ISCI95, m.CISCI95 = &[2]float64{1.1, 1.3}, &[2]float64{0.35, 0.41}
	m.Classes, m.ClassShare = make([]string, 1000), make([]float64, 1000)
	for i := range m.Classes {
		m.Classes[i] = fmt.Sprintf("n%08d", i) // ImageNet's synset form
		m.ClassShare[i] = 0.001
	}
	for _, width := range []int{100, 0} {
		var b bytes.Buffer
		if err := WriteMetrics(&b, width, doc); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
			if n := len([]rune(l)); width > 0 && n > width || n > 160 {
				t.Errorf("width %d: line of %d characters: %q", width, n, l)
			}
		}
		for _, want := range []string{"1.2000 [1.1000, 1.3000]", "0.4000 [0.3500, 0.4100]"} {
			if !strings.Contains(out, want) {
				t.Errorf("width %d: no %q (a value and its interval in one cell):\n%s", width, want, out)
			}
		}
		if strings.Contains(out, "│ 95% CI") {
			t.Errorf("width %d: an interval column apart from its value:\n%s", width, out)
		}
		if width > 0 {
			t.Logf("\n%s", out)
		}
	}
}
