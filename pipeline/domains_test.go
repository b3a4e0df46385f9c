package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
