package metrics

import (
	"fmt"
	"github.com/munit-eval/munit-eval/warning"
	"math"
	"slices"
	"sync"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Defaults of [KID], as torch-fidelity's kid_subsets and kid_subset_size.
const (
	DefaultKIDSubsets    = 100
	DefaultKIDSubsetSize = 1000
)

// KIDOptions configures [KID].
type KIDOptions struct {
	// Subsets is the number of random subsets; 0 means DefaultKIDSubsets.
	Subsets int
	// SubsetSize is the size m of each subset; 0 means
	// DefaultKIDSubsetSize. It is clipped to the size of the smaller set.
	SubsetSize int
	// Seed seeds the PCG generator that draws the subsets.
	Seed uint64
}

// KIDResult is the Kernel Inception Distance over subsets.
type KIDResult struct {
	// Mean and Std are the mean and the population standard deviation
	// (ddof 0, as torch-fidelity's np.std) of Values.
	Mean, Std float64
	// Values holds the unbiased MMD² of each subset.
	Values []float64
	// SubsetSize is the subset size m actually used.
	SubsetSize int
	// Warnings are things a reader must know (a clipped subset size).
	Warnings []warning.Warning
}

// KID computes the Kernel Inception Distance (Bińkowski et al.,
// "Demystifying MMD GANs", ICLR 2018) between feature sets x [Nx][D] and
// y [Ny][D] as torch-fidelity 0.4.0 does (kid_features_to_metric): for
// each of Subsets subsets it draws m rows of x and m rows of y without
// replacement and computes the unbiased estimator
//
//	MMD² = Σ_{i≠j} k(x_i, x_j) / (m(m−1)) + Σ_{i≠j} k(y_i, y_j) / (m(m−1))
//	       − 2 Σ_{i,j} k(x_i, y_j) / m²
//
// with the cubic polynomial kernel k(a, b) = (a·b / D + 1)³; the result
// is the mean and the population std over subsets. When the Gram matrices
// X Xᵀ, Y Yᵀ, X Yᵀ of the whole sets fit in 2.5 GB and cost less than the
// subsets' own products, the dot products are read from them, computed
// once; the values are the same up to rounding. With the optimised BLAS
// (see [UseBLAS]) a subset's three products are one, of the stacked
// [X; Y], one subset at a time on every core. The subsets are drawn
// first, in order, then evaluated in parallel over the cores, so the
// result does not depend on the number of cores. Differences from
// torch-fidelity: the subsets come from this package's seeded PCG
// generator, not numpy's, and a subset size larger than either set is
// clipped to the smaller set (torch-fidelity refuses), with a warning.
// It returns an error when a set has fewer than 2 rows, the dimensions
// differ, or a value is NaN or infinite.
func KID(x, y [][]float64, opts KIDOptions) (*KIDResult, error) {
	subsets, m := opts.Subsets, opts.SubsetSize
	if subsets == 0 {
		subsets = DefaultKIDSubsets
	}
	if m == 0 {
		m = DefaultKIDSubsetSize
	}
	if subsets < 1 || m < 2 {
		return nil, fmt.Errorf("metrics: KID: %d subsets of %d, need at least 1 subset of at least 2", subsets, m)
	}
	xd, err := denseRows(x)
	if err != nil {
		return nil, fmt.Errorf("metrics: KID first set: %w", err)
	}
	yd, err := denseRows(y)
	if err != nil {
		return nil, fmt.Errorf("metrics: KID second set: %w", err)
	}
	nx, d := xd.Dims()
	ny, dy := yd.Dims()
	if d != dy {
		return nil, fmt.Errorf("metrics: KID: feature dimensions differ (%d and %d)", d, dy)
	}
	res := &KIDResult{Values: make([]float64, subsets)}
	if small := min(nx, ny); m > small {
		res.Warnings = append(res.Warnings, warning.New(CodeClipped, SubjectKID, "KID subset size %d clipped to %d, the size of the smaller set", m, small))
		m = small
	}
	res.SubsetSize = m
	if m == nx && m == ny && subsets > 1 {
		// Every subset is the whole of both sets: the values are equal
		// and their std, 0, says nothing about the uncertainty.
		res.Warnings = append(res.Warnings, warning.New(CodeNoVariation, SubjectKID, "KID subsets of %d are the whole of both sets (%d and %d): the %d subsets are identical and their std of 0 is no uncertainty; use a subset size below the set sizes", m, nx, ny, subsets))
	}

	r := newRand(opts.Seed)
	px, py := identity(nx), identity(ny)
	// Draw every subset first, in order, from the one seeded generator, so
	// that the subsets (and the result) do not depend on how the work is
	// then spread over the cores.
	ixs, iys := make([][]int, subsets), make([][]int, subsets)
	for s := range subsets {
		ixs[s] = slices.Clone(sampleIndices(r, px, m))
		iys[s] = slices.Clone(sampleIndices(r, py, m))
	}
	gamma := 1 / float64(d)
	fm := float64(m)
	mmd := func(sxx, syy, sxy float64) float64 {
		return 2*(sxx+syy)/(fm*(fm-1)) - 2*sxy/(fm*fm)
	}
	// The dot products of a subset are entries of the whole sets' Gram
	// matrices; when those are cheaper than Subsets per-subset products
	// and fit in memory, compute them once.
	gram := 8*(nx*nx+ny*ny+nx*ny) <= maxGramBytes && nx*nx+ny*ny+2*nx*ny < 4*subsets*m*m
	var ax, ay blas64.Symmetric
	var axy blas64.General
	if gram {
		var gxx, gyy mat.SymDense
		var gxy mat.Dense
		gxx.SymOuterK(1, xd)
		gyy.SymOuterK(1, yd)
		gxy.Mul(xd, yd.T())
		ax, ay, axy = gxx.RawSymmetric(), gyy.RawSymmetric(), gxy.RawMatrix()
	}
	// Subsets in parallel, each worker with its own scratch; every subset
	// value is computed exactly as it would be serially.
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers(), subsets) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sx, sy, stack *mat.Dense
			var kxx, kyy, kk mat.SymDense
			var kxy mat.Dense
			stacked := !gram && active.lapack
			switch {
			case stacked:
				stack = mat.NewDense(2*m, d, nil)
			case !gram:
				sx, sy = mat.NewDense(m, d, nil), mat.NewDense(m, d, nil)
			}
			for s := range next {
				ix, iy := ixs[s], iys[s]
				var sxx, syy, sxy float64
				if gram {
					for a := range m {
						for b := a + 1; b < m; b++ {
							sxx += cubic(upper(ax, ix[a], ix[b]), gamma)
							syy += cubic(upper(ay, iy[a], iy[b]), gamma)
						}
						row := axy.Data[ix[a]*axy.Stride:]
						for b := range m {
							sxy += cubic(row[iy[b]], gamma)
						}
					}
				} else if stacked {
					// One product of the stacked subset [X; Y] (2m×D),
					// whose blocks are X Xᵀ, X Yᵀ and Y Yᵀ: the same
					// flops as three, in one larger and so faster call
					// of the optimised library.
					for i, j := range ix {
						copy(stack.RawRowView(i), xd.RawRowView(j))
					}
					for i, j := range iy {
						copy(stack.RawRowView(m+i), yd.RawRowView(j))
					}
					blasMu.Lock()
					kk.SymOuterK(1, stack)
					blasMu.Unlock()
					raw := kk.RawSymmetric()
					for a := range m {
						rx, ry := raw.Data[a*raw.Stride:], raw.Data[(m+a)*raw.Stride:]
						for b := a + 1; b < m; b++ {
							sxx += cubic(rx[b], gamma)
							syy += cubic(ry[m+b], gamma)
						}
						for _, v := range rx[m : 2*m] {
							sxy += cubic(v, gamma)
						}
					}
				} else {
					for i, j := range ix {
						copy(sx.RawRowView(i), xd.RawRowView(j))
					}
					for i, j := range iy {
						copy(sy.RawRowView(i), yd.RawRowView(j))
					}
					kxx.SymOuterK(1, sx)
					kyy.SymOuterK(1, sy)
					kxy.Mul(sx, sy.T())
					bx, by, bxy := kxx.RawSymmetric(), kyy.RawSymmetric(), kxy.RawMatrix()
					for a := range m {
						for b := a + 1; b < m; b++ {
							sxx += cubic(bx.Data[a*bx.Stride+b], gamma)
							syy += cubic(by.Data[a*by.Stride+b], gamma)
						}
						for _, v := range bxy.Data[a*bxy.Stride : a*bxy.Stride+m] {
							sxy += cubic(v, gamma)
						}
					}
				}
				res.Values[s] = mmd(sxx, syy, sxy)
			}
		}()
	}
	for s := range subsets {
		next <- s
	}
	close(next)
	wg.Wait()
	res.Mean = Mean(res.Values)
	res.Std = PopulationStd(res.Values)
	return res, nil
}

