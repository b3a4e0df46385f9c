package metrics

import (
	"fmt"
	"testing"
)

func randomProbs(seed uint64, m, k, c int) [][][]float64 {
	r := newRand(seed)
	probs := make([][][]float64, m)
	logits := make([]float64, c)
	for i := range probs {
		probs[i] = make([][]float64, k)
		for j := range probs[i] {
			for cl := range logits {
				logits[cl] = 3 * r.NormFloat64()
			}
			probs[i][j] = Softmax(logits)
		}
	}
	return probs
}

func BenchmarkScoreMUNIT(b *testing.B) {
	for _, c := range []int{4, 1000} {
		probs := randomProbs(1, 100, 100, c)
		b.Run(fmt.Sprintf("100x100x%d", c), func(b *testing.B) {
			for b.Loop() {
				if _, err := ScoreMUNIT(probs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMUNITBootstrap2000(b *testing.B) {
	for _, c := range []int{4, 1000} {
		s, err := ScoreMUNIT(randomProbs(1, 100, 100, c))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("100x100x%d", c), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Bootstrap(2000, 1, 0.95); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSplitInceptionScore(b *testing.B) {
	rows := Rows(randomProbs(1, 100, 100, 1000))
	for b.Loop() {
		if _, err := SplitInceptionScore(rows, SplitOptions{Shuffle: true, Seed: 2020}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFID(b *testing.B) {
	useBLAS(b)
	x := randomFeatures(1, 500, 2048, 0)
	y := randomFeatures(2, 500, 2048, 0.1)
	b.Run("N500_D2048", func(b *testing.B) {
		for b.Loop() {
			if _, err := FID(x, y); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Full-rank covariances (N > D): the Cholesky path.
	gx, _ := FitGaussian(randomFeatures(3, 2500, 2048, 0))
	gy, _ := FitGaussian(randomFeatures(4, 2500, 2048, 0.1))
	b.Run("FrechetDistance_D2048_fullrank", func(b *testing.B) {
		for b.Loop() {
			if _, err := FrechetDistance(gx, gy); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkKID(b *testing.B) {
	useBLAS(b)
	x := randomFeatures(1, 1000, 2048, 0)
	y := randomFeatures(2, 1000, 2048, 0.1)
	b.Run("N1000_100subsets_of_1000_D2048_gram", func(b *testing.B) {
		for b.Loop() {
			if _, err := KID(x, y, KIDOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	big := randomFeatures(3, 4000, 2048, 0)
	b.Run("N4000_2subsets_of_1000_D2048_persubset", func(b *testing.B) {
		for b.Loop() {
			if _, err := KID(big, x, KIDOptions{Subsets: 2}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkBootstrapMeanCI(b *testing.B) {
	groups := make([][]float64, 100)
	for g := range groups {
		groups[g] = make([]float64, 19)
		for j := range groups[g] {
			groups[g][j] = float64(g*j%7) / 7
		}
	}
	for b.Loop() {
		BootstrapMeanCI(groups, 2000, 1, 0.95)
	}
}

func BenchmarkPreferenceBootstrap(b *testing.B) {
	js := simulateJudgments(1, 500, 5, 40, 0.36, 0.2)
	for b.Loop() {
		PreferenceBootstrap(js, 2000, 1)
	}
}

// BenchmarkInceptionSize measures FID and KID (torch-fidelity's defaults:
// 100 subsets of 1000) at Inception size, D = 2048, N generated vs N real
// features, on every core (GOMAXPROCS). One iteration takes seconds to a
// minute: run with -benchtime 1x, e.g.
//
//	go test ./metrics -run '^$' -bench InceptionSize -benchtime 1x
//
// docs/performance.md has the figures beside torch-fidelity's.
func BenchmarkInceptionSize(b *testing.B) {
	useBLAS(b)
	for _, n := range []int{5000, 10000} {
		x := randomFeatures(11, n, 2048, 0)
		y := randomFeatures(12, n, 2048, 0.1)
		b.Run(fmt.Sprintf("FID_N%d_D2048", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := FID(x, y); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("KID_N%d_D2048_100x1000", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := KID(x, y, KIDOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
