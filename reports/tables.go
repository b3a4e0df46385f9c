package reports

import (
	"fmt"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/table"
)

// CIStyle is how an interval is printed next to its value (table.CIStyle).
type CIStyle = table.CIStyle

// Interval styles.
const (
	// CIPlusMinus prints "v ± h" where the interval is symmetric at the
	// printed precision and "v [lo, hi]" where it is not.
	CIPlusMinus = table.CIPlusMinus
	// CIBrackets prints "v [lo, hi]", the interval's exact bounds.
	CIBrackets = table.CIBrackets
)

// ScoreForm selects which form of IS and CIS the tables print.
type ScoreForm string

// Score forms (docs/metrics.md).
const (
	// ScoresNats prints the raw mean KL divergences in nats, as the MUNIT
	// paper's tables do (CycleGAN's CIS 0.078).
	ScoresNats ScoreForm = "nats"
	// ScoresExp prints exp() of the same means, as the official evaluation
	// script does.
	ScoresExp ScoreForm = "exp"
)

// PrefInterval selects which 95% interval of a preference is printed.
type PrefInterval string

// Preference intervals (docs/amt.md).
const (
	// PrefWilson is the Wilson score interval on judgments.
	PrefWilson PrefInterval = "wilson"
	// PrefBootstrap is the bootstrap over questions and workers.
	PrefBootstrap PrefInterval = "bootstrap"
)

// TableOptions controls the content and notation of the tables.
type TableOptions struct {
	CI     CIStyle      // default CIPlusMinus
	Scores ScoreForm    // default ScoresNats
	Pref   PrefInterval // default PrefBootstrap
	// AllowMixed puts documents of one dataset measured under different
	// protocols (counts, seed, size) in one table; without it BuildTables
	// refuses them with a *MixedError naming the fields that differ.
	AllowMixed bool
	// Sources name the documents (their files) in that error, in order.
	Sources []string
}

func (o TableOptions) withDefaults() (TableOptions, error) {
	if o.CI == "" {
		o.CI = CIPlusMinus
	}
	if o.Scores == "" {
		o.Scores = ScoresNats
	}
	if o.Pref == "" {
		// The bootstrap over questions and workers: Wilson's interval
		// treats judgments as independent and is too narrow when workers
		// and questions differ (docs/coverage.md).
		o.Pref = PrefBootstrap
	}
	if o.CI != CIPlusMinus && o.CI != CIBrackets {
		return o, fmt.Errorf("reports: interval style %q, want pm or brackets", o.CI)
	}
	if o.Scores != ScoresNats && o.Scores != ScoresExp {
		return o, fmt.Errorf("reports: score form %q, want nats or exp", o.Scores)
	}
	if o.Pref != PrefWilson && o.Pref != PrefBootstrap {
		return o, fmt.Errorf("reports: preference interval %q, want wilson or bootstrap", o.Pref)
	}
	return o, nil
}

// view is how the registry's columns show values under these options.
func (o TableOptions) view() registry.View { return registry.View{Exp: o.Scores == ScoresExp} }

// Table is one paper-style table in the one table model: one row per
// method in the paper's order (Real data a reference row), columns grouped
// by dataset (Column.Group), warnings attached to the row of the method
// they concern or to the table.
type Table = table.Table

// Column is one metric of one dataset.
type Column = table.Column

// Row is one method's cells, one per column.
type Row = table.Row

// Cell is one value with its optional 95% interval.
type Cell = table.Cell

// CellKind says what a cell holds.
type CellKind = table.CellKind

// Cell kinds.
const (
	// CellNA: the metric was not computed or does not apply ("N/A").
	CellNA = table.CellNA
	// CellValue: a value, maybe with an interval.
	CellValue = table.CellValue
	// CellReference: the reference method's own preference, 50% by construction.
	CellReference = table.CellReference
)

// builder accumulates one table's columns; each column has a function
// giving a method's cell.
type builder struct {
	t     *Table
	cells []func(method string) (Cell, error)
}

func (b *builder) add(col Column, f func(method string) (Cell, error)) {
	b.t.Columns = append(b.t.Columns, col)
	b.cells = append(b.cells, f)
}