func cubic(dot, gamma float64) float64 {
	t := dot*gamma + 1
	return t * t * t
}

func identity(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}

// maxGramBytes bounds the memory of KID's three Gram matrices (X Xᵀ, Y Yᵀ,
// X Yᵀ): 2.5 GB holds them for two sets of 10,000.
const maxGramBytes = 2500 << 20

// sampleIndices draws m of the indices in perm without replacement by a
// partial Fisher–Yates shuffle, returning perm[:m].
func sampleIndices(r interface{ IntN(int) int }, perm []int, m int) []int {
	n := len(perm)
	for i := range m {
		j := i + r.IntN(n-i)
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm[:m]
}

// upper returns element (i, j) of a symmetric matrix stored in its
// upper triangle.
func upper(a blas64.Symmetric, i, j int) float64 {
	if i > j {
		i, j = j, i
	}
	return a.Data[i*a.Stride+j]
}

// denseRows copies rows into a matrix, checking they are non-empty,
// rectangular and finite.
func denseRows(x [][]float64) (*mat.Dense, error) {
	if len(x) < 2 {
		return nil, fmt.Errorf("%d feature vectors, need at least 2", len(x))
	}
	d := len(x[0])
	if d == 0 {
		return nil, fmt.Errorf("feature vector 0 is empty")
	}
	out := mat.NewDense(len(x), d, nil)
	for r, row := range x {
		if len(row) != d {
			return nil, fmt.Errorf("feature vector %d has %d values, vector 0 has %d", r, len(row), d)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("feature vector %d value %d is %v", r, j, v)
			}
		}
		copy(out.RawRowView(r), row)
	}
	return out, nil
}
