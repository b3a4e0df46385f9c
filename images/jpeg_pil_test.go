package images

import (
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJPEGMatchesPIL decodes JPEGs written by PIL and compares with PIL's
// own decoding (Image.open(f).convert("RGB"), stored beside each file by
// testdata/pil/make.py). Chroma upsampling and colour conversion follow
// libjpeg exactly; the IDCTs differ (Go's image/jpeg vs libjpeg-turbo's
// islow), which moves a few percent of the values by 1 to 3 levels. So:
// every byte within 3 levels, mean absolute difference below 0.1.
// (Go's own nearest-neighbour chroma and YCbCrToRGB miss by up to 87
// levels on noise_420_q90.jpg.)
func TestJPEGMatchesPIL(t *testing.T) {
	refs, err := filepath.Glob(filepath.Join("testdata", "pil", "*.jpg.rgb"))
	if err != nil || len(refs) == 0 {
		t.Fatalf("no references in testdata/pil: %v", err)
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
			maxd, sum := 0, 0
			for i := range want {
				d := int(m.Pix[i]) - int(want[i])
				if d < 0 {
					d = -d
				}
				maxd, sum = max(maxd, d), sum+d
			}
			if mean := float64(sum) / float64(len(want)); maxd > 3 || mean > 0.1 {
				t.Errorf("differs from PIL by up to %d levels (mean %.3f); want ≤ 3 (mean ≤ 0.1)", maxd, mean)
			}
		})
	}
}

// TestYCbCrConversion checks 4:4:4 conversion against the JFIF formulas in
// float64 (within 1 level: libjpeg's fixed point rounds a little
// differently), and that subsampled chroma of a constant colour upsamples
// to that constant, at every subsampling ratio.
func TestYCbCrConversion(t *testing.T) {
	r := image.Rect(0, 0, 7, 5)
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		for _, c := range [][3]uint8{{0, 0, 0}, {255, 255, 255}, {128, 128, 128}, {90, 200, 30}, {16, 240, 240}, {235, 16, 100}} {
			ycc := image.NewYCbCr(r, ratio)
			for i := range ycc.Y {
				ycc.Y[i] = c[0]
			}
			for i := range ycc.Cb {
				ycc.Cb[i], ycc.Cr[i] = c[1], c[2]
			}
			y, cb, cr := float64(c[0]), float64(c[1])-128, float64(c[2])-128
			want := [3]float64{y + 1.402*cr, y - 0.344136*cb - 0.714136*cr, y + 1.772*cb}
			for _, img := range []image.Image{ycc, ycc.SubImage(image.Rect(1, 1, 6, 4))} {
				m := FromImage(img)
				for i, v := range m.Pix {
					w := math.Min(math.Max(math.Round(want[i%3]), 0), 255)
					if math.Abs(float64(v)-w) > 1 {
						t.Fatalf("%v YCbCr%v %v: byte %d = %d, want %v ± 1", ratio, c, img.Bounds(), i, v, w)
					}
				}
			}
		}
	}
}
