// Package table is munit-eval's one table model and its renderers, kept
// apart from the statistics as benchstat keeps benchtab apart from texttab.
//
// It is opinionated about three things. Numbers are formatted in one place
// (Num, Interval, ValueCI): a fixed number of decimals per column, no
// negative zero, and an interval printed as "v ± h" only when it is
// symmetric at the printed precision, as "v [lo, hi]" otherwise, so that a
// half-width never misstates a bound. Warnings travel with the row (the
// method) or the table they concern and are printed under that table only.
// Footnotes speak only of what the table holds: the best-value marker, N/A
// and the interval notation are explained only when they occur.
//
// A Table renders to a terminal (Text, box drawing by tablewriter, one
// block per row where wider than the terminal), Markdown, LaTeX (booktabs)
// and an HTML fragment.
package table

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// CIStyle is how an interval is printed next to its value.
type CIStyle string

// Interval styles.
const (
	// CIPlusMinus prints "v ± h" when the interval is symmetric about v at
	// the printed precision, and "v [lo, hi]" otherwise.
	CIPlusMinus CIStyle = "pm"
	// CIBrackets always prints "v [lo, hi]", the interval's exact bounds.
	CIBrackets CIStyle = "brackets"
)

// Table is one table, independent of any output format.
type Table struct {
	// Name is a short identifier ("scores"), used for LaTeX labels and
	// HTML anchors.
	Name string
	// Title is the table's caption.
	Title string
	// Stub is the header of the first column (the row labels), "Method"
	// when empty.
	Stub string
	// Columns in order; consecutive columns with the same Group share a
	// group header (the dataset of a paper table).
	Columns []Column
	Rows    []Row
	// Notes are footnotes about the content (protocol, units), in order.
	// The renderers add the notes on notation (marker, N/A, intervals).
	Notes []string
	// Warnings concern the whole table; a row's own warnings live in Row.
	Warnings []string
	// CI is the interval notation of the cells (default CIPlusMinus).
	CI CIStyle
}

// Align is a column's alignment.
type Align int

// Alignments.
const (
	// AlignAuto right-aligns numbers and left-aligns text.
	AlignAuto Align = iota
	// AlignLeft aligns left.
	AlignLeft
	// AlignRight aligns right.
	AlignRight
)

// Column is one column after the row labels.
type Column struct {
	// Group is the group header ("cat2dog"); "" for none.
	Group string
	// Header is the column's own header ("FID", "Quality (%)").
	Header string
	// Better is +1 when higher is better, -1 when lower is better, 0 when
	// the column has no best value (then nothing is marked).
	Better int
	// Decimals is the number of digits after the point of its values.
	Decimals int
	// Align of the cells (AlignAuto: numbers right, text left).
	Align Align
}

// Row is one row: its label (the method) and one cell per column.
type Row struct {
	Label string
	Cells []Cell
	// Reference marks a reference row (Real data): set apart, never best.
	Reference bool
	// Warnings concern this row only; they print under the table as
	// "warning (Label): ...".
	Warnings []string
}

// CellKind says what a cell holds.
type CellKind int

// Cell kinds.
const (
	// CellNA: the value was not computed or does not apply ("N/A").
	CellNA CellKind = iota
	// CellValue: a number, maybe with an interval or a standard deviation.
	CellValue
	// CellReference: a value that holds by construction (the reference
	// method's own preference, 50%), printed without interval.
	CellReference
	// CellText: preformatted text (a test's name, a verdict).
	CellText
)

// Cell is one value with its optional 95% interval, or text.
type Cell struct {
	Kind  CellKind
	Value float64
	// CI is the 95% interval, nil when there is none.
	CI *[2]float64
	// SD is a standard deviation printed instead of an interval (KID over
	// subsets), nil when absent.
	SD *float64
	// Best marks the best value of its column (see MarkBest).
	Best bool
	// Short marks an interval that may cover less than 95% in the regime
	// of its data (a warning under the table says why): printed "(w)".
	Short bool
	// Text is the content of a CellText cell.
	Text string
}

