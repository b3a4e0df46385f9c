package table

import (
	"io"
	"os"
	"strconv"

	"golang.org/x/term"
)

// Plain is a plain terminal table (the metric commands' and amt analyze's
// output): header over rows of preformatted text, the first column the
// rows' labels, the others right-aligned. A short row gets empty cells.
func Plain(header []string, rows [][]string) *Table {
	t := &Table{}
	if len(header) > 0 {
		t.Stub = header[0]
	}
	for _, h := range header[min(1, len(header)):] {
		t.Columns = append(t.Columns, Column{Header: h, Align: AlignRight})
	}
	for _, r := range rows {
		row := Row{}
		if len(r) > 0 {
			row.Label = r[0]
		}
		for j := range t.Columns {
			c := Text("")
			if j+1 < len(r) {
				c = Text(r[j+1])
			}
			row.Cells = append(row.Cells, c)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// TermWidth is the width tables must fit when writing to w: the
// terminal's width (COLUMNS overrides it) when w is a terminal and wide is
// false, 0 (tables whole) for --wide, pipes and files.
func TermWidth(w io.Writer, wide bool) int {
	if wide || !IsTerminal(w) {
		return 0
	}
	f := w.(*os.File)
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if n, _, err := term.GetSize(int(f.Fd())); err == nil && n > 0 {
		return n
	}
	return 0
}

// IsTerminal reports whether w is a terminal, where tables may turn vertical and
// use the terminal's bold attribute.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
