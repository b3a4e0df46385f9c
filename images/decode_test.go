package images

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/warning"
)

func encodePNGStd(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDecodeColourModels builds PNGs of every colour type and bit depth (by
// hand or with image/png's encoder) and checks the decoded RGB against the
// values PIL's convert("RGB") gives (Pillow 9.4: the 16-bit cases were
// checked with it), and the warning of the 16-bit ones.
func TestDecodeColourModels(t *testing.T) {
	be16 := func(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tests := []struct {
		name string
		data []byte
		want *Image
		code string // the decode warning's code, if any
	}{
		{"rgb8", rawPNG(2, 1, 8, 2, [][]byte{{10, 20, 30, 250, 128, 0}}),
			rgb(2, 1, [3]uint8{10, 20, 30}, [3]uint8{250, 128, 0}), ""},
		{"rgba8 alpha dropped", rawPNG(3, 1, 8, 6, [][]byte{{10, 20, 30, 255, 200, 100, 50, 0, 7, 8, 9, 128}}),
			rgb(3, 1, [3]uint8{10, 20, 30}, [3]uint8{200, 100, 50}, [3]uint8{7, 8, 9}), ""},
		{"grey8", rawPNG(3, 1, 8, 0, [][]byte{{0, 77, 255}}),
			rgb(3, 1, [3]uint8{0, 0, 0}, [3]uint8{77, 77, 77}, [3]uint8{255, 255, 255}), ""},
		{"grey+alpha8", rawPNG(2, 1, 8, 4, [][]byte{{90, 0, 200, 255}}),
			rgb(2, 1, [3]uint8{90, 90, 90}, [3]uint8{200, 200, 200}), ""},
		{"grey1", rawPNG(3, 1, 1, 0, [][]byte{{0b10100000}}),
			rgb(3, 1, [3]uint8{255, 255, 255}, [3]uint8{0, 0, 0}, [3]uint8{255, 255, 255}), ""},
		{"grey4", rawPNG(2, 1, 4, 0, [][]byte{{0x3f}}),
			rgb(2, 1, [3]uint8{0x33, 0x33, 0x33}, [3]uint8{0xff, 0xff, 0xff}), ""},
		{"grey8 tRNS", rawPNG(2, 1, 8, 0, [][]byte{{40, 41}}, pngChunk{"tRNS", be16(40)}),
			rgb(2, 1, [3]uint8{40, 40, 40}, [3]uint8{41, 41, 41}), ""},
		{"rgb8 tRNS", rawPNG(2, 1, 8, 2, [][]byte{{1, 2, 3, 4, 5, 6}}, pngChunk{"tRNS", cat(be16(1), be16(2), be16(3))}),
			rgb(2, 1, [3]uint8{1, 2, 3}, [3]uint8{4, 5, 6}), ""},
		{"palette8 tRNS", rawPNG(3, 1, 8, 3, [][]byte{{2, 0, 1}},
			pngChunk{"PLTE", []byte{9, 8, 7, 100, 150, 200, 1, 2, 3}}, pngChunk{"tRNS", []byte{0, 128}}),
			rgb(3, 1, [3]uint8{1, 2, 3}, [3]uint8{9, 8, 7}, [3]uint8{100, 150, 200}), ""},
		{"palette2", rawPNG(2, 1, 2, 3, [][]byte{{0b01100000}}, pngChunk{"PLTE", []byte{0, 0, 0, 10, 20, 30, 40, 50, 60}}),
			rgb(2, 1, [3]uint8{10, 20, 30}, [3]uint8{40, 50, 60}), ""},
		{"rgb16 high byte", rawPNG(2, 1, 16, 2, [][]byte{cat(be16(0x1234), be16(0xff01), be16(0x00ff), be16(0x8080), be16(0), be16(0xffff))}),
			rgb(2, 1, [3]uint8{0x12, 0xff, 0x00}, [3]uint8{0x80, 0, 0xff}), CodeHighByte16},
		{"rgba16 alpha dropped", rawPNG(1, 1, 16, 6, [][]byte{cat(be16(0xab00), be16(0x1299), be16(0x7701), be16(0x0100))}),
			rgb(1, 1, [3]uint8{0xab, 0x12, 0x77}), CodeHighByte16},
		{"grey16 clipped", rawPNG(4, 1, 16, 0, [][]byte{cat(be16(0), be16(0x00ff), be16(0x0100), be16(0xfe99))}),
			rgb(4, 1, [3]uint8{0, 0, 0}, [3]uint8{255, 255, 255}, [3]uint8{255, 255, 255}, [3]uint8{255, 255, 255}), CodeGrey16Clipped},
		{"grey+alpha16", rawPNG(2, 1, 16, 4, [][]byte{cat(be16(0x4321), be16(0), be16(0x00ff), be16(0xffff))}),
			rgb(2, 1, [3]uint8{0x43, 0x43, 0x43}, [3]uint8{0, 0, 0}), CodeHighByte16},
		{"grey16 tRNS", rawPNG(2, 1, 16, 0, [][]byte{cat(be16(0x0050), be16(0x5000))}, pngChunk{"tRNS", be16(0x5000)}),
			rgb(2, 1, [3]uint8{0x50, 0x50, 0x50}, [3]uint8{255, 255, 255}), CodeGrey16Clipped},
		{"rgb16 tRNS", rawPNG(1, 1, 16, 2, [][]byte{cat(be16(0x0102), be16(0x0304), be16(0x0506))},
			pngChunk{"tRNS", cat(be16(0x0102), be16(0x0304), be16(0x0506))}),
			rgb(1, 1, [3]uint8{1, 3, 5}), CodeHighByte16},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(bytes.NewReader(tc.data), tc.name+".png")
			if err != nil {
				t.Fatal(err)
			}
			assertSame(t, got, tc.want)
			var codes []string
			for _, w := range got.Warnings {
				codes = append(codes, w.Code)
				if w.Subject != warning.SubjectSamples || !strings.HasPrefix(w.Detail, tc.name+".png: ") {
					t.Errorf("warning %+v: want subject samples and a detail naming the file", w)
				}
			}
			if want := []string{tc.code}; tc.code == "" && len(codes) != 0 || tc.code != "" && !slices.Equal(codes, want) {
				t.Errorf("warnings %v, want %q", codes, tc.code)
			}
		})
	}
}

func assertSame(t *testing.T, got, want *Image) {
	t.Helper()
	if got.W != want.W || got.H != want.H {
		t.Fatalf("size %dx%d, want %dx%d", got.W, got.H, want.W, want.H)
	}
	if !bytes.Equal(got.Pix, want.Pix) {
		for i := range got.Pix {
			if got.Pix[i] != want.Pix[i] {
				t.Fatalf("byte %d (pixel %d, channel %d) = %d, want %d", i, i/3, i%3, got.Pix[i], want.Pix[i])
			}
		}
	}
}

// TestFromImageTypes checks the fast path of each concrete image type
// against the value read through its At method and the conversion rule.
func TestFromImageTypes(t *testing.T) {
	r := image.Rect(0, 0, 5, 3)
	rng := rand.New(rand.NewPCG(1, 2))
	nrgba := image.NewNRGBA(r)
	rgbaImg := image.NewRGBA(r)
	nrgba64 := image.NewNRGBA64(r)
	rgba64 := image.NewRGBA64(r)
	gray := image.NewGray(r)
	gray16 := image.NewGray16(r)
	cmyk := image.NewCMYK(r)
	pal := image.NewPaletted(r, color.Palette{color.NRGBA{1, 2, 3, 4}, color.RGBA{100, 50, 0, 128}, color.Gray{200}})
	for _, b := range [][]byte{nrgba.Pix, nrgba64.Pix, gray.Pix, gray16.Pix, cmyk.Pix} {
		for i := range b {
			b[i] = uint8(rng.IntN(256))
		}
	}
	for i := range pal.Pix {
		pal.Pix[i] = uint8(rng.IntN(3))
	}
	for y := 0; y < 3; y++ {
		for x := 0; x < 5; x++ {
			a := uint8(rng.IntN(256))
			if x == 0 {
				a = 255
			}
			rgbaImg.Set(x, y, color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), a})
			rgba64.Set(x, y, color.NRGBA64{uint16(rng.IntN(65536)), uint16(rng.IntN(65536)), uint16(rng.IntN(65536)), uint16(a) * 257})
		}
	}
	// Straight colour, high byte: what PIL's convert("RGB") keeps.
	straight := func(c color.Color) [3]uint8 {
		switch c := c.(type) {
		case color.NRGBA:
			return [3]uint8{c.R, c.G, c.B}
		case color.NRGBA64:
			return [3]uint8{uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8)}
		case color.CMYK:
			// PIL: (255-K) - (255-K)*C/255, rounded; checked within 1 below.
			f := func(v uint8) uint8 {
				return uint8(math.Round(float64(255-c.K) * float64(255-v) / 255))
			}
			return [3]uint8{f(c.C), f(c.M), f(c.Y)}
		}
		n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
		return [3]uint8{uint8(n.R >> 8), uint8(n.G >> 8), uint8(n.B >> 8)}
	}
	for _, img := range []image.Image{nrgba, rgbaImg, nrgba64, rgba64, gray, gray16, cmyk, pal,
		nrgba.SubImage(image.Rect(1, 1, 4, 3)), gray16.SubImage(image.Rect(2, 1, 5, 2)),
		hidden{nrgba}, hidden{rgba64}, hidden{cmyk}, hidden{pal}} {
		got := FromImage(img)
		b := img.Bounds()
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				want := straight(img.At(b.Min.X+x, b.Min.Y+y))
				for c := 0; c < 3; c++ {
					g := got.Pix[3*(y*got.W+x)+c]
					if d := int(g) - int(want[c]); d < -1 || d > 1 || (d != 0 && !isCMYK(img)) {
						t.Fatalf("%T %v: pixel (%d,%d) channel %d = %d, want %d", img, b, x, y, c, g, want[c])
					}
				}
			}
		}
	}
}