// finish fills the rows (methods with at least one cell that is not N/A),
// marks the best cells and returns the table, or nil when it has no column.
func (b *builder) finish(methods []string) (*Table, error) {
	if len(b.t.Columns) == 0 {
		return nil, nil
	}
	for _, m := range methods {
		r := Row{Label: m, Reference: m == results.MethodRealData, Cells: make([]Cell, len(b.cells))}
		any := false
		for i, f := range b.cells {
			c, err := f(m)
			if err != nil {
				return nil, err
			}
			r.Cells[i] = c
			any = any || c.Kind != CellNA
		}
		if any {
			b.t.Rows = append(b.t.Rows, r)
		}
	}
	b.t.MarkBest()
	return b.t, nil
}

// tableSpec is one report table: the registry's entries that share it, in
// registration order. The study table (registry.TableQuality) also holds
// the human preference study's Quality column.
type tableSpec struct {
	*registry.Table
	entries []*registry.Entry
	study   bool
}

// specs groups the registered entries by their table, in the order of
// each table's first entry.
func specs() []*tableSpec {
	var out []*tableSpec
	byName := map[string]*tableSpec{}
	for _, e := range registry.All() {
		if e.Table == nil {
			continue
		}
		s := byName[e.Table.Name]
		if s == nil {
			s = &tableSpec{Table: e.Table, study: e.Table.Name == registry.TableQuality.Name}
			byName[e.Table.Name] = s
			out = append(out, s)
		}
		s.entries = append(s.entries, e)
	}
	return out
}

// keys are the warning subjects that belong under the table.
func (s *tableSpec) keys() []string {
	var out []string
	if s.study {
		out = append(out, results.KeyPreference)
	}
	for _, e := range s.entries {
		out = append(out, e.Key)
	}
	return out
}

// uses reports whether d contributes a value to the table.
func (s *tableSpec) uses(d *results.Document, v registry.View) bool {
	if s.study && len(d.Metrics.Preference) > 0 {
		return true
	}
	for _, e := range s.entries {
		if !e.Present(&d.Metrics) {
			continue
		}
		for _, col := range e.Columns {
			if col.Cell(d, v).Kind != CellNA {
				return true
			}
		}
	}
	return false
}

// BuildTables lays out the report's tables from results documents, one per
// table of the metric registry in registration order, each with one column
// per dataset and column of its metrics:
//
//   - "quality_diversity" (the paper's Table 1): per dataset, Quality (% of
//     judgments preferring the method over the reference, MUNIT, whose own
//     row is 50% by construction) and Diversity (mean LPIPS distance);
//   - "scores" (the paper's Table 2): per dataset, CIS and IS;
//   - "distances": per dataset, FID and KID;
//   - "prdc": precision, recall, density and coverage;
//
// and any table a registered metric adds. A table with no column is left
// out; a method with no value in a table has no row there; a missing value
// prints as N/A. Documents for the same method and dataset are merged; the
// same metric in two of them is an error.
func BuildTables(docs []*results.Document, opts TableOptions) ([]*Table, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if !opts.AllowMixed {
		if err := checkProtocols(docs, opts.Sources); err != nil {
			return nil, err
		}
	}
	c := collect(docs)
	methods := c.sortedMethods()
	all := specs()
	var out []*Table
	var built []*tableSpec
	for _, s := range all {
		t, err := c.buildTable(s, methods, opts)
		if err != nil {
			return nil, err
		}
		if t != nil {
			t.CI = opts.CI
			out = append(out, t)
			built = append(built, s)
		}
	}
	for i, t := range out {
		attachWarnings(t, c, built[i], built, opts.view())
	}
	for _, t := range []*Table{taskMeanTable(docs), seedsTable(docs)} {
		if t != nil {
			t.CI = opts.CI
			out = append(out, t)
		}
	}
	return out, nil
}

