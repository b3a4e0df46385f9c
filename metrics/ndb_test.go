package metrics

import (
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// blobs returns n rows of dimension d around c well-separated centers
// (center i at 10·e_i, noise σ = 0.3), the cluster of each row drawn
// uniformly from those in keep (all c when keep is nil).
func blobs(seed uint64, n, d, c int, keep []int) ([][]float64, []int) {
	r := newRand(seed)
	x, lab := make([][]float64, n), make([]int, n)
	for i := range x {
		k := r.IntN(c)
		if keep != nil {
			k = keep[r.IntN(len(keep))]
		}
		x[i], lab[i] = make([]float64, d), k
		for j := range x[i] {
			x[i][j] = 0.3 * r.NormFloat64()
		}
		x[i][k%d] += 10 * float64(1+k/d)
	}
	return x, lab
}

// TestKMeansPlanted: on well-separated blobs k-means recovers the planted
// partition exactly (every cluster one blob) and the inertia equals the
// sum of squared distances computed directly (tolerance 1e-9 relative,
// rounding of the Gemm expansion only).
func TestKMeansPlanted(t *testing.T) {
	x, lab := blobs(1, 600, 8, 6, nil)
	km, err := KMeans(x, 6, 0, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	of := map[int]int{}
	direct := 0.0
	for i, c := range km.Labels {
		if p, ok := of[lab[i]]; ok && p != c {
			t.Fatalf("blob %d split between clusters %d and %d", lab[i], p, c)
		}
		of[lab[i]] = c
		for j, v := range x[i] {
			e := v - km.Centers[c][j]
			direct += e * e
		}
	}
	if len(of) != 6 {
		t.Fatalf("%d clusters used, want 6", len(of))
	}
	if math.Abs(direct-km.Inertia) > 1e-9*direct {
		t.Errorf("inertia %v, direct sum %v", km.Inertia, direct)
	}
	again, _ := KMeans(x, 6, 0, 1, 3)
	if !slices.Equal(again.Labels, km.Labels) || again.Inertia != km.Inertia {
		t.Error("same seed, different clustering")
	}
}

func TestKMeansBadInput(t *testing.T) {
	x, _ := blobs(1, 10, 3, 2, nil)
	for _, c := range []struct {
		x    [][]float64
		k    int
		want string
	}{
		{x, 11, "10 rows for 11 clusters"},
		{append(slices.Clone(x), []float64{1, 2}), 3, "row 10 has 2 values"},
		{append(slices.Clone(x), []float64{1, math.NaN(), 3}), 3, "row 10, dimension 1 is NaN"},
	} {
		if _, err := KMeans(c.x, c.k, 0, 1, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

// TestKMeansDuplicateRows: fewer distinct rows than clusters leaves
// clusters empty without a panic or a NaN.
func TestKMeansDuplicateRows(t *testing.T) {
	x := [][]float64{{0, 0}, {0, 0}, {0, 0}, {1, 1}, {1, 1}}
	km, err := KMeans(x, 3, 0, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if km.Inertia != 0 || math.IsNaN(km.Inertia) {
		t.Errorf("inertia %v, want 0", km.Inertia)
	}
}

const sklearnKMeans = `
import json, sys
import numpy as np
from sklearn.cluster import KMeans
a = json.load(sys.stdin)
x = np.array(a["x"], dtype=np.float64)
km = KMeans(n_clusters=a["k"], max_iter=100, n_init=10, random_state=0).fit(x)
json.dump({"inertia": float(km.inertia_)}, sys.stdout)
`

// TestKMeansSklearn: the inertia is within 2% of scikit-learn's KMeans
// (k-means++, best of n_init = 10 starts, as ours) on the same data: overlapping Gaussian
// clouds, where the optimum is not planted and local minima differ.
func TestKMeansSklearn(t *testing.T) {
	py := pythonNumpy(t)
	if err := exec.Command(py, "-c", "import sklearn").Run(); err != nil {
		t.Skip("/usr/bin/python3 has no sklearn")
	}
	for _, c := range []struct{ n, d, k int }{{500, 4, 10}, {2000, 16, 50}, {1500, 64, 100}} {
		x := randomFeatures(uint64(c.n), c.n, c.d, 0)
		in, _ := json.Marshal(map[string]any{"x": x, "k": c.k})
		cmd := exec.Command(py, "-c", sklearnKMeans)
		cmd.Stdin = bytes.NewReader(in)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sklearn: %v", err)
		}
		var want struct{ Inertia float64 }
		if err := json.Unmarshal(out, &want); err != nil {
			t.Fatal(err)
		}
		km, err := KMeans(x, c.k, 0, KMeansInits, 7)
		if err != nil {
			t.Fatal(err)
		}
		rel := km.Inertia/want.Inertia - 1
		t.Logf("n %d d %d k %d: inertia %.6g, sklearn %.6g (%+.2f%%)", c.n, c.d, c.k, km.Inertia, want.Inertia, 100*rel)
		if rel > 0.02 {
			t.Errorf("n %d d %d k %d: inertia %v is %.2f%% above sklearn's %v (tolerance 2%%)", c.n, c.d, c.k, km.Inertia, 100*rel, want.Inertia)
		}
	}
}

// TestJensenShannonClosedForm: disjoint supports give ln 2, equal
// distributions 0, and p = (½, ½), q = (1, 0) gives
// ½(½ ln(⅔) + ½ ln 2) + ½ ln(4/3) (tolerance 1e-15).
func TestJensenShannonClosedForm(t *testing.T) {
	for _, c := range []struct {
		p, q []float64
		want float64
	}{
		{[]float64{1, 0}, []float64{0, 1}, math.Ln2},
		{[]float64{0.2, 0.3, 0.5}, []float64{0.2, 0.3, 0.5}, 0},
		{[]float64{0.5, 0.5}, []float64{1, 0}, 0.5*(0.5*math.Log(0.5/0.75)+0.5*math.Log(2)) + 0.5*math.Log(1/0.75)},
	} {
		if got := JensenShannon(c.p, c.q); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("JS(%v, %v) = %v, want %v", c.p, c.q, got, c.want)
		}
	}
}

// TestTwoProportionsZTest: p1 = 0.5, p2 = 0.3, n = 100 each: pooled
// p = 0.4, se = √(0.24 · 0.02), z = 0.2/se = 2.886751, two-sided
// p-value 0.0038924 (normal table; tolerance 1e-6); equal proportions
// give 1, both zero NaN (never different).
func TestTwoProportionsZTest(t *testing.T) {
	if got := TwoProportionsZTest(0.5, 100, 0.3, 100); math.Abs(got-0.0038924) > 1e-6 {
		t.Errorf("p-value %v, want 0.0038924", got)
	}
	if got := TwoProportionsZTest(0.25, 80, 0.25, 40); got != 1 {
		t.Errorf("equal proportions: p-value %v, want 1", got)
	}
	if got := TwoProportionsZTest(0, 80, 0, 40); !math.IsNaN(got) || got < 0.05 {
		t.Errorf("both zero: p-value %v, want NaN", got)
	}
}

// TestNDBPlanted: bins from 10 planted blobs (the blobs are the bins);
// samples from the same mixture differ in at most 1 bin (5% level), samples
// from 5 of the 10 blobs in all 10 (5 empty, 5 doubled), with JS near its
// value for exactly uniform proportions (p = 0.1 on 10 bins, q = 0.2 on 5:
// m = 0.15 or 0.05), 0.2158 (tolerance 0.03, sampling error).
func TestNDBPlanted(t *testing.T) {
	real, _ := blobs(1, 5000, 12, 10, nil)
	for _, whiten := range []bool{false, true} {
		b, err := NewNDBBins(real, NDBOptions{Bins: 10, Whiten: whiten, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSortedFunc(b.Proportions, func(a, c float64) int { return -cmpF(a, c) }) {
			t.Errorf("proportions not largest first: %v", b.Proportions)
		}
		same, _ := blobs(2, 5000, 12, 10, nil)
		r, err := b.Evaluate(same, DefaultNDBAlpha)
		if err != nil {
			t.Fatal(err)
		}
		if r.NDB > 1 {
			t.Errorf("whiten %v: same mixture, NDB %d (different %v)", whiten, r.NDB, r.Different)
		}
		half, _ := blobs(3, 5000, 12, 10, []int{0, 2, 4, 6, 8})
		r, err = b.Evaluate(half, DefaultNDBAlpha)
		if err != nil {
			t.Fatal(err)
		}
		if r.NDB != 10 || r.NDBK != 1 {
			t.Errorf("whiten %v: half the modes, NDB %d NDB/K %v, want 10 and 1", whiten, r.NDB, r.NDBK)
		}
		want := 0.5*(5*0.1*math.Log(0.1/0.15)+5*0.1*math.Log(0.1/0.05)) + 0.5*(5*0.2*math.Log(0.2/0.15))
		if math.Abs(r.JS-want) > 0.03 {
			t.Errorf("JS %v, want %v ± 0.03", r.JS, want)
		}
	}
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestNDBDims: above 1,000 dimensions a seeded sixth is used; the same
// seed gives the same draw, another seed another one.
func TestNDBDims(t *testing.T) {
	x := randomFeatures(1, 60, 1200, 0)
	b1, err := NewNDBBins(x, NDBOptions{Bins: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := NewNDBBins(x, NDBOptions{Bins: 5, Seed: 1})
	b3, _ := NewNDBBins(x, NDBOptions{Bins: 5, Seed: 2})
	if len(b1.DIndices) != 200 || !slices.Equal(b1.DIndices, b2.DIndices) || slices.Equal(b1.DIndices, b3.DIndices) {
		t.Errorf("dims %d; same seed equal %v; other seed equal %v", len(b1.DIndices), slices.Equal(b1.DIndices, b2.DIndices), slices.Equal(b1.DIndices, b3.DIndices))
	}
	if !slices.Equal(b1.Proportions, b2.Proportions) {
		t.Error("same seed, different bins")
	}
}

func TestNDBBadInput(t *testing.T) {
	x := randomFeatures(1, 50, 4, 0)
	if _, err := NewNDBBins(x, NDBOptions{Bins: 100}); err == nil || !strings.Contains(err.Error(), "50 real samples for 100 bins") {
		t.Errorf("few real samples: %v", err)
	}
	b, err := NewNDBBins(x, NDBOptions{Bins: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Evaluate(randomFeatures(2, 10, 5, 0), 0.05); err == nil || !strings.Contains(err.Error(), "the samples have 5 dimensions, the real samples (bins) 4") {
		t.Errorf("dimension mismatch: %v", err)
	}
	q := randomFeatures(2, 10, 4, 0)
	q[3][2] = math.NaN()
	if _, err := b.Evaluate(q, 0.05); err == nil || !strings.Contains(err.Error(), "generated sample 3, dimension 2 is NaN") {
		t.Errorf("NaN: %v", err)
	}
	x[7][1] = math.Inf(1)
	if _, err := NewNDBBins(x, NDBOptions{Bins: 5}); err == nil || !strings.Contains(err.Error(), "real sample 7, dimension 1 is +Inf") {
		t.Errorf("Inf: %v", err)
	}
}

// BenchmarkNDB is NDB at the size of the issue: bins (K = 100) from
// 10,000 real samples of 3,072 dimensions (32×32 RGB pixels; 512 used),
// then 10,000 samples evaluated against them.
func BenchmarkNDB(b *testing.B) {
	useBLAS(b)
	real := randomFeatures(1, 10000, 3072, 0)
	fake := randomFeatures(2, 10000, 3072, 0.1)
	b.ResetTimer()
	for range b.N {
		bins, err := NewNDBBins(real, NDBOptions{Bins: 100, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bins.Evaluate(fake, DefaultNDBAlpha); err != nil {
			b.Fatal(err)
		}
	}
}
