package metrics

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/munit-eval/munit-eval/internal/blasdl"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// Gaussian is a Gaussian fit of a feature set: its mean and its sample
// covariance. Fit the real images' features once and reuse the fit for
// every method.
type Gaussian struct {
	// Mean is μ = (1/N) Σ_n x_n.
	Mean []float64
	// Cov is Σ = (1/(N−1)) Σ_n (x_n − μ)(x_n − μ)ᵀ.
	Cov *mat.SymDense
	// N is the number of feature vectors fitted.
	N int
	// Source is what the features came from (resize, features model), as
	// a statistics file records it, for checks before use; the metrics
	// ignore it. Nil when not known.
	Source map[string]string
}

// FitGaussian fits the mean μ and the sample covariance
// Σ = (1/(N−1)) Σ_n (x_n − μ)(x_n − μ)ᵀ (numpy's np.cov(x, rowvar=False),
// as pytorch-fid and torch-fidelity use) to N ≥ 2 feature vectors of one
// dimension D ≥ 1, in float64. It returns an error naming the first bad
// row when a row's length differs or a value is NaN or infinite.
func FitGaussian(x [][]float64) (*Gaussian, error) {
	n := len(x)
	if n < 2 {
		return nil, fmt.Errorf("metrics: Gaussian fit: %d feature vectors, need at least 2", n)
	}
	d := len(x[0])
	if d == 0 {
		return nil, fmt.Errorf("metrics: Gaussian fit: feature vector 0 is empty")
	}
	mu := make([]float64, d)
	for r, row := range x {
		if len(row) != d {
			return nil, fmt.Errorf("metrics: Gaussian fit: feature vector %d has %d values, vector 0 has %d", r, len(row), d)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("metrics: Gaussian fit: feature vector %d value %d is %v", r, j, v)
			}
			mu[j] += v
		}
	}
	for j := range mu {
		mu[j] /= float64(n)
	}
	centred := mat.NewDense(n, d, nil)
	for r, row := range x {
		dst := centred.RawRowView(r)
		for j, v := range row {
			dst[j] = v - mu[j]
		}
	}
	cov := mat.NewSymDense(d, nil)
	cov.SymOuterK(1/float64(n-1), centred.T())
	return &Gaussian{Mean: mu, Cov: cov, N: n}, nil
}

// FrechetDistance returns the Fréchet (2-Wasserstein) distance between
// N(μ1, Σ1) and N(μ2, Σ2) (Dowson & Landau 1982; Heusel et al., "GANs
// Trained by a Two Time-Scale Update Rule…", NeurIPS 2017, FID):
//
//	d² = ||μ1 − μ2||² + Tr(Σ1 + Σ2 − 2 (Σ1^{1/2} Σ2 Σ1^{1/2})^{1/2})
//
// Tr((Σ1 Σ2)^{1/2}) = Σ_j sqrt(λ_j), with λ_j the eigenvalues of Σ1 Σ2.
// With factors Σ_k = F_k F_kᵀ these are the squared singular values of
// F1ᵀ F2 (Σ1 Σ2 is similar to F1ᵀ F2 F2ᵀ F1), so the trace is Σ_j σ_j(F1ᵀ
// F2): the Cholesky factors where a covariance is positive definite, its
// symmetric square root V Λ^{1/2} Vᵀ otherwise (a rank-deficient fit; its
// eigenvalues at or below max|λ|·D·2^−52 are rounding noise of a positive
// semidefinite matrix and count as 0). Singular values are accurate to
// about 2^−52·σ_max each, where the eigenvalues of the symmetric Lᵀ Σ2 L
// (the usual route, and pytorch-fid's sqrtm of Σ1 Σ2) are accurate to
// 2^−52·λ_max, i.e. their square roots only to 2^−26·sqrt(λ_max): on
// ill-conditioned or near-duplicate covariances that route drops or
// distorts real small eigenvalues, and FID comes out too large by 2·Σ
// sqrt(dropped). No singular value is floored. gonum's mat.SVD, or
// LAPACK's dpotrf, dtrmm and dgesdd with the optimised library of
// [UseBLAS]; nothing complex appears. The result is not clamped: a tiny
// negative value is rounding around 0.
func FrechetDistance(a, b *Gaussian) (v float64, err error) {
	defer guard(&v, &err)
	if a == nil || b == nil || a.Cov == nil || b.Cov == nil {
		return 0, fmt.Errorf("metrics: Fréchet distance: missing Gaussian fit")
	}
	d := len(a.Mean)
	if len(b.Mean) != d || a.Cov.SymmetricDim() != d || b.Cov.SymmetricDim() != d {
		return 0, fmt.Errorf("metrics: Fréchet distance: dimensions differ (%d and %d)", d, len(b.Mean))
	}
	var dmu float64
	for j := range d {
		t := a.Mean[j] - b.Mean[j]
		dmu += t * t
	}
	var tr float64
	for j := range d {
		tr += a.Cov.At(j, j) + b.Cov.At(j, j)
	}

	trSqrt, err := traceSqrtProduct(a.Cov, b.Cov)
	if err != nil {
		return 0, fmt.Errorf("metrics: Fréchet distance: %w", err)
	}
	return dmu + tr - 2*trSqrt, nil
}

