package gate

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/table"
	"github.com/munit-eval/munit-eval/warning"
)

// TableOptions controls WriteTableOptions.
type TableOptions struct {
	// Width writes tables wider than a terminal's width vertically and
	// wraps the notes to it (0: the full tables, for --wide, pipes and
	// files).
	Width int
}

// WriteTable prints r at full width; see WriteTableOptions.
func WriteTable(w io.Writer, r *Report) error {
	return WriteTableOptions(w, r, TableOptions{})
}

// groupRank orders groups for the reader: regressed first, then improved,
// then unchanged.
func groupRank(g Group) int {
	rank := 2
	for _, c := range g.Metrics {
		switch c.Verdict {
		case Regressed:
			return 0
		case Improved:
			rank = 1
		}
	}
	return rank
}

// WriteTableOptions prints r as benchstat does: for each (method, dataset),
// regressed ones first, a title line and a table with one row per metric
// (base and new with their 95% intervals, the change absolute and relative,
// the 95% interval of the change, the p-values when there are any, the test
// and the verdict), then the group's notes and warnings, and a summary
// line naming the regressed methods.
func WriteTableOptions(w io.Writer, r *Report, opts TableOptions) error {
	var nReg, nImp, nSame int
	var regressed []string
	order := make([]int, len(r.Groups))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return groupRank(r.Groups[order[a]]) < groupRank(r.Groups[order[b]]) })
	for k, gi := range order {
		g := r.Groups[gi]
		if k > 0 {
			fmt.Fprintln(w)
		}
		title := key2(g.Method, g.Dataset)
		fmt.Fprint(w, table.Wrap(fmt.Sprintf("%s: %s vs %s", title, g.BasePath, g.NewPath), "", "  ", opts.Width))
		t := groupTable(g)
		for _, c := range g.Metrics {
			switch c.Verdict {
			case Regressed:
				nReg++
			case Improved:
				nImp++
			default:
				nSame++
			}
		}
		if groupRank(g) == 0 {
			regressed = append(regressed, title)
		}
		if err := t.Text(w, table.TextOptions{Width: opts.Width, NoTitle: true}); err != nil {
			return fmt.Errorf("gate: %w", err)
		}
	}
	for _, s := range r.Warnings {
		fmt.Fprint(w, table.Wrap("warning: "+s.Detail, "", "  ", opts.Width))
	}
	if len(r.Groups) > 0 {
		fmt.Fprintln(w)
	}
	corr := "no multiple-testing correction"
	if r.Correction == CorrectionHolm {
		corr = "Holm-corrected over the report"
	}
	line := fmt.Sprintf("alpha %g (%s): %d regressed, %d improved, %d unchanged", r.Alpha, corr, nReg, nImp, nSame)
	if len(regressed) > 0 {
		line += "; regressed: " + strings.Join(regressed, ", ")
	}
	fmt.Fprint(w, table.Wrap(line, "", "  ", opts.Width))
	return nil
}

// groupTable lays out one group in the table model. The p and p adj
// columns are left out when no metric has one.
func groupTable(g Group) *table.Table {
	hasP, hasAdj := false, false
	for _, c := range g.Metrics {
		hasP = hasP || c.P != nil
		hasAdj = hasAdj || c.PAdjusted != nil
	}
	t := &table.Table{Name: "check", Stub: "metric"}
	t.Columns = []table.Column{{Header: "base", Align: table.AlignRight}, {Header: "new", Align: table.AlignRight}, {Header: "delta", Align: table.AlignRight}, {Header: "delta 95% CI", Align: table.AlignRight}}
	if hasP {
		t.Columns = append(t.Columns, table.Column{Header: "p", Align: table.AlignRight})
	}
	if hasAdj {
		t.Columns = append(t.Columns, table.Column{Header: "p adj", Align: table.AlignRight})
	}
	t.Columns = append(t.Columns, table.Column{Header: "test", Align: table.AlignLeft}, table.Column{Header: "verdict", Align: table.AlignLeft})
	for _, c := range g.Metrics {
		name := c.Metric
		if c.Baseline != "" {
			name = fmt.Sprintf("%s (%s)", c.Metric, c.Baseline)
		}
		dec := decimals(c.Base, c.New)
		cells := []table.Cell{
			table.Text(valueText(c.Base, c.BaseCI, c.BaseSD, dec)),
			table.Text(valueText(c.New, c.NewCI, c.NewSD, dec)),
			table.Text(delta(c, dec)),
			table.Text(interval(c.DeltaCI, dec)),
		}
		if hasP {
			cells = append(cells, table.Text(pValue(c.P)))
		}
		if hasAdj {
			cells = append(cells, table.Text(pValue(c.PAdjusted)))
		}
		cells = append(cells, table.Text(c.Test), table.Text(verdict(c)))
		t.Rows = append(t.Rows, table.Row{Label: name, Cells: cells})
		if c.Note != "" {
			t.Notes = append(t.Notes, name+": "+c.Note)
		}
	}
	t.Notes = append(t.Notes, valueNotes(g.Metrics)...)
	t.Warnings = warning.Details(g.Warnings)
	return t
}

