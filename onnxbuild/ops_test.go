package onnxbuild_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/onnxbuild"
)

// tol is the tolerance of every comparison against the Go references:
// |got - want| <= tol * max(|want|, 1). onnxruntime computes in float32, so
// sums of a few hundred terms of size ~1 stay well inside it.
const tol = 1e-5

func initORT(t testing.TB) {
	t.Helper()
	if err := model.Init(""); err != nil {
		t.Skipf("onnxruntime not available (run `make setup`): %v", err)
	}
}

// runModel writes m to a temporary file, opens it with package model and
// runs it on inputs, returning all outputs.
func runModel(t *testing.T, m *onnxbuild.Model, inputs map[string]*tens) map[string]model.Tensor {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.onnx")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	s, err := model.Open(path, model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in := map[string]model.Tensor{}
	for name, x := range inputs {
		in[name] = model.Tensor{Shape: x.shape64(), Data: x.f32()}
	}
	out, err := s.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// compare checks got against want within tol (see tol).
func compare(t *testing.T, what string, got model.Tensor, want *tens) {
	t.Helper()
	if !slices.Equal(got.Shape, want.shape64()) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, want.shape)
	}
	bad := 0
	for i, g := range got.Data {
		w := want.data[i]
		if d := math.Abs(float64(g) - w); !(d <= tol*math.Max(math.Abs(w), 1)) {
			if bad < 5 {
				t.Errorf("%s[%d] = %.8g, want %.8g (diff %.3g)", what, i, g, w, d)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values out of tolerance", what, bad, len(got.Data))
	}
}

// opCase is one operator test: a graph reading input "x" of shape in
// (values uniform in [lo, hi)) whose build returns the value to compare,
// and the Go reference computing the same from x.
type opCase struct {
	name   string
	in     []int
	lo, hi float64
	build  func(g *onnxbuild.Graph, x string) string
	ref    func(x *tens) *tens
	ops    []string // op types the model must contain (checked with Parse)
}

func cnst(g *onnxbuild.Graph, t *tens) string { return g.Const("", t.shape64(), t.f32()) }

func opCases() []opCase {
	r := rand.New(rand.NewPCG(17, 2018))
	w33 := randTens(r, -0.5, 0.5, 4, 3, 3, 3)
	b4 := randTens(r, -0.5, 0.5, 4)
	w11 := randTens(r, -1, 1, 5, 3, 1, 1)
	wt := randTens(r, -0.5, 0.5, 3, 2, 4, 4) // ConvTranspose weights [C,M,k,k]
	wt3 := randTens(r, -0.5, 0.5, 3, 2, 3, 3)
	b2 := randTens(r, -0.5, 0.5, 2)
	scale3 := randTens(r, 0.5, 1.5, 3)
	bias3 := randTens(r, -0.5, 0.5, 3)
	mean3 := randTens(r, -0.5, 0.5, 3)
	var3 := randTens(r, 0.2, 2, 3)
	bc := randTens(r, -1, 1, 3, 1, 1)
	full := randTens(r, -1, 1, 2, 3, 6, 5)
	pos := randTens(r, 0.5, 2, 3, 1, 5)
	wmm := randTens(r, -1, 1, 5, 4)
	wg := randTens(r, -1, 1, 6, 5) // Gemm B with transB: [N,K]
	bg := randTens(r, -1, 1, 6)
	extra := randTens(r, -1, 1, 2, 2, 6, 5)
	expo := randTens(r, 0.5, 3, 5)
	id := func(x *tens) *tens { return x }
	vals := func(t *tens) []float64 { return t.data }

	return []opCase{
		{name: "Conv/stride1pad1", in: []int{2, 3, 6, 5}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.Conv(x, cnst(g, w33), cnst(g, b4), 1, 1) },
			ref:   func(x *tens) *tens { return conv2d(x, w33, vals(b4), 1, 1) }, ops: []string{"Conv"}},
		{name: "Conv/stride2pad0/nobias", in: []int{2, 3, 7, 6}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.Conv(x, cnst(g, w33), "", 2, 0) },
			ref:   func(x *tens) *tens { return conv2d(x, w33, nil, 2, 0) }},
		{name: "Conv/1x1", in: []int{1, 3, 4, 4}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.Conv(x, cnst(g, w11), "", 1, 0) },
			ref:   func(x *tens) *tens { return conv2d(x, w11, nil, 1, 0) }},
		{name: "ConvTranspose/k4s2p1", in: []int{2, 3, 4, 5}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string {
				return g.ConvTranspose(x, cnst(g, wt), cnst(g, b2), 2, 1, 0)
			},
			ref: func(x *tens) *tens { return convTranspose2d(x, wt, vals(b2), 2, 1, 0) }, ops: []string{"ConvTranspose"}},
		{name: "ConvTranspose/k3s2p1op1", in: []int{1, 3, 3, 4}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string {
				return g.ConvTranspose(x, cnst(g, wt3), cnst(g, b2), 2, 1, 1)
			},
			ref: func(x *tens) *tens { return convTranspose2d(x, wt3, vals(b2), 2, 1, 1) }},
		{name: "InstanceNormalization", in: []int{2, 3, 6, 5}, lo: -2, hi: 3,
			build: func(g *onnxbuild.Graph, x string) string {
				return g.InstanceNorm(x, cnst(g, scale3), cnst(g, bias3), 1e-5)
			},
			ref: func(x *tens) *tens { return instanceNorm(x, vals(scale3), vals(bias3), float64(float32(1e-5))) }},
		{name: "BatchNormalization", in: []int{2, 3, 4, 5}, lo: -2, hi: 2,
			build: func(g *onnxbuild.Graph, x string) string {
				return g.BatchNorm(x, cnst(g, scale3), cnst(g, bias3), cnst(g, mean3), cnst(g, var3), 1e-3)
			},
			ref: func(x *tens) *tens {
				return batchNorm(x, vals(scale3), vals(bias3), vals(mean3), vals(var3), float64(float32(1e-3)))
			}},
		{name: "Relu", in: []int{2, 3, 4, 5}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.Relu(x) },
			ref:   func(x *tens) *tens { return mapT(x, func(v float64) float64 { return math.Max(v, 0) }) }},
		{name: "LeakyRelu", in: []int{2, 3, 4, 5}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.LeakyRelu(x, 0.2) },
			ref: func(x *tens) *tens {
				a := float64(float32(0.2))
				return mapT(x, func(v float64) float64 {
					if v < 0 {
						return a * v
					}
					return v
				})
			}},
		{name: "Tanh", in: []int{2, 3, 4, 5}, lo: -3, hi: 3,
			build: func(g *onnxbuild.Graph, x string) string { return g.Tanh(x) },
			ref:   func(x *tens) *tens { return mapT(x, math.Tanh) }},
		{name: "Sigmoid", in: []int{2, 7}, lo: -5, hi: 5,
			build: func(g *onnxbuild.Graph, x string) string { return g.Sigmoid(x) },
			ref:   func(x *tens) *tens { return mapT(x, func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }) }},
		{name: "Sqrt", in: []int{2, 3, 4}, lo: 0, hi: 4,
			build: func(g *onnxbuild.Graph, x string) string { return g.Sqrt(x) },
			ref:   func(x *tens) *tens { return mapT(x, math.Sqrt) }},
		{name: "Pow/scalar", in: []int{2, 3, 4}, lo: 0.1, hi: 3,
			build: func(g *onnxbuild.Graph, x string) string { return g.Pow(x, g.Scalar(2.5)) },
			ref:   func(x *tens) *tens { return mapT(x, func(v float64) float64 { return math.Pow(v, 2.5) }) },
			ops:   []string{"Pow"}},
		{name: "Pow/broadcast", in: []int{2, 3, 5}, lo: 0.1, hi: 2,
			build: func(g *onnxbuild.Graph, x string) string { return g.Pow(x, cnst(g, expo)) },
			ref:   func(x *tens) *tens { return broadcast(x, expo, math.Pow) }},
		{name: "Add/broadcast", in: []int{2, 3, 6, 5}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.Add(x, cnst(g, bc)) },
			ref:   func(x *tens) *tens { return broadcast(x, bc, func(a, b float64) float64 { return a + b }) }},
		{name: "Add/same", in: []int{2, 3, 6, 5}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.Add(x, cnst(g, full)) },
			ref:   func(x *tens) *tens { return broadcast(x, full, func(a, b float64) float64 { return a + b }) }},
		{name: "Mul/broadcast", in: []int{2, 3, 6, 5}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.Mul(x, cnst(g, bc)) },
			ref:   func(x *tens) *tens { return broadcast(x, bc, func(a, b float64) float64 { return a * b }) }},
		{name: "Sub/constant-first", in: []int{2, 3, 6, 5}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.Sub(cnst(g, bc), x) },
			ref:   func(x *tens) *tens { return broadcast(bc, x, func(a, b float64) float64 { return a - b }) }},
		{name: "Div/broadcast", in: []int{2, 3, 1, 5}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.Div(x, cnst(g, pos)) },
			ref:   func(x *tens) *tens { return broadcast(x, pos, func(a, b float64) float64 { return a / b }) }},
		{name: "MatMul/batched", in: []int{2, 3, 5}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.MatMul(x, cnst(g, wmm)) },
			ref:   func(x *tens) *tens { return matmul(x, wmm) }},
		{name: "Gemm/transB", in: []int{3, 5}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.Gemm(x, cnst(g, wg), cnst(g, bg), true) },
			ref: func(x *tens) *tens {
				return broadcast(matmul(x, transpose2(wg)), bg, func(a, b float64) float64 { return a + b })
			}},
		{name: "Gemm/nobias", in: []int{3, 6}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.Gemm(x, cnst(g, wg), "", false) },
			ref:   func(x *tens) *tens { return matmul(x, wg) }},
		{name: "ReduceMean/spatial-keep", in: []int{2, 3, 4, 5}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.ReduceMean(x, []int64{2, 3}, true) },
			ref:   func(x *tens) *tens { return reduce(x, []int{2, 3}, true, true) }},
		{name: "ReduceMean/axis1-drop", in: []int{2, 8}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.ReduceMean(x, []int64{1}, false) },
			ref:   func(x *tens) *tens { return reduce(x, []int{1}, false, true) }},
		{name: "ReduceSum/axis1-drop", in: []int{2, 3, 4, 5}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.ReduceSum(x, []int64{1}, false) },
			ref:   func(x *tens) *tens { return reduce(x, []int{1}, false, false) }},
		{name: "ReduceSum/negative-axes-keep", in: []int{2, 3, 4, 5}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.ReduceSum(x, []int64{-1, -2}, true) },
			ref:   func(x *tens) *tens { return reduce(x, []int{3, 2}, true, false) }},
		{name: "Pad/reflect", in: []int{2, 3, 5, 4}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.ReflectPad(x, 3) },
			ref:   func(x *tens) *tens { return reflectPad2d(x, 3) }, ops: []string{"Pad"}},
		{name: "Resize/nearest2", in: []int{2, 3, 3, 4}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.ResizeNearest(x, 2) },
			ref:   func(x *tens) *tens { return resizeNearest(x, 2) }, ops: []string{"Resize"}},
		{name: "Resize/linear-up2", in: []int{2, 3, 4, 5}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.ResizeLinear(x, 2) },
			ref:   func(x *tens) *tens { return resizeLinear(x, 2) }},
		{name: "Resize/linear-down2", in: []int{1, 2, 8, 6}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.ResizeLinear(x, 0.5) },
			ref:   func(x *tens) *tens { return resizeLinear(x, 0.5) }},
		{name: "Concat/axis1", in: []int{2, 3, 6, 5}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.Concat(1, x, cnst(g, extra)) },
			ref:   func(x *tens) *tens { return concat(1, x, extra) }},
		{name: "Reshape/keep0-infer", in: []int{2, 3, 4, 5}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.Reshape(x, 0, -1) },
			ref:   func(x *tens) *tens { return reshaped(x, 2, 60) }},
		{name: "Expand", in: []int{2, 1, 3}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.Expand(x, 1, 4, 3) },
			ref: func(x *tens) *tens {
				return broadcast(x, newTens(1, 4, 3), func(a, _ float64) float64 { return a })
			}},
		{name: "Softmax/axis1", in: []int{2, 5, 3}, lo: -3, hi: 3,
			build: func(g *onnxbuild.Graph, x string) string { return g.Softmax(x, 1) },
			ref:   func(x *tens) *tens { return softmax(x, 1) }},
		{name: "Softmax/last", in: []int{3, 10}, lo: -3, hi: 3,
			build: func(g *onnxbuild.Graph, x string) string { return g.Softmax(x, -1) },
			ref:   func(x *tens) *tens { return softmax(x, 1) }},
		{name: "GlobalAveragePool", in: []int{2, 3, 5, 4}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.GlobalAveragePool(x) },
			ref:   func(x *tens) *tens { return reduce(x, []int{2, 3}, true, true) }},
		{name: "MaxPool/k3s2p1", in: []int{2, 3, 7, 6}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.MaxPool(x, 3, 2, 1) },
			ref:   func(x *tens) *tens { return maxPool2d(x, 3, 2, 1) }},
		{name: "MaxPool/k2s2", in: []int{1, 2, 6, 6}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.MaxPool(x, 2, 2, 0) },
			ref:   func(x *tens) *tens { return maxPool2d(x, 2, 2, 0) }},
		{name: "Flatten", in: []int{2, 3, 2, 2}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return g.Flatten(x, 1) },
			ref:   func(x *tens) *tens { return reshaped(x, 2, 12) }},
		{name: "Clip", in: []int{2, 9}, lo: -2, hi: 2,
			build: func(g *onnxbuild.Graph, x string) string { return g.Clip(x, -0.5, 1) },
			ref: func(x *tens) *tens {
				return mapT(x, func(v float64) float64 { return math.Min(math.Max(v, -0.5), 1) })
			}},
		{name: "Identity", in: []int{2, 3}, lo: -1, hi: 1,
			build: func(g *onnxbuild.Graph, x string) string { return x },
			ref:   id},
	}
}

// TestOperators runs each operator helper through onnxruntime and compares
// the output with the plain-Go reference.
func TestOperators(t *testing.T) {
	initORT(t)
	r := rand.New(rand.NewPCG(5, 8))
	for _, c := range opCases() {
		t.Run(c.name, func(t *testing.T) {
			g := onnxbuild.NewGraph("op")
			shape := make([]int64, len(c.in))
			for i, d := range c.in {
				shape[i] = int64(d)
			}
			x := g.Input("x", shape...)
			g.Identity(c.build(g, x), "y")
			g.Output("y")
			m := onnxbuild.NewModel(g, nil)
			b, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			info, err := onnxbuild.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range c.ops {
				if !slices.Contains(info.OpTypes(), op) {
					t.Errorf("parsed op types %v lack %s", info.OpTypes(), op)
				}
			}
			in := randTens(r, c.lo, c.hi, c.in...)
			out := runModel(t, m, map[string]*tens{"x": in})
			compare(t, "y", out["y"], c.ref(in))
		})
	}
}
