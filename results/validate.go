package results

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// consistTol is the relative tolerance of Validate's consistency checks
// between a summary and the values it summarises (a document written by
// munit-eval agrees to rounding, about 1e-15; one edited by hand or
// produced by a buggy writer is off by far more).
const consistTol = 1e-9

// absurd is the magnitude above which Validate refuses any metric value:
// no metric of this suite (nats, LPIPS distances, FID/KID of normalised
// features, percentages) comes near it, while 1e308 or a stray exponent
// would otherwise pass as a number.
const absurd = 1e12

// Validate checks the internal consistency of d's metrics, so that a
// consumer that compares or reports numbers never trusts a document that
// contradicts itself. It returns one error listing every problem found:
//
//   - every value finite and at most 1e12 in magnitude; standard
//     deviations, standard errors and counts not negative;
//   - every interval [lo, hi] with lo ≤ hi;
//   - LPIPS diversity: len(per_input_mean) = num_inputs, their mean = mean
//     (equal pairs per input), distances ≥ 0;
//   - IS/CIS: is_exp = exp(is), cis_exp = exp(cis), len(cis_per_input) =
//     num_inputs and their mean = cis, 0 ≤ is, cis ≤ ln C (+1e-9) when the
//     classes are named;
//   - is_splits: len(values) = splits, their mean and population std =
//     mean and std, every value ≥ 1 (exp of a KL divergence);
//   - kid: len(values) = subsets, their mean = mean;
//   - preference: 0 ≤ preferred ≤ judgments, percent = 100·preferred /
//     judgments, intervals inside [0, 100].
//
// Equalities hold to a relative 1e-9. name is used in the message.
func Validate(name string, d *Document) error {
	v := validator{}
	m := &d.Metrics
	if x := m.LPIPSDiversity; x != nil {
		p := KeyLPIPSDiversity
		v.num(p+".mean", x.Mean)
		v.nonNeg(p+".std", x.Std)
		v.nonNeg(p+".stderr", x.Stderr)
		v.interval(p+".ci95", x.CI95[:])
		v.count(p+".n", x.N)
		v.count(p+".num_inputs", x.NumInputs)
		v.count(p+".pairs_per_input", x.PairsPerInput)
		v.all(p+".per_input_mean", x.PerInputMean, 0)
		if n := len(x.PerInputMean); n > 0 {
			if x.NumInputs > 0 && n != x.NumInputs {
				v.add("%s.per_input_mean has %d values for num_inputs %d", p, n, x.NumInputs)
			}
			v.equal(p+".mean", x.Mean, p+".per_input_mean's mean", mean(x.PerInputMean))
		}
		for i, pr := range x.Pairs {
			if !v.num(fmt.Sprintf("%s.pairs[%d].distance", p, i), pr.Distance) {
				break
			}
		}
		if x.Mean < 0 {
			v.add("%s.mean %v is negative (LPIPS distances are not)", p, x.Mean)
		}
		if t := x.Trials; t != nil {
			v.count(p+".trials.count", t.Count)
			v.count(p+".trials.pairs_per_trial", t.PairsPerTrial)
			v.nonNeg(p+".trials.std", t.Std)
			v.all(p+".trials.means", t.Means, 0)
			if len(t.Means) != t.Count {
				v.add("%s.trials.means has %d values for count %d", p, len(t.Means), t.Count)
			} else if t.Count > 0 {
				v.equal(p+".trials.mean", t.Mean, p+".trials.means' mean", mean(t.Means))
			}
		}
	}
	if t := m.TaskMean; t != nil {
		for _, x := range []struct {
			key  string
			vals []float64
			mean *float64
		}{{"fid", t.FID, t.FIDMean}, {"lpips", t.LPIPS, t.LPIPSMean}} {
			k := "task_mean." + x.key
			switch {
			case (x.mean == nil) != (len(x.vals) == 0):
				v.add("%s: values and mean go together", k)
			case x.mean != nil && len(x.vals) != len(t.Tasks):
				v.add("%s has %d values for %d tasks", k, len(x.vals), len(t.Tasks))
			case x.mean != nil:
				v.all(k, x.vals, 0)
				v.equal(k+"_mean", *x.mean, k+"'s mean", mean(x.vals))
			}
		}
	}
	if r := m.Seeds; r != nil {
		v.seeds(r)
	}
	v.logExp(KeyIS, m.IS, m.ISExp)
	v.logExp(KeyCIS, m.CIS, m.CISExp)
	v.ptrInterval(KeyIS+"_ci95", m.ISCI95)
	v.ptrInterval(KeyCIS+"_ci95", m.CISCI95)
	v.all(KeyIS+"_bootstrap", m.ISBootstrap, math.Inf(-1))
	v.all(KeyCIS+"_bootstrap", m.CISBootstrap, math.Inf(-1))
	v.all("cis_per_input", m.CISPerInput, math.Inf(-1))
	if m.NumInputs != nil {
		v.count("num_inputs", *m.NumInputs)
		if n := len(m.CISPerInput); n > 0 && n != *m.NumInputs {
			v.add("cis_per_input has %d values for num_inputs %d", n, *m.NumInputs)
		}
	}
	if m.SamplesPerInput != nil {
		v.count("samples_per_input", *m.SamplesPerInput)
	}
	for _, b := range []struct {
		key string
		v   *float64
	}{{"is_bias_corrected", m.ISBiasCorrected}, {"cis_bias_corrected", m.CISBiasCorrected}} {
		if b.v != nil {
			v.num(b.key, *b.v)
		}
	}
	if m.CIS != nil && len(m.CISPerInput) > 0 {
		v.equal(KeyCIS, *m.CIS, "cis_per_input's mean", mean(m.CISPerInput))
	}
	if c := len(m.Classes); c > 0 {
		for _, s := range []struct {
			key string
			v   *float64
		}{{KeyIS, m.IS}, {KeyCIS, m.CIS}} {
			if s.v != nil && (*s.v < -consistTol || *s.v > math.Log(float64(c))+consistTol) {
				v.add("%s %v outside [0, ln %d = %.6g] for %d classes", s.key, *s.v, c, math.Log(float64(c)), c)
			}
		}
	}
	v.all("class_share", m.ClassShare, 0)
	if s := m.ISSplits; s != nil {
		p := KeyISSplits
		v.num(p+".mean", s.Mean)
		v.nonNeg(p+".std", s.Std)
		v.count(p+".splits", s.Splits)
		v.all(p+".values", s.Values, 1-consistTol)
		if n := len(s.Values); n > 0 {
			if n != s.Splits {
				v.add("%s has %d values for %d splits", p, n, s.Splits)
			}
			v.equal(p+".mean", s.Mean, p+".values' mean", mean(s.Values))
			v.equal(p+".std", s.Std, p+".values' population std", popStd(s.Values))
		}
	}
	if f := m.FID; f != nil {
		v.num(KeyFID+".value", f.Value)
		v.ptrInterval(KeyFID+".ci95", f.CI95)
		v.all(KeyFID+".bootstrap", f.Bootstrap, math.Inf(-1))
		v.count(KeyFID+".num_samples", f.NumSamples)
		v.count(KeyFID+".num_real", f.NumReal)
		v.count(KeyFID+".feature_dim", f.FeatureDim)
		v.nonNeg(KeyFID+".stderr", f.StdErr)
		v.count(KeyFID+".groups", f.Groups)
		if f.BiasCorrected != nil {
			v.num(KeyFID+".bias_corrected", *f.BiasCorrected)
		}
	}
	if k := m.KID; k != nil {
		v.num(KeyKID+".mean", k.Mean)
		v.nonNeg(KeyKID+".std", k.Std)
		v.count(KeyKID+".subsets", k.Subsets)
		v.count(KeyKID+".subset_size", k.SubsetSize)
		v.all(KeyKID+".values", k.Values, math.Inf(-1))
		if n := len(k.Values); n > 0 {
			if k.Subsets > 0 && n != k.Subsets {
				v.add("%s.values has %d values for %d subsets", KeyKID, n, k.Subsets)
			}
			v.equal(KeyKID+".mean", k.Mean, KeyKID+".values' mean", mean(k.Values))
		}
	}
	names := make([]string, 0, len(m.Preference))
	for n := range m.Preference {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		pr := m.Preference[n]
		p := fmt.Sprintf("%s[%q]", KeyPreference, n)
		v.num(p+".percent", pr.Percent)
		v.interval(p+".wilson", pr.Wilson[:])
		if pr.Bootstrap != [2]float64{} {
			v.interval(p+".bootstrap", pr.Bootstrap[:])
		}
		for _, w := range []struct {
			key string
			x   []float64
		}{{"percent", []float64{pr.Percent}}, {"wilson", pr.Wilson[:]}, {"bootstrap", pr.Bootstrap[:]}} {
			for _, x := range w.x {
				if x < 0 || x > 100 {
					v.add("%s.%s %v outside [0, 100]", p, w.key, x)
					break
				}
			}
		}
		if pr.Preferred < 0 || pr.Judgments < 0 || pr.Preferred > pr.Judgments {
			v.add("%s: %d of %d judgments preferred", p, pr.Preferred, pr.Judgments)
		} else if pr.Judgments > 0 {
			v.equal(p+".percent", pr.Percent, "100·preferred/judgments", 100*float64(pr.Preferred)/float64(pr.Judgments))
		}
		v.count(p+".workers", pr.Workers)
		v.count(p+".excluded_workers", pr.ExcludedWorkers)
		v.count(p+".questions", pr.Questions)
	}
	if len(v.errs) == 0 {
		return nil
	}
	return &InvalidError{Name: name, Problems: v.errs}
}

