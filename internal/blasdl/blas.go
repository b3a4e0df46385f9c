package blasdl

/*
#include <stddef.h>
void bdl_dgemm(void *f, char ta, char tb, int m, int n, int k, double alpha, const double *a, int lda,
	const double *b, int ldb, double beta, double *c, int ldc);
void bdl_dsyrk(void *f, char ul, char t, int n, int k, double alpha, const double *a, int lda,
	double beta, double *c, int ldc);
void bdl_dsyr2k(void *f, char ul, char t, int n, int k, double alpha, const double *a, int lda,
	const double *b, int ldb, double beta, double *c, int ldc);
void bdl_dsymv(void *f, char ul, int n, double alpha, const double *a, int lda, const double *x, int incx,
	double beta, double *y, int incy);
void bdl_dgemv(void *f, char t, int m, int n, double alpha, const double *a, int lda, const double *x, int incx,
	double beta, double *y, int incy);
void bdl_dtrxm(void *f, char side, char ul, char t, char diag, int m, int n, double alpha,
	const double *a, int lda, double *b, int ldb);
int bdl_dpotrf(void *f, char ul, int n, double *a, int lda);
int bdl_dsyevd(void *f, char jobz, char ul, int n, double *a, int lda, double *w,
	double *work, int lwork, int *iwork, int liwork);
*/
import "C"

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Implementation is a blas.Float64 that runs the level-2 and level-3
// routines dominating dense covariance, Gram, Cholesky and symmetric
// eigenvalue work (Dgemm, Dsyrk, Dsyr2k, Dsymv, Dgemv, Dtrmm, Dtrsm) in the
// loaded library, and every other routine in gonum's pure-Go
// implementation. Small calls (see minWork3), calls whose arguments gonum would reject (bad flags,
// short slices, leading dimensions too small), empty calls, negative
// increments and dimensions beyond int32 go to gonum too, so errors panic
// with gonum's messages and the library never sees an invalid call. Use it
// only after [Load] returned nil.
type Implementation struct{ gonum.Implementation }

var _ blas.Float64 = Implementation{}

// Calls with less work than these (m·n·k multiply-adds for level 3, m·n
// for level 2) run in gonum: each library call wakes OpenBLAS's threads,
// which costs more than a small product, and much more when goroutines
// call at once (the FID jackknife's D = 64 fits on every core ran 8×
// slower). Variables so that the tests can send every call to the library.
var (
	minWork3 = 1 << 21 // 128³
	minWork2 = 1 << 14 // 128²
)

// Every row-major operand is the column-major transpose of itself with
// the same leading dimension; these map gonum's flags onto Fortran's for
// that transposed view.

func transChar(t blas.Transpose) C.char {
	if t == blas.NoTrans {
		return 'N'
	}
	return 'T'
}

// flipTrans returns the Fortran flag of the opposite orientation.
func flipTrans(t blas.Transpose) C.char {
	if t == blas.NoTrans {
		return 'T'
	}
	return 'N'
}

// flipUplo: a row-major upper triangle is a column-major lower one.
func flipUplo(ul blas.Uplo) C.char {
	if ul == blas.Upper {
		return 'L'
	}
	return 'U'
}

// flipSide: B·op(A) row-major is op(A)ᵀ·Bᵀ column-major.
func flipSide(s blas.Side) C.char {
	if s == blas.Left {
		return 'R'
	}
	return 'L'
}

func diagChar(d blas.Diag) C.char {
	if d == blas.Unit {
		return 'U'
	}
	return 'N'
}

func validTrans(t blas.Transpose) bool {
	return t == blas.NoTrans || t == blas.Trans || t == blas.ConjTrans
}
func validUplo(ul blas.Uplo) bool { return ul == blas.Upper || ul == blas.Lower }

// fits reports whether every value is positive and fits a Fortran INTEGER.
func fits(v ...int) bool {
	for _, x := range v {
		if x <= 0 || x > math.MaxInt32 {
			return false
		}
	}
	return true
}

// holds reports whether a row-major r×c matrix with leading dimension ld
// is valid in a slice of length n.
func holds(n, r, c, ld int) bool { return ld >= max(1, c) && n >= ld*(r-1)+c }

// vecHolds reports whether a vector of n elements with increment inc > 0
// fits in a slice of length l.
func vecHolds(l, n, inc int) bool { return inc > 0 && l >= 1+(n-1)*inc }

func ptr(s []float64) *C.double { return (*C.double)(&s[0]) }

