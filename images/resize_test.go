package images

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestResizedSize(t *testing.T) {
	// Expected values from torchvision's rule: short -> size, long -> int(size*long/short).
	cases := []struct{ w, h, size, ww, wh int }{
		{100, 150, 64, 64, 96},
		{333, 500, 256, 256, 384}, // 384.38 truncates
		{500, 333, 256, 384, 256},
		{64, 64, 32, 32, 32},
		{3, 1000, 2, 2, 666}, // 666.67 truncates
		{10, 10, 20, 20, 20},
	}
	for _, c := range cases {
		if w, h := resizedSize(c.w, c.h, c.size); w != c.ww || h != c.wh {
			t.Errorf("resizedSize(%d, %d, %d) = %d, %d; want %d, %d", c.w, c.h, c.size, w, h, c.ww, c.wh)
		}
	}
}

func TestResizeCropNoop(t *testing.T) {
	m := noiseImage(32, 32, 1)
	if got := ResizeCrop(m, 32); got != m {
		t.Error("ResizeCrop of a size x size image made a copy")
	}
	for _, bad := range []struct {
		m    *Image
		size int
	}{{m, 0}, {m, -3}, {nil, 4}, {&Image{}, 4}} {
		if got := ResizeCrop(bad.m, bad.size); got.W != 0 || got.H != 0 {
			t.Errorf("ResizeCrop(%v, %d) = %dx%d, want empty", bad.m != nil, bad.size, got.W, got.H)
		}
	}
}

// TestResizeCropCropOnly: when the short side already equals size, only the
// centre crop happens, at offset round((long - size)/2) with halves to even
// (Python's round, as torchvision's CenterCrop).
func TestResizeCropCropOnly(t *testing.T) {
	cases := []struct{ w, h, x0, y0 int }{
		{80, 64, 8, 0},  // 16/2 = 8
		{81, 64, 8, 0},  // 8.5 -> 8
		{83, 64, 10, 0}, // 9.5 -> 10
		{64, 85, 0, 10}, // 10.5 -> 10
		{64, 67, 0, 2},  // 1.5 -> 2
	}
	for _, c := range cases {
		m := noiseImage(c.w, c.h, uint32(c.w*c.h))
		got := ResizeCrop(m, 64)
		if got.W != 64 || got.H != 64 {
			t.Fatalf("%dx%d: result %dx%d", c.w, c.h, got.W, got.H)
		}
		for y := 0; y < 64; y++ {
			for x := 0; x < 64; x++ {
				for ch := 0; ch < 3; ch++ {
					if g, w := got.Pix[3*(y*64+x)+ch], m.Pix[3*((y+c.y0)*c.w+x+c.x0)+ch]; g != w {
						t.Fatalf("%dx%d: pixel (%d,%d) = %d, want source (%d,%d) = %d", c.w, c.h, x, y, g, x+c.x0, y+c.y0, w)
					}
				}
			}
		}
	}
}

// TestResizeCropBilinear checks the filter on inputs whose bilinear result
// is known without running any resampler: a constant image stays constant,
// and halving a horizontal linear ramp v(x) = 2x (x = 0..127) gives, at
// output pixel i (centre 2i+1 in source coordinates), the ramp's value there,
// 4i+1 ± 1 level away from the border (the triangle kernel is symmetric and
// reproduces linear functions; Pillow's fixed point rounds within 1).
func TestResizeCropBilinear(t *testing.T) {
	flat := New(90, 60)
	for i := 0; i < len(flat.Pix); i += 3 {
		flat.Pix[i], flat.Pix[i+1], flat.Pix[i+2] = 12, 200, 77
	}
	for _, size := range []int{30, 17, 120} {
		got := ResizeCrop(flat, size)
		if got.W != size || got.H != size {
			t.Fatalf("size %d: %dx%d", size, got.W, got.H)
		}
		for i := 0; i < len(got.Pix); i += 3 {
			if got.Pix[i] != 12 || got.Pix[i+1] != 200 || got.Pix[i+2] != 77 {
				t.Fatalf("size %d: constant image changed at pixel %d: %v", size, i/3, got.Pix[i:i+3])
			}
		}
	}
	ramp := New(128, 64)
	for y := 0; y < 64; y++ {
		for x := 0; x < 128; x++ {
			for c := 0; c < 3; c++ {
				ramp.Pix[3*(y*128+x)+c] = uint8(2 * x)
			}
		}
	}
	// 128x64 -> 64x32, then the centre 32x32 crop starts at x = 16.
	got := ResizeCrop(ramp, 32)
	for y := 0; y < 32; y++ {
		for x := 1; x < 31; x++ {
			want := 4*(x+16) + 1
			if d := int(got.Pix[3*(y*32+x)]) - want; d < -1 || d > 1 {
				t.Fatalf("ramp: pixel (%d,%d) = %d, want %d ± 1", x, y, got.Pix[3*(y*32+x)], want)
			}
		}
	}
}

