package lpips

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFirstNonFinite(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	for _, n := range []int{0, 1, 7, 8, 9, 16, 37} {
		clean := make([]float32, n)
		for i := range clean {
			// Large, tiny, subnormal and negative values are all finite.
			clean[i] = []float32{math.MaxFloat32, -math.MaxFloat32, 1e-45, -0.5, 0}[i%5]
		}
		if got := firstNonFinite(clean); got != -1 {
			t.Errorf("n=%d finite values: got %d, want -1", n, got)
		}
		for pos := 0; pos < n; pos++ {
			for _, bad := range []float32{nan, inf, -inf} {
				x := append([]float32(nil), clean...)
				x[pos] = bad
				if pos+1 < n {
					x[n-1] = nan // a later one must not be reported first
				}
				if got := firstNonFinite(x); got != pos {
					t.Errorf("n=%d %v at %d: got %d", n, bad, pos, got)
				}
			}
		}
	}
}

// TestSumSquaredDiff compares the unrolled sum with the plain loop it
// replaces: the same float64 terms summed in another order agree within a
// few ulps of the total (1e-12 relative here).
func TestSumSquaredDiff(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 3, 4, 5, 1000, 254016} {
		x, y := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = rng.Float32()-0.5, rng.Float32()-0.5
		}
		want := 0.0
		for i := range x {
			d := float64(x[i]) - float64(y[i])
			want += d * d
		}
		got := sumSquaredDiff(x, y)
		if math.Abs(got-want) > 1e-12*want {
			t.Errorf("n=%d: %.17g, plain loop %.17g", n, got, want)
		}
	}
}