// buildTable lays out one table: for each dataset the study's column (in
// the study table) and each column of its metrics that some method of the
// dataset has a value in; notes on the units first, then, per dataset, how
// each metric was measured.
func (c *collection) buildTable(s *tableSpec, methods []string, opts TableOptions) (*Table, error) {
	b := &builder{t: &Table{Name: s.Name, Title: s.Title}}
	v := opts.view()
	var notes []string
	for _, ds := range c.datasets {
		if s.study {
			n, err := c.studyColumn(b, ds, opts)
			if err != nil {
				return nil, err
			}
			notes = append(notes, n...)
		}
		for _, e := range s.entries {
			n, err := c.entryColumns(b, ds, e, v)
			if err != nil {
				return nil, err
			}
			notes = append(notes, n...)
		}
	}
	t, err := b.finish(methods)
	if t != nil {
		if s.Note != nil {
			notes = append([]string{s.Note(v)}, notes...)
		}
		t.Notes = notes
	}
	return t, err
}

// entryColumns adds the columns of metric e on dataset ds that some method
// has a value in, and returns the notes they need: a column whose values
// were measured with different models is marked so and gets no best
// value; then the metric's protocol, grouped by method.
func (c *collection) entryColumns(b *builder, ds string, e *registry.Entry, v registry.View) ([]string, error) {
	var notes []string
	added := false
	for _, col := range e.Columns {
		present := false
		models := map[string]bool{}
		for _, m := range c.methods[ds] {
			d, err := c.doc(ds, m, e)
			if err != nil {
				return nil, err
			}
			if d != nil && col.Cell(d, v).Kind != CellNA {
				present = true
				if col.Model != nil {
					models[col.Model(d)] = true
				}
			}
		}
		if !present {
			continue
		}
		added = true
		header, better := col.HeaderIn(v), col.Better
		if col.Model != nil {
			names := make([]string, 0, len(models))
			for n := range models {
				names = append(names, n)
			}
			sort.Strings(names)
			if len(names) == 1 {
				header += " (" + names[0] + ")"
			} else {
				header += " (" + col.ModelKind + ")"
				better = 0
				notes = append(notes, fmt.Sprintf("%s: %s was measured with different %s models (%s); the values are not comparable and none is marked best.",
					ds, strings.ToLower(col.Header), col.ModelKind, strings.Join(names, ", ")))
			}
		}
		b.add(Column{Group: ds, Header: header, Better: better, Decimals: col.Decimals}, func(m string) (Cell, error) {
			d, err := c.doc(ds, m, e)
			if err != nil || d == nil {
				return Cell{}, err
			}
			cell := col.Cell(d, v)
			cell.Short = shortInterval(d, e.Key)
			return cell, nil
		})
	}
	if !added || e.Protocol == nil {
		return notes, nil
	}
	return append(notes, protocolGroups(c, ds, func(m string) string {
		if d, _ := c.doc(ds, m, e); d != nil {
			return e.Protocol(d)
		}
		return ""
	})...), nil
}

// studyColumn adds the preference study's Quality column of dataset ds,
// when it has a study, and returns its note.
func (c *collection) studyColumn(b *builder, ds string, opts TableOptions) ([]string, error) {
	ref, pref, simulated, err := c.reference(ds)
	if err != nil || ref == "" {
		return nil, err
	}
	label := "Quality (%)"
	if simulated {
		label = "Quality (%, simulated)"
	}
	b.add(Column{Group: ds, Header: label, Better: +1, Decimals: 1}, func(m string) (Cell, error) {
		if m == ref {
			return Cell{Kind: CellReference, Value: 50}, nil
		}
		p, ok := pref[m]
		if !ok {
			return Cell{}, nil
		}
		ci := p.Wilson
		if opts.Pref == PrefBootstrap && p.Bootstrap != [2]float64{} {
			ci = p.Bootstrap // Wilson where no bootstrap was recorded
		}
		return Cell{Kind: CellValue, Value: p.Percent, CI: &ci}, nil
	})
	return []string{preferenceNote(ds, ref, pref, simulated, opts.Pref)}, nil
}

// shortInterval reports whether d carries a warning that the interval of
// the metric key may cover less than 95% in its data's regime
// (registry.ShortCodes).
func shortInterval(d *results.Document, key string) bool {
	for _, w := range d.Warnings {
		if w.Subject == key && registry.ShortCodes[w.Code] {
			return true
		}
	}
	return false
}
