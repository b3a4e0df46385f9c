package metrics

import (
	"math"
	"testing"
)

func TestWilson(t *testing.T) {
	// Newcombe (1998), "Two-sided confidence intervals for the single
	// proportion", Stat. Med. 17:857, Table II, method 3 (Wilson score),
	// printed to 4 decimals.
	published := []struct {
		k, n   int
		lo, hi float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0, 0.1611},
		{1, 29, 0.0061, 0.1718},
	}
	for _, tt := range published {
		lo, hi := Wilson(tt.k, tt.n, Z95)
		if !near(lo, tt.lo, 5e-5) || !near(hi, tt.hi, 5e-5) {
			t.Errorf("Wilson(%d, %d) = [%.5f, %.5f], Newcombe prints [%.4f, %.4f]", tt.k, tt.n, lo, hi, tt.lo, tt.hi)
		}
	}
	// Independently: the bounds are the roots in p of the score equation
	// (p̂ − p)² = z² p (1 − p) / n, i.e.
	// (1 + z²/n) p² − (2p̂ + z²/n) p + p̂² = 0.
	for _, c := range []struct{ k, n int }{{36, 100}, {1, 2}, {1250, 2500}, {2500, 2500}} {
		z := Z95
		n, ph := float64(c.n), float64(c.k)/float64(c.n)
		qa, qb, qc := 1+z*z/n, -(2*ph + z*z/n), ph*ph
		disc := math.Sqrt(qb*qb - 4*qa*qc)
		wantLo, wantHi := (-qb-disc)/(2*qa), (-qb+disc)/(2*qa)
		lo, hi := Wilson(c.k, c.n, z)
		if !near(lo, wantLo, 1e-12) || !near(hi, wantHi, 1e-12) {
			t.Errorf("Wilson(%d, %d) = [%v, %v], quadratic roots [%v, %v]", c.k, c.n, lo, hi, wantLo, wantHi)
		}
	}
	for _, c := range []struct{ k, n int }{{1, 0}, {-1, 5}, {6, 5}} {
		if lo, _ := Wilson(c.k, c.n, Z95); !math.IsNaN(lo) {
			t.Errorf("Wilson(%d, %d) should be NaN", c.k, c.n)
		}
	}
}

func TestTwoProportionZ(t *testing.T) {
	// Hand-computed: 60/100 vs 40/100: pooled 0.5, se = sqrt(0.25 · 0.02),
	// z = 0.2 / 0.0707106781 = 2√2, p = 2(1 − Φ(2√2)) = 0.0046777350 (normal
	// table).
	z, p, err := TwoProportionZ(60, 100, 40, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !near(z, 2*math.Sqrt2, 1e-12) || !near(p, 0.0046777350, 1e-9) {
		t.Errorf("z = %v, p = %v; want 2.8284271, 0.0046777350", z, p)
	}
	if z, p, _ := TwoProportionZ(5, 5, 7, 7); z != 0 || p != 1 {
		t.Errorf("all successes: z %v p %v, want 0, 1", z, p)
	}
	if _, _, err := TwoProportionZ(6, 5, 1, 2); err == nil {
		t.Error("k > n accepted")
	}
}

// simulateJudgments draws nq questions × per workers (from a pool of nw)
// answering "prefer" with probability p + question and worker effects.
func simulateJudgments(seed uint64, nq, per, nw int, p, spread float64) []Judgment {
	r := newRand(seed)
	qEff := make([]float64, nq)
	wEff := make([]float64, nw)
	for i := range qEff {
		qEff[i] = spread * (r.Float64() - 0.5)
	}
	for i := range wEff {
		wEff[i] = spread * (r.Float64() - 0.5)
	}
	var js []Judgment
	for q := range nq {
		for _, w := range r.Perm(nw)[:per] {
			pr := min(1, max(0, p+qEff[q]+wEff[w]))
			js = append(js, Judgment{Question: q, Worker: w, Prefer: r.Float64() < pr})
		}
	}
	return js
}

func TestPreferenceBootstrap(t *testing.T) {
	const p = 0.36
	// Coverage over 100 seeded studies (500 questions × 5 of 40 workers,
	// with uniform question and worker effects of ±0.2 around p): the
	// two-way interval should cover p about 95% of the time (≥ 88 of 100
	// allows for the binomial spread), and be wider than Wilson's, which
	// ignores the effects.
	covered, wider := 0, 0
	const trials = 100
	for s := range uint64(trials) {
		js := simulateJudgments(500+s, 500, 5, 40, p, 0.4)
		lo, hi := PreferenceBootstrap(js, 400, s)
		k := 0
		for _, j := range js {
			if j.Prefer {
				k++
			}
		}
		wlo, whi := Wilson(k, len(js), Z95)
		if hi-lo > whi-wlo {
			wider++
		}
		if lo <= p && p <= hi {
			covered++
		}
	}
	t.Logf("two-way bootstrap: covers p in %d/%d, wider than Wilson in %d/%d", covered, trials, wider, trials)
	if covered < 88 {
		t.Errorf("covered p = %v in %d of %d studies, want ≥ 88", p, covered, trials)
	}
	if wider < 90 {
		t.Errorf("wider than Wilson in only %d of %d studies with worker and question effects", wider, trials)
	}
	js := simulateJudgments(1, 50, 5, 10, p, 0)
	lo1, hi1 := PreferenceBootstrap(js, 200, 3)
	lo2, hi2 := PreferenceBootstrap(js, 200, 3)
	if lo1 != lo2 || hi1 != hi2 {
		t.Error("same seed gave different intervals")
	}
	// All judgments prefer: the interval is the point 1.
	all := []Judgment{{1, 1, true}, {1, 2, true}, {2, 1, true}}
	if lo, hi := PreferenceBootstrap(all, 100, 1); lo != 1 || hi != 1 {
		t.Errorf("unanimous: [%v, %v], want [1, 1]", lo, hi)
	}
	if lo, _ := PreferenceBootstrap(nil, 100, 1); !math.IsNaN(lo) {
		t.Error("no judgments should give NaN")
	}
}
