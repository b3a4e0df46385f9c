package images

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestNPZRoundTrip writes float64 arrays (values float32 cannot hold,
// a scalar and an empty array included) and reads them back exactly.
func TestNPZRoundTrip(t *testing.T) {
	in := map[string]*Array64{
		"mu":     {Shape: []int{3}, Data: []float64{1.0 / 3, -2e-300, 1e300}},
		"sigma":  {Shape: []int{2, 2}, Data: []float64{0.1, 0.2, 0.2, 0.7000000000000001}},
		"scalar": {Shape: []int{}, Data: []float64{42}},
		"empty":  {Shape: []int{0, 5}, Data: []float64{}},
	}
	path := filepath.Join(t.TempDir(), "stats.npz")
	if err := WriteNPZ(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip: got %v, want %v", out, in)
	}
	// The archive is deterministic: the same arrays give the same bytes.
	b1, _ := os.ReadFile(path)
	if err := WriteNPZ(path, in); err != nil {
		t.Fatal(err)
	}
	b2, _ := os.ReadFile(path)
	if !bytes.Equal(b1, b2) {
		t.Error("two writes of the same arrays differ")
	}
}

func TestNPZErrors(t *testing.T) {
	dir := t.TempDir()
	notZip := filepath.Join(dir, "a.npz")
	os.WriteFile(notZip, []byte("hello"), 0o644)
	if _, err := ReadNPZ(notZip); err == nil || !strings.Contains(err.Error(), "a.npz") {
		t.Errorf("not a zip: %v", err)
	}
	if _, err := ReadNPZ(filepath.Join(dir, "missing.npz")); err == nil {
		t.Error("missing file: no error")
	}
	if err := WriteNPZ(filepath.Join(dir, "b.npz"), map[string]*Array64{"x": {Shape: []int{2}, Data: []float64{1}}}); err == nil {
		t.Error("shape/data mismatch: no error")
	}
}

// python returns /usr/bin/python3 when it imports numpy, or skips.
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

// TestNPZNumpy reads archives numpy writes (np.savez as pytorch-fid's
// --save-stats does, np.savez_compressed, a float32 member) and has numpy
// read one this package writes; values must be bit-identical.
func TestNPZNumpy(t *testing.T) {
	py := pythonNumpy(t)
	dir := t.TempDir()
	script := `
import sys, numpy as np
d = sys.argv[1]
mu = np.array([1/3, -2.5, 1e-310], dtype=np.float64)
sigma = np.arange(9, dtype=np.float64).reshape(3, 3) / 7
np.savez(d + "/plain.npz", mu=mu, sigma=sigma)
np.savez_compressed(d + "/compressed.npz", mu=mu, sigma=sigma)
np.savez(d + "/f32.npz", mu=mu.astype(np.float32))
g = np.load(d + "/go.npz")
ok = np.array_equal(g["mu"], mu) and np.array_equal(g["sigma"], sigma) and g["sigma"].dtype == np.float64
print("ok" if ok else "bad")
`
	mu := []float64{1.0 / 3, -2.5, 1e-310}
	sigma := make([]float64, 9)
	for i := range sigma {
		sigma[i] = float64(i) / 7
	}
	if err := WriteNPZ(filepath.Join(dir, "go.npz"), map[string]*Array64{"mu": {Shape: []int{3}, Data: mu}, "sigma": {Shape: []int{3, 3}, Data: sigma}}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", script, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	if strings.TrimSpace(string(out)) != "ok" {
		t.Errorf("numpy reads this package's .npz differently: %s", out)
	}
	for _, name := range []string{"plain.npz", "compressed.npz"} {
		got, err := ReadNPZ(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got["mu"], &Array64{Shape: []int{3}, Data: mu}) || !reflect.DeepEqual(got["sigma"], &Array64{Shape: []int{3, 3}, Data: sigma}) {
			t.Errorf("%s: got %v %v", name, got["mu"], got["sigma"])
		}
	}
	got, err := ReadNPZ(filepath.Join(dir, "f32.npz"))
	if err != nil {
		t.Fatal(err)
	}
	if want := float64(float32(1.0 / 3)); got["mu"].Data[0] != want {
		t.Errorf("float32 member: %v, want %v", got["mu"].Data[0], want)
	}
}

// FuzzParseNPZ: any bytes give arrays or an error, never a panic.
func FuzzParseNPZ(f *testing.F) {
	var buf bytes.Buffer
	path := filepath.Join(f.TempDir(), "seed.npz")
	if err := WriteNPZ(path, map[string]*Array64{"mu": {Shape: []int{2}, Data: []float64{1, 2}}}); err == nil {
		b, _ := os.ReadFile(path)
		buf.Write(b)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseNPZ("fuzz.npz", b)
	})
}
