package main

import (
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// renderTable prints a plain terminal table: the metric commands' output.
// The paper-style tables of many results live in reports/.
func renderTable(w io.Writer, header []string, rows [][]string) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignment(tw.AlignRight),
		tablewriter.WithHeaderAlignment(tw.AlignCenter),
	)
	h := make([]any, len(header))
	for i, v := range header {
		h[i] = v
	}
	t.Header(h...)
	for _, r := range rows {
		if err := t.Append(r); err != nil {
			return err
		}
	}
	return t.Render()
}

// f4 formats a metric value with four decimals, the paper's precision.
func f4(v float64) string { return fmt.Sprintf("%.4f", v) }

// interval formats a 95% interval.
func interval(ci [2]float64) string { return fmt.Sprintf("[%.4f, %.4f]", ci[0], ci[1]) }
