package gate

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// WriteTable prints r as benchstat does: for each (method, dataset) a title
// line and a table with one row per metric (base ± half-width of its 95%
// interval, new ± half-width, the change absolute and relative, the 95%
// interval of the change, the p-value, the test and the verdict), then the
// notes and warnings, and a summary line.
func WriteTable(w io.Writer, r *Report) error {
	var nReg, nImp, nSame int
	for gi, g := range r.Groups {
		if gi > 0 {
			fmt.Fprintln(w)
		}
		title := g.Method
		if g.Dataset != "" {
			title += " / " + g.Dataset
		}
		fmt.Fprintf(w, "%s: %s vs %s\n", title, g.BasePath, g.NewPath)
		t := tablewriter.NewTable(w,
			tablewriter.WithHeaderAutoFormat(tw.Off),
			tablewriter.WithHeaderAlignment(tw.AlignCenter),
			tablewriter.WithRowAutoWrap(tw.WrapNone),
			tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: []tw.Align{
				tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignLeft, tw.AlignLeft,
			}}),
		)
		t.Header("metric", "base", "new", "delta", "delta 95% CI", "p", "p adj", "test", "verdict")
		var notes []string
		for _, c := range g.Metrics {
			name := c.Metric
			if c.Baseline != "" {
				name = fmt.Sprintf("%s (%s)", c.Metric, c.Baseline)
			}
			dec := decimals(c.Base, c.New)
			if err := t.Append([]string{
				name,
				valueCI(c.Base, c.BaseCI, dec),
				valueCI(c.New, c.NewCI, dec),
				delta(c, dec),
				interval(c.DeltaCI, dec),
				pValue(c.P),
				pValue(c.PAdjusted),
				c.Test,
				verdict(c),
			}); err != nil {
				return err
			}
			if c.Note != "" {
				notes = append(notes, name+": "+c.Note)
			}
			switch c.Verdict {
			case Regressed:
				nReg++
			case Improved:
				nImp++
			default:
				nSame++
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		for _, n := range notes {
			fmt.Fprintf(w, "note: %s\n", n)
		}
		for _, s := range g.Warnings {
			fmt.Fprintf(w, "warning: %s\n", s)
		}
	}
	for _, s := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
	if len(r.Groups) > 0 {
		fmt.Fprintln(w)
	}
	corr := "no multiple-testing correction"
	if r.Correction == CorrectionHolm {
		corr = "Holm-corrected over the report"
	}
	fmt.Fprintf(w, "alpha %g (%s): %d regressed, %d improved, %d unchanged\n", r.Alpha, corr, nReg, nImp, nSame)
	return nil
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

func valueCI(v float64, ci *[2]float64, dec int) string {
	if ci == nil {
		return fmt.Sprintf("%.*f", dec, v)
	}
	return fmt.Sprintf("%.*f ± %.*f", dec, v, dec, (ci[1]-ci[0])/2)
}

func delta(c Comparison, dec int) string {
	if c.RelDelta == nil {
		return fmt.Sprintf("%+.*f", dec, c.Delta)
	}
	return fmt.Sprintf("%+.*f (%+.2f%%)", dec, c.Delta, 100**c.RelDelta)
}

func interval(ci *[2]float64, dec int) string {
	if ci == nil {
		return "-"
	}
	return fmt.Sprintf("[%+.*f, %+.*f]", dec, ci[0], dec, ci[1])
}

// pValue formats p with four decimals, "-" when absent.
func pValue(p *float64) string {
	switch {
	case p == nil:
		return "-"
	case *p < 0.0001:
		return "<0.0001"
	}
	return fmt.Sprintf("%.4f", *p)
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
			out.Warnings = append(out.Warnings, strings.TrimSpace(key2(g.Method, g.Dataset)+": "+s))
		}
	}
	out.Warnings = append(out.Warnings, r.Warnings...)
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
