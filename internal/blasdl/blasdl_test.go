package blasdl

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// needLib skips the test, saying why, when no library loaded (the gonum
// fallback is then what every caller gets, tested in package metrics).
func needLib(t *testing.T) {
	t.Helper()
	if err := Load(); err != nil {
		t.Skipf("no optimised BLAS, only the gonum fallback is tested: %v", err)
	}
	t.Logf("backend: %s", Describe())
}

// closeTo fails unless got equals want within tol·max|want| elementwise:
// the library and gonum differ only in the order of float64 summation.
func closeTo(t *testing.T, name string, got, want []float64, tol float64) {
	t.Helper()
	var scale float64
	for _, v := range want {
		scale = max(scale, math.Abs(v))
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > tol*scale {
			t.Fatalf("%s: element %d = %v, gonum %v", name, i, got[i], want[i])
		}
	}
}

func fill(r *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	return v
}

var (
	trans = []blas.Transpose{blas.NoTrans, blas.Trans}
	uplos = []blas.Uplo{blas.Upper, blas.Lower}
)

// TestLevel3MatchesGonum checks every forwarded routine against gonum's on
// random operands, every flag combination, rectangular shapes and leading
// dimensions larger than the rows, to 1e-13 relative; the padding beyond
// each row (and, for the symmetric routines, the other triangle) must be
// untouched. Sizes 300 and above run multithreaded in OpenBLAS. The
// size thresholds below which calls stay in gonum are lifted.
func TestLevel3MatchesGonum(t *testing.T) {
	needLib(t)
	// Every call to the library, however small.
	defer func(w3, w2 int) { minWork3, minWork2 = w3, w2 }(minWork3, minWork2)
	minWork3, minWork2 = 0, 0
	r := rand.New(rand.NewPCG(3, 4))
	lib, ref := Implementation{}, gonum.Implementation{}
	const tol = 1e-13
	for _, sz := range [][3]int{{7, 5, 3}, {1, 1, 1}, {301, 257, 130}} {
		m, n, k := sz[0], sz[1], sz[2]
		pad := 3
		for _, tA := range trans {
			for _, tB := range trans {
				ar, ac := m, k
				if tA == blas.Trans {
					ar, ac = k, m
				}
				br, bc := k, n
				if tB == blas.Trans {
					br, bc = n, k
				}
				a, b, c := fill(r, ar*(ac+pad)), fill(r, br*(bc+pad)), fill(r, m*(n+pad))
				want := slices.Clone(c)
				ref.Dgemm(tA, tB, m, n, k, 0.7, a, ac+pad, b, bc+pad, 0.3, want, n+pad)
				lib.Dgemm(tA, tB, m, n, k, 0.7, a, ac+pad, b, bc+pad, 0.3, c, n+pad)
				closeTo(t, "Dgemm", c, want, tol)
			}
			// Dgemv: A m×k.
			ar, ac := m, k
			lx, ly := k, m
			if tA == blas.Trans {
				lx, ly = m, k
			}
			a, x, y := fill(r, ar*(ac+pad)), fill(r, 2*lx), fill(r, 3*ly)
			want := slices.Clone(y)
			ref.Dgemv(tA, m, k, 0.7, a, ac+pad, x, 2, 0.3, want, 3)
			lib.Dgemv(tA, m, k, 0.7, a, ac+pad, x, 2, 0.3, y, 3)
			closeTo(t, "Dgemv", y, want, tol)

			for _, ul := range uplos {
				// Dsyrk / Dsyr2k: C n×n, A n×k (NoTrans) or k×n.
				rr, cc := n, k
				if tA == blas.Trans {
					rr, cc = k, n
				}
				a, b, c := fill(r, rr*(cc+pad)), fill(r, rr*(cc+pad)), fill(r, n*(n+pad))
				want := slices.Clone(c)
				ref.Dsyrk(ul, tA, n, k, 0.5, a, cc+pad, 0.25, want, n+pad)
				lib.Dsyrk(ul, tA, n, k, 0.5, a, cc+pad, 0.25, c, n+pad)
				closeTo(t, "Dsyrk", c, want, tol)
				ref.Dsyr2k(ul, tA, n, k, -1, a, cc+pad, b, cc+pad, 1, want, n+pad)
				lib.Dsyr2k(ul, tA, n, k, -1, a, cc+pad, b, cc+pad, 1, c, n+pad)
				closeTo(t, "Dsyr2k", c, want, tol)

				if tA == blas.NoTrans {
					s, x, y := fill(r, n*(n+pad)), fill(r, 2*n), fill(r, 3*n)
					want := slices.Clone(y)
					ref.Dsymv(ul, n, 0.7, s, n+pad, x, 2, 0.3, want, 3)
					lib.Dsymv(ul, n, 0.7, s, n+pad, x, 2, 0.3, y, 3)
					closeTo(t, "Dsymv", y, want, tol)
				}
				for _, side := range []blas.Side{blas.Left, blas.Right} {
					for _, d := range []blas.Diag{blas.NonUnit, blas.Unit} {
						kk := n
						if side == blas.Left {
							kk = m
						}
						// A well-conditioned triangle: a dominant diagonal.
						a := fill(r, kk*(kk+pad))
						for i := range kk {
							a[i*(kk+pad)+i] = 4 + float64(kk)
						}
						b := fill(r, m*(n+pad))
						want := slices.Clone(b)
						ref.Dtrmm(side, ul, tA, d, m, n, 0.7, a, kk+pad, want, n+pad)
						lib.Dtrmm(side, ul, tA, d, m, n, 0.7, a, kk+pad, b, n+pad)
						closeTo(t, "Dtrmm", b, want, tol)
						if d == blas.NonUnit {
							ref.Dtrsm(side, ul, tA, d, m, n, 0.7, a, kk+pad, want, n+pad)
							lib.Dtrsm(side, ul, tA, d, m, n, 0.7, a, kk+pad, b, n+pad)
							closeTo(t, "Dtrsm", b, want, tol)
						}
					}
				}
			}
		}
	}
}