// guard ends a distance computation: a linear algebra routine's panic
// (gonum's on values at the edge of float64's range) becomes an error, and
// so does a result that is not finite, which no table or results document
// can carry.
func guard(v *float64, err *error) {
	if r := recover(); r != nil {
		*v, *err = 0, fmt.Errorf("metrics: Fréchet distance: the linear algebra failed (%v): are the features or statistics of a usable scale?", r)
		return
	}
	if *err == nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
		*v, *err = 0, fmt.Errorf("metrics: Fréchet distance: the result is %v: the features or statistics are too large", *v)
	}
}

// eigenFloor is the level below which an eigenvalue of a symmetric
// positive semidefinite D×D matrix is rounding noise and treated as 0:
// max_j |λ_j| · D · ε, ε = 2^−52 (the rank tolerance of LAPACK and
// numpy.linalg.matrix_rank).
func eigenFloor(vals []float64) float64 {
	var m float64
	for _, l := range vals {
		m = max(m, math.Abs(l))
	}
	return m * float64(len(vals)) * 0x1p-52
}

// traceSqrtProduct returns Tr((S1 S2)^{1/2}) for symmetric positive
// semidefinite S1, S2: the sum of the singular values of F1ᵀ F2 (see
// FrechetDistance).
func traceSqrtProduct(s1, s2 *mat.SymDense) (float64, error) {
	if active.lapack && s1.SymmetricDim() >= lapackMinDim {
		t, ok, err := traceSqrtProductLAPACK(s1, s2)
		if ok || err != nil {
			return t, err
		}
		// A covariance not positive definite: the square-root factor below.
	}
	f1, err := factor(s1)
	if err != nil {
		return 0, fmt.Errorf("factor of the first covariance: %w", err)
	}
	f2, err := factor(s2)
	if err != nil {
		return 0, fmt.Errorf("factor of the second covariance: %w", err)
	}
	var c mat.Dense
	c.Mul(f1.T(), f2)
	var svd mat.SVD
	if !svd.Factorize(&c, mat.SVDNone) {
		return 0, fmt.Errorf("singular value decomposition for Tr((Σ1 Σ2)^1/2) did not converge")
	}
	return floats.Sum(svd.Values(nil)), nil
}

// factor returns F with s = F Fᵀ: the Cholesky factor L when s is positive
// definite, its symmetric square root otherwise. Plain dense copies keep
// later products on the blocked Dgemm kernel.
func factor(s *mat.SymDense) (*mat.Dense, error) {
	var chol mat.Cholesky
	if chol.Factorize(s) {
		var l mat.TriDense
		chol.LTo(&l)
		return mat.DenseCopyOf(&l), nil
	}
	return symSqrt(s)
}

// lapackMinDim is the dimension from which FID's Cholesky path calls the
// optimised LAPACK; below it gonum's is as fast and spares OpenBLAS's
// threads many small calls (the FID jackknife runs one per group, on
// every core).
const lapackMinDim = 128

