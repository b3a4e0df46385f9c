package pipeline

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/results"
)

// sgTree makes a StarGAN v2 folder layout with the given domains.
func sgTree(t *testing.T, dir string, domains ...string) {
	t.Helper()
	for _, d := range domains {
		for _, split := range []string{"train", "val"} {
			if err := os.MkdirAll(filepath.Join(dir, "afhq", split, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
}

const sgEval = `out: out
protocol: stargan-v2-reference
models:
  lpips: lpips.onnx
  features: cls.onnx
datasets:
  - name: afhq
    domains: afhq
    methods:
      - name: StarGANv2
        generator: g.onnx
        style_encoder: enc.onnx
      - name: latent
        generator: g.onnx
        mapping: dec.onnx
      - name: own
        generator: g.onnx
        style_encoder: enc.onnx
        references: in
        target_domain: "0"
`

// TestDomainsExpand: the official folders expand into eval.py's tasks, in
// its order (target-major over the sorted domains), each with val/<source>
// inputs, train/<target> real images, the target's index, and val/<target>
// references; a method's own references and target domain stay; the preset
// sets seed 777 and its metrics.
func TestDomainsExpand(t *testing.T) {
	dir := writeTree(t)
	sgTree(t, dir, "wild", "cat", "dog")
	c, err := Parse(filepath.Join(dir, "eval.yaml"), []byte(sgEval))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ name, inputs, real, trg string }{
		{"afhq.dog2cat", "val/dog", "train/cat", "0"}, {"afhq.wild2cat", "val/wild", "train/cat", "0"},
		{"afhq.cat2dog", "val/cat", "train/dog", "1"}, {"afhq.wild2dog", "val/wild", "train/dog", "1"},
		{"afhq.cat2wild", "val/cat", "train/wild", "2"}, {"afhq.dog2wild", "val/dog", "train/wild", "2"},
	}
	if len(c.Datasets) != len(want) {
		t.Fatalf("%d tasks, want %d", len(c.Datasets), len(want))
	}
	for i, w := range want {
		d := c.Datasets[i]
		trg := strings.TrimPrefix(w.real, "train/")
		if d.Name != w.name || d.Group != "afhq" || d.Task != strings.TrimPrefix(w.name, "afhq.") ||
			d.Inputs.Value != filepath.Join("afhq", w.inputs) || d.Real.Value != filepath.Join("afhq", w.real) {
			t.Fatalf("task %d: %+v, want %+v", i, d, w)
		}
		ref, lat, own := d.Methods[0], d.Methods[1], d.Methods[2]
		if ref.TargetDomain != w.trg || ref.References.Value != filepath.Join("afhq", "val", trg) || lat.TargetDomain != w.trg || lat.References.Value != "" {
			t.Fatalf("task %s methods: %+v / %+v", w.name, ref, lat)
		}
		if own.TargetDomain != "0" || own.References.Value != "in" {
			t.Fatalf("task %s: the method's own references and domain were replaced: %+v", w.name, own)
		}
		src := c.source(d, ref)
		if src.StyleEncoder != filepath.Join(dir, "enc.onnx") || src.References != filepath.Join(dir, "afhq", "val", trg) || src.TargetDomain != w.trg || src.Inputs != filepath.Join(dir, "afhq", w.inputs) {
			t.Fatalf("task %s source: %+v", w.name, src)
		}
	}
	if c.Seed != 777 || c.Protocol.Seed != 777 || c.Protocol.Preset != "stargan-v2-reference" || strings.Join(c.Metrics, ",") != "lpips,fid" {
		t.Fatalf("preset: seed %d, %+v, metrics %v", c.Seed, c.Protocol, c.Metrics)
	}
	c, err = Parse(filepath.Join(dir, "eval.yaml"), []byte(strings.Replace(sgEval, "out: out", "out: out\nseed: 5", 1)))
	if err != nil || c.Protocol.Seed != 5 {
		t.Fatalf("a given seed must override the preset's: %v", err)
	}
}

func TestDomainsErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"no val", sgEval, "afhq: no val folder"},
		{"one domain", sgEval, "val holds 1 domain folders"},
		{"no train", sgEval, "val/dog has no train/dog"},
		{"with inputs", strings.Replace(sgEval, "domains: afhq", "domains: afhq\n    inputs: in", 1), "drop inputs, real and real_stats"},
		{"mapping alone", strings.Replace(sgEval, "        generator: g.onnx\n        mapping", "        folder: baseline\n        mapping", 1), "style_encoder and mapping need a generator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t)
			switch tc.name {
			case "one domain":
				sgTree(t, dir, "cat")
			case "no train":
				sgTree(t, dir, "cat")
				os.MkdirAll(filepath.Join(dir, "afhq", "val", "dog"), 0o755)
			case "with inputs", "mapping alone":
				sgTree(t, dir, "cat", "dog")
			}
			_, err := Parse(filepath.Join(dir, "eval.yaml"), []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "eval.yaml") {
				t.Fatalf("got %v, want an error naming eval.yaml and %q", err, tc.want)
			}
		})
	}
}