// TestInvalidCallsPanicLikeGonum checks that a call gonum rejects still
// panics with gonum's message (it is delegated, never passed to the
// library, whose error handler would print and exit).
func TestInvalidCallsPanicLikeGonum(t *testing.T) {
	needLib(t)
	msg := func(f func()) (s any) {
		defer func() { s = recover() }()
		f()
		return nil
	}
	a := make([]float64, 4)
	for name, f := range map[string]func(blas.Float64){
		"short A":   func(i blas.Float64) { i.Dgemm(blas.NoTrans, blas.NoTrans, 3, 3, 3, 1, a, 3, a, 3, 0, a, 3) },
		"bad lda":   func(i blas.Float64) { i.Dsyrk(blas.Upper, blas.NoTrans, 2, 2, 1, a, 1, 0, a, 2) },
		"bad uplo":  func(i blas.Float64) { i.Dsymv(blas.All, 2, 1, a, 2, a, 1, 0, a, 1) },
		"zero incX": func(i blas.Float64) { i.Dgemv(blas.NoTrans, 2, 2, 1, a, 2, a, 0, 0, a, 1) },
	} {
		got, want := msg(func() { f(Implementation{}) }), msg(func() { f(gonum.Implementation{}) })
		if want == nil || got != want {
			t.Errorf("%s: panic %v, gonum's %v", name, got, want)
		}
	}
}

