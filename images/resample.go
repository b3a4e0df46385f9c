package images

import "math"

// pilPrecisionBits is Pillow's PRECISION_BITS for 8-bit resampling
// (32 - 8 - 2): coefficients are fixed point with 22 fractional bits.
const pilPrecisionBits = 22

// pilFilter is one of Pillow's resampling kernels (Resample.c, struct
// filter): its support at scale 1 and its weight function.
type pilFilter struct {
	support float64
	weight  func(t float64) float64
}

// pilBilinear is Pillow's bilinear_filter: tri(t) = max(1 - |t|, 0), support 1.
var pilBilinear = pilFilter{support: 1, weight: func(t float64) float64 {
	t = math.Abs(t)
	if t < 1 {
		return 1 - t
	}
	return 0
}}

// pilWeights computes Pillow's resampling weights for one axis
// (Resample.c, precompute_coeffs) for resizing inSize samples to outSize
// with filter f: for output sample i, the input samples
// bounds[i][0] ... bounds[i][0]+bounds[i][1]-1 with the weights
// w[i·ksize ...]. With scale = inSize/outSize and filterscale =
// max(scale, 1) (the kernel widens when shrinking, which antialiases),
// support = f.support·filterscale, and
//
//	center = (i + 0.5)·scale
//	xmin = max(int(center - support + 0.5), 0), xmax = min(int(center + support + 0.5), inSize)
//	w_x = f((x - center + 0.5) / filterscale), normalized to sum 1
//
// (int() truncates toward zero, as C's cast).
func pilWeights(inSize, outSize int, f pilFilter) (bounds [][2]int, w []float64, ksize int) {
	scale := float64(inSize) / float64(outSize)
	filterscale := max(scale, 1)
	support := f.support * filterscale
	ksize = int(math.Ceil(support))*2 + 1
	bounds = make([][2]int, outSize)
	w = make([]float64, outSize*ksize)
	ss := 1.0 / filterscale
	for i := 0; i < outSize; i++ {
		center := (float64(i) + 0.5) * scale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		k := w[i*ksize : i*ksize+xmax]
		ww := 0.0
		for x := range k {
			k[x] = f.weight((float64(x+xmin) - center + 0.5) * ss)
			ww += k[x]
		}
		if ww != 0 {
			for x := range k {
				k[x] /= ww
			}
		}
		bounds[i] = [2]int{xmin, xmax}
	}
	return bounds, w, ksize
}

// pilCoeffs is pilWeights in Pillow's 8-bit fixed point
// (normalize_coeffs_8bpc): k = int(w·2^22 + 0.5) for w >= 0 and
// int(w·2^22 - 0.5) for negative w (bicubic's lobes), rounding half away
// from zero as C's cast after the ±0.5 does.
func pilCoeffs(inSize, outSize int, f pilFilter) (bounds [][2]int, k []int32, ksize int) {
	bounds, w, ksize := pilWeights(inSize, outSize, f)
	k = make([]int32, len(w))
	for i, v := range w {
		if v < 0 {
			k[i] = int32(-0.5 + v*(1<<pilPrecisionBits))
		} else {
			k[i] = int32(0.5 + v*(1<<pilPrecisionBits))
		}
	}
	return bounds, k, ksize
}

// pilClip8 is Pillow's clip8: the fixed-point sum shifted down and clamped.
func pilClip8(v int32) uint8 {
	v >>= pilPrecisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// resizePIL resizes m to w × h exactly as Pillow 9's Image.resize with
// Image.BILINEAR does for 8-bit RGB.
func resizePIL(m *Image, w, h int) *Image { return resizePIL8(m, w, h, pilBilinear) }

// resizePIL8 resizes m to w × h with filter f exactly as Pillow 9's
// Image.resize does for 8-bit RGB (Resample.c, ImagingResampleInner): a
// horizontal pass over the rows the vertical pass needs, rounded to 8
// bits, then a vertical pass; each pass adds 2^21 and shifts by 22.
func resizePIL8(m *Image, w, h int, f pilFilter) *Image {
	src := m
	bv, kv, ksv := pilCoeffs(m.H, h, f)
	if w != m.W {
		bh, kh, ksh := pilCoeffs(m.W, w, f)
		first := bv[0][0]
		last := bv[h-1][0] + bv[h-1][1]
		tmp := New(w, last-first)
		for y := 0; y < tmp.H; y++ {
			in := m.Pix[3*m.W*(y+first) : 3*m.W*(y+first+1)]
			out := tmp.Pix[3*w*y : 3*w*(y+1)]
			for x := 0; x < w; x++ {
				xmin, n := bh[x][0], bh[x][1]
				kk := kh[x*ksh : x*ksh+n]
				s0, s1, s2 := int32(1<<(pilPrecisionBits-1)), int32(1<<(pilPrecisionBits-1)), int32(1<<(pilPrecisionBits-1))
				for i, c := range kk {
					p := in[3*(xmin+i) : 3*(xmin+i)+3 : 3*(xmin+i)+3]
					s0 += int32(p[0]) * c
					s1 += int32(p[1]) * c
					s2 += int32(p[2]) * c
				}
				out[3*x], out[3*x+1], out[3*x+2] = pilClip8(s0), pilClip8(s1), pilClip8(s2)
			}
		}
		for i := range bv {
			bv[i][0] -= first
		}
		src = tmp
	}
	if h == m.H {
		return src
	}
	out := New(w, h)
	stride := 3 * w
	for y := 0; y < h; y++ {
		ymin, n := bv[y][0], bv[y][1]
		kk := kv[y*ksv : y*ksv+n]
		row := out.Pix[stride*y : stride*(y+1)]
		for x := range row {
			s := int32(1 << (pilPrecisionBits - 1))
			for i, c := range kk {
				s += int32(src.Pix[stride*(ymin+i)+x]) * c
			}
			row[x] = pilClip8(s)
		}
	}
	return out
}
