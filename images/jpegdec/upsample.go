package jpegdec

// How a component is brought to the image's size, as libjpeg-turbo's
// jinit_upsampler (jdsample.c) chooses with fancy upsampling on (PIL's
// default): hr × vr is the expansion (largest sampling factor over the
// component's).
const (
	upFull      = iota // 1×1: the plane's row itself
	upH2V1Fancy        // 2×1, plane wider than 2 samples: triangle filter across
	upH1V2Fancy        // 1×2: triangle filter down
	upH2V2Fancy        // 2×2, plane wider than 2 samples: both
	upReplicate        // anything else (and 2×1, 2×2 on planes ≤ 2 wide): copies
)

// upsampler produces one component's rows at the image's size.
type upsampler struct {
	c      *component
	kind   int
	hr, vr int
	w      int
	stride int
	buf    []byte  // the output row (2·dw ≥ w for the fancy ones)
	colsum []int32 // h2v2: 3·nearer + farther row, per input column
}

func newUpsampler(c *component, hr, vr, w int) *upsampler {
	u := &upsampler{c: c, hr: hr, vr: vr, w: w, stride: 8 * c.bstride}
	switch {
	case hr == 1 && vr == 1:
		u.kind = upFull
	case hr == 2 && vr == 1 && c.dw > 2:
		u.kind = upH2V1Fancy
	case hr == 1 && vr == 2:
		u.kind = upH1V2Fancy
	case hr == 2 && vr == 2 && c.dw > 2:
		u.kind = upH2V2Fancy
		u.colsum = make([]int32, c.dw)
	default:
		u.kind = upReplicate
	}
	if u.kind != upFull {
		u.buf = make([]byte, max(w, hr*c.dw))
	}
	return u
}

// plane returns the component's sample row cy, cut to the dw samples that
// hold image data.
func (u *upsampler) plane(cy int) []byte {
	return u.c.pix[cy*u.stride : cy*u.stride+u.c.dw]
}

// neighbours returns, for output row y of a vertically doubled component,
// the nearer input row and the farther one: above for even rows, below for
// odd ones. At the top and bottom libjpeg's context rows repeat the first
// and last rows holding image data (jdmainct.c).
func (u *upsampler) neighbours(y int) (near, far []byte) {
	cy := y / 2
	fy := cy - 1
	if y%2 == 1 {
		fy = cy + 1
	}
	fy = min(max(fy, 0), u.c.dh-1)
	return u.plane(cy), u.plane(fy)
}

// row returns the component's output row y, at least w samples long.
func (u *upsampler) row(y int) []byte {
	switch u.kind {
	case upFull:
		return u.c.pix[y*u.stride : y*u.stride+u.w]
	case upH2V1Fancy:
		// h2v1_fancy_upsample: out = (3·nearer + farther + 1 or 2) >> 2,
		// the farther sample being on the left of even outputs and on the
		// right of odd ones; the edge samples are copied.
		in := u.plane(y)
		out := u.buf[:2*len(in)]
		n := len(in)
		out[0] = in[0]
		out[1] = byte((3*int32(in[0]) + int32(in[1]) + 2) >> 2)
		for i := 1; i < n-1; i++ {
			v := 3 * int32(in[i])
			out[2*i] = byte((v + int32(in[i-1]) + 1) >> 2)
			out[2*i+1] = byte((v + int32(in[i+1]) + 2) >> 2)
		}
		out[2*n-2] = byte((3*int32(in[n-1]) + int32(in[n-2]) + 1) >> 2)
		out[2*n-1] = in[n-1]
		return out
	case upH1V2Fancy:
		// h1v2_fancy_upsample: (3·nearer + farther + 1 above, 2 below) >> 2.
		near, far := u.neighbours(y)
		bias := int32(1 + y%2)
		out := u.buf[:len(near)]
		far = far[:len(near)]
		for i := range near {
			out[i] = byte((3*int32(near[i]) + int32(far[i]) + bias) >> 2)
		}
		return out
	case upH2V2Fancy:
		// h2v2_fancy_upsample: column sums 3·nearer + farther, then
		// (3·colsum + the neighbouring colsum + 8 left, 7 right) >> 4; at
		// the edges 4·colsum + 8 or 7.
		near, far := u.neighbours(y)
		cs := u.colsum[:len(near)]
		far = far[:len(near)]
		for i := range near {
			cs[i] = 3*int32(near[i]) + int32(far[i])
		}
		n := len(cs)
		out := u.buf[:2*n]
		out[0] = byte((4*cs[0] + 8) >> 4)
		out[1] = byte((3*cs[0] + cs[1] + 7) >> 4)
		for i := 1; i < n-1; i++ {
			v := 3 * cs[i]
			out[2*i] = byte((v + cs[i-1] + 8) >> 4)
			out[2*i+1] = byte((v + cs[i+1] + 7) >> 4)
		}
		out[2*n-2] = byte((3*cs[n-1] + cs[n-2] + 8) >> 4)
		out[2*n-1] = byte((4*cs[n-1] + 7) >> 4)
		return out
	}
	// int_upsample, h2v1_upsample, h2v2_upsample: each sample repeated hr
	// times across and vr times down.
	in := u.plane(y / u.vr)
	out := u.buf[:u.w]
	if u.hr == 1 {
		copy(out, in)
		return out
	}
	for x := range out {
		out[x] = in[x/u.hr]
	}
	return out
}
