package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

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
	if err := scoresTable(&b, doc); err != nil {
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

func TestClassSharesFew(t *testing.T) {
	got := classShares([]string{"cat", "dog"}, []float64{0.25, 0.75}, 10)
	if want := "samples per class (argmax): cat 25.0%, dog 75.0%"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestValueCIHelper(t *testing.T) {
	// The FID: [0.323, 0.965] is not 0.33 ± 0.32.
	if got := valueCI(0.33, [2]float64{0.323, 0.965}); got != "0.3300 [0.3230, 0.9650]" {
		t.Errorf("valueCI = %q", got)
	}
	if got := valueCI(0.5, [2]float64{0.4, 0.6}); got != "0.5000 ± 0.1000" {
		t.Errorf("valueCI = %q", got)
	}
}
