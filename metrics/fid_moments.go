package metrics

import (
	"fmt"
	"math"

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
func FIDToGaussian(x [][]float64, g *Gaussian) (float64, error) {
	fx, err := FitGaussian(x)
	if err != nil {
		return 0, err
	}
	return FrechetDistance(fx, g)
}
