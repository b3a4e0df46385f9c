package onnxbuild

import (
	"math"
	"math/rand/v2"
)

// RandNormal returns n values drawn from N(0, std²) with r (seed it with
// rand.NewPCG for reproducible weights).
func RandNormal(r *rand.Rand, std float64, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64() * std)
	}
	return out
}

// RandUniform returns n values drawn uniformly from [lo, hi) with r.
func RandUniform(r *rand.Rand, lo, hi float64, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(lo + (hi-lo)*r.Float64())
	}
	return out
}

// HeStd is the standard deviation sqrt(2/fanIn) of He et al.'s (ICCV 2015)
// initialisation for a layer followed by ReLU; for a convolution fanIn is
// inChannels*kH*kW.
func HeStd(fanIn int) float64 { return math.Sqrt(2 / float64(fanIn)) }

// Filled returns n copies of v (constant scales, biases).
func Filled(n int, v float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// RandConst adds a float32 initializer of the given shape drawn from
// N(0, std²) with r and returns its name ("" picks a fresh one).
func (g *Graph) RandConst(name string, r *rand.Rand, std float64, shape ...int64) string {
	n, ok := numElements(shape)
	if !ok {
		g.fail("initializer %q: negative dimension in %v", name, shape)
		n = 0
	}
	return g.Const(name, shape, RandNormal(r, std, int(n)))
}
