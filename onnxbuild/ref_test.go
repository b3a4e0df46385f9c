package onnxbuild_test

// Reference implementations of the operators, in plain float64 loops,
// written from the ONNX operator documentation (opset 17), independent of
// the builder. The ORT tests compare onnxruntime's output against them.

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// tens is a dense row-major tensor.
type tens struct {
	shape []int
	data  []float64
}

func newTens(shape ...int) *tens {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &tens{shape: append([]int(nil), shape...), data: make([]float64, n)}
}

func (t *tens) shape64() []int64 {
	s := make([]int64, len(t.shape))
	for i, d := range t.shape {
		s[i] = int64(d)
	}
	return s
}

func (t *tens) f32() []float32 {
	out := make([]float32, len(t.data))
	for i, v := range t.data {
		out[i] = float32(v)
	}
	return out
}

// randTens draws values uniformly from [lo, hi), rounded to float32 so that
// the Go reference and onnxruntime see exactly the same numbers.
func randTens(r *rand.Rand, lo, hi float64, shape ...int) *tens {
	t := newTens(shape...)
	for i := range t.data {
		t.data[i] = float64(float32(lo + (hi-lo)*r.Float64()))
	}
	return t
}

func strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// unravel writes the multi-index of flat index i into idx.
func unravel(i int, shape []int, idx []int) {
	for a := len(shape) - 1; a >= 0; a-- {
		idx[a] = i % shape[a]
		i /= shape[a]
	}
}

func mapT(x *tens, f func(float64) float64) *tens {
	y := newTens(x.shape...)
	for i, v := range x.data {
		y.data[i] = f(v)
	}
	return y
}

// broadcast applies f element-wise with numpy multidirectional broadcasting.
func broadcast(a, b *tens, f func(x, y float64) float64) *tens {
	rank := max(len(a.shape), len(b.shape))
	pad := func(s []int) []int {
		out := make([]int, rank)
		for i := range out {
			out[i] = 1
		}
		copy(out[rank-len(s):], s)
		return out
	}
	as, bs := pad(a.shape), pad(b.shape)
	out := make([]int, rank)
	for i := range out {
		switch {
		case as[i] == bs[i] || bs[i] == 1:
			out[i] = as[i]
		case as[i] == 1:
			out[i] = bs[i]
		default:
			panic(fmt.Sprintf("broadcast %v %v", a.shape, b.shape))
		}
	}
	y := newTens(out...)
	ast, bst := strides(as), strides(bs)
	idx := make([]int, rank)
	for i := range y.data {
		unravel(i, out, idx)
		ai, bi := 0, 0
		for d := range rank {
			if as[d] != 1 {
				ai += idx[d] * ast[d]
			}
			if bs[d] != 1 {
				bi += idx[d] * bst[d]
			}
		}
		y.data[i] = f(a.data[ai], b.data[bi])
	}
	return y
}

// conv2d: y[n,m,i,j] = b[m] + sum_{c,p,q} x[n,c,i*s-pad+p, j*s-pad+q] w[m,c,p,q]
// with zeros outside x.
func conv2d(x, w *tens, b []float64, s, pad int) *tens {
	n, c, h, wd := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	m, kh, kw := w.shape[0], w.shape[2], w.shape[3]
	oh, ow := (h+2*pad-kh)/s+1, (wd+2*pad-kw)/s+1
	y := newTens(n, m, oh, ow)
	for ni := range n {
		for mi := range m {
			for i := range oh {
				for j := range ow {
					acc := 0.0
					if b != nil {
						acc = b[mi]
					}
					for ci := range c {
						for p := range kh {
							for q := range kw {
								yy, xx := i*s-pad+p, j*s-pad+q
								if yy < 0 || yy >= h || xx < 0 || xx >= wd {
									continue
								}
								acc += x.data[((ni*c+ci)*h+yy)*wd+xx] * w.data[((mi*c+ci)*kh+p)*kw+q]
							}
						}
					}
					y.data[((ni*m+mi)*oh+i)*ow+j] = acc
				}
			}
		}
	}
	return y
}

