package metrics

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
)

// TestParallelBLAS checks the parallel Dsymv and Dsyr2k against gonum's
// serial routines on random matrices, both triangles, with a leading
// dimension larger than n, to 1e-12 relative (only the summation order
// differs), and Dsyrk in both orientations.
func TestParallelBLAS(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n, k, lda = 300, 40, 310
	fill := func(m int) []float64 {
		v := make([]float64, m)
		for i := range v {
			v[i] = r.NormFloat64()
		}
		return v
	}
	close := func(name string, got, want []float64) {
		t.Helper()
		var scale float64
		for _, v := range want {
			scale = math.Max(scale, math.Abs(v))
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12*scale {
				t.Fatalf("%s: element %d = %v, serial %v", name, i, got[i], want[i])
			}
		}
	}
	for _, ul := range []blas.Uplo{blas.Upper, blas.Lower} {
		a, x, y := fill(n*lda), fill(n), fill(n)
		want := append([]float64(nil), y...)
		gonum.Implementation{}.Dsymv(ul, n, 0.7, a, lda, x, 1, 0.3, want, 1)
		parallelBLAS{}.Dsymv(ul, n, 0.7, a, lda, x, 1, 0.3, y, 1)
		close("Dsymv", y, want)

		ab, bb, c := fill(n*k), fill(n*k), fill(n*lda)
		want = append([]float64(nil), c...)
		gonum.Implementation{}.Dsyr2k(ul, blas.NoTrans, n, k, -1, ab, k, bb, k, 1, want, lda)
		parallelBLAS{}.Dsyr2k(ul, blas.NoTrans, n, k, -1, ab, k, bb, k, 1, c, lda)
		for i := range n {
			lo, hi := i, n // the stored triangle only
			if ul == blas.Lower {
				lo, hi = 0, i+1
			}
			close("Dsyr2k", c[i*lda+lo:i*lda+hi], want[i*lda+lo:i*lda+hi])
		}
	}
	for _, ul := range []blas.Uplo{blas.Upper, blas.Lower} {
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			a, c := fill(n*lda), fill(n*lda)
			want := append([]float64(nil), c...)
			ld := k // NoTrans: A is n×k
			if tA == blas.Trans {
				ld = lda // Trans: A is k×n
			}
			gonum.Implementation{}.Dsyrk(ul, tA, n, k, 0.5, a, ld, 0.25, want, lda)
			parallelBLAS{}.Dsyrk(ul, tA, n, k, 0.5, a, ld, 0.25, c, lda)
			for i := range n {
				lo, hi := i, n
				if ul == blas.Lower {
					lo, hi = 0, i+1
				}
				close("Dsyrk", c[i*lda+lo:i*lda+hi], want[i*lda+lo:i*lda+hi])
			}
		}
	}
}

// TestParallelMatchesSerial checks FID (full-rank Cholesky/eigenvalue path
// and its fits) and KID computed with the parallel BLAS and parallel
// subsets against the same functions on gonum's serial BLAS, at a size
// where every parallel path runs (D = 300 ≥ 256, N = 700): FID to 1e-12
// relative, KID to 1e-12 relative.
func TestParallelMatchesSerial(t *testing.T) {
	x := randomFeatures(5, 700, 300, 0)
	y := randomFeatures(6, 700, 300, 0.05)
	par, err := FID(x, y)
	if err != nil {
		t.Fatal(err)
	}
	kpar, err := KID(x, y, KIDOptions{Subsets: 20, SubsetSize: 300})
	if err != nil {
		t.Fatal(err)
	}
	blas64.Use(gonum.Implementation{})
	defer blas64.Use(parallelBLAS{})
	ser, err := FID(x, y)
	if err != nil {
		t.Fatal(err)
	}
	kser, err := KID(x, y, KIDOptions{Subsets: 20, SubsetSize: 300})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(par-ser) > 1e-12*math.Abs(ser) {
		t.Errorf("FID parallel %.17g, serial %.17g", par, ser)
	}
	if math.Abs(kpar.Mean-kser.Mean) > 1e-12*math.Abs(kser.Mean) {
		t.Errorf("KID parallel %.17g, serial %.17g", kpar.Mean, kser.Mean)
	}
}
