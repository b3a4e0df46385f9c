package images

import (
	"path/filepath"
	"testing"
)

func TestRef(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.png")
	m := New(8, 4)
	for i := range m.Pix {
		m.Pix[i] = byte(i)
	}
	if err := WritePNG(p, m); err != nil {
		t.Fatal(err)
	}
	r := Ref{Path: p}
	if err := r.Hash(); err != nil {
		t.Fatal(err)
	}
	want, _ := HashFile(p)
	if r.SHA256 != want || r.CacheKey() != want {
		t.Fatalf("hash %q key %q, want %q", r.SHA256, r.CacheKey(), want)
	}
	r.Size = 2
	if r.CacheKey() != want+"-s2" {
		t.Fatalf("resized key %q", r.CacheKey())
	}
	img, err := r.Load()
	if err != nil || img.W != 2 || img.H != 2 {
		t.Fatalf("Load: %v, %dx%d", err, img.W, img.H)
	}
	r.Size, r.Clean = 0, 5
	if r.CacheKey() != want+"-c5" {
		t.Fatalf("clean key %q", r.CacheKey())
	}
	img, err = r.Load()
	if err != nil || img.W != 5 || img.H != 5 {
		t.Fatalf("clean Load: %v, %dx%d", err, img.W, img.H)
	}
	if got := ResizeClean(m, 5); string(got.Pix) != string(img.Pix) {
		t.Fatal("clean Load differs from ResizeClean")
	}
	if err := (&Ref{Path: filepath.Join(t.TempDir(), "missing.png")}).Hash(); err == nil {
		t.Fatal("no error hashing a missing file")
	}
}
