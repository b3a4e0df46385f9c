package table

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

// TestPlain: the header's first cell heads the labels, the other columns
// are right-aligned, and a short row gets empty cells.
func TestPlain(t *testing.T) {
	tb := Plain([]string{"method", "IS", "CIS"}, [][]string{{"MUNIT", "1.234", "0.5"}, {"UNIT"}})
	if tb.Stub != "method" || len(tb.Columns) != 2 || tb.Columns[0].Header != "IS" || tb.Columns[1].Align != AlignRight {
		t.Fatalf("header: stub %q, columns %+v", tb.Stub, tb.Columns)
	}
	if len(tb.Rows) != 2 || tb.Rows[1].Label != "UNIT" || len(tb.Rows[1].Cells) != 2 || tb.Rows[1].Cells[1].Text != "" {
		t.Fatalf("rows: %+v", tb.Rows)
	}
	var b bytes.Buffer
	if err := tb.Text(&b, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"method", "MUNIT", "1.234", "UNIT"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
	if tb := Plain(nil, nil); tb.Stub != "" || len(tb.Columns) != 0 {
		t.Errorf("no header: %+v", tb)
	}
}

// TestTermWidth: --wide, buffers and files never fold, whatever COLUMNS
// says; only a terminal does.
func TestTermWidth(t *testing.T) {
	t.Setenv("COLUMNS", "40")
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, w := range []io.Writer{&bytes.Buffer{}, f} {
		if n := TermWidth(w, false); n != 0 {
			t.Errorf("%T: width %d, want 0", w, n)
		}
	}
	if IsTerminal(f) || IsTerminal(&bytes.Buffer{}) {
		t.Error("a file or a buffer taken for a terminal")
	}
	if n := TermWidth(os.Stdout, true); n != 0 {
		t.Errorf("wide: width %d, want 0", n)
	}
}
