package images

import (
	"math"
	"strings"
	"testing"
)

func TestToTensorLayout(t *testing.T) {
	// Two 2x2 images with every byte distinct, so any layout slip shows.
	a, b := New(2, 2), New(2, 2)
	for i := range a.Pix {
		a.Pix[i], b.Pix[i] = uint8(i), uint8(100+i)
	}
	dst := make([]float32, 2*3*2*2)
	if err := ToTensor([]*Image{a, b}, dst); err != nil {
		t.Fatal(err)
	}
	for n, m := range []*Image{a, b} {
		for c := 0; c < 3; c++ {
			for y := 0; y < 2; y++ {
				for x := 0; x < 2; x++ {
					v := m.Pix[3*(y*2+x)+c]
					got := dst[((n*3+c)*2+y)*2+x]
					// float32 arithmetic, as numpy's x.astype(float32)/127.5 - 1.
					want := float32(v)/float32(127.5) - float32(1)
					if got != want || math.Abs(float64(got)-(float64(v)/127.5-1)) > 1e-7 {
						t.Fatalf("n%d c%d y%d x%d: %v, want %v", n, c, y, x, got, want)
					}
				}
			}
		}
	}
	if toFloat[0] != -1 || toFloat[255] != 1 {
		t.Errorf("0 -> %v, 255 -> %v; want -1, 1", toFloat[0], toFloat[255])
	}
}

func TestToTensorErrors(t *testing.T) {
	a, b := New(2, 2), New(3, 2)
	cases := []struct {
		name string
		imgs []*Image
		n    int
		want string
	}{
		{"size mismatch", []*Image{a, b}, 24, "needs one size"},
		{"short dst", []*Image{a}, 11, "want 12"},
		{"long dst", []*Image{a}, 13, "want 12"},
		{"nil image", []*Image{a, nil}, 24, "nil"},
		{"bad pix", []*Image{{W: 2, H: 2, Pix: make([]uint8, 3)}}, 12, "holds 3 bytes"},
		{"no images, dst", nil, 3, "no images"},
	}
	for _, tc := range cases {
		err := ToTensor(tc.imgs, make([]float32, tc.n))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	if err := ToTensor(nil, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

func TestFromTensor(t *testing.T) {
	cases := []struct {
		x    float32
		want uint8
	}{
		{-1, 0}, {1, 255}, {0, 128}, // 127.5 rounds half away from zero
		{-0.5, 64}, // 63.75
		{0.5, 191}, // 191.25
		{-2, 0}, {7, 255}, {float32(math.Inf(1)), 255}, {float32(math.Inf(-1)), 0},
		{-0.996, 1},   // 0.51 -> 1
		{-0.9962, 0},  // 0.4845 -> 0
		{0.9961, 255}, // 254.50 -> 255
	}
	chw := make([]float32, 3*len(cases))
	for i, c := range cases {
		chw[i], chw[len(cases)+i], chw[2*len(cases)+i] = c.x, c.x, c.x
	}
	m, err := FromTensor(chw, 1, len(cases))
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		for ch := 0; ch < 3; ch++ {
			if g := m.Pix[3*i+ch]; g != c.want {
				t.Errorf("x=%v channel %d -> %d, want %d", c.x, ch, g, c.want)
			}
		}
	}
	// Every uint8 survives ToTensor then FromTensor.
	im := New(256, 1)
	for v := 0; v < 256; v++ {
		im.Pix[3*v], im.Pix[3*v+1], im.Pix[3*v+2] = uint8(v), uint8(255-v), uint8(v*7)
	}
	buf := make([]float32, 3*256)
	if err := ToTensor([]*Image{im}, buf); err != nil {
		t.Fatal(err)
	}
	back, err := FromTensor(buf, 1, 256)
	if err != nil {
		t.Fatal(err)
	}
	assertSame(t, back, im)
}

func TestFromTensorErrors(t *testing.T) {
	nan := make([]float32, 12)
	nan[7] = float32(math.NaN())
	cases := []struct {
		name string
		chw  []float32
		h, w int
		want string
	}{
		{"nan", nan, 2, 2, "channel 1, y 1, x 1 is NaN"},
		{"short", make([]float32, 11), 2, 2, "want 3x2x2"},
		{"empty size", nil, 0, 2, "empty"},
	}
	for _, tc := range cases {
		_, err := FromTensor(tc.chw, tc.h, tc.w)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}
