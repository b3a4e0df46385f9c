package metrics

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// NDB defaults of Richardson & Weiss, "On GANs and GMMs" (NeurIPS 2018),
// as gans-n-gmms utils/ndb.py sets them.
const (
	DefaultNDBBins  = 100
	DefaultNDBAlpha = 0.05
	// NDBEps is added to the real set's per-dimension standard deviation
	// when whitening (ndb.py's ndb_eps).
	NDBEps = 1e-6
	// NDBMaxDims is the dimension above which the clustering uses a random
	// sixth of the dimensions (ndb.py: d > 1000 gives max_dims = d//6).
	NDBMaxDims = 1000
)

// NDBOptions set how NDB's bins are made.
type NDBOptions struct {
	// Bins is K, the number of k-means clusters (0: DefaultNDBBins).
	Bins int
	// Whiten subtracts the real set's per-dimension mean and divides by
	// its population standard deviation plus NDBEps, before clustering
	// and before assigning samples.
	Whiten bool
	// MaxDims caps the dimensions the clustering and the assignment use
	// (0: ndb.py's rule, d/6 when d > NDBMaxDims, else all).
	MaxDims int
	// Seed draws the used dimensions and seeds k-means (ndb.py draws both
	// from numpy's unseeded global generator).
	Seed uint64
}

// NDBBins are the bins of NDB, with ndb.py's cache fields: Proportions
// [K] of the real rows in each bin, largest first; Centers [K][D] the
// mean of each bin's (whitened) real rows over every dimension; N the
// number of real rows; Mean and Std [D] the whitening (0 and 1 without
// it); DIndices the dimensions the distances use.
type NDBBins struct {
	Proportions []float64
	Centers     [][]float64
	N           int
	Mean, Std   []float64
	DIndices    []int
}

// NDBResult is NDB of one sample set against the bins: NDB, the number of
// statistically different bins; NDBK = NDB/K; JS, the Jensen–Shannon
// divergence (nats) between the bins' real and sample proportions;
// Proportions [K] of the samples; Different [K] marks the different
// bins; N is the number of samples.
type NDBResult struct {
	NDB         int
	K           int
	NDBK, JS    float64
	Proportions []float64
	Different   []bool
	N           int
}

// NewNDBBins makes NDB's bins from the real rows x [n][D] as ndb.py's
// construct_bins does: optional whitening (per-dimension mean and
// population std + NDBEps of x), the used dimensions (all, in order, for
// D ≤ 1000; above that a seeded draw without replacement of D/6 of them,
// sorted), k-means (KMeans, seeded) of the whitened rows on those
// dimensions, each bin's center the mean of its whitened rows over all D
// dimensions, the bins ordered by size, largest first (ties in cluster
// order), and their proportions. A cluster left empty (fewer distinct
// rows than bins) keeps proportion 0 and its k-means center on the used
// dimensions. It returns an error when x has fewer rows than bins, rows
// of different lengths, or a NaN or infinite value.
func NewNDBBins(x [][]float64, o NDBOptions) (*NDBBins, error) {
	k := o.Bins
	if k == 0 {
		k = DefaultNDBBins
	}
	if k < 2 {
		return nil, fmt.Errorf("NDB: %d bins, need at least 2", k)
	}
	if len(x) < k {
		return nil, fmt.Errorf("NDB: %d real samples for %d bins, need at least as many real samples as bins", len(x), k)
	}
	d, err := checkRows("real", x)
	if err != nil {
		return nil, err
	}
	n := len(x)
	b := &NDBBins{N: n, Mean: make([]float64, d), Std: make([]float64, d)}
	for j := range b.Std {
		b.Std[j] = 1
	}
	if o.Whiten {
		for j := range d {
			m := 0.0
			for _, r := range x {
				m += r[j]
			}
			m /= float64(n)
			v := 0.0
			for _, r := range x {
				e := r[j] - m
				v += e * e
			}
			b.Mean[j], b.Std[j] = m, math.Sqrt(v/float64(n))+NDBEps
		}
	}
	maxDims := o.MaxDims
	if maxDims == 0 && d > NDBMaxDims {
		maxDims = d / 6
	}
	if maxDims <= 0 || maxDims >= d {
		b.DIndices = make([]int, d)
		for j := range d {
			b.DIndices[j] = j
		}
	} else {
		// A seeded draw without replacement (ndb.py's np.random.choice
		// is unseeded); sorted, since the order does not change a distance.
		b.DIndices = newRand(o.Seed ^ 0x6e6462).Perm(d)[:maxDims]
		slices.Sort(b.DIndices)
	}
	w := b.whiten(x)
	used := make([][]float64, n)
	for i, r := range w {
		used[i] = pick(r, b.DIndices)
	}
	km, err := KMeans(used, k, KMeansMaxIter, KMeansInits, o.Seed)
	if err != nil {
		return nil, fmt.Errorf("NDB: %w", err)
	}
	centers := make([][]float64, k)
	counts := make([]int, k)
	for c := range centers {
		centers[c] = make([]float64, d)
	}
	for i, c := range km.Labels {
		counts[c]++
		for j, v := range w[i] {
			centers[c][j] += v
		}
	}
	for c, ctr := range centers {
		if counts[c] == 0 {
			for t, j := range b.DIndices {
				ctr[j] = km.Centers[c][t]
			}
			continue
		}
		for j := range ctr {
			ctr[j] /= float64(counts[c])
		}
	}
	order := make([]int, k)
	for c := range order {
		order[c] = c
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(counts[b], counts[a]) })
	b.Proportions, b.Centers = make([]float64, k), make([][]float64, k)
	for i, c := range order {
		b.Proportions[i] = float64(counts[c]) / float64(n)
		b.Centers[i] = centers[c]
	}
	return b, nil
}

