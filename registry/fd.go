package registry

import (
	"fmt"
	"strings"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/table"
	"github.com/munit-eval/munit-eval/warning"
)

// Keys of the Fréchet distances in feature spaces other than FID's pool
// features (docs/metrics.md).
const (
	// KeyFD is the Fréchet distance in any features model's space (FD_DINOv2
	// with a DINOv2 export, Stein et al. 2023).
	KeyFD = "fd"
	// KeySFID is sFID, the Fréchet distance of the FID Inception's spatial
	// output (the ADM evaluator's mixed_6/conv, first 7 channels).
	KeySFID = "sfid"
)

// FD is the results fragment of fd and sfid (results.Metrics.Extra under
// their keys): FID's fields (value, the jackknife interval for its
// expectation, the bias-corrected value and population interval, counts),
// and the features model that defines the space.
type FD struct {
	results.FID
	// Model names the features model (its exported architecture, else its
	// file name without .onnx), Preprocess the preprocessing inside it
	// (munit_eval.preprocess: dgm-eval or torch-fidelity for DINOv2).
	Model      string `json:"model,omitempty"`
	Preprocess string `json:"preprocess,omitempty"`
}

// TableFrechet holds FD and sFID.
var TableFrechet = &Table{Name: "frechet", Title: "Fréchet distances in other feature spaces (FD, sFID)",
	Note: func(View) string {
		return "FD and sFID: lower is better; the Fréchet distance of FID in the named features model's space (FD) and in the Inception's spatial features (sFID)."
	}}

func init() {
	for _, key := range []string{KeyFD, KeySFID} {
		title, output := "FD", ""
		if key == KeySFID {
			title, output = "sFID", OutputSpatial
		}
		col := Column{Header: title, Better: -1, Decimals: 2, Cell: func(d *results.Document, _ View) table.Cell {
			if f, ok := fdOf(d, key); ok {
				return table.Value(f.Value, f.CI95)
			}
			return table.Cell{}
		}}
		if key == KeyFD {
			// The header names the space: FD (dinov2_vitl14).
			col.Model, col.ModelKind = func(d *results.Document) string { f, _ := fdOf(d, key); return f.Model }, "features"
		}
		Register(&Entry{Key: key, Title: title, Needs: NeedFeatures | NeedReal, PerSample: true, Output: output, Extra: (*FD)(nil), Stats: key == KeyFD,
			Compute: computeFrechet(key), Table: TableFrechet, Columns: []Column{col},
			Protocol: func(d *results.Document) string {
				f, ok := fdOf(d, key)
				if !ok {
					return ""
				}
				s := fmt.Sprintf("%s between %d samples and %d real images (%d features", title, f.NumSamples, f.NumReal, f.FeatureDim)
				if f.Model != "" {
					s += " of " + f.Model
				}
				if f.Preprocess != "" {
					s += ", " + f.Preprocess + " preprocessing"
				}
				s += ")"
				if f.CI95 != nil {
					s += " with a 95% jackknife interval for the expectation of the value shown at these counts"
				}
				return s
			},
			Details: []Detail{
				{Header: "samples", Text: fdText(key, func(f FD) string { return count(f.NumSamples) })},
				{Header: "real", Text: fdText(key, func(f FD) string { return count(f.NumReal) })},
				{Header: "features", Text: fdText(key, func(f FD) string { return f.Model })},
				{Header: title, Text: fdText(key, func(f FD) string { return f4(f.Value) })},
				{Header: "95% CI", Interval: true, Text: fdText(key, func(f FD) string { return ci4(f.CI95) })},
			},
			Compare: []Quantity{{Name: key, Better: -1, By: ByStdErr, TestName: "jackknife-welch", Get: func(d *results.Document) (Value, bool) {
				f, ok := fdOf(d, key)
				return Value{V: f.Value, CI: f.CI95, StdErr: f.StdErr, Groups: f.Groups, Inputs: d.Protocol.NumInputs}, ok
			}}},
			// Values in two spaces are not comparable: the gate refuses
			// documents whose features model or counts differ.
			Comparable: func(d *results.Document) []Field {
				f, ok := fdOf(d, key)
				if !ok {
					return nil
				}
				return []Field{{key + ".model", f.Model}, {key + ".num_samples", f.NumSamples}, {key + ".num_real", f.NumReal}, {key + ".feature_dim", f.FeatureDim}}
			},
		})
	}
}

// fdOf reads a document's fd or sfid fragment.
func fdOf(d *results.Document, key string) (FD, bool) {
	var f FD
	ok, err := d.Metrics.GetExtra(key, &f)
	return f, ok && err == nil
}

// fdText is a detail of a document's fd or sfid, "" without one.
func fdText(key string, f func(FD) string) func(*results.Document) string {
	return func(d *results.Document) string {
		if x, ok := fdOf(d, key); ok {
			return f(x)
		}
		return ""
	}
}

// computeFrechet is FID's computation (FIDKID: the plug-in value, the
// jackknife interval as protocol.fid_interval asks, the singular-covariance
// warning) on the features the entry reads, recorded under key; fd also
// takes real statistics (a .npz of fid-stats made with the same features
// model), sfid needs the real images' spatial features.
func computeFrechet(key string) func(in *Inputs, m *results.Metrics) ([]warning.Warning, error) {
	return func(in *Inputs, m *results.Metrics) ([]warning.Warning, error) {
		f := FD{Model: in.FeatureModel, Preprocess: in.FeaturePreprocess}
		if in.RealStats != nil {
			if key == KeySFID {
				return noRealFeatures(key), nil
			}
			v, err := fidToStats(in.Features, in.RealStats)
			if err != nil {
				return nil, err
			}
			f.FID = *v
			return nil, m.SetExtra(key, f)
		}
		var fm results.Metrics
		ws, err := FIDKID(in.Features, in.RealFeatures, in.distanceOptions(true, false), &fm)
		if err != nil {
			return nil, err
		}
		for i := range ws {
			if ws[i].Subject == metrics.SubjectFID {
				ws[i].Subject = key
			}
			ws[i].Detail = replaceFID(ws[i].Detail, key)
		}
		if meth := fm.IntervalMethods[results.KeyFID]; meth != "" {
			m.IntervalMethods = mergeMethod(m.IntervalMethods, key, meth)
		}
		f.FID = *fm.FID
		return ws, m.SetExtra(key, f)
	}
}

// replaceFID names the metric in a warning FIDKID wrote about FID.
func replaceFID(detail, key string) string {
	if key == KeySFID {
		return strings.ReplaceAll(detail, "FID", "sFID")
	}
	return strings.ReplaceAll(detail, "FID", "FD")
}
