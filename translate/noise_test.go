package translate

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/onnxbuild"
)

// noiseSpec is the noise declaration of writeNoiseGenerator's model: a
// dropout-style uniform mask at full resolution and a normal noise at half
// resolution.
var noiseSpec = []model.NoiseInput{
	{Input: "drop_u", Dist: model.NoiseUniform, Channels: 1, Stride: 1},
	{Input: "enc_n", Dist: model.NoiseNormal, Channels: 3, Stride: 2},
}

// writeNoiseGenerator writes a generator without a style input whose only
// randomness is its noise inputs (docs/models.md, test-time noise):
//
//	translated = tanh(image * (drop_u >= 0.5) / (1 - 0.5) * 0.5 + mean_hw(enc_n))
//
// drop_u [N,1,H,W] uniform, enc_n [N,3,H/2,W/2] normal: exported dropout
// with p = 0.5 on 0.5 * image, plus a per-channel shift.
func writeNoiseGenerator(t testing.TB) string {
	t.Helper()
	g := onnxbuild.NewGraph("noisy")
	x := g.Input("image", -1, 3, -1, -1)
	u := g.Input("drop_u", -1, 1, -1, -1)
	n := g.Input("enc_n", -1, 3, -1, -1)
	keep := g.Op("Cast", []string{g.Op("GreaterOrEqual", []string{u, g.Scalar(0.5)}, nil)}, onnxbuild.Attrs{"to": int64(1)})
	y := g.Op("Mul", []string{g.Op("Mul", []string{x, g.Scalar(0.5)}, nil), g.Op("Div", []string{keep, g.Scalar(0.5)}, nil)}, nil)
	m := g.Op("ReduceMean", []string{n}, onnxbuild.Attrs{"axes": []int64{2, 3}, "keepdims": int64(1)})
	g.OpNamed("Tanh", []string{g.Op("Add", []string{y, m}, nil)}, nil, "translated")
	g.Output("translated", -1, 3, -1, -1)
	meta := map[string]string{
		model.MetaRole: "generator", model.MetaMethod: "Noisy", model.MetaLatentDim: "0",
		model.MetaNoise: `[{"input":"drop_u","dist":"uniform","channels":1,"stride":1},{"input":"enc_n","dist":"normal","channels":3,"stride":2}]`,
	}
	p := filepath.Join(t.TempDir(), "noisy.onnx")
	if err := onnxbuild.NewModel(g, meta).WriteFile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// noiseConfig runs the ONNX noise generator over inputs into out.
func noiseConfig(gen, inputs, out string, batch int) Config {
	cfg := DefaultConfig()
	cfg.Generator, cfg.Inputs, cfg.Out = gen, inputs, out
	cfg.Samples, cfg.Seed, cfg.Batch, cfg.Threads = 4, 5, batch, 1
	cfg.Quiet = true
	cfg.manifestEvery = 0
	return cfg
}

// TestNoiseStreams checks the noise values themselves: uniform draws in
// [0, 1) and normal draws with mean and variance within 5 standard errors
// of 1/2, 1/12 and 0, 1 over 2^16 values; a sample's noise depends on its
// (seed, input, k, name) only.
func TestNoiseStreams(t *testing.T) {
	const n = 1 << 16
	uni := model.NoiseInput{Input: "u", Dist: model.NoiseUniform, Channels: 1, Stride: 1}
	nor := model.NoiseInput{Input: "n", Dist: model.NoiseNormal, Channels: 1, Stride: 1}
	for _, c := range []struct {
		in         model.NoiseInput
		mean, vari float64
		// sdMean, sdVar are the standard deviations of one draw and of its
		// squared deviation: sqrt(Var X) and sqrt(Var (X - mu)^2).
		sdMean, sdVar float64
	}{
		{uni, 0.5, 1.0 / 12, math.Sqrt(1.0 / 12), math.Sqrt(1.0/80 - 1.0/144)},
		{nor, 0, 1, 1, math.Sqrt(2)},
	} {
		v, err := Noise(3, 1, 2, c.in, 256, 256)
		if err != nil || len(v) != n {
			t.Fatalf("%s: %d values, %v", c.in.Dist, len(v), err)
		}
		var sum, sq float64
		for _, x := range v {
			if c.in.Dist == model.NoiseUniform && (x < 0 || x >= 1) {
				t.Fatalf("uniform value %v outside [0, 1)", x)
			}
			sum += float64(x)
		}
		mean := sum / n
		for _, x := range v {
			sq += (float64(x) - mean) * (float64(x) - mean)
		}
		vari := sq / n
		if math.Abs(mean-c.mean) > 5*c.sdMean/math.Sqrt(n) || math.Abs(vari-c.vari) > 5*c.sdVar/math.Sqrt(n) {
			t.Errorf("%s: mean %.5f variance %.5f, want %.5f and %.5f", c.in.Dist, mean, vari, c.mean, c.vari)
		}
	}
	a, _ := Noise(3, 1, 2, uni, 4, 4)
	b, _ := Noise(3, 1, 2, uni, 4, 4)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatal("Noise is not a function of its arguments")
	}
	for _, other := range [][]float32{
		must(Noise(4, 1, 2, uni, 4, 4)), must(Noise(3, 0, 2, uni, 4, 4)), must(Noise(3, 1, 3, uni, 4, 4)),
		must(Noise(3, 1, 2, model.NoiseInput{Input: "v", Dist: model.NoiseUniform, Channels: 1, Stride: 1}, 4, 4)),
	} {
		if fmt.Sprint(a) == fmt.Sprint(other) {
			t.Fatal("two keys share a noise stream")
		}
	}
	if _, err := Noise(3, 1, 2, noiseSpec[1], 5, 4); err == nil {
		t.Fatal("odd height with stride 2 accepted")
	}
}