func pick(r []float64, idx []int) []float64 {
	o := make([]float64, len(idx))
	for t, j := range idx {
		o[t] = r[j]
	}
	return o
}

// checkRows returns the dimension of x's rows, or an error naming the set
// when x is empty, its rows differ in length or hold a NaN or infinity.
func checkRows(set string, x [][]float64) (int, error) {
	if len(x) == 0 || len(x[0]) == 0 {
		return 0, fmt.Errorf("NDB: no %s samples", set)
	}
	d := len(x[0])
	for i, r := range x {
		if len(r) != d {
			return 0, fmt.Errorf("NDB: %s sample %d has %d dimensions, sample 0 has %d", set, i, len(r), d)
		}
		for j, v := range r {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, fmt.Errorf("NDB: %s sample %d, dimension %d is %v", set, i, j, v)
			}
		}
	}
	return d, nil
}

// whiten returns (x − Mean)/Std row by row, as ndb.py computes it.
func (b *NDBBins) whiten(x [][]float64) [][]float64 {
	w := make([][]float64, len(x))
	for i, r := range x {
		o := make([]float64, len(r))
		for j, v := range r {
			o[j] = (v - b.Mean[j]) / b.Std[j]
		}
		w[i] = o
	}
	return w
}

// Check reports whether the bins are consistent: K ≥ 1 centers of one
// dimension D, K proportions, Mean and Std of length D (Std positive),
// dimension indices within [0, D), N ≥ 1, every value finite.
func (b *NDBBins) Check() error {
	k := len(b.Centers)
	if k == 0 || len(b.Proportions) != k {
		return fmt.Errorf("%d centers and %d proportions, want the same number, at least 1", k, len(b.Proportions))
	}
	d := len(b.Centers[0])
	if d == 0 || len(b.Mean) != d || len(b.Std) != d {
		return fmt.Errorf("centers of dimension %d, mean of %d and std of %d, want one dimension", d, len(b.Mean), len(b.Std))
	}
	if _, err := checkRows("bin center", b.Centers); err != nil {
		return err
	}
	for c, v := range b.Proportions {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("bin %d: proportion %v, want one in [0, 1]", c, v)
		}
	}
	for j, s := range b.Std {
		if !(s > 0) || math.IsInf(s, 0) || math.IsNaN(b.Mean[j]) || math.IsInf(b.Mean[j], 0) {
			return fmt.Errorf("dimension %d: mean %v and std %v, want finite with std > 0", j, b.Mean[j], s)
		}
	}
	if len(b.DIndices) == 0 {
		return fmt.Errorf("no dimension indices")
	}
	for _, j := range b.DIndices {
		if j < 0 || j >= d {
			return fmt.Errorf("dimension index %d outside [0, %d)", j, d)
		}
	}
	if b.N < 1 {
		return fmt.Errorf("n = %d real samples, want at least 1", b.N)
	}
	return nil
}

