// Package registry holds the metrics as data: one Entry per metric, with
// what it needs gathered (pair distances, classifier logits, features, real
// features), how it is computed from them (pure float64 math over
// package metrics, into a results fragment plus typed warnings), and — for
// the readers of results — how tables and the report show it and how the
// regression gate compares it. The engine (package evaluate) gathers what the
// asked entries need and calls Compute; tables, the report, the gate and the
// metric index in docs/metrics.md iterate All. A new metric is one Entry
// registered here and nothing elsewhere: docs/architecture.md, "The metric
// registry".
package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/warning"
)

// Need is what a metric needs gathered before Compute runs (a bit set).
type Need uint

// The needs.
const (
	// NeedPairs: LPIPS distances of the protocol's sample pairs of each
	// input (Inputs.PairGroups, Inputs.Pairs).
	NeedPairs Need = 1 << iota
	// NeedLogits: classifier logits of the K samples of each input
	// (Inputs.Logits, Inputs.Classes).
	NeedLogits
	// NeedFeatures: the feature model's features of the samples
	// (Inputs.Features).
	NeedFeatures
	// NeedReal: the features of real images (Inputs.RealFeatures), or
	// published real statistics (Inputs.RealStats) where the entry accepts
	// them.
	NeedReal
)

// Params are the protocol values a computation reads (evaluate.Protocol
// fills them; their meaning and defaults are documented there).
type Params struct {
	Seed int64
	// Bootstrap is the number of resamples over inputs of the intervals.
	Bootstrap int
	// Splits and ContiguousSplits set the split Inception Score.
	Splits           int
	ContiguousSplits bool
	// FIDBootstrap > 0 (or AutoFIDBootstrap) asks for the FID interval.
	FIDBootstrap int
	// KIDSubsets and KIDSubsetSize set the KID estimate.
	KIDSubsets, KIDSubsetSize int
	// PRK and DCK are the neighbour counts of precision/recall and of
	// density/coverage.
	PRK, DCK int
	// NDBBins, NDBAlpha and NDBWhiten set NDB: the k-means bins K, the
	// z-test's significance level and the whitening (0: the defaults).
	NDBBins   int
	NDBAlpha  float64
	NDBWhiten bool
}

// Inputs are what the engine gathered for one method on one dataset; each
// entry reads the fields of its Needs.
type Inputs struct {
	Params Params
	// M inputs, K samples per input. A flat folder has no inputs: every
	// image is its own (K = 1) and Grouped is false.
	M, K    int
	Grouped bool
	// RealRow is set for the real-data row: the samples are the real
	// images themselves (for the features, one seeded half of them against
	// the other), each its own input.
	RealRow bool

	// PairGroups[i] holds input i's pair distances; Pairs lists every pair
	// (NeedPairs).
	PairGroups [][]float64
	Pairs      []results.Pair
	// Pairing and PairsPerInput name how the pairs were drawn, LPIPSNet
	// and LPIPSVersion the LPIPS model (NeedPairs).
	Pairing       string
	PairsPerInput int
	// Trials > 1 splits each input's pairs into that many equal blocks,
	// one per trial (Protocol.Trials).
	Trials                 int
	LPIPSNet, LPIPSVersion string

	// Logits is the C-order [M, K, C] logits array of the samples, and
	// Classes the classifier's class names (NeedLogits).
	Logits  []float64
	Classes []string

	// Features are the samples' features, M×K rows in input order
	// (NeedFeatures): the entry's Output of its features model.
	// FeatureModel names that model (its exported architecture, else its
	// file name) and FeaturePreprocess its munit_eval.preprocess.
	Features                        [][]float64
	FeatureModel, FeaturePreprocess string
	// RealFeatures are the real images' features; RealStats, when set,
	// replaces them with published statistics (NeedReal).
	RealFeatures [][]float64
	RealStats    *metrics.Gaussian
	// NDBBins, when set, are NDB's bins read from NDBBinsFile, used
	// instead of bins made from RealFeatures.
	NDBBins     *metrics.NDBBins
	NDBBinsFile string
}

