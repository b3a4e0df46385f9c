// Package blasdl loads an optimised BLAS/LAPACK (OpenBLAS, or the
// reference libblas/liblapack) at run time with dlopen and exposes it as a
// gonum blas.Float64 implementation plus the few LAPACK routines FID needs
// (Cholesky factorisation, the eigenvalues of a symmetric matrix and the
// singular values of a general one).
//
// Why dlopen rather than linking: the binary must run on machines without
// the library, falling back to gonum's pure-Go kernels; numpy, which
// torch-fidelity runs on, uses OpenBLAS, and gonum's kernels are several
// times slower at D = 2048.
//
// All routines take gonum's row-major operands. A row-major matrix is the
// column-major transpose of itself with the same leading dimension, so each
// call maps onto the Fortran routine with operands swapped and the triangle
// and transpose flags flipped (see each method). The library's LP64 ABI
// (32-bit Fortran INTEGER) is assumed, as Debian's libopenblas0 and
// liblapack3 provide; dimensions beyond int32 go to gonum.
//
// The environment variable MUNIT_EVAL_BLAS selects the backend: "gonum"
// forces the pure-Go path, "" or "auto" tries the libraries below in order,
// and a value containing "/" or ".so" is a library to open instead.
package blasdl

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>

static void *bdl_open(const char *name) { return dlopen(name, RTLD_NOW | RTLD_LOCAL); }
static void *bdl_sym(void *h, const char *name) { return dlsym(h, name); }
static const char *bdl_error(void) { return dlerror(); }

// Fortran BLAS/LAPACK take every argument by reference, and one hidden
// length argument per CHARACTER argument at the end (gfortran's ABI).
typedef void (*dgemm_t)(const char *, const char *, const int *, const int *, const int *, const double *,
	const double *, const int *, const double *, const int *, const double *, double *, const int *, size_t, size_t);
typedef void (*dsyrk_t)(const char *, const char *, const int *, const int *, const double *,
	const double *, const int *, const double *, double *, const int *, size_t, size_t);
typedef void (*dsyr2k_t)(const char *, const char *, const int *, const int *, const double *,
	const double *, const int *, const double *, const int *, const double *, double *, const int *, size_t, size_t);
typedef void (*dsymv_t)(const char *, const int *, const double *, const double *, const int *,
	const double *, const int *, const double *, double *, const int *, size_t);
typedef void (*dgemv_t)(const char *, const int *, const int *, const double *, const double *, const int *,
	const double *, const int *, const double *, double *, const int *, size_t);
typedef void (*dtrxm_t)(const char *, const char *, const char *, const char *, const int *, const int *,
	const double *, const double *, const int *, double *, const int *, size_t, size_t, size_t, size_t);
typedef void (*dpotrf_t)(const char *, const int *, double *, const int *, int *, size_t);
typedef void (*dsyevd_t)(const char *, const char *, const int *, double *, const int *, double *,
	double *, const int *, int *, const int *, int *, size_t, size_t);
typedef void (*dgesdd_t)(const char *, const int *, const int *, double *, const int *, double *,
	double *, const int *, double *, const int *, double *, const int *, int *, int *, size_t);
typedef void (*setthreads_t)(int);
typedef char *(*getconfig_t)(void);

