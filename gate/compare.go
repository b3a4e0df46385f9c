package gate

import (
	"fmt"
	"math"
	"strings"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/warning"
)

// Comparison is the gate's finding for one metric of one (method, dataset).
// Values are in the document's units (IS and CIS in nats, the _exp forms as
// exp of them, preference in percent). Quantities that do not exist (the
// relative change from a baseline of 0, the p-value of an interval
// comparison) are nil.
type Comparison struct {
	Method  string `json:"method"`
	Dataset string `json:"dataset,omitempty"`
	Metric  string `json:"metric"`
	// Baseline names the compared baseline method for preference rows.
	Baseline string `json:"baseline,omitempty"`
	// Seeds is true for a quantity of two means over seeds
	// (results.SeedRuns): its values' sd is over seeds.
	Seeds bool `json:"seeds,omitempty"`
	// Better is the direction in which the metric improves.
	Better Direction `json:"better"`
	Base   float64   `json:"base"`
	New    float64   `json:"new"`
	// BaseCI and NewCI are the documents' own 95% intervals, when stored.
	BaseCI *[2]float64 `json:"base_ci95,omitempty"`
	NewCI  *[2]float64 `json:"new_ci95,omitempty"`
	// BaseSD and NewSD are the spreads the report prints instead of an
	// interval (KID's standard deviation over subsets); the table prints
	// them as the report does, "v (sd s)".
	BaseSD *float64 `json:"base_sd,omitempty"`
	NewSD  *float64 `json:"new_sd,omitempty"`
	// Delta is New − Base; RelDelta is Delta / |Base|.
	Delta    float64  `json:"delta"`
	RelDelta *float64 `json:"rel_delta,omitempty"`
	// DeltaCI is the 95% interval of New − Base under Test.
	DeltaCI *[2]float64 `json:"delta_ci95,omitempty"`
	// P is the two-sided p-value, nil for interval comparisons.
	P *float64 `json:"p,omitempty"`
	// PAdjusted is P after the report's multiple-testing correction (Holm),
	// nil when none was applied; Significant is then PAdjusted < alpha.
	PAdjusted *float64 `json:"p_adjusted,omitempty"`
	// Test names how significance was decided (Test* constants).
	Test string `json:"test"`
	// NBase and NNew are the numbers of units the test saw (inputs,
	// replicates, subsets or judgments).
	NBase int `json:"n_base,omitempty"`
	NNew  int `json:"n_new,omitempty"`
	// Significant is true when the difference is significant at alpha.
	Significant bool `json:"significant"`
	// Tolerance is the relative tolerance applied.
	Tolerance float64 `json:"tolerance"`
	Verdict   Verdict `json:"verdict"`
	// Note says anything unusual about how the verdict was reached.
	Note string `json:"note,omitempty"`
}

// MismatchError reports two documents that do not describe the same
// evaluation; Diffs names every difference ("num_inputs: base 100, new 50").
type MismatchError struct {
	Base, New string
	Diffs     []string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("gate: %s and %s are not comparable: %s", e.Base, e.New, strings.Join(e.Diffs, "; "))
}

// CheckComparable returns a *MismatchError when base and new differ in
// method, dataset or protocol (see the package comment), nil otherwise.
// baseName and newName name the documents in the message.
func CheckComparable(baseName string, base *results.Document, newName string, new *results.Document) error {
	var d []string
	add := func(what string, b, n any) {
		if b != n {
			d = append(d, fmt.Sprintf("%s: base %v, new %v", what, show(b), show(n)))
		}
	}
	add("schema", base.Schema, new.Schema)
	add("method", base.Method, new.Method)
	add("dataset", base.Dataset, new.Dataset)
	bp, np := base.Protocol, new.Protocol
	add("num_inputs", bp.NumInputs, np.NumInputs)
	add("samples_per_input", bp.SamplesPerInput, np.SamplesPerInput)
	add("pairs_per_input", bp.PairsPerInput, np.PairsPerInput)
	add("pairing", bp.Pairing, np.Pairing)
	add("select", bp.Select, np.Select)
	add("image_size", bp.ImageSize, np.ImageSize)
	add("splits", bp.Splits, np.Splits)
	for _, e := range registry.All() {
		if e.Comparable == nil {
			continue
		}
		nf := map[string]any{}
		for _, f := range e.Comparable(new) {
			nf[f.Name] = f.Value
		}
		for _, f := range e.Comparable(base) {
			if n, ok := nf[f.Name]; ok {
				add(f.Name, f.Value, n)
			}
		}
	}
	if len(d) > 0 {
		return &MismatchError{Base: baseName, New: newName, Diffs: d}
	}
	return nil
}

