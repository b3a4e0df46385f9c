package rewrite_test

import (
	"fmt"
	"testing"

	"github.com/munit-eval/munit-eval/onnxbuild"
	"github.com/munit-eval/munit-eval/rewrite"
)

// FuzzApply feeds arbitrary bytes (seeded with real chains) to Apply: it
// must never panic, and whenever it rewrites, the result must parse and
// keep the model's inputs and outputs.
func FuzzApply(f *testing.F) {
	f.Add([]byte("not a model"))
	for i, c := range []chain{
		{scale: 2, mode: "reflect", pads: [4]int64{2, 2, 2, 2}, kh: 5, kw: 5, bias: true, torchPads: true, cin: 2, cout: 2},
		{scale: 4, mode: "constant", pads: [4]int64{1, 0, 2, 1}, value: 0.5, kh: 3, kw: 3, cin: 1, cout: 1},
		{scale: 2, kh: 3, kw: 3, convPads: [4]int64{1, 1, 1, 1}, cin: 1, cout: 2},
	} {
		f.Add(c.build(f, uint64(i)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := rewrite.Apply(data, rewrite.Options{})
		if err != nil || len(res.Sites) == 0 {
			return
		}
		before, err := onnxbuild.Parse(data)
		if err != nil {
			t.Fatalf("rewrote a model that does not parse: %v", err)
		}
		after, err := onnxbuild.Parse(res.Model)
		if err != nil {
			t.Fatalf("rewritten model does not parse: %v", err)
		}
		if fmt.Sprint(before.Inputs) != fmt.Sprint(after.Inputs) || fmt.Sprint(before.Outputs) != fmt.Sprint(after.Outputs) {
			t.Fatalf("inputs/outputs changed: %v %v -> %v %v", before.Inputs, before.Outputs, after.Inputs, after.Outputs)
		}
	})
}