// Dgemm computes C = alpha·op(A)·op(B) + beta·C. Column-major:
// Cᵀ = alpha·op(B)ᵀ·op(A)ᵀ + beta·Cᵀ, that is dgemm(tB, tA, n, m, k) on B, A.
func (p Implementation) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	ar, ac := m, k
	if tA != blas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != blas.NoTrans {
		br, bc = n, k
	}
	if m*n*k < minWork3 || !validTrans(tA) || !validTrans(tB) || !fits(m, n, k, lda, ldb, ldc) ||
		!holds(len(a), ar, ac, lda) || !holds(len(b), br, bc, ldb) || !holds(len(c), m, n, ldc) {
		p.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	syncThreads()
	C.bdl_dgemm(loaded.dgemm, transChar(tB), transChar(tA), C.int(n), C.int(m), C.int(k), C.double(alpha),
		ptr(b), C.int(ldb), ptr(a), C.int(lda), C.double(beta), ptr(c), C.int(ldc))
}

// Dsyrk computes C = alpha·A·Aᵀ + beta·C (NoTrans, A n×k) or
// alpha·Aᵀ·A + beta·C on the triangle ul of C. Column-major the stored
// triangle flips and A·Aᵀ becomes Aᵀ·A of the transposed view.
func (p Implementation) Dsyrk(ul blas.Uplo, tA blas.Transpose, n, k int, alpha float64, a []float64, lda int, beta float64, c []float64, ldc int) {
	ar, ac := n, k
	if tA != blas.NoTrans {
		ar, ac = k, n
	}
	if n*n*k < 2*minWork3 || !validUplo(ul) || !validTrans(tA) || !fits(n, k, lda, ldc) || !holds(len(a), ar, ac, lda) || !holds(len(c), n, n, ldc) {
		p.Implementation.Dsyrk(ul, tA, n, k, alpha, a, lda, beta, c, ldc)
		return
	}
	syncThreads()
	C.bdl_dsyrk(loaded.dsyrk, flipUplo(ul), flipTrans(tA), C.int(n), C.int(k), C.double(alpha),
		ptr(a), C.int(lda), C.double(beta), ptr(c), C.int(ldc))
}

