package reports

import (
	"slices"

	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/table"
)

// MetricTables lays out the tables the metric commands print (`munit-eval
// lpips`, `is`, `fid`, ...): one per report table among the registered
// metrics of keys (every metric when keys is empty) that some document
// carries, one row per document, and as columns the metrics' Details (a
// column empty in every row is left out; an empty cell prints "-"; an
// Interval detail joins the cell of the value before it), with
// the metrics' DetailNotes under it (each prefixed by its method when there
// are several documents).
func MetricTables(docs []*results.Document, keys ...string) []*Table {
	var out []*Table
	for _, s := range specs() {
		t := &Table{Name: s.Name, Stub: "method"}
		cols := [][]string{}
		for _, e := range s.entries {
			if len(keys) > 0 && !slices.Contains(keys, e.Key) {
				continue
			}
			var first *results.Document
			for _, d := range docs {
				if e.Present(&d.Metrics) {
					first = d
					break
				}
			}
			if first == nil {
				continue
			}
			for _, dt := range e.Details {
				col := make([]string, len(docs))
				any := false
				for i, d := range docs {
					if e.Present(&d.Metrics) {
						col[i] = dt.Text(d)
					}
					any = any || col[i] != ""
				}
				if !any {
					continue
				}
				if n := len(cols); dt.Interval && n > 0 {
					// The interval joins its value's cell: "v [lo, hi]".
					for i, v := range col {
						if v != "" && cols[n-1][i] != "" {
							cols[n-1][i] += " " + v
						}
					}
					t.Columns[n-1].Header += " [95% CI]"
					continue
				}
				h := dt.Header
				if dt.HeaderOf != nil {
					h = dt.HeaderOf(first)
				}
				t.Columns = append(t.Columns, table.Column{Header: h, Align: table.AlignRight})
				cols = append(cols, col)
			}
			if e.DetailNotes != nil {
				for _, d := range docs {
					if !e.Present(&d.Metrics) {
						continue
					}
					for _, n := range e.DetailNotes(d) {
						if len(docs) > 1 {
							n = d.Method + ": " + n
						}
						t.Notes = append(t.Notes, n)
					}
				}
			}
		}
		if len(t.Columns) == 0 {
			continue
		}
		for i, d := range docs {
			r := table.Row{Label: d.Method}
			for _, col := range cols {
				text := col[i]
				if text == "" {
					text = "-"
				}
				r.Cells = append(r.Cells, table.Text(text))
			}
			t.Rows = append(t.Rows, r)
		}
		out = append(out, t)
	}
	return out
}
