package evaluate

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/images"
)

func TestThreads(t *testing.T) {
	cases := []struct {
		n, cores, want int
		warn, err      bool
	}{
		{0, 8, 0, false, false},
		{4, 8, 4, false, false},
		{8, 8, 8, false, false},
		{10000, 8, 8, true, false},
		{-1, 8, 0, false, true},
	}
	for _, c := range cases {
		got, warn, err := Threads(c.n, c.cores)
		if got != c.want || (warn != "") != c.warn || (err != nil) != c.err {
			t.Errorf("Threads(%d, %d) = %d, %q, %v", c.n, c.cores, got, warn, err)
		}
	}
}

func TestParseMemory(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		err  bool
	}{
		{"4096", 4096, false},
		{"512M", 512 << 20, false},
		{"8G", 8 << 30, false},
		{"8GiB", 8 << 30, false},
		{"1.5t", 3 << 39, false},
		{"", 0, true},
		{"-1G", 0, true},
		{"lots", 0, true},
		{"NaN", 0, true},
		{"1e30G", 0, true},
	}
	for _, c := range cases {
		got, err := ParseMemory(c.in)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("ParseMemory(%q) = %d, %v", c.in, got, err)
		}
	}
}

func FuzzParseMemory(f *testing.F) {
	for _, s := range []string{"8G", "1.5T", "4096", "-1", "NaN", "1e400K"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := ParseMemory(s); err == nil && n < 0 {
			t.Fatalf("%q: %d", s, n)
		}
	})
}

func TestParseMeminfo(t *testing.T) {
	in := "MemTotal:       32000000 kB\nMemFree:         1000 kB\nMemAvailable:   20000000 kB\n"
	if got := parseMeminfo(bufio.NewScanner(strings.NewReader(in))); got != 20000000*1024 {
		t.Fatalf("%d", got)
	}
	// An old kernel without MemAvailable: MemFree.
	if got := parseMeminfo(bufio.NewScanner(strings.NewReader("MemFree: 1000 kB\n"))); got != 1000*1024 {
		t.Fatalf("%d", got)
	}
}

func TestCheckMemory(t *testing.T) {
	// 16 images of 256 x 256 at BytesPerPixel: 192 MiB; fits 1 GiB.
	if err := CheckMemory(16, 256*256, 1<<30); err != nil {
		t.Fatal(err)
	}
	// 16 of 4096 x 4096 = 268 Mpx x 192 B = 48 GiB: refused on 16 GiB,
	// naming the batch that fits (16 GiB / 3 GiB = 5).
	err := CheckMemory(16, 4096*4096, 16<<30)
	if err == nil || !strings.Contains(err.Error(), "lower batch to 5") || !strings.Contains(err.Error(), "48.0 GiB") {
		t.Fatalf("%v", err)
	}
	// --memory 1: the figures in units that show them.
	if err := CheckMemory(1, 64*64, 1); err == nil || !strings.Contains(err.Error(), "needs about 768.0 KiB, more than the 1 byte of memory") {
		t.Errorf("1 byte available: %v", err)
	}
	if err := CheckMemory(1, 4096*4096, 1<<20); err == nil || !strings.Contains(err.Error(), "resize") {
		t.Fatalf("%v", err)
	}
	if err := CheckMemory(1<<20, 1<<30, 0); err != nil {
		t.Fatal("no figure, no check:", err)
	}
}

// pngHeader is the start of a PNG of w x h: the signature and the IHDR
// chunk, no pixels. image.DecodeConfig reads it; a decoder would fail.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	data := make([]byte, 13)
	binary.BigEndian.PutUint32(data[0:], w)
	binary.BigEndian.PutUint32(data[4:], h)
	data[8], data[9] = 8, 2 // 8-bit RGB
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	chunk := append([]byte("IHDR"), data...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestCheckInputsReadsHeaders(t *testing.T) {
	dir := t.TempDir()
	if err := images.WritePNG(filepath.Join(dir, "a.png"), images.New(64, 64)); err != nil {
		t.Fatal(err)
	}
	// 8000 x 8000 (8.9 GB when translated at full size): refused from its
	// 33-byte header, before any decoding.
	if err := os.WriteFile(filepath.Join(dir, "b.png"), pngHeader(8000, 8000), 0o644); err != nil {
		t.Fatal(err)
	}
	p := DefaultProtocol()
	err := CheckInputs(dir, p, 0)
	if err == nil || !strings.Contains(err.Error(), "b.png is 8000 x 8000") || !strings.Contains(err.Error(), "--size") {
		t.Fatalf("%v", err)
	}
	// Resized, it fits; with only the first input used, b.png is not read.
	p.Size = 256
	if err := CheckInputs(dir, p, 0); err != nil {
		t.Fatal(err)
	}
	p.Size, p.NumInputs = 0, 1
	if err := CheckInputs(dir, p, 0); err != nil {
		t.Fatal(err)
	}
	// A batch of 16 at 64 x 64 x 192 B = 12 MiB: refused on 1 MiB.
	if err := CheckInputs(dir, p, 1<<20); err == nil || !strings.Contains(err.Error(), "more than the") {
		t.Fatalf("%v", err)
	}
}

func TestRealFilesNumReal(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.png", "b.png", "c.png"} {
		if err := images.WritePNG(filepath.Join(dir, n), images.New(8, 8)); err != nil {
			t.Fatal(err)
		}
	}
	p := DefaultProtocol()
	for _, c := range []struct{ numReal, want int }{{0, 3}, {2, 2}, {3, 3}} {
		p.NumReal = c.numReal
		files, err := RealFiles(dir, p)
		if err != nil || len(files) != c.want {
			t.Fatalf("num_real %d: %d files, %v", c.numReal, len(files), err)
		}
	}
	p.NumReal = 4
	if _, err := RealFiles(dir, p); err == nil || !strings.Contains(err.Error(), "holds 3 images, fewer than num_real 4") {
		t.Fatalf("%v", err)
	}
}

func TestMethodMismatch(t *testing.T) {
	if w := methodMismatch("MUNIT", "CycleGAN*"); !strings.Contains(w, `"CycleGAN*"`) || !strings.Contains(w, `"MUNIT"`) {
		t.Fatal(w)
	}
	for _, c := range [][2]string{{"MUNIT", "MUNIT"}, {"", "MUNIT"}, {"MUNIT", ""}} {
		if w := methodMismatch(c[0], c[1]); w != "" {
			t.Fatal(w)
		}
	}
}
