package metrics

import (
	"runtime"
	"sync"

	"github.com/munit-eval/munit-eval/internal/blasdl"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
)

// parallelBLAS is gonum's pure-Go BLAS with the routines that dominate FID
// and KID at Inception size spread over the cores: Dsyrk (covariances and
// Gram matrices) and the two halves of a symmetric eigendecomposition
// (LAPACK's dsytrd: half its flops in dsymv, half in dsyr2k). gonum's own
// Dgemm is already parallel; these three are not, which left FID at
// D = 2048 on one core. Results equal gonum's up to the
// order of float64 summation (about 1e−16 relative). [UseBLAS] installs
// it when no optimised BLAS loads (see [BLASBackend]).
type parallelBLAS struct{ gonum.Implementation }

// backend is the BLAS the package computes with.
type backend struct {
	// impl is installed as gonum's BLAS (blas64.Use), which gonum/lapack
	// and gonum/mat call through.
	impl blas.Float64
	// lapack: FID's Cholesky factor and eigenvalues go straight to the
	// library's LAPACK (package blasdl), and KID serialises its per-subset
	// products (each already runs on every core).
	lapack bool
	name   string
}

// active is gonum's own BLAS, left as gonum installs it, until [UseBLAS]:
// importing the package changes no global state.
var active = backend{impl: gonum.Implementation{}, name: "gonum, pure Go (metrics.UseBLAS not called)"}

// UseBLAS installs the fastest BLAS it finds as gonum's (blas64.Use):
// OpenBLAS or another optimised BLAS/LAPACK, loaded with dlopen by
// internal/blasdl (numpy's, which torch-fidelity runs on), and otherwise,
// or when MUNIT_EVAL_BLAS=gonum, parallelBLAS. FID, KID and every other
// user of gonum in the process then get the same results (to float64
// rounding), faster; [BLASBackend] says which backend and why. Like
// blas64.Use, it is for a program's main to call once at startup, before
// any computation; without it the package computes with gonum's default
// pure-Go BLAS.
func UseBLAS() {
	if err := blasdl.Load(); err != nil {
		useBackend(backend{impl: parallelBLAS{}, name: "gonum, pure Go (" + err.Error() + ")"})
		return
	}
	useBackend(backend{impl: blasdl.Implementation{}, lapack: true, name: blasdl.Describe()})
}

func useBackend(b backend) {
	active = b
	blas64.Use(b.impl)
}

// BLASBackend says which BLAS FID, KID and the rest of the package
// compute with: the optimised library's build and path, or gonum's
// pure-Go kernels and why (library absent, MUNIT_EVAL_BLAS=gonum, or
// [UseBLAS] not called).
func BLASBackend() string { return active.name }

// blasMu serialises the per-subset products of KID under the optimised
// backend: each call already runs on every core in the library's own
// threads, and concurrent calls would only contend for them.
var blasMu sync.Mutex

// parMin is the matrix order from which the parallel paths pay off.
const parMin = 256

// bandsPerWorker splits Dsyrk and Dsyr2k into this many bands per core, so
// that the diagonal blocks (gonum's slower Dsyrk/Dsyr2k kernels) stay
// small and most of the work runs in the faster Dgemm kernel.
const bandsPerWorker = 8

func workers() int { return max(1, min(runtime.GOMAXPROCS(0), 16)) }