// Evaluate is NDB of the rows q [m][D] against the bins, as ndb.py's
// evaluate: each whitened row goes to the bin whose center is nearest in
// L2 over DIndices (the first on ties, as np.argmin); with p1 = the real
// proportion of a bin (N rows) and p2 the samples' (m rows), the bin is
// different when the two-proportion z-test (TwoProportionsZTest) rejects
// equality at level alpha; NDB counts those, NDBK = NDB/K, and JS is
// JensenShannon(real, sample proportions). It returns an error when q is
// empty, of another dimension than the bins, or holds a NaN or infinity.
func (b *NDBBins) Evaluate(q [][]float64, alpha float64) (*NDBResult, error) {
	if err := b.Check(); err != nil {
		return nil, fmt.Errorf("NDB bins: %w", err)
	}
	if !(alpha > 0 && alpha < 1) {
		return nil, fmt.Errorf("NDB: significance level %v, want 0 < alpha < 1", alpha)
	}
	d, err := checkRows("generated", q)
	if err != nil {
		return nil, err
	}
	k, dc := len(b.Centers), len(b.Centers[0])
	if d != dc {
		return nil, fmt.Errorf("NDB: the samples have %d dimensions, the real samples (bins) %d", d, dc)
	}
	centers := make([][]float64, k)
	for c, ctr := range b.Centers {
		centers[c] = pick(ctr, b.DIndices)
	}
	labels := make([]int, len(q))
	parallelRows(len(q), func(lo, hi int) {
		w := make([]float64, len(b.DIndices))
		for i := lo; i < hi; i++ {
			for t, j := range b.DIndices {
				w[t] = (q[i][j] - b.Mean[j]) / b.Std[j]
			}
			best, bd := 0, math.Inf(1)
			for c, ctr := range centers {
				s := 0.0
				for t, v := range w {
					e := v - ctr[t]
					s += e * e
				}
				if s < bd {
					best, bd = c, s
				}
			}
			labels[i] = best
		}
	})
	r := &NDBResult{K: k, N: len(q), Proportions: make([]float64, k), Different: make([]bool, k)}
	counts := make([]int, k)
	for _, c := range labels {
		counts[c]++
	}
	for c, n := range counts {
		r.Proportions[c] = float64(n) / float64(len(q))
	}
	for c := range k {
		r.Different[c] = TwoProportionsZTest(b.Proportions[c], b.N, r.Proportions[c], len(q)) < alpha
		if r.Different[c] {
			r.NDB++
		}
	}
	r.NDBK = float64(r.NDB) / float64(k)
	r.JS = JensenShannon(b.Proportions, r.Proportions)
	return r, nil
}

// TwoProportionsZTest returns the two-sided p-value of the pooled
// two-proportion z-test of ndb.py (after stattrek.com):
//
//	p = (p1 n1 + p2 n2)/(n1 + n2),  se = √(p (1 − p) (1/n1 + 1/n2))
//	z = (p1 − p2)/se,  p-value = 2 Φ(−|z|) = erfc(|z|/√2)
//
// It is NaN when both proportions are 0 or both 1 (se = 0), and NaN < α
// is false: such a bin is never different, as in ndb.py.
func TwoProportionsZTest(p1 float64, n1 int, p2 float64, n2 int) float64 {
	a, b := float64(n1), float64(n2)
	p := (p1*a + p2*b) / (a + b)
	se := math.Sqrt(p * (1 - p) * (1/a + 1/b))
	z := (p1 - p2) / se
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}

// JensenShannon returns the Jensen–Shannon divergence (natural logs, in
// [0, ln 2]) between the discrete distributions p and q of equal length:
// JS = ½ KL(p ‖ m) + ½ KL(q ‖ m), m = (p + q)/2, KL(a ‖ m) = Σ_{a_i > 0}
// a_i ln(a_i/m_i) (ndb.py's jensen_shannon_divergence).
func JensenShannon(p, q []float64) float64 {
	kl := func(a, m []float64) float64 {
		s := 0.0
		for i, v := range a {
			if v > 0 {
				s += v * math.Log(v/m[i])
			}
		}
		return s
	}
	m := make([]float64, len(p))
	for i := range p {
		m[i] = (p[i] + q[i]) * 0.5
	}
	return 0.5 * (kl(p, m) + kl(q, m))
}