// Value returns a value cell with an optional interval (nil: none).
func Value(v float64, ci *[2]float64) Cell {
	c := Cell{Kind: CellValue, Value: v}
	if ci != nil {
		x := *ci
		c.CI = &x
	}
	return c
}

// numeric reports whether the cell holds a number that can be the best.
func (c Cell) numeric() bool { return c.Kind == CellValue || c.Kind == CellReference }

// Text returns a text cell.
func Text(s string) Cell { return Cell{Kind: CellText, Text: s} }

// Groups returns the column groups: each group name and the number of
// consecutive columns it spans.
func (t *Table) Groups() (names []string, spans []int) {
	for _, c := range t.Columns {
		if n := len(names); n > 0 && names[n-1] == c.Group {
			spans[n-1]++
			continue
		}
		names = append(names, c.Group)
		spans = append(spans, 1)
	}
	return names, spans
}

func (t *Table) hasGroups() bool {
	for _, c := range t.Columns {
		if c.Group != "" {
			return true
		}
	}
	return false
}

func (t *Table) stub() string {
	if t.Stub == "" {
		return "Method"
	}
	return t.Stub
}

func (t *Table) ciStyle() CIStyle {
	if t.CI == "" {
		return CIPlusMinus
	}
	return t.CI
}

// MarkBest marks, in each column with a direction, the value cells whose
// value, rounded as printed, equals the best one. Reference rows are never
// marked, nor compared.
func (t *Table) MarkBest() {
	for j, col := range t.Columns {
		if col.Better == 0 {
			continue
		}
		best := ""
		bestV := math.NaN()
		for _, r := range t.Rows {
			c := r.Cells[j]
			if r.Reference || !c.numeric() || math.IsNaN(c.Value) {
				continue
			}
			if math.IsNaN(bestV) || float64(col.Better)*(c.Value-bestV) > 0 {
				bestV = c.Value
				best = Num(c.Value, col.Decimals)
			}
		}
		if best == "" {
			continue
		}
		for i, r := range t.Rows {
			c := &t.Rows[i].Cells[j]
			if !r.Reference && c.numeric() && Num(c.Value, col.Decimals) == best {
				c.Best = true
			}
		}
	}
}

// Num formats v with d decimals; a negative zero (also one produced by
// rounding, -0.00004 at four decimals) prints as zero. A magnitude of
// 1e15 or more (no metric's; garbage in, such as absurd statistics) prints
// in exponent form with d decimals, not as hundreds of digits.
func Num(v float64, d int) string {
	if math.Abs(v) >= 1e15 {
		return strconv.FormatFloat(v, 'e', d, 64)
	}
	s := fmt.Sprintf("%.*f", d, v)
	if strings.Trim(s, "-0.") == "" {
		s = strings.TrimPrefix(s, "-")
	}
	return s
}

// Signed formats v with d decimals and an explicit sign (+0.0123), zero
// without one.
func Signed(v float64, d int) string {
	s := Num(v, d)
	if strings.Trim(s, "0.") == "" || strings.HasPrefix(s, "-") {
		return s
	}
	return "+" + s
}

// Interval formats an interval's bounds: "[lo, hi]".
func Interval(ci [2]float64, d int) string {
	return "[" + Num(ci[0], d) + ", " + Num(ci[1], d) + "]"
}

// Symmetric reports whether ci is symmetric about v at d decimals: the
// printed distances to both bounds are equal, so "v ± h" states both.
func Symmetric(v float64, ci [2]float64, d int) bool {
	return Num(v-ci[0], d) == Num(ci[1]-v, d)
}

// ValueCI formats v with its interval in the given style: "v ± h" when
// style is CIPlusMinus and the interval is symmetric (h, the half-width,
// then equals both distances), "v [lo, hi]" otherwise; just v without one.
func ValueCI(v float64, ci *[2]float64, d int, style CIStyle) string {
	s := Num(v, d)
	if ci == nil {
		return s
	}
	return s + ciSuffix(v, *ci, d, style, " ± ")
}

