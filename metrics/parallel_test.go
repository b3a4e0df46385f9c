package metrics

import (
	"math"
	"math/rand/v2"
	"strings"
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

// useBLAS installs the backend a program gets from [UseBLAS] for the rest
// of tb and puts the previous one back after it.
func useBLAS(tb testing.TB) {
	prev := active
	UseBLAS()
	tb.Cleanup(func() { useBackend(prev) })
}

// TestUseBLAS checks that importing the package leaves gonum's BLAS as
// gonum installs it, and that UseBLAS installs the backend BLASBackend
// names.
func TestUseBLAS(t *testing.T) {
	if _, ok := blas64.Implementation().(gonum.Implementation); !ok || active.lapack {
		t.Fatalf("before UseBLAS: gonum's BLAS is %T, backend %q", blas64.Implementation(), BLASBackend())
	}
	useBLAS(t)
	if blas64.Implementation() != active.impl || strings.Contains(BLASBackend(), "not called") {
		t.Errorf("after UseBLAS: gonum's BLAS is %T, backend %q", blas64.Implementation(), BLASBackend())
	}
	t.Logf("backend: %s", BLASBackend())
}

// TestParallelMatchesSerial checks FID (full-rank Cholesky/eigenvalue path
// and its fits) and KID computed with the parallel BLAS and parallel
// subsets against the same functions on gonum's serial BLAS, at a size
// where every parallel path runs (D = 300 ≥ 256, N = 700): FID to 1e-12
// relative, KID to 1e-12 relative.
func TestParallelMatchesSerial(t *testing.T) {
	x := randomFeatures(5, 700, 300, 0)
	y := randomFeatures(6, 700, 300, 0.05)
	defer useBackend(active)
	useBackend(backend{impl: parallelBLAS{}, name: "gonum"})
	par, err := FID(x, y)
	if err != nil {
		t.Fatal(err)
	}
	kpar, err := KID(x, y, KIDOptions{Subsets: 20, SubsetSize: 300})
	if err != nil {
		t.Fatal(err)
	}
	useBackend(backend{impl: gonum.Implementation{}, name: "gonum serial"})
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

// TestBackendsAgree computes FID and KID with the optimised library (when
// it loads) and with the pure-Go fallback (parallelBLAS, gonum's LAPACK)
// on the same random features and requires them equal to 1e-12 relative:
// they differ only in the order of float64 summation. Covered: the
// full-rank Cholesky path (N > D, with dpotrf, dtrmm and dsyevd), its
// square-root fallback for a singular first covariance, the sample-space
// path (N ≤ D), and KID from whole-set Gram matrices and per subset. The
// optimised half is skipped, saying why, without the library.
func TestBackendsAgree(t *testing.T) {
	useBLAS(t)
	if !active.lapack {
		t.Skipf("optimised BLAS not in use, only the gonum fallback is tested: %s", BLASBackend())
	}
	t.Logf("optimised backend: %s", BLASBackend())
	x := randomFeatures(7, 700, 300, 0)
	y := randomFeatures(8, 700, 300, 0.05)
	gx, err := FitGaussian(x)
	if err != nil {
		t.Fatal(err)
	}
	gy, err := FitGaussian(y)
	if err != nil {
		t.Fatal(err)
	}
	// A first covariance of rank 299: one feature a copy of another.
	xs := make([][]float64, len(x))
	for i, row := range x {
		xs[i] = append([]float64(nil), row...)
		xs[i][1] = xs[i][0]
	}
	gs, err := FitGaussian(xs)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		f    func() (float64, error)
	}{
		{"Fréchet full rank", func() (float64, error) { return FrechetDistance(gx, gy) }},
		{"Fréchet singular Σ1", func() (float64, error) { return FrechetDistance(gs, gy) }},
		{"FID N > D", func() (float64, error) { return FID(x, y) }},
		{"FID N ≤ D", func() (float64, error) { return FID(x[:200], y[:250]) }},
		{"KID Gram", func() (float64, error) {
			r, err := KID(x, y, KIDOptions{Subsets: 20, SubsetSize: 300, Seed: 1})
			return kidMean(r), err
		}},
		{"KID per subset", func() (float64, error) {
			r, err := KID(x, y, KIDOptions{Subsets: 2, SubsetSize: 300, Seed: 1})
			return kidMean(r), err
		}},
	}
	fast := make([]float64, len(cases))
	for i, c := range cases {
		if fast[i], err = c.f(); err != nil {
			t.Fatalf("%s, optimised: %v", c.name, err)
		}
	}
	defer useBackend(active)
	useBackend(backend{impl: parallelBLAS{}, name: "gonum"})
	for i, c := range cases {
		slow, err := c.f()
		if err != nil {
			t.Fatalf("%s, gonum: %v", c.name, err)
		}
		if math.Abs(fast[i]-slow) > 1e-12*math.Abs(slow) {
			t.Errorf("%s: optimised %.17g, gonum %.17g", c.name, fast[i], slow)
		} else {
			t.Logf("%s: optimised %.17g, gonum %.17g", c.name, fast[i], slow)
		}
	}
}

func kidMean(r *KIDResult) float64 {
	if r == nil {
		return math.NaN()
	}
	return r.Mean
}
