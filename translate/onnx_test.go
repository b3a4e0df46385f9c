package translate

import (
	"context"
	"encoding/json"
	"github.com/munit-eval/munit-eval/internal/paritytest"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/onnxbuild"
	"github.com/munit-eval/munit-eval/synth"
)

// needORT skips the test when the onnxruntime library cannot be loaded.
func needORT(t testing.TB) {
	t.Helper()
	if err := model.Init(""); err != nil {
		t.Skipf("onnxruntime not available: %v", err)
	}
}

// parityDir returns the parity fixtures folder or skips the test.
func parityDir(t testing.TB) string { return paritytest.Dir(t) }

// generatorRefs is the part of generator_refs.json the tests read.
type generatorRefs struct {
	Inputs     []string `json:"inputs"`
	Generators map[string]struct {
		ONNX           string `json:"onnx"`
		StyleNPY       string `json:"style_npy"`
		TorchOutputNPY string `json:"torch_output_npy"`
	} `json:"generators"`
}

// parityInputs copies the reference inputs into a fresh folder (their
// sorted order is the reference's batch order) and returns it with the refs.
func parityInputs(t *testing.T, par string) (string, *generatorRefs) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(par, "generator_refs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var refs generatorRefs
	if err := json.Unmarshal(b, &refs); err != nil {
		t.Fatal(err)
	}
	in := t.TempDir()
	for j, rel := range refs.Inputs {
		data, err := os.ReadFile(filepath.Join(par, rel))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(in, filepath.Base(rel)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if j > 0 && filepath.Base(rel) < filepath.Base(refs.Inputs[j-1]) {
			t.Fatalf("reference inputs %v are not in sorted order", refs.Inputs)
		}
	}
	return in, &refs
}

// TestParity runs the parity generators through Run and compares the raw
// float outputs with PyTorch's (generator_refs.json: within 1e-3, the
// fixtures' stated tolerance; onnxruntime agrees within 2e-5) and the PNG
// samples with PyTorch's output quantised by docs/models.md's rule
// round(clamp((x+1)*127.5)) (within one grey level: a value within 1e-3 of
// a rounding boundary may round the other way). MUNIT gets the reference
// style codes through --latents ([4,8] reshaped to [4,1,8]); CycleGAN has
// none. Batch 1 on 2 threads and batch 3 (a partial last batch) on 1 thread
// must give byte-identical stores.
func TestParity(t *testing.T) {
	par := parityDir(t)
	needORT(t)
	in, refs := parityInputs(t, par)
	for _, name := range []string{"MUNIT", "CycleGAN"} {
		t.Run(name, func(t *testing.T) {
			ref := refs.Generators[name]
			want, err := images.ReadNPY(filepath.Join(par, ref.TorchOutputNPY))
			if err != nil {
				t.Fatal(err)
			}
			latents := ""
			if ref.StyleNPY != "" {
				style, err := images.ReadNPY(filepath.Join(par, ref.StyleNPY))
				if err != nil {
					t.Fatal(err)
				}
				style.Shape = []int{style.Shape[0], 1, style.Shape[1]}
				latents = filepath.Join(t.TempDir(), "style.npy")
				if err := images.WriteNPY(latents, style); err != nil {
					t.Fatal(err)
				}
			}
			var stores []string
			for _, batch := range []int{1, 3} {
				cfg := DefaultConfig()
				cfg.Generator, cfg.Latents = filepath.Join(par, ref.ONNX), latents
				cfg.Inputs, cfg.Out, cfg.Quiet, cfg.Batch, cfg.Threads = in, t.TempDir(), true, batch, 2
				cfg.Streams = 1 + batch/3 // batch 1: one two-threaded run; batch 3: two one-threaded runs
				got := map[int][]float32{}
				cfg.observe = func(i, k int, chw []float32, h, w int) {
					got[i] = append([]float32(nil), chw...)
				}
				s := mustRun(t, cfg)
				stores = append(stores, s.Store)
				per := 3 * 64 * 64
				var maxDiff float64
				for i := 0; i < 4; i++ {
					if len(got[i]) != per {
						t.Fatalf("input %d: %d output values, want %d", i, len(got[i]), per)
					}
					png, err := images.Load(filepath.Join(s.Store, stemOf(refs.Inputs[i]), "0.png"))
					if err != nil {
						t.Fatal(err)
					}
					for x := 0; x < per; x++ {
						w := float64(want.Data[i*per+x])
						maxDiff = max(maxDiff, math.Abs(float64(got[i][x])-w))
						c, p := x/(64*64), x%(64*64)
						q := math.Round(min(max((w+1)*127.5, 0), 255))
						if d := math.Abs(float64(png.Pix[3*p+c]) - q); d > 1 {
							t.Fatalf("input %d channel %d pixel %d: PNG %d, PyTorch %g quantises to %g", i, c, p, png.Pix[3*p+c], w, q)
						}
					}
				}
				if maxDiff > 1e-3 {
					t.Fatalf("batch %d: max |ORT - PyTorch| = %g, want <= 1e-3", batch, maxDiff)
				}
				t.Logf("batch %d: max |ORT - PyTorch| = %.3g", batch, maxDiff)
			}
			sameTree(t, stores[0], stores[1])
		})
	}
}

func stemOf(rel string) string {
	b := filepath.Base(rel)
	return b[:len(b)-len(filepath.Ext(b))]
}

// TestONNXNaNOutput builds a generator whose output is Log(image): any
// pixel below mid-grey (x < 0) gives NaN. The run must stop naming the
// input file and sample.
func TestONNXNaNOutput(t *testing.T) {
	needORT(t)
	g := onnxbuild.NewGraph("nan_gen")
	img := g.Input("image", -1, 3, -1, -1)
	g.OpNamed("Log", []string{img}, nil, "translated")
	g.Output("translated", -1, 3, -1, -1)
	b, err := onnxbuild.NewModel(g, map[string]string{"munit_eval.role": "generator", "munit_eval.method": "NaNGen", "munit_eval.latent_dim": "0"}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "nan.onnx")
	os.WriteFile(path, b, 0o644)

	in := t.TempDir()
	white := images.New(4, 4)
	for p := range white.Pix {
		white.Pix[p] = 255
	}
	images.WritePNG(filepath.Join(in, "a.png"), white)
	dark := images.New(4, 4)
	copy(dark.Pix, white.Pix)
	dark.Pix[3*5+1] = 10 // pixel (1, 1), green
	images.WritePNG(filepath.Join(in, "b.png"), dark)

	cfg := DefaultConfig()
	cfg.Generator, cfg.Inputs, cfg.Out, cfg.Quiet = path, in, t.TempDir(), true
	_, err = Run(context.Background(), cfg)
	errContains(t, err, "b.png, sample 0 is NaN at channel 1, pixel (1, 1)")
}

// TestONNXTwoStage runs the synthetic MUNIT as one graph and as content
// encoder + decoder over the same inputs and seed: the samples must agree
// within one grey level (the two forms are the same network cut in two, so
// only float rounding differs), and both must be batch-invariant.
func TestONNXTwoStage(t *testing.T) {
	needORT(t)
	models := t.TempDir()
	paths, err := synth.BuildModels(models, 1)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := synth.DomainA(3, 3)
	in := t.TempDir()
	for i, m := range a {
		images.WritePNG(filepath.Join(in, string(rune('a'+i))+".png"), m)
	}
	run := func(two bool, batch int) *Store {
		cfg := DefaultConfig()
		cfg.Generator = paths[synth.KeyMUNIT]
		if two {
			cfg.Generator, cfg.Decoder = paths[synth.KeyMUNITContent], paths[synth.KeyMUNITDecoder]
		}
		cfg.Inputs, cfg.Out, cfg.Quiet, cfg.Samples, cfg.Batch, cfg.Threads = in, t.TempDir(), true, 4, batch, 1
		s := mustRun(t, cfg)
		st, err := OpenStore(s.Store)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	one, two := run(false, 5), run(true, 5)
	if _, ok := two.Manifest().Models[ModelDecoder]; !ok {
		t.Fatal("two-stage manifest lacks the decoder")
	}
	for i := 0; i < 3; i++ {
		for k := 0; k < 4; k++ {
			x, _ := images.Load(one.SamplePath(i, k))
			y, _ := images.Load(two.SamplePath(i, k))
			for p := range x.Pix {
				if d := int(x.Pix[p]) - int(y.Pix[p]); d > 1 || d < -1 {
					t.Fatalf("input %d sample %d byte %d: single graph %d, two-stage %d", i, k, p, x.Pix[p], y.Pix[p])
				}
			}
		}
	}
	sameTree(t, two.Dir(), run(true, 3).Dir())
}

// TestONNXLatentRank4 builds a generator with a [N,3,1,1] style input,
// translated = Tanh(image + style), and checks every sample's pixels against
// the formula applied to the input and Latent(seed, i, k) computed here in
// float64, within one grey level (onnxruntime's float32 Tanh may land on the
// other side of a rounding boundary): the code of (seed, i, k) is the one
// the network was given, in the [N,S,1,1] layout.
func TestONNXLatentRank4(t *testing.T) {
	needORT(t)
	g := onnxbuild.NewGraph("style4")
	img := g.Input("image", -1, 3, -1, -1)
	z := g.Input("style", -1, 3, 1, 1)
	g.OpNamed("Tanh", []string{g.Add(img, z)}, nil, "translated")
	g.Output("translated", -1, 3, -1, -1)
	b, err := onnxbuild.NewModel(g, map[string]string{"munit_eval.role": "generator", "munit_eval.method": "Style4", "munit_eval.latent_dim": "3"}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "style4.onnx")
	os.WriteFile(path, b, 0o644)
	in := writeInputs(t, 3, 5, 4, 30)
	cfg := DefaultConfig()
	cfg.Generator, cfg.Inputs, cfg.Out, cfg.Quiet, cfg.Samples, cfg.Seed, cfg.Batch = path, in, t.TempDir(), true, 3, 77, 4
	s := mustRun(t, cfg)
	st, err := OpenStore(s.Store)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		src, _ := images.Load(st.InputPath(i))
		for k := 0; k < 3; k++ {
			zk := Latent(77, i, k, 3)
			got, _ := images.Load(st.SamplePath(i, k))
			for p := 0; p < 5*4; p++ {
				for c := 0; c < 3; c++ {
					x := float32(src.Pix[3*p+c])/127.5 - 1
					v := math.Tanh(float64(x + zk[c]))
					want := math.Round(min(max((v+1)*127.5, 0), 255))
					if d := math.Abs(float64(got.Pix[3*p+c]) - want); d > 1 {
						t.Fatalf("input %d sample %d pixel %d channel %d: %d, want %g", i, k, p, c, got.Pix[3*p+c], want)
					}
				}
			}
		}
	}
}

// TestONNXContract checks that a generator breaking the contract (a
// one-channel image input) is refused with model.Check's reason.
func TestONNXContract(t *testing.T) {
	needORT(t)
	g := onnxbuild.NewGraph("grey")
	img := g.Input("image", -1, 1, -1, -1)
	g.OpNamed("Tanh", []string{img}, nil, "translated")
	g.Output("translated", -1, 1, -1, -1)
	b, err := onnxbuild.NewModel(g, map[string]string{"munit_eval.role": "generator", "munit_eval.method": "Grey"}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "grey.onnx")
	os.WriteFile(path, b, 0o644)
	cfg := DefaultConfig()
	cfg.Generator, cfg.Inputs, cfg.Out = path, writeInputs(t, 1, 4, 4, 41), t.TempDir()
	_, err = Run(context.Background(), cfg)
	errContains(t, err, "grey.onnx does not fit the generator contract", "channels")
}

// TestONNXTooSmallInput feeds a 1x1 image to a generator whose first
// operation is a reflect Pad of 3: the error names the input, the model's
// minimum size (4x4) and --size, not onnxruntime's raw text alone.
func TestONNXTooSmallInput(t *testing.T) {
	needORT(t)
	g := onnxbuild.NewGraph("pad_gen")
	img := g.Input("image", -1, 3, -1, -1)
	p := g.Op("Pad", []string{img, g.Ints(0, 0, 3, 3, 0, 0, 3, 3)}, onnxbuild.Attrs{"mode": "reflect"})
	g.OpNamed("Tanh", []string{p}, nil, "translated")
	g.Output("translated", -1, 3, -1, -1)
	path := filepath.Join(t.TempDir(), "pad.onnx")
	if err := onnxbuild.NewModel(g, map[string]string{"munit_eval.role": "generator", "munit_eval.method": "PadGen", "munit_eval.latent_dim": "0"}).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	in := t.TempDir()
	images.WritePNG(filepath.Join(in, "dot.png"), images.New(1, 1))
	cfg := DefaultConfig()
	cfg.Generator, cfg.Inputs, cfg.Out, cfg.Quiet = path, in, t.TempDir(), true
	_, err := Run(context.Background(), cfg)
	errContains(t, err, "dot.png", "needs images of at least 4x4, got 1x1", "--size 4 or larger")
}