// TestPalettedOutOfRange: an index beyond a hand-built palette reads as
// black rather than panicking (image.Paletted.At would panic).
func TestPalettedOutOfRange(t *testing.T) {
	p := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.RGBA{9, 9, 9, 255}})
	p.Pix[1] = 200
	assertSame(t, FromImage(p), rgb(2, 1, [3]uint8{9, 9, 9}, [3]uint8{}))
}

// hidden hides an image's concrete type, forcing FromImage's generic path.
type hidden struct{ image.Image }

func isCMYK(img image.Image) bool {
	if h, ok := img.(hidden); ok {
		img = h.Image
	}
	_, ok := img.(*image.CMYK)
	return ok
}

// TestCMYKMatchesPIL checks cmykToRGB against PIL's integer formula
// written out here directly: MULDIV255(a, b) = ((a*b+128)>>8 + a*b+128)>>8.
func TestCMYKMatchesPIL(t *testing.T) {
	for c := 0; c < 256; c += 5 {
		for k := 0; k < 256; k += 3 {
			nk := 255 - k
			tmp := c*nk + 128
			want := nk - ((tmp>>8)+tmp)>>8
			r, _, _ := cmykToRGB(uint8(c), 0, 0, uint8(k))
			if int(r) != want {
				t.Fatalf("cmyk(%d, k=%d) -> %d, want %d", c, k, r, want)
			}
		}
	}
}