// TestLAPACK checks Dpotrf against the product it factorises (UᵀU and
// LLᵀ rebuild A to 1e-13 relative), its refusal of an indefinite matrix,
// and EigenvaluesSym against a planted spectrum: A = Q diag(λ) Qᵀ with Q
// orthogonal (a product of Householder reflections), eigenvalues to
// 1e-12·max|λ|.
func TestLAPACK(t *testing.T) {
	needLib(t)
	r := rand.New(rand.NewPCG(5, 6))
	const n, lda = 200, 203
	ref := gonum.Implementation{}
	g := fill(r, n*lda)
	spd := make([]float64, n*lda)
	ref.Dsyrk(blas.Upper, blas.NoTrans, n, n, 1, g, lda, 0, spd, lda)
	for i := range n {
		spd[i*lda+i] += 1
		for j := range i {
			spd[i*lda+j] = spd[j*lda+i]
		}
	}
	for _, ul := range uplos {
		f := slices.Clone(spd)
		ok, err := Dpotrf(ul, n, f, lda)
		if err != nil || !ok {
			t.Fatalf("Dpotrf(%c) = %v, %v on a positive definite matrix", ul, ok, err)
		}
		tri := make([]float64, n*lda)
		for i := range n {
			for j := range n {
				if (ul == blas.Upper && j >= i) || (ul == blas.Lower && j <= i) {
					tri[i*lda+j] = f[i*lda+j]
				}
			}
		}
		back := make([]float64, n*lda)
		tA, tB := blas.Trans, blas.NoTrans // UᵀU
		if ul == blas.Lower {
			tA, tB = blas.NoTrans, blas.Trans // LLᵀ
		}
		ref.Dgemm(tA, tB, n, n, n, 1, tri, lda, tri, lda, 0, back, lda)
		closeTo(t, "Dpotrf", back, spd, 1e-13)
	}
	indef := slices.Clone(spd)
	indef[5*lda+5] = -1
	if ok, err := Dpotrf(blas.Upper, n, indef, lda); ok || err != nil {
		t.Errorf("Dpotrf of an indefinite matrix = %v, %v; want false, nil", ok, err)
	}
	if _, err := Dpotrf(blas.Upper, n, spd[:10], lda); err == nil {
		t.Errorf("Dpotrf on a short slice: no error")
	}

	lambda := make([]float64, n)
	for i := range lambda {
		lambda[i] = float64(i*i)/50 - 3
	}
	a := make([]float64, n*lda)
	for i := range n {
		a[i*lda+i] = lambda[i]
	}
	// A ← H A H for three reflections H = I − 2vvᵀ/(vᵀv).
	for range 3 {
		v := fill(r, n)
		vv := ref.Ddot(n, v, 1, v, 1)
		av := make([]float64, n)
		ref.Dsymv(blas.Upper, n, 1, a, lda, v, 1, 0, av, 1)
		vav := ref.Ddot(n, v, 1, av, 1)
		// HAH = A − (2/vv)(v avᵀ + av vᵀ) + (4 vav/vv²) v vᵀ.
		ref.Dsyr2k(blas.Upper, blas.NoTrans, n, 1, -2/vv, v, 1, av, 1, 1, a, lda)
		ref.Dsyrk(blas.Upper, blas.NoTrans, n, 1, 4*vav/(vv*vv), v, 1, 1, a, lda)
	}
	for _, ul := range uplos {
		m := slices.Clone(a)
		if ul == blas.Lower {
			for i := range n {
				for j := range i {
					m[i*lda+j] = m[j*lda+i]
				}
			}
		}
		got, err := EigenvaluesSym(ul, n, m, lda)
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "EigenvaluesSym", got, lambda, 1e-12)
	}
}

// TestEnvForcesGonum checks the MUNIT_EVAL_BLAS values: gonum and a
// nonsense value refuse to load (the caller falls back), a missing
// library path fails naming it.
func TestEnvForcesGonum(t *testing.T) {
	for env, want := range map[string]string{
		"gonum":                "MUNIT_EVAL_BLAS=gonum",
		"fast":                 `MUNIT_EVAL_BLAS="fast" is not gonum, auto or a library path`,
		"/nonexistent/libx.so": "dlopen /nonexistent/libx.so",
	} {
		if _, err := open(env); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("open(%q) error %v, want one containing %q", env, err, want)
		}
	}
}

// TestSelfCheck: the loaded library passes the self-check, and products
// that are wrong (a stand-in for broken kernels) or NaN are refused.
func TestSelfCheck(t *testing.T) {
	needLib(t)
	if err := selfCheck(loaded); err != nil {
		t.Fatalf("the loaded library fails its self-check: %v", err)
	}
	want := []float64{1, -2, 3.5}
	if err := sameProduct(loaded, []float64{1, -2, 3.5 + 1e-12}, want); err != nil {
		t.Errorf("rounding noise refused: %v", err)
	}
	for _, bad := range [][]float64{{1, -2, 3.6}, {1, math.NaN(), 3.5}, {0, 0, 0}} {
		if err := sameProduct(loaded, bad, want); err == nil {
			t.Errorf("%v passed the self-check against %v", bad, want)
		}
	}
}