void bdl_dgemm(void *f, char ta, char tb, int m, int n, int k, double alpha, const double *a, int lda,
	const double *b, int ldb, double beta, double *c, int ldc) {
	((dgemm_t)f)(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc, 1, 1);
}
void bdl_dsyrk(void *f, char ul, char t, int n, int k, double alpha, const double *a, int lda,
	double beta, double *c, int ldc) {
	((dsyrk_t)f)(&ul, &t, &n, &k, &alpha, a, &lda, &beta, c, &ldc, 1, 1);
}
void bdl_dsyr2k(void *f, char ul, char t, int n, int k, double alpha, const double *a, int lda,
	const double *b, int ldb, double beta, double *c, int ldc) {
	((dsyr2k_t)f)(&ul, &t, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc, 1, 1);
}
void bdl_dsymv(void *f, char ul, int n, double alpha, const double *a, int lda, const double *x, int incx,
	double beta, double *y, int incy) {
	((dsymv_t)f)(&ul, &n, &alpha, a, &lda, x, &incx, &beta, y, &incy, 1);
}
void bdl_dgemv(void *f, char t, int m, int n, double alpha, const double *a, int lda, const double *x, int incx,
	double beta, double *y, int incy) {
	((dgemv_t)f)(&t, &m, &n, &alpha, a, &lda, x, &incx, &beta, y, &incy, 1);
}
void bdl_dtrxm(void *f, char side, char ul, char t, char diag, int m, int n, double alpha,
	const double *a, int lda, double *b, int ldb) {
	((dtrxm_t)f)(&side, &ul, &t, &diag, &m, &n, &alpha, a, &lda, b, &ldb, 1, 1, 1, 1);
}
int bdl_dpotrf(void *f, char ul, int n, double *a, int lda) {
	int info = 0;
	((dpotrf_t)f)(&ul, &n, a, &lda, &info, 1);
	return info;
}
int bdl_dsyevd(void *f, char jobz, char ul, int n, double *a, int lda, double *w,
	double *work, int lwork, int *iwork, int liwork) {
	int info = 0;
	((dsyevd_t)f)(&jobz, &ul, &n, a, &lda, w, work, &lwork, iwork, &liwork, &info, 1, 1);
	return info;
}
int bdl_dgesdd(void *f, char jobz, int m, int n, double *a, int lda, double *s,
	double *work, int lwork, int *iwork) {
	int info = 0, one = 1;
	double dummy = 0;
	((dgesdd_t)f)(&jobz, &m, &n, a, &lda, s, &dummy, &one, &dummy, &one, work, &lwork, iwork, &info, 1);
	return info;
}
static void bdl_setthreads(void *f, int n) { ((setthreads_t)f)(n); }
static const char *bdl_config(void *f) { return ((getconfig_t)f)(); }