func must(v []float32, err error) []float32 {
	if err != nil {
		panic(err)
	}
	return v
}

// TestONNXNoiseInputs runs a generator whose randomness is its noise inputs
// with --samples 4: every input gets 4 different samples; each raw output
// equals the formula of writeNoiseGenerator on the noise that Noise gives
// for its (seed, input, k) (within 1e-5, float32 rounding of tanh); the
// stores of batch 1 and batch 8 are byte-identical; the manifest records
// the noise inputs and randomness "noise".
func TestONNXNoiseInputs(t *testing.T) {
	needORT(t)
	gen := writeNoiseGenerator(t)
	in := writeInputs(t, 3, 8, 6, 31)
	ref := t.TempDir()
	cfg := noiseConfig(gen, in, ref, 1)
	inputs := map[int][]float32{}
	var worst float64
	cfg.observe = func(i, k int, chw []float32, h, w int) {
		if inputs[i] == nil {
			x, err := loadTensor(filepath.Join(in, fmt.Sprintf("in_%02d.png", i)))
			if err != nil {
				t.Error(err)
				return
			}
			inputs[i] = x
		}
		u := must(Noise(cfg.Seed, i, k, noiseSpec[0], h, w))
		n := must(Noise(cfg.Seed, i, k, noiseSpec[1], h, w))
		hw2 := (h / 2) * (w / 2)
		for c := 0; c < 3; c++ {
			var m float64
			for _, v := range n[c*hw2 : (c+1)*hw2] {
				m += float64(v)
			}
			m /= float64(hw2)
			for p := 0; p < h*w; p++ {
				keep := 0.0
				if u[p] >= 0.5 {
					keep = 2
				}
				want := math.Tanh(float64(inputs[i][c*h*w+p])*0.5*keep + m)
				worst = max(worst, math.Abs(want-float64(chw[c*h*w+p])))
			}
		}
	}
	s := mustRun(t, cfg)
	if worst > 1e-5 || len(inputs) != 3 {
		t.Fatalf("outputs differ from the formula by %g (%d inputs seen)", worst, len(inputs))
	}
	if s.Computed != 12 || s.SamplesPerInput != 4 {
		t.Fatalf("summary %+v", s)
	}
	st, err := OpenStore(s.Store)
	if err != nil {
		t.Fatal(err)
	}
	m := st.Manifest()
	if m.Randomness != RandomnessNoise || len(m.Noise) != 2 || m.Noise[1] != noiseSpec[1] || m.LatentSource != LatentsNone || m.Repeat {
		t.Fatalf("manifest: randomness %q noise %v latents %s repeat %v", m.Randomness, m.Noise, m.LatentSource, m.Repeat)
	}
	for i := 0; i < 3; i++ {
		seen := map[string]int{}
		for k := 0; k < 4; k++ {
			if j, dup := seen[st.SampleSHA256(i, k)]; dup {
				t.Fatalf("input %d: samples %d and %d are identical", i, j, k)
			}
			seen[st.SampleSHA256(i, k)] = k
		}
	}
	out8 := t.TempDir()
	mustRun(t, noiseConfig(gen, in, out8, 8))
	sameTree(t, ref, out8)
}

