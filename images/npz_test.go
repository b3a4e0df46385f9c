package images

import (
	"archive/zip"
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testStats are statistics with values that do not survive a float32
// round trip, so a reader or writer that narrows anywhere fails.
func testStats(d int) *Stats {
	s := &Stats{Mu: make([]float64, d), Sigma: make([]float64, d*d)}
	for i := range s.Mu {
		s.Mu[i] = math.Pi*float64(i) - 1.0/3
		for j := range d {
			s.Sigma[i*d+j] = 1/(1+float64(i+j)) + math.Sqrt2*1e-9*float64(i*j)
		}
	}
	return s
}

// TestStatsRoundTrip writes and reads statistics in pure Go (never skips):
// every float64 bit survives, and the bytes are the same on a second write.
func TestStatsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []int{1, 3, 64} {
		want := testStats(d)
		p := filepath.Join(dir, "s.npz")
		if err := WriteStats(p, want); err != nil {
			t.Fatal(err)
		}
		first, _ := os.ReadFile(p)
		got, err := ReadStats(p)
		if err != nil {
			t.Fatal(err)
		}
		assertStatsEqual(t, got, want)
		if err := WriteStats(p, want); err != nil {
			t.Fatal(err)
		}
		if second, _ := os.ReadFile(p); !bytes.Equal(first, second) {
			t.Errorf("d=%d: two writes of the same statistics differ", d)
		}
	}
}

func assertStatsEqual(t *testing.T, got, want *Stats) {
	t.Helper()
	if got.Dim() != want.Dim() || len(got.Sigma) != len(want.Sigma) {
		t.Fatalf("dim %d (%d sigma values), want %d (%d)", got.Dim(), len(got.Sigma), want.Dim(), len(want.Sigma))
	}
	for i := range want.Mu {
		if got.Mu[i] != want.Mu[i] {
			t.Fatalf("mu[%d] = %v, want %v", i, got.Mu[i], want.Mu[i])
		}
	}
	for i := range want.Sigma {
		if got.Sigma[i] != want.Sigma[i] {
			t.Fatalf("sigma[%d] = %v, want %v", i, got.Sigma[i], want.Sigma[i])
		}
	}
}

// TestStatsNumpyInterop: numpy's np.savez_compressed (pytorch-fid's
// save_fid_stats) and np.savez files are read bit for bit, and numpy reads
// ours bit for bit (np.load, the way pytorch-fid loads --real-stats).
// Skips without /usr/bin/python3 and numpy.
func TestStatsNumpyInterop(t *testing.T) {
	py := "/usr/bin/python3"
	if exec.Command(py, "-c", "import numpy").Run() != nil {
		t.Skip("needs /usr/bin/python3 with numpy")
	}
	dir := t.TempDir()
	const d = 40
	want := testStats(d)
	// numpy computes the same values as testStats (both IEEE float64 with
	// correctly rounded + - * / and sqrt).
	gen := `
import sys, numpy as np
d = 40
i = np.arange(d, dtype=np.float64)
mu = np.pi * i - 1.0 / 3
ii, jj = np.meshgrid(i, i, indexing="ij")
sigma = 1 / (1 + (ii + jj)) + np.sqrt(2) * 1e-9 * (ii * jj)
np.savez_compressed(sys.argv[1], mu=mu, sigma=sigma)
np.savez(sys.argv[2], mu=mu, sigma=sigma, extra=np.zeros(3, np.float32))
`
	comp, plain := filepath.Join(dir, "comp.npz"), filepath.Join(dir, "plain.npz")
	if out, err := exec.Command(py, "-c", gen, comp, plain).CombinedOutput(); err != nil {
		t.Fatalf("numpy: %v: %s", err, out)
	}
	for _, p := range []string{comp, plain} {
		got, err := ReadStats(p)
		if err != nil {
			t.Fatal(err)
		}
		assertStatsEqual(t, got, want)
	}
	ours := filepath.Join(dir, "ours.npz")
	if err := WriteStats(ours, want); err != nil {
		t.Fatal(err)
	}
	check := `
import sys, numpy as np
with np.load(sys.argv[1]) as f:
    a = np.load(sys.argv[2])
    assert sorted(f.files) == ["mu", "sigma"], f.files
    assert f["mu"].dtype == np.float64 and f["sigma"].dtype == np.float64
    assert f["mu"].shape == (40,) and f["sigma"].shape == (40, 40)
    assert np.array_equal(f["mu"], a["mu"]) and np.array_equal(f["sigma"], a["sigma"])
print("ok")
`
	if out, err := exec.Command(py, "-c", check, ours, comp).CombinedOutput(); err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("numpy reading our file: %v: %s", err, out)
	}
}

// TestStatsBadInput: each damaged file is an error naming the file.
func TestStatsBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, arrays map[string]*Array64) string {
		p := filepath.Join(dir, name)
		if err := WriteNPZ(p, arrays); err != nil {
			t.Fatal(err)
		}
		return p
	}
	v := func(shape ...int) *Array64 {
		n := 1
		for _, s := range shape {
			n *= s
		}
		return &Array64{Shape: shape, Data: make([]float64, n)}
	}
	nan := v(2)
	nan.Data[1] = math.NaN()
	notZip := filepath.Join(dir, "notzip.npz")
	os.WriteFile(notZip, []byte("PK but not really a zip"), 0o644)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("mu.txt")
	w.Write([]byte("1 2 3"))
	zw.Close()
	other := filepath.Join(dir, "other.npz")
	os.WriteFile(other, buf.Bytes(), 0o644)
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "absent.npz"), "no such file"},
		{notZip, "not a .npz archive"},
		{other, "not a .npy array"},
		{write("nosigma.npz", map[string]*Array64{"mu": v(2)}), "need arrays mu and sigma"},
		{write("mu2d.npz", map[string]*Array64{"mu": v(2, 1), "sigma": v(2, 2)}), "mu has shape"},
		{write("sigmashape.npz", map[string]*Array64{"mu": v(2), "sigma": v(2, 3)}), "sigma has shape"},
		{write("nan.npz", map[string]*Array64{"mu": nan, "sigma": v(2, 2)}), "non-finite"},
	} {
		_, err := ReadStats(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), filepath.Base(c.path)) {
			t.Errorf("%s: error %v, want one naming the file and containing %q", filepath.Base(c.path), err, c.want)
		}
	}
	if err := WriteStats(filepath.Join(dir, "x.npz"), &Stats{Mu: []float64{1, 2}, Sigma: []float64{1}}); err == nil {
		t.Error("WriteStats with a 1-value sigma for D=2: no error")
	}
}

// FuzzParseNPZ: arbitrary bytes never panic the .npz reader.
func FuzzParseNPZ(f *testing.F) {
	var buf bytes.Buffer
	EncodeNPZ(&buf, map[string]*Array64{"mu": {Shape: []int{2}, Data: []float64{1, 2}}})
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseNPZ("fuzz.npz", b)
	})
}