func TestGrid(t *testing.T) {
	a := rgb(2, 1, [3]uint8{1, 1, 1}, [3]uint8{2, 2, 2})
	b := rgb(2, 1, [3]uint8{3, 3, 3}, [3]uint8{4, 4, 4})
	c := rgb(1, 1, [3]uint8{5, 5, 5})
	bg := [3]uint8{9, 9, 9}
	// Two rows: [a, b], [nil, c]; slots 2x1, pad 1 -> (2*2+3) x (2*1+3) = 7x5.
	g := Grid([][]*Image{{a, b}, {nil, c}}, 1, bg)
	if g.W != 7 || g.H != 5 {
		t.Fatalf("grid %dx%d, want 7x5", g.W, g.H)
	}
	want := [][]uint8{
		{9, 9, 9, 9, 9, 9, 9},
		{9, 1, 2, 9, 3, 4, 9},
		{9, 9, 9, 9, 9, 9, 9},
		{9, 9, 9, 9, 5, 9, 9}, // c (1 wide) centred in its 2-wide slot: offset 0
		{9, 9, 9, 9, 9, 9, 9},
	}
	for y, row := range want {
		for x, v := range row {
			if got := g.Pix[3*(y*7+x)]; got != v {
				t.Errorf("grid pixel (%d,%d) = %d, want %d", x, y, got, v)
			}
		}
	}
	if e := Grid(nil, 2, bg); e.W != 0 || e.H != 0 {
		t.Errorf("empty grid %dx%d", e.W, e.H)
	}
	if e := Grid([][]*Image{{nil}}, 2, bg); e.W != 0 || e.H != 0 {
		t.Errorf("all-nil grid %dx%d", e.W, e.H)
	}
	// A short row: the missing slot is blank, and pad 0 packs cells.
	g = Grid([][]*Image{{a, b}, {a}}, 0, bg)
	if g.W != 4 || g.H != 2 || g.Pix[3*(1*4+2)] != 9 || g.Pix[3*(1*4+1)] != 2 {
		t.Errorf("short-row grid %dx%d %v", g.W, g.H, g.Pix)
	}
}

// TestResizeCropMatchesPIL compares ResizeCrop with torchvision's
// Resize(size) + CenterCrop(size) on PIL images (Pillow's bilinear
// resample and Python's rounding of the crop offset), stored by
// testdata/pil/make.py: shrinking, shrinking to an odd size, enlarging.
// They must agree byte for byte.
func TestResizeCropMatchesPIL(t *testing.T) {
	refs, _ := filepath.Glob(filepath.Join("testdata", "pil", "resize_*.png.*"))
	if len(refs) < 3 {
		t.Fatalf("%d resize references in testdata/pil, want 3", len(refs))
	}
	for _, ref := range refs {
		t.Run(filepath.Base(ref), func(t *testing.T) {
			ext := filepath.Ext(ref)
			size, err := strconv.Atoi(ext[1:])
			if err != nil {
				t.Fatal(err)
			}
			src, err := Load(strings.TrimSuffix(ref, ext))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(ref)
			if err != nil {
				t.Fatal(err)
			}
			assertSame(t, ResizeCrop(src, size), &Image{W: size, H: size, Pix: want})
		})
	}
}

// TestResizeCropShapes runs extreme shapes: tiny, very elongated, large
// enlargements; each gives a size × size image whose values stay within the
// source's range (bilinear weights are non-negative).
func TestResizeCropShapes(t *testing.T) {
	for _, c := range []struct{ w, h, size int }{
		{1, 1, 64}, {1, 1, 1}, {2, 1, 1}, {1000, 3, 2}, {3, 1000, 5}, {7, 5, 64}, {640, 480, 1}, {255, 257, 256},
	} {
		m := New(c.w, c.h)
		for i := range m.Pix {
			m.Pix[i] = uint8(50 + i%100)
		}
		got := ResizeCrop(m, c.size)
		if got.W != c.size || got.H != c.size || len(got.Pix) != 3*c.size*c.size {
			t.Fatalf("%dx%d -> %d: %dx%d (%d bytes)", c.w, c.h, c.size, got.W, got.H, len(got.Pix))
		}
		for i, v := range got.Pix {
			if v < 50 || v > 149 {
				t.Fatalf("%dx%d -> %d: byte %d = %d outside the source's [50, 149]", c.w, c.h, c.size, i, v)
			}
		}
	}
}

func BenchmarkResizeCrop(b *testing.B) {
	for _, c := range []struct{ w, h, size int }{{256, 256, 64}, {512, 256, 256}, {64, 64, 256}} {
		m := sceneImage(c.w, c.h, 1)
		b.Run(fmt.Sprintf("%dx%d-to-%d", c.w, c.h, c.size), func(b *testing.B) {
			for b.Loop() {
				ResizeCrop(m, c.size)
			}
		})
	}
}
