package evaluate

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/metrics"
)

// TestStatsWithPytorchFIDFormat: statistics numpy writes as pytorch-fid's
// --save-stats does (np.savez(mu=np.mean, sigma=np.cov(rowvar=False)) of
// seeded features) are read by ReadStats, statistics WriteStats writes are
// read by numpy, and the FID between the two files, computed by
// pytorch-fid's formula in float64 with scipy.linalg.sqrtm, equals
// metrics.FrechetDistance on what ReadStats returns to 1e-9 relative.
// Skipped without /usr/bin/python3 with numpy and scipy.
func TestStatsWithPytorchFIDFormat(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy, scipy.linalg").Run(); err != nil {
		t.Skip("no /usr/bin/python3 with numpy and scipy")
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.npz"), filepath.Join(dir, "b.npz")
	// b: written here, from a Gaussian fit of deterministic features.
	// Features from a seeded generator: full-rank covariances, where
	// scipy's sqrtm is accurate.
	feats := make([][]float64, 40)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range feats {
		feats[i] = make([]float64, 6)
		for j := range feats[i] {
			feats[i][j] = rng.NormFloat64() + 0.1*float64(j)
		}
	}
	g, err := metrics.FitGaussian(feats)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteStats(b, g); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, numpy as np, scipy.linalg
a, b = sys.argv[1], sys.argv[2]
rng = np.random.RandomState(3)
x = rng.randn(50, 6) @ rng.randn(6, 6) + 0.5
np.savez(a, mu=np.mean(x, axis=0), sigma=np.cov(x, rowvar=False))
f1, f2 = np.load(a), np.load(b)
mu1, s1, mu2, s2 = f1["mu"], f1["sigma"], f2["mu"], f2["sigma"]
assert s2.dtype == np.float64 and s2.shape == (6, 6) and mu2.shape == (6,)
covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
covmean = covmean.real
diff = mu1 - mu2
print(repr(float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))))
`
	out, err := exec.Command(py, "-c", script, a, b).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	want, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("python printed %q", out)
	}
	ga, err := ReadStats(a)
	if err != nil {
		t.Fatal(err)
	}
	gb, err := ReadStats(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := metrics.FrechetDistance(ga, gb)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-want) > 1e-9*math.Abs(want) {
		t.Errorf("FID between the .npz files %.15g, pytorch-fid's formula %.15g", got, want)
	}
}

func TestReadStatsErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.npz")
	os.WriteFile(bad, []byte("not a zip"), 0o644)
	if _, err := ReadStats(bad); err == nil || !strings.Contains(err.Error(), "bad.npz") {
		t.Errorf("not a zip: %v", err)
	}
	g, _ := metrics.NewGaussian([]float64{1, 2}, []float64{1, 0, 0, 1}, 0)
	good := filepath.Join(dir, "g.npz")
	if err := WriteStats(good, g); err != nil {
		t.Fatal(err)
	}
	back, err := ReadStats(good)
	if err != nil || back.Mean[1] != 2 || back.Cov.At(1, 1) != 1 {
		t.Fatalf("round trip: %v %v", back, err)
	}
}
