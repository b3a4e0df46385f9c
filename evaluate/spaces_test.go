package evaluate

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/onnxbuild"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/warning"
)

// pixelStats are the per-channel statistics of an image as the network
// sees it (x = v/127.5 − 1): mean x, max x, mean x², max −x, in float64.
type pixelStats struct{ mean, max, sq, negMax [3]float64 }

// writeNoise writes n w×w PNGs of seeded uniform pixels in [lo, 255] to dir
// and returns their statistics.
func writeNoise(t *testing.T, dir string, n, w int, seed uint64, lo int) []pixelStats {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 0))
	out := make([]pixelStats, n)
	for i := range n {
		img := image.NewRGBA(image.Rect(0, 0, w, w))
		s := &out[i]
		for c := range 3 {
			s.max[c], s.negMax[c] = -2, -2
		}
		for y := range w {
			for x := range w {
				var v [3]uint8
				for c := range 3 {
					v[c] = uint8(lo + r.IntN(256-lo))
					f := float64(v[c])/127.5 - 1
					s.mean[c] += f / float64(w*w)
					s.sq[c] += f * f / float64(w*w)
					s.max[c], s.negMax[c] = max(s.max[c], f), max(s.negMax[c], -f)
				}
				img.Set(x, y, color.RGBA{v[0], v[1], v[2], 255})
			}
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%02d.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return out
}

// poolModel writes a features-role model whose outputs are
// concatenations of per-channel pools of the image: "mean" (mean x),
// "max" (max x), "sq" (mean x²) and "negmax" (max −x).
func poolModel(t *testing.T, path string, outs map[string][]string, meta map[string]string) string {
	t.Helper()
	g := onnxbuild.NewGraph("pools")
	x := g.Input("image", -1, 3, -1, -1)
	pool := map[string]string{
		"mean":   g.Op("Flatten", []string{g.Op("GlobalAveragePool", []string{x}, nil)}, onnxbuild.Attrs{"axis": 1}),
		"max":    g.Op("Flatten", []string{g.Op("GlobalMaxPool", []string{x}, nil)}, onnxbuild.Attrs{"axis": 1}),
		"sq":     g.Op("Flatten", []string{g.Op("GlobalAveragePool", []string{g.Op("Mul", []string{x, x}, nil)}, nil)}, onnxbuild.Attrs{"axis": 1}),
		"negmax": g.Op("Flatten", []string{g.Op("GlobalMaxPool", []string{g.Op("Neg", []string{x}, nil)}, nil)}, onnxbuild.Attrs{"axis": 1}),
	}
	for _, name := range []string{"features", "spatial"} {
		parts := outs[name]
		if len(parts) == 0 {
			continue
		}
		var in []string
		for _, p := range parts {
			in = append(in, pool[p])
		}
		g.Identity(g.Op("Concat", in, onnxbuild.Attrs{"axis": 1}), name)
		g.Output(name, -1, int64(3*len(parts)))
	}
	m := map[string]string{model.MetaRole: "features"}
	for k, v := range meta {
		m[k] = v
	}
	if err := onnxbuild.NewModel(g, m).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// rowsOf are the statistics' rows: the concatenation of the named pools.
func rowsOf(st []pixelStats, parts ...string) [][]float64 {
	out := make([][]float64, len(st))
	for i, s := range st {
		for _, p := range parts {
			v := map[string][3]float64{"mean": s.mean, "max": s.max, "sq": s.sq, "negmax": s.negMax}[p]
			out[i] = append(out[i], v[:]...)
		}
	}
	return out
}

// TestFeatureSpaces: one evaluation computes FID with one features model,
// sFID on that model's spatial output, and FD and CMMD with a second
// model named for them (models.metric_features), each equal to the
// metric's formula on the features computed from the images' pixels in
// Go (planted models: per-channel pools), to 1e-6 relative (float32
// network outputs against float64 pools); each document names both
// models and FD its space.
func TestFeatureSpaces(t *testing.T) {
	if err := model.Init(""); err != nil {
		t.Fatalf("onnxruntime not available (run make setup): %v", err)
	}
	dir := t.TempDir()
	samples := writeNoise(t, filepath.Join(dir, "samples"), 14, 8, 1, 0)
	real := writeNoise(t, filepath.Join(dir, "real"), 17, 8, 2, 40)
	inc := poolModel(t, filepath.Join(dir, "inc.onnx"), map[string][]string{"features": {"mean"}, "spatial": {"max", "sq"}}, nil)
	dino := poolModel(t, filepath.Join(dir, "dino.onnx"), map[string][]string{"features": {"sq", "negmax"}},
		map[string]string{"munit_eval.config": `{"arch": "toy_vit", "preprocess": "dgm-eval"}`, model.MetaPreprocess: "dgm-eval"})
	p := DefaultProtocol()
	p.Size = 0
	pl := Plan{Protocol: p, Metrics: []string{"fid", "sfid", "fd", "cmmd"}, NoCache: true,
		Models:   ModelFiles{Features: inc, Metric: map[string]string{"fd": dino, "cmmd": dino}},
		Datasets: []Dataset{{Name: "toy", Real: filepath.Join(dir, "real"), Store: filepath.Join(dir, "store"), Methods: []Source{{Samples: filepath.Join(dir, "samples")}}}}}
	out, err := Run(context.Background(), pl)
	if err != nil {
		t.Fatal(err)
	}
	doc := out.Docs[0]
	want := func(x, y [][]float64) float64 {
		v, err := metrics.FID(x, y)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	wantCMMD, err := metrics.CMMD(rowsOf(samples, "sq", "negmax"), rowsOf(real, "sq", "negmax"), metrics.DefaultCMMDSigma)
	if err != nil {
		t.Fatal(err)
	}
	var sfid, fd registry.FD
	var cm registry.CMMD
	for key, v := range map[string]any{"sfid": &sfid, "fd": &fd, "cmmd": &cm} {
		if ok, err := doc.Metrics.GetExtra(key, v); !ok || err != nil {
			t.Fatalf("no %s (%v)", key, err)
		}
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"fid", doc.Metrics.FID.Value, want(rowsOf(samples, "mean"), rowsOf(real, "mean"))},
		{"sfid", sfid.Value, want(rowsOf(samples, "max", "sq"), rowsOf(real, "max", "sq"))},
		{"fd", fd.Value, want(rowsOf(samples, "sq", "negmax"), rowsOf(real, "sq", "negmax"))},
		{"cmmd", cm.Value, wantCMMD},
	} {
		if math.Abs(c.got-c.want) > 1e-6*c.want || c.want <= 0 {
			t.Errorf("%s %.10g, want %.10g from the pixels", c.name, c.got, c.want)
		}
	}
	if sfid.FeatureDim != 6 || fd.FeatureDim != 6 || doc.Metrics.FID.FeatureDim != 3 || fd.Model != "toy_vit" || fd.Preprocess != "dgm-eval" || sfid.Model != "inc" {
		t.Errorf("fragments: sfid %+v, fd %+v", sfid, fd)
	}
	if doc.Models[results.ModelFeatures].File != "inc.onnx" || doc.Models["features.fd"].File != "dino.onnx" || doc.Models["features.cmmd"].File != "dino.onnx" {
		t.Errorf("models %+v", doc.Models)
	}

	// FD against fid-stats' statistics of its own model is FD against the
	// real folder (to 1e-9 relative); statistics of another features model
	// are refused, naming the file.
	for _, m := range []string{dino, inc} {
		g, err := Stats(context.Background(), Plan{Protocol: p, Models: ModelFiles{Features: m}, NoCache: true}, filepath.Join(dir, "real"), "")
		if err != nil {
			t.Fatal(err)
		}
		npz := filepath.Join(dir, filepath.Base(m)+".npz")
		if err := WriteStats(npz, g); err != nil {
			t.Fatal(err)
		}
		sp := pl
		sp.Metrics, sp.Datasets = []string{"fd"}, []Dataset{pl.Datasets[0]}
		sp.Datasets[0].Real, sp.Datasets[0].RealStats = "", npz
		if m == inc {
			// cmmd reads dino's space first and takes no statistics; fd,
			// in the same space, still checks them.
			sp.Metrics = []string{"cmmd", "fd"}
			if _, err := Run(context.Background(), sp); err == nil || !strings.Contains(err.Error(), npz) || !strings.Contains(err.Error(), "features model (sha256)") {
				t.Errorf("fd against the statistics of another model: %v", err)
			}
			// FID takes inc's statistics; CMMD in dino's space says it
			// needs the real features instead of refusing the run.
			sp.Metrics = []string{"fid", "cmmd"}
			out, err := Run(context.Background(), sp)
			if err != nil {
				t.Fatal(err)
			}
			d := out.Docs[0]
			if _, has := d.Metrics.Extra["cmmd"]; has || d.Metrics.FID == nil || math.Abs(d.Metrics.FID.Value-doc.Metrics.FID.Value) > 1e-9*doc.Metrics.FID.Value ||
				!slices.ContainsFunc(d.Warnings, func(w warning.Warning) bool { return w.Code == registry.CodeNoRealFeatures && w.Subject == "cmmd" }) {
				t.Errorf("fid and cmmd against inc's statistics: FID %+v, warnings %v", d.Metrics.FID, d.Warnings)
			}
			continue
		}
		out, err := Run(context.Background(), sp)
		var f registry.FD
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := out.Docs[0].Metrics.GetExtra("fd", &f); !ok || err != nil || math.Abs(f.Value-fd.Value) > 1e-9*fd.Value {
			t.Errorf("fd against statistics %+v (%v), against the folder %v", f, err, fd.Value)
		}
	}

	// A metric reading an output its model lacks, and a metric_features
	// key that reads no features model, are refused before any work.
	pl.Metrics, pl.Models = []string{"sfid"}, ModelFiles{Features: dino}
	if _, err := Run(context.Background(), pl); err == nil || !strings.Contains(err.Error(), "dino.onnx") || !strings.Contains(err.Error(), `"spatial"`) {
		t.Errorf("sfid on a model without spatial: %v", err)
	}
	pl.Metrics, pl.Models = []string{"fid"}, ModelFiles{Features: inc, Metric: map[string]string{"is": dino}}
	if _, err := Run(context.Background(), pl); err == nil || !strings.Contains(err.Error(), `"is"`) {
		t.Errorf("metric_features naming is: %v", err)
	}
}
