package metrics

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// Defaults of [PRDC]: precision and recall with k = 3 neighbours, as
// Kynkäänniemi et al. 2019 and torch-fidelity (prc_neighborhood), density
// and coverage with k = 5, as Naeem et al. 2020 and their prdc package
// (nearest_k).
const (
	DefaultPRK = 3
	DefaultDCK = 5
)

// PRDCOptions configures [PRDC].
type PRDCOptions struct {
	// PRK is the neighbour k of precision and recall (0: DefaultPRK).
	PRK int
	// DCK is the neighbour k of density and coverage (0: DefaultDCK).
	DCK int
}

// PRDCResult holds precision, recall, their F-score, density and coverage
// of generated features against real ones.
type PRDCResult struct {
	Precision, Recall, FScore float64
	Density, Coverage         float64
	// PRK and DCK are the neighbour counts used; NumReal and NumFake the
	// rows of each set.
	PRK, DCK         int
	NumReal, NumFake int
}

// prdcBlock is the number of rows whose distances to a whole set one
// worker holds at a time (256 × N float64: 20 MB at N = 10,000).
const prdcBlock = 256

// PRDC computes, with Euclidean distances d in feature space between real
// features r_1..r_N and generated (fake) features f_1..f_M, and NN_k(x) the
// distance from x to its k-th nearest neighbour within its own set (the
// point itself excluded; torch-fidelity's kthvalue(k+1) and prdc's
// np.partition(d, k)[:, k] over rows that include the zero self-distance):
//
// Improved precision and recall (Kynkäänniemi et al., NeurIPS 2019), as
// torch-fidelity's calculate_precision_recall_full computes them (k = PRK,
// non-strict ≤):
//
//	precision = (1/M) Σ_j 1[∃ i: d(f_j, r_i) ≤ NN_k(r_i)]
//	recall    = (1/N) Σ_i 1[∃ j: d(r_i, f_j) ≤ NN_k(f_j)]
//	F         = 2 P R / max(1e−5, P + R)
//
// Density and coverage (Naeem et al., "Reliable Fidelity and Diversity
// Metrics for Generative Models", ICML 2020), as the prdc package computes
// them (k = DCK, strict <, real radii only):
//
//	density  = (1/(k M)) Σ_j Σ_i 1[d(f_j, r_i) < NN_k(r_i)]
//	coverage = (1/N) Σ_i 1[min_j d(r_i, f_j) < NN_k(r_i)]
//
// Distances are compared as squared distances computed in float64 as
// ||a||² + ||b||² − 2 a·b (blocked matrix products, as torch.cdist and
// sklearn's pairwise_distances do), clamped at 0, with self-distances set
// to exactly 0. Work is split over row blocks on GOMAXPROCS goroutines;
// the result does not depend on the split. Both sets need more than
// max(PRK, DCK) rows (the real set) or PRK rows (the generated set), one
// dimension, and finite values; otherwise PRDC returns an error.
func PRDC(real, fake [][]float64, o PRDCOptions) (*PRDCResult, error) {
	if o.PRK == 0 {
		o.PRK = DefaultPRK
	}
	if o.DCK == 0 {
		o.DCK = DefaultDCK
	}
	if o.PRK < 1 || o.DCK < 1 {
		return nil, fmt.Errorf("metrics: PRDC: neighbour counts must be at least 1, got %d and %d", o.PRK, o.DCK)
	}
	rd, err := denseRows(real)
	if err != nil {
		return nil, fmt.Errorf("metrics: PRDC real features: %w", err)
	}
	fd, err := denseRows(fake)
	if err != nil {
		return nil, fmt.Errorf("metrics: PRDC generated features: %w", err)
	}
	n, d := rd.Dims()
	m, df := fd.Dims()
	if d != df {
		return nil, fmt.Errorf("metrics: PRDC: feature dimensions differ (real %d, generated %d)", d, df)
	}
	if kr := max(o.PRK, o.DCK); n <= kr {
		return nil, fmt.Errorf("metrics: PRDC: %d real features, need more than k = %d", n, kr)
	}
	if m <= o.PRK {
		return nil, fmt.Errorf("metrics: PRDC: %d generated features, need more than k = %d", m, o.PRK)
	}
	rn, fn := rowNorms(rd), rowNorms(fd)
	// Squared radii: real at PRK and DCK, generated at PRK.
	realPR, realDC := make([]float64, n), make([]float64, n)
	kthSquared(rd, rn, []int{o.PRK, o.DCK}, [][]float64{realPR, realDC})
	fakePR := make([]float64, m)
	kthSquared(fd, fn, []int{o.PRK}, [][]float64{fakePR})

	// One pass over real row blocks × all generated rows. Per real row:
	// recall and coverage; per generated row (summed over workers):
	// precision hits and density counts.
	type partial struct {
		inPrecision []bool
		density     []int
	}
	recalled := make([]bool, n)
	covered := make([]bool, n)
	parts := parallelBlocks(n, func(lo, hi int, p *partial) {
		if p.inPrecision == nil {
			p.inPrecision, p.density = make([]bool, m), make([]int, m)
		}
		sq := squaredBlock(rd, rn, lo, hi, fd, fn, nil)
		for i := lo; i < hi; i++ {
			row := sq.RawRowView(i - lo)
			rpr, rdc := realPR[i], realDC[i]
			nearest := math.Inf(1)
			for j, v := range row {
				if v <= rpr {
					p.inPrecision[j] = true
				}
				if v < rdc {
					p.density[j]++
				}
				if v <= fakePR[j] {
					recalled[i] = true
				}
				nearest = min(nearest, v)
			}
			covered[i] = nearest < rdc
		}
	}, func() *partial { return &partial{} })
	var precise, dens int
	for j := range m {
		hit := false
		for _, p := range parts {
			if p.inPrecision == nil {
				continue
			}
			hit = hit || p.inPrecision[j]
			dens += p.density[j]
		}
		if hit {
			precise++
		}
	}
	res := &PRDCResult{PRK: o.PRK, DCK: o.DCK, NumReal: n, NumFake: m}
	res.Precision = float64(precise) / float64(m)
	res.Recall = float64(count(recalled)) / float64(n)
	res.FScore = 2 * res.Precision * res.Recall / max(1e-5, res.Precision+res.Recall)
	res.Density = float64(dens) / (float64(o.DCK) * float64(m))
	res.Coverage = float64(count(covered)) / float64(n)
	return res, nil
}

