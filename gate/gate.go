// Package gate is the regression gate of munit-eval: it compares a new
// results document with a baseline, metric by metric, and says whether each
// metric regressed, improved or is unchanged.
//
// The gate is opinionated about what counts as a regression. A metric
// regressed only when the new value is worse than the baseline by more than
// the user's tolerance (relative to the baseline value, default 0) AND the
// difference is significant at alpha (default 0.01): noise alone must not fail
// CI, and neither must a real but negligible change. Each metric is tested the
// way its document lets it be tested without recomputing anything, as its
// metric's registry entry says (registry.Quantity: what its uncertainty is
// stored as); for the built-in metrics:
//
//	lpips_diversity  Welch's t on the per-input means (Mann–Whitney U on request);
//	                 per-input means derived from the pairs when only pairs are stored
//	is, cis, fid     Welch's t with the standard errors of the stored bootstrap
//	                 replicates over inputs (fid: of its jackknife over input
//	                 groups, when the document stores one)
//	is_exp, cis_exp  exp of the same replicates; the verdict follows is / cis
//	is_splits        Welch's t on the split values
//	kid              a normal test whose standard error allows for the overlap
//	                 of the subsets (see metrics.KIDVariance)
//	precision, recall, density, coverage
//	                 shown, not tested (no uncertainty is stored)
//	preference       the pooled two-proportion z-test per baseline
//
// A CI run gates many metrics of many documents at once, so Check corrects
// the p-values of the whole report with Holm's method by default: noise
// alone then flags anything with probability below alpha, not once per
// metric.
//
// When a document lacks what a test needs, the gate falls back to the stored
// 95% intervals and calls a difference significant only when the two
// intervals, widened to the 1−alpha level, do not overlap (conservative), and
// says so in the comparison's note. The statistics themselves live in
// package metrics; this package chooses, combines and reports them.
//
// Documents are comparable only when they describe the same evaluation:
// same method and dataset, same protocol (inputs, samples and pairs per
// input, pairing, selection, image size, splits), and the fields each
// metric's entry names (registry.Entry.Comparable: the same LPIPS network
// and version, the same classifier classes, the same FID sample counts).
// Anything else is bad input (a *MismatchError) naming every difference.
package gate

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
)

// Direction says which way a metric gets better.
type Direction int

// Directions.
const (
	// HigherIsBetter: a decrease is a regression (diversity, IS, CIS).
	HigherIsBetter Direction = iota + 1
	// LowerIsBetter: an increase is a regression (FID, KID, a baseline's
	// preference over the reference method).
	LowerIsBetter
)

// String returns "higher" or "lower".
func (d Direction) String() string {
	switch d {
	case HigherIsBetter:
		return "higher"
	case LowerIsBetter:
		return "lower"
	}
	return "unknown"
}

// MarshalText encodes the direction as "higher" or "lower" ("is better").
func (d Direction) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes "higher" or "lower".
func (d *Direction) UnmarshalText(b []byte) error {
	switch string(b) {
	case "higher":
		*d = HigherIsBetter
	case "lower":
		*d = LowerIsBetter
	default:
		return fmt.Errorf("gate: direction %q: want higher or lower", b)
	}
	return nil
}

// Verdict is the outcome for one metric.
type Verdict string

// Verdicts.
const (
	Regressed Verdict = "regressed"
	Improved  Verdict = "improved"
	Unchanged Verdict = "unchanged"
)

// Tests, as named in Comparison.Test.
const (
	TestWelch       = "welch"
	TestMannWhitney = "mann-whitney"
	TestBootstrap   = "bootstrap"
	TestJackknife   = "jackknife-welch"
	TestKID         = "kid-normal"
	TestNormal      = "normal"
	TestTwoProp     = "two-proportion-z"
	TestIntervals   = "intervals"
	TestNone        = "none"
)

// Metrics lists the quantity names the gate knows, in table order: every
// quantity of the registered metrics (registry.Entry.Compare, in
// registration order), then preference (the human study, which is not a
// computed metric).
func Metrics() []string {
	var out []string
	for _, e := range registry.All() {
		for _, q := range e.Compare {
			out = append(out, q.Name)
		}
	}
	return append(out, results.KeyPreference)
}

// quantity returns the registered quantity of name, or nil.
func quantity(name string) *registry.Quantity {
	for _, e := range registry.All() {
		for i := range e.Compare {
			if e.Compare[i].Name == name {
				return &e.Compare[i]
			}
		}
	}
	return nil
}