// traceSqrtProductLAPACK is traceSqrtProduct's Cholesky path in the
// optimised library, in row-major upper triangles: S_k = U_kᵀ U_k (dpotrf;
// F_k = U_kᵀ), then C = F1ᵀ F2 = U1 U2ᵀ by one triangular product (dtrmm)
// and C's singular values without vectors (dgesdd). ok is false, with no
// error, when a covariance is not positive definite.
func traceSqrtProductLAPACK(s1, s2 *mat.SymDense) (t float64, ok bool, err error) {
	d := s1.SymmetricDim()
	u1, ok, err := upperCholesky(s1)
	if !ok || err != nil {
		return 0, false, err
	}
	u2, ok, err := upperCholesky(s2)
	if !ok || err != nil {
		return 0, false, err
	}
	// C starts as U2ᵀ in full (lower triangle), then U1 · U2ᵀ.
	c := make([]float64, d*d)
	for i := range d {
		for j := i; j < d; j++ {
			c[j*d+i] = u2[i*d+j]
		}
	}
	impl := blasdl.Implementation{}
	impl.Dtrmm(blas.Left, blas.Upper, blas.NoTrans, blas.NonUnit, d, d, 1, u1, d, c, d)
	vals, err := blasdl.SingularValues(d, d, c, d)
	if err != nil {
		return 0, false, fmt.Errorf("singular values for Tr((Σ1 Σ2)^1/2): %w", err)
	}
	return floats.Sum(vals), true, nil
}

// upperCholesky returns U (row-major, upper triangle, zeros below) with
// s = Uᵀ U, by LAPACK's dpotrf; ok is false when s is not positive
// definite.
func upperCholesky(s *mat.SymDense) (u []float64, ok bool, err error) {
	d := s.SymmetricDim()
	r := s.RawSymmetric()
	u = make([]float64, d*d)
	for i := range d {
		copy(u[i*d+i:(i+1)*d], r.Data[i*r.Stride+i:i*r.Stride+d])
	}
	if ok, err := blasdl.Dpotrf(blas.Upper, d, u, d); err != nil || !ok {
		return nil, false, err
	}
	return u, true, nil
}

// symmetrize returns (a + aᵀ)/2, removing rounding asymmetry.
func symmetrize(a *mat.Dense, d int) *mat.SymDense {
	m := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			m.SetSym(i, j, 0.5*(a.At(i, j)+a.At(j, i)))
		}
	}
	return m
}

// symSqrt returns V diag(sqrt(max(λ, 0))) Vᵀ for the symmetric s = V Λ Vᵀ.
func symSqrt(s *mat.SymDense) (*mat.Dense, error) {
	var es mat.EigenSym
	if !es.Factorize(s, true) {
		return nil, fmt.Errorf("eigendecomposition did not converge")
	}
	vals := es.Values(nil)
	floor := eigenFloor(vals)
	var v mat.Dense
	es.VectorsTo(&v)
	d := len(vals)
	scaled := mat.NewDense(d, d, nil)
	for j, l := range vals {
		r := 0.0
		if l > floor {
			r = math.Sqrt(l)
		}
		for i := range d {
			scaled.Set(i, j, v.At(i, j)*r)
		}
	}
	var out mat.Dense
	out.Mul(scaled, v.T())
	return &out, nil
}