// TestDecodeJPEG checks grey and colour JPEGs of flat colours, which JPEG
// encodes almost exactly (tolerance 2 levels).
func TestDecodeJPEG(t *testing.T) {
	r := image.Rect(0, 0, 16, 16)
	grey := image.NewGray(r)
	col := image.NewRGBA(r)
	for i := range grey.Pix {
		grey.Pix[i] = 77
	}
	for i := 0; i < len(col.Pix); i += 4 {
		col.Pix[i], col.Pix[i+1], col.Pix[i+2], col.Pix[i+3] = 200, 40, 90, 255
	}
	for _, tc := range []struct {
		img  image.Image
		want [3]int
	}{{grey, [3]int{77, 77, 77}}, {col, [3]int{200, 40, 90}}} {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, tc.img, &jpeg.Options{Quality: 100}); err != nil {
			t.Fatal(err)
		}
		m, err := Decode(&b, "flat.jpg")
		if err != nil {
			t.Fatal(err)
		}
		if m.W != 16 || m.H != 16 {
			t.Fatalf("size %dx%d", m.W, m.H)
		}
		for i, v := range m.Pix {
			if d := int(v) - tc.want[i%3]; d < -2 || d > 2 {
				t.Fatalf("%T: byte %d = %d, want %d ± 2", tc.img, i, v, tc.want[i%3])
			}
		}
	}
}