// InvalidError is Validate's error: the document's name and every
// inconsistency found in it.
type InvalidError struct {
	Name     string
	Problems []string
}

func (e *InvalidError) Error() string {
	msg := fmt.Sprintf("results: %s contradicts itself: ", e.Name)
	for i, p := range e.Problems {
		if i > 0 {
			msg += "; "
		}
		msg += p
	}
	return msg
}

// ErrInvalid matches every *InvalidError with errors.Is.
var ErrInvalid = errors.New("results: inconsistent document")

// Is reports whether target is ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

type validator struct{ errs []string }

func (v *validator) add(format string, args ...any) {
	v.errs = append(v.errs, fmt.Sprintf(format, args...))
}

// num reports a non-finite or absurd value; it returns whether x is usable.
func (v *validator) num(key string, x float64) bool {
	if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > absurd {
		v.add("%s is %v", key, x)
		return false
	}
	return true
}

func (v *validator) nonNeg(key string, x float64) {
	if v.num(key, x) && x < 0 {
		v.add("%s %v is negative", key, x)
	}
}

func (v *validator) count(key string, n int) {
	if n < 0 {
		v.add("%s %d is negative", key, n)
	}
}

// all checks every value of x: finite, not absurd, at least lo. It reports
// the first bad one only.
func (v *validator) all(key string, x []float64, lo float64) {
	for i, e := range x {
		if !v.num(fmt.Sprintf("%s[%d]", key, i), e) {
			return
		}
		if e < lo {
			v.add("%s[%d] = %v is below %v", key, i, e, lo)
			return
		}
	}
}

