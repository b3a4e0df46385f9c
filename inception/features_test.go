package inception

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/onnxbuild"
)

// TestFeatureExtractor: a model of role features (DINOv2, CLIP: features
// and no logits) opens, gives every image its features (here the channel
// means) and no logits, and says it has none.
func TestFeatureExtractor(t *testing.T) {
	if err := model.Init(""); err != nil {
		t.Skipf("onnxruntime not available (run `make setup`): %v", err)
	}
	g := onnxbuild.NewGraph("means")
	x := g.Input("image", -1, 3, -1, -1)
	p := g.Op("GlobalAveragePool", []string{x}, nil)
	g.OpNamed("Flatten", []string{p}, onnxbuild.Attrs{"axis": 1}, "features")
	g.Output("features", -1, 3)
	path := filepath.Join(t.TempDir(), "means.onnx")
	meta := map[string]string{"munit_eval.role": "features", "munit_eval.feature_dim": "3"}
	if err := onnxbuild.NewModel(g, meta).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	c, err := Open(path, model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.HasLogits() || !c.HasFeatures() {
		t.Fatalf("logits %v, features %v: want features alone", c.HasLogits(), c.HasFeatures())
	}
	img := &images.Image{W: 2, H: 2, Pix: []uint8{255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0}}
	out, err := c.Classify([]*images.Image{img})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1, -1, -1} // red in [-1, 1]
	if len(out) != 1 || out[0].Logits != nil || len(out[0].Features) != 3 {
		t.Fatalf("outputs %+v", out)
	}
	for i, v := range out[0].Features {
		if math.Abs(float64(v)-want[i]) > 1e-6 {
			t.Fatalf("features %v, want %v", out[0].Features, want)
		}
	}
}