func count(b []bool) int {
	c := 0
	for _, v := range b {
		if v {
			c++
		}
	}
	return c
}

// rowNorms returns ||a_i||² for every row of a.
func rowNorms(a *mat.Dense) []float64 {
	n, _ := a.Dims()
	out := make([]float64, n)
	for i := range n {
		var s float64
		for _, v := range a.RawRowView(i) {
			s += v * v
		}
		out[i] = s
	}
	return out
}

// squaredBlock returns the squared distances between rows lo..hi-1 of a
// and every row of b, ||a_i||² + ||b_j||² − 2 a_i·b_j clamped at 0, into
// dst (reused when it has the right size).
func squaredBlock(a *mat.Dense, an []float64, lo, hi int, b *mat.Dense, bn []float64, dst *mat.Dense) *mat.Dense {
	_, d := a.Dims()
	nb, _ := b.Dims()
	blk := a.Slice(lo, hi, 0, d)
	if dst == nil {
		dst = mat.NewDense(hi-lo, nb, nil)
	}
	dst.Mul(blk, b.T())
	for i := lo; i < hi; i++ {
		row := dst.RawRowView(i - lo)
		for j := range row {
			row[j] = max(an[i]+bn[j]-2*row[j], 0)
		}
	}
	return dst
}

// kthSquared fills out[t][i] with the squared distance from row i of a to
// its ks[t]-th nearest other row: the (k+1)-th smallest of row i's squared
// distances, its own exact 0 included.
func kthSquared(a *mat.Dense, an []float64, ks []int, out [][]float64) {
	n, _ := a.Dims()
	kmax := 0
	for _, k := range ks {
		kmax = max(kmax, k)
	}
	parallelBlocks(n, func(lo, hi int, _ *struct{}) {
		sq := squaredBlock(a, an, lo, hi, a, an, nil)
		smallest := make([]float64, 0, kmax+1)
		for i := lo; i < hi; i++ {
			row := sq.RawRowView(i - lo)
			row[i] = 0
			smallest = smallest[:0]
			for _, v := range row {
				// Keep the kmax+1 smallest values, sorted (insertion).
				if len(smallest) == kmax+1 && v >= smallest[kmax] {
					continue
				}
				if len(smallest) < kmax+1 {
					smallest = append(smallest, v)
				} else {
					smallest[kmax] = v
				}
				for p := len(smallest) - 1; p > 0 && smallest[p] < smallest[p-1]; p-- {
					smallest[p], smallest[p-1] = smallest[p-1], smallest[p]
				}
			}
			for t, k := range ks {
				out[t][i] = smallest[k]
			}
		}
	}, func() *struct{} { return &struct{}{} })
}

// parallelBlocks runs fn over the row blocks [lo, hi) of n rows, each of
// at most prdcBlock rows, on GOMAXPROCS goroutines; each goroutine owns
// one state made by newState, and the states are returned.
func parallelBlocks[S any](n int, fn func(lo, hi int, s *S), newState func() *S) []*S {
	workers := max(1, min(runtime.GOMAXPROCS(0), (n+prdcBlock-1)/prdcBlock))
	states := make([]*S, workers)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range workers {
		states[w] = newState()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lo := range next {
				fn(lo, min(lo+prdcBlock, n), states[w])
			}
		}()
	}
	for lo := 0; lo < n; lo += prdcBlock {
		next <- lo
	}
	close(next)
	wg.Wait()
	return states
}