// Dsyr2k computes C = alpha·A·Bᵀ + alpha·B·Aᵀ + beta·C (NoTrans, A and B
// n×k) or alpha·Aᵀ·B + alpha·Bᵀ·A + beta·C on the triangle ul of C,
// mapped as Dsyrk.
func (p Implementation) Dsyr2k(ul blas.Uplo, tA blas.Transpose, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	ar, ac := n, k
	if tA != blas.NoTrans {
		ar, ac = k, n
	}
	if n*n*k < minWork3 || !validUplo(ul) || !validTrans(tA) || !fits(n, k, lda, ldb, ldc) || !holds(len(a), ar, ac, lda) ||
		!holds(len(b), ar, ac, ldb) || !holds(len(c), n, n, ldc) {
		p.Implementation.Dsyr2k(ul, tA, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	syncThreads()
	C.bdl_dsyr2k(loaded.dsyr2k, flipUplo(ul), flipTrans(tA), C.int(n), C.int(k), C.double(alpha),
		ptr(a), C.int(lda), ptr(b), C.int(ldb), C.double(beta), ptr(c), C.int(ldc))
}

// Dsymv computes y = alpha·A·x + beta·y for symmetric A stored in the
// triangle ul (the other triangle column-major).
func (p Implementation) Dsymv(ul blas.Uplo, n int, alpha float64, a []float64, lda int, x []float64, incX int, beta float64, y []float64, incY int) {
	if n*n < minWork2 || !validUplo(ul) || !fits(n, lda) || !holds(len(a), n, n, lda) || !vecHolds(len(x), n, incX) || !vecHolds(len(y), n, incY) {
		p.Implementation.Dsymv(ul, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	syncThreads()
	C.bdl_dsymv(loaded.dsymv, flipUplo(ul), C.int(n), C.double(alpha), ptr(a), C.int(lda),
		ptr(x), C.int(incX), C.double(beta), ptr(y), C.int(incY))
}

// Dgemv computes y = alpha·op(A)·x + beta·y for the m×n A: column-major A
// is n×m and the orientation flips.
func (p Implementation) Dgemv(tA blas.Transpose, m, n int, alpha float64, a []float64, lda int, x []float64, incX int, beta float64, y []float64, incY int) {
	lx, ly := n, m
	if tA != blas.NoTrans {
		lx, ly = m, n
	}
	if m*n < minWork2 || !validTrans(tA) || !fits(m, n, lda) || !holds(len(a), m, n, lda) || !vecHolds(len(x), lx, incX) || !vecHolds(len(y), ly, incY) {
		p.Implementation.Dgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	syncThreads()
	C.bdl_dgemv(loaded.dgemv, flipTrans(tA), C.int(n), C.int(m), C.double(alpha), ptr(a), C.int(lda),
		ptr(x), C.int(incX), C.double(beta), ptr(y), C.int(incY))
}

// trxmOK reports whether a Dtrmm/Dtrsm call is valid for the library.
func trxmOK(s blas.Side, ul blas.Uplo, tA blas.Transpose, d blas.Diag, m, n int, a []float64, lda int, b []float64, ldb int) bool {
	k := n
	if s == blas.Left {
		k = m
	}
	return m*n*k >= 2*minWork3 && (s == blas.Left || s == blas.Right) && validUplo(ul) && validTrans(tA) && (d == blas.Unit || d == blas.NonUnit) &&
		fits(m, n, lda, ldb) && holds(len(a), k, k, lda) && holds(len(b), m, n, ldb)
}

// Dtrmm computes B = alpha·op(A)·B (Left) or alpha·B·op(A) (Right) for
// triangular A. Column-major, Bᵀ = alpha·Bᵀ·op(A)ᵀ: the side and the
// triangle flip, the orientation stays, m and n swap.
func (p Implementation) Dtrmm(s blas.Side, ul blas.Uplo, tA blas.Transpose, d blas.Diag, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int) {
	if !trxmOK(s, ul, tA, d, m, n, a, lda, b, ldb) {
		p.Implementation.Dtrmm(s, ul, tA, d, m, n, alpha, a, lda, b, ldb)
		return
	}
	syncThreads()
	C.bdl_dtrxm(loaded.dtrmm, flipSide(s), flipUplo(ul), transChar(tA), diagChar(d), C.int(n), C.int(m),
		C.double(alpha), ptr(a), C.int(lda), ptr(b), C.int(ldb))
}

// Dtrsm solves op(A)·X = alpha·B (Left) or X·op(A) = alpha·B (Right) for
// triangular A, X overwriting B, mapped as Dtrmm.
func (p Implementation) Dtrsm(s blas.Side, ul blas.Uplo, tA blas.Transpose, d blas.Diag, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int) {
	if !trxmOK(s, ul, tA, d, m, n, a, lda, b, ldb) {
		p.Implementation.Dtrsm(s, ul, tA, d, m, n, alpha, a, lda, b, ldb)
		return
	}
	syncThreads()
	C.bdl_dtrxm(loaded.dtrsm, flipSide(s), flipUplo(ul), transChar(tA), diagChar(d), C.int(n), C.int(m),
		C.double(alpha), ptr(a), C.int(lda), ptr(b), C.int(ldb))
}

// selfCheck runs one matrix product through the library's DGEMM and
// compares it with gonum's: an OpenBLAS whose kernels compute wrong results
// on this processor (older builds do on some CPUs) is never used. The
// product is 96×80×72, a few hundred microseconds.
func selfCheck(l *lib) error {
	const m, n, k = 96, 80, 72
	a, b := make([]float64, m*k), make([]float64, k*n)
	for i := range a {
		a[i] = math.Sin(float64(3*i + 1)) // deterministic values of order 1
	}
	for i := range b {
		b[i] = math.Cos(float64(7*i + 2))
	}
	want, got := make([]float64, m*n), make([]float64, m*n)
	gonum.Implementation{}.Dgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, want, n)
	// Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ (see Dgemm).
	C.bdl_dgemm(l.dgemm, C.char('N'), C.char('N'), C.int(n), C.int(m), C.int(k), C.double(1),
		ptr(b), C.int(n), ptr(a), C.int(k), C.double(0), ptr(got), C.int(n))
	return sameProduct(l, got, want)
}

// sameProduct is selfCheck's verdict: got must equal want to float64
// summation-order noise (1e-10 relative to 1 + |want|; the sums have 72
// terms of order 1).
func sameProduct(l *lib, got, want []float64) error {
	for i := range want {
		if d := math.Abs(got[i] - want[i]); !(d <= 1e-10*(1+math.Abs(want[i]))) {
			return fmt.Errorf("%s (%s) failed a self-check (DGEMM differs from gonum's by %g): its kernels do not compute correctly on this processor (set %s to another kernel family, or %s=gonum)", l.path, l.config, d, coreTypeVar, EnvVar)
		}
	}
	return nil
}
