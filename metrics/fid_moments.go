package metrics

import (
	"fmt"
	"math"

	"github.com/munit-eval/munit-eval/internal/blasdl"
	"gonum.org/v1/gonum/blas"
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
// infinite, a negative diagonal, a matrix that is not positive
// semidefinite (no covariance is either; see checkPSD), and values whose
// scale no features have (|μ| above MaxMoment, a nonzero max|Σ| outside
// [MinMoment, MaxMoment]: the Fréchet distance would overflow or underflow
// on the way) are errors.
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
	var big, bigMean float64
	for _, v := range mean {
		bigMean = max(bigMean, math.Abs(v))
	}
	for i, v := range cov {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("metrics: Gaussian: covariance value (%d, %d) is %v", i/d, i%d, v)
		}
		big = max(big, math.Abs(v))
	}
	if bigMean > MaxMoment {
		return nil, fmt.Errorf("metrics: Gaussian: a mean value is %g; features of that scale (above %g) would overflow the distance", bigMean, MaxMoment)
	}
	if big != 0 && (big < MinMoment || big > MaxMoment) {
		return nil, fmt.Errorf("metrics: Gaussian: the covariance's largest value is %g; want one between %g and %g (features of that scale would %s the distance's linear algebra)",
			big, MinMoment, MaxMoment, map[bool]string{true: "underflow", false: "overflow"}[big < MinMoment])
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
	if err := checkPSD(s); err != nil {
		return nil, err
	}
	return &Gaussian{Mean: append([]float64(nil), mean...), Cov: s, N: n}, nil
}

// The scale of moments NewGaussian accepts: |μ| ≤ MaxMoment and, unless Σ
// is zero, MinMoment ≤ max|Σ| ≤ MaxMoment. Features of any network are far
// inside; beyond, products in the distance leave float64's range.
const (
	MinMoment = 1e-100
	MaxMoment = 1e100
)

// psdSlack is δ/Tr(Σ) in checkPSD: far above the rounding of a float64
// covariance (about D·2^−52 of its largest eigenvalue) and of one stored
// in float32 (2^−24 per value), far below any real negative direction.
const psdSlack = 1e-6

// checkPSD refuses a symmetric matrix that is not positive semidefinite:
// Σ + δI with δ = psdSlack·Tr(Σ) must have a Cholesky factor, which holds
// exactly when Σ's smallest eigenvalue is above −δ. A positive diagonal
// does not make a covariance ([[1, 2], [2, 1]] has the eigenvalue −1); the
// distance of such a matrix is a number without meaning.
func checkPSD(s *mat.SymDense) error {
	d := s.SymmetricDim()
	var tr float64
	for i := range d {
		tr += s.At(i, i)
	}
	if tr == 0 {
		// Every variance is 0, so every covariance must be too.
		for i := range d {
			for j := i; j < d; j++ {
				if s.At(i, j) != 0 {
					return fmt.Errorf("metrics: Gaussian: covariance (%d, %d) is %g with zero variances: not positive semidefinite, so not a covariance", i, j, s.At(i, j))
				}
			}
		}
		return nil
	}
	delta := psdSlack * tr
	if active.lapack && d >= lapackMinDim {
		u := make([]float64, d*d)
		raw := s.RawSymmetric()
		for i := range d {
			copy(u[i*d+i:(i+1)*d], raw.Data[i*raw.Stride+i:i*raw.Stride+d])
			u[i*d+i] += delta
		}
		ok, err := blasdl.Dpotrf(blas.Upper, d, u, d)
		if err != nil {
			return fmt.Errorf("metrics: Gaussian: checking the covariance: %w", err)
		}
		if ok {
			return nil
		}
	} else {
		shifted := mat.NewSymDense(d, nil)
		shifted.CopySym(s)
		for i := range d {
			shifted.SetSym(i, i, shifted.At(i, i)+delta)
		}
		var chol mat.Cholesky
		if chol.Factorize(shifted) {
			return nil
		}
	}
	return fmt.Errorf("metrics: Gaussian: the covariance is not positive semidefinite (it has an eigenvalue below −%g·Tr Σ = %.3g), so it is no covariance of any features", psdSlack, -delta)
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
func FIDToGaussian(x [][]float64, g *Gaussian) (v float64, err error) {
	defer guard(&v, &err)
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
