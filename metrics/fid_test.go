package metrics

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func gaussian(mean []float64, cov []float64) *Gaussian {
	return &Gaussian{Mean: mean, Cov: mat.NewSymDense(len(mean), cov), N: 100}
}

func TestFrechetDistanceClosedForms(t *testing.T) {
	// Non-commuting 2×2: for a 2×2 PSD matrix M, Tr sqrt(M) =
	// sqrt(Tr M + 2 sqrt(det M)); M = S1^1/2 S2 S1^1/2 has Tr M = Tr(S1 S2)
	// and det M = det S1 · det S2. With S1 = [[2,1],[1,2]], S2 =
	// diag(1, 4): Tr(S1 S2) = 2 + 8 = 10, det S1 det S2 = 3·4 = 12.
	trSqrt := math.Sqrt(10 + 2*math.Sqrt(12))
	tests := []struct {
		name string
		a, b *Gaussian
		want float64
	}{
		{
			// Diagonal covariances: Σ_j (sqrt(a_j) − sqrt(b_j))² + ||Δμ||².
			"diagonal",
			gaussian([]float64{0, 1, 2}, []float64{4, 0, 0, 0, 9, 0, 0, 0, 1}),
			gaussian([]float64{1, 1, 0}, []float64{1, 0, 0, 0, 4, 0, 0, 0, 0.25}),
			(1 + 0 + 4) + (2-1)*(2-1) + (3-2)*(3-2) + (1-0.5)*(1-0.5),
		},
		{
			"non-commuting 2x2",
			gaussian([]float64{1, 0}, []float64{2, 1, 1, 2}),
			gaussian([]float64{0, 2}, []float64{1, 0, 0, 4}),
			(1 + 4) + (4 + 5) - 2*trSqrt,
		},
		{
			// Rank-deficient first covariance (sqrt clamps 0 eigenvalues):
			// S1 = diag(1, 0), S2 = I: Tr sqrt(S1 S2) = 1, so d² = 1 + 2 − 2.
			"singular",
			gaussian([]float64{0, 0}, []float64{1, 0, 0, 0}),
			gaussian([]float64{0, 0}, []float64{1, 0, 0, 1}),
			1,
		},
	}
	for _, tt := range tests {
		got, err := FrechetDistance(tt.a, tt.b)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !near(got, tt.want, 1e-10) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
		// The distance is symmetric even though the formula is not
		// written symmetrically.
		back, err := FrechetDistance(tt.b, tt.a)
		if err != nil || !near(back, tt.want, 1e-10) {
			t.Errorf("%s reversed: %v (%v), want %v", tt.name, back, err, tt.want)
		}
	}
}

func TestFitGaussian(t *testing.T) {
	// Hand-computed: x = (1,2), (3,2), (5,8): μ = (3, 4); deviations
	// (−2,−2), (0,−2), (2,4): Σ = [[8, 12], [12, 24]] / 2.
	g, err := FitGaussian([][]float64{{1, 2}, {3, 2}, {5, 8}})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{4, 6}, {6, 12}}
	if g.Mean[0] != 3 || g.Mean[1] != 4 {
		t.Errorf("mean %v, want [3 4]", g.Mean)
	}
	for i := range 2 {
		for j := range 2 {
			if !near(g.Cov.At(i, j), want[i][j], 1e-12) {
				t.Errorf("cov[%d][%d] = %v, want %v", i, j, g.Cov.At(i, j), want[i][j])
			}
		}
	}
	for _, bad := range []struct {
		x    [][]float64
		want string
	}{
		{[][]float64{{1}}, "need at least 2"},
		{[][]float64{{1, 2}, {1}}, "vector 1 has 1 values"},
		{[][]float64{{1}, {math.Inf(1)}}, "vector 1 value 0 is +Inf"},
	} {
		if _, err := FitGaussian(bad.x); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("FitGaussian(%v): error %v, want %q", bad.x, err, bad.want)
		}
	}
}

