package jpegdec

// block holds one 8×8 block of DCT coefficients in natural (row-major)
// order, or a quantization table.
type block [blockSize]int32

const blockSize = 8 * 8

// The inverse DCT of libjpeg's JDCT_ISLOW (jidctint.c, jpeg_idct_islow),
// the method PIL asks for: the Loeffler–Ligtenberg–Moschytz algorithm in
// integers, constants with CONST_BITS = 13 fractional bits, the column pass
// keeping PASS1_BITS = 2 extra bits. Every step, rounding included
// (DESCALE(x, n) = (x + 2^(n-1)) >> n, arithmetic shift), is libjpeg's, so
// the output is libjpeg's bit for bit.
const (
	constBits = 13
	pass1Bits = 2

	fix0_298631336 = 2446  // FIX(0.298631336)
	fix0_390180644 = 3196  // FIX(0.390180644)
	fix0_541196100 = 4433  // FIX(0.541196100)
	fix0_765366865 = 6270  // FIX(0.765366865)
	fix0_899976223 = 7373  // FIX(0.899976223)
	fix1_175875602 = 9633  // FIX(1.175875602)
	fix1_501321110 = 12299 // FIX(1.501321110)
	fix1_847759065 = 15137 // FIX(1.847759065)
	fix1_961570560 = 16069 // FIX(1.961570560)
	fix2_053119869 = 16819 // FIX(2.053119869)
	fix2_562915447 = 20995 // FIX(2.562915447)
	fix3_072711026 = 25172 // FIX(3.072711026)
)

