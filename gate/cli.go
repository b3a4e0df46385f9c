package gate

// What the check command does beyond parsing its flags: reading the
// tolerance and direction lists, and loading, checking, printing and
// updating in one call.

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/munit-eval/munit-eval/table"
)

// Args are the check command's settings as given: the two paths, the
// lists of tolerances (METRIC=REL, REL a number or a percentage) and of
// direction overrides, and the other options; DefaultArgs holds the
// defaults.
type Args struct {
	Baseline, Results string
	Tolerance         []string
	Higher, Lower     []string
	Alpha             float64
	DiversityTest     string
	Correction        string
	AllowMissing      bool
	// Update rewrites the baseline with the new results after reporting.
	Update bool
	// JSON prints the report as JSON; Wide prints the table whole on a
	// terminal narrower than it.
	JSON, Wide bool
}

// DefaultArgs holds the defaults of the check command in one place:
// DefaultOptions'.
func DefaultArgs() Args {
	d := DefaultOptions()
	return Args{Alpha: d.Alpha, DiversityTest: d.DiversityTest, Correction: d.Correction}
}

// Options turns the settings into Options, validated.
func (a Args) Options() (Options, error) {
	g := DefaultOptions()
	g.Alpha, g.DiversityTest, g.Correction, g.AllowMissing = a.Alpha, a.DiversityTest, a.Correction, a.AllowMissing
	for _, t := range a.Tolerance {
		m, v, ok := strings.Cut(t, "=")
		if !ok {
			return g, fmt.Errorf("--tolerance %q: want METRIC=REL, e.g. lpips_diversity=0.05", t)
		}
		scale := 1.0
		if s, pct := strings.CutSuffix(v, "%"); pct {
			v, scale = s, 0.01
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return g, fmt.Errorf("--tolerance %q: %q is not a number", t, v)
		}
		g.Tolerance[strings.TrimSpace(m)] = x * scale
	}
	for _, m := range a.Higher {
		g.Direction[m] = HigherIsBetter
	}
	for _, m := range a.Lower {
		if _, dup := g.Direction[m]; dup {
			return g, fmt.Errorf("%s is both --higher-is-better and --lower-is-better", m)
		}
		g.Direction[m] = LowerIsBetter
	}
	return g, g.Validate()
}

// Run is the check command's work: it loads the documents a names,
// checks them (a mismatch named concisely), writes the report to w (as
// JSON, or as the table fitted to w's terminal) and, with a.Update,
// rewrites the baseline. The caller turns the report into an exit status.
func Run(w io.Writer, a Args) (*Report, error) {
	if a.Baseline == "" || a.Results == "" {
		return nil, fmt.Errorf("check needs --baseline and --results (see 'munit-eval check --help')")
	}
	g, err := a.Options()
	if err != nil {
		return nil, err
	}
	set, err := Load(a.Baseline, a.Results)
	if err != nil {
		return nil, err
	}
	rep, err := Check(set, g)
	if err != nil {
		return nil, ConciseMismatch(err)
	}
	if a.JSON {
		err = WriteJSON(w, rep)
	} else {
		err = WriteTableOptions(w, rep, TableOptions{Width: table.TermWidth(w, a.Wide)})
	}
	if err == nil && a.Update {
		err = Update(set)
	}
	return rep, err
}
