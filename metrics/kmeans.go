package metrics

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// KMeansMaxIter is the Lloyd iteration cap of NDB's clustering
// (gans-n-gmms utils/ndb.py: KMeans(max_iter=100)).
const KMeansMaxIter = 100

// KMeansInits is the number of k-means++ starts NDB's clustering keeps
// the best of (ndb.py runs sklearn's KMeans with its default n_init = 10).
const KMeansInits = 10

// KMeansResult is a clustering: K centers [K][D], the cluster of every
// row, the inertia (the sum of squared distances of the rows to their
// centers, sklearn's inertia_) and the Lloyd iterations run.
type KMeansResult struct {
	Centers [][]float64
	Labels  []int
	Inertia float64
	Iter    int
}

// KMeans clusters the rows of x [n][D] into k clusters as scikit-learn's
// KMeans(n_clusters=k, init="k-means++", n_init, algorithm="lloyd")
// does, nInit times (≤ 0: once) from starts seeded by seed (math/rand/v2's
// PCG), keeping the clustering of least inertia (sklearn's n_init): greedy k-means++ seeding
// (Arthur & Vassilvitskii 2007, with sklearn's 2 + ⌊ln k⌋ candidates per
// center, keeping the one that lowers the potential most), then Lloyd
// iterations (assign each row to its nearest center, move each center to
// its rows' mean) until no label changes, the total squared center shift
// falls to tol = 1e-4 × the mean per-dimension variance (sklearn's tol),
// or maxIter iterations (≤ 0: KMeansMaxIter) have run. An empty cluster is
// moved onto the row farthest from its center, as sklearn relocates
// empty clusters. Squared distances are ‖x‖² + ‖c‖² − 2 x·c with the dot
// products from BLAS Dgemm; sums accumulate in float64. The result depends
// only on x, k, nInit and seed. It returns an error when there are fewer rows
// than clusters, rows of different lengths, or a NaN or infinite value.
func KMeans(x [][]float64, k, maxIter, nInit int, seed uint64) (*KMeansResult, error) {
	n := len(x)
	if k < 1 {
		return nil, fmt.Errorf("k-means: %d clusters, need at least 1", k)
	}
	if n < k {
		return nil, fmt.Errorf("k-means: %d rows for %d clusters, need at least as many rows as clusters", n, k)
	}
	d := len(x[0])
	if d == 0 {
		return nil, fmt.Errorf("k-means: rows of dimension 0")
	}
	flat := make([]float64, n*d)
	for i, r := range x {
		if len(r) != d {
			return nil, fmt.Errorf("k-means: row %d has %d values, row 0 has %d", i, len(r), d)
		}
		for j, v := range r {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("k-means: row %d, dimension %d is %v", i, j, v)
			}
		}
		copy(flat[i*d:], r)
	}
	if maxIter <= 0 {
		maxIter = KMeansMaxIter
	}
	km := &kmeans{n: n, d: d, k: k, x: blas64.General{Rows: n, Cols: d, Stride: d, Data: flat}}
	km.rowNorms()
	var best *KMeansResult
	for i := range max(nInit, 1) {
		// Each start its own stream: start i does not depend on nInit.
		res := km.lloyd(km.init(seed+uint64(i)*0x9e3779b97f4a7c15), maxIter)
		if best == nil || res.Inertia < best.Inertia {
			best = res
		}
	}
	return best, nil
}

// kmeans is one clustering's data: x [n][d] row-major and its rows'
// squared norms.
type kmeans struct {
	n, d, k int
	x       blas64.General
	xx      []float64
}

func (km *kmeans) rowNorms() {
	km.xx = make([]float64, km.n)
	for i := range km.n {
		km.xx[i] = dot(km.row(i), km.row(i))
	}
}

func (km *kmeans) row(i int) []float64 { return km.x.Data[i*km.d : (i+1)*km.d] }

func dot(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// sqDists fills out [n][len(c)] (row-major) with the squared distances of
// every row to every center of c [m][d] (flat), clamped at 0 against
// rounding.
func (km *kmeans) sqDists(c []float64, m int, out []float64) {
	cg := blas64.General{Rows: m, Cols: km.d, Stride: km.d, Data: c}
	og := blas64.General{Rows: km.n, Cols: m, Stride: m, Data: out}
	blas64.Gemm(blas.NoTrans, blas.Trans, -2, km.x, cg, 0, og)
	cc := make([]float64, m)
	for j := range m {
		r := c[j*km.d : (j+1)*km.d]
		cc[j] = dot(r, r)
	}
	parallelRows(km.n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			o := out[i*m : (i+1)*m]
			for j := range o {
				o[j] = max(0, o[j]+km.xx[i]+cc[j])
			}
		}
	})
}

// parallelRows runs f over [0, n) in contiguous chunks on every core.
func parallelRows(n int, f func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), max(1, n/256))
	if w <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for t := range w {
		lo, hi := t*n/w, (t+1)*n/w
		wg.Add(1)
		go func() { defer wg.Done(); f(lo, hi) }()
	}
	wg.Wait()
}