// show quotes strings and marks empty values as not recorded.
func show(v any) string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return "(none)"
		}
		return fmt.Sprintf("%q", x)
	case int:
		if x == 0 {
			return "(none)"
		}
	}
	return fmt.Sprint(v)
}

// Compare compares every quantity of every registered metric present in
// both documents, and the preference study per baseline, and returns one
// Comparison per quantity (per baseline for preference), in the order of
// Metrics, and warnings: models that differ or changed, quantities or
// baselines present in one document only. It returns a *MismatchError
// when the documents are not comparable (CheckComparable) and an error for
// invalid options.
func Compare(baseName string, base *results.Document, newName string, new *results.Document, opts Options) ([]Comparison, []warning.Warning, error) {
	if err := opts.Validate(); err != nil {
		return nil, nil, err
	}
	if err := CheckComparable(baseName, base, newName, new); err != nil {
		return nil, nil, err
	}
	c := comparer{opts: opts, method: new.Method, dataset: new.Dataset}
	c.modelChanges(base, new)
	for _, e := range registry.All() {
		for _, q := range e.Compare {
			bv, inB := q.Get(base)
			nv, inN := q.Get(new)
			c.presence(q.Name, inB, inN)
			if inB && inN {
				c.quantity(q, bv, nv)
			}
		}
	}
	c.seeds(base.Metrics.Seeds, new.Metrics.Seeds)
	c.preference(base.Metrics.Preference, new.Metrics.Preference)
	return c.out, c.warnings, nil
}

// seeds compares two means over seeds (results.SeedRuns) quantity by
// quantity, under the quantities' own names (so tolerances and directions
// apply): each seed's value comes from an independent repetition of the
// whole evaluation, so the test is Welch's t over the per-seed values
// (registry.BySamples), which needs two seeds on each side.
func (c *comparer) seeds(b, n *results.SeedRuns) {
	if b == nil || n == nil {
		c.presence("seeds", b != nil, n != nil)
		return
	}
	val := func(q *results.SeedQuantity) registry.Value {
		return registry.Value{V: q.Mean, SD: q.SD, Samples: q.Values}
	}
	for i := range n.Quantities {
		nq := &n.Quantities[i]
		bq := b.Quantity(nq.Name)
		c.presence(nq.Name, bq != nil, true)
		if bq == nil {
			continue
		}
		c.quantity(registry.Quantity{Name: nq.Name, Better: nq.Better, By: registry.BySamples, Samples: "per-seed values"}, val(bq), val(nq))
		last := &c.out[len(c.out)-1]
		last.Seeds = true
		last.Note = join(last.Note, fmt.Sprintf("means over %d and %d seeds", len(bq.Values), len(nq.Values)))
	}
	for _, bq := range b.Quantities {
		if n.Quantity(bq.Name) == nil {
			c.presence(bq.Name, true, false)
		}
	}
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + "; " + b
}

