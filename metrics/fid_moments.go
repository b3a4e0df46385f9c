package metrics

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// NewGaussian returns the Gaussian fit N(mean, cov) given by its moments,
// as pytorch-fid's .npz statistics store them (mu [D], sigma [D, D] in
// row-major order), so that FID against published statistics is the
// [FrechetDistance] between this fit and one of generated features. n is
// the number of feature vectors the moments came from (0 when unknown).
//
// cov must be symmetric up to rounding: |Σ_ij − Σ_ji| ≤ 1e−9 · max|Σ|
// (numpy's np.cov is symmetric to rounding); the stored matrix is
// (Σ + Σᵀ)/2. Dimensions that do not match, values that are NaN or
// infinite, and a negative diagonal (no covariance has one) are errors.
func NewGaussian(mean, cov []float64, n int) (*Gaussian, error) {
	d := len(mean)
	if d == 0 {
		return nil, fmt.Errorf("metrics: Gaussian: empty mean")
	}
	if len(cov) != d*d {
		return nil, fmt.Errorf("metrics: Gaussian: mean has %d dimensions, covariance %d values (want %d×%d)", d, len(cov), d, d)
	}
	for j, v := range mean {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("metrics: Gaussian: mean value %d is %v", j, v)
		}
	}
	var big float64
	for i, v := range cov {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("metrics: Gaussian: covariance value (%d, %d) is %v", i/d, i%d, v)
		}
		big = max(big, math.Abs(v))
	}
	s := mat.NewSymDense(d, nil)
	for i := range d {
		if cov[i*d+i] < 0 {
			return nil, fmt.Errorf("metrics: Gaussian: covariance diagonal (%d, %d) is negative (%g)", i, i, cov[i*d+i])
		}
		for j := i; j < d; j++ {
			a, b := cov[i*d+j], cov[j*d+i]
			if math.Abs(a-b) > 1e-9*big {
				return nil, fmt.Errorf("metrics: Gaussian: covariance is not symmetric: (%d, %d) = %g, (%d, %d) = %g", i, j, a, j, i, b)
			}
			s.SetSym(i, j, 0.5*(a+b))
		}
	}
	return &Gaussian{Mean: append([]float64(nil), mean...), Cov: s, N: n}, nil
}

// CovData returns the covariance Σ as a full row-major D×D slice (the
// layout of a pytorch-fid sigma array).
func (g *Gaussian) CovData() []float64 {
	d := len(g.Mean)
	out := make([]float64, d*d)
	for i := range d {
		for j := range d {
			out[i*d+j] = g.Cov.At(i, j)
		}
	}
	return out
}

// FIDToGaussian is the Fréchet Inception Distance between the features x
// [N][D] (N ≥ 2) and a fit given by its moments (for example published
// real-image statistics): [FrechetDistance]([FitGaussian](x), g). It equals
// [FID](x, y) when g is the fit of y, up to rounding.
//
// When N ≤ D the fit of x has rank below D and the trace term is computed
// in sample space, as [FID] does: with the centred data A (N×D),
// Σ1 = AᵀA/(N−1), the nonzero eigenvalues of Σ1 Σ2 are those of the N×N
// symmetric A Σ2 Aᵀ/(N−1), so
//
//	Tr((Σ1 Σ2)^{1/2}) = Σ_i sqrt(λ_i(A Σ2 Aᵀ)) / sqrt(N−1),
//
// which costs N·D² instead of two D×D eigendecompositions (minutes at
// D = 2048 for a few hundred generated images against published statistics).
func FIDToGaussian(x [][]float64, g *Gaussian) (float64, error) {
	if g != nil && g.Cov != nil && len(x) >= 2 && len(x) <= len(g.Mean) {
		return fidSamplesToGaussian(x, g)
	}
	fx, err := FitGaussian(x)
	if err != nil {
		return 0, err
	}
	return FrechetDistance(fx, g)
}

// fidSamplesToGaussian is FIDToGaussian in sample space (N ≤ D).
func fidSamplesToGaussian(x [][]float64, g *Gaussian) (float64, error) {
	a, err := denseRows(x)
	if err != nil {
		return 0, fmt.Errorf("metrics: Gaussian fit: %w", err)
	}
	n, d := a.Dims()
	if d != len(g.Mean) || g.Cov.SymmetricDim() != d {
		return 0, fmt.Errorf("metrics: Fréchet distance: dimensions differ (%d and %d)", d, len(g.Mean))
	}
	mx, trA := centre(a)
	var dmu, trG float64
	for j := range d {
		t := mx[j] - g.Mean[j]
		dmu += t * t
		trG += g.Cov.At(j, j)
	}
	sum, err := sumSqrtSamples(a, g.Cov, n)
	if err != nil {
		return 0, fmt.Errorf("metrics: Fréchet distance: %w", err)
	}
	fn := float64(n - 1)
	return dmu + trA/fn + trG - 2*sum/math.Sqrt(fn), nil
}

// sumSqrtSamples is Σ_i sqrt(λ_i(A Σ Aᵀ)) for the centred n×D samples A.
// With the Cholesky factor Σ = L Lᵀ these are the singular values of A L,
// which keep small ones exact (see FrechetDistance); a covariance that is
// not positive definite (statistics of fewer images than dimensions) takes
// the eigenvalues of A Σ Aᵀ, the ones at rounding level counting as 0, so
// that no D×D eigendecomposition runs.
func sumSqrtSamples(a *mat.Dense, cov *mat.SymDense, n int) (float64, error) {
	var chol mat.Cholesky
	if chol.Factorize(cov) {
		var l mat.TriDense
		chol.LTo(&l)
		var c mat.Dense
		c.Mul(a, mat.DenseCopyOf(&l))
		var svd mat.SVD
		if !svd.Factorize(&c, mat.SVDNone) {
			return 0, fmt.Errorf("singular value decomposition for Tr((Σ1 Σ2)^1/2) did not converge")
		}
		return floats.Sum(svd.Values(nil)), nil
	}
	// A Σ Aᵀ on dense copies (the blocked Dgemm kernel).
	var t, m mat.Dense
	t.Mul(a, mat.DenseCopyOf(cov))
	m.Mul(&t, a.T())
	var es mat.EigenSym
	if !es.Factorize(symmetrize(&m, n), false) {
		return 0, fmt.Errorf("eigendecomposition for Tr((Σ1 Σ2)^1/2) did not converge")
	}
	vals := es.Values(nil)
	floor := eigenFloor(vals)
	var sum float64
	for _, l := range vals {
		if l > floor {
			sum += math.Sqrt(l)
		}
	}
	return sum, nil
}