func randomFeatures(seed uint64, n, d int, shift float64) [][]float64 {
	r := newRand(seed)
	x := make([][]float64, n)
	for i := range x {
		x[i] = make([]float64, d)
		for j := range x[i] {
			x[i][j] = r.NormFloat64() + shift
			if j > 0 {
				x[i][j] += 0.5 * x[i][j-1] // correlated features
			}
		}
	}
	return x
}

func TestFIDSelf(t *testing.T) {
	tests := []struct {
		name string
		n, d int
	}{
		{"full rank", 200, 16},
		{"rank deficient (N < D)", 20, 64},
	}
	for _, tt := range tests {
		x := randomFeatures(3, tt.n, tt.d, 0)
		got, err := FID(x, x)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got) > 1e-6 {
			t.Errorf("%s: FID(X, X) = %v, want 0 within 1e-6", tt.name, got)
		}
	}
	// Shifting every feature by 1 adds ||Δμ||² = D exactly (covariances
	// equal).
	x := randomFeatures(4, 100, 8, 0)
	y := make([][]float64, len(x))
	for i, row := range x {
		y[i] = make([]float64, len(row))
		for j, v := range row {
			y[i][j] = v + 1
		}
	}
	if got, err := FID(x, y); err != nil || !near(got, 8, 1e-6) {
		t.Errorf("FID of a shift by 1 in 8 dimensions = %v (%v), want 8", got, err)
	}
	if _, err := FID(x, [][]float64{{1, 2}, {3, 4}}); err == nil {
		t.Error("mismatched dimensions accepted")
	}
}

// TestFIDPathsAgree checks that the three computations of Tr((Σ1Σ2)^½)
// (Cholesky, eigen square root, sample-space singular values) agree.
func TestFIDPathsAgree(t *testing.T) {
	tests := []struct {
		name         string
		nx, ny, d    int
		shift, scale float64
	}{
		{"full rank", 60, 50, 8, 0.3, 1.5},
		{"rank deficient", 20, 30, 64, 0.2, 0.7},
		{"equal sizes", 40, 40, 40, 0, 1},
	}
	for _, tt := range tests {
		x := randomFeatures(5, tt.nx, tt.d, 0)
		y := randomFeatures(6, tt.ny, tt.d, tt.shift)
		for _, row := range y {
			for j := range row {
				row[j] *= tt.scale
			}
		}
		gx, err := FitGaussian(x)
		if err != nil {
			t.Fatal(err)
		}
		gy, err := FitGaussian(y)
		if err != nil {
			t.Fatal(err)
		}
		viaCov, err := FrechetDistance(gx, gy)
		if err != nil {
			t.Fatal(err)
		}
		xd, _ := denseRows(x)
		yd, _ := denseRows(y)
		viaSamples, err := fidSamples(xd, yd)
		if err != nil {
			t.Fatal(err)
		}
		// Eigen square-root path, forced.
		root, err := symSqrt(gx.Cov)
		if err != nil {
			t.Fatal(err)
		}
		var tmp, prod mat.Dense
		tmp.Mul(root, gy.Cov)
		prod.Mul(&tmp, root)
		var es mat.EigenSym
		if !es.Factorize(symmetrize(&prod, tt.d), false) {
			t.Fatal("eigen")
		}
		var trSqrt, tr, dmu float64
		for _, l := range es.Values(nil) {
			trSqrt += math.Sqrt(max(l, 0))
		}
		for j := range tt.d {
			tr += gx.Cov.At(j, j) + gy.Cov.At(j, j)
			dmu += (gx.Mean[j] - gy.Mean[j]) * (gx.Mean[j] - gy.Mean[j])
		}
		viaEigen := dmu + tr - 2*trSqrt
		tol := 1e-8 * max(1, math.Abs(viaCov))
		if !near(viaSamples, viaCov, tol) || !near(viaEigen, viaCov, 1e-6*max(1, math.Abs(viaCov))) {
			t.Errorf("%s: covariance path %v, sample path %v, eigen path %v", tt.name, viaCov, viaSamples, viaEigen)
		}
	}
}
