package translate

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munit-eval/munit-eval/model"
)

// fakeGen is a generator without onnxruntime: out = tanh(1.3 x + l_c) where
// x is the conditioning (the image, or 0.5 * image + 0.1 as "content" in the
// two-stage form) and l_c = sum_s latent[s] * (c+1) / (s+1) for channel c.
// Every output pixel depends on the input pixel and on the latent, so a
// sample computed from the wrong input or code shows in its bytes.
type fakeGen struct {
	latentDim int
	twoStage  bool
	method    string
	sha       string
	// delay is slept per translate call (for kill tests).
	delay time.Duration
	// nanIf makes the output NaN where the conditioning's first value
	// equals it (set to an input's top-left red value to poison it).
	nanIf *float32
	// badShape makes translate return one channel.
	badShape bool
	// fixedH, fixedW, hwMultiple go into the spec.
	fixedH, fixedW, hwMultiple int
	// rewrites is the number of graph rewrites the spec reports; nudge
	// moves every output's first value by a few grey levels (a rewrite
	// that rounds differently).
	rewrites int
	nudge    bool

	mu        sync.Mutex
	condRows  int // rows conditioned in total
	runs      int // translate calls
	batchSeen []int
}

func (g *fakeGen) spec() genSpec {
	method := g.method
	if method == "" {
		method = "Fake*"
	}
	sha := g.sha
	if sha == "" {
		sha = strings.Repeat("ab", 32)
	}
	models := map[string]FileRef{ModelGenerator: {File: "fake.onnx", SHA256: sha}}
	if g.twoStage {
		models = map[string]FileRef{ModelContentEncoder: {File: "enc.onnx", SHA256: sha}, ModelDecoder: {File: "dec.onnx", SHA256: strings.Repeat("cd", 32)}}
	}
	return genSpec{method: method, models: models, latentDim: g.latentDim, fixedH: g.fixedH, fixedW: g.fixedW, hwMultiple: g.hwMultiple, rewrites: g.rewrites, ortVersion: "fake"}
}

func (g *fakeGen) condition(imgs model.Tensor) (model.Tensor, error) {
	g.mu.Lock()
	g.condRows += int(imgs.Shape[0])
	g.mu.Unlock()
	if !g.twoStage {
		return imgs, nil
	}
	out := model.Tensor{Shape: imgs.Shape, Data: make([]float32, len(imgs.Data))}
	for i, v := range imgs.Data {
		out.Data[i] = 0.5*v + 0.1
	}
	return out, nil
}

func (g *fakeGen) translate(cond model.Tensor, latents []float32, _ map[string]model.Tensor) (model.Tensor, error) {
	g.mu.Lock()
	g.runs++
	g.batchSeen = append(g.batchSeen, int(cond.Shape[0]))
	g.mu.Unlock()
	if g.delay > 0 {
		time.Sleep(g.delay)
	}
	n, c, h, w := int(cond.Shape[0]), int(cond.Shape[1]), int(cond.Shape[2]), int(cond.Shape[3])
	if c != 3 {
		return model.Tensor{}, fmt.Errorf("fake: %d channels", c)
	}
	if len(latents) != n*g.latentDim {
		return model.Tensor{}, fmt.Errorf("fake: %d latent values for %d rows of %d", len(latents), n, g.latentDim)
	}
	oc := 3
	if g.badShape {
		oc = 1
	}
	out := model.Tensor{Shape: []int64{int64(n), int64(oc), int64(h), int64(w)}, Data: make([]float32, n*oc*h*w)}
	for b := 0; b < n; b++ {
		row := cond.Data[b*c*h*w : (b+1)*c*h*w]
		poison := g.nanIf != nil && row[0] == *g.nanIf
		for ch := 0; ch < oc; ch++ {
			var l float64
			for s := 0; s < g.latentDim; s++ {
				l += float64(latents[b*g.latentDim+s]) * float64(ch+1) / float64(s+1)
			}
			for p := 0; p < h*w; p++ {
				v := float32(math.Tanh(1.3*float64(row[ch*h*w+p]) + l))
				if poison {
					v = float32(math.NaN())
				}
				out.Data[((b*oc+ch)*h*w)+p] = v
			}
			if g.nudge && ch == 0 {
				out.Data[(b*oc)*h*w] += 0.05
			}
		}
	}
	return out, nil
}

func (g *fakeGen) close() error { return nil }

// writeInputs writes n random RGB PNGs of size w x h named in_00.png ... to
// a new folder and returns it.
func writeInputs(t testing.TB, n, w, h int, seed uint64) string {
	t.Helper()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(seed, 7))
	for i := 0; i < n; i++ {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				img.Set(x, y, color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255})
			}
		}
		writePNGFile(t, filepath.Join(dir, fmt.Sprintf("in_%02d.png", i)), img)
	}
	return dir
}

func writePNGFile(t testing.TB, path string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeConfig is a config that runs g over inputs into out.
func fakeConfig(g *fakeGen, inputs, out string) Config {
	cfg := DefaultConfig()
	cfg.gen = g
	cfg.Inputs = inputs
	cfg.Out = out
	cfg.Quiet = true
	cfg.manifestEvery = 0
	return cfg
}

// readTree returns every file under dir (relative path -> content).
func readTree(t testing.TB, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[rel] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// sameTree fails unless the two folders hold the same files with the same
// bytes.
func sameTree(t testing.TB, want, got string) {
	t.Helper()
	a, b := readTree(t, want), readTree(t, got)
	var diff []string
	for p, v := range a {
		if w, ok := b[p]; !ok {
			diff = append(diff, "missing "+p)
		} else if w != v {
			diff = append(diff, "differs "+p)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			diff = append(diff, "extra "+p)
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Fatalf("store %s differs from %s: %s", got, want, listSome(diff, 10))
	}
	if len(a) == 0 {
		t.Fatalf("store %s is empty", want)
	}
}

func mustRun(t testing.TB, cfg Config) *Summary {
	t.Helper()
	s, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func errContains(t testing.TB, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", subs)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("error %q does not contain %q", err, s)
		}
	}
}
