package images

import (
	"fmt"
	"math"
)

// toFloat maps a uint8 v to v/127.5 - 1 evaluated in float32 arithmetic
// (the quotient rounded to float32, then the difference), as numpy's
// x.astype(float32)/127.5 - 1 and torchvision's ToTensor + Normalize(0.5,
// 0.5) compute it. Rounding once from float64 instead differs by one ulp for
// half of the 256 values; the parity fixtures agree with this table exactly.
var toFloat = func() (t [256]float32) {
	for v := range t {
		q := float32(v) / 127.5
		t[v] = q - 1
	}
	return t
}()

// ToTensor writes imgs into dst as one float32 NCHW batch [N, 3, H, W] with
// values in [-1, 1] (docs/models.md):
//
//	dst[((n·3 + c)·H + y)·W + x] = v/127.5 - 1,   v = channel c of pixel (x, y) of imgs[n]
//
// evaluated in float32 arithmetic exactly as numpy and PyTorch do, so the
// tensors are bit-identical to the reference pipelines' for the same pixels.
// All images must have the same size and len(dst) must be N·3·H·W.
func ToTensor(imgs []*Image, dst []float32) error {
	if len(imgs) == 0 {
		if len(dst) != 0 {
			return fmt.Errorf("images: tensor of length %d for no images", len(dst))
		}
		return nil
	}
	for i, m := range imgs {
		if m == nil {
			return fmt.Errorf("images: image %d of the batch is nil", i)
		}
		if len(m.Pix) != 3*m.W*m.H {
			return fmt.Errorf("images: image %d of the batch is %dx%d but holds %d bytes, not %d", i, m.W, m.H, len(m.Pix), 3*m.W*m.H)
		}
	}
	w, h := imgs[0].W, imgs[0].H
	for i, m := range imgs[1:] {
		if m.W != w || m.H != h {
			return fmt.Errorf("images: image %d of the batch is %dx%d, image 0 is %dx%d: a batch needs one size", i+1, m.W, m.H, w, h)
		}
	}
	plane := w * h
	if want := len(imgs) * 3 * plane; len(dst) != want {
		return fmt.Errorf("images: tensor length %d, want %d for %d images of 3x%dx%d", len(dst), want, len(imgs), h, w)
	}
	for n, m := range imgs {
		r := dst[3*n*plane : (3*n+1)*plane]
		g := dst[(3*n+1)*plane : (3*n+2)*plane]
		b := dst[(3*n+2)*plane : (3*n+3)*plane]
		pix := m.Pix[:3*plane]
		for i := range r {
			p := pix[3*i : 3*i+3 : 3*i+3]
			r[i], g[i], b[i] = toFloat[p[0]], toFloat[p[1]], toFloat[p[2]]
		}
	}
	return nil
}

// FromTensor turns one image tensor [3, h, w] (CHW, values nominally in
// [-1, 1]) back into 8-bit RGB (docs/models.md), in float64:
//
//	v = round(clamp((x + 1) · 127.5, 0, 255)),   round half away from zero
//
// A NaN anywhere is an error (a network that emits NaN is broken, and
// writing it as some colour would hide that); ±Inf clamp like any value.
func FromTensor(chw []float32, h, w int) (*Image, error) {
	if h < 1 || w < 1 {
		return nil, fmt.Errorf("images: tensor size %dx%d is empty", h, w)
	}
	plane := h * w
	if len(chw) != 3*plane {
		return nil, fmt.Errorf("images: tensor length %d, want 3x%dx%d = %d", len(chw), h, w, 3*plane)
	}
	m := New(w, h)
	for c := 0; c < 3; c++ {
		src := chw[c*plane : (c+1)*plane]
		for i, x := range src {
			v := (float64(x) + 1) * 127.5
			switch {
			case v != v:
				return nil, fmt.Errorf("images: tensor value at channel %d, y %d, x %d is NaN", c, i/w, i%w)
			case v <= 0:
				v = 0
			case v >= 255:
				v = 255
			default:
				v = math.Round(v)
			}
			m.Pix[3*i+c] = uint8(v)
		}
	}
	return m, nil
}
