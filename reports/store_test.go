package reports

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"encoding/json"
	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/atomicfile"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/translate"
)

// solid returns a size x size image of one colour.
func solid(size int, r, g, b uint8) *images.Image {
	m := images.New(size, size)
	for i := 0; i < len(m.Pix); i += 3 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2] = r, g, b
	}
	return m
}

// testMethod describes one method folder of a test store.
type testMethod struct {
	name    string
	samples int
	latent  bool
	noise   bool // noise inputs (munit_eval.noise) and no latent
}

// makeStore writes an input folder of n images and a sample store with
// one folder per method, each sample a solid colour that encodes (method,
// input, k), with manifests that translate.OpenStore accepts.
func makeStore(t *testing.T, n, size int, methods []testMethod) (store, inputs string) {
	t.Helper()
	root := t.TempDir()
	inputs = filepath.Join(root, "inputs")
	store = filepath.Join(root, "store")
	var ins []translate.Input
	for i := 0; i < n; i++ {
		stem := fmt.Sprintf("in%02d", i)
		path := filepath.Join(inputs, stem+".png")
		if err := os.MkdirAll(inputs, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := images.WritePNG(path, solid(size, uint8(20*i), 200, 50)); err != nil {
			t.Fatal(err)
		}
		h, err := images.HashFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, translate.Input{Index: i, Stem: stem, File: stem + ".png", SHA256: h, Width: size, Height: size})
	}
	for mi, m := range methods {
		dirName, err := translate.MethodDir(m.name)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(store, dirName)
		man := translate.Manifest{Schema: translate.ManifestSchema, Method: m.name, LatentSource: translate.LatentsNone,
			Select: translate.SelectFirst, InputDir: inputs, SamplesPerInput: m.samples, Inputs: ins}
		if m.latent {
			man.LatentSource, man.LatentDim = translate.LatentsSeed, 2
		}
		if m.noise {
			man.Noise = []model.NoiseInput{{Input: "dropout_noise", Dist: model.NoiseUniform, Channels: 1, Stride: 4}}
		}
		for i := range ins {
			for k := 0; k < m.samples; k++ {
				path := filepath.Join(dir, ins[i].Stem, fmt.Sprintf("%d.png", k))
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := images.WritePNG(path, solid(size, uint8(40*mi), uint8(30*k), uint8(10*i))); err != nil {
					t.Fatal(err)
				}
				h, err := images.HashFile(path)
				if err != nil {
					t.Fatal(err)
				}
				s := translate.Sample{Input: i, K: k, SHA256: h}
				if m.latent {
					s.Latent = []float32{float32(k), float32(i)}
				}
				man.Samples = append(man.Samples, s)
			}
		}
		b, err := json.MarshalIndent(man, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := atomicfile.Write(filepath.Join(dir, translate.ManifestName), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return store, inputs
}
