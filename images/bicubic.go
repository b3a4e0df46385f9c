package images

import (
	"fmt"
	"math"
)

// pilBicubic is Pillow's bicubic_filter: Keys' cubic convolution kernel
// with a = -0.5, support 2 (widened by the scale when shrinking, which is
// what makes Pillow's bicubic antialiased):
//
//	f(t) = ((a+2)|t| - (a+3))·t² + 1          for |t| < 1
//	f(t) = (((|t| - 5)|t| + 8)|t| - 4)·a      for 1 <= |t| < 2
//	f(t) = 0                                  otherwise
var pilBicubic = pilFilter{support: 2, weight: func(t float64) float64 {
	const a = -0.5
	t = math.Abs(t)
	if t < 1 {
		return ((a+2)*t-(a+3))*t*t + 1
	}
	if t < 2 {
		return (((t-5)*t+8)*t - 4) * a
	}
	return 0
}}

// ResizeBicubic resizes m to w × h exactly as Pillow 9's
// Image.resize((w, h), Image.BICUBIC) does for an 8-bit RGB image: the
// kernel of pilBicubic with support 2·max(in/out, 1) per axis, 22-bit fixed
// point coefficients, a horizontal pass rounded and clamped to 8 bits, then
// a vertical pass. w and h must be positive.
func ResizeBicubic(m *Image, w, h int) (*Image, error) {
	if err := checkResize(m, w, h); err != nil {
		return nil, err
	}
	if w == m.W && h == m.H {
		return &Image{W: w, H: h, Pix: append([]uint8(nil), m.Pix...)}, nil
	}
	return resizePIL8(m, w, h, pilBicubic), nil
}

// ResizeBicubicFloat resizes m to w × h as clean-fid's "clean" mode does
// (cleanfid/resize.py, make_resizer("PIL", quantize_after=False, "bicubic")):
// each channel becomes a Pillow float image (mode "F", values 0 ... 255),
// is resized with Image.BICUBIC and clipped to [0, 255]. In mode "F" Pillow
// applies the float64 weights of pilWeights without fixed point: each output
// of a pass is sum_x w_x·in_x accumulated in float64 and stored as float32
// (the horizontal pass's image is float32 too). The result is float32
// planar, [3][h][w] flattened (c·h·w + y·w + x), values in [0, 255].
func ResizeBicubicFloat(m *Image, w, h int) ([]float32, error) {
	if err := checkResize(m, w, h); err != nil {
		return nil, err
	}
	out := make([]float32, 3*w*h)
	plane := make([]float32, m.W*m.H)
	bv, kv, ksv := pilWeights(m.H, h, pilBicubic)
	first, last := 0, m.H
	var bh [][2]int
	var kh []float64
	var ksh int
	if w != m.W {
		bh, kh, ksh = pilWeights(m.W, w, pilBicubic)
		first, last = bv[0][0], bv[h-1][0]+bv[h-1][1]
	}
	tmp := make([]float32, w*(last-first))
	for c := 0; c < 3; c++ {
		for i := range plane {
			plane[i] = float32(m.Pix[3*i+c])
		}
		src := plane
		if w != m.W {
			for y := first; y < last; y++ {
				in := plane[m.W*y : m.W*(y+1)]
				row := tmp[w*(y-first) : w*(y-first+1)]
				for x := range row {
					xmin, n := bh[x][0], bh[x][1]
					s := 0.0
					for i, k := range kh[x*ksh : x*ksh+n] {
						s += float64(in[xmin+i]) * k
					}
					row[x] = float32(s)
				}
			}
			src = tmp
		}
		dst := out[c*w*h : (c+1)*w*h]
		if h == m.H {
			copy(dst, src[:w*h])
		} else {
			for y := 0; y < h; y++ {
				ymin, n := bv[y][0]-first, bv[y][1]
				kk := kv[y*ksv : y*ksv+n]
				row := dst[w*y : w*(y+1)]
				for x := range row {
					s := 0.0
					for i, k := range kk {
						s += float64(src[w*(ymin+i)+x]) * k
					}
					row[x] = float32(s)
				}
			}
		}
		for i, v := range dst {
			dst[i] = min(max(v, 0), 255)
		}
	}
	return out, nil
}

func checkResize(m *Image, w, h int) error {
	if m == nil || m.W <= 0 || m.H <= 0 || len(m.Pix) != 3*m.W*m.H {
		return fmt.Errorf("images: resize: not a valid RGB image")
	}
	if w <= 0 || h <= 0 {
		return fmt.Errorf("images: resize %dx%d to %dx%d: the size must be positive", m.W, m.H, w, h)
	}
	return nil
}