// FID is the Fréchet Inception Distance (Heusel et al. 2017) between two
// feature sets x [Nx][D] and y [Ny][D] (pool features of generated and
// of real images): the [FrechetDistance] between their [FitGaussian]
// fits.
//
// When min(Nx, Ny) ≤ D (the usual case: a few hundred images, D = 2048)
// the D×D covariances have rank below D and FID works in sample space
// instead, with the same value up to rounding: with the centred data
// A (Nx×D) and B (Ny×D), Σ1 = AᵀA/(Nx−1) and Σ2 = BᵀB/(Ny−1), so
//
//	Tr Σ1 = ||A||²_F/(Nx−1),  Tr Σ2 = ||B||²_F/(Ny−1),
//	Tr((Σ1 Σ2)^{1/2}) = Σ_i σ_i(A Bᵀ) / sqrt((Nx−1)(Ny−1)),
//
// the singular values σ_i of the Nx×Ny matrix A Bᵀ (the nonzero
// eigenvalues of Σ1 Σ2 are those of A Σ2 Aᵀ/(Nx−1) = C Cᵀ/((Nx−1)(Ny−1)),
// C = A Bᵀ), which costs Nx·Ny·D instead of D³.
func FID(x, y [][]float64) (v float64, err error) {
	defer guard(&v, &err)
	xd, err := denseRows(x)
	if err != nil {
		return 0, fmt.Errorf("metrics: FID first set: %w", err)
	}
	yd, err := denseRows(y)
	if err != nil {
		return 0, fmt.Errorf("metrics: FID second set: %w", err)
	}
	nx, d := xd.Dims()
	ny, dy := yd.Dims()
	if d != dy {
		return 0, fmt.Errorf("metrics: FID: feature dimensions differ (%d and %d)", d, dy)
	}
	if min(nx, ny) > d {
		// The two fits are independent: run them side by side, unless
		// the optimised library runs each on every core already.
		var gx, gy *Gaussian
		var errx, erry error
		done := make(chan struct{})
		fitY := func() {
			defer close(done)
			gy, erry = FitGaussian(y)
		}
		if active.lapack {
			fitY()
		} else {
			go fitY()
		}
		gx, errx = FitGaussian(x)
		<-done
		if errx != nil {
			return 0, fmt.Errorf("metrics: FID first set: %w", errx)
		}
		if erry != nil {
			return 0, fmt.Errorf("metrics: FID second set: %w", erry)
		}
		return FrechetDistance(gx, gy)
	}
	return fidSamples(xd, yd)
}

// fidSamples is FID in sample space (see FID); it centres x and y in
// place.
func fidSamples(xd, yd *mat.Dense) (float64, error) {
	nx, d := xd.Dims()
	ny, _ := yd.Dims()
	mx, trX := centre(xd)
	my, trY := centre(yd)
	var dmu float64
	for j := range d {
		t := mx[j] - my[j]
		dmu += t * t
	}
	var c mat.Dense
	c.Mul(xd, yd.T())
	var svd mat.SVD
	if !svd.Factorize(&c, mat.SVDNone) {
		return 0, fmt.Errorf("metrics: FID: singular value decomposition did not converge")
	}
	// Every singular value counts: each is accurate to 2^−52·σ_max, so
	// small ones are real (see FrechetDistance).
	sum := floats.Sum(svd.Values(nil))
	fx, fy := float64(nx-1), float64(ny-1)
	return dmu + trX/fx + trY/fy - 2*sum/math.Sqrt(fx*fy), nil
}

