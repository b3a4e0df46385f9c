package registry

import "github.com/munit-eval/munit-eval/results"

// Quantity is one number the regression gate (`munit-eval check`)
// compares between a baseline document and a new one.
type Quantity struct {
	// Name is the quantity's name in check's table and in --tolerance,
	// --higher-is-better and --lower-is-better ("lpips_diversity", "fid").
	// Names are unique across the registry.
	Name string
	// Better is +1 when higher is better, -1 when lower is better.
	Better int
	// Follows names the quantity whose verdict this one copies (is_exp
	// follows is: exp is monotone); it has no test, tolerance or direction
	// of its own.
	Follows string
	// By is how the quantity's uncertainty is stored, and so which test
	// check runs on it.
	By Uncertainty
	// Samples names Value.Samples in notes ("per-input means").
	Samples string
	// RankTest lets check's --diversity-test mann-whitney replace Welch's
	// t on the samples.
	RankTest bool
	// TestName, when set, names the test of By in check's table (FID's
	// "jackknife-welch"); the fallbacks keep their own names.
	TestName string
	// Get returns the quantity in a document, false when it lacks it.
	Get func(d *results.Document) (Value, bool)
}

// Uncertainty says what a quantity's uncertainty is stored as.
type Uncertainty int

// The kinds of uncertainty; each falls back to the stored intervals when
// a document lacks what its test needs.
const (
	// ByIntervals: only the stored 95% intervals (or nothing): two values
	// differ when their widened intervals do not overlap.
	ByIntervals Uncertainty = iota
	// BySamples: independent unit values whose mean is the value
	// (Value.Samples): Welch's t.
	BySamples
	// ByReplicates: bootstrap replicates over Value.Inputs units: Welch's t
	// with bootstrap standard errors.
	ByReplicates
	// ByStdErr: a standard error over Value.Groups units (Welch's t), or,
	// when either document lacks one, ByReplicates.
	ByStdErr
	// ByVariance: the value's variance (Value.Variance): a normal test.
	ByVariance
)

// Value is a quantity in one document with what its test needs.
type Value struct {
	V float64
	// CI is the document's 95% interval of V, nil when none is stored.
	CI *[2]float64
	// SD, when set, is the spread the report prints instead of an interval
	// (KID's standard deviation over subsets), so that check prints the
	// value the same way.
	SD *float64
	// Samples are BySamples' unit values.
	Samples []float64
	// Replicates are bootstrap replicates of the untransformed statistic
	// over Inputs resampled units (0: unknown); Transform, when set, maps
	// them to the quantity's scale (exp for is_exp).
	Replicates []float64
	Inputs     int
	Transform  func(float64) float64
	// StdErr is ByStdErr's standard error over Groups units.
	StdErr float64
	Groups int
	// Variance is ByVariance's variance of V (nil: not computable, and
	// Note says why) over N units.
	Variance *float64
	N        int
	// Note says anything unusual about where the value came from.
	Note string
}

// Field is one value two documents must share for their metric to be
// compared at all ("fid.num_real": 2000); check names every difference.
type Field struct {
	Name  string
	Value any
}