func (v *validator) interval(key string, ci []float64) {
	if v.num(key+"[0]", ci[0]) && v.num(key+"[1]", ci[1]) && ci[0] > ci[1] {
		v.add("%s [%v, %v] is reversed", key, ci[0], ci[1])
	}
}

func (v *validator) ptrInterval(key string, ci *[2]float64) {
	if ci != nil {
		v.interval(key, ci[:])
	}
}

func (v *validator) equal(ka string, a float64, kb string, b float64) {
	if math.IsNaN(a) || math.IsNaN(b) || math.IsInf(b, 0) {
		return // reported by num
	}
	if math.Abs(a-b) > consistTol*math.Max(1, math.Max(math.Abs(a), math.Abs(b))) {
		v.add("%s %v differs from %s %v", ka, a, kb, b)
	}
}

// seeds checks a SeedRuns: distinct seeds, a value per seed for each
// quantity, and the mean and sd those values give.
func (v *validator) seeds(r *SeedRuns) {
	if len(r.Seeds) == 0 {
		v.add("seeds.seeds is empty")
		return
	}
	seen := map[int64]bool{}
	for _, s := range r.Seeds {
		if seen[s] {
			v.add("seeds.seeds names seed %d twice", s)
		}
		seen[s] = true
	}
	for i, q := range r.Quantities {
		k := fmt.Sprintf("seeds.quantities[%d] (%s)", i, q.Name)
		if q.Better != 1 && q.Better != -1 {
			v.add("%s.better is %d, want 1 or -1", k, q.Better)
		}
		if len(q.Values) != len(r.Seeds) {
			v.add("%s has %d values for %d seeds", k, len(q.Values), len(r.Seeds))
			continue
		}
		v.all(k+".values", q.Values, math.Inf(-1))
		v.equal(k+".mean", q.Mean, k+"'s values' mean", mean(q.Values))
		switch {
		case len(q.Values) == 1 && q.SD != nil:
			v.add("%s.sd is set for one seed", k)
		case len(q.Values) > 1 && q.SD == nil:
			v.add("%s.sd is missing", k)
		case q.SD != nil:
			v.equal(k+".sd", *q.SD, k+"'s values' sd", sampleSD(q.Values))
		}
	}
}

// sampleSD is the sample standard deviation of x (n-1 in the denominator;
// 0 for fewer than two values), accumulated about the mean: metrics.Std,
// which this package does not import (as popStd is metrics.PopulationStd).
func sampleSD(x []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	m := mean(x)
	var s float64
	for _, e := range x {
		s += (e - m) * (e - m)
	}
	return math.Sqrt(s / float64(len(x)-1))
}

func (v *validator) logExp(key string, x, ex *float64) {
	if x != nil {
		v.num(key, *x)
	}
	if ex != nil {
		v.num(key+"_exp", *ex)
	}
	if x != nil && ex != nil && !math.IsNaN(*x) && math.Abs(*x) <= absurd {
		v.equal(key+"_exp", *ex, "exp("+key+")", math.Exp(*x))
	}
}

func mean(x []float64) float64 {
	var s float64
	for _, e := range x {
		s += e
	}
	return s / float64(len(x))
}

func popStd(x []float64) float64 {
	m := mean(x)
	var s float64
	for _, e := range x {
		s += (e - m) * (e - m)
	}
	return math.Sqrt(s / float64(len(x)))
}