// idct dequantizes the coefficients of b by q (both in natural order),
// inverts the DCT and writes the 8×8 samples, level-shifted by 128, to
// dst (rows stride apart).
//
// The final clamp to [0, 255] saturates, as libjpeg-turbo's SIMD IDCTs
// (SSE2, AVX2, NEON: what PIL runs on x86-64 and ARM) do; its C code
// instead indexes a range-limit table with the value modulo 1024, which
// differs only for values beyond ±512 that no sane encoder produces.
// Intermediate sums use int (64 bits here), like libjpeg's JLONG.
func idct(b *block, q *block, dst []byte, stride int) {
	var ws [blockSize]int32 // libjpeg's workspace, in columns

	// Pass 1: columns from input, into the workspace, scaled up by
	// 2^PASS1_BITS (and by sqrt(8) against a true IDCT).
	for col := range 8 {
		// Array views of column col (elements col, col+8, ..., col+56),
		// so that the indexing below needs no bounds checks.
		in := (*[57]int32)(b[col:])
		qt := (*[57]int32)(q[col:])
		wc := (*[57]int32)(ws[col:])
		if in[8] == 0 && in[16] == 0 && in[24] == 0 && in[32] == 0 &&
			in[40] == 0 && in[48] == 0 && in[56] == 0 {
			// AC terms all zero: the full computation gives the same.
			dc := in[0] * qt[0] << pass1Bits
			wc[0], wc[8], wc[16], wc[24], wc[32], wc[40], wc[48], wc[56] = dc, dc, dc, dc, dc, dc, dc, dc
			continue
		}
		// Even part: the rotator is sqrt(2)·c(-6).
		z2 := int(in[16]) * int(qt[16])
		z3 := int(in[48]) * int(qt[48])
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 - z3*fix1_847759065
		tmp3 := z1 + z2*fix0_765366865

		z2 = int(in[0]) * int(qt[0])
		z3 = int(in[32]) * int(qt[32])
		tmp0 := (z2 + z3) << constBits
		tmp1 := (z2 - z3) << constBits

		tmp10 := tmp0 + tmp3
		tmp13 := tmp0 - tmp3
		tmp11 := tmp1 + tmp2
		tmp12 := tmp1 - tmp2

		// Odd part: i0..i3 are y7, y5, y3, y1.
		tmp0 = int(in[56]) * int(qt[56])
		tmp1 = int(in[40]) * int(qt[40])
		tmp2 = int(in[24]) * int(qt[24])
		tmp3 = int(in[8]) * int(qt[8])

		z1 = tmp0 + tmp3
		z2 = tmp1 + tmp2
		z3 = tmp0 + tmp2
		z4 := tmp1 + tmp3
		z5 := (z3 + z4) * fix1_175875602

		tmp0 *= fix0_298631336
		tmp1 *= fix2_053119869
		tmp2 *= fix3_072711026
		tmp3 *= fix1_501321110
		z1 *= -fix0_899976223
		z2 *= -fix2_562915447
		z3 = z3*-fix1_961570560 + z5
		z4 = z4*-fix0_390180644 + z5

		tmp0 += z1 + z3
		tmp1 += z2 + z4
		tmp2 += z2 + z3
		tmp3 += z1 + z4

		const sh, rnd = constBits - pass1Bits, 1 << (constBits - pass1Bits - 1)
		wc[0] = int32((tmp10 + tmp3 + rnd) >> sh)
		wc[56] = int32((tmp10 - tmp3 + rnd) >> sh)
		wc[8] = int32((tmp11 + tmp2 + rnd) >> sh)
		wc[48] = int32((tmp11 - tmp2 + rnd) >> sh)
		wc[16] = int32((tmp12 + tmp1 + rnd) >> sh)
		wc[40] = int32((tmp12 - tmp1 + rnd) >> sh)
		wc[24] = int32((tmp13 + tmp0 + rnd) >> sh)
		wc[32] = int32((tmp13 - tmp0 + rnd) >> sh)
	}

	// Pass 2: rows from the workspace to the output, descaled by 8 and by
	// 2^PASS1_BITS.
	for row := range 8 {
		w := ws[8*row : 8*row+8 : 8*row+8]
		out := dst[row*stride : row*stride+8 : row*stride+8]
		if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0 {
			v := clampSample((int(w[0]) + 1<<(pass1Bits+2)) >> (pass1Bits + 3))
			for x := range out {
				out[x] = v
			}
			continue
		}
		z2 := int(w[2])
		z3 := int(w[6])
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 - z3*fix1_847759065
		tmp3 := z1 + z2*fix0_765366865

		tmp0 := (int(w[0]) + int(w[4])) << constBits
		tmp1 := (int(w[0]) - int(w[4])) << constBits

		tmp10 := tmp0 + tmp3
		tmp13 := tmp0 - tmp3
		tmp11 := tmp1 + tmp2
		tmp12 := tmp1 - tmp2

		tmp0 = int(w[7])
		tmp1 = int(w[5])
		tmp2 = int(w[3])
		tmp3 = int(w[1])

		z1 = tmp0 + tmp3
		z2 = tmp1 + tmp2
		z3 = tmp0 + tmp2
		z4 := tmp1 + tmp3
		z5 := (z3 + z4) * fix1_175875602

		tmp0 *= fix0_298631336
		tmp1 *= fix2_053119869
		tmp2 *= fix3_072711026
		tmp3 *= fix1_501321110
		z1 *= -fix0_899976223
		z2 *= -fix2_562915447
		z3 = z3*-fix1_961570560 + z5
		z4 = z4*-fix0_390180644 + z5

		tmp0 += z1 + z3
		tmp1 += z2 + z4
		tmp2 += z2 + z3
		tmp3 += z1 + z4

		const sh, rnd = constBits + pass1Bits + 3, 1 << (constBits + pass1Bits + 2)
		out[0] = clampSample((tmp10 + tmp3 + rnd) >> sh)
		out[7] = clampSample((tmp10 - tmp3 + rnd) >> sh)
		out[1] = clampSample((tmp11 + tmp2 + rnd) >> sh)
		out[6] = clampSample((tmp11 - tmp2 + rnd) >> sh)
		out[2] = clampSample((tmp12 + tmp1 + rnd) >> sh)
		out[5] = clampSample((tmp12 - tmp1 + rnd) >> sh)
		out[3] = clampSample((tmp13 + tmp0 + rnd) >> sh)
		out[4] = clampSample((tmp13 - tmp0 + rnd) >> sh)
	}
}

// clampSample level-shifts an IDCT output by 128 and clamps it to a byte.
func clampSample(v int) byte {
	v += 128
	if uint(v) <= 255 {
		return byte(v)
	}
	if v < 0 {
		return 0
	}
	return 255
}