// Entry is one metric.
type Entry struct {
	// Key is the metric's name in the evaluation file's metrics list, in
	// warnings' subject and in the CLI ("lpips", "is", "fid", ...).
	Key string
	// Title names the metric for people ("LPIPS diversity").
	Title string
	// Needs says what must be gathered first.
	Needs Need
	// PerSample is true when the metric scores every one of the K samples
	// of an input (IS, FID, KID, PRDC), false when it uses what its pairing
	// needs (LPIPS).
	PerSample bool
	// Default is true for the metrics an evaluation computes when it names
	// none.
	Default bool
	// Stats is true when the entry takes published real statistics (a .npz
	// of mu and sigma, Inputs.RealStats) in place of the real features: FID,
	// and FD with statistics of its own features model.
	Stats bool
	// Output is the features model's output the entry reads (NeedFeatures):
	// "" is the pool features ("features"), OutputSpatial sFID's spatial
	// features.
	Output string
	// Compute writes the metric's fragment into m from in, and returns the
	// warnings the reader must see.
	Compute func(in *Inputs, m *results.Metrics) ([]warning.Warning, error)
	// Present reports whether a document carries the metric (optional for
	// an Extra metric: its fragment is there).
	Present func(m *results.Metrics) bool
	// Extra, for a metric without a typed field in results.Metrics, is a
	// nil pointer to the type of its fragment ((*Toy)(nil)): the fragment
	// lives in Metrics.Extra under Key, and documents are checked against
	// the type when read (results.AllowExtra).
	Extra any

	// How the metric is shown. Table is the report's table its Columns
	// join (entries share a table by its Name); Protocol describes how a
	// document's value was measured, for the table's notes (methods with
	// the same description share a note); Details are the columns of the
	// metric commands' own tables, DetailNotes lines printed under them.
	Table       *Table
	Columns     []Column
	Protocol    func(d *results.Document) string
	Details     []Detail
	DetailNotes func(d *results.Document) []string

	// How the regression gate compares it: the quantities, and the fields
	// two documents must share for them to be comparable at all.
	Compare    []Quantity
	Comparable func(d *results.Document) []Field
}

var (
	mu      sync.RWMutex
	entries []*Entry
)

// Register adds an entry. Keys are unique; registering a key twice panics
// (a programming error, found by any test).
func Register(e *Entry) {
	mu.Lock()
	defer mu.Unlock()
	if e.Extra != nil && e.Present == nil {
		key := e.Key
		e.Present = func(m *results.Metrics) bool { _, ok := m.Extra[key]; return ok }
	}
	if e.Key == "" || e.Compute == nil || e.Present == nil {
		panic("registry: entry without key, Compute or Present")
	}
	for _, old := range entries {
		if old.Key == e.Key {
			panic("registry: metric " + e.Key + " registered twice")
		}
	}
	if e.Extra != nil {
		results.AllowExtra(e.Key, strictDecoder(e.Extra))
	}
	entries = append(entries, e)
}

// strictDecoder checks a fragment against the type proto points to: it
// must decode into it with no unknown field.
func strictDecoder(proto any) func(json.RawMessage) error {
	t := reflect.TypeOf(proto)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return func(raw json.RawMessage) error {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		return dec.Decode(reflect.New(t).Interface())
	}
}

// Unregister removes an entry (for tests that register a toy metric).
func Unregister(key string) {
	mu.Lock()
	defer mu.Unlock()
	entries = slices.DeleteFunc(entries, func(e *Entry) bool {
		if e.Key == key && e.Extra != nil {
			results.DisallowExtra(key)
		}
		return e.Key == key
	})
}

// All returns the entries in registration order (the order of tables and
// columns).
func All() []*Entry {
	mu.RLock()
	defer mu.RUnlock()
	return slices.Clone(entries)
}

// Lookup returns the entry of key, or nil.
func Lookup(key string) *Entry {
	mu.RLock()
	defer mu.RUnlock()
	for _, e := range entries {
		if e.Key == key {
			return e
		}
	}
	return nil
}

// Keys are the registered keys in order.
func Keys() []string {
	var out []string
	for _, e := range All() {
		out = append(out, e.Key)
	}
	return out
}

// Defaults are the keys computed when an evaluation names no metrics.
func Defaults() []string {
	var out []string
	for _, e := range All() {
		if e.Default {
			out = append(out, e.Key)
		}
	}
	return out
}

// Parse checks a list of metric keys against the registry.
func Parse(keys []string) ([]*Entry, error) {
	var out []*Entry
	for _, k := range keys {
		e := Lookup(k)
		if e == nil {
			return nil, fmt.Errorf("unknown metric %q (want %s)", k, strings.Join(Keys(), ", "))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// NeedsOf is the union of the needs of es.
func NeedsOf(es []*Entry) Need {
	var n Need
	for _, e := range es {
		n |= e.Needs
	}
	return n
}

// ShortCodes are the warning codes that say a metric's interval may cover
// less than 95% in the regime of the data (docs/coverage.md): tables mark
// the intervals of documents that carry one about the metric.
var ShortCodes = map[string]bool{
	metrics.CodeFewInputs:            true,
	metrics.CodeUndersampled:         true,
	metrics.CodeUndersampledMarginal: true,
}

// OutputSpatial is the spatial output of the FID Inception export (sFID's
// features), an Entry's Output.
const OutputSpatial = "spatial"

// Has reports whether n includes want.
func (n Need) Has(want Need) bool { return n&want == want }