// bdl_coretype names the OpenBLAS kernel family this CPU can run, for
// OPENBLAS_CORETYPE: "SkylakeX" (AVX-512 F/CD/BW/DQ/VL), "Haswell" (AVX2
// and FMA), or "" (leave OpenBLAS's own detection).
static const char *bdl_coretype(void) {
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw") &&
		__builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
		return "SkylakeX";
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return "Haswell";
#endif
	return "";
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// EnvVar names the environment variable that selects the backend.
const EnvVar = "MUNIT_EVAL_BLAS"

// candidates are tried in order: Debian's OpenBLAS (libopenblas0-pthread
// or -openmp), the development symlink, then reference LAPACK, whose
// dependency libblas.so.3 provides the BLAS symbols.
var candidates = []string{"libopenblas.so.0", "libopenblas.so", "liblapack.so.3"}

// lib holds the loaded library's entry points.
type lib struct {
	path                               string
	config                             string
	dgemm, dsyrk, dsyr2k, dsymv, dgemv unsafe.Pointer
	dtrmm, dtrsm, dpotrf, dsyevd       unsafe.Pointer
	dgesdd                             unsafe.Pointer
	setThreads                         unsafe.Pointer // nil unless OpenBLAS
	fixedThreads                       bool           // OPENBLAS_NUM_THREADS or OMP_NUM_THREADS set
	threads                            atomic.Int64   // last count passed to setThreads
}

var (
	once    sync.Once
	loaded  *lib
	loadErr error
)

// Load opens the library on first call (later calls return the first
// result): nil when an optimised BLAS/LAPACK is ready, otherwise why not
// (the caller then uses gonum).
func Load() error {
	once.Do(func() { loaded, loadErr = open(os.Getenv(EnvVar)) })
	return loadErr
}

// Available reports whether the library is loaded (loading it if need be).
func Available() bool { return Load() == nil }

// Describe says which backend is active, for `munit-eval version` and
// reports: the library's path and build configuration, or why gonum's
// pure-Go BLAS is used.
func Describe() string {
	if err := Load(); err != nil {
		return "gonum (pure Go): " + err.Error()
	}
	s := loaded.path
	if loaded.config != "" {
		s = loaded.config + " (" + loaded.path + ")"
	}
	switch {
	case loaded.fixedThreads:
		s += ", threads from OPENBLAS_NUM_THREADS/OMP_NUM_THREADS"
	case loaded.setThreads != nil:
		s += fmt.Sprintf(", %d threads", runtime.GOMAXPROCS(0))
	}
	return s
}

func open(env string) (*lib, error) {
	names := candidates
	switch {
	case env == "gonum":
		return nil, fmt.Errorf("%s=gonum", EnvVar)
	case env == "" || env == "auto":
	case strings.Contains(env, "/") || strings.Contains(env, ".so"):
		names = []string{env}
	default:
		return nil, fmt.Errorf("%s=%q is not gonum, auto or a library path", EnvVar, env)
	}
	var errs []error
	for _, name := range names {
		l, err := openOne(name)
		if err == nil {
			if err = selfCheck(l); err == nil {
				return l, nil
			}
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("no BLAS/LAPACK library: %w", errors.Join(errs...))
}

// coreTypeVar is OpenBLAS's variable choosing its kernels (read once, when
// the library loads).
const coreTypeVar = "OPENBLAS_CORETYPE"

func openOne(name string) (*lib, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	// OpenBLAS picks its kernels from a table of CPU models when it loads
	// and falls back to SSE3 ("Prescott") kernels for a model newer than
	// its release: Debian 12's 0.3.21 does so on current Xeons, which
	// makes DGEMM about 9× slower. Unless the user chose, name the family
	// the CPU's features support (the same kernels OpenBLAS picks for the
	// models it knows), for the duration of the load only.
	if _, set := os.LookupEnv(coreTypeVar); !set {
		if ct := C.GoString(C.bdl_coretype()); ct != "" {
			os.Setenv(coreTypeVar, ct)
			defer os.Unsetenv(coreTypeVar)
		}
	}
	h := C.bdl_open(cname)
	if h == nil {
		return nil, fmt.Errorf("dlopen %s: %s", name, C.GoString(C.bdl_error()))
	}
	sym := func(s string) unsafe.Pointer {
		cs := C.CString(s)
		defer C.free(unsafe.Pointer(cs))
		return C.bdl_sym(h, cs)
	}
	l := &lib{path: name}
	need := map[string]*unsafe.Pointer{
		"dgemm_": &l.dgemm, "dsyrk_": &l.dsyrk, "dsyr2k_": &l.dsyr2k, "dsymv_": &l.dsymv,
		"dgemv_": &l.dgemv, "dtrmm_": &l.dtrmm, "dtrsm_": &l.dtrsm, "dpotrf_": &l.dpotrf, "dsyevd_": &l.dsyevd,
		"dgesdd_": &l.dgesdd,
	}
	var missing []string
	for s, p := range need {
		if *p = sym(s); *p == nil {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		// The handle stays open: dlclose of a library that started
		// threads is not safe, and this happens once per process.
		return nil, fmt.Errorf("%s lacks %s", name, strings.Join(missing, ", "))
	}
	if f := sym("openblas_get_config"); f != nil {
		l.config = strings.TrimSpace(C.GoString(C.bdl_config(f)))
	}
	if f := sym("openblas_get_corename"); f != nil {
		// The build target in the configuration is the kernels in use
		// (DYNAMIC_ARCH); say so when the core name differs.
		if core := strings.TrimSpace(C.GoString(C.bdl_config(f))); !strings.Contains(l.config, core) {
			l.config += ", kernels " + core
		}
	}
	l.setThreads = sym("openblas_set_num_threads")
	l.fixedThreads = os.Getenv("OPENBLAS_NUM_THREADS") != "" || os.Getenv("OMP_NUM_THREADS") != ""
	return l, nil
}

// syncThreads keeps OpenBLAS's thread count equal to GOMAXPROCS (the
// cores the process may use), which a caller may change at any time, unless
// OPENBLAS_NUM_THREADS or OMP_NUM_THREADS chose; one atomic load per call
// when unchanged.
func syncThreads() {
	if loaded.setThreads == nil || loaded.fixedThreads {
		return
	}
	n := int64(runtime.GOMAXPROCS(0))
	if loaded.threads.Load() != n {
		loaded.threads.Store(n)
		C.bdl_setthreads(loaded.setThreads, C.int(n))
	}
}