// valueText is a base or new value as the report prints it: "v (sd s)"
// where the report shows a spread (KID), else "v ± h" or "v [lo, hi]" with
// the document's 95% interval.
func valueText(v float64, ci *[2]float64, sd *float64, dec int) string {
	if sd != nil {
		return table.Num(v, dec) + " (sd " + table.Num(*sd, dec) + ")"
	}
	return table.ValueCI(v, ci, dec, table.CIPlusMinus)
}

// valueNotes say what follows the base and new values, only for what the
// table holds.
func valueNotes(cs []Comparison) []string {
	var ci, sd, seeds bool
	for _, c := range cs {
		seeds = seeds || c.Seeds && (c.BaseSD != nil || c.NewSD != nil)
		sd = sd || !c.Seeds && (c.BaseSD != nil || c.NewSD != nil)
		ci = ci || c.BaseSD == nil && c.BaseCI != nil || c.NewSD == nil && c.NewCI != nil
	}
	var out []string
	if ci {
		out = append(out, "base, new: v ± half the document's 95% interval, or v [lower, upper] where it is not symmetric.")
	}
	if sd {
		out = append(out, "(sd s): KID's standard deviation over subsets, as the report prints it, not an interval; kid-normal tests with KID's variance.")
	}
	if seeds {
		out = append(out, "(sd s) of a mean over seeds: the standard deviation over seeds; welch tests the per-seed values.")
	}
	return out
}

// decimals picks the decimals of a row: four (the paper's precision), more
// for small values so that four significant digits show (KID ≈ 0.001).
func decimals(a, b float64) int {
	s := math.Max(math.Abs(a), math.Abs(b))
	if s < 1e-12 || math.IsNaN(s) || math.IsInf(s, 0) { // 0 up to rounding (CycleGAN's CIS)
		return 4
	}
	return min(max(3-int(math.Floor(math.Log10(s))), 4), 8)
}

func delta(c Comparison, dec int) string {
	if c.RelDelta == nil {
		return table.Signed(c.Delta, dec)
	}
	return fmt.Sprintf("%s (%s%%)", table.Signed(c.Delta, dec), table.Signed(100**c.RelDelta, 2))
}

func interval(ci *[2]float64, dec int) string {
	if ci == nil {
		return "-"
	}
	return "[" + table.Signed(ci[0], dec) + ", " + table.Signed(ci[1], dec) + "]"
}

// pValue formats p with four decimals, "-" when absent.
func pValue(p *float64) string {
	switch {
	case p == nil:
		return "-"
	case *p < 0.0001:
		return "<0.0001"
	}
	return table.Num(*p, 4)
}

func verdict(c Comparison) string {
	if c.Tolerance > 0 {
		return fmt.Sprintf("%s (tol %g%%)", c.Verdict, 100*c.Tolerance)
	}
	return string(c.Verdict)
}

// jsonReport is the machine-readable form written by WriteJSON.
type jsonReport struct {
	Alpha      float64      `json:"alpha"`
	Correction string       `json:"correction"`
	Regressed  bool         `json:"regressed"`
	Verdicts   []Comparison `json:"verdicts"`
	Warnings   []string     `json:"warnings,omitempty"`
}

// WriteJSON prints r as one JSON object: alpha, whether anything regressed,
// the flat list of comparisons (each naming its method and dataset) and
// every warning, prefixed by the (method / dataset) it concerns.
func WriteJSON(w io.Writer, r *Report) error {
	out := jsonReport{Alpha: r.Alpha, Correction: r.Correction, Regressed: len(r.Regressions()) > 0, Verdicts: []Comparison{}}
	for _, g := range r.Groups {
		out.Verdicts = append(out.Verdicts, g.Metrics...)
		for _, s := range g.Warnings {
			out.Warnings = append(out.Warnings, strings.TrimSpace(key2(g.Method, g.Dataset)+": "+s.Detail))
		}
	}
	out.Warnings = append(out.Warnings, warning.Details(r.Warnings)...)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("gate: encoding the verdicts: %w", err)
	}
	return nil
}

func key2(method, dataset string) string {
	if dataset == "" {
		return method
	}
	return method + " / " + dataset
}
