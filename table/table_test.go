package table

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./table -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

func ci(lo, hi float64) *[2]float64 { return &[2]float64{lo, hi} }

// sample is a two-dataset table with a method named CycleGAN*, a reference
// row, an asymmetric FID interval (the 0.33 for [0.323, 0.965]),
// N/A, a KID standard deviation and warnings on a row and on the table.
func sample() *Table {
	sd := 0.0011
	t := &Table{
		Name:  "sample",
		Title: "Sample table",
		Columns: []Column{
			{Group: "edges2shoes", Header: "Diversity", Better: +1, Decimals: 3},
			{Group: "cat2dog", Header: "FID", Better: -1, Decimals: 2},
			{Group: "cat2dog", Header: "KID", Better: -1, Decimals: 4},
		},
		Rows: []Row{
			{Label: "CycleGAN*", Cells: []Cell{Value(0.000, ci(0, 0)), Value(0.33, ci(0.323, 0.965)), {Kind: CellNA}}},
			{Label: "MUNIT", Cells: []Cell{Value(0.109, ci(0.107, 0.111)), Value(0.41, ci(0.39, 0.43)), {Kind: CellValue, Value: 0.0123, SD: &sd}},
				Warnings: []string{"KID subset size 1000 clipped to 100"}},
			{Label: "Real data", Reference: true, Cells: []Cell{Value(0.293, ci(0.288, 0.298)), {Kind: CellNA}, {Kind: CellNA}}},
		},
		Notes:    []string{"cat2dog: FID between 100 samples and 100 real images."},
		Warnings: []string{"judgments come from simulated workers"},
	}
	t.MarkBest()
	return t
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		render func(*Table, *bytes.Buffer) error
	}{
		{"sample.txt", func(t *Table, b *bytes.Buffer) error { return t.Text(b, TextOptions{}) }},
		{"sample_60.txt", func(t *Table, b *bytes.Buffer) error { return t.Text(b, TextOptions{Width: 60}) }},
		{"sample.md", func(t *Table, b *bytes.Buffer) error { return t.Markdown(b) }},
		{"sample.tex", func(t *Table, b *bytes.Buffer) error { return t.LaTeX(b) }},
		{"sample.html", func(t *Table, b *bytes.Buffer) error { return t.HTML(b) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.render(sample(), &b); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".golden", b.Bytes())
		})
	}
}

func TestValueCI(t *testing.T) {
	for _, tc := range []struct {
		v     float64
		ci    *[2]float64
		d     int
		style CIStyle
		want  string
	}{
		// The FID: a half-width would say [0.01, 0.65].
		{0.33, ci(0.323, 0.965), 2, CIPlusMinus, "0.33 [0.32, 0.96]"},
		{0.109, ci(0.100, 0.118), 3, CIPlusMinus, "0.109 ± 0.009"},
		{0.109, ci(0.100, 0.118), 3, CIBrackets, "0.109 [0.100, 0.118]"},
		// Symmetric at the printed precision, not exactly.
		{0.1094, ci(0.1001, 0.1186), 3, CIPlusMinus, "0.109 ± 0.009"},
		{-0.00001, nil, 4, CIPlusMinus, "0.0000"},
		{-0.00001, ci(-0.00002, 0), 4, CIPlusMinus, "0.0000 ± 0.0000"},
	} {
		if got := ValueCI(tc.v, tc.ci, tc.d, tc.style); got != tc.want {
			t.Errorf("ValueCI(%g, %v, %d, %s) = %q, want %q", tc.v, tc.ci, tc.d, tc.style, got, tc.want)
		}
	}
	if got := Signed(0, 2); got != "0.00" {
		t.Errorf("Signed(0) = %q", got)
	}
	if got := Signed(0.5, 1); got != "+0.5" {
		t.Errorf("Signed(0.5) = %q", got)
	}
}

func TestMarker(t *testing.T) {
	tb := sample()
	if m := tb.Marker(); m != "†" {
		t.Errorf("marker %q, want †", m)
	}
	var b bytes.Buffer
	if err := tb.Text(&b, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "*†") || !strings.Contains(out, "0.33† [0.32, 0.96]") {
		t.Errorf("marker misplaced:\n%s", out)
	}
	// The star stays the method's: no best value carries it.
	if strings.Count(out, "*") != 1 {
		t.Errorf("* appears outside the method name:\n%s", out)
	}
	tb.Rows[0].Label = "CycleGAN†"
	if m := tb.Marker(); m != "‡" {
		t.Errorf("marker with a method named CycleGAN†: %q, want ‡", m)
	}
}

// TestFootnotesOnlyWhatIsThere: no bold in terminal output, no reference
// row mentioned when there is none, no N/A note without N/A.
func TestFootnotesOnlyWhatIsThere(t *testing.T) {
	tb := sample()
	tb.Rows = tb.Rows[:2]
	tb.Rows[0].Cells[2] = Value(0.02, nil)
	tb.MarkBest()
	var b bytes.Buffer
	if err := tb.Text(&b, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"old", "Real data", "N/A"} {
		if strings.Contains(out, bad) {
			t.Errorf("footnotes mention %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, "† marks the best value of each column.") {
		t.Errorf("no marker note:\n%s", out)
	}
	var md bytes.Buffer
	if err := tb.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "Bold marks the best value") || strings.Contains(md.String(), "†") {
		t.Errorf("markdown notes:\n%s", md.String())
	}
}

// TestWarningPlacement: a row's warning names its row; the table's own
// warning names none.
func TestWarningPlacement(t *testing.T) {
	var b bytes.Buffer
	if err := sample().Text(&b, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"warning (MUNIT): KID subset size 1000 clipped to 100", "warning: judgments come from simulated workers"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q:\n%s", want, out)
		}
	}
}