// centre subtracts the column means from a in place and returns them
// with the squared Frobenius norm of the centred matrix.
func centre(a *mat.Dense) (mean []float64, sumSq float64) {
	n, d := a.Dims()
	mean = make([]float64, d)
	for i := range n {
		for j, v := range a.RawRowView(i) {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for i := range n {
		row := a.RawRowView(i)
		for j := range row {
			row[j] -= mean[j]
			sumSq += row[j] * row[j]
		}
	}
	return mean, sumSq
}

// FIDInterval is the jackknife interval of [FIDJackknife].
type FIDInterval struct {
	// Value is the plug-in FID of all the features.
	Value float64
	// Bias is the jackknife estimate of Value's bias,
	// (G − 1)·(mean_g θ_(−g) − Value) (positive: the plug-in FID
	// overestimates the population distance).
	Bias float64
	// Corrected is Value − Bias, the bias-corrected FID.
	Corrected float64
	// StdErr is the jackknife standard error of Corrected.
	StdErr float64
	// CI is Corrected ± z_{(1+level)/2} · StdErr.
	CI [2]float64
	// Level is the interval's confidence level.
	Level float64
	// Groups is G, the number of delete-one units.
	Groups int
	// LeaveOneOut are the G values θ_(−g).
	LeaveOneOut []float64
}

// FIDJackknife returns FID between x (generated features, in groups of
// group consecutive rows: the samples of one input, which are dependent)
// and y (real features, independent rows) with a jackknife bias correction
// and interval for the population FID (Quenouille 1956; Efron &
// Tibshirani 1993, ch. 11). The plug-in FID is biased upwards: the fitted
// means and covariances scatter around the population ones, and
// ||μ1 − μ2||² and Tr Σ − 2 Tr(Σ1Σ2)^{1/2} grow with that scatter (about
// Tr Σx/Nx + Tr Σy/Ny for the mean term alone), a bias of order 1/G for G
// independent units. The G = (number of groups of x) units pair group g of
// x with block g of y's rows (y split into G consecutive blocks, which are
// iid because y's rows are), and θ_(−g) is FID without unit g, so both
// sets' bias terms scale by G/(G − 1) together:
//
//	θ_J  = G·θ̂ − (G − 1)·mean_g θ_(−g)
//	se_J = sqrt( (G − 1)/G · Σ_g (θ_(−g) − mean θ_(−·))² )
//	CI:    θ_J ± z_{(1+level)/2} · se_J
//
// with the corrected value and the bounds clamped at 0 (FID is a squared
// distance)
// (the normal quantile: the jackknife variance of a statistic this
// nonlinear is biased upwards (Efron & Stein 1981), and Student's t with
// G − 1 df on top over-covered, 98.3% at G = 50 in the coverage test; the
// normal quantile gives 97.0%).
// The percentile bootstrap interval this package used before resampled x
// with replacement, which adds the bias a second time: it covered the
// population FID 0 times in 40 at D = 64 (50 inputs × 20 samples, 800
// real); the basic bootstrap interval over-covered (99.7%), its replicates
// spreading with the number of distinct groups drawn. Each θ_(−g) costs
// O(G·D² + D³): each unit's sum and scatter Σ x_n x_nᵀ are computed once.
// The G leave-one-out fits run on every core. It returns an error when x
// has fewer than 3 groups, y fewer rows than groups, or the features are
// bad.
func FIDJackknife(x [][]float64, group int, y [][]float64, level float64) (*FIDInterval, error) {
	if group < 1 || !(level > 0 && level < 1) {
		return nil, fmt.Errorf("metrics: FID jackknife: group %d, level %v", group, level)
	}
	v, err := FID(x, y)
	if err != nil {
		return nil, err
	}
	g := len(x) / group
	if g < 3 {
		return nil, fmt.Errorf("metrics: FID jackknife: %d generated features make %d groups of %d, need 3", len(x), g, group)
	}
	if len(y) < g {
		return nil, fmt.Errorf("metrics: FID jackknife: %d real features cannot fill %d blocks", len(y), g)
	}
	d := len(x[0])
	xs, err := blockStats(x[:g*group], g, d)
	if err != nil {
		return nil, fmt.Errorf("metrics: FID jackknife first set: %w", err)
	}
	ys, err := blockStats(y, g, d)
	if err != nil {
		return nil, fmt.Errorf("metrics: FID jackknife second set: %w", err)
	}
	loo := make([]float64, g)
	errs := make([]error, g)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers(), g) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts := make([]int, g)
			for k := range next {
				for i := range counts {
					counts[i] = 1
				}
				counts[k] = 0
				g1, e1 := xs.fit(counts)
				g2, e2 := ys.fit(counts)
				if e1 != nil || e2 != nil {
					errs[k] = fmt.Errorf("metrics: FID jackknife without unit %d: %w", k, errors.Join(e1, e2))
					continue
				}
				loo[k], errs[k] = FrechetDistance(g1, g2)
			}
		}()
	}
	for k := range g {
		next <- k
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// FID is a squared distance: the population value is ≥ 0.
	j := jackknifeNonNegative(v, loo, level)
	return &FIDInterval{Value: v, Level: level, Groups: g, LeaveOneOut: loo,
		Bias: j.bias, Corrected: j.corrected, StdErr: j.stdErr, CI: j.ci}, nil
}

// jackknifed is a delete-one-group jackknife of a statistic that is at
// least 0 in the population (FID, CMMD).
type jackknifed struct {
	bias, corrected, stdErr float64
	ci                      [2]float64
}

