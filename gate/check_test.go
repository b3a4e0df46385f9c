package gate

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/results"
)

// pairOf returns the golden MUNIT pair with the new document edited by f.
func pairOf(t *testing.T, f func(base, new *results.Document)) *Set {
	t.Helper()
	g := goldenSet()
	p := g.Pairs[1]
	base, new := clone(t, p.Base.Doc), clone(t, p.New.Doc)
	f(base, new)
	return &Set{Pairs: []Pair{{Doc{p.Base.Path, base}, Doc{p.New.Path, new}}}}
}

// TestCheckMissing: a metric of the baseline that the new results lack
// fails check (issue 20 item 7: today "0 regressed", exit 0). Each case
// names what must be listed.
func TestCheckMissing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(b, n *results.Document)
		metric string
	}{
		{"kid", func(b, n *results.Document) { n.Metrics.KID = nil }, results.KeyKID},
		{"fid", func(b, n *results.Document) { n.Metrics.FID = nil }, results.KeyFID},
		{"lpips", func(b, n *results.Document) { n.Metrics.LPIPSDiversity = nil }, results.KeyLPIPSDiversity},
		{"is and is_exp", func(b, n *results.Document) {
			n.Metrics.IS, n.Metrics.ISExp, n.Metrics.ISCI95, n.Metrics.ISBootstrap = nil, nil, nil, nil
		}, results.KeyIS},
		{"AMT preference", func(b, n *results.Document) { n.Metrics.Preference = nil }, results.KeyPreference},
		{"one preference baseline", func(b, n *results.Document) {
			b.Metrics.Preference["UNIT"] = results.Preference{Percent: 25, Wilson: [2]float64{20, 30}, Judgments: 400, Preferred: 100, Workers: 20}
		}, results.KeyPreference},
		{"everything", func(b, n *results.Document) { n.Metrics = results.Metrics{} }, results.KeyLPIPSDiversity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			_, err := Check(pairOf(t, tc.edit), o)
			var me *MissingError
			if !errors.As(err, &me) || me.Missing[0].Metric != tc.metric || !strings.Contains(err.Error(), "missing") {
				t.Fatalf("Check: %v, want a *MissingError listing %s first", err, tc.metric)
			}
			o.AllowMissing = true
			r, err := Check(pairOf(t, tc.edit), o)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Failed() || len(r.Missing) == 0 || r.Missing[0].Metric != tc.metric {
				t.Fatalf("AllowMissing: failed %v, missing %v: want a failure listing %s", r.Failed(), r.Missing, tc.metric)
			}
		})
	}
	// A metric only in the new results is not missing.
	r, err := Check(pairOf(t, func(b, n *results.Document) { b.Metrics.KID = nil }), DefaultOptions())
	if err != nil || len(r.Missing) != 0 {
		t.Fatalf("new-only metric: %v, missing %v", err, r)
	}
}

// TestCheckValidates: self-contradicting documents are bad input (issue 20
// item 8: today compared, "unchanged").
func TestCheckValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(n *results.Document)
		want string
	}{
		{"per_input_mean of 3 for 50 inputs", func(n *results.Document) {
			n.Metrics.LPIPSDiversity.PerInputMean = n.Metrics.LPIPSDiversity.PerInputMean[:3]
		}, "per_input_mean has 3 values for num_inputs 50"},
		{"negative std", func(n *results.Document) { n.Metrics.LPIPSDiversity.Std = -0.1 }, "std -0.1 is negative"},
		{"reversed ci95", func(n *results.Document) {
			c := n.Metrics.LPIPSDiversity.CI95
			n.Metrics.LPIPSDiversity.CI95 = [2]float64{c[1], c[0]}
		}, "is reversed"},
		{"per-input means of 1e308", func(n *results.Document) {
			for i := range n.Metrics.LPIPSDiversity.PerInputMean {
				n.Metrics.LPIPSDiversity.PerInputMean[i] = 1e308
			}
		}, "per_input_mean[0] is 1e+308"},
		{"mean contradicts per-input means", func(n *results.Document) { n.Metrics.LPIPSDiversity.Mean += 0.1 }, "differs from lpips_diversity.per_input_mean's mean"},
		{"reversed FID interval", func(n *results.Document) { n.Metrics.FID.CI95 = &[2]float64{50, 40} }, "fid.ci95"},
		{"is_exp not exp(is)", func(n *results.Document) { *n.Metrics.ISExp += 1 }, "is_exp"},
		{"negative KID std", func(n *results.Document) { n.Metrics.KID.Std = -1 }, "kid.std -1 is negative"},
		{"KID values vs subsets", func(n *results.Document) { n.Metrics.KID.Values = n.Metrics.KID.Values[:5] }, "kid.values has 5 values for 20 subsets"},
		{"more preferred than judgments", func(n *results.Document) {
			p := n.Metrics.Preference["CycleGAN"]
			p.Preferred = p.Judgments + 1
			n.Metrics.Preference["CycleGAN"] = p
		}, "judgments preferred"},
		{"infinite FID", func(n *results.Document) { n.Metrics.FID.Value = math.Inf(1) }, "fid.value is +Inf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Check(pairOf(t, func(_, n *results.Document) { tc.edit(n) }), DefaultOptions())
			if !errors.Is(err, results.ErrInvalid) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "out/munit.json") {
				t.Fatalf("Check: %v, want an invalid-document error naming out/munit.json and %q", err, tc.want)
			}
		})
	}
}

// TestFIDJackknifeTest: documents with FID's jackknife standard errors are
// compared by Welch's test on them: se = sqrt(1² + 1²), df = 98 (two equal
// variances over 50 units), so Δ = 5 gives t = 3.54, p = 6.2318e-4 (scipy:
// 2·t.sf(5/sqrt(2), 98) = 6.23e-4), and Δ = 1 is not significant.
func TestFIDJackknifeTest(t *testing.T) {
	for _, tc := range []struct {
		delta float64
		want  Verdict
	}{{5, Regressed}, {1, Unchanged}, {-5, Improved}} {
		w := defaultWorld()
		base, new := w.doc(1, 2), w.doc(1, 3)
		base.Metrics.FID = &results.FID{Value: 40, StdErr: 1, Groups: 50}
		new.Metrics.FID = &results.FID{Value: 40 + tc.delta, StdErr: 1, Groups: 50}
		o := DefaultOptions()
		cmps, _ := compare(t, base, new, o)
		c := find(t, cmps, results.KeyFID)
		if c.Test != TestJackknife || c.Verdict != tc.want {
			t.Errorf("Δ %v: test %s verdict %s, want %s %s", tc.delta, c.Test, c.Verdict, TestJackknife, tc.want)
		}
		if tc.delta == 5 && (c.P == nil || math.Abs(*c.P-6.231769922709286e-4) > 1e-12) {
			t.Errorf("Δ 5: p %v, want 6.2318e-4", *c.P)
		}
	}
}
