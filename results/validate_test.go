package results

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// consistent returns a document whose every summary agrees with its values.
func consistent() *Document {
	d := New("M", "ds")
	m := &d.Metrics
	m.LPIPSDiversity = &Diversity{Mean: 0.2, Std: 0.05, Stderr: 0.01, CI95: [2]float64{0.18, 0.22}, N: 6, NumInputs: 3,
		PairsPerInput: 2, PerInputMean: []float64{0.1, 0.2, 0.3}}
	m.IS, m.ISExp = Float(0.5), Float(math.Exp(0.5))
	m.CIS, m.CISExp = Float(0.3), Float(math.Exp(0.3))
	m.CISPerInput = []float64{0.2, 0.3, 0.4}
	m.NumInputs, m.Classes = Int(3), []string{"a", "b", "c"}
	m.ISSplits = &ISSplits{Splits: 2, Mean: 1.5, Std: 0.5, Values: []float64{1, 2}}
	m.FID = &FID{Value: 3, CI95: &[2]float64{2, 4}, StdErr: 0.5, Groups: 3}
	m.KID = &KID{Mean: 0.02, Std: 0.01, Subsets: 2, SubsetSize: 2, Values: []float64{0.01, 0.03}}
	m.Preference = map[string]Preference{"B": {Percent: 25, Wilson: [2]float64{20, 30}, Judgments: 40, Preferred: 10}}
	return d
}

func TestValidate(t *testing.T) {
	if err := Validate("ok.json", consistent()); err != nil {
		t.Fatalf("consistent document: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(m *Metrics)
		want string
	}{
		{"short per_input_mean", func(m *Metrics) { m.LPIPSDiversity.PerInputMean = m.LPIPSDiversity.PerInputMean[:1] }, "per_input_mean has 1 values for num_inputs 3"},
		{"NaN std", func(m *Metrics) { m.LPIPSDiversity.Std = math.NaN() }, "lpips_diversity.std is NaN"},
		{"reversed wilson", func(m *Metrics) {
			m.Preference["B"] = Preference{Percent: 25, Wilson: [2]float64{30, 20}, Judgments: 40, Preferred: 10}
		}, "wilson [30, 20] is reversed"},
		{"percent vs counts", func(m *Metrics) {
			m.Preference["B"] = Preference{Percent: 50, Wilson: [2]float64{20, 30}, Judgments: 40, Preferred: 10}
		}, "percent 50 differs"},
		{"IS above ln C", func(m *Metrics) { m.IS, m.ISExp = Float(2), Float(math.Exp(2)) }, "is 2 outside [0, ln 3"},
		{"split below 1", func(m *Metrics) { m.ISSplits.Values = []float64{0.5, 2.5} }, "is_splits.values[0] = 0.5 is below"},
		{"split std", func(m *Metrics) { m.ISSplits.Std = 0.7 }, "is_splits.std 0.7 differs"},
		{"cis mean", func(m *Metrics) { m.CIS, m.CISExp = Float(0.35), Float(math.Exp(0.35)) }, "cis 0.35 differs from cis_per_input's mean"},
		{"absurd fid", func(m *Metrics) { m.FID.Value = 1e300 }, "fid.value is 1e+300"},
		{"negative fid stderr", func(m *Metrics) { m.FID.StdErr = -1 }, "fid.stderr -1 is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := consistent()
			tc.edit(&d.Metrics)
			err := Validate("bad.json", d)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bad.json") {
				t.Fatalf("Validate: %v, want an error naming bad.json and %q", err, tc.want)
			}
		})
	}
}
