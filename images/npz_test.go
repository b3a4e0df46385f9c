package images

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
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

// TestNPZBounded: an archive whose members inflate (or claim to) beyond
// the budget is refused naming the member, before the memory is spent (a
// small compressed .npz once ended the process out of memory), also when
// the directory understates the size; a FIFO is refused without waiting.
func TestNPZBounded(t *testing.T) {
	defer func(b int64) { npzBudget = b }(npzBudget)
	npzBudget = 1 << 20
	dir := t.TempDir()
	zeros := make([]byte, 2<<20)
	bomb := func(name string, lie bool) string {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		if lie {
			// A raw member whose header says 100 bytes.
			var c bytes.Buffer
			fw, _ := flate.NewWriter(&c, flate.BestCompression)
			fw.Write(zeros)
			fw.Close()
			w, err := zw.CreateRaw(&zip.FileHeader{Name: "sigma.npy", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(zeros),
				CompressedSize64: uint64(c.Len()), UncompressedSize64: 100})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(c.Bytes())
		} else {
			w, _ := zw.CreateHeader(&zip.FileHeader{Name: "sigma.npy", Method: zip.Deflate})
			w.Write(zeros)
		}
		zw.Close()
		p := filepath.Join(dir, name)
		os.WriteFile(p, b.Bytes(), 0o644)
		if b.Len() > 64<<10 {
			t.Fatalf("the bomb is %d bytes compressed", b.Len())
		}
		return p
	}
	for _, c := range []struct {
		name string
		lie  bool
		want string
	}{{"declared.npz", false, "declares 2097152 bytes"}, {"lying.npz", true, "not a valid zip file"}} {
		p := bomb(c.name, c.lie)
		if _, err := ReadNPZ(p); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "sigma.npy") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a refusal naming the member and %q", c.name, err, c.want)
		}
	}
	fifo := filepath.Join(dir, "fifo.npz")
	if err := mkfifo(fifo); err == nil {
		done := make(chan error, 1)
		go func() { _, err := ReadNPZ(fifo); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("FIFO: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("reading a FIFO hung")
		}
	}
}

// TestNPZStrings: string members (np.str_, 0-d '<U' arrays) round-trip
// beside the arrays; ReadNPZ leaves them out.
func TestNPZStrings(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.npz")
	in := &NPZ{Arrays: map[string]*Array64{"mu": {Shape: []int{1}, Data: []float64{2}}}, Strings: map[string]string{"resize": "clean", "note": "é∑", "empty": ""}}
	if err := WriteNPZFile(p, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadNPZFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip: %+v, want %+v", out, in)
	}
	if a, err := ReadNPZ(p); err != nil || len(a) != 1 {
		t.Fatalf("ReadNPZ: %v, %v", a, err)
	}
}
