package registry

import (
	"fmt"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/table"
	"github.com/munit-eval/munit-eval/warning"
)

// KeyCMMD is CMMD, the CLIP maximum mean discrepancy (docs/metrics.md).
const KeyCMMD = "cmmd"

// CMMD is the results fragment of CMMD (results.Metrics.Extra["cmmd"]).
// Value is the plug-in CMMD (× 1000, as cmmd-pytorch's distance.py); CI95
// is the 95% interval shown beside it, for its expectation at these
// counts (Value ± z times the jackknife standard error, clamped at 0);
// BiasCorrected and PopulationCI95 the jackknife estimate and interval for
// the population value (metrics.CMMDJackknife), absent with fewer than 3
// input groups.
type CMMD struct {
	Value          float64     `json:"value"`
	CI95           *[2]float64 `json:"ci95,omitempty"`
	BiasCorrected  *float64    `json:"bias_corrected,omitempty"`
	PopulationCI95 *[2]float64 `json:"population_ci95,omitempty"`
	StdErr         float64     `json:"stderr,omitempty"`
	Groups         int         `json:"groups,omitempty"`
	Sigma          float64     `json:"sigma"`
	NumSamples     int         `json:"num_samples"`
	NumReal        int         `json:"num_real"`
	FeatureDim     int         `json:"feature_dim"`
}

// TableCMMD holds CMMD.
var TableCMMD = &Table{Name: "cmmd", Title: "CLIP maximum mean discrepancy (CMMD)",
	Note: func(View) string {
		return "CMMD: lower is better; × 1000, Gaussian RBF kernel (σ = 10) on the features model's embeddings."
	}}

func init() {
	Register(&Entry{Key: KeyCMMD, Title: "CMMD", Needs: NeedFeatures | NeedReal, PerSample: true, Extra: (*CMMD)(nil),
		Compute: computeCMMD, Table: TableCMMD,
		Columns: []Column{{Header: "CMMD", Better: -1, Decimals: 3, Cell: func(d *results.Document, _ View) table.Cell {
			if c, ok := cmmdOf(d); ok {
				return table.Value(c.Value, c.CI95)
			}
			return table.Cell{}
		}}},
		Protocol: func(d *results.Document) string {
			c, ok := cmmdOf(d)
			if !ok {
				return ""
			}
			s := fmt.Sprintf("CMMD between %d samples and %d real images (%d-dimensional embeddings, σ = %g)", c.NumSamples, c.NumReal, c.FeatureDim, c.Sigma)
			if c.CI95 != nil {
				s += " with a 95% jackknife interval for the expectation of the value shown at these counts (the bias-corrected estimate and its interval for the population value are in the results document)"
			}
			return s
		},
		Details: []Detail{
			{Header: "samples", Text: cmmdText(func(c CMMD) string { return count(c.NumSamples) })},
			{Header: "real", Text: cmmdText(func(c CMMD) string { return count(c.NumReal) })},
			{Header: "CMMD", Text: cmmdText(func(c CMMD) string { return f4(c.Value) })},
			{Header: "95% CI", Text: cmmdText(func(c CMMD) string { return ci4(c.CI95) })},
		},
		Compare: []Quantity{{Name: KeyCMMD, Better: -1, By: ByStdErr, Get: func(d *results.Document) (Value, bool) {
			c, ok := cmmdOf(d)
			return Value{V: c.Value, CI: c.CI95, StdErr: c.StdErr, Groups: c.Groups, Inputs: d.Protocol.NumInputs}, ok
		}}},
	})
}

// cmmdOf reads a document's CMMD fragment.
func cmmdOf(d *results.Document) (CMMD, bool) {
	var c CMMD
	ok, err := d.Metrics.GetExtra(KeyCMMD, &c)
	return c, ok && err == nil
}

// cmmdText is a detail of a document's CMMD, "" without one.
func cmmdText(f func(c CMMD) string) func(*results.Document) string {
	return func(d *results.Document) string {
		if c, ok := cmmdOf(d); ok {
			return f(c)
		}
		return ""
	}
}

// computeCMMD is CMMD between the samples' and the real images'
// embeddings from the features model (a CLIP export for the paper's
// CMMD), with the jackknife over input groups where there are at least 3.
func computeCMMD(in *Inputs, m *results.Metrics) ([]warning.Warning, error) {
	if in.RealStats != nil {
		return noRealFeatures(KeyCMMD), nil
	}
	x, y := in.Features, in.RealFeatures
	v, err := metrics.CMMD(x, y, metrics.DefaultCMMDSigma)
	if err != nil {
		return nil, err
	}
	c := CMMD{Value: v, Sigma: metrics.DefaultCMMDSigma, NumSamples: len(x), NumReal: len(y), FeatureDim: len(x[0])}
	var ws []warning.Warning
	g := max(in.K, 1)
	if len(x)/g >= 3 && len(y) >= len(x)/g {
		iv, err := metrics.CMMDJackknife(x, g, y, metrics.DefaultCMMDSigma, 0.95)
		if err != nil {
			return nil, err
		}
		half := metrics.Z95 * iv.StdErr
		ci, pop := [2]float64{max(0, v-half), v + half}, iv.CI
		c.CI95, c.PopulationCI95, c.BiasCorrected = &ci, &pop, &iv.Corrected
		c.StdErr, c.Groups = iv.StdErr, iv.Groups
	} else {
		ws = append(ws, warning.New(CodeNoInterval, KeyCMMD, "no CMMD interval: %d sample groups and %d real images, need at least 3 groups and as many real images", len(x)/g, len(y)))
	}
	return ws, m.SetExtra(KeyCMMD, c)
}