// quantity compares one quantity with the test its uncertainty allows
// (registry.Uncertainty), falling back to the stored intervals, and makes
// a follower copy its lead's verdict.
func (c *comparer) quantity(q registry.Quantity, b, n registry.Value) {
	var cmp *Comparison
	switch q.By {
	case registry.BySamples:
		cmp = c.samples(q, b, n)
	case registry.ByReplicates:
		cmp = c.bootstrap(q.Name, b, n)
	case registry.ByStdErr:
		if b.StdErr > 0 && n.StdErr > 0 && b.Groups >= 2 && n.Groups >= 2 {
			cmp = c.stderrTest(q.Name, b, n)
		} else {
			cmp = c.bootstrap(q.Name, b, n)
		}
	case registry.ByVariance:
		cmp = c.variance(q.Name, b, n)
	default:
		cmp = c.add(q.Name, b, n)
		c.intervals(cmp)
	}
	if q.TestName != "" && cmp.Test == defaultTest[q.By] {
		cmp.Test = q.TestName
	}
	if q.Follows == "" {
		return
	}
	for _, lead := range c.out {
		if lead.Metric == q.Follows {
			cmp.Significant, cmp.Verdict = lead.Significant, lead.Verdict
			cmp.Note = join(cmp.Note, "verdict follows "+q.Follows)
		}
	}
}

// defaultTest names the test each kind of uncertainty gets.
var defaultTest = map[registry.Uncertainty]string{
	registry.BySamples: TestWelch, registry.ByReplicates: TestBootstrap,
	registry.ByStdErr: TestWelch, registry.ByVariance: TestNormal,
}

// comparer accumulates the comparisons of one pair of documents.
type comparer struct {
	opts            Options
	method, dataset string
	out             []Comparison
	warnings        []warning.Warning
}

// Codes of the gate's warnings.
const (
	// CodeOneSide: a quantity or a preference baseline in one document only.
	CodeOneSide = "one-side"
	// CodeModelChanged: a model's SHA-256 differs, or one document only
	// records the model.
	CodeModelChanged = "model-changed"
	// CodeMethodMismatch: a model's metadata names another method.
	CodeMethodMismatch = "method-mismatch"
	// CodeNoBaseline: a new document without a baseline.
	CodeNoBaseline = "no-baseline"
)

// warn adds a warning about subject (a quantity's name, preference or
// models), stamped with the comparison's method and dataset.
func (c *comparer) warn(code, subject, format string, args ...any) {
	w := warning.New(code, subject, format, args...)
	w.Method, w.Dataset = c.method, c.dataset
	c.warnings = append(c.warnings, w)
}

func (c *comparer) presence(key string, inBase, inNew bool) {
	switch {
	case inBase && !inNew:
		c.warn(CodeOneSide, key, "%s is in the baseline only: not compared", key)
	case inNew && !inBase:
		c.warn(CodeOneSide, key, "%s is in the new results only: not compared", key)
	}
}

// relDeltaFloor is the smallest baseline magnitude a relative change is
// computed against; every metric's meaningful values are far above it.
const relDeltaFloor = 1e-12

// add appends a comparison of two values with the common fields filled
// (their intervals, when stored and finite, and their notes) and returns
// it.
func (c *comparer) add(metric string, b, n registry.Value) *Comparison {
	base, new := b.V, n.V
	cmp := Comparison{
		Method: c.method, Dataset: c.dataset, Metric: metric,
		Better: c.opts.direction(metric), Base: base, New: new, Delta: new - base,
		Tolerance: c.opts.tolerance(metric), Verdict: Unchanged, Test: TestNone,
		BaseCI: finiteCI(b.CI), NewCI: finiteCI(n.CI), BaseSD: b.SD, NewSD: n.SD, Note: join(b.Note, n.Note),
	}
	if b.Note == n.Note {
		cmp.Note = b.Note
	}
	// A baseline at rounding level (a deterministic model's CIS is 1e-16,
	// not 0) has no meaningful relative change.
	if math.Abs(base) > relDeltaFloor {
		cmp.RelDelta = finite((new - base) / math.Abs(base))
	}
	c.out = append(c.out, cmp)
	return &c.out[len(c.out)-1]
}

