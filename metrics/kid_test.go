package metrics

import (
	"slices"
	"strings"
	"testing"
)

func TestKIDHandComputed(t *testing.T) {
	// D = 1, k(a, b) = (ab + 1)³; x = {1, 2}, y = {0, 1}, m = 2 (each subset
	// is the whole set): Σ_{i≠j} k(x) = 2·27, Σ_{i≠j} k(y) = 2·1,
	// Σ k(x, y) = 1 + 8 + 1 + 27 = 37, so MMD² = 54/2 + 2/2 − 2·37/4 = 9.5.
	x := [][]float64{{1}, {2}}
	y := [][]float64{{0}, {1}}
	res, err := KID(x, y, KIDOptions{Subsets: 5, SubsetSize: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !near(res.Mean, 9.5, 1e-12) || !near(res.Std, 0, 1e-12) || len(res.Values) != 5 {
		t.Errorf("KID = %v ± %v (%v), want 9.5 ± 0", res.Mean, res.Std, res.Values)
	}
	// Default subset size 1000 is clipped to 2, with a warning.
	res, err = KID(x, y, KIDOptions{Subsets: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.SubsetSize != 2 || len(res.Warnings) != 1 || !near(res.Mean, 9.5, 1e-12) {
		t.Errorf("clipped: %+v", res)
	}
}

func TestKIDDistributions(t *testing.T) {
	const d = 16
	x := randomFeatures(1, 400, d, 0)
	same := randomFeatures(2, 400, d, 0)
	shifted := randomFeatures(3, 400, d, 0.5)
	opts := KIDOptions{Subsets: 20, SubsetSize: 200, Seed: 9}
	s, err := KID(x, same, opts)
	if err != nil {
		t.Fatal(err)
	}
	sh, err := KID(x, shifted, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("same: %.4g ± %.3g; shifted: %.4g ± %.3g", s.Mean, s.Std, sh.Mean, sh.Std)
	// The unbiased estimator is centred on 0 for equal distributions; the
	// shifted set's MMD² is many subset standard deviations above it.
	if !(abs(s.Mean) < 3*s.Std+1e-3) {
		t.Errorf("same distribution: KID %v ± %v, want ≈ 0", s.Mean, s.Std)
	}
	if !(sh.Mean > 10*s.Std && sh.Mean > s.Mean+3*sh.Std) {
		t.Errorf("shifted: KID %v ± %v not clearly above same %v ± %v", sh.Mean, sh.Std, s.Mean, s.Std)
	}
	// The first subset of a run is the same whatever the number of
	// subsets; with one subset KID multiplies the subset's rows, with 20
	// it indexes the whole sets' Gram matrices: both must agree.
	one, err := KID(x, same, KIDOptions{Subsets: 1, SubsetSize: 200, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if !near(one.Values[0], s.Values[0], 1e-9*abs(s.Values[0])+1e-12) {
		t.Errorf("per-subset product %v, Gram matrices %v", one.Values[0], s.Values[0])
	}
	again, _ := KID(x, same, opts)
	if !slices.Equal(again.Values, s.Values) {
		t.Error("same seed gave different subsets")
	}
	for _, bad := range []struct {
		x, y [][]float64
		opts KIDOptions
		want string
	}{
		{x, [][]float64{{1, 2}, {3, 4}}, opts, "dimensions differ"},
		{x, [][]float64{{1}}, opts, "need at least 2"},
		{x, same, KIDOptions{SubsetSize: 1}, "at least 2"},
	} {
		if _, err := KID(bad.x, bad.y, bad.opts); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("error %v, want %q", err, bad.want)
		}
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// TestKIDSubsetsCannotVary: subsets as large as both sets are all the same
// sets, so their std is 0 by construction; KID says so, and not when the
// subsets can differ.
func TestKIDSubsetsCannotVary(t *testing.T) {
	x := randomFeatures(1, 40, 8, 0)
	y := randomFeatures(2, 40, 8, 0.1)
	r, err := KID(x, y, KIDOptions{Subsets: 10, SubsetSize: 40, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != 1 || r.Warnings[0].Code != CodeNoVariation || r.Std > 1e-12 {
		t.Fatalf("whole-set subsets: std %v, warnings %+v", r.Std, r.Warnings)
	}
	r, err = KID(x, y, KIDOptions{Subsets: 10, SubsetSize: 20, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != 0 || r.Std == 0 {
		t.Fatalf("subsets of 20 of 40: std %v, warnings %+v", r.Std, r.Warnings)
	}
}