// DefaultDirection returns the direction in which metric gets better, as
// its registry entry says (higher for diversity and the Inception Scores,
// lower for FID and KID), and lower for preference: the share of
// judgments that preferred a baseline over the document's (reference)
// method, so a higher share means the reference method got worse.
func DefaultDirection(metric string) Direction {
	if q := quantity(metric); q != nil {
		if f := quantity(q.Follows); f != nil {
			q = f
		}
		if q.Better < 0 {
			return LowerIsBetter
		}
		return HigherIsBetter
	}
	if metric == results.KeyPreference {
		return LowerIsBetter
	}
	return HigherIsBetter
}

// knownMetric reports whether m is one of Metrics.
func knownMetric(m string) bool { return m == results.KeyPreference || quantity(m) != nil }

// follows returns the quantity whose verdict m copies (exp is monotone, so
// exp(IS) moves exactly when IS does), and whether it has one.
func follows(m string) (string, bool) {
	if q := quantity(m); q != nil && q.Follows != "" {
		return q.Follows, true
	}
	return "", false
}

// Options configure a comparison. The zero value is not ready; start from
// DefaultOptions.
type Options struct {
	// Alpha is the significance level of every test (two-sided).
	Alpha float64
	// Tolerance is the relative change, per metric, that a significant
	// difference must exceed to count: 0.05 means 5% of the baseline value.
	// Metrics not in the map have tolerance 0 (any significant worsening).
	Tolerance map[string]float64
	// Direction overrides DefaultDirection per metric (e.g. lower-is-better
	// diversity for a task whose right answer is deterministic).
	Direction map[string]Direction
	// DiversityTest is TestWelch (default) or TestMannWhitney.
	DiversityTest string
	// Correction is the multiple-testing correction Check applies across
	// every tested comparison of a report: CorrectionHolm (default) or
	// CorrectionNone.
	Correction string
	// AllowMissing downgrades a baseline metric missing from the new
	// results from bad input (Check returns a *MissingError) to a failure
	// recorded in Report.Missing, which the CLI turns into exit status 1.
	AllowMissing bool
}

// Multiple-testing corrections (Options.Correction).
const (
	// CorrectionHolm controls the probability that any comparison of the
	// report is flagged by noise alone at alpha (Holm 1979): a CI run
	// gates many metrics of many documents, and at alpha 0.01 each, noise
	// would fail several percent of runs.
	CorrectionHolm = "holm"
	// CorrectionNone tests each comparison at alpha on its own.
	CorrectionNone = "none"
)

// DefaultOptions returns alpha 0.01, no tolerance, the default directions,
// Welch's t for diversity and Holm's correction.
func DefaultOptions() Options {
	return Options{Alpha: 0.01, Tolerance: map[string]float64{}, Direction: map[string]Direction{},
		DiversityTest: TestWelch, Correction: CorrectionHolm}
}

// Validate checks the options: alpha in (0, 0.5], tolerances finite and ≥ 0,
// metric names known, no tolerance or direction on a follower metric.
func (o Options) Validate() error {
	if !(o.Alpha > 0 && o.Alpha <= 0.5) {
		return fmt.Errorf("gate: alpha %v outside (0, 0.5]", o.Alpha)
	}
	for _, m := range sortedKeys(o.Tolerance) {
		v := o.Tolerance[m]
		if !knownMetric(m) {
			return fmt.Errorf("gate: tolerance for unknown metric %q (known: %s)", m, strings.Join(Metrics(), ", "))
		}
		if f, ok := follows(m); ok {
			return fmt.Errorf("gate: %s follows %s; set the tolerance on %s", m, f, f)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("gate: tolerance %v for %s: want a finite relative change ≥ 0 (0.05 is 5%%)", v, m)
		}
	}
	for _, m := range sortedKeys(o.Direction) {
		if !knownMetric(m) {
			return fmt.Errorf("gate: direction for unknown metric %q (known: %s)", m, strings.Join(Metrics(), ", "))
		}
		if f, ok := follows(m); ok {
			return fmt.Errorf("gate: %s follows %s; set the direction on %s", m, f, f)
		}
		if d := o.Direction[m]; d != HigherIsBetter && d != LowerIsBetter {
			return fmt.Errorf("gate: bad direction %d for %s", d, m)
		}
	}
	switch o.Correction {
	case "", CorrectionHolm, CorrectionNone:
	default:
		return fmt.Errorf("gate: correction %q: want %s or %s", o.Correction, CorrectionHolm, CorrectionNone)
	}
	switch o.DiversityTest {
	case "", TestWelch, TestMannWhitney:
	default:
		return fmt.Errorf("gate: diversity test %q: want %s or %s", o.DiversityTest, TestWelch, TestMannWhitney)
	}
	return nil
}

func (o Options) direction(m string) Direction {
	if f, ok := follows(m); ok {
		m = f
	}
	if d, ok := o.Direction[m]; ok {
		return d
	}
	return DefaultDirection(m)
}

func (o Options) tolerance(m string) float64 {
	if f, ok := follows(m); ok {
		m = f
	}
	return o.Tolerance[m]
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
