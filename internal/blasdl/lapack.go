package blasdl

/*
int bdl_dpotrf(void *f, char ul, int n, double *a, int lda);
int bdl_dsyevd(void *f, char jobz, char ul, int n, double *a, int lda, double *w,
	double *work, int lwork, int *iwork, int liwork);
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