// decide sets the verdict from Significant, the direction and the tolerance:
// regressed when the change is in the bad direction, |Δ| > tolerance·|base|
// and significant; improved likewise in the good direction.
func decide(cmp *Comparison) {
	cmp.Verdict = Unchanged
	if !cmp.Significant || cmp.Delta == 0 || math.Abs(cmp.Delta) <= cmp.Tolerance*math.Abs(cmp.Base) {
		return
	}
	worse := (cmp.Better == HigherIsBetter) == (cmp.Delta < 0)
	if worse {
		cmp.Verdict = Regressed
	} else {
		cmp.Verdict = Improved
	}
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// finiteCI is ci of a stored interval; nil stays nil.
func finiteCI(iv *[2]float64) *[2]float64 {
	if iv == nil {
		return nil
	}
	return ci(iv[0], iv[1])
}

func ci(lo, hi float64) *[2]float64 {
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	return &[2]float64{lo, hi}
}

// samples compares the means of independent unit values b and n
// (registry.BySamples: LPIPS diversity's per-input means, the split
// Inception Score's split values) with a two-sample test:
//
//	Δ = mean(n) − mean(b),  se = sqrt(s_n²/N_n + s_b²/N_b)
//	95% interval: Δ ± t_{0.975, df} · se   (Welch–Satterthwaite df)
//	p: Welch's t (default) or Mann–Whitney U (Options.DiversityTest, for
//	   quantities that allow a rank test)
//
// Welch's t is the default because the verdict is about the mean (the
// number the paper reports), the per-input means are themselves averages
// and close to normal, and it gives an interval on the same difference;
// Mann–Whitney tests a shift of the whole distribution, is robust to a few
// outlying inputs, and is offered for heavy-tailed per-input means (its
// interval is still Welch's). Δ is the difference of the documents' values
// (the mean over all pairs for diversity).
func (c *comparer) samples(q registry.Quantity, bv, nv registry.Value) *Comparison {
	cmp := c.add(q.Name, bv, nv)
	bm, nm := bv.Samples, nv.Samples
	if len(bm) >= 2 && len(nm) >= 2 {
		t, err := metrics.WelchT(nm, bm)
		if err == nil {
			cmp.Test, cmp.NBase, cmp.NNew, cmp.P = TestWelch, len(bm), len(nm), finite(t.P)
			iv := t.Interval(0.95)
			cmp.DeltaCI = ci(iv[0], iv[1])
			if q.RankTest && c.opts.DiversityTest == TestMannWhitney {
				u, err := metrics.MannWhitneyU(nm, bm)
				if err == nil {
					cmp.Test, cmp.P = TestMannWhitney, finite(u.P)
					cmp.Note = join(cmp.Note, "interval from Welch's t")
				}
			}
			cmp.Significant = cmp.P != nil && *cmp.P < c.opts.Alpha
			decide(cmp)
			return cmp
		}
		cmp.Note = join(cmp.Note, "no two-sample test ("+err.Error()+")")
	} else {
		cmp.Note = join(cmp.Note, "fewer than 2 "+q.Samples+" in a document")
	}
	c.intervals(cmp)
	return cmp
}

// bootstrap compares a statistic through the bootstrap replicates over
// inputs stored in each document (f, when not nil, transforms values and
// replicates, e.g. exp), nb and nn being the numbers of inputs resampled
// (0 when unknown). The two runs are treated as independent samples
// (conservative when they share their inputs). With each document's
// replicates θ*:
//
//	v = Var(θ*) · N/(N − 1)       (the ideal bootstrap variance of a mean
//	                               over N inputs is (N−1)/N · s²/N, the
//	                               plug-in estimate; Efron & Tibshirani 1993)
//	se = sqrt(v_b + v_n),  t = Δ / se
//	df = (v_b + v_n)² / (v_b²/(N_b − 1) + v_n²/(N_n − 1))   (Welch–Satterthwaite)
//	p = 2 · P(T_df > |t|),  95% interval Δ ± t_{0.975, df} · se
//
// with Δ the difference of the documents' point values: Welch's test with
// bootstrap standard errors (the normal-theory interval with a bootstrap
// standard error, with Student's t for few inputs). Percentile intervals of
// paired replicate differences (metrics.BootstrapDiffCI) were the first
// design; at alpha 0.01 they rest on the few most extreme replicates and, in
// this package's simulation (50 inputs, independent input sets), flagged
// 2.1% of same-distribution runs of CIS with B = 2000 and about 3% with
// B = 200, where this test flagged 1.1% (1500 runs). Without input counts
// it uses the normal distribution and no correction; without replicates it
// falls back to the stored intervals.
func (c *comparer) bootstrap(metric string, bv, nv registry.Value) *Comparison {
	cmp := c.add(metric, bv, nv)
	breps, nreps, nb, nn, f := bv.Replicates, nv.Replicates, bv.Inputs, nv.Inputs, bv.Transform
	if len(breps) < 2 || len(nreps) < 2 {
		cmp.Note = join(cmp.Note, "no bootstrap replicates stored")
		c.intervals(cmp)
		return cmp
	}
	tr := func(x []float64) []float64 {
		if f == nil {
			return x
		}
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = f(v)
		}
		return y
	}
	nb1, nn1 := nb, nn
	if nb < 2 || nn < 2 {
		nb1, nn1 = 0, 0 // unknown: no n/(n−1) factor, normal distribution
	}
	vb, vn := metrics.BootstrapVariance(tr(breps), nb1), metrics.BootstrapVariance(tr(nreps), nn1)
	if math.IsNaN(vb) || math.IsNaN(vn) || math.IsInf(vb+vn, 0) {
		cmp.Note = join(cmp.Note, "bootstrap replicates unusable (NaN or Inf)")
		c.intervals(cmp)
		return cmp
	}
	dfb, dfn := math.Inf(1), math.Inf(1) // unknown: the normal distribution
	if nb1 >= 2 {
		dfb, dfn = float64(nb-1), float64(nn-1)
	} else {
		cmp.Note = join(cmp.Note, "number of inputs not recorded: normal approximation")
	}
	cmp.Test, cmp.NBase, cmp.NNew = TestBootstrap, len(breps), len(nreps)
	c.welch(cmp, vb, dfb, vn, dfn)
	return cmp
}

