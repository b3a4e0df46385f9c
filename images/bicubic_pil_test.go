package images

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// pythonPIL returns /usr/bin/python3 when it imports numpy and PIL, or
// skips the test.
func pythonPIL(t *testing.T) string {
	t.Helper()
	py := pythonNumpy(t)
	if err := exec.Command(py, "-c", "import PIL").Run(); err != nil {
		t.Skip("/usr/bin/python3 has no PIL")
	}
	return py
}

// bicubicPIL resizes the raw RGB file given as argv[1] (w, h) to (W, H)
// with PIL: the 8-bit RGB image with Image.BICUBIC, and each channel as a
// float32 'F' image with Image.BICUBIC clipped to [0, 255] (clean-fid's
// resize_single_channel). It writes the bytes, then the float32 planes.
const bicubicPIL = `
import sys, numpy as np
from PIL import Image
src, w, h, W, H, out = sys.argv[1], *map(int, sys.argv[2:6]), sys.argv[6]
x = np.fromfile(src, np.uint8).reshape(h, w, 3)
rgb = np.asarray(Image.fromarray(x, "RGB").resize((W, H), resample=Image.BICUBIC))
planes = [np.asarray(Image.fromarray(x[:, :, c].astype(np.float32), mode="F").resize((W, H), resample=Image.BICUBIC)).clip(0, 255) for c in range(3)]
with open(out, "wb") as f:
    f.write(rgb.tobytes())
    f.write(np.stack(planes).astype("<f4").tobytes())
`

// testImage is a deterministic image with smooth regions, hard edges and
// noise, so that the cubic's overshoot is clamped somewhere.
func testImage(w, h int) *Image {
	m := New(w, h)
	s := uint32(12345)
	for y := range h {
		for x := range w {
			s = s*1664525 + 1013904223
			i := 3 * (y*w + x)
			m.Pix[i] = uint8(255 * x / max(w-1, 1))
			if (x/7+y/5)%2 == 0 {
				m.Pix[i+1] = 255
			}
			m.Pix[i+2] = uint8(s >> 24)
		}
	}
	return m
}

// TestBicubicMatchesPIL compares ResizeBicubic with Pillow's 8-bit
// Image.BICUBIC byte for byte (tolerance 0), and ResizeBicubicFloat with
// Pillow's float 'F' resize per channel (clean-fid's "clean" resize) to
// 1e-4 absolute on the 0..255 scale (bit-identical on amd64; the
// tolerance leaves room for fused multiply-adds elsewhere), on upscales, downscales (the
// antialiased case), one-axis and odd sizes. Skipped without PIL.
func TestBicubicMatchesPIL(t *testing.T) {
	py := pythonPIL(t)
	dir := t.TempDir()
	for _, c := range []struct{ w, h, W, H int }{
		{64, 64, 299, 299}, {512, 384, 299, 299}, {37, 53, 20, 31}, {100, 40, 299, 40}, {40, 100, 40, 7}, {256, 256, 299, 299},
	} {
		t.Run(fmt.Sprintf("%dx%d_to_%dx%d", c.w, c.h, c.W, c.H), func(t *testing.T) {
			m := testImage(c.w, c.h)
			src, out := filepath.Join(dir, "src.raw"), filepath.Join(dir, "out.raw")
			if err := os.WriteFile(src, m.Pix, 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"-c", bicubicPIL, src}
			for _, v := range []int{c.w, c.h, c.W, c.H} {
				args = append(args, fmt.Sprint(v))
			}
			if b, err := exec.Command(py, append(args, out)...).CombinedOutput(); err != nil {
				t.Fatalf("PIL: %v\n%s", err, b)
			}
			ref, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			n := 3 * c.W * c.H
			got := ResizeBicubic(m, c.W, c.H)
			if !bytes.Equal(got.Pix, ref[:n]) {
				diff := 0
				for i := range n {
					if got.Pix[i] != ref[i] {
						diff++
					}
				}
				t.Errorf("8-bit: %d of %d values differ from PIL", diff, n)
			}
			gf := ResizeBicubicFloat(m, c.W, c.H)
			var worst float64
			for i := range n {
				want := math.Float32frombits(binary.LittleEndian.Uint32(ref[n+4*i:]))
				worst = max(worst, math.Abs(float64(gf[i]-want)))
			}
			t.Logf("float: largest difference from PIL %g", worst)
			if worst > 1e-4 {
				t.Errorf("float: differs from PIL's 'F' resize by up to %g", worst)
			}
			clean := ResizeClean(m, c.W)
			if c.W == c.H {
				for i := range c.W * c.W {
					for ch := range 3 {
						if d := math.Abs(float64(clean.Pix[3*i+ch]) - float64(gf[ch*c.W*c.W+i])); d > 0.5 {
							t.Fatalf("ResizeClean value %d channel %d off its float by %g", i, ch, d)
						}
					}
				}
			}
		})
	}
}

// TestBicubicKernel checks Keys' cubic at hand-computed points: 1 at 0,
// 0 at the integers, 0.5625 and −0.0625 at ±0.5 and ±1.5 (a = −0.5), and
// that its weights on any shift sum to 1.
func TestBicubicKernel(t *testing.T) {
	for _, c := range []struct{ x, want float64 }{
		{0, 1}, {1, 0}, {2, 0}, {-1, 0}, {0.5, 0.5625}, {-0.5, 0.5625}, {1.5, -0.0625}, {-1.5, -0.0625}, {2.5, 0},
	} {
		if got := pilBicubic.kernel(c.x); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("kernel(%g) = %g, want %g", c.x, got, c.want)
		}
	}
	for _, s := range []float64{0, 0.1, 0.25, 0.7} {
		var sum float64
		for i := -2; i <= 2; i++ {
			sum += pilBicubic.kernel(float64(i) + s)
		}
		if math.Abs(sum-1) > 1e-15 {
			t.Errorf("weights at shift %g sum to %g", s, sum)
		}
	}
	// A constant image stays constant at every size (weights sum to 1).
	m := New(13, 9)
	for i := range m.Pix {
		m.Pix[i] = 77
	}
	for _, v := range ResizeBicubicFloat(m, 29, 4) {
		if math.Abs(float64(v)-77) > 1e-4 {
			t.Fatalf("constant image resized to %g", v)
		}
	}
}

// BenchmarkResizeClean is the clean-mode resize of a 256×256 image to
// 299×299 (one image per op).
func BenchmarkResizeClean(b *testing.B) {
	m := testImage(256, 256)
	b.ResetTimer()
	for range b.N {
		ResizeClean(m, 299)
	}
}

// BenchmarkResizeBicubic is Pillow's 8-bit bicubic, 512×384 to 299×299.
func BenchmarkResizeBicubic(b *testing.B) {
	m := testImage(512, 384)
	b.ResetTimer()
	for range b.N {
		ResizeBicubic(m, 299, 299)
	}
}
