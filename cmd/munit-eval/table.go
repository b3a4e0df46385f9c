package main

import (
	"io"
	"os"
	"strconv"

	"golang.org/x/term"

	"github.com/munit-eval/munit-eval/table"
)

// renderTable prints a plain terminal table, the metric commands' output:
// header over rows of preformatted text, numbers right-aligned, folded to
// the terminal's width when w is one.
func renderTable(w io.Writer, header []string, rows [][]string) error {
	t := &table.Table{}
	if len(header) > 0 {
		t.Stub = header[0]
	}
	for _, h := range header[min(1, len(header)):] {
		t.Columns = append(t.Columns, table.Column{Header: h, Align: table.AlignRight})
	}
	for _, r := range rows {
		row := table.Row{}
		if len(r) > 0 {
			row.Label = r[0]
		}
		for j := range t.Columns {
			c := table.Text("")
			if j+1 < len(r) {
				c = table.Text(r[j+1])
			}
			row.Cells = append(row.Cells, c)
		}
		t.Rows = append(t.Rows, row)
	}
	return t.Text(w, table.TextOptions{Width: termWidth(w, false)})
}

// f4 formats a metric value with four decimals, the paper's precision.
func f4(v float64) string { return table.Num(v, 4) }

// interval formats a 95% interval's bounds with four decimals.
func interval(ci [2]float64) string { return table.Interval(ci, 4) }

// valueCI formats v with its 95% interval at four decimals: "v ± h" when
// the interval is symmetric at that precision, "v [lo, hi]" otherwise.
func valueCI(v float64, ci [2]float64) string {
	return table.ValueCI(v, &ci, 4, table.CIPlusMinus)
}

// termWidth is the width to fold tables to when writing to w: the
// terminal's width (COLUMNS overrides it) when w is a terminal and wide is
// false, 0 (no folding) for --wide, pipes and files.
func termWidth(w io.Writer, wide bool) int {
	if wide {
		return 0
	}
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if n, _, err := term.GetSize(int(f.Fd())); err == nil && n > 0 {
		return n
	}
	return 0
}
