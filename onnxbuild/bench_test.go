package onnxbuild_test

import (
	"math/rand/v2"
	"testing"

	"github.com/munit-eval/munit-eval/onnxbuild"
)

// benchModel is a small encoder-decoder: 8 conv layers of 64 channels,
// about 0.3 M parameters (1.2 MB of float32 weights).
func benchModel() *onnxbuild.Model {
	r := rand.New(rand.NewPCG(1, 1))
	g := onnxbuild.NewGraph("bench")
	x := g.Input("image", -1, 3, -1, -1)
	ch := int64(3)
	for range 8 {
		w := g.RandConst("", r, onnxbuild.HeStd(int(ch)*9), 64, ch, 3, 3)
		b := g.Const("", []int64{64}, onnxbuild.Filled(64, 0))
		x = g.Relu(g.Conv(g.ReflectPad(x, 1), w, b, 1, 0))
		ch = 64
	}
	g.OpNamed("Tanh", []string{g.Conv(x, g.RandConst("", r, 0.01, 3, 64, 1, 1), "", 1, 0)}, nil, "translated")
	g.Output("translated", -1, 3, -1, -1)
	return onnxbuild.NewModel(g, map[string]string{"munit_eval.role": "generator"})
}

func BenchmarkMarshal(b *testing.B) {
	m := benchModel()
	var n int
	for b.Loop() {
		data, err := m.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		n = len(data)
	}
	b.SetBytes(int64(n))
}

func BenchmarkParse(b *testing.B) {
	data, err := benchModel().Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := onnxbuild.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
