package jpegdec

// libjpeg's YCbCr -> RGB tables (jdcolor.c, build_ycc_rgb_table), with
// SCALEBITS 16 and FIX(x) = round(x · 2^16):
//
//	R = Y + ((FIX(1.40200)·(Cr-128) + 2^15) >> 16)
//	G = Y + ((-FIX(0.34414)·(Cb-128) + 2^15 - FIX(0.71414)·(Cr-128)) >> 16)
//	B = Y + ((FIX(1.77200)·(Cb-128) + 2^15) >> 16)
//
// each clamped to [0, 255], shifts arithmetic (floor).
var crR, cbB, crG, cbG [256]int32

func init() {
	const half = 1 << 15
	fix := func(x float64) int32 { return int32(x*(1<<16) + 0.5) }
	for i := range 256 {
		x := int32(i - 128)
		crR[i] = (fix(1.40200)*x + half) >> 16
		cbB[i] = (fix(1.77200)*x + half) >> 16
		crG[i] = -fix(0.71414) * x
		cbG[i] = -fix(0.34414)*x + half
	}
}

// rangeLimit[(v+256)&1023] is v clamped to [0, 255] for v in [-256, 767],
// which holds every sum below (libjpeg's sample_range_limit); the mask
// spares the bounds checks.
var rangeLimit [1024]byte

func init() {
	for i := range rangeLimit {
		rangeLimit[i] = byte(min(max(i-256, 0), 255))
	}
}

func clamp8(v int32) byte {
	return rangeLimit[(v+256)&1023]
}

// YCbCrToRGB converts one row of len(out)/3 pixels from YCbCr to RGB as
// libjpeg's ycc_rgb_convert does (the fixed-point tables above); package
// images uses it too, for image.YCbCr input.
func YCbCrToRGB(out, ys, cbs, crs []byte) {
	n := len(out) / 3
	ys, cbs, crs = ys[:n], cbs[:n], crs[:n]
	for x, yv := range ys {
		Y, cb, cr := int32(yv), cbs[x], crs[x]
		o := out[3*x : 3*x+3 : 3*x+3]
		o[0] = clamp8(Y + crR[cr])
		o[1] = clamp8(Y + (cbG[cb]+crG[cr])>>16)
		o[2] = clamp8(Y + cbB[cb])
	}
}

// ycckToCMYK converts one row as ycck_cmyk_convert does: the YCbCr part to
// RGB, inverted (C = 255 - R, clamped), K passed through.
func ycckToCMYK(out, ys, cbs, crs, ks []byte) {
	n := len(out) / 4
	ys, cbs, crs, ks = ys[:n], cbs[:n], crs[:n], ks[:n]
	for x, yv := range ys {
		Y, cb, cr := int32(yv), cbs[x], crs[x]
		o := out[4*x : 4*x+4 : 4*x+4]
		o[0] = clamp8(255 - (Y + crR[cr]))
		o[1] = clamp8(255 - (Y + (cbG[cb]+crG[cr])>>16))
		o[2] = clamp8(255 - (Y + cbB[cb]))
		o[3] = ks[x]
	}
}
