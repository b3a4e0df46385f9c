package metrics

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// TestPRDCHand checks PRDC on a one-dimensional case worked by hand
// (k = 1): real {0, 1, 3} with radii 1, 1, 2; generated {0.5, 5, 2.5, 10}
// with radii 2, 2.5, 2, 5. Generated 5 lies exactly on real 3's radius,
// so it counts for precision (≤, torch-fidelity) and not for density (<,
// prdc). Values are exact fractions; the tolerance is 0.
func TestPRDCHand(t *testing.T) {
	real := [][]float64{{0}, {1}, {3}}
	fake := [][]float64{{0.5}, {5}, {2.5}, {10}}
	got, err := PRDC(real, fake, PRDCOptions{PRK: 1, DCK: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := PRDCResult{Precision: 0.75, Recall: 1, FScore: 2 * 0.75 / 1.75, Density: 0.75, Coverage: 1,
		PRK: 1, DCK: 1, NumReal: 3, NumFake: 4}
	if *got != want {
		t.Errorf("got %+v\nwant %+v", *got, want)
	}
	// Swapping the roles: real {0.5, 5, 2.5, 10}, generated {0, 1, 3}.
	// precision: 0 (to 0.5: 0.5 ≤ 2), 1 (0.5 ≤ 2), 3 (to 2.5: 0.5 ≤ 2) = 1;
	// recall: 0.5, 2.5 (within 1 of 1 / 2 of 3), 5 (2 ≤ 2 of 3), 10 no = 3/4;
	// density: 0 → {0.5}, 1 → {0.5, 2.5}, 3 → {2.5, 5 (2 < 2.5)} = 5/3;
	// coverage: 0.5 (0.5 < 2), 5 (2 < 2.5), 2.5 (0.5 < 2), 10 (7 < 5 no) = 3/4.
	got, err = PRDC(fake, real, PRDCOptions{PRK: 1, DCK: 1})
	if err != nil {
		t.Fatal(err)
	}
	want = PRDCResult{Precision: 1, Recall: 0.75, FScore: 2 * 0.75 / 1.75, Density: 5.0 / 3, Coverage: 0.75,
		PRK: 1, DCK: 1, NumReal: 4, NumFake: 3}
	if *got != want {
		t.Errorf("swapped: got %+v\nwant %+v", *got, want)
	}
}

// TestPRDCIdentical: a set against itself has precision, recall and
// coverage exactly 1 (every point is at distance 0 from itself, inside
// its own radius), whatever the data.
func TestPRDCIdentical(t *testing.T) {
	x := randomFeatures(3, 300, 8, 0)
	got, err := PRDC(x, x, PRDCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Precision != 1 || got.Recall != 1 || got.Coverage != 1 {
		t.Errorf("self: %+v, want precision = recall = coverage = 1", *got)
	}
	if got.PRK != DefaultPRK || got.DCK != DefaultDCK {
		t.Errorf("defaults k = %d, %d, want %d, %d", got.PRK, got.DCK, DefaultPRK, DefaultDCK)
	}
}

func TestPRDCBadInput(t *testing.T) {
	ok := randomFeatures(1, 10, 3, 0)
	for _, c := range []struct {
		name       string
		real, fake [][]float64
		o          PRDCOptions
	}{
		{"too few real", ok[:5], ok, PRDCOptions{}},
		{"too few fake", ok, ok[:3], PRDCOptions{}},
		{"dims", ok, randomFeatures(2, 10, 4, 0), PRDCOptions{}},
		{"negative k", ok, ok, PRDCOptions{PRK: -1}},
		{"ragged", ok, append(randomFeatures(2, 9, 3, 0), []float64{1}), PRDCOptions{}},
	} {
		if _, err := PRDC(c.real, c.fake, c.o); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// prdcNumpy is an independent float64 computation of the same metrics
// with numpy: direct differences (not the ||a||² + ||b||² − 2ab form),
// np.partition for the radii, torch-fidelity's ≤ for precision/recall and
// prdc's < for density/coverage.
const prdcNumpy = `
import json, sys
import numpy as np
d = json.load(sys.stdin)
r, f = np.array(d["real"], np.float64), np.array(d["fake"], np.float64)
kp, kd = d["prk"], d["dck"]
def dist(a, b): return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
rr, ff, rf = dist(r, r), dist(f, f), dist(r, f)
def radius(m, k): return np.partition(m, k, axis=1)[:, k]
r_p, r_d, f_p = radius(rr, kp), radius(rr, kd), radius(ff, kp)
p = (rf <= r_p[:, None]).any(axis=0).mean()
rc = (rf <= f_p[None, :]).any(axis=1).mean()
den = (1.0 / kd) * (rf < r_d[:, None]).sum(axis=0).mean()
cov = (rf.min(axis=1) < r_d).mean()
json.dump({"precision": p, "recall": rc, "density": den, "coverage": cov}, sys.stdout)
`

// pythonNumpy returns /usr/bin/python3 when it imports numpy, or skips.
func pythonNumpy(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Skip("/usr/bin/python3 has no numpy")
	}
	return py
}

// TestPRDCNumpy compares PRDC with numpy on overlapping Gaussian clouds of
// several sizes (both block-split and not). The counts are discrete, so
// the tolerance is 1e-12 (rounding of the final divisions only).
func TestPRDCNumpy(t *testing.T) {
	py := pythonNumpy(t)
	for _, c := range []struct {
		n, m, d  int
		prk, dck int
		shift    float64
	}{
		{60, 50, 4, 3, 5, 0.3},
		{300, 280, 12, 3, 5, 0.5},
		{120, 90, 6, 2, 7, 1.0},
	} {
		real := randomFeatures(uint64(c.n), c.n, c.d, 0)
		fake := randomFeatures(uint64(c.m)+7, c.m, c.d, c.shift)
		in, _ := json.Marshal(map[string]any{"real": real, "fake": fake, "prk": c.prk, "dck": c.dck})
		cmd := exec.Command(py, "-c", prdcNumpy)
		cmd.Stdin = bytes.NewReader(in)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("numpy: %v", err)
		}
		var want struct{ Precision, Recall, Density, Coverage float64 }
		if err := json.Unmarshal(out, &want); err != nil {
			t.Fatal(err)
		}
		got, err := PRDC(real, fake, PRDCOptions{PRK: c.prk, DCK: c.dck})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []struct {
			name      string
			got, want float64
		}{{"precision", got.Precision, want.Precision}, {"recall", got.Recall, want.Recall},
			{"density", got.Density, want.Density}, {"coverage", got.Coverage, want.Coverage}} {
			if !near(v.got, v.want, 1e-12) {
				t.Errorf("%dx%d vs %d: %s = %.15g, numpy %.15g", c.n, c.d, c.m, v.name, v.got, v.want)
			}
		}
		if got.Precision == 1 && got.Recall == 1 {
			t.Errorf("%dx%d: precision and recall both 1: the case does not discriminate", c.n, c.d)
		}
	}
}

func BenchmarkPRDC(b *testing.B) {
	useBLAS(b)
	real := randomFeatures(1, 2000, 256, 0)
	fake := randomFeatures(2, 2000, 256, 0.2)
	b.ResetTimer()
	for range b.N {
		if _, err := PRDC(real, fake, PRDCOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
