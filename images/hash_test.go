package images

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestHash(t *testing.T) {
	// FIPS 180-2 test vectors.
	cases := map[string]string{
		"":    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	}
	dir := t.TempDir()
	for in, want := range cases {
		if got := HashBytes([]byte(in)); got != want {
			t.Errorf("HashBytes(%q) = %s, want %s", in, got, want)
		}
		p := filepath.Join(dir, "f")
		os.WriteFile(p, []byte(in), 0o644)
		got, err := HashFile(p)
		if err != nil || got != want {
			t.Errorf("HashFile(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := HashFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("HashFile of a missing file: no error")
	}
	if _, err := HashFile(dir); err == nil {
		t.Error("HashFile of a folder: no error")
	}
}

// TestEncodePNGConcurrent: the encoder's pooled buffers are per call, so
// concurrent encodings do not mix (run with -race).
func TestEncodePNGConcurrent(t *testing.T) {
	imgs := []*Image{noiseImage(40, 30, 1), sceneImage(64, 64, 2), noiseImage(3, 90, 3), sceneImage(17, 9, 4)}
	errs := make(chan error, 4*len(imgs))
	for r := 0; r < 4; r++ {
		for _, m := range imgs {
			go func() {
				var b bytes.Buffer
				if err := EncodePNG(&b, m); err != nil {
					errs <- err
					return
				}
				got, err := Decode(&b, "concurrent.png")
				if err == nil && !bytes.Equal(got.Pix, m.Pix) {
					err = fmt.Errorf("%dx%d image changed in a concurrent round trip", m.W, m.H)
				}
				errs <- err
			}()
		}
	}
	for range 4 * len(imgs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