// stderrTest compares two values through their stored standard errors
// over gb and gn independent units (FID's jackknife standard errors):
// Welch's test with se = sqrt(se_b² + se_n²) and Welch–Satterthwaite
// degrees of freedom (metrics.WelchDiffTest with gb − 1 and gn − 1), on
// the difference of the plug-in values.
func (c *comparer) stderrTest(metric string, bv, nv registry.Value) *Comparison {
	cmp := c.add(metric, bv, nv)
	seb, sen, gb, gn := bv.StdErr, nv.StdErr, bv.Groups, nv.Groups
	cmp.Test, cmp.NBase, cmp.NNew = TestWelch, gb, gn
	c.welch(cmp, seb*seb, float64(gb-1), sen*sen, float64(gn-1))
	return cmp
}

// welch decides cmp by Welch's test of its difference from the variances
// of the base and new values and their degrees of freedom
// (metrics.WelchDiffTest, 95% interval).
func (c *comparer) welch(cmp *Comparison, vb, dfb, vn, dfn float64) {
	p, dci := metrics.WelchDiffTest(cmp.Delta, vb, dfb, vn, dfn, 0.95)
	cmp.P, cmp.DeltaCI = &p, ci(dci[0], dci[1])
	cmp.Significant = p < c.opts.Alpha
	decide(cmp)
}

// intervals is the fallback when a document lacks what the metric's test
// needs: with each value's stored 95% interval [lo, hi] around v, the
// interval widened to the 1 − alpha level is
//
//	[v − r(v − lo), v + r(hi − v)],  r = z_{1−alpha/2} / z_{0.975}
//
// and the difference is significant when the two widened intervals do not
// overlap. Non-overlap of two intervals implies significance at a level
// below alpha (Schenker & Gentleman 2001), so the fallback is conservative.
// The reported interval of Δ adds the half-widths: [Δ − (n − lo_n) − (hi_b − b),
// Δ + (hi_n − n) + (b − lo_b)].
func (c *comparer) intervals(cmp *Comparison) {
	if cmp.BaseCI == nil || cmp.NewCI == nil {
		cmp.Test = TestNone
		cmp.Note = join(cmp.Note, "no intervals to compare: not tested")
		decide(cmp)
		return
	}
	res, ok := metrics.CompareIntervals(cmp.Base, *cmp.BaseCI, cmp.New, *cmp.NewCI, c.opts.Alpha, 0.95)
	if !ok {
		cmp.Test = TestNone
		cmp.Note = join(cmp.Note, "a stored interval does not contain its value: not tested")
		decide(cmp)
		return
	}
	cmp.Test = TestIntervals
	cmp.DeltaCI = ci(res.DeltaCI[0], res.DeltaCI[1])
	cmp.Significant = res.Significant
	cmp.Note = join(cmp.Note, fmt.Sprintf("compared by non-overlap of the %g%% intervals (conservative)", 100*(1-c.opts.Alpha)))
	decide(cmp)
}