func TestPNGRoundTrip(t *testing.T) {
	dir := t.TempDir()
	// 300x200 of noise compresses to over 64 KiB: several IDAT chunks.
	for _, sz := range [][2]int{{1, 1}, {7, 3}, {64, 64}, {33, 65}, {1, 40}, {40, 1}, {300, 200}} {
		m := noiseImage(sz[0], sz[1], uint32(sz[0]))
		p := filepath.Join(dir, "x.png")
		if err := WritePNG(p, m); err != nil {
			t.Fatal(err)
		}
		got, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		assertSame(t, got, m)
		// The standard decoder sees an opaque 8-bit RGB PNG.
		b, _ := os.ReadFile(p)
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := img.(*image.RGBA); !ok || b[25] != 2 || b[24] != 8 {
			t.Fatalf("PNG colour type %d depth %d (%T), want 8-bit RGB", b[25], b[24], img)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("folder holds %d entries after WritePNG, want just x.png", len(ents))
	}
}

// TestEncodeFilters checks every filter and level of the encoder against
// image/png's decoder, on noise (all predictors matter) and a scene.
func TestEncodeFilters(t *testing.T) {
	for _, m := range []*Image{noiseImage(37, 23, 9), sceneImage(64, 48, 3)} {
		for _, f := range []byte{filterNone, filterSub, filterUp, filterPaeth} {
			for _, level := range []int{0, 1, 6, 9} {
				var b bytes.Buffer
				if err := encodeRGB(&b, m, f, level); err != nil {
					t.Fatal(err)
				}
				img, err := png.Decode(&b)
				if err != nil {
					t.Fatalf("filter %d level %d: %v", f, level, err)
				}
				assertSame(t, FromImage(img), m)
			}
		}
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestEncodePNGWriteError(t *testing.T) {
	m := noiseImage(300, 200, 1)
	for _, n := range []int{0, 10, 40000, 100000} {
		if err := EncodePNG(&failWriter{n: n}, m); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("writer failing after %d bytes: error %v", n, err)
		}
	}
	// The pooled state is still good after failures.
	var b bytes.Buffer
	if err := EncodePNG(&b, m); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(&b, "after.png")
	if err != nil {
		t.Fatal(err)
	}
	assertSame(t, got, m)
}

func TestEncodePNGBadImage(t *testing.T) {
	for _, m := range []*Image{nil, {}, {W: 2, H: 2, Pix: make([]uint8, 5)}} {
		if err := EncodePNG(&bytes.Buffer{}, m); err == nil {
			t.Errorf("EncodePNG(%v): no error", m)
		}
	}
	if err := WritePNG(filepath.Join(t.TempDir(), "no", "such", "dir.png"), New(1, 1)); err == nil {
		t.Error("WritePNG into a missing folder: no error")
	}
}

func TestLoadBadInput(t *testing.T) {
	dir := t.TempDir()
	good := encodePNGStd(t, noiseImage(16, 16, 3).RGBA())
	var jpg bytes.Buffer
	jpeg.Encode(&jpg, noiseImage(16, 16, 4).RGBA(), nil)
	corrupt := bytes.Clone(good)
	corrupt[len(corrupt)-20] ^= 0xff                  // inside IDAT: CRC mismatch
	huge := rawPNG(16384, 16384, 8, 0, [][]byte{{0}}) // a header promising 256 Mpixels
	rng := rand.New(rand.NewPCG(7, 7))
	random := make([]byte, 1000)
	for i := range random {
		random[i] = uint8(rng.IntN(256))
	}
	files := map[string][]byte{
		"zero.png":      {},
		"random.png":    random,
		"text.png":      []byte("hello, world\n"),
		"trunc8.png":    good[:8],
		"trunc30.png":   good[:30],
		"trunchalf.png": good[:len(good)/2],
		"truncend.png":  good[:len(good)-12],
		"corrupt.png":   corrupt,
		"huge.png":      huge,
		"trunc.jpg":     jpg.Bytes()[:jpg.Len()/2],
		"jpghead.jpg":   jpg.Bytes()[:3],
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(dir, "sub.png"), 0o755)
	cases := []struct{ name, want string }{
		{"missing.png", "no such file"},
		{"sub.png", "is a folder"},
		{"zero.png", "empty file"},
		{"random.png", "not a PNG or JPEG"},
		{"text.png", "not a PNG or JPEG"},
		{"trunc8.png", "truncated"},
		{"trunc30.png", "truncated"},
		{"trunchalf.png", "decoding PNG"},
		{"truncend.png", "PNG"},
		{"corrupt.png", "checksum"},
		{"huge.png", "more than"},
		{"trunc.jpg", "JPEG"},
		{"jpghead.jpg", "JPEG"},
	}
	for _, tc := range cases {
		p := filepath.Join(dir, tc.name)
		m, err := Load(p)
		if err == nil {
			t.Errorf("Load(%s) = %dx%d image, want an error", tc.name, m.W, m.H)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, p) || !strings.Contains(msg, tc.want) || !strings.HasPrefix(msg, "images: ") {
			t.Errorf("Load(%s) error %q: want it to name the file and say %q", tc.name, msg, tc.want)
		}
	}
}

// TestParityImages decodes every parity PNG and checks that ToTensor of the
// generator inputs equals the PyTorch pipeline's tensor (PIL decode,
// x/127.5-1) in npy/gen_inputs_64.npy bit for bit.
func TestParityImages(t *testing.T) {
	dir := parityDir(t)
	files, err := ListDir(filepath.Join(dir, "images"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		m, err := Load(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if want := 64; strings.HasPrefix(f.Name, "s256") {
			want = 256
			if m.W != want || m.H != want {
				t.Errorf("%s: %dx%d", f.Name, m.W, m.H)
			}
		} else if m.W != want || m.H != want {
			t.Errorf("%s: %dx%d", f.Name, m.W, m.H)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "generator_refs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var refs struct {
		Inputs    []string `json:"inputs"`
		InputsNPY string   `json:"inputs_npy"`
	}
	if err := json.Unmarshal(b, &refs); err != nil {
		t.Fatal(err)
	}
	if len(refs.Inputs) == 0 || refs.InputsNPY == "" {
		t.Fatal("generator_refs.json lists no inputs")
	}
	want, err := ReadNPY(filepath.Join(dir, refs.InputsNPY))
	if err != nil {
		t.Fatal(err)
	}
	var imgs []*Image
	for _, in := range refs.Inputs {
		m, err := Load(filepath.Join(dir, in))
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, m)
	}
	if len(want.Shape) != 4 || want.Shape[0] != len(imgs) || want.Shape[1] != 3 || want.Shape[2] != imgs[0].H || want.Shape[3] != imgs[0].W {
		t.Fatalf("%s has shape %v for %d images of %dx%d", refs.InputsNPY, want.Shape, len(imgs), imgs[0].W, imgs[0].H)
	}
	got := make([]float32, len(want.Data))
	if err := ToTensor(imgs, got); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want.Data[i]) {
			t.Fatalf("element %d: %v, PyTorch pipeline %v", i, got[i], want.Data[i])
		}
	}
}

// TestMergeWarnings: decode warnings fold into one per code, naming the
// first file and counting the others; other warnings pass through.
func TestMergeWarnings(t *testing.T) {
	w16 := func(name string) warning.Warning {
		return warning.New(CodeHighByte16, warning.SubjectSamples, "%s: 16-bit PNG", name)
	}
	other := warning.New("fewer-inputs", warning.SubjectSamples, "fewer inputs")
	got := MergeWarnings([]warning.Warning{w16("a.png"), other, w16("b.png"), w16("c.png"),
		warning.New(CodeGrey16Clipped, warning.SubjectSamples, "d.png: clipped")})
	want := []string{"a.png: 16-bit PNG (and 2 more images like it)", "fewer inputs", "d.png: clipped"}
	if !slices.Equal(warning.Details(got), want) {
		t.Errorf("merged %q, want %q", warning.Details(got), want)
	}
	if MergeWarnings(nil) != nil {
		t.Error("MergeWarnings(nil) is not nil")
	}
}

// TestRefKeepsWarnings: Ref's loaders keep the decode warnings through
// their resizes.
func TestRefKeepsWarnings(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.png")
	row := make([]byte, 2*3*8)
	if err := os.WriteFile(p, rawPNG(8, 4, 16, 2, [][]byte{row, row, row, row}), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Ref{{Path: p}, {Path: p, Size: 3}, {Path: p, Clean: 5}} {
		m, err := r.Load()
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Warnings) != 1 || m.Warnings[0].Code != CodeHighByte16 {
			t.Errorf("%+v: warnings %v", r, m.Warnings)
		}
	}
}
