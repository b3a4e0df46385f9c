package registry

import (
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/table"
)

// View is how the reader asked the tables to show metrics.
type View struct {
	// Exp prints the exp() form of metrics that have one (IS and CIS as
	// the official script prints them) instead of nats (the paper's).
	Exp bool
}

// Table is one of the report's tables. Entries whose Table has the same
// Name share that table, in registration order.
type Table struct {
	// Name identifies the table (LaTeX label, HTML anchor): "scores".
	Name string
	// Title is its caption.
	Title string
	// Note is its first footnote: the units and which way is better.
	Note func(v View) string
}

// Column is one column a metric adds to its table for each dataset (the
// paper's tables: one row per method, columns grouped by dataset).
type Column struct {
	// Header names the column ("CIS", "FID").
	Header string
	// Unit, when set, follows the header in parentheses ("nats").
	Unit func(v View) string
	// Model, when set, names the model a document's value was measured
	// with ("LPIPS alex v0.1"): when every method of a dataset agrees it
	// follows the header in parentheses; otherwise ModelKind does, the
	// values are not comparable, nothing is marked best and a note says so.
	Model     func(d *results.Document) string
	ModelKind string
	// Better is +1 when higher is better, -1 when lower is better, 0 when
	// no value is best.
	Better int
	// Decimals of the printed values.
	Decimals int
	// Cell is a document's value with its 95% interval or standard
	// deviation (table.Cell's CI or SD); the zero Cell (N/A) when the
	// document lacks it.
	Cell func(d *results.Document, v View) table.Cell
}

// HeaderIn is the column's header in view v, without the model.
func (c Column) HeaderIn(v View) string {
	if c.Unit == nil {
		return c.Header
	}
	return c.Header + " (" + c.Unit(v) + ")"
}

// Detail is one column of a metric command's own table (`munit-eval is`,
// `fid`, `lpips`): one row per document, every count and spread the
// document holds, as preformatted text.
type Detail struct {
	// Header names the column; HeaderOf, when set, names it from the
	// first document that carries the metric instead ("IS (10 splits)").
	Header   string
	HeaderOf func(d *results.Document) string
	// Text is a document's cell; "" when the document lacks it (printed
	// "-"; a column empty in every row is left out).
	Text func(d *results.Document) string
	// Interval marks the 95% interval of the column before it: the metric
	// commands print it in that column's cell ("0.8200 [0.80, 0.84]"), so
	// that a narrow terminal never shows a value and its interval apart.
	Interval bool
}