// convTranspose2d scatters: every x[n,c,i,j] adds x*w[c,m,p,q] to
// y[n,m,i*s-pad+p, j*s-pad+q]; output size s*(in-1)+outPad+k-2*pad.
func convTranspose2d(x, w *tens, b []float64, s, pad, outPad int) *tens {
	n, c, h, wd := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	m, kh, kw := w.shape[1], w.shape[2], w.shape[3]
	oh, ow := s*(h-1)+outPad+kh-2*pad, s*(wd-1)+outPad+kw-2*pad
	y := newTens(n, m, oh, ow)
	for ni := range n {
		for mi := range m {
			for k := range oh * ow {
				y.data[(ni*m+mi)*oh*ow+k] = b[mi]
			}
		}
		for ci := range c {
			for i := range h {
				for j := range wd {
					v := x.data[((ni*c+ci)*h+i)*wd+j]
					for mi := range m {
						for p := range kh {
							for q := range kw {
								yy, xx := i*s-pad+p, j*s-pad+q
								if yy < 0 || yy >= oh || xx < 0 || xx >= ow {
									continue
								}
								y.data[((ni*m+mi)*oh+yy)*ow+xx] += v * w.data[((ci*m+mi)*kh+p)*kw+q]
							}
						}
					}
				}
			}
		}
	}
	return y
}

// instanceNorm: per (n,c), y = scale[c](x-mean)/sqrt(var+eps)+bias[c],
// var the biased variance over H*W.
func instanceNorm(x *tens, scale, bias []float64, eps float64) *tens {
	n, c := x.shape[0], x.shape[1]
	hw := len(x.data) / (n * c)
	y := newTens(x.shape...)
	for k := range n * c {
		seg := x.data[k*hw : (k+1)*hw]
		mean, v := 0.0, 0.0
		for _, e := range seg {
			mean += e
		}
		mean /= float64(hw)
		for _, e := range seg {
			v += (e - mean) * (e - mean)
		}
		v /= float64(hw)
		ci := k % c
		for i, e := range seg {
			y.data[k*hw+i] = scale[ci]*(e-mean)/math.Sqrt(v+eps) + bias[ci]
		}
	}
	return y
}

// batchNorm (inference): y = scale[c](x-mean[c])/sqrt(var[c]+eps)+bias[c].
func batchNorm(x *tens, scale, bias, mean, variance []float64, eps float64) *tens {
	c := x.shape[1]
	hw := len(x.data) / (x.shape[0] * c)
	y := newTens(x.shape...)
	for i, e := range x.data {
		ci := (i / hw) % c
		y.data[i] = scale[ci]*(e-mean[ci])/math.Sqrt(variance[ci]+eps) + bias[ci]
	}
	return y
}

// matmul multiplies the last two axes of a [.., M, K] by b [K, N].
func matmul(a, b *tens) *tens {
	r := len(a.shape)
	m, k, n := a.shape[r-2], a.shape[r-1], b.shape[1]
	outShape := append(append([]int(nil), a.shape[:r-2]...), m, n)
	y := newTens(outShape...)
	batches := len(a.data) / (m * k)
	for bi := range batches {
		for i := range m {
			for j := range n {
				acc := 0.0
				for p := range k {
					acc += a.data[(bi*m+i)*k+p] * b.data[p*n+j]
				}
				y.data[(bi*m+i)*n+j] = acc
			}
		}
	}
	return y
}

// transpose2 transposes a 2-D tensor.
func transpose2(a *tens) *tens {
	r, c := a.shape[0], a.shape[1]
	y := newTens(c, r)
	for i := range r {
		for j := range c {
			y.data[j*r+i] = a.data[i*c+j]
		}
	}
	return y
}

// reduce folds x over axes with sum, then divides by the count when mean.
func reduce(x *tens, axes []int, keep, mean bool) *tens {
	red := make([]bool, len(x.shape))
	for _, a := range axes {
		red[a] = true
	}
	var outShape, keepShape []int
	count := 1
	for i, d := range x.shape {
		if red[i] {
			count *= d
			keepShape = append(keepShape, 1)
			if keep {
				outShape = append(outShape, 1)
			}
		} else {
			keepShape = append(keepShape, d)
			outShape = append(outShape, d)
		}
	}
	y := newTens(outShape...)
	kst := strides(keepShape)
	idx := make([]int, len(x.shape))
	for i, v := range x.data {
		unravel(i, x.shape, idx)
		o := 0
		for a := range idx {
			if !red[a] {
				o += idx[a] * kst[a]
			}
		}
		y.data[o] += v
	}
	if mean {
		for i := range y.data {
			y.data[i] /= float64(count)
		}
	}
	return y
}

