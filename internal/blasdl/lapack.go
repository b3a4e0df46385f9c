package blasdl

/*
int bdl_dpotrf(void *f, char ul, int n, double *a, int lda);
int bdl_dsyevd(void *f, char jobz, char ul, int n, double *a, int lda, double *w,
	double *work, int lwork, int *iwork, int liwork);
int bdl_dgesdd(void *f, char jobz, int m, int n, double *a, int lda, double *s,
	double *work, int lwork, int *iwork);
*/
import "C"

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
)

// checkSquare validates a row-major n×n matrix for the LAPACK routines.
func checkSquare(name string, ul blas.Uplo, n int, a []float64, lda int) error {
	if err := Load(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if !validUplo(ul) || !fits(n, lda) || !holds(len(a), n, n, lda) {
		return fmt.Errorf("%s: bad arguments (n %d, lda %d, %d elements)", name, n, lda, len(a))
	}
	return nil
}

// Dpotrf computes the Cholesky factorisation of the symmetric positive
// definite n×n matrix A (row-major, the triangle ul read and overwritten):
// A = Uᵀ·U with U upper triangular (ul = Upper) or A = L·Lᵀ (Lower), as
// gonum's lapack Dpotrf. It reports false when A is not positive definite
// (LAPACK's INFO > 0); the other triangle is left untouched. It returns
// an error for bad arguments or when the library is not loaded.
func Dpotrf(ul blas.Uplo, n int, a []float64, lda int) (ok bool, err error) {
	if err := checkSquare("dpotrf", ul, n, a, lda); err != nil {
		return false, err
	}
	info := C.bdl_dpotrf(loaded.dpotrf, flipUplo(ul), C.int(n), ptr(a), C.int(lda))
	if info < 0 {
		return false, fmt.Errorf("dpotrf: argument %d invalid", -info)
	}
	return info == 0, nil
}

// EigenvaluesSym returns the eigenvalues of the symmetric n×n matrix A
// (row-major, the triangle ul read; A is destroyed) in ascending order,
// by LAPACK's dsyevd without eigenvectors (Householder tridiagonal
// reduction, then the root-free QR iteration dsterf), with the optimal
// workspace (so the reduction runs blocked, in level-3 BLAS). It returns
// an error when the iteration fails to converge, for bad arguments, or
// when the library is not loaded.
func EigenvaluesSym(ul blas.Uplo, n int, a []float64, lda int) ([]float64, error) {
	if err := checkSquare("dsyevd", ul, n, a, lda); err != nil {
		return nil, err
	}
	w := make([]float64, n)
	var wq [1]float64
	var iq [1]C.int
	syncThreads()
	// Workspace query (LWORK = LIWORK = −1), then the call.
	if info := C.bdl_dsyevd(loaded.dsyevd, 'N', flipUplo(ul), C.int(n), ptr(a), C.int(lda), ptr(w),
		(*C.double)(&wq[0]), -1, &iq[0], -1); info != 0 {
		return nil, fmt.Errorf("dsyevd workspace query: INFO %d", int(info))
	}
	lwork, liwork := max(int(wq[0]), 2*n+1), max(int(iq[0]), 1)
	work := make([]float64, lwork)
	iwork := make([]C.int, liwork)
	info := C.bdl_dsyevd(loaded.dsyevd, 'N', flipUplo(ul), C.int(n), ptr(a), C.int(lda), ptr(w),
		ptr(work), C.int(lwork), &iwork[0], C.int(liwork))
	switch {
	case info < 0:
		return nil, fmt.Errorf("dsyevd: argument %d invalid", -info)
	case info > 0:
		return nil, fmt.Errorf("dsyevd: %d off-diagonal elements did not converge to zero", int(info))
	}
	return w, nil
}

// SingularValues returns the singular values of the m×n matrix A
// (row-major; A is destroyed) in descending order, by LAPACK's dgesdd
// without singular vectors (bidiagonal reduction in level-3 BLAS, then
// dbdsqr's implicit zero-shift QR, which computes every singular value to
// high relative accuracy of the bidiagonal). A row-major m×n matrix is the
// column-major n×m transpose, which has the same singular values. It
// returns an error when the iteration fails to converge, for bad
// arguments, or when the library is not loaded.
func SingularValues(m, n int, a []float64, lda int) ([]float64, error) {
	if err := Load(); err != nil {
		return nil, fmt.Errorf("dgesdd: %w", err)
	}
	if m < 1 || n < 1 || !fits(m, n, lda, 8*min(m, n)) || !holds(len(a), m, n, lda) {
		return nil, fmt.Errorf("dgesdd: bad arguments (%d×%d, lda %d, %d elements)", m, n, lda, len(a))
	}
	s := make([]float64, min(m, n))
	iwork := make([]C.int, 8*min(m, n))
	var wq [1]float64
	syncThreads()
	if info := C.bdl_dgesdd(loaded.dgesdd, 'N', C.int(n), C.int(m), ptr(a), C.int(lda), ptr(s),
		(*C.double)(&wq[0]), -1, &iwork[0]); info != 0 {
		return nil, fmt.Errorf("dgesdd workspace query: INFO %d", int(info))
	}
	work := make([]float64, max(int(wq[0]), 1))
	info := C.bdl_dgesdd(loaded.dgesdd, 'N', C.int(n), C.int(m), ptr(a), C.int(lda), ptr(s),
		ptr(work), C.int(len(work)), &iwork[0])
	switch {
	case info < 0:
		return nil, fmt.Errorf("dgesdd: argument %d invalid", -info)
	case info > 0:
		return nil, fmt.Errorf("dgesdd: the bidiagonal QR iteration did not converge (%d superdiagonals)", int(info))
	}
	return s, nil
}