// TestFold: every line of a table too wide for the terminal, written
// vertically, fits the width, and every value is there with its interval
// on its line.
func TestFold(t *testing.T) {
	tb := &Table{Title: "Wide"}
	row := Row{Label: "MUNIT w/o L^x_recon"}
	for i := range 12 {
		tb.Columns = append(tb.Columns, Column{Group: "dataset", Header: "metric " + string(rune('A'+i)), Better: +1, Decimals: 4})
		row.Cells = append(row.Cells, Value(float64(i)+0.1234, ci(float64(i), float64(i)+0.3)))
	}
	tb.Rows = []Row{row}
	tb.Notes = []string{strings.Repeat("a long footnote that must wrap ", 20)}
	for _, width := range []int{60, 80, 132} {
		var b bytes.Buffer
		if err := tb.Text(&b, TextOptions{Width: width}); err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
			if w := runewidth.StringWidth(l); w > width {
				t.Errorf("width %d: line of %d columns: %q", width, w, l)
			}
		}
		for i := range 12 {
			if v := ValueCI(float64(i)+0.1234, ci(float64(i), float64(i)+0.3), 4, CIPlusMinus); width < 132 && !strings.Contains(b.String(), " = "+v+"\n") {
				t.Errorf("width %d: value %s not on its line:\n%s", width, v, b.String())
			}
		}
	}
	var b bytes.Buffer
	if err := tb.Text(&b, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "┌"); n != 1 {
		t.Errorf("unfolded table drawn as %d tables", n)
	}
}

func TestWrap(t *testing.T) {
	got := Wrap("one two three four five six", "  ", "    ", 14)
	want := "  one two\n    three four\n    five six\n"
	if got != want {
		t.Errorf("Wrap = %q, want %q", got, want)
	}
	if got := Wrap("x y", "- ", "", 0); got != "- x y\n" {
		t.Errorf("Wrap without width = %q", got)
	}
}

func TestEscapes(t *testing.T) {
	if got := EscapeLaTeX("MUNIT w/o L^x_recon & 50%"); got != `MUNIT w/o $\mathcal{L}^{x}_{\mathrm{recon}}$ \& 50\%` {
		t.Errorf("EscapeLaTeX = %q", got)
	}
	if got := EscapeMarkdown("CycleGAN* | a_b"); got != `CycleGAN\* \| a\_b` {
		t.Errorf("EscapeMarkdown = %q", got)
	}
}

func BenchmarkRender(b *testing.B) {
	tb := sample()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := tb.Text(&buf, TextOptions{Width: 60}); err != nil {
			b.Fatal(err)
		}
		if err := tb.Markdown(&buf); err != nil {
			b.Fatal(err)
		}
		if err := tb.LaTeX(&buf); err != nil {
			b.Fatal(err)
		}
		if err := tb.HTML(&buf); err != nil {
			b.Fatal(err)
		}
	}
}

// TestNumHuge: a value no metric has (FID of absurd statistics, 1e300)
// prints in exponent form, not as 300 digits; ordinary values as before.
func TestNumHuge(t *testing.T) {
	for v, want := range map[float64]string{1e300: "1.0000e+300", -2.5e20: "-2.5000e+20", 123456.78912: "123456.7891", -0.00004: "0.0000"} {
		if got := Num(v, 4); got != want {
			t.Errorf("Num(%g, 4) = %q, want %q", v, got, want)
		}
	}
}

// TestLaTeXFloatHoldsTableOnly: the float holds the caption and tabular
// only, so it pastes into a paper unedited; the notes and warnings follow
// \end{table} as comments, which compile to nothing, and NoNotes leaves
// them out.
func TestLaTeXFloatHoldsTableOnly(t *testing.T) {
	tb := sample()
	tb.Notes = append(tb.Notes, "a note\nthat spans two lines")
	tb.Warnings = append(tb.Warnings, "a table warning")
	for _, noNotes := range []bool{false, true} {
		var buf bytes.Buffer
		if err := tb.LaTeXWith(&buf, LaTeXOptions{NoNotes: noNotes}); err != nil {
			t.Fatal(err)
		}
		s := buf.String()
		end := strings.Index(s, "\\end{table}\n")
		if end < 0 {
			t.Fatalf("no \\end{table}:\n%s", s)
		}
		float, after := s[:end], s[end+len("\\end{table}\n"):]
		if strings.Contains(float, "note") || strings.Contains(float, "warning") || strings.Contains(float, "footnotesize") {
			t.Errorf("NoNotes=%v: the float holds notes:\n%s", noNotes, float)
		}
		if noNotes {
			if after != "" {
				t.Errorf("NoNotes: text after the float:\n%s", after)
			}
			continue
		}
		for _, want := range []string{"% note: a note that spans two lines\n", "% warning: a table warning\n", "% note: Bold marks"} {
			if !strings.Contains(after, want) {
				t.Errorf("after the float, want %q in:\n%s", want, after)
			}
		}
		for _, line := range strings.Split(strings.TrimSuffix(after, "\n"), "\n") {
			if !strings.HasPrefix(line, "% ") {
				t.Errorf("line after the float is not a comment: %q", line)
			}
		}
	}
}