// reflectPad2d mirrors the spatial axes without repeating the edge:
// index -1 reads 1, index h reads h-2.
func reflectPad2d(x *tens, p int) *tens {
	n, c, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	refl := func(i, size int) int {
		if i < 0 {
			return -i
		}
		if i >= size {
			return 2*(size-1) - i
		}
		return i
	}
	oh, ow := h+2*p, w+2*p
	y := newTens(n, c, oh, ow)
	for k := range n * c {
		for i := range oh {
			for j := range ow {
				y.data[(k*oh+i)*ow+j] = x.data[(k*h+refl(i-p, h))*w+refl(j-p, w)]
			}
		}
	}
	return y
}

// resizeNearest: y[i,j] = x[floor(i/f), floor(j/f)] (asymmetric, floor).
func resizeNearest(x *tens, f int) *tens {
	n, c, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	y := newTens(n, c, h*f, w*f)
	for k := range n * c {
		for i := range h * f {
			for j := range w * f {
				y.data[(k*h*f+i)*w*f+j] = x.data[(k*h+i/f)*w+j/f]
			}
		}
	}
	return y
}

// resizeLinear: bilinear with half-pixel centres, source coordinate
// (o+0.5)/scale-0.5 clamped to [0, in-1]; output size floor(in*scale).
func resizeLinear(x *tens, scale float64) *tens {
	n, c, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	oh, ow := int(math.Floor(float64(h)*scale)), int(math.Floor(float64(w)*scale))
	src := func(o, in int) (int, int, float64) {
		s := (float64(o)+0.5)/scale - 0.5
		s = math.Max(0, math.Min(s, float64(in-1)))
		i0 := int(math.Floor(s))
		i1 := min(i0+1, in-1)
		return i0, i1, s - float64(i0)
	}
	y := newTens(n, c, oh, ow)
	for k := range n * c {
		for i := range oh {
			y0, y1, fy := src(i, h)
			for j := range ow {
				x0, x1, fx := src(j, w)
				at := func(yy, xx int) float64 { return x.data[(k*h+yy)*w+xx] }
				top := at(y0, x0)*(1-fx) + at(y0, x1)*fx
				bot := at(y1, x0)*(1-fx) + at(y1, x1)*fx
				y.data[(k*oh+i)*ow+j] = top*(1-fy) + bot*fy
			}
		}
	}
	return y
}

// concat joins a and b along axis.
func concat(axis int, a, b *tens) *tens {
	outShape := append([]int(nil), a.shape...)
	outShape[axis] += b.shape[axis]
	y := newTens(outShape...)
	outer := 1
	for _, d := range a.shape[:axis] {
		outer *= d
	}
	ai, bi := len(a.data)/outer, len(b.data)/outer
	for o := range outer {
		copy(y.data[o*(ai+bi):], a.data[o*ai:(o+1)*ai])
		copy(y.data[o*(ai+bi)+ai:], b.data[o*bi:(o+1)*bi])
	}
	return y
}

// softmax along axis: exp(x - max) / sum exp(x - max).
func softmax(x *tens, axis int) *tens {
	y := newTens(x.shape...)
	st := strides(x.shape)[axis]
	d := x.shape[axis]
	idx := make([]int, len(x.shape))
	for i := range x.data {
		unravel(i, x.shape, idx)
		if idx[axis] != 0 {
			continue
		}
		mx := math.Inf(-1)
		for k := range d {
			mx = math.Max(mx, x.data[i+k*st])
		}
		sum := 0.0
		for k := range d {
			sum += math.Exp(x.data[i+k*st] - mx)
		}
		for k := range d {
			y.data[i+k*st] = math.Exp(x.data[i+k*st]-mx) / sum
		}
	}
	return y
}

// maxPool2d: max over the k×k window at (i*s-pad, j*s-pad), padded cells
// ignored; output size (in+2*pad-k)/s+1.
func maxPool2d(x *tens, k, s, pad int) *tens {
	n, c, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	oh, ow := (h+2*pad-k)/s+1, (w+2*pad-k)/s+1
	y := newTens(n, c, oh, ow)
	for nc := range n * c {
		for i := range oh {
			for j := range ow {
				mx := math.Inf(-1)
				for p := range k {
					for q := range k {
						yy, xx := i*s-pad+p, j*s-pad+q
						if yy >= 0 && yy < h && xx >= 0 && xx < w {
							mx = math.Max(mx, x.data[(nc*h+yy)*w+xx])
						}
					}
				}
				y.data[(nc*oh+i)*ow+j] = mx
			}
		}
	}
	return y
}

// reshaped returns x's data under another shape.
func reshaped(x *tens, shape ...int) *tens {
	return &tens{shape: shape, data: append([]float64(nil), x.data...)}
}
