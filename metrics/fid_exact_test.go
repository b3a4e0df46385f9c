package metrics

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// hadamardFeatures returns n rows of d features (n a power of two, d < n):
// feature j of row i is scale[j]·H[i][j+1], with H the Sylvester Hadamard
// matrix, then every row rotated by q. Columns 1..n−1 of H have zero sums
// and are orthogonal, so the sample covariance is exactly
// Qᵀ diag(scale_j² n/(n−1)) Q and the FID between two such sets is known in
// closed form (hadamardFID).
func hadamardFeatures(n, d int, scale []float64, q *mat.Dense) [][]float64 {
	out := make([][]float64, n)
	for i := range n {
		row := mat.NewVecDense(d, nil)
		for j := range d {
			h := 1.0
			if popcount(i&(j+1))%2 == 1 {
				h = -1
			}
			row.SetVec(j, scale[j]*h)
		}
		var r mat.VecDense
		r.MulVec(q.T(), row)
		out[i] = append([]float64(nil), r.RawVector().Data...)
	}
	return out
}

func popcount(x int) int {
	c := 0
	for ; x != 0; x &= x - 1 {
		c++
	}
	return c
}

// hadamardFID is the FID of two hadamardFeatures sets with scales s and t
// (same n, same rotation): the covariances commute, so FID = n/(n−1) ·
// Σ_j (s_j − t_j)², the Gaussians' means being equal (0).
func hadamardFID(n int, s, t []float64) float64 {
	var sum float64
	for j := range s {
		d := s[j] - t[j]
		sum += d * d
	}
	return float64(n) / float64(n-1) * sum
}

func randomRotation(d int, seed uint64) *mat.Dense {
	rng := rand.New(rand.NewPCG(seed, 1))
	a := mat.NewDense(d, d, nil)
	for i := range d {
		for j := range d {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q mat.Dense
	qr.QTo(&q)
	return &q
}

// TestFIDIllConditioned: near-duplicate feature sets whose covariances span
// ten decades (D = 32, N = 64 > D, so FID goes through the covariance fits
// and the Cholesky factors), densely rotated. The closed form is exact for
// the data as constructed; the tolerance 1e-9 relative covers the rounding
// of the rotation and of the covariance fit. Before the singular-value
// route, the eigenvalues of Lᵀ Σ2 L below max|λ|·D·2^−52 were dropped and
// FID came out several times too large here.
func TestFIDIllConditioned(t *testing.T) {
	const n, d = 64, 32
	rng := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		name    string
		decades float64
		rel     float64 // relative difference of the two sets' scales
	}{
		{"near duplicates, 10 decades", 5, 1e-3},
		{"near duplicates, 8 decades", 4, 3e-3},
		{"distinct, 10 decades", 5, 0.3},
	} {
		s, u := make([]float64, d), make([]float64, d)
		for j := range d {
			s[j] = math.Pow(10, -tc.decades*float64(j)/float64(d-1))
			u[j] = s[j] * (1 + tc.rel*(2*rng.Float64()-1))
		}
		q := randomRotation(d, 3)
		x, y := hadamardFeatures(n, d, s, q), hadamardFeatures(n, d, u, q)
		want := hadamardFID(n, s, u)
		got, err := FID(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if e := math.Abs(got-want) / want; e > 1e-9 {
			t.Errorf("%s: FID %.15g, want %.15g (relative error %.2g)", tc.name, got, want, e)
		}
		// The same through statistics: FrechetDistance of the fits.
		gx, _ := FitGaussian(x)
		gy, _ := FitGaussian(y)
		got2, err := FrechetDistance(gx, gy)
		if err != nil {
			t.Fatal(err)
		}
		if e := math.Abs(got2-want) / want; e > 1e-9 {
			t.Errorf("%s: FrechetDistance %.15g, want %.15g (relative error %.2g)", tc.name, got2, want, e)
		}
		// And a sample set against the other's statistics.
		got3, err := FIDToGaussian(x, gy)
		if err != nil {
			t.Fatal(err)
		}
		if e := math.Abs(got3-want) / want; e > 1e-9 {
			t.Errorf("%s: FIDToGaussian %.15g, want %.15g (relative error %.2g)", tc.name, got3, want, e)
		}
	}
}
