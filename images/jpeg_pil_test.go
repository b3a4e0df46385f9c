package images

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestJPEGMatchesPIL decodes JPEGs written by PIL, libjpeg-turbo's cjpeg
// and Go's image/jpeg and compares with PIL's own decoding
// (Image.open(f).convert("RGB"), stored beside each file by
// scripts/jpeg_parity.py golden and testdata/pil/make.py): every byte
// equal. The files cover 4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1, 4:1:0, 3:1:1
// and mixed sampling factors, grey, CMYK and RGB JPEGs, progressive scans,
// restart intervals, optimized Huffman tables, qualities 1 to 100 and sizes
// that are not multiples of the MCU. An inexact_* file is one jpegdec
// knows it decodes differently: it must carry the warning, and its
// difference is only logged.
func TestJPEGMatchesPIL(t *testing.T) {
	var refs []string
	for _, dir := range []string{"pil", "jpeg"} {
		r, err := filepath.Glob(filepath.Join("testdata", dir, "*.jpg.rgb"))
		if err != nil || len(r) == 0 {
			t.Fatalf("no references in testdata/%s: %v", dir, err)
		}
		refs = append(refs, r...)
	}
	for _, ref := range refs {
		name := strings.TrimSuffix(ref, ".rgb")
		t.Run(filepath.Base(name), func(t *testing.T) {
			want, err := os.ReadFile(ref)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Pix) != len(want) {
				t.Fatalf("%dx%d image, %d bytes; PIL gave %d bytes", m.W, m.H, len(m.Pix), len(want))
			}
			d := compareBytes(m.Pix, want)
			if strings.HasPrefix(filepath.Base(name), "inexact_") {
				if len(m.Warnings) != 1 || m.Warnings[0].Code != CodeJPEGInexact {
					t.Errorf("warnings %v, want one %s", m.Warnings, CodeJPEGInexact)
				}
				t.Logf("known inexact: %s", d)
				return
			}
			if d.differ > 0 {
				t.Errorf("differs from PIL: %s", d)
			}
			if len(m.Warnings) != 0 {
				t.Errorf("unexpected warnings %v", m.Warnings)
			}
		})
	}
}

// byteDiff summarises how two byte slices differ.
type byteDiff struct {
	max, differ, n int
}

func (d byteDiff) String() string {
	return fmt.Sprintf("max %d levels, %d of %d values differ", d.max, d.differ, d.n)
}

func compareBytes(got, want []byte) byteDiff {
	d := byteDiff{n: len(want)}
	for i := range want {
		v := int(got[i]) - int(want[i])
		if v != 0 {
			d.differ++
			d.max = max(d.max, v, -v)
		}
	}
	return d
}

// TestJPEGCorpus measures the parity on a corpus made by
// scripts/jpeg_parity.py corpus DIR (hundreds of random JPEGs, not
// committed), for this package's decoder and for the one it replaced
// (image/jpeg's coefficients and IDCT with libjpeg's upsampling and colour
// conversion, FromImage(jpeg.Decode)): the decoded bytes, and the values
// after clean-fid's resize to 299×299 (ResizeBicubicFloat of each
// decoding). It runs only with MUNIT_EVAL_JPEG_CORPUS=DIR; docs/metrics.md
// quotes its output.
func TestJPEGCorpus(t *testing.T) {
	dir := os.Getenv("MUNIT_EVAL_JPEG_CORPUS")
	if dir == "" {
		t.Skip("MUNIT_EVAL_JPEG_CORPUS not set (see scripts/jpeg_parity.py)")
	}
	refs, err := filepath.Glob(filepath.Join(dir, "*.jpg.rgb"))
	if err != nil || len(refs) == 0 {
		t.Fatalf("no references in %s: %v", dir, err)
	}
	type tally struct {
		files, exactFiles, inexact, skipped int
		bytes                               byteDiff
		resized, over                       int
		resizedMax                          float64
	}
	// Corpus files are named NNNN_ENCODER_qQUALITY.jpg: the figures are
	// also given per quality band.
	band := func(name string) string {
		var i, q int
		var enc string
		if _, err := fmt.Sscanf(strings.ReplaceAll(filepath.Base(name), "_", " "), "%d %s q%d", &i, &enc, &q); err != nil {
			return "other"
		}
		switch {
		case q < 50:
			return "quality 1-49"
		case q < 90:
			return "quality 50-89"
		}
		return "quality 90-100"
	}
	var now, before tally
	bands := map[string]*[2]tally{}
	add := func(s *tally, m *Image, want []byte, wantResized []float32) {
		s.files++
		d := compareBytes(m.Pix, want)
		if d.differ == 0 {
			s.exactFiles++
		}
		s.bytes.n += d.n
		s.bytes.differ += d.differ
		s.bytes.max = max(s.bytes.max, d.max)
		got := ResizeBicubicFloat(m, 299, 299)
		for i, v := range got {
			e := math.Abs(float64(v) - float64(wantResized[i]))
			s.resized++
			if e > 0.5 {
				s.over++
			}
			s.resizedMax = max(s.resizedMax, e)
		}
	}
	for _, ref := range refs {
		name := strings.TrimSuffix(ref, ".rgb")
		want, err := os.ReadFile(ref)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Decode(bytes.NewReader(data), name)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if len(m.Pix) != len(want) {
			t.Errorf("%s: %d bytes, PIL %d", name, len(m.Pix), len(want))
			continue
		}
		if len(m.Warnings) > 0 {
			now.inexact++
		}
		wantResized := ResizeBicubicFloat(&Image{W: m.W, H: m.H, Pix: want}, 299, 299)
		add(&now, m, want, wantResized)
		b := bands[band(name)]
		if b == nil {
			b = new([2]tally)
			bands[band(name)] = b
		}
		add(&b[0], m, want, wantResized)
		if d := compareBytes(m.Pix, want); d.differ > 0 {
			t.Logf("%s: %s", filepath.Base(name), d)
		}
		old, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			// image/jpeg refuses some: mixed or 3:1 sampling factors,
			// 4 components without an Adobe marker.
			before.skipped++
			b[1].skipped++
			continue
		}
		add(&before, FromImage(old.(image.Image)), want, wantResized)
		add(&b[1], FromImage(old.(image.Image)), want, wantResized)
	}
	rows := []struct {
		name string
		s    tally
	}{{"jpegdec", now}, {"image/jpeg + libjpeg upsampling (before)", before}}
	for _, k := range slices.Sorted(maps.Keys(bands)) {
		rows = append(rows, struct {
			name string
			s    tally
		}{"jpegdec, " + k, bands[k][0]}, struct {
			name string
			s    tally
		}{"before, " + k, bands[k][1]})
	}
	for _, r := range rows {
		s := r.s
		t.Logf("%s: %d files (%d exact, %d with a warning, %d not decoded); bytes: %s (%.3f%%); "+
			"after the clean resize to 299x299: max %.3f levels, %.3f%% of %d values off by more than 0.5",
			r.name, s.files, s.exactFiles, s.inexact, s.skipped, s.bytes, 100*float64(s.bytes.differ)/float64(max(s.bytes.n, 1)),
			s.resizedMax, 100*float64(s.over)/float64(max(s.resized, 1)), s.resized)
	}
}