// ciSuffix is what follows the value: " ± h" (pm is the sign with its
// spaces) or " [lo, hi]".
func ciSuffix(v float64, ci [2]float64, d int, style CIStyle, pm string) string {
	if style != CIBrackets && Symmetric(v, ci, d) {
		return pm + Num((ci[1]-ci[0])/2, d)
	}
	return " " + Interval(ci, d)
}

// parts returns a cell's value text and the text after it (interval or
// sd), without the best marker.
func (t *Table) parts(c Cell, col Column, pm string) (value, rest string) {
	switch c.Kind {
	case CellNA:
		return "N/A", ""
	case CellText:
		return c.Text, ""
	case CellReference:
		return Num(c.Value, col.Decimals), ""
	}
	value = Num(c.Value, col.Decimals)
	switch {
	case c.CI != nil:
		rest = ciSuffix(c.Value, *c.CI, col.Decimals, t.ciStyle(), pm)
	case c.SD != nil:
		rest = " (sd " + Num(*c.SD, col.Decimals) + ")"
	}
	if c.Short && c.CI != nil {
		rest += ShortMark
	}
	return value, rest
}

// ShortMark follows an interval that may cover less than 95% (Cell.Short).
const ShortMark = " (w)"

// content summarises what the table holds, for the notation footnotes.
type content struct {
	best, na, ci, asym, sym, reference, short bool
}

func (t *Table) content() content {
	var k content
	for _, r := range t.Rows {
		for j, c := range r.Cells {
			col := t.Columns[j]
			k.best = k.best || c.Best
			k.na = k.na || c.Kind == CellNA
			if c.Kind == CellValue && c.CI != nil {
				k.ci = true
				k.short = k.short || c.Short
				if Symmetric(c.Value, *c.CI, col.Decimals) {
					k.sym = true
				} else {
					k.asym = true
				}
			}
			if r.Reference && c.numeric() && col.Better != 0 {
				k.reference = true
			}
		}
	}
	return k
}

// notation returns the footnotes on notation for a renderer whose best
// marker is described by marker ("† marks", "Bold marks"), only for what
// the table holds.
func (t *Table) notation(marker string) []string {
	k := t.content()
	var s []string
	if k.ci {
		switch {
		case t.ciStyle() == CIBrackets || !k.sym:
			s = append(s, "Intervals are 95% intervals, written [lower, upper].")
		case !k.asym:
			s = append(s, "Intervals are 95% intervals, written ± half their width (all are symmetric).")
		default:
			s = append(s, "Intervals are 95% intervals: ± half the width where the interval is symmetric, [lower, upper] where it is not.")
		}
	}
	if k.best {
		n := marker + " the best value of each column"
		if k.reference {
			var refs []string
			for _, r := range t.Rows {
				if r.Reference {
					refs = append(refs, r.Label)
				}
			}
			n += " (" + strings.Join(refs, ", ") + " excluded)"
		}
		s = append(s, n+".")
	}
	if k.na {
		s = append(s, "N/A: not computed or not applicable.")
	}
	if k.short {
		s = append(s, "(w): the interval may cover less than 95% with these data; the warning below says why (docs/coverage.md).")
	}
	return s
}

// warningLines returns the table's warnings and then the rows', in row
// order, as "warning: ..." and "warning (Label, Label...): ...": a warning
// several rows carry word for word is written once, naming them all.
func (t *Table) warningLines() []string {
	var out []string
	for _, w := range t.Warnings {
		out = append(out, "warning: "+w)
	}
	var order []string
	who := map[string][]string{}
	for _, r := range t.Rows {
		for _, w := range r.Warnings {
			if _, ok := who[w]; !ok {
				order = append(order, w)
			}
			if ls := who[w]; len(ls) == 0 || ls[len(ls)-1] != r.Label {
				who[w] = append(ls, r.Label)
			}
		}
	}
	for _, w := range order {
		out = append(out, "warning ("+strings.Join(who[w], ", ")+"): "+w)
	}
	return out
}
