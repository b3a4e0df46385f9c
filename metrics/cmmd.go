package metrics

import (
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// CMMD constants of Jayasumana et al. (2024), as google-research's cmmd and
// its PyTorch port (sayakpaul/cmmd-pytorch distance.py, _SIGMA and _SCALE).
const (
	DefaultCMMDSigma = 10
	CMMDScale        = 1000
)

// CMMD returns the CLIP maximum mean discrepancy of Jayasumana et al.,
// "Rethinking FID: Towards a Better Evaluation Metric for Image
// Generation" (CVPR 2024), between embedding sets x [m][D] and y [n][D]:
// the biased (minimum-variance) estimator of the squared MMD with the
// Gaussian RBF kernel k(a, b) = exp(−γ‖a − b‖²), γ = 1/(2σ²), times 1000:
//
//	CMMD = 1000 · ( Σ_{i,j} k(x_i, x_j)/m² + Σ_{i,j} k(y_i, y_j)/n²
//	                − 2 Σ_{i,j} k(x_i, y_j)/(mn) )
//
// every sum over all pairs, the diagonal (k = 1) included, which is
// cmmd-pytorch's distance.py mmd (the mean of each kernel matrix, with
// ‖a − b‖² = a·a + b·b − 2 a·b from the Gram matrix) for σ = 10
// (DefaultCMMDSigma). The embeddings are used as given (CMMD's are
// L2-normalised CLIP embeddings); the arithmetic is float64 throughout
// (distance.py runs in the embeddings' dtype: float32 as its main.py
// passes them). The dot products come from BLAS Dgemm in tiles (see
// [UseBLAS]); memory stays O((m + n)·D) however large the sets, where
// distance.py holds three m×n matrices. It returns an error when a set has
// fewer than 2 rows, the dimensions differ, a value is NaN or infinite, or
// σ is not positive.
func CMMD(x, y [][]float64, sigma float64) (float64, error) {
	s, err := cmmdSums(x, y, sigma, 0, nil, nil)
	if err != nil {
		return 0, err
	}
	return s.value(s.m, s.n, s.xx.total, s.yy.total, s.xy.total), nil
}

// CMMDInterval is [CMMDJackknife]'s result.
type CMMDInterval struct {
	// Value is CMMD of the whole sets (the reported value, as distance.py).
	Value float64
	// Corrected is the jackknife bias-corrected value G·θ̂ − (G−1)·mean
	// θ_(−g), clamped at 0; Bias is θ̂ minus the unclamped Corrected.
	Corrected, Bias float64
	// StdErr is the jackknife standard error and CI the interval
	// Corrected ± z·StdErr at Level, clamped at 0.
	StdErr float64
	CI     [2]float64
	Level  float64
	// Groups is G, the number of delete-one units.
	Groups int
	// LeaveOneOut are the G values θ_(−g).
	LeaveOneOut []float64
}

// CMMDJackknife returns CMMD between x (generated embeddings, in groups of
// group consecutive rows: the samples of one input, which are dependent)
// and y (real embeddings, independent rows) with a delete-one-group
// jackknife bias correction and interval for the population value, as
// [FIDJackknife] does for FID: unit g pairs group g of x with block g of
// y's rows (y split into G consecutive blocks; x's rows after the last
// whole group join the last unit), θ_(−g) is CMMD without unit g, and
//
//	θ_J  = G·θ̂ − (G − 1)·mean_g θ_(−g)
//	se_J = sqrt( (G − 1)/G · Σ_g (θ_(−g) − mean θ_(−·))² )
//	CI:    θ_J ± z_{(1+level)/2} · se_J,   clamped at 0.
//
// The biased estimator exceeds the population MMD² by about
// (1 − E k(x, x'))/m + (1 − E k(y, y'))/n (its diagonal terms); for a
// V-statistic of degree two the jackknife removes that term. Every θ_(−g)
// comes from the kernel sums of the one pass that computes CMMD (row sums
// and within-unit sums), so the interval costs no more kernel evaluations
// than the value. It returns an error when x has fewer than 3 groups, y
// fewer rows than groups, or CMMD's own conditions fail.
func CMMDJackknife(x [][]float64, group int, y [][]float64, sigma, level float64) (*CMMDInterval, error) {
	if group < 1 || !(level > 0 && level < 1) {
		return nil, fmt.Errorf("metrics: CMMD jackknife: group %d, level %v", group, level)
	}
	g := len(x) / group
	if g < 3 {
		return nil, fmt.Errorf("metrics: CMMD jackknife: %d generated embeddings make %d groups of %d, need 3", len(x), g, group)
	}
	if len(y) < g {
		return nil, fmt.Errorf("metrics: CMMD jackknife: %d real embeddings cannot fill %d blocks", len(y), g)
	}
	ux := make([]int, len(x))
	for i := range ux {
		ux[i] = min(i/group, g-1)
	}
	uy := make([]int, len(y))
	for k := range g {
		for i := k * len(y) / g; i < (k+1)*len(y)/g; i++ {
			uy[i] = k
		}
	}
	s, err := cmmdSums(x, y, sigma, g, ux, uy)
	if err != nil {
		return nil, err
	}
	// Rows of unit k: their count and the sums of their kernel rows.
	mk, nk := make([]int, g), make([]int, g)
	rx, ry, rxy, ryx := make([]float64, g), make([]float64, g), make([]float64, g), make([]float64, g)
	for i, k := range ux {
		mk[k]++
		rx[k] += s.xx.rowA[i]
		rxy[k] += s.xy.rowA[i]
	}
	for j, k := range uy {
		nk[k]++
		ry[k] += s.yy.rowA[j]
		ryx[k] += s.xy.rowB[j]
	}
	loo := make([]float64, g)
	for k := range g {
		// Removing rows R of x from ΣΣ K: subtract their rows and columns
		// (2 Σ_R row sums, K symmetric) and add back the R×R block counted
		// twice; the cross sum loses x's rows R, y's rows of the block, and
		// regains their R×block sum.
		sxx := s.xx.total - 2*rx[k] + s.xx.unit[k]
		syy := s.yy.total - 2*ry[k] + s.yy.unit[k]
		sxy := s.xy.total - rxy[k] - ryx[k] + s.xy.unit[k]
		loo[k] = s.value(s.m-mk[k], s.n-nk[k], sxx, syy, sxy)
	}
	v := s.value(s.m, s.n, s.xx.total, s.yy.total, s.xy.total)
	// The population MMD² is ≥ 0.
	j := jackknifeNonNegative(v, loo, level)
	return &CMMDInterval{Value: v, Level: level, Groups: g, LeaveOneOut: loo,
		Bias: j.bias, Corrected: j.corrected, StdErr: j.stdErr, CI: j.ci}, nil
}

// cmmdParts are the kernel sums of the three Gram blocks.
type cmmdParts struct {
	m, n       int
	gamma      float64
	xx, yy, xy rbfSums
}

// value is CMMD from the three kernel sums of sets of m and n rows.
func (c *cmmdParts) value(m, n int, sxx, syy, sxy float64) float64 {
	fm, fn := float64(m), float64(n)
	return CMMDScale * (sxx/(fm*fm) + syy/(fn*fn) - 2*sxy/(fm*fn))
}

// cmmdSums checks the sets and computes the three kernel sums, with the
// per-unit sums when units > 0 (ux, uy: each row's unit).
func cmmdSums(x, y [][]float64, sigma float64, units int, ux, uy []int) (*cmmdParts, error) {
	if !(sigma > 0) || math.IsInf(sigma, 0) {
		return nil, fmt.Errorf("metrics: CMMD: kernel bandwidth σ = %v, want a positive number", sigma)
	}
	xd, err := denseRows(x)
	if err != nil {
		return nil, fmt.Errorf("metrics: CMMD first set: %w", err)
	}
	yd, err := denseRows(y)
	if err != nil {
		return nil, fmt.Errorf("metrics: CMMD second set: %w", err)
	}
	m, d := xd.Dims()
	n, dy := yd.Dims()
	if d != dy {
		return nil, fmt.Errorf("metrics: CMMD: embedding dimensions differ (%d and %d)", d, dy)
	}
	gamma := 1 / (2 * sigma * sigma)
	xn, yn := rowSquares(xd), rowSquares(yd)
	c := &cmmdParts{m: m, n: n, gamma: gamma}
	c.xx = rbfKernelSums(xd, xn, ux, xd, xn, ux, gamma, units, true)
	c.yy = rbfKernelSums(yd, yn, uy, yd, yn, uy, gamma, units, true)
	c.xy = rbfKernelSums(xd, xn, ux, yd, yn, uy, gamma, units, false)
	return c, nil
}

// rowSquares returns a_i · a_i for each row.
func rowSquares(a *mat.Dense) []float64 {
	r, _ := a.Dims()
	out := make([]float64, r)
	for i := range out {
		row := a.RawRowView(i)
		out[i] = blas64.Dot(blas64.Vector{N: len(row), Data: row, Inc: 1}, blas64.Vector{N: len(row), Data: row, Inc: 1})
	}
	return out
}

// rbfSums are sums of k(a_i, b_j) = exp(−γ‖a_i − b_j‖²) over all pairs.
type rbfSums struct {
	total float64
	// rowA[i] = Σ_j k(a_i, b_j); rowB[j] = Σ_i k(a_i, b_j) (nil when a
	// and b are the same set: then it equals rowA).
	rowA, rowB []float64
	// unit[u] = Σ k(a_i, b_j) over the pairs with i and j both in unit u.
	unit []float64
}

// cmmdTile is the side of the square tiles of the Gram matrix: a tile's
// product (256·256·D multiply-adds) keeps the library's kernels at speed,
// and its 512 kB stay in cache for the exponentials.
const cmmdTile = 256

// rbfKernelSums computes the kernel sums between the rows of a (squared
// norms an, units ua) and b (bn, ub) tile by tile: each tile's dot
// products by one Dgemm, then ‖a_i − b_j‖² = an_i + bn_j − 2 a_i·b_j, as
// distance.py forms it, and the exponentials, all in float64. With sym (a
// and b the same set) only the tiles on and above the diagonal are
// computed and the others mirrored. Tiles run on every core: the products
// one at a time under the optimised library (each already uses every
// core), the exponentials in parallel; each worker sums into its own
// arrays, merged at the end.
func rbfKernelSums(a *mat.Dense, an []float64, ua []int, b *mat.Dense, bn []float64, ub []int, gamma float64, units int, sym bool) rbfSums {
	ra, d := a.Dims()
	rb, _ := b.Dims()
	ta, tb := (ra+cmmdTile-1)/cmmdTile, (rb+cmmdTile-1)/cmmdTile
	type tile struct{ i, j int }
	next := make(chan tile)
	nw := workers()
	parts := make([]rbfSums, nw)
	var wg sync.WaitGroup
	for w := range nw {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := rbfSums{rowA: make([]float64, ra), unit: make([]float64, units)}
			if !sym {
				p.rowB = make([]float64, rb)
			}
			buf := make([]float64, cmmdTile*cmmdTile)
			ad, bd := a.RawMatrix(), b.RawMatrix()
			for t := range next {
				i0, j0 := t.i*cmmdTile, t.j*cmmdTile
				i1, j1 := min(i0+cmmdTile, ra), min(j0+cmmdTile, rb)
				h, w := i1-i0, j1-j0
				if active.lapack {
					blasMu.Lock()
				}
				blas64.Implementation().Dgemm(blas.NoTrans, blas.Trans, h, w, d, 1,
					ad.Data[i0*ad.Stride:], ad.Stride, bd.Data[j0*bd.Stride:], bd.Stride, 0, buf, w)
				if active.lapack {
					blasMu.Unlock()
				}
				diag := sym && t.i == t.j
				for r := range h {
					i := i0 + r
					ai, ui := an[i], -1
					if units > 0 {
						ui = ua[i]
					}
					row := buf[r*w : (r+1)*w]
					c0 := 0
					if diag {
						c0 = r // the upper triangle of a diagonal tile, mirrored below
					}
					var sum float64
					for c := c0; c < w; c++ {
						j := j0 + c
						k := math.Exp(-gamma * (ai + bn[j] - 2*row[c]))
						switch {
						case diag && c == r:
							sum += k
							if ui >= 0 {
								p.unit[ui] += k
							}
							continue
						case sym:
							p.rowA[j] += k
							if ui >= 0 && ub[j] == ui {
								p.unit[ui] += 2 * k
							}
						default:
							p.rowB[j] += k
							if ui >= 0 && ub[j] == ui {
								p.unit[ui] += k
							}
						}
						sum += k
					}
					p.rowA[i] += sum
				}
			}
			parts[w] = p
		}()
	}
	for i := range ta {
		j0 := 0
		if sym {
			j0 = i
		}
		for j := j0; j < tb; j++ {
			next <- tile{i, j}
		}
	}
	close(next)
	wg.Wait()
	out := parts[0]
	for _, p := range parts[1:] {
		addTo(out.rowA, p.rowA)
		addTo(out.rowB, p.rowB)
		addTo(out.unit, p.unit)
	}
	for _, v := range out.rowA {
		out.total += v
	}
	if sym {
		out.rowB = out.rowA
	}
	return out
}

func addTo(dst, src []float64) {
	for i, v := range src {
		dst[i] += v
	}
}