// loadTensor reads an image file as the generator's [3,h,w] input.
func loadTensor(path string) ([]float32, error) {
	img, err := images.Load(path)
	if err != nil {
		return nil, err
	}
	x := make([]float32, 3*img.W*img.H)
	return x, images.ToTensor([]*images.Image{img}, x)
}

// TestONNXNoiseSurvivesSIGKILL kills a child process translating with the
// noise generator (slowed down per batch) and resumes: the store must be
// byte-identical to an uninterrupted run's.
func TestONNXNoiseSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	needORT(t)
	gen := writeNoiseGenerator(t)
	in := writeInputs(t, 3, 8, 6, 32)
	ref := t.TempDir()
	mustRun(t, noiseConfig(gen, in, ref, 8))
	for _, n := range []int{1, 5} {
		out := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), killHelperEnv+"=1", "MUNIT_TRANSLATE_IN="+in, "MUNIT_TRANSLATE_OUT="+out, "MUNIT_TRANSLATE_GENERATOR="+gen)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFiles(t, cmd, out, n)
		s := mustRun(t, noiseConfig(gen, in, out, 3))
		t.Logf("killed after %d files; resumed: %d reused, %d computed", n, s.Reused, s.Computed)
		if s.Reused+s.Computed != 12 {
			t.Fatalf("resume %+v", s)
		}
		sameTree(t, ref, out)
	}
}

// waitFiles waits until the child has written n sample files (or exited,
// or 20 s passed), then kills it with SIGKILL.
func waitFiles(t *testing.T, cmd *exec.Cmd, out string, n int) {
	t.Helper()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for countPNG(out) < n && time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("helper exited before writing %d samples: %v", n, err)
		default:
		}
		time.Sleep(200 * time.Microsecond)
	}
	cmd.Process.Kill()
	<-exited
}

// slowGen delays every network run of the generator it wraps (kill tests).
type slowGen struct {
	generator
	delay time.Duration
}

func (g slowGen) translate(cond model.Tensor, latents []float32, noise map[string]model.Tensor) (model.Tensor, error) {
	time.Sleep(g.delay)
	return g.generator.translate(cond, latents, noise)
}

// onnxKillConfig is the kill helper's configuration for an ONNX generator:
// the noise generator run through slowGen with batches of 2.
func onnxKillConfig(gen, in, out string) (Config, error) {
	cfg := noiseConfig(gen, in, out, 2)
	g, err := openGenerator(&cfg)
	if err != nil {
		return cfg, err
	}
	cfg.gen = slowGen{g, 20 * time.Millisecond}
	return cfg, nil
}

