package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

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
	return t.Text(w, table.TextOptions{Width: termWidth(w, wideTables)})
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

// classShares summarises the share of samples per predicted class (argmax)
// in at most two short lines, however many classes the classifier has (an
// ImageNet Inception has 1,000): with up to top classes all are listed;
// otherwise the top most predicted, the number of others, and the classes
// never predicted, counted and named by their first few names.
func classShares(names []string, shares []float64, top int) string {
	name := func(i int) string {
		if i < len(names) && names[i] != "" {
			return names[i]
		}
		return "class " + strconv.Itoa(i)
	}
	idx := make([]int, len(shares))
	for i := range idx {
		idx[i] = i
	}
	if len(shares) <= top {
		parts := make([]string, len(shares))
		for i, s := range shares {
			parts[i] = fmt.Sprintf("%s %.1f%%", name(i), 100*s)
		}
		return "samples per class (argmax): " + strings.Join(parts, ", ")
	}
	sort.SliceStable(idx, func(a, b int) bool { return shares[idx[a]] > shares[idx[b]] })
	var parts []string
	predicted := 0
	for _, i := range idx {
		if shares[i] > 0 {
			predicted++
			if len(parts) < top {
				parts = append(parts, fmt.Sprintf("%s %.1f%%", name(i), 100*shares[i]))
			}
		}
	}
	s := fmt.Sprintf("samples per class (argmax), %d of %d classes predicted; top %d: %s", predicted, len(shares), len(parts), strings.Join(parts, ", "))
	if rest := predicted - len(parts); rest > 0 {
		s += fmt.Sprintf(", and %d more", rest)
	}
	var never []string
	for i, v := range shares {
		if v == 0 {
			never = append(never, name(i))
		}
	}
	if len(never) > 0 {
		shown := never[:min(5, len(never))]
		s += fmt.Sprintf("\nnever predicted: %d classes, e.g. %s", len(never), strings.Join(shown, ", "))
		if len(never) > len(shown) {
			s += ", …"
		}
	}
	return s
}
