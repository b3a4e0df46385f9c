package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/model"
)

// bracketed matches a value and the interval printed beside it, "v [lo,
// hi]", once markup is stripped.
var bracketed = regexp.MustCompile(`(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*\[(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?),\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\]`)

// markup is what the renderers wrap around a value: LaTeX bold, Markdown
// bold, the best-value dagger; tags separates HTML's cells.
var (
	markup = regexp.MustCompile(`\\textbf\{|\$\^\\dagger\$|\*\*|†`)
	tags   = regexp.MustCompile(`<[^>]+>`)
)

// outsideIntervals returns every "v [lo, hi]" of text with v outside
// [lo, hi], and how many it checked.
func outsideIntervals(text string) (bad []string, n int) {
	text = markup.ReplaceAllString(tags.ReplaceAllString(text, " "), "")
	text = strings.ReplaceAll(text, "}", "")
	for _, m := range bracketed.FindAllStringSubmatch(text, -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		lo, _ := strconv.ParseFloat(m[2], 64)
		hi, _ := strconv.ParseFloat(m[3], 64)
		n++
		if v < lo || v > hi {
			bad = append(bad, m[0])
		}
	}
	return bad, n
}

func TestOutsideIntervals(t *testing.T) {
	bad, n := outsideIntervals("MUNIT │ 1.369 [1.381, 1.386] │ <td>0.5<span> [0.1, 0.9]</span></td> \\textbf{2.0} [2.5, 3.0] **0.3** [0.2, 0.4]")
	if n != 4 || len(bad) != 2 {
		t.Fatalf("checked %d, outside %q; want 4 checked, 2 outside", n, bad)
	}
}

// TestIntervalsHoldValues: on the demo world, every value printed beside
// an interval lies inside it, in the terminal tables of run, the report's
// Markdown, LaTeX and HTML tables, and check's comparison.
func TestIntervalsHoldValues(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	if r := cli(t, "-q", "demo", "--setup-only", "--out", dir, "--inputs", "6", "--real", "40", "--samples-per-input", "10"); r.code != 0 {
		t.Fatalf("demo: %s", r.stderr)
	}
	lib := []string{"-q", "--ort-lib", model.LibraryPath()}
	run := cliIn(t, dir, append(lib, "run", "eval.yaml")...)
	if run.code != 0 {
		t.Fatalf("run: %s", run.stderr)
	}
	check := cliIn(t, dir, append(lib, "check", "--baseline", "results", "--results", "results")...)
	if check.code != 0 {
		t.Fatalf("check: %s", check.stderr)
	}
	texts := map[string]string{"run's terminal tables": run.stdout, "check": check.stdout}
	for _, f := range []string{"tables.md", "tables.tex", "index.html"} {
		b, err := os.ReadFile(filepath.Join(dir, "report", f))
		if err != nil {
			t.Fatal(err)
		}
		texts[f] = string(b)
	}
	for name, text := range texts {
		bad, n := outsideIntervals(text)
		if n < 10 {
			t.Errorf("%s: only %d values with intervals found", name, n)
		}
		if len(bad) > 0 {
			t.Errorf("%s: values outside their intervals: %q", name, bad)
		}
	}
}
