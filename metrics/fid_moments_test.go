package metrics

import (
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
	"testing"
)

func TestNewGaussianErrors(t *testing.T) {
	for _, c := range []struct {
		name      string
		mean, cov []float64
	}{
		{"empty", nil, nil},
		{"size", []float64{0, 0}, []float64{1, 0, 0}},
		{"nan mean", []float64{math.NaN()}, []float64{1}},
		{"inf cov", []float64{0}, []float64{math.Inf(1)}},
		{"asymmetric", []float64{0, 0}, []float64{1, 0.5, 0.4, 1}},
		{"negative diagonal", []float64{0, 0}, []float64{-1, 0, 0, 1}},
	} {
		if _, err := NewGaussian(c.mean, c.cov, 0); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// TestFIDFromMoments: FID between features and the moments of another
// feature set (numpy's np.mean and np.cov, as pytorch-fid saves them, when
// numpy is present; this package's fit otherwise) equals FID on the
// features, both when N > D (covariance form) and N ≤ D (sample-space
// form, with a singular and a full-rank Σ2), to 1e-9 relative.
func TestFIDFromMoments(t *testing.T) {
	for _, c := range []struct{ nx, ny, d int }{{400, 300, 8}, {40, 30, 64}, {20, 300, 64}, {64, 30, 64}, {65, 300, 64}} {
		x := randomFeatures(11, c.nx, c.d, 0)
		y := randomFeatures(12, c.ny, c.d, 0.3)
		want, err := FID(x, y)
		if err != nil {
			t.Fatal(err)
		}
		fit, err := FitGaussian(y)
		if err != nil {
			t.Fatal(err)
		}
		g, err := NewGaussian(fit.Mean, fit.CovData(), c.ny)
		if err != nil {
			t.Fatal(err)
		}
		got, err := FIDToGaussian(x, g)
		if err != nil {
			t.Fatal(err)
		}
		if !near(got, want, 1e-9*want) {
			t.Errorf("N=%d D=%d: FID from moments %.15g, from features %.15g", c.ny, c.d, got, want)
		}
	}
}

func TestFIDFromNumpyMoments(t *testing.T) {
	py := pythonNumpy(t)
	x := randomFeatures(21, 50, 32, 0)
	y := randomFeatures(22, 60, 32, 0.2)
	in, _ := json.Marshal(y)
	cmd := exec.Command(py, "-c", `
import json, sys, numpy as np
y = np.array(json.load(sys.stdin), np.float64)
json.dump({"mu": np.mean(y, axis=0).tolist(), "sigma": np.cov(y, rowvar=False).ravel().tolist()}, sys.stdout)
`)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("numpy: %v", err)
	}
	var m struct{ Mu, Sigma []float64 }
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	g, err := NewGaussian(m.Mu, m.Sigma, len(y))
	if err != nil {
		t.Fatal(err)
	}
	got, err := FIDToGaussian(x, g)
	if err != nil {
		t.Fatal(err)
	}
	want, err := FID(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if !near(got, want, 1e-9*want) {
		t.Errorf("FID from numpy moments %.15g, from features %.15g", got, want)
	}
}
