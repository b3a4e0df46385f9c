package images

import (
	"image"

	"github.com/munit-eval/munit-eval/images/jpegdec"
)

// fromYCbCr converts an *image.YCbCr (FromImage's input, such as
// image/jpeg's output; Decode uses jpegdec instead) to RGB the way libjpeg
// (and so PIL) does by default: subsampled chroma is upsampled with
// libjpeg's "fancy" triangle filter (jdsample.c: h2v1, h1v2 and
// h2v2_fancy_upsample, edge rows and columns replicated) and colour is
// converted with libjpeg's fixed-point tables. Where libjpeg upsamples by
// replication (4:1:1, 4:1:0, chroma planes at most 2 samples wide) so does
// this.
func fromYCbCr(s *image.YCbCr, m *Image) {
	b := s.Bounds()
	w, h := b.Dx(), b.Dy()
	var hs, vs int // horizontal and vertical chroma subsampling factors
	switch s.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		hs, vs = 1, 1
	case image.YCbCrSubsampleRatio422:
		hs, vs = 2, 1
	case image.YCbCrSubsampleRatio440:
		hs, vs = 1, 2
	case image.YCbCrSubsampleRatio420:
		hs, vs = 2, 2
	}
	// Chroma plane size in samples, as libjpeg's downsampled_width/height.
	cw, ch := 0, 0
	if hs > 0 {
		cw, ch = (w+hs-1)/hs, (h+vs-1)/vs
	}
	// libjpeg (jdsample.c, jinit_upsampler) replicates instead of filtering
	// when a horizontally subsampled plane is at most 2 samples wide. Fancy
	// upsampling here also needs the planes to start on a chroma sample
	// boundary, which is always so for decoded JPEGs (Rect.Min = 0).
	if hs == 0 || (hs == 2 && cw <= 2) || b.Min.X%hs != 0 || b.Min.Y%vs != 0 {
		for y := 0; y < h; y++ {
			out := m.Pix[3*w*y : 3*w*(y+1)]
			for x := 0; x < w; x++ {
				yi, ci := s.YOffset(b.Min.X+x, b.Min.Y+y), s.COffset(b.Min.X+x, b.Min.Y+y)
				jpegdec.YCbCrToRGB(out[3*x:3*x+3], s.Y[yi:yi+1], s.Cb[ci:ci+1], s.Cr[ci:ci+1])
			}
		}
		return
	}
	c0 := s.COffset(b.Min.X, b.Min.Y)
	cbUp := make([]uint8, w)
	crUp := make([]uint8, w)
	colsum := make([]int32, cw)
	upRow := func(plane []uint8, y int, dst []uint8) {
		cy := y / vs
		row := plane[c0+cy*s.CStride : c0+cy*s.CStride+cw]
		if vs == 2 {
			// Vertical: 3·nearer + farther, the farther row being above
			// for even output rows and below for odd ones (replicated at
			// the edges).
			fy := cy - 1
			if y%2 == 1 {
				fy = cy + 1
			}
			fy = min(max(fy, 0), ch-1)
			far := plane[c0+fy*s.CStride : c0+fy*s.CStride+cw]
			for i := range colsum {
				colsum[i] = 3*int32(row[i]) + int32(far[i])
			}
		}
		switch {
		case hs == 1 && vs == 1:
			copy(dst, row[:w])
		case hs == 1 && vs == 2: // h1v2: (colsum + bias) >> 2, bias 1 above, 2 below
			bias := int32(1 + y%2)
			for x := 0; x < w; x++ {
				dst[x] = uint8((colsum[x] + bias) >> 2)
			}
		case hs == 2 && vs == 1: // h2v1: (3·c[i] + c[i∓1] + 1 or 2) >> 2
			for x := 0; x < w; x++ {
				i := x / 2
				var nb int32
				bias := int32(1)
				if x%2 == 0 {
					nb = int32(row[max(i-1, 0)])
				} else {
					nb, bias = int32(row[min(i+1, cw-1)]), 2
				}
				dst[x] = uint8((3*int32(row[i]) + nb + bias) >> 2)
			}
		default: // h2v2: (3·colsum[i] + colsum[i∓1] + 8 or 7) >> 4
			for x := 0; x < w; x++ {
				i := x / 2
				var nb int32
				bias := int32(8)
				if x%2 == 0 {
					nb = colsum[max(i-1, 0)]
				} else {
					nb, bias = colsum[min(i+1, cw-1)], 7
				}
				dst[x] = uint8((3*colsum[i] + nb + bias) >> 4)
			}
		}
	}
	for y := 0; y < h; y++ {
		upRow(s.Cb, y, cbUp)
		upRow(s.Cr, y, crUp)
		yrow := s.Y[s.YOffset(b.Min.X, b.Min.Y+y):]
		jpegdec.YCbCrToRGB(m.Pix[3*w*y:3*w*(y+1)], yrow, cbUp, crUp)
	}
}
