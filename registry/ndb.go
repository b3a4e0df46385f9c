package registry

import (
	"cmp"
	"fmt"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/table"
	"github.com/munit-eval/munit-eval/warning"
)

// CodeNDBNoRealRow: half of the real set holds fewer samples than NDB's
// bins, so the real-data row has no NDB.
const CodeNDBNoRealRow = "ndb-no-real-row"

// KeyNDB is NDB and JSD, the number of statistically different bins and
// the Jensen–Shannon divergence of bin proportions (docs/metrics.md).
const KeyNDB = "ndb"

// NDB is the results fragment of NDB (results.Metrics.Extra["ndb"]): NDB
// of Bins k-means bins of the real samples (gans-n-gmms utils/ndb.py),
// NDBK = NDB/Bins, JS the Jensen–Shannon divergence (nats) of the real
// and sample bin proportions, Different the different bins (largest real
// bin first), at significance level Alpha; Whiten, UsedDims and
// FeatureDim say how the bins were made, BinsFile names bins read from a
// file (then NumReal is the count they were made from).
type NDB struct {
	NDB        int     `json:"ndb"`
	NDBK       float64 `json:"ndb_k"`
	JS         float64 `json:"js"`
	Bins       int     `json:"bins"`
	Alpha      float64 `json:"alpha"`
	Whiten     bool    `json:"whiten"`
	Different  []int   `json:"different_bins,omitempty"`
	NumSamples int     `json:"num_samples"`
	NumReal    int     `json:"num_real"`
	FeatureDim int     `json:"feature_dim"`
	UsedDims   int     `json:"used_dims"`
	BinsFile   string  `json:"bins_file,omitempty"`
	// Source says what was binned when the ndb command measured it
	// ("pixels 32x32", "features of M.onnx", "features Q.npy").
	Source string `json:"source,omitempty"`
}

// TableNDB holds NDB.
var TableNDB = &Table{Name: "ndb", Title: "Number of statistically different bins (NDB) and JSD",
	Note: func(View) string {
		return "NDB, NDB/K and JSD: lower is better; k-means bins of the real samples, two-proportion z-test per bin (Richardson & Weiss 2018)."
	}}

func init() {
	get := func(f func(n NDB) float64) func(d *results.Document) (Value, bool) {
		return func(d *results.Document) (Value, bool) {
			n, ok := ndbOf(d)
			return Value{V: f(n)}, ok
		}
	}
	Register(&Entry{Key: KeyNDB, Title: "NDB", Needs: NeedFeatures | NeedReal, PerSample: true, Extra: (*NDB)(nil),
		Compute: computeNDB, Table: TableNDB,
		Columns: []Column{
			{Header: "NDB", Better: -1, Decimals: 0, Cell: ndbCell(func(n NDB) float64 { return float64(n.NDB) })},
			{Header: "NDB/K", Better: -1, Decimals: 3, Cell: ndbCell(func(n NDB) float64 { return n.NDBK })},
			{Header: "JSD", Better: -1, Decimals: 4, Cell: ndbCell(func(n NDB) float64 { return n.JS })},
		},
		Protocol: func(d *results.Document) string {
			n, ok := ndbOf(d)
			if !ok {
				return ""
			}
			w := ""
			if n.Whiten {
				w = ", whitened"
			}
			return fmt.Sprintf("NDB of %d samples in K = %d bins of %d real samples (%d of %d dimensions%s), α = %g", n.NumSamples, n.Bins, n.NumReal, n.UsedDims, n.FeatureDim, w, n.Alpha)
		},
		Details: []Detail{
			{Header: "samples", Text: ndbText(func(n NDB) string { return count(n.NumSamples) })},
			{Header: "K", Text: ndbText(func(n NDB) string { return count(n.Bins) })},
			{Header: "NDB", Text: ndbText(func(n NDB) string { return fmt.Sprint(n.NDB) })}, // 0 shown: count() leaves 0 blank
			{Header: "NDB/K", Text: ndbText(func(n NDB) string { return fmt.Sprintf("%.3f", n.NDBK) })},
			{Header: "JSD", Text: ndbText(func(n NDB) string { return f4(n.JS) })},
		},
		// NDB has no interval: check compares the values as they are.
		Compare: []Quantity{
			{Name: "ndb_k", Better: -1, By: ByIntervals, Get: get(func(n NDB) float64 { return n.NDBK })},
			{Name: "jsd", Better: -1, By: ByIntervals, Get: get(func(n NDB) float64 { return n.JS })},
		},
		Comparable: func(d *results.Document) []Field {
			if n, ok := ndbOf(d); ok {
				return []Field{{"ndb.bins", n.Bins}, {"ndb.alpha", n.Alpha}, {"ndb.whiten", n.Whiten}, {"ndb.feature_dim", n.FeatureDim}}
			}
			return nil
		},
	})
}

// ndbOf reads a document's NDB fragment.
func ndbOf(d *results.Document) (NDB, bool) {
	var n NDB
	ok, err := d.Metrics.GetExtra(KeyNDB, &n)
	return n, ok && err == nil
}

func ndbCell(f func(n NDB) float64) func(*results.Document, View) table.Cell {
	return func(d *results.Document, _ View) table.Cell {
		if n, ok := ndbOf(d); ok {
			return table.Value(f(n), nil)
		}
		return table.Cell{}
	}
}

// ndbText is a detail of a document's NDB, "" without one.
func ndbText(f func(n NDB) string) func(*results.Document) string {
	return func(d *results.Document) string {
		if n, ok := ndbOf(d); ok {
			return f(n)
		}
		return ""
	}
}

// computeNDB is NDB of the samples' features against bins made from the
// real features (metrics.NewNDBBins with the protocol's bins, whitening
// and seed), or against the bins given in Inputs.NDBBins.
func computeNDB(in *Inputs, m *results.Metrics) ([]warning.Warning, error) {
	p := in.Params
	bins, file := in.NDBBins, in.NDBBinsFile
	if bins == nil {
		if in.RealStats != nil {
			return noRealFeatures(KeyNDB), nil
		}
		if k := cmp.Or(p.NDBBins, metrics.DefaultNDBBins); in.RealRow && len(in.RealFeatures) < k {
			return []warning.Warning{warning.New(CodeNDBNoRealRow, KeyNDB, "no NDB real-data row: half of the real samples is %d, fewer than the %d bins", len(in.RealFeatures), k)}, nil
		}
		var err error
		if bins, err = metrics.NewNDBBins(in.RealFeatures, metrics.NDBOptions{Bins: p.NDBBins, Whiten: p.NDBWhiten, Seed: uint64(p.Seed)}); err != nil {
			return nil, err
		}
	}
	alpha := p.NDBAlpha
	if alpha == 0 {
		alpha = metrics.DefaultNDBAlpha
	}
	r, err := bins.Evaluate(in.Features, alpha)
	if err != nil {
		return nil, err
	}
	n := NDB{NDB: r.NDB, NDBK: r.NDBK, JS: r.JS, Bins: r.K, Alpha: alpha, Whiten: p.NDBWhiten, NumSamples: r.N, NumReal: bins.N,
		FeatureDim: len(bins.Centers[0]), UsedDims: len(bins.DIndices), BinsFile: file}
	if file != "" {
		// The file's whitening, not the flag's.
		n.Whiten = false
		for _, s := range bins.Std {
			n.Whiten = n.Whiten || s != 1
		}
	}
	for c, d := range r.Different {
		if d {
			n.Different = append(n.Different, c)
		}
	}
	return nil, m.SetExtra(KeyNDB, n)
}