// TestONNXTwoStageNoise runs the two-stage form with a uniform noise input
// on the decoder (where the contract puts it) and a style input: 4
// different samples per input, byte-identical at batch 1 and batch 8, and
// randomness "style+noise". The same noise declared on the content encoder
// is refused.
func TestONNXTwoStageNoise(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	write := func(name string, g *onnxbuild.Graph, meta map[string]string) string {
		p := filepath.Join(dir, name+".onnx")
		if err := onnxbuild.NewModel(g, meta).WriteFile(p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noise := `[{"input":"drop_u","dist":"uniform","channels":1,"stride":1}]`
	encoder := func(meta map[string]string) string {
		g := onnxbuild.NewGraph("enc")
		x := g.Input("image", -1, 3, -1, -1)
		g.OpNamed("Mul", []string{x, g.Scalar(0.5)}, nil, "content")
		g.Output("content", -1, 3, -1, -1)
		return write("enc", g, meta)
	}
	g := onnxbuild.NewGraph("dec")
	c := g.Input("content", -1, 3, -1, -1)
	st := g.Input("style", -1, 2)
	u := g.Input("drop_u", -1, 1, -1, -1)
	keep := g.Op("Cast", []string{g.Op("GreaterOrEqual", []string{u, g.Scalar(0.5)}, nil)}, onnxbuild.Attrs{"to": int64(1)})
	y := g.Op("Mul", []string{c, g.Op("Mul", []string{keep, g.Scalar(2)}, nil)}, nil)
	m := g.Op("ReduceMean", []string{st}, onnxbuild.Attrs{"axes": []int64{1}, "keepdims": int64(1)})
	m4 := g.Op("Reshape", []string{m, g.Ints(-1, 1, 1, 1)}, nil)
	g.OpNamed("Tanh", []string{g.Op("Add", []string{y, m4}, nil)}, nil, "translated")
	g.Output("translated", -1, 3, -1, -1)
	dec := write("dec", g, map[string]string{model.MetaRole: "decoder", model.MetaMethod: "TwoNoisy", model.MetaLatentDim: "2", model.MetaNoise: noise})
	enc := encoder(map[string]string{model.MetaRole: "content_encoder"})

	in := writeInputs(t, 2, 6, 4, 33)
	var stores []string
	for _, batch := range []int{1, 8} {
		cfg := noiseConfig(enc, in, t.TempDir(), batch)
		cfg.Decoder = dec
		s := mustRun(t, cfg)
		st, err := OpenStore(s.Store)
		if err != nil {
			t.Fatal(err)
		}
		if st.Randomness() != RandomnessStyleNoise {
			t.Fatalf("randomness %q", st.Randomness())
		}
		for i := 0; i < 2; i++ {
			seen := map[string]bool{}
			for k := 0; k < 4; k++ {
				seen[st.SampleSHA256(i, k)] = true
			}
			if len(seen) != 4 {
				t.Fatalf("input %d: %d different samples of 4", i, len(seen))
			}
		}
		stores = append(stores, filepath.Dir(s.Store))
	}
	sameTree(t, stores[0], stores[1])

	cfg := noiseConfig(encoder(map[string]string{model.MetaRole: "content_encoder", model.MetaNoise: noise}), in, t.TempDir(), 1)
	cfg.Decoder = dec
	_, err := Run(context.Background(), cfg)
	errContains(t, err, "noise inputs belong on the decoder")
}

// BenchmarkNoise measures filling one sample's noise inputs at 256x256: a
// full-resolution dropout mask (uniform, 1 channel) and a stride-4 encoder
// noise (normal, 256 channels, as UNIT's content code).
func BenchmarkNoise(b *testing.B) {
	for _, n := range []model.NoiseInput{
		{Input: "dropout_0", Dist: model.NoiseUniform, Channels: 1, Stride: 1},
		{Input: "enc_noise", Dist: model.NoiseNormal, Channels: 256, Stride: 4},
	} {
		b.Run(n.Dist, func(b *testing.B) {
			dst := make([]float32, n.Channels*(256/n.Stride)*(256/n.Stride))
			b.SetBytes(int64(4 * len(dst)))
			for i := 0; i < b.N; i++ {
				fillNoise(dst, 0, i, 0, n)
			}
		})
	}
}