// Dsymv computes y = alpha·A·x + beta·y for symmetric A stored in the
// triangle ul. Each worker takes a band of rows of the stored triangle
// (balanced by element count) and accumulates their contributions to A·x
// (the row's dot product, and the mirrored column as an axpy) in a private
// vector; the vectors are then summed.
func (p parallelBLAS) Dsymv(ul blas.Uplo, n int, alpha float64, a []float64, lda int, x []float64, incX int, beta float64, y []float64, incY int) {
	w := workers()
	if n < parMin || w == 1 || incX != 1 || incY != 1 || alpha == 0 || (ul != blas.Upper && ul != blas.Lower) || lda < max(1, n) || len(a) < lda*(n-1)+n || len(x) < n || len(y) < n {
		p.Implementation.Dsymv(ul, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	bounds := triangleBands(n, w, ul == blas.Upper)
	parts := make([][]float64, len(bounds)-1)
	for b := range parts {
		parts[b] = make([]float64, n)
	}
	inBands(bounds, func(b, r0, r1 int) {
		acc := parts[b]
		impl := gonum.Implementation{}
		for i := r0; i < r1; i++ {
			xi := x[i]
			if ul == blas.Upper {
				row := a[i*lda+i : i*lda+n]
				acc[i] += row[0]*xi + impl.Ddot(n-i-1, row[1:], 1, x[i+1:], 1)
				impl.Daxpy(n-i-1, xi, row[1:], 1, acc[i+1:], 1)
			} else {
				row := a[i*lda : i*lda+i+1]
				acc[i] += row[i]*xi + impl.Ddot(i, row, 1, x, 1)
				impl.Daxpy(i, xi, row[:i], 1, acc, 1)
			}
		}
	})
	for i := range n {
		var s float64
		for _, acc := range parts {
			s += acc[i]
		}
		if beta == 0 {
			y[i] = alpha * s
		} else {
			y[i] = beta*y[i] + alpha*s
		}
	}
}

// Dsyr2k computes C = alpha·A·Bᵀ + alpha·B·Aᵀ + beta·C (NoTrans; A and B
// n×k) on the triangle ul of C, in bands of rows of the triangle (8 per
// core, each in its own goroutine): a band's diagonal block by gonum's
// Dsyr2k, the rectangle beside it by two Dgemm calls. The transposed form
// is left to gonum.
func (p parallelBLAS) Dsyr2k(ul blas.Uplo, tA blas.Transpose, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	w := workers()
	if n < parMin || k == 0 || w == 1 || tA != blas.NoTrans || (ul != blas.Upper && ul != blas.Lower) ||
		lda < max(1, k) || ldb < max(1, k) || ldc < max(1, n) || len(a) < lda*(n-1)+k || len(b) < ldb*(n-1)+k || len(c) < ldc*(n-1)+n {
		p.Implementation.Dsyr2k(ul, tA, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	bounds := triangleBands(n, bandsPerWorker*w, ul == blas.Upper)
	inBands(bounds, func(_, r0, r1 int) {
		impl := gonum.Implementation{}
		m := r1 - r0
		impl.Dsyr2k(ul, blas.NoTrans, m, k, alpha, a[r0*lda:], lda, b[r0*ldb:], ldb, beta, c[r0*ldc+r0:], ldc)
		if ul == blas.Upper && r1 < n {
			// C[r0:r1, r1:n] = α A[r0:r1] B[r1:n]ᵀ + α B[r0:r1] A[r1:n]ᵀ + β C.
			rect := c[r0*ldc+r1:]
			serialDgemm(blas.NoTrans, blas.Trans, m, n-r1, k, alpha, a[r0*lda:], lda, b[r1*ldb:], ldb, beta, rect, ldc)
			serialDgemm(blas.NoTrans, blas.Trans, m, n-r1, k, alpha, b[r0*ldb:], ldb, a[r1*lda:], lda, 1, rect, ldc)
		} else if ul == blas.Lower && r0 > 0 {
			// C[r0:r1, 0:r0] likewise.
			rect := c[r0*ldc:]
			serialDgemm(blas.NoTrans, blas.Trans, m, r0, k, alpha, a[r0*lda:], lda, b, ldb, beta, rect, ldc)
			serialDgemm(blas.NoTrans, blas.Trans, m, r0, k, alpha, b[r0*ldb:], ldb, a, lda, 1, rect, ldc)
		}
	})
}

// Dsyrk computes C = alpha·A·Aᵀ + beta·C (NoTrans, A n×k) or
// C = alpha·Aᵀ·A + beta·C (Trans, A k×n) on the triangle ul of C, in
// bands of rows of the triangle (8 per core, each in its own goroutine):
// a band's diagonal block by gonum's Dsyrk, the rectangle beside it by
// Dgemm.
func (p parallelBLAS) Dsyrk(ul blas.Uplo, tA blas.Transpose, n, k int, alpha float64, a []float64, lda int, beta float64, c []float64, ldc int) {
	w := workers()
	notrans := tA == blas.NoTrans
	okA := (notrans && lda >= max(1, k) && len(a) >= lda*(n-1)+k) || (tA == blas.Trans && lda >= max(1, n) && k > 0 && len(a) >= lda*(k-1)+n)
	if n < parMin || k == 0 || w == 1 || !okA || (ul != blas.Upper && ul != blas.Lower) || ldc < max(1, n) || len(c) < ldc*(n-1)+n {
		p.Implementation.Dsyrk(ul, tA, n, k, alpha, a, lda, beta, c, ldc)
		return
	}
	// rows returns A's rows (NoTrans) or columns (Trans) from r on.
	rows := func(r int) []float64 {
		if notrans {
			return a[r*lda:]
		}
		return a[r:]
	}
	t1, t2 := blas.NoTrans, blas.Trans
	if !notrans {
		t1, t2 = blas.Trans, blas.NoTrans
	}
	bounds := triangleBands(n, bandsPerWorker*w, ul == blas.Upper)
	inBands(bounds, func(_, r0, r1 int) {
		m := r1 - r0
		gonum.Implementation{}.Dsyrk(ul, tA, m, k, alpha, rows(r0), lda, beta, c[r0*ldc+r0:], ldc)
		if ul == blas.Upper && r1 < n {
			serialDgemm(t1, t2, m, n-r1, k, alpha, rows(r0), lda, rows(r1), lda, beta, c[r0*ldc+r1:], ldc)
		} else if ul == blas.Lower && r0 > 0 {
			serialDgemm(t1, t2, m, r0, k, alpha, rows(r0), lda, a, lda, beta, c[r0*ldc:], ldc)
		}
	})
}

// serialDgemm is gonum's Dgemm (it parallelises large products itself;
// inside an already parallel band that only adds scheduling).
func serialDgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gonum.Implementation{}.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// inBands runs fn(b, r0, r1) for every non-empty band b = [r0, r1) of
// bounds, each in its own goroutine, and waits for them all.
func inBands(bounds []int, fn func(b, r0, r1 int)) {
	var wg sync.WaitGroup
	for b := 0; b+1 < len(bounds); b++ {
		if r0, r1 := bounds[b], bounds[b+1]; r0 < r1 {
			wg.Go(func() { fn(b, r0, r1) })
		}
	}
	wg.Wait()
}

// triangleBands splits rows 0..n of a triangular matrix into w bands of
// about equal element count (row i of the upper triangle holds n − i
// elements, of the lower i + 1), returning the w+1 band boundaries.
func triangleBands(n, w int, upper bool) []int {
	total := float64(n) * float64(n+1) / 2
	bounds := make([]int, 0, w+1)
	bounds = append(bounds, 0)
	var acc float64
	next := 1
	for i := range n {
		if upper {
			acc += float64(n - i)
		} else {
			acc += float64(i + 1)
		}
		if next < w && acc >= total*float64(next)/float64(w) {
			bounds = append(bounds, i+1)
			next++
		}
	}
	for len(bounds) < w+1 {
		bounds = append(bounds, n)
	}
	bounds[w] = n
	return bounds
}