// jackknifeNonNegative is the delete-one-group jackknife of the value v
// from its G leave-one-out values loo:
//
//	bias = (G − 1)·(mean loo − v),  θ_J = v − bias,
//	se_J = sqrt( (G − 1)/G · Σ_g (loo_g − mean loo)² ),
//	CI   = θ_J ± z_{(1+level)/2} · se_J,
//
// with θ_J and the interval's bounds clamped at 0 (bias is kept
// unclamped).
func jackknifeNonNegative(v float64, loo []float64, level float64) jackknifed {
	fg := float64(len(loo))
	j := jackknifed{bias: (fg - 1) * (Mean(loo) - v)}
	corrected := v - j.bias
	j.stdErr = math.Sqrt((fg - 1) / fg * sumSqDev(loo))
	_, ci := NormalInterval(corrected, j.stdErr, level)
	j.corrected = max(0, corrected)
	j.ci = [2]float64{max(0, ci[0]), max(0, ci[1])}
	return j
}

// blocks holds per-block sums and scatter matrices of a feature set split
// into consecutive blocks (the last block takes the remainder).
type blocks struct {
	d       int
	mean    []float64 // the overall mean m, about which sum and scatter are taken
	n       []int
	sum     [][]float64
	scatter []*mat.SymDense
}

// blockStats computes, for nb blocks of consecutive rows of x, each
// block's row count, sum Σ (x_n − m) and scatter Σ (x_n − m)(x_n − m)ᵀ
// about the overall mean m.
func blockStats(x [][]float64, nb, d int) (*blocks, error) {
	xd, err := denseRows(x)
	if err != nil {
		return nil, err
	}
	n, _ := xd.Dims()
	if _, dd := xd.Dims(); dd != d {
		return nil, fmt.Errorf("feature dimension %d, want %d", dd, d)
	}
	// Centre on the overall mean first so that the scatter sums do not
	// cancel catastrophically when the features sit far from 0.
	mu, _ := centre(xd)
	b := &blocks{d: d, mean: mu, n: make([]int, nb), sum: make([][]float64, nb), scatter: make([]*mat.SymDense, nb)}
	for k := range nb {
		r0, r1 := k*n/nb, (k+1)*n/nb
		sub := xd.Slice(r0, r1, 0, d).(*mat.Dense)
		s := make([]float64, d)
		for i := range r1 - r0 {
			for j, v := range sub.RawRowView(i) {
				s[j] += v
			}
		}
		sc := mat.NewSymDense(d, nil)
		sc.SymOuterK(1, sub.T())
		b.n[k], b.sum[k], b.scatter[k] = r1-r0, s, sc
	}
	return b, nil
}

// fit returns the Gaussian fit of the resample that takes block k
// counts[k] times: with N = Σ c_k n_k, s = Σ c_k sum_k, S = Σ c_k scatter_k
// (all about the overall mean m),
//
//	μ* = m + s/N,  Σ* = (S − s sᵀ/N) / (N − 1).
func (b *blocks) fit(counts []int) (*Gaussian, error) {
	d := b.d
	var n int
	s := make([]float64, d)
	cov := mat.NewSymDense(d, nil)
	raw := cov.RawSymmetric()
	for k, c := range counts {
		if c == 0 {
			continue
		}
		n += c * b.n[k]
		fc := float64(c)
		for j, v := range b.sum[k] {
			s[j] += fc * v
		}
		sr := b.scatter[k].RawSymmetric()
		for i := range d {
			dst := raw.Data[i*raw.Stride+i : i*raw.Stride+d]
			for j, v := range sr.Data[i*sr.Stride+i : i*sr.Stride+d] {
				dst[j] += fc * v
			}
		}
	}
	if n < 2 {
		return nil, fmt.Errorf("resample of %d rows", n)
	}
	fn := float64(n)
	mu := make([]float64, d)
	for j := range d {
		mu[j] = b.mean[j] + s[j]/fn
	}
	for i := range d {
		row := raw.Data[i*raw.Stride+i : i*raw.Stride+d]
		for j := range row {
			row[j] = (row[j] - s[i]*s[i+j]/fn) / (fn - 1)
		}
	}
	return &Gaussian{Mean: mu, Cov: cov, N: n}, nil
}