// variance compares two values with a normal test on their variances
// (registry.ByVariance: KID's, which allows for the overlap of subsets
// drawn from the same samples, metrics.KIDVariance): z = Δ / sqrt(V_b +
// V_n), p = erfc(|z|/√2), 95% interval Δ ± z_{0.975} sqrt(V_b + V_n).
// Without a variance on both sides it is not tested (the values' notes say
// why).
func (c *comparer) variance(metric string, bv, nv registry.Value) *Comparison {
	cmp := c.add(metric, bv, nv)
	if bv.Variance == nil || nv.Variance == nil {
		if cmp.Note == "" {
			cmp.Note = "no variance stored: not tested"
		}
		decide(cmp)
		return cmp
	}
	cmp.Test, cmp.NBase, cmp.NNew = TestNormal, bv.N, nv.N
	p, dci := metrics.NormalInterval(cmp.Delta, math.Sqrt(*bv.Variance+*nv.Variance), 0.95)
	cmp.P, cmp.DeltaCI = &p, ci(dci[0], dci[1])
	cmp.Significant = *cmp.P < c.opts.Alpha
	decide(cmp)
	return cmp
}

// preference compares, for each baseline in both documents, the share of
// judgments preferring it over the reference method, with the pooled
// two-proportion z-test (metrics.TwoProportionZ) and Newcombe's hybrid score
// interval for the difference (Newcombe 1998, method 10), from the Wilson
// intervals (l, u) of each share:
//
//	Δ = p_n − p_b
//	[Δ − sqrt((p_n − l_n)² + (u_b − p_b)²),  Δ + sqrt((u_n − p_n)² + (p_b − l_b)²)]
//
// in percentage points. Lower is better by default: the document is the
// reference method's, so a baseline preferred more often means the
// reference got worse.
func (c *comparer) preference(b, n map[string]results.Preference) {
	for _, name := range sortedKeys(b) {
		if _, ok := n[name]; !ok {
			c.warn(CodeOneSide, results.KeyPreference, "preference for %q is in the baseline only: not compared", name)
		}
	}
	for _, name := range sortedKeys(n) {
		pb, ok := b[name]
		if !ok {
			c.warn(CodeOneSide, results.KeyPreference, "preference for %q is in the new results only: not compared", name)
			continue
		}
		pn := n[name]
		bw, nw := pb.Wilson, pn.Wilson
		cmp := c.add(results.KeyPreference, registry.Value{V: pb.Percent, CI: &bw}, registry.Value{V: pn.Percent, CI: &nw})
		cmp.Baseline = name
		_, p, err := metrics.TwoProportionZ(pn.Preferred, pn.Judgments, pb.Preferred, pb.Judgments)
		if err != nil || pb.Judgments == 0 || pn.Judgments == 0 {
			cmp.Note = "judgment counts missing or invalid: not tested"
			decide(cmp)
			continue
		}
		cmp.Test, cmp.NBase, cmp.NNew, cmp.P = TestTwoProp, pb.Judgments, pn.Judgments, finite(p)
		lo, hi := metrics.NewcombeDiff(pn.Preferred, pn.Judgments, pb.Preferred, pb.Judgments, metrics.Z95)
		cmp.DeltaCI = ci(100*lo, 100*hi)
		cmp.Significant = cmp.P != nil && *cmp.P < c.opts.Alpha
		decide(cmp)
	}
}
