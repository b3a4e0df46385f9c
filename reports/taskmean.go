package reports

import (
	"slices"
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
	}
	if len(cols) == 0 {
		return nil
	}
	slices.SortFunc(cols, func(a, b col) int { return strings.Compare(a.dataset+"\x00"+a.mode, b.dataset+"\x00"+b.mode) })
	slices.Sort(methods)
	t := &Table{Name: "task-mean", Title: "Mean over tasks (StarGAN v2 protocol)",
		Notes: []string{"Each value is the plain mean over the dataset's (source -> target) tasks of the task's FID and LPIPS diversity, as StarGAN v2's metrics/eval.py reports them (FID_<mode>/mean, LPIPS_<mode>/mean); the tasks' own documents hold their intervals."}}
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
			tm := val[key(m, c)]
			for _, v := range []*float64{taskFID(tm), taskLPIPS(tm)} {
				if v == nil {
					row.Cells = append(row.Cells, Cell{Kind: CellNA})
				} else {
					row.Cells = append(row.Cells, Cell{Kind: CellValue, Value: *v})
				}
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
