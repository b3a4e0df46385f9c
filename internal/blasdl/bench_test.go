package blasdl

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// BenchmarkKIDSubsetProducts times one KID subset's products at
// torch-fidelity's defaults (m = 1000, D = 2048): X Xᵀ by Dsyrk and X Yᵀ
// by Dgemm, in the loaded library.
func BenchmarkKIDSubsetProducts(b *testing.B) {
	if err := Load(); err != nil {
		b.Skip(err)
	}
	const m, d = 1000, 2048
	r := rand.New(rand.NewPCG(1, 2))
	x, y, c := fill(r, m*d), fill(r, m*d), make([]float64, m*m)
	impl := Implementation{}
	b.Run("Dsyrk", func(b *testing.B) {
		for b.Loop() {
			impl.Dsyrk(blas.Upper, blas.NoTrans, m, d, 1, x, d, 0, c, m)
		}
	})
	b.Run("Dgemm", func(b *testing.B) {
		for b.Loop() {
			impl.Dgemm(blas.NoTrans, blas.Trans, m, m, d, 1, x, d, y, d, 0, c, m)
		}
	})
}

// BenchmarkKIDSubsetStacked times the same products as one Dsyrk of the
// stacked [X; Y] (2m×D): X Xᵀ, Y Yᵀ and X Yᵀ are its blocks.
func BenchmarkKIDSubsetStacked(b *testing.B) {
	if err := Load(); err != nil {
		b.Skip(err)
	}
	const m, d = 1000, 2048
	r := rand.New(rand.NewPCG(1, 2))
	xy, c := fill(r, 2*m*d), make([]float64, 4*m*m)
	impl := Implementation{}
	for b.Loop() {
		impl.Dsyrk(blas.Upper, blas.NoTrans, 2*m, d, 1, xy, d, 0, c, 2*m)
	}
}
