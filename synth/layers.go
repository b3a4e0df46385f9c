package synth

import (
	"math"
	"math/rand/v2"

	"github.com/munit-eval/munit-eval/onnxbuild"
)

// net adds layers to an ONNX graph the way PyTorch exports spell them
// (reflection Pad then Conv, InstanceNormalization, Gemm, Resize, ...),
// drawing any seeded weights from r.
type net struct {
	g *onnxbuild.Graph
	r *rand.Rand
}

func newNet(g *onnxbuild.Graph, seed, stream uint64) *net {
	return &net{g: g, r: rand.New(rand.NewPCG(seed, stream))}
}

// normal returns n draws from N(0, std^2).
func (n *net) normal(count int, std float64) []float32 {
	v := make([]float32, count)
	for i := range v {
		v[i] = float32(n.r.NormFloat64() * std)
	}
	return v
}

// conv2d adds [Pad(reflect)] + Conv with weight w [cout, cin, k, k] and bias
// b [cout] (nil: no bias), stride s and reflection padding pad on each side;
// zeroPad > 0 pads with zeros inside the Conv instead, as AlexNet does.
func (n *net) conv2d(x string, w []float32, cout, cin, k int, b []float32, s, pad, zeroPad int) string {
	if pad > 0 {
		p := int64(pad)
		x = n.g.Op("Pad", []string{x, n.g.Ints(0, 0, p, p, 0, 0, p, p)}, onnxbuild.Attrs{"mode": "reflect"})
	}
	in := []string{x, n.g.Const("", []int64{int64(cout), int64(cin), int64(k), int64(k)}, w)}
	if b != nil {
		in = append(in, n.g.Const("", []int64{int64(cout)}, b))
	}
	z := int64(zeroPad)
	return n.g.Op("Conv", in, onnxbuild.Attrs{
		"kernel_shape": []int64{int64(k), int64(k)},
		"strides":      []int64{int64(s), int64(s)},
		"pads":         []int64{z, z, z, z},
	})
}

// instanceNorm adds InstanceNormalization over c channels with a constant
// affine scale and zero bias (epsilon 1e-5, PyTorch's default).
func (n *net) instanceNorm(x string, c int, scale float32) string {
	s := make([]float32, c)
	for i := range s {
		s[i] = scale
	}
	return n.g.Op("InstanceNormalization",
		[]string{x, n.g.Const("", []int64{int64(c)}, s), n.g.Const("", []int64{int64(c)}, make([]float32, c))},
		onnxbuild.Attrs{"epsilon": float32(1e-5)})
}

func (n *net) relu(x string) string { return n.g.Op("Relu", []string{x}, nil) }

// gemm adds y = x W + b for x [N, in], W [in, out] (row-major), b [out].
func (n *net) gemm(x string, w []float32, in, out int, b []float32) string {
	if b == nil {
		b = make([]float32, out)
	}
	return n.g.Op("Gemm", []string{x,
		n.g.Const("", []int64{int64(in), int64(out)}, w),
		n.g.Const("", []int64{int64(out)}, b)}, nil)
}

// columns slices x [N, M] to columns [from, to) and reshapes them to
// [N, to-from, 1, 1], ready to broadcast over a feature map.
func (n *net) columns(x string, from, to int) string {
	s := n.g.Op("Slice", []string{x, n.g.Ints(int64(from)), n.g.Ints(int64(to)), n.g.Ints(1)}, nil)
	return n.g.Op("Unsqueeze", []string{s, n.g.Ints(2, 3)}, nil)
}

// adaIN adds adaptive instance normalisation (Huang & Belongie 2017) as
// MUNIT's exports spell it: InstanceNormalization without affine parameters,
// then gamma * x + beta with gamma, beta [N, C, 1, 1] computed per sample.
func (n *net) adaIN(x string, c int, gamma, beta string) string {
	y := n.instanceNorm(x, c, 1)
	return n.g.Op("Add", []string{n.g.Op("Mul", []string{y, gamma}, nil), beta}, nil)
}

// binomial returns the normalised 1-D binomial kernel of length k (k <= 7).
func binomial(k int) []float64 {
	row := []float64{1}
	for len(row) < k {
		next := make([]float64, len(row)+1)
		for i, v := range row {
			next[i] += v
			next[i+1] += v
		}
		row = next
	}
	sum := 0.0
	for _, v := range row {
		sum += v
	}
	for i := range row {
		row[i] /= sum
	}
	return row
}

// spatial returns a k x k kernel holding the outer product of the binomial
// kernel of length m (m odd, m <= k) with itself, centred.
func spatial(k, m int) []float64 {
	out := make([]float64, k*k)
	b := binomial(m)
	off := (k - m) / 2
	for i := range m {
		for j := range m {
			out[(i+off)*k+j+off] = b[i] * b[j]
		}
	}
	return out
}

// diagonal returns a [c, c, k, k] conv weight applying kernel ker to each
// channel separately (channel i to channel i), scaled by gain.
func diagonal(c, k int, ker []float64, gain float64) []float32 {
	w := make([]float32, c*c*k*k)
	for i := range c {
		for t, v := range ker {
			w[(i*c+i)*k*k+t] = float32(v * gain)
		}
	}
	return w
}

// addTo adds b to a elementwise (same length) and returns a.
func addTo(a, b []float32) []float32 {
	for i := range a {
		a[i] += b[i]
	}
	return a
}

func sqrt32(v float64) float32 { return float32(math.Sqrt(v)) }
