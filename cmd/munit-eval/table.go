package main

import (
	"io"
	"os"
	"strconv"

	"golang.org/x/term"

	"github.com/munit-eval/munit-eval/reports"
	"github.com/munit-eval/munit-eval/results"
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
	return t.Text(w, table.TextOptions{Width: termWidth(w, wideTables)})
}

// printMetrics prints the metric commands' tables of docs (one row per
// document, the registry's detail columns of the metrics they carry;
// reports.MetricTables), folded to the terminal's width.
func printMetrics(w io.Writer, docs ...*results.Document) error {
	for _, t := range reports.MetricTables(docs) {
		if err := t.Text(w, table.TextOptions{Width: termWidth(w, wideTables), NoTitle: true}); err != nil {
			return err
		}
	}
	return nil
}

// metricTable is printMetrics of one document, emitWithNotes' printer.
func metricTable(w io.Writer, doc *results.Document) error { return printMetrics(w, doc) }

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
