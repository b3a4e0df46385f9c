package images

import "math"

// pilPrecisionBits is Pillow's PRECISION_BITS for 8-bit resampling
// (32 - 8 - 2): coefficients are fixed point with 22 fractional bits.
const pilPrecisionBits = 22

// pilFilter is one of Pillow's resampling filters (Resample.c): a kernel
// and its support at scale 1.
type pilFilter struct {
	kernel  func(x float64) float64
	support float64
}

// pilBilinear is Pillow's bilinear (triangle) filter, tri(t) = max(1 − |t|, 0).
var pilBilinear = pilFilter{support: 1, kernel: func(x float64) float64 {
	x = math.Abs(x)
	if x < 1 {
		return 1 - x
	}
	return 0
}}

// pilBicubic is Pillow's bicubic filter, Keys' cubic convolution with
// a = −0.5:
//
//	|x| < 1: ((a + 2)|x| − (a + 3))|x|² + 1
//	|x| < 2: (((|x| − 5)|x| + 8)|x| − 4) a
//	else 0
var pilBicubic = pilFilter{support: 2, kernel: func(x float64) float64 {
	const a = -0.5
	x = math.Abs(x)
	switch {
	case x < 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}}

// pilAxis is Pillow's resampling of one axis (Resample.c,
// precompute_coeffs) from inSize samples to outSize: output sample i reads
// the input samples bounds[i][0] ... bounds[i][0]+bounds[i][1]−1 with the
// weights w[i·ksize ...] (normalized to sum 1) or, for 8-bit images, k (the
// same in 22-bit fixed point, normalize_coeffs_8bpc). With
// scale = inSize/outSize, filterscale = max(scale, 1) (the kernel widens
// when shrinking, which antialiases) and support = filter support ·
// filterscale:
//
//	center = (i + 0.5)·scale
//	xmin = max(int(center − support + 0.5), 0), xmax = min(int(center + support + 0.5), inSize)
//	w_x = kernel((x − center + 0.5) / filterscale), normalized to sum 1
//	k = int(±0.5 + w·2^22)  (rounded half away from zero)
type pilAxis struct {
	bounds [][2]int
	w      []float64
	k      []int32
	ksize  int
}

func pilCoeffs(inSize, outSize int, f pilFilter) *pilAxis {
	scale := float64(inSize) / float64(outSize)
	filterscale := max(scale, 1)
	support := f.support * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	a := &pilAxis{bounds: make([][2]int, outSize), w: make([]float64, outSize*ksize), k: make([]int32, outSize*ksize), ksize: ksize}
	ss := 1.0 / filterscale
	for i := 0; i < outSize; i++ {
		center := (float64(i) + 0.5) * scale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		w := a.w[i*ksize : i*ksize+xmax]
		ww := 0.0
		for x := range w {
			w[x] = f.kernel((float64(x+xmin) - center + 0.5) * ss)
			ww += w[x]
		}
		for x := range w {
			if ww != 0 {
				w[x] /= ww
			}
			if w[x] < 0 {
				a.k[i*ksize+x] = int32(-0.5 + w[x]*(1<<pilPrecisionBits))
			} else {
				a.k[i*ksize+x] = int32(0.5 + w[x]*(1<<pilPrecisionBits))
			}
		}
		a.bounds[i] = [2]int{xmin, xmax}
	}
	return a
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
// the filter f does for 8-bit RGB (Resample.c, ImagingResampleInner): a
// horizontal pass over the rows the vertical pass needs, rounded to 8
// bits, then a vertical pass; each pass adds 2^21 and shifts by 22.
func resizePIL(m *Image, w, h int, f pilFilter) *Image {
	src := m
	av := pilCoeffs(m.H, h, f)
	bv, kv, ksv := av.bounds, av.k, av.ksize
	if w != m.W {
		ah := pilCoeffs(m.W, w, f)
		bh, kh, ksh := ah.bounds, ah.k, ah.ksize
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

// ResizeBicubic resizes m to w × h (w, h ≥ 1) exactly as Pillow 9's
// Image.resize((w, h), Image.BICUBIC) does for an 8-bit RGB image: Keys'
// cubic (a = −0.5) whose support widens with the scale factor when
// shrinking (antialiased), 22-bit fixed-point weights, a horizontal pass
// rounded and clamped to 8 bits, then a vertical pass. An image already
// w × h is returned unchanged.
func ResizeBicubic(m *Image, w, h int) *Image {
	if m.W == w && m.H == h {
		return m
	}
	return resizePIL(m, w, h, pilBicubic)
}

// ResizeBicubicFloat resizes each channel of m to w × h (w, h ≥ 1) as
// clean-fid's "clean" resize does (resize_single_channel): the channel as
// a Pillow float32 'F' image, Image.resize((w, h), Image.BICUBIC)
// (Resample.c, ImagingResampleHorizontal/Vertical_32bpc: float64 weights
// and sums, a float32 image between and after the passes), then clipped
// to [0, 255]. The result is planar: channel c's row y is
// out[c·w·h + y·w : ...], values on the 0..255 scale, not rounded.
func ResizeBicubicFloat(m *Image, w, h int) []float32 {
	out := make([]float32, 3*w*h)
	ah, av := pilCoeffs(m.W, w, pilBicubic), pilCoeffs(m.H, h, pilBicubic)
	needH, needV := w != m.W, h != m.H
	// Rows of the input the vertical pass reads (all when it is skipped).
	first, last := 0, m.H
	if needV {
		first, last = av.bounds[0][0], av.bounds[h-1][0]+av.bounds[h-1][1]
	}
	// Horizontal pass (or a copy) over rows first..last−1, into three
	// float32 planes, each sum in float64 from 0 in Pillow's order.
	rows := last - first
	tmp := make([]float32, 3*w*rows)
	plane := w * rows
	for y := range rows {
		in := m.Pix[3*m.W*(y+first) : 3*m.W*(y+first+1)]
		for x := range w {
			if !needH {
				for c := range 3 {
					tmp[c*plane+w*y+x] = float32(in[3*x+c])
				}
				continue
			}
			xmin, n := ah.bounds[x][0], ah.bounds[x][1]
			kk := ah.w[x*ah.ksize : x*ah.ksize+n]
			var s0, s1, s2 float64
			for i, k := range kk {
				p := in[3*(xmin+i) : 3*(xmin+i)+3 : 3*(xmin+i)+3]
				s0 += float64(p[0]) * k
				s1 += float64(p[1]) * k
				s2 += float64(p[2]) * k
			}
			tmp[w*y+x], tmp[plane+w*y+x], tmp[2*plane+w*y+x] = float32(s0), float32(s1), float32(s2)
		}
	}
	if !needV {
		copy(out, tmp)
	} else {
		// Vertical pass: each output row accumulates the rows it reads in
		// order (the same additions per value as Pillow's inner loop, in a
		// cache-friendly order).
		acc := make([]float64, w)
		for c := range 3 {
			src := tmp[c*plane : (c+1)*plane]
			for y := range h {
				ymin, n := av.bounds[y][0]-first, av.bounds[y][1]
				kk := av.w[y*av.ksize : y*av.ksize+n]
				clear(acc)
				for i, k := range kk {
					row := src[w*(ymin+i) : w*(ymin+i+1)]
					for x, v := range row {
						acc[x] += float64(v) * k
					}
				}
				dst := out[c*w*h+w*y : c*w*h+w*(y+1)]
				for x, v := range acc {
					dst[x] = float32(v)
				}
			}
		}
	}
	for i, v := range out {
		out[i] = min(max(v, 0), 255)
	}
	return out
}

// ResizeClean resizes m to size × size for a feature network as
// clean-fid's "clean" mode does (ResizeBicubicFloat, no aspect ratio kept,
// no crop), then rounds each value to the nearest 8-bit level (halves
// away from zero) so that the result is an Image. The rounding is the one
// difference from clean-fid, which feeds the float values on: it moves a
// value by at most half a level.
func ResizeClean(m *Image, size int) *Image {
	if m.W == size && m.H == size {
		return m
	}
	f := ResizeBicubicFloat(m, size, size)
	out := New(size, size)
	n := size * size
	for c := range 3 {
		for i, v := range f[c*n : (c+1)*n] {
			out.Pix[3*i+c] = uint8(math.Floor(float64(v) + 0.5))
		}
	}
	return out
}
