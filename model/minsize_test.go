package model_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/onnxbuild"
)

// TestTooSmallImage runs models whose reflection padding limits the image
// size on too small an image: the error is a TooSmallError with the
// smallest side the model takes, worked out here by hand: a first reflect
// Pad of 3 needs sides >= 4; with an 8x8/8 average pool and a second
// reflect Pad of 1 after it, floor((H + 6 - 8) / 8) + 1 >= 2, so H >= 10.
func TestTooSmallImage(t *testing.T) {
	initORT(t)
	dir := t.TempDir()
	build := func(name string, deep bool) string {
		g := onnxbuild.NewGraph(name)
		x := g.Input("image", -1, 3, -1, -1)
		y := g.Op("Pad", []string{x, g.Ints(0, 0, 3, 3, 0, 0, 3, 3)}, onnxbuild.Attrs{"mode": "reflect"})
		if deep {
			y = g.Op("AveragePool", []string{y}, onnxbuild.Attrs{"kernel_shape": []int64{8, 8}, "strides": []int64{8, 8}})
			y = g.Op("Pad", []string{y, g.Ints(0, 0, 1, 1, 0, 0, 1, 1)}, onnxbuild.Attrs{"mode": "reflect"})
		}
		g.OpNamed("Tanh", []string{y}, nil, "translated")
		g.Output("translated", -1, 3, -1, -1)
		p := filepath.Join(dir, name+".onnx")
		if err := onnxbuild.NewModel(g, genMeta("0")).WriteFile(p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name string
		deep bool
		side int64
		min  int
	}{
		{"first pad", false, 1, 4},
		{"first pad 3x3", false, 3, 4},
		{"deep pad", true, 5, 10},
	} {
		s, err := model.Open(build(c.name, c.deep), model.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Run(map[string]model.Tensor{"image": {Shape: []int64{2, 3, c.side, c.side}, Data: make([]float32, 6*c.side*c.side)}})
		s.Close()
		var ts *model.TooSmallError
		if !errors.As(err, &ts) || ts.Min != c.min || ts.H != int(c.side) {
			t.Fatalf("%s: %v, want a TooSmallError with minimum %d", c.name, err, c.min)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("needs images of at least %dx%d, got %dx%d", c.min, c.min, c.side, c.side)) {
			t.Fatalf("%s: message %q", c.name, err)
		}
	}
}