// TestTaskMeans: the mean document of a domains dataset is the plain mean
// over tasks of the tasks' FID and LPIPS means (eval.py's
// FID_<mode>/mean and LPIPS_<mode>/mean), whatever each task's input count;
// the real-data rows and plain datasets take no part.
func TestTaskMeans(t *testing.T) {
	dir := writeTree(t)
	sgTree(t, dir, "cat", "dog")
	c, err := Parse(filepath.Join(dir, "eval.yaml"), []byte(strings.Replace(sgEval, "datasets:", "datasets:\n  - name: plain\n    inputs: in\n    real: real\n    methods:\n      - name: StarGANv2\n        generator: g.onnx", 1)))
	if err != nil {
		t.Fatal(err)
	}
	doc := func(ds, m string, fid, lp float64, inputs int) *results.Document {
		d := results.New(m, ds)
		d.Protocol.Preset, d.Protocol.NumInputs, d.Protocol.Inputs = "stargan-v2-reference", inputs, "afhq/val/x"
		d.Metrics.FID = &results.FID{Value: fid}
		d.Metrics.LPIPSDiversity = &results.Diversity{Mean: lp}
		return d
	}
	docs := []*results.Document{
		doc("afhq.dog2cat", "StarGANv2", 10, 0.4, 500), doc("afhq.dog2cat", results.MethodRealData, 0, 0.9, 100),
		doc("afhq.cat2dog", "StarGANv2", 30, 0.2, 3), doc("plain", "StarGANv2", 1000, 1, 5),
		doc("afhq.dog2cat", "latent", 5, 0.5, 500), doc("afhq.cat2dog", "latent", 7, 0.3, 500),
	}
	means, paths, err := c.taskMeans(docs)
	if err != nil {
		t.Fatal(err)
	}
	if len(means) != 2 || paths[0] != filepath.Join(dir, "out", "results", "afhq__StarGANv2.json") {
		t.Fatalf("%d documents at %v", len(means), paths)
	}
	for i, w := range []struct {
		method     string
		fid, lpips float64
	}{{"StarGANv2", 20, 0.3}, {"latent", 6, 0.4}} {
		m, tm := means[i], means[i].Metrics.TaskMean
		if m.Method != w.method || m.Dataset != "afhq" || m.Protocol.Preset != "stargan-v2-reference" || m.Protocol.Inputs != "" ||
			strings.Join(tm.Tasks, ",") != "dog2cat,cat2dog" || math.Abs(*tm.FIDMean-w.fid) > 1e-12 || math.Abs(*tm.LPIPSMean-w.lpips) > 1e-12 {
			t.Fatalf("mean %d: %+v %+v", i, m, tm)
		}
	}
	// The document reads back under the schema's checks, and a mean that
	// is not its values' mean is refused.
	b, _ := results.Marshal(means[0])
	if _, err := results.Parse("afhq__StarGANv2.json", b); err != nil {
		t.Fatal(err)
	}
	*means[0].Metrics.TaskMean.FIDMean = 21
	if err := results.Validate("x", means[0]); err == nil || !strings.Contains(err.Error(), "task_mean.fid_mean") {
		t.Fatalf("a wrong mean: %v", err)
	}
}
