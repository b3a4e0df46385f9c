package metrics

import (
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
	"testing"

	"gonum.org/v1/gonum/mat"
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

// TestNewGaussianRefusesNonCovariances: statistics no features can have are
// refused with the reason, where they once gave a FID (or a LAPACK panic,
// or +Inf) with exit 0: a positive diagonal that is not positive
// semidefinite, zero variances with a covariance, and scales that leave
// float64's range in the distance. A rank-deficient covariance (N ≤ D, the
// usual case) and a float32-rounded one pass, at every size the check runs
// (gonum's Cholesky below 128 dimensions, LAPACK's above when loaded).
func TestNewGaussianRefusesNonCovariances(t *testing.T) {
	eye := func(d int, v float64) []float64 {
		c := make([]float64, d*d)
		for i := range d {
			c[i*d+i] = v
		}
		return c
	}
	for _, c := range []struct {
		name      string
		mean, cov []float64
		want      string
	}{
		{"not PSD", []float64{0, 0}, []float64{1, 2, 2, 1}, "not positive semidefinite"},
		{"not PSD 3x3", []float64{0, 0, 0}, []float64{1, 0.9, -0.9, 0.9, 1, 0.9, -0.9, 0.9, 1}, "not positive semidefinite"},
		{"zero variances", []float64{0, 0}, []float64{0, 1e-3, 1e-3, 0}, "zero variances"},
		{"tiny", make([]float64, 4), eye(4, 1e-300), "underflow"},
		{"huge", make([]float64, 4), eye(4, 1e300), "overflow"},
		{"huge mean", []float64{1e200, 0}, eye(2, 1), "mean value"},
	} {
		_, err := NewGaussian(c.mean, c.cov, 0)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
	for _, d := range []int{8, 200} {
		fit, err := FitGaussian(randomFeatures(3, d/2, d, 0))
		if err != nil {
			t.Fatal(err)
		}
		cov := fit.CovData()
		for i := range cov {
			cov[i] = float64(float32(cov[i]))
		}
		if _, err := NewGaussian(fit.Mean, cov, d/2); err != nil {
			t.Errorf("D=%d: a rank-deficient float32-rounded covariance: %v", d, err)
		}
		bad := fit.CovData()
		bad[1], bad[d] = bad[1]+2*math.Sqrt(bad[0]*bad[d+1]), bad[d]+2*math.Sqrt(bad[0]*bad[d+1])
		if _, err := NewGaussian(fit.Mean, bad, d/2); err == nil {
			t.Errorf("D=%d: a covariance beyond Cauchy-Schwarz was accepted", d)
		}
	}
}

// TestFIDEdgeScales: FID against statistics at the edges of the accepted
// scale, on both sides of N = D, ends in a finite number or an error,
// never a panic (gonum's eigensolver panicked on a covariance of 1e-300).
func TestFIDEdgeScales(t *testing.T) {
	for _, d := range []int{4, 200} {
		for _, v := range []float64{MinMoment, 1e-90, MaxMoment} {
			cov := make([]float64, d*d)
			for i := range d {
				cov[i*d+i] = v
			}
			g, err := NewGaussian(make([]float64, d), cov, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{d / 2, 3 * d} {
				got, err := FIDToGaussian(randomFeatures(5, n, d, 0), g)
				if err == nil && (math.IsNaN(got) || math.IsInf(got, 0)) {
					t.Errorf("D=%d N=%d Σ=%g·I: FID %v without an error", d, n, v, got)
				}
			}
		}
		// Built around NewGaussian's checks: the linear algebra's panic is
		// an error, and so is a result beyond float64.
		fit, err := FitGaussian(randomFeatures(5, 3*d, d, 0))
		if err != nil {
			t.Fatal(err)
		}
		tiny := mat.NewSymDense(d, nil)
		huge := mat.NewSymDense(d, nil)
		for i := range d {
			tiny.SetSym(i, i, 1e-300)
			huge.SetSym(i, i, math.MaxFloat64)
		}
		for name, g := range map[string]*Gaussian{"tiny": {Mean: make([]float64, d), Cov: tiny}, "huge": {Mean: make([]float64, d), Cov: huge}} {
			got, err := FrechetDistance(fit, g)
			if err == nil && (math.IsNaN(got) || math.IsInf(got, 0)) {
				t.Errorf("D=%d %s: FID %v without an error", d, name, got)
			}
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