// init is sklearn's greedy k-means++ (_kmeans_plusplus): the first center
// a uniformly drawn row; each next one the best of 2 + ⌊ln k⌋ rows drawn
// with probability proportional to their squared distance to the nearest
// chosen center, best meaning the lowest potential (sum of those
// distances) once it is added. It returns the centers, flat [k][d].
func (km *kmeans) init(seed uint64) []float64 {
	rng := newRand(seed)
	n, d, k := km.n, km.d, km.k
	trials := 2 + int(math.Log(float64(k)))
	centers := make([]float64, k*d)
	first := rng.IntN(n)
	copy(centers, km.row(first))
	closest := make([]float64, n)
	km.sqDists(centers[:d], 1, closest)
	pot := sum(closest)
	cand := make([]float64, trials*d)
	cd := make([]float64, n*trials)
	ids := make([]int, trials)
	cum := make([]float64, n)
	for c := 1; c < k; c++ {
		acc := 0.0
		for i, v := range closest {
			acc += v
			cum[i] = acc
		}
		for t := range trials {
			ids[t] = searchCum(cum, rng.Float64()*pot)
			copy(cand[t*d:], km.row(ids[t]))
		}
		km.sqDists(cand, trials, cd)
		best, bestPot := 0, math.Inf(1)
		for t := range trials {
			p := 0.0
			for i := range n {
				p += min(closest[i], cd[i*trials+t])
			}
			if p < bestPot {
				best, bestPot = t, p
			}
		}
		for i := range n {
			closest[i] = min(closest[i], cd[i*trials+best])
		}
		pot = bestPot
		copy(centers[c*d:], km.row(ids[best]))
	}
	return centers
}

// searchCum is numpy's searchsorted(cum, v) (side left), clipped to the
// last index as sklearn clips it.
func searchCum(cum []float64, v float64) int {
	lo, hi := 0, len(cum)
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return min(lo, len(cum)-1)
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

// lloyd runs Lloyd iterations from centers (flat [k][d]) and returns the
// clustering, with the labels and inertia of the final centers.
func (km *kmeans) lloyd(centers []float64, maxIter int) *KMeansResult {
	n, d, k := km.n, km.d, km.k
	// sklearn's tol: 1e-4 times the mean of the per-dimension variances.
	tol := 0.0
	for j := range d {
		m := 0.0
		for i := range n {
			m += km.x.Data[i*d+j]
		}
		m /= float64(n)
		v := 0.0
		for i := range n {
			e := km.x.Data[i*d+j] - m
			v += e * e
		}
		tol += v / float64(n)
	}
	tol = 1e-4 * tol / float64(d)

	dist := make([]float64, n*k)
	labels := make([]int, n)
	mind := make([]float64, n)
	assign := func() (changed bool) {
		km.sqDists(centers, k, dist)
		for i := range n {
			row := dist[i*k : (i+1)*k]
			b := 0
			for j, v := range row {
				if v < row[b] {
					b = j
				}
			}
			if labels[i] != b {
				changed = true
			}
			labels[i], mind[i] = b, row[b]
		}
		return changed
	}
	for i := range labels {
		labels[i] = -1
	}
	next := make([]float64, k*d)
	counts := make([]int, k)
	iter := 0
	for iter < maxIter {
		changed := assign()
		iter++
		if !changed {
			break
		}
		clear(next)
		clear(counts)
		for i := range n {
			c := labels[i]
			counts[c]++
			r, o := km.row(i), next[c*d:(c+1)*d]
			for j, v := range r {
				o[j] += v
			}
		}
		km.relocateEmpty(counts, labels, mind, next)
		shift := 0.0
		for c := range k {
			o := next[c*d : (c+1)*d]
			if counts[c] > 0 {
				inv := 1 / float64(counts[c])
				for j := range o {
					o[j] *= inv
				}
			}
			for j, v := range o {
				e := v - centers[c*d+j]
				shift += e * e
			}
		}
		centers, next = next, centers
		if shift <= tol {
			break
		}
	}
	// The labels and inertia of the final centers (sklearn's last E-step).
	assign()
	res := &KMeansResult{Labels: labels, Inertia: sum(mind), Iter: iter, Centers: make([][]float64, k)}
	for c := range k {
		res.Centers[c] = append([]float64(nil), centers[c*d:(c+1)*d]...)
	}
	return res
}

// relocateEmpty moves each empty cluster onto the row farthest from its
// center (sklearn's _relocate_empty_clusters: the rows with the largest
// distances, taken in decreasing order, the row leaving its old cluster).
// sums holds the clusters' row sums and counts their sizes.
func (km *kmeans) relocateEmpty(counts, labels []int, mind, sums []float64) {
	d := km.d
	taken := map[int]bool{}
	for c := range km.k {
		if counts[c] > 0 {
			continue
		}
		far := -1
		for i, v := range mind {
			if !taken[i] && counts[labels[i]] > 1 && (far < 0 || v > mind[far]) {
				far = i
			}
		}
		if far < 0 {
			continue // fewer distinct rows than clusters: the cluster stays empty
		}
		taken[far] = true
		old, r := labels[far], km.row(far)
		for j, v := range r {
			sums[old*d+j] -= v
			sums[c*d+j] = v
		}
		counts[old]--
		counts[c] = 1
		labels[far] = c
	}
}
