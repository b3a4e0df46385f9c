package jpegdec

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIDCTAgainstFloat checks the islow IDCT against the textbook 2-D
// inverse DCT in float64 on random coefficients and quantizers: within one
// level (islow's fixed point rounds differently from the exact transform),
// and exactly for DC-only blocks, where islow's shortcuts apply.
func TestIDCTAgainstFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 2000 {
		var b, q block
		for i := range b {
			q[i] = 1 + rng.Int32N(8)
			// Mostly small coefficients, rarer large ones, as a real
			// block has; every fourth block DC only.
			if i == 0 || trial%4 != 0 && rng.IntN(3) == 0 {
				b[i] = rng.Int32N(129) - 64
			}
		}
		var want [64]float64
		for y := range 8 {
			for x := range 8 {
				s := 0.0
				for v := range 8 {
					for u := range 8 {
						cu, cv := 1.0, 1.0
						if u == 0 {
							cu = 1 / math.Sqrt2
						}
						if v == 0 {
							cv = 1 / math.Sqrt2
						}
						s += cu * cv * float64(b[8*v+u]*q[8*v+u]) *
							math.Cos(float64(2*x+1)*float64(u)*math.Pi/16) * math.Cos(float64(2*y+1)*float64(v)*math.Pi/16)
					}
				}
				want[8*y+x] = math.Min(math.Max(s/4+128, 0), 255)
			}
		}
		in := b
		var out [64]byte
		idct(&in, &q, out[:], 8)
		for i, v := range out {
			d := math.Abs(float64(v) - want[i])
			if d > 1 || trial%4 == 0 && float64(v) != math.Round(want[i]) && math.Abs(want[i]-math.Floor(want[i])-0.5) > 1e-9 {
				t.Fatalf("trial %d, sample %d: %d, float IDCT %.3f", trial, i, v, want[i])
			}
		}
	}
}

// TestColourSpace checks the guess of the coded colour space, which
// follows libjpeg-turbo's default_decompress_parms.
func TestColourSpace(t *testing.T) {
	ids := func(a, b, c uint8) [maxComponents]component {
		return [maxComponents]component{{c: a}, {c: b}, {c: c}, {c: 4}}
	}
	for _, tc := range []struct {
		name  string
		d     decoder
		space int
	}{
		{"grey", decoder{nComp: 1}, spaceGrey},
		{"JFIF", decoder{nComp: 3, jfif: true, comp: ids('R', 'G', 'B')}, spaceYCbCr},
		{"Adobe 0", decoder{nComp: 3, adobeTransformValid: true, comp: ids(1, 2, 3)}, spaceRGB},
		{"Adobe 1", decoder{nComp: 3, adobeTransformValid: true, adobeTransform: 1, comp: ids('R', 'G', 'B')}, spaceYCbCr},
		{"ids 1 2 3", decoder{nComp: 3, comp: ids(1, 2, 3)}, spaceYCbCr},
		{"ids R G B", decoder{nComp: 3, comp: ids('R', 'G', 'B')}, spaceRGB},
		{"ids other", decoder{nComp: 3, comp: ids(0, 1, 2)}, spaceYCbCr},
		{"CMYK, no Adobe", decoder{nComp: 4}, spaceCMYK},
		{"CMYK, Adobe 0", decoder{nComp: 4, adobeTransformValid: true}, spaceCMYK},
		{"YCCK, Adobe 2", decoder{nComp: 4, adobeTransformValid: true, adobeTransform: 2}, spaceYCCK},
	} {
		if got := tc.d.colourSpace(); got != tc.space {
			t.Errorf("%s: space %d, want %d", tc.name, got, tc.space)
		}
	}
}

// TestDecodeLikeImageJPEG checks sizes, channels and the header against
// image/jpeg on its own encodings, and that the pixels stay near image/jpeg's:
// grey within 2 levels (the IDCTs differ), colour within 8 (so do chroma
// upsampling and the YCbCr conversion's rounding).
func TestDecodeLikeImageJPEG(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {7, 3}, {16, 16}, {17, 33}, {64, 48}} {
		rgba := image.NewRGBA(image.Rect(0, 0, sz[0], sz[1]))
		grey := image.NewGray(rgba.Rect)
		// Smooth colour, since image/jpeg replicates chroma where
		// libjpeg filters it; grey may be noise.
		for y := range sz[1] {
			for x := range sz[0] {
				copy(rgba.Pix[rgba.PixOffset(x, y):], []uint8{uint8(4 * x), uint8(5 * y), uint8(2 * (x + y)), 255})
			}
		}
		for i := range grey.Pix {
			grey.Pix[i] = uint8(i * 5 % 253)
		}
		for _, src := range []image.Image{rgba, grey} {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 95}); err != nil {
				t.Fatal(err)
			}
			cfg, err := DecodeConfig(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Decode(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			std, _ := jpeg.Decode(bytes.NewReader(buf.Bytes()))
			wantCh, tol := 3, 8
			if _, ok := src.(*image.Gray); ok {
				wantCh, tol = 1, 2
			}
			if cfg.W != sz[0] || cfg.H != sz[1] || cfg.Components != wantCh || m.W != sz[0] || m.H != sz[1] ||
				m.Channels != wantCh || len(m.Pix) != sz[0]*sz[1]*wantCh || m.Inexact != "" {
				t.Fatalf("%T %v: config %+v, image %dx%d×%d (%d bytes, %q)", src, sz, cfg, m.W, m.H, m.Channels, len(m.Pix), m.Inexact)
			}
			for y := range m.H {
				for x := range m.W {
					r, g, b, _ := std.At(x, y).RGBA()
					for c, v := range []uint32{r >> 8, g >> 8, b >> 8}[:wantCh] {
						if d := int(m.Pix[(y*m.W+x)*wantCh+c]) - int(v); d < -tol || d > tol {
							t.Fatalf("%T %v: pixel (%d, %d) channel %d = %d, image/jpeg %d", src, sz, x, y, c, m.Pix[(y*m.W+x)*wantCh+c], v)
						}
					}
				}
			}
		}
	}
}

// TestDecodeErrors: truncated data, a missing frame and the coding
// processes this decoder leaves out are errors, not panics.
func TestDecodeErrors(t *testing.T) {
	var buf bytes.Buffer
	jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 16, 16)), nil)
	good := buf.Bytes()
	sof := bytes.Index(good, []byte{0xff, 0xc0})
	arith := bytes.Clone(good)
	arith[sof+1] = 0xc9
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "EOF"},
		{"truncated", good[:len(good)/2], "EOF"},
		{"no SOI", good[2:], "missing SOI"},
		{"no SOF", []byte{0xff, 0xd8, 0xff, 0xd9}, "missing SOS"},
		{"arithmetic", arith, "arithmetic"},
	} {
		_, err := Decode(bytes.NewReader(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "jpeg", "*.jpg"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := DecodeConfig(bytes.NewReader(data))
		if err != nil || cfg.W*cfg.H > 1<<20 {
			return
		}
		m, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		if m.W != cfg.W || m.H != cfg.H || m.Channels != cfg.Components || len(m.Pix) != m.W*m.H*m.Channels {
			t.Fatalf("config %+v, decoded %dx%d×%d with %d bytes", cfg, m.W, m.H, m.Channels, len(m.Pix))
		}
	})
}
