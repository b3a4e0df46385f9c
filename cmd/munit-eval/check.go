package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/munit-eval/munit-eval/gate"
)

// checkOptions are the flags of munit-eval check.
type checkOptions struct {
	baseline      string
	results       string
	tolerance     []string
	alpha         float64
	update        bool
	higher        []string
	lower         []string
	diversityTest string
	correction    string
	json          bool
	wide          bool
	allowMissing  bool
}

// defaultCheckOptions holds the defaults of munit-eval check in one place.
func defaultCheckOptions() checkOptions {
	d := gate.DefaultOptions()
	return checkOptions{alpha: d.Alpha, diversityTest: d.DiversityTest, correction: d.Correction}
}

func init() {
	o := defaultCheckOptions()
	cmd := &cobra.Command{
		Use:   "check --baseline BASE.json --results NEW.json [--tolerance METRIC=REL ...] [--alpha 0.01] [--update]",
		Short: "compare results with a baseline and fail when a metric regressed (the CI regression gate)",
		Long: `Check compares the metrics of a new results document with those of a
baseline document of the same method, dataset and protocol, and prints, for
each metric present in both, the two values with their 95% intervals, the
change, its 95% interval, the p-value and a verdict:

	regressed  worse by more than the tolerance AND significant at --alpha
	improved   better by more than the tolerance AND significant at --alpha
	unchanged  otherwise

For example:

	munit-eval check --baseline ci/baseline.json --results out/munit.json
	munit-eval check --baseline ci/baseline/ --results out/ --tolerance lpips_diversity=0.05

Each metric is tested on what its document stores, never recomputed:
lpips_diversity with Welch's t on the per-input means (--diversity-test
mann-whitney for Mann–Whitney U), is, cis and fid with Welch's t on the
standard errors of their bootstrap replicates over inputs, is_exp and cis_exp
following is and cis, is_splits with Welch's t on the splits, kid with a
normal test on the subset values that allows for the subsets' overlap, and
preference with a two-proportion z-test per baseline. A document without what
its test needs is compared by non-overlap of the stored intervals, which is
conservative; the table says so.

The p-values of all the metrics of all the documents compared are corrected
with Holm's method (--correction none to test each at --alpha on its own),
so that noise alone fails a CI run with probability below --alpha.

Higher is better for lpips_diversity, is, cis and is_splits; lower is better
for fid, kid and preference (the share of judgments preferring a baseline
over the document's method). --higher-is-better and --lower-is-better
override a metric's direction (e.g. --lower-is-better lpips_diversity for a
task whose right answer is deterministic).

--tolerance METRIC=REL (repeatable) ignores changes smaller than REL times
the baseline value: lpips_diversity=0.05 (or 5%) tolerates a 5% change. The
default is 0: any significant worsening regresses.

--baseline and --results may both be folders: their *.json documents are
paired by (method, dataset). A baseline document without a new one is an
error; a new one without a baseline is reported and not gated.

--update rewrites the baseline with the new results (each file atomically)
after reporting, and exits 0. --json prints the verdicts as JSON instead of
the table.

A metric of the baseline that the new results lack (AMT preference
included) is bad input; --allow-missing reports it and fails with exit 1
instead. Every document is checked for internal consistency first.

Exit status: 0 when nothing regressed, 1 when a metric regressed, 2 on bad
input: an unreadable, malformed or self-contradicting document, a missing
metric, or documents that are not comparable (another schema, method, dataset or protocol: the message names
every difference).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.baseline, "baseline", "", "baseline results document, or folder of documents")
	f.StringVar(&o.results, "results", "", "new results document, or folder of documents")
	f.StringArrayVar(&o.tolerance, "tolerance", nil, "METRIC=REL: relative change to tolerate, e.g. lpips_diversity=0.05 (repeatable)")
	f.Float64Var(&o.alpha, "alpha", o.alpha, "significance level of the tests")
	f.BoolVar(&o.update, "update", false, "rewrite the baseline with the new results after reporting, and exit 0")
	f.StringArrayVar(&o.higher, "higher-is-better", nil, "METRIC whose higher values are better (repeatable)")
	f.StringArrayVar(&o.lower, "lower-is-better", nil, "METRIC whose lower values are better (repeatable)")
	f.StringVar(&o.diversityTest, "diversity-test", o.diversityTest, "two-sample test for lpips_diversity: welch or mann-whitney")
	f.StringVar(&o.correction, "correction", o.correction, "multiple-testing correction over the report: holm or none")
	f.BoolVar(&o.json, "json", false, "print the verdicts as JSON instead of the table")
	f.BoolVar(&o.wide, "wide", false, "print the full tables even when they are wider than the terminal")
	f.BoolVar(&o.allowMissing, "allow-missing", false, "a baseline metric missing from the new results fails with exit 1 (after the table) instead of exit 2")
	rootCmd.AddCommand(cmd)
}

// gateOptions turns the flags into gate.Options.
func (o checkOptions) gateOptions() (gate.Options, error) {
	g := gate.DefaultOptions()
	g.Alpha, g.DiversityTest, g.Correction, g.AllowMissing = o.alpha, o.diversityTest, o.correction, o.allowMissing
	for _, t := range o.tolerance {
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
	for _, m := range o.higher {
		g.Direction[m] = gate.HigherIsBetter
	}
	for _, m := range o.lower {
		if _, dup := g.Direction[m]; dup {
			return g, fmt.Errorf("%s is both --higher-is-better and --lower-is-better", m)
		}
		g.Direction[m] = gate.LowerIsBetter
	}
	return g, g.Validate()
}

func runCheck(cmd *cobra.Command, o checkOptions) error {
	if o.baseline == "" || o.results == "" {
		return usageError{fmt.Errorf("check needs --baseline and --results (see 'munit-eval check --help')")}
	}
	g, err := o.gateOptions()
	if err != nil {
		return usageError{err}
	}
	set, err := gate.Load(o.baseline, o.results)
	if err != nil {
		return err
	}
	rep, err := gate.Check(set, g)
	if err != nil {
		return conciseMismatch(err)
	}
	modelChanges(set, rep)
	w := cmd.OutOrStdout()
	if o.json {
		err = gate.WriteJSON(w, rep)
	} else {
		err = gate.WriteTableOptions(w, rep, gate.TableOptions{Width: termWidth(w, o.wide)})
	}
	if err != nil {
		return err
	}
	if o.update {
		if err := gate.Update(set); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "munit-eval: baseline %s updated\n", o.baseline)
		return nil
	}
	for _, m := range rep.Missing {
		fmt.Fprintf(cmd.ErrOrStderr(), "munit-eval: missing: %s\n", m)
	}
	if rep.Failed() {
		return errRegression
	}
	return nil
}

// modelChanges adds to each group a warning for every model whose SHA-256
// differs between the baseline and the new document (the generator too,
// not only the evaluators the gate itself looks at), unless the group
// already warns about that model, one for a model recorded in only one of
// them, and one for a model of the new document whose metadata names
// another method.
func modelChanges(set *gate.Set, rep *gate.Report) {
	for i, p := range set.Pairs {
		if i >= len(rep.Groups) {
			return
		}
		g := &rep.Groups[i]
		roles := map[string]bool{}
		for r := range p.Base.Doc.Models {
			roles[r] = true
		}
		for r := range p.New.Doc.Models {
			roles[r] = true
		}
		sorted := make([]string, 0, len(roles))
		for r := range roles {
			sorted = append(sorted, r)
		}
		sort.Strings(sorted)
		for _, r := range sorted {
			b, okb := p.Base.Doc.Models[r]
			n, okn := p.New.Doc.Models[r]
			var msg string
			switch {
			case okb && okn && b.SHA256 != n.SHA256:
				msg = fmt.Sprintf("the %s model changed: sha256 %s (%s) in the baseline, %s (%s) in the results", r, short(b.SHA256), filepath.Base(b.File), short(n.SHA256), filepath.Base(n.File))
			case okb && !okn:
				msg = fmt.Sprintf("the %s model (%s) is recorded in the baseline only", r, filepath.Base(b.File))
			case okn && !okb:
				msg = fmt.Sprintf("the %s model (%s) is recorded in the results only", r, filepath.Base(n.File))
			default:
				continue
			}
			dup := false
			for _, w := range g.Warnings {
				dup = dup || strings.Contains(w, "the "+r+" model")
			}
			if !dup {
				g.Warnings = append(g.Warnings, msg)
			}
		}
		for _, r := range sorted {
			if m := p.New.Doc.Models[r].Method; m != "" && m != p.New.Doc.Method {
				g.Warnings = append(g.Warnings, fmt.Sprintf("the %s model's metadata names the method %q, not %q", r, m, p.New.Doc.Method))
			}
		}
	}
}

// short is the first 12 hex digits of a SHA-256, "(none)" when empty.
func short(h string) string {
	if h == "" {
		return "(none)"
	}
	return h[:min(12, len(h))]
}

// mismatchError is the check command's short form of the gate's protocol
// mismatches: each difference once (num_inputs is recorded in the protocol,
// the LPIPS result and the metrics: one line says it), and pairs with the
// same differences named together. It wraps the gate's error.
type mismatchError struct {
	msg string
	err error
}

func (e *mismatchError) Error() string { return e.msg }
func (e *mismatchError) Unwrap() error { return e.err }

// conciseMismatch rewrites an error holding *gate.MismatchError's into a
// mismatchError; other errors pass through.
func conciseMismatch(err error) error {
	var ms []*gate.MismatchError
	var walk func(error)
	walk = func(e error) {
		var m *gate.MismatchError
		if errors.As(e, &m) && m == e {
			ms = append(ms, m)
			return
		}
		if u, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range u.Unwrap() {
				walk(x)
			}
			return
		}
		if x := errors.Unwrap(e); x != nil {
			walk(x)
		}
	}
	walk(err)
	if len(ms) == 0 {
		return err
	}
	var order []string
	pairs := map[string][]string{}
	for _, m := range ms {
		d := strings.Join(dedupDiffs(m.Diffs), "; ")
		if _, ok := pairs[d]; !ok {
			order = append(order, d)
		}
		pairs[d] = append(pairs[d], m.New)
	}
	parts := make([]string, len(order))
	for i, d := range order {
		files := pairs[d]
		if len(files) > 3 {
			files = append(files[:3:3], fmt.Sprintf("%d more", len(pairs[d])-3))
		}
		parts[i] = fmt.Sprintf("%s (%s)", d, strings.Join(files, ", "))
	}
	what := "the results are not comparable with the baseline"
	return &mismatchError{msg: what + ": " + strings.Join(parts, "; "), err: err}
}

// dedupDiffs keeps one of the differences that name the same field (the
// part after the last dot: num_inputs, lpips_diversity.num_inputs and
// metrics.num_inputs) with the same values.
func dedupDiffs(diffs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range diffs {
		name, vals, ok := strings.Cut(d, ": ")
		if !ok {
			out = append(out, d)
			continue
		}
		if i := strings.LastIndex(name, "."); i >= 0 {
			name = name[i+1:]
		}
		k := name + "\x00" + vals
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, name+": "+vals)
	}
	return out
}
