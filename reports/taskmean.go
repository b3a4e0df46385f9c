package reports

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/table"
)

// taskMeanTable is the table of StarGAN v2's paper (table 2: FID and LPIPS
// per dataset, latent- and reference-guided) from the documents of means
// over tasks (results.TaskMean): a row per method, and per dataset and
// mode (latent, reference) an FID and an LPIPS column. Nil when no document holds a mean.
func taskMeanTable(docs []*results.Document) *Table {
	type col struct{ dataset, mode string }
	var cols []col
	var methods []string
	val := map[string]*results.TaskMean{}
	seedsOf := map[string]*results.SeedRuns{}
	key := func(m string, c col) string { return m + "\x00" + c.dataset + "\x00" + c.mode }
	for _, d := range docs {
		tm := d.Metrics.TaskMean
		if tm == nil {
			continue
		}
		c := col{d.Dataset, mode(d)}
		if !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
		if !slices.Contains(methods, d.Method) {
			methods = append(methods, d.Method)
		}
		val[key(d.Method, c)] = tm
		seedsOf[key(d.Method, c)] = d.Metrics.Seeds
	}
	if len(cols) == 0 {
		return nil
	}
	slices.SortFunc(cols, func(a, b col) int { return strings.Compare(a.dataset+"\x00"+a.mode, b.dataset+"\x00"+b.mode) })
	slices.Sort(methods)
	t := &Table{Name: "task-mean", Title: "Mean over tasks (StarGAN v2 protocol)",
		Notes: []string{"Each value is the plain mean over the dataset's (source -> target) tasks of the task's FID and LPIPS diversity, as StarGAN v2's metrics/eval.py reports them (FID_<mode>/mean, LPIPS_<mode>/mean); the tasks' own documents hold their intervals."}}
	if seeds := seedsNote(docs, func(d *results.Document) bool { return d.Metrics.TaskMean != nil }); seeds != "" {
		t.Title = "Mean over tasks and seeds (StarGAN v2 protocol)"
		t.Notes = append(t.Notes, seeds)
	}
	for _, c := range cols {
		g := c.dataset
		if c.mode != "" {
			g += " " + c.mode
		}
		t.Columns = append(t.Columns, table.Column{Group: g, Header: "FID", Better: -1, Decimals: 2},
			table.Column{Group: g, Header: "LPIPS", Better: 1, Decimals: 3})
	}
	for _, m := range methods {
		row := table.Row{Label: m}
		for _, c := range cols {
			tm, runs := val[key(m, c)], seedsOf[key(m, c)]
			for i, v := range []*float64{taskFID(tm), taskLPIPS(tm)} {
				if v == nil {
					row.Cells = append(row.Cells, Cell{Kind: CellNA})
					continue
				}
				cell := Cell{Kind: CellValue, Value: *v}
				if q := runs.Quantity([]string{results.KeyFID, results.KeyLPIPSDiversity}[i]); q != nil {
					cell.SD = q.SD
				}
				row.Cells = append(row.Cells, cell)
			}
		}
		t.Rows = append(t.Rows, row)
	}
	t.MarkBest()
	return t
}

// mode is how the method's style codes were made, from the roles of the
// models that made its samples (the store's): reference-guided through a
// style encoder, latent-guided through a mapping network; else the
// preset's name without its stargan-v2- prefix.
func mode(d *results.Document) string {
	switch {
	case d.Models["style_encoder"].File != "":
		return "reference"
	case d.Models["mapping"].File != "":
		return "latent"
	}
	return strings.TrimPrefix(d.Protocol.Preset, "stargan-v2-")
}

func taskFID(tm *results.TaskMean) *float64 {
	if tm == nil {
		return nil
	}
	return tm.FIDMean
}

func taskLPIPS(tm *results.TaskMean) *float64 {
	if tm == nil {
		return nil
	}
	return tm.LPIPSMean
}

// seedsNote says, when a document picked by in holds a mean over seeds,
// which seeds and what the ± is ("" when none does).
func seedsNote(docs []*results.Document, in func(*results.Document) bool) string {
	for _, d := range docs {
		if r := d.Metrics.Seeds; r != nil && in(d) {
			var ss []string
			for _, s := range r.Seeds {
				ss = append(ss, strconv.FormatInt(s, 10))
			}
			return fmt.Sprintf("Means over %d runs with seeds %s (run's seeds); sd is the sample standard deviation over seeds, not an interval. Each seed's documents are in the results folder's seed-<S>/.",
				len(r.Seeds), strings.Join(ss, ", "))
		}
	}
	return ""
}

// seedsTable shows the documents of means over seeds of plain datasets
// (results.SeedRuns; a domains dataset's are in taskMeanTable): a row per
// method, per dataset a column for each quantity, the mean over seeds ±
// their standard deviation. Nil when there are none.
func seedsTable(docs []*results.Document) *Table {
	type col struct{ dataset, name string }
	var cols []col
	var methods []string
	better := map[string]int{}
	val := map[string]results.SeedQuantity{}
	in := func(d *results.Document) bool { return d.Metrics.Seeds != nil && d.Metrics.TaskMean == nil }
	for _, d := range docs {
		if !in(d) {
			continue
		}
		if !slices.Contains(methods, d.Method) {
			methods = append(methods, d.Method)
		}
		for _, q := range d.Metrics.Seeds.Quantities {
			c := col{d.Dataset, q.Name}
			if !slices.Contains(cols, c) {
				cols = append(cols, c)
			}
			better[q.Name] = q.Better
			val[d.Method+"\x00"+d.Dataset+"\x00"+q.Name] = q
		}
	}
	if len(cols) == 0 {
		return nil
	}
	slices.Sort(methods)
	t := &Table{Name: "seeds", Title: "Mean over seeds", Notes: []string{seedsNote(docs, in)}}
	for _, c := range cols {
		t.Columns = append(t.Columns, table.Column{Group: c.dataset, Header: c.name, Better: better[c.name], Decimals: 3})
	}
	for _, m := range methods {
		row := table.Row{Label: m}
		for _, c := range cols {
			q, ok := val[m+"\x00"+c.dataset+"\x00"+c.name]
			if !ok {
				row.Cells = append(row.Cells, Cell{Kind: CellNA})
				continue
			}
			row.Cells = append(row.Cells, Cell{Kind: CellValue, Value: q.Mean, SD: q.SD})
		}
		t.Rows = append(t.Rows, row)
	}
	t.MarkBest()
	return t
}
