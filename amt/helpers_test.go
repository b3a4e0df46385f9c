package amt

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/translate"
)

// fakeMethod describes a sample store to build for a test.
type fakeMethod struct {
	name string
	k    int
}

// writeStores writes an input folder of n 16×16 images and one sample store
// per method (manifest.json + <stem>/<k>.png, each sample a distinct
// pattern) under root, and returns the input folder and the store folders.
func writeStores(t testing.TB, root string, n int, methods []fakeMethod) (string, []Method) {
	t.Helper()
	inDir := filepath.Join(root, "inputs")
	if err := os.MkdirAll(inDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var inputs []translate.Input
	for i := range n {
		stem := fmt.Sprintf("in%03d", i)
		m := pattern(16, 16, i, 0, 0)
		p := filepath.Join(inDir, stem+".png")
		if err := images.WritePNG(p, m); err != nil {
			t.Fatal(err)
		}
		sum, err := images.HashFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, translate.Input{Index: i, Stem: stem, File: stem + ".png", SHA256: sum, Width: 16, Height: 16})
	}
	var out []Method
	for mi, fm := range methods {
		dir := filepath.Join(root, "store", fmt.Sprintf("m%d", mi))
		man := translate.Manifest{Schema: translate.ManifestSchema, Method: fm.name, LatentSource: translate.LatentsNone,
			Select: translate.SelectFirst, InputDir: inDir, SamplesPerInput: fm.k, Inputs: inputs}
		for i, in := range inputs {
			for k := range fm.k {
				p := filepath.Join(dir, in.Stem, fmt.Sprintf("%d.png", k))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := images.WritePNG(p, pattern(16, 16, i, mi+1, k)); err != nil {
					t.Fatal(err)
				}
				sum, _ := images.HashFile(p)
				man.Samples = append(man.Samples, translate.Sample{Input: i, K: k, SHA256: sum})
			}
		}
		b, _ := json.MarshalIndent(man, "", " ")
		if err := os.WriteFile(filepath.Join(dir, translate.ManifestName), b, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, Method{Name: fm.name, Store: dir})
	}
	return inDir, out
}

// pattern is a w×h image that differs for every (input, method, k).
func pattern(w, h, input, method, k int) *images.Image {
	m := images.New(w, h)
	for y := range h {
		for x := range w {
			o := 3 * (y*w + x)
			m.Pix[o] = uint8(17*x + 31*input)
			m.Pix[o+1] = uint8(13*y + 67*method)
			m.Pix[o+2] = uint8(7*(x+y) + 41*k)
		}
	}
	return m
}

// testBatch makes a batch under a temporary folder: reference MUNIT (K=3)
// and the given baselines.
func testBatch(t testing.TB, cfg MakeConfig, baselines ...fakeMethod) (string, *Key) {
	t.Helper()
	return testBatchN(t, 6, cfg, baselines...)
}

// testBatchN is testBatch with n inputs.
func testBatchN(t testing.TB, n int, cfg MakeConfig, baselines ...fakeMethod) (string, *Key) {
	t.Helper()
	root := t.TempDir()
	_, methods := writeStores(t, root, n, append([]fakeMethod{{"MUNIT", 3}}, baselines...))
	cfg.Methods = methods
	cfg.Out = filepath.Join(root, "batch")
	if cfg.Reference == "" {
		cfg.Reference = "MUNIT"
	}
	key, err := Make(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Make: %v", err)
	}
	return cfg.Out, key
}
