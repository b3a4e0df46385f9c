package synth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/onnxbuild"
)

const testSeed = 1

// modelDir holds the models built once for all tests of the package.
var modelDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "synth-models-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	modelDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// builtModels builds the planted models once for all tests of the package.
var builtModels = sync.OnceValues(func() (map[string]string, error) {
	return BuildModels(modelDir, testSeed)
})

func models(t testing.TB) map[string]string {
	t.Helper()
	paths, err := builtModels()
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

func initORT(t testing.TB) {
	t.Helper()
	if err := model.Init(""); err != nil {
		t.Skipf("onnxruntime not available (run scripts/setup-ort.sh): %v", err)
	}
}

func TestModelsDeterministic(t *testing.T) {
	a, err := Models(testSeed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Models(testSeed)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Models(testSeed + 1)
	if err != nil {
		t.Fatal(err)
	}
	for k := range a {
		if !bytes.Equal(a[k], b[k]) {
			t.Errorf("%s: two builds with the same seed differ", k)
		}
	}
	dir := t.TempDir()
	paths, err := BuildModels(dir, testSeed)
	if err != nil {
		t.Fatal(err)
	}
	for k, p := range paths {
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, a[k]) || p != filepath.Join(dir, k+".onnx") {
			t.Errorf("%s: BuildModels wrote %s, not the bytes of Models", k, p)
		}
	}
	if _, err := BuildModels(paths[KeyMUNIT], testSeed); err == nil {
		t.Error("BuildModels into a file: no error")
	}
	// The seeded weights live in the encoders, the classifier and LPIPS.
	for _, k := range []string{KeyMUNIT, KeyClassifier, KeyLPIPS} {
		if bytes.Equal(a[k], c[k]) {
			t.Errorf("%s: seeds %d and %d give the same bytes", k, testSeed, testSeed+1)
		}
	}
}

// wantNoise are the noise inputs each planted model declares (docs/models.md,
// munit_eval.noise).
var wantNoise = map[string][]NoiseInput{
	KeyCycleGAN: {{Input: "dropout_noise", Dist: "uniform", Channels: 1, Stride: 4}},
	KeyUNIT:     {{Input: "encoder_noise", Dist: "normal", Channels: 1, Stride: 2}},
}

// withoutNoiseInputs drops model.Check's "unexpected input" problem for each
// declared noise input: a model package that predates the noise contract
// reports them; one that knows it reports nothing for them.
func withoutNoiseInputs(problems []string, noise []NoiseInput) []string {
	var out []string
	for _, p := range problems {
		keep := true
		for _, in := range noise {
			if strings.HasPrefix(p, fmt.Sprintf("unexpected input %q", in.Input)) {
				keep = false
			}
		}
		if keep {
			out = append(out, p)
		}
	}
	return out
}

// TestContracts checks every planted model against docs/models.md through
// model.Inspect and model.Check.
func TestContracts(t *testing.T) {
	initORT(t)
	paths := models(t)
	want := map[string]struct {
		role   model.Role
		method string
		latent int
	}{
		KeyMUNIT:        {model.RoleGenerator, "MUNIT", 8},
		KeyMUNITContent: {model.RoleContentEncoder, "MUNIT", 8},
		KeyMUNITDecoder: {model.RoleDecoder, "MUNIT", 8},
		KeyBicycleGAN:   {model.RoleGenerator, "BicycleGAN", 8},
		KeyCycleGAN:     {model.RoleGenerator, "CycleGAN", 0},
		KeyCycleGANStar: {model.RoleGenerator, "CycleGAN*", 8},
		KeyUNIT:         {model.RoleGenerator, "UNIT", 0},
		KeyClassifier:   {model.RoleClassifier, "", 0},
		KeyLPIPS:        {model.RoleLPIPS, "", 0},
	}
	if len(paths) != len(want) {
		t.Errorf("BuildModels wrote %d models, want %d", len(paths), len(want))
	}
	for key, w := range want {
		info, err := model.Inspect(paths[key])
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		noise := wantNoise[key]
		if p := withoutNoiseInputs(model.Check(info, ""), noise); len(p) > 0 {
			t.Errorf("%s: contract problems: %v", key, p)
		}
		var declared []NoiseInput
		if m, ok := info.Metadata[MetaNoise]; ok {
			if err := json.Unmarshal([]byte(m), &declared); err != nil {
				t.Errorf("%s: %s %q: %v", key, MetaNoise, m, err)
			}
		}
		if fmt.Sprint(declared) != fmt.Sprint(noise) {
			t.Errorf("%s: noise inputs %v, want %v", key, declared, noise)
		}
		for _, in := range noise {
			ti, ok := info.Input(in.Input)
			if !ok || fmt.Sprint(ti.Shape) != fmt.Sprint([]int64{-1, int64(in.Channels), -1, -1}) {
				t.Errorf("%s: noise input %s: %v (declared: %v)", key, in.Input, ti.Shape, ok)
			}
		}
		if info.Role != w.role || info.Method != w.method {
			t.Errorf("%s: role %q method %q, want %q %q", key, info.Role, info.Method, w.role, w.method)
		}
		if w.method != "" && info.Metadata[model.MetaLatentDim] != strconv.Itoa(w.latent) {
			t.Errorf("%s: latent_dim %q, want %d", key, info.Metadata[model.MetaLatentDim], w.latent)
		}
		if w.role != model.RoleContentEncoder && (info.LatentInput != "") != (w.latent > 0) {
			t.Errorf("%s: latent input %q, want one: %v", key, info.LatentInput, w.latent > 0)
		}
		if !info.Synthetic() {
			t.Errorf("%s: not marked %s=true", key, model.MetaSynthetic)
		}
	}
	info, _ := model.Inspect(paths[KeyClassifier])
	if fmt.Sprint(info.Classes) != fmt.Sprint(ModeNames) {
		t.Errorf("classifier classes %v, want %v", info.Classes, ModeNames)
	}
	info, _ = model.Inspect(paths[KeyLPIPS])
	if info.Metadata[model.MetaLPIPSNet] != "alex" || info.Metadata[model.MetaLPIPSVersion] != "0.1" || len(info.Outputs) != 5 {
		t.Errorf("lpips: net %q version %q, %d outputs; want alex, 0.1, 5", info.Metadata[model.MetaLPIPSNet], info.Metadata[model.MetaLPIPSVersion], len(info.Outputs))
	}
}

// rig holds the sessions of the ground-truth tests.
type rig struct {
	t        testing.TB
	sessions map[string]*model.Session
	lpipsHW  []int // spatial size h*w of each LPIPS layer, set by embed
	// moved says, for each sample of the last translate of a noisy
	// generator, whether its noise moves it to the next mode.
	moved []bool
}

// movesMode is the planted rule: the value v the decoder reads (the noise
// map's top-left cell) moves the sample to the next mode where the dropout
// drops the gate (u < p) or the encoder noise exceeds tau (n > tau), both
// compared in float32 as the graph does.
func movesMode(spec NoiseInput, v float64) bool {
	if spec.Dist == NoiseUniform {
		return float32(v) < float32(CycleGANDropout)
	}
	return float32(v) > float32(UNITNoiseThreshold)
}

// plantedMoves returns, for each of the k samples of generator key's inputs
// in, whether the planted rule moves it to the next mode: from the value
// its decoder reads, the top-left cell of its noise input (movesMode), or,
// for CycleGAN*, the first dimension of its style code, concatenated to the
// image: z_0 > tau* in float32. Nil for a generator without noise.
func plantedMoves(key string, in map[string]model.Tensor, k int) []bool {
	var moved []bool
	if key == KeyCycleGANStar {
		z := in["style"]
		for j := range k {
			moved = append(moved, z.Data[j*LatentDim] > float32(CycleGANStarThreshold))
		}
		return moved
	}
	for _, spec := range wantNoise[key] {
		noise := in[spec.Input]
		plane := len(noise.Data) / k
		for j := range k {
			moved = append(moved, movesMode(spec, float64(noise.Data[j*plane])))
		}
	}
	return moved
}

func newRig(t testing.TB) *rig {
	initORT(t)
	paths := models(t)
	r := &rig{t: t, sessions: map[string]*model.Session{}}
	for k, p := range paths {
		s, err := model.Open(p, model.Options{Threads: 1})
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		r.sessions[k] = s
		t.Cleanup(func() { s.Close() })
	}
	return r
}

// tensor turns images into a [N, 3, H, W] batch.
func (r *rig) tensor(imgs []*images.Image) model.Tensor {
	r.t.Helper()
	x := make([]float32, len(imgs)*3*Size*Size)
	if err := images.ToTensor(imgs, x); err != nil {
		r.t.Fatal(err)
	}
	return model.Tensor{Shape: []int64{int64(len(imgs)), 3, Size, Size}, Data: x}
}

// latents returns K style codes from N(0, I) for input i, seeded.
func latents(i, k int) model.Tensor {
	rng := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	z := make([]float32, k*LatentDim)
	for j := range z {
		z[j] = float32(rng.NormFloat64())
	}
	return model.Tensor{Shape: []int64{int64(k), LatentDim}, Data: z}
}

// repeat returns the input's tensor repeated k times.
func repeat(x model.Tensor, i, k int) model.Tensor {
	plane := 3 * Size * Size
	out := make([]float32, k*plane)
	for j := range k {
		copy(out[j*plane:], x.Data[i*plane:(i+1)*plane])
	}
	return model.Tensor{Shape: []int64{int64(k), 3, Size, Size}, Data: out}
}

// translate runs generator key on k copies of input i of x with k seeded
// latents (ignored by models without a latent input) and returns the
// samples as 8-bit images, as the sample store keeps them.
func (r *rig) translate(key string, x model.Tensor, i, k int) []*images.Image {
	r.t.Helper()
	s := r.sessions[key]
	in := map[string]model.Tensor{s.Info().ImageInput: repeat(x, i, k)}
	if s.Info().LatentInput != "" {
		in[s.Info().LatentInput] = latents(i, k)
	}
	rng := rand.New(rand.NewPCG(uint64(i), 0x6e6f697365)) // "noise"
	for _, spec := range wantNoise[key] {
		in[spec.Input] = noiseTensor(spec, k, Size, Size, func() float64 {
			if spec.Dist == NoiseNormal {
				return rng.NormFloat64()
			}
			return rng.Float64()
		})
	}
	r.moved = plantedMoves(key, in, k)
	out, err := s.Run(in, "translated")
	if err != nil {
		r.t.Fatalf("%s: %v", key, err)
	}
	return toImages(r.t, out["translated"])
}

// noiseTensor returns a [n, C, h/S, w/S] noise tensor of spec filled by draw.
func noiseTensor(spec NoiseInput, n, h, w int, draw func() float64) model.Tensor {
	shape := []int64{int64(n), int64(spec.Channels), int64(h / spec.Stride), int64(w / spec.Stride)}
	data := make([]float32, shape[0]*shape[1]*shape[2]*shape[3])
	for i := range data {
		data[i] = float32(draw())
	}
	return model.Tensor{Shape: shape, Data: data}
}

func toImages(t testing.TB, y model.Tensor) []*images.Image {
	t.Helper()
	h, w := int(y.Shape[2]), int(y.Shape[3])
	plane := 3 * h * w
	imgs := make([]*images.Image, y.Shape[0])
	for j := range imgs {
		m, err := images.FromTensor(y.Data[j*plane:(j+1)*plane], h, w)
		if err != nil {
			t.Fatal(err)
		}
		imgs[j] = m
	}
	return imgs
}

// probs returns the classifier's softmax probabilities for imgs, in float64.
func (r *rig) probs(imgs []*images.Image) [][]float64 {
	r.t.Helper()
	out, err := r.sessions[KeyClassifier].Run(map[string]model.Tensor{"image": r.tensor(imgs)}, "logits")
	if err != nil {
		r.t.Fatal(err)
	}
	l := out["logits"]
	c := int(l.Shape[1])
	p := make([][]float64, len(imgs))
	for n := range p {
		p[n] = softmax(l.Data[n*c : (n+1)*c])
	}
	return p
}

func argmax(p []float64) int {
	best := 0
	for j := range p {
		if p[j] > p[best] {
			best = j
		}
	}
	return best
}

func softmax(l []float32) []float64 {
	m := math.Inf(-1)
	for _, v := range l {
		m = math.Max(m, float64(v))
	}
	p := make([]float64, len(l))
	s := 0.0
	for j, v := range l {
		p[j] = math.Exp(float64(v) - m)
		s += p[j]
	}
	for j := range p {
		p[j] /= s
	}
	return p
}

// cis is the MUNIT paper's Conditional Inception Score (docs/metrics.md),
// written out here independently of package metrics:
// CIS = mean_i mean_k KL(p_ik || q_i), q_i = mean_k p_ik, 0 ln 0 = 0.
func cis(p [][][]float64) float64 {
	total := 0.0
	for _, pi := range p {
		q := make([]float64, len(pi[0]))
		for _, pk := range pi {
			for j, v := range pk {
				q[j] += v / float64(len(pi))
			}
		}
		s := 0.0
		for _, pk := range pi {
			for j, v := range pk {
				if v > 0 {
					s += v * math.Log(v/q[j])
				}
			}
		}
		total += s / float64(len(pi))
	}
	return total / float64(len(p))
}

// embed returns the LPIPS embeddings (lpips_0..lpips_4) of imgs, per image.
func (r *rig) embed(imgs []*images.Image) [][][]float32 {
	r.t.Helper()
	names := []string{"lpips_0", "lpips_1", "lpips_2", "lpips_3", "lpips_4"}
	out, err := r.sessions[KeyLPIPS].Run(map[string]model.Tensor{"image": r.tensor(imgs)}, names...)
	if err != nil {
		r.t.Fatal(err)
	}
	e := make([][][]float32, len(imgs))
	for n := range e {
		e[n] = make([][]float32, len(names))
		for l, name := range names {
			y := out[name]
			size := len(y.Data) / len(imgs)
			e[n][l] = y.Data[n*size : (n+1)*size]
		}
	}
	// Keep the spatial size of each layer for the mean over h, w.
	r.lpipsHW = make([]int, len(names))
	for l, name := range names {
		r.lpipsHW[l] = int(out[name].Shape[2] * out[name].Shape[3])
	}
	return e
}

// lpipsDistance is docs/models.md's LPIPS(x, y) = sum_l mean_{h,w} sum_c
// (lpips_l(x) - lpips_l(y))^2 from two images' embeddings, in float64.
func lpipsDistance(x, y [][]float32, hw []int) float64 {
	d := 0.0
	for l := range x {
		s := 0.0
		for i := range x[l] {
			v := float64(x[l][i]) - float64(y[l][i])
			s += v * v
		}
		d += s / float64(hw[l])
	}
	return d
}

// Ground-truth protocol: the paper's 100 samples per input for IS/CIS, 16
// inputs (the time budget), 19 LPIPS pairs per input.
const (
	gtInputs   = 16
	gtSamples  = 100
	gtPairs    = 19
	gtDetermin = 10 // samples per input for the deterministic generators
)

// expectedEmpiricalCIS returns E[H(q̂)] for q̂ the empirical distribution of
// k draws uniform over c modes, computed exactly by summing over the
// multinomial outcomes: what the CIS estimator averages to for a generator
// choosing c modes uniformly, each classified with certainty.
func expectedEmpiricalCIS(c, k int) float64 {
	var rec func(left, modes int, logP, h float64) float64
	lf := func(n int) float64 { v, _ := math.Lgamma(float64(n + 1)); return v }
	rec = func(left, modes int, logP, h float64) float64 {
		if modes == 1 {
			n := left
			if n > 0 {
				p := float64(n) / float64(k)
				h -= p * math.Log(p)
			}
			return math.Exp(logP-lf(n)) * h
		}
		s := 0.0
		for n := 0; n <= left; n++ {
			hh := h
			if n > 0 {
				p := float64(n) / float64(k)
				hh -= p * math.Log(p)
			}
			s += rec(left-n, modes-1, logP-lf(n), hh)
		}
		return s
	}
	return rec(k, c, lf(k)-float64(k)*math.Log(float64(c)), 0)
}

func TestExpectedEmpiricalCIS(t *testing.T) {
	// One mode: always 0. Two modes, two samples: H = ln 2 with prob 1/2.
	// The (C-1)/(2K) approximation of the issue for larger K.
	for _, c := range []struct {
		c, k int
		want float64
		tol  float64
	}{
		{1, 10, 0, 1e-12},
		{2, 2, math.Ln2 / 2, 1e-12},
		{4, 100, math.Log(4) - 3.0/200, 1e-3},
		{2, 100, math.Ln2 - 1.0/200, 1e-3},
	} {
		if got := expectedEmpiricalCIS(c.c, c.k); math.Abs(got-c.want) > c.tol {
			t.Errorf("expectedEmpiricalCIS(%d, %d) = %.6f, want %.6f +- %g", c.c, c.k, got, c.want, c.tol)
		}
	}
}

// TestClassifierOnTestB: the mode classifier must be confident and right on
// the target domain (>= 99%; by construction it is 100%).
func TestClassifierOnTestB(t *testing.T) {
	r := newRig(t)
	_, b, modes := World(testSeed, 400)
	p := r.probs(b)
	right, minP := 0, 1.0
	for n, pn := range p {
		best := 0
		for j := range pn {
			if pn[j] > pn[best] {
				best = j
			}
		}
		if best == modes[n] {
			right++
		}
		minP = math.Min(minP, pn[modes[n]])
	}
	acc := float64(right) / float64(len(b))
	t.Logf("classifier on testB: accuracy %.4f, smallest probability of the true mode %.6f", acc, minP)
	if acc < 0.99 {
		t.Errorf("accuracy %.4f on testB, want >= 0.99", acc)
	}
	if minP < 0.99 {
		t.Errorf("smallest probability of the true mode %.4f, want >= 0.99 (a confident classifier)", minP)
	}
}

// TestTwoStageMatchesSingleGraph: content encoder + decoder == the single
// MUNIT graph within 1e-5.
func TestTwoStageMatchesSingleGraph(t *testing.T) {
	r := newRig(t)
	a, _, _ := World(testSeed, 8)
	x := r.tensor(a)
	z := latents(99, 8)
	single, err := r.sessions[KeyMUNIT].Run(map[string]model.Tensor{"image": x, "style": z}, "translated")
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.sessions[KeyMUNITContent].Run(map[string]model.Tensor{"image": x}, "content")
	if err != nil {
		t.Fatal(err)
	}
	if got := c["content"].Shape; fmt.Sprint(got) != fmt.Sprint([]int64{8, channels, Size / 2, Size / 2}) {
		t.Errorf("content shape %v", got)
	}
	two, err := r.sessions[KeyMUNITDecoder].Run(map[string]model.Tensor{"content": c["content"], "style": z}, "translated")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(two["translated"].Shape) != fmt.Sprint(single["translated"].Shape) {
		t.Fatalf("shapes %v and %v", two["translated"].Shape, single["translated"].Shape)
	}
	maxDiff := 0.0
	for i, v := range single["translated"].Data {
		maxDiff = math.Max(maxDiff, math.Abs(float64(v)-float64(two["translated"].Data[i])))
	}
	t.Logf("two-stage vs single graph: max abs difference %g", maxDiff)
	if maxDiff > 1e-5 {
		t.Errorf("two-stage and single-graph MUNIT differ by %g, want <= 1e-5", maxDiff)
	}
}

// TestGroundTruth runs every planted generator through the paper's protocol
// and checks that the metrics recover what was planted: CIS = ln(reachable
// modes) (within 0.05; the estimator's own bias at K=100 is about
// (C-1)/200, see expectedEmpiricalCIS), CIS = 0 for the deterministic ones,
// the binary entropy of the switch probability for the noisy UNIT, CycleGAN
// and CycleGAN* (within 4 standard errors of the estimator's exact
// expectation), their LPIPS diversity 2q(1-q) x the distance of a mode
// change (4 standard errors), every LPIPS pair of theirs exactly, and LPIPS
// diversity MUNIT > BicycleGAN > 2 x (UNIT, CycleGAN, CycleGAN*) > 0.
func TestGroundTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every generator on 16 inputs x 100 samples")
	}
	r := newRig(t)
	a, _, _ := World(testSeed, gtInputs)
	x := r.tensor(a)
	results := map[string]struct{ cis, div float64 }{}
	for _, g := range Generators {
		k := gtSamples
		if g.Modes == 1 && !g.Latent && g.Switch == 0 {
			k = gtDetermin
		}
		p := make([][][]float64, gtInputs)
		var dists []float64
		var dSwitch []float64 // D_i of the noisy generators
		if g.Switch > 0 {
			dSwitch = r.switchDistances(g.Key, x)
		}
		for i := range gtInputs {
			samples := r.translate(g.Key, x, i, k)
			p[i] = r.probs(samples)
			// LPIPS pairs (2j, 2j+1), the MUNIT protocol; a deterministic
			// generator's repeats are its samples.
			var pairs []*images.Image
			for j := range gtPairs {
				pairs = append(pairs, samples[(2*j)%k], samples[(2*j+1)%k])
			}
			e := r.embed(pairs)
			for j := range gtPairs {
				d := lpipsDistance(e[2*j], e[2*j+1], r.lpipsHW)
				dists = append(dists, d)
				if g.Switch > 0 {
					// Exactly D_i when one sample of the pair moved, else 0.
					want := 0.0
					if r.moved[(2*j)%k] != r.moved[(2*j+1)%k] {
						want = dSwitch[i]
					}
					if math.Abs(d-want) > 1e-5 {
						t.Errorf("%s: input %d pair %d: LPIPS %.6f, want %.6f from the noise (one moved: %v)", g.Method, i, j, d, want, want > 0)
					}
				}
			}
		}
		// The modes reached over all samples: each reachable one equally
		// often (binomial, 5 sd), the others never.
		if g.Modes > 1 {
			count := make([]int, NumModes)
			for _, pi := range p {
				for _, pk := range pi {
					count[argmax(pk)]++
				}
			}
			n := float64(gtInputs * k)
			mean, sd := n/float64(g.Modes), math.Sqrt(n*(1/float64(g.Modes))*(1-1/float64(g.Modes)))
			reached := 0
			for _, c := range count {
				if c > 0 {
					reached++
					if math.Abs(float64(c)-mean) > 5*sd {
						t.Errorf("%s: a mode is reached %d times of %.0f, want %.0f +- %.0f", g.Method, c, n, mean, 5*sd)
					}
				}
			}
			if reached != g.Modes {
				t.Errorf("%s: %d modes reached (%v), planted %d", g.Method, reached, count, g.Modes)
			}
		}
		div := 0.0
		for _, d := range dists {
			div += d / float64(len(dists))
		}
		got := cis(p)
		results[g.Method] = struct{ cis, div float64 }{got, div}
		planted := g.PlantedCIS()
		expect := expectedEmpiricalCIS(g.Modes, k)
		tol := 0.05
		switch {
		case g.Switch > 0:
			// Per input, the estimator's term is H(X/K), X ~ Bin(K, q): its
			// exact mean, and 4 standard errors over the inputs.
			m, v := binaryEntropyMoments(g.Switch, k)
			expect, planted, tol = m, m, 4*math.Sqrt(v/gtInputs)
		case g.Modes == 1:
			tol = 1e-6
		}
		t.Logf("%-10s planted CIS %.4f (estimator expectation at K=%d: %.4f), recovered %.4f; LPIPS diversity %.4f",
			g.Method, g.PlantedCIS(), k, expect, got, div)
		if math.Abs(got-planted) > tol {
			t.Errorf("%s: CIS %.6f, expected %.6f (tolerance %g)", g.Method, got, planted, tol)
		}
		if g.Switch > 0 {
			// Planted IS: with a_i and b_i the classifier's probabilities of
			// input i's output kept and moved (noise forced), the samples'
			// marginal is M = mean_i ((1-q) a_i + q b_i) and their mean
			// entropy E = mean_i ((1-q) H(a_i) + q H(b_i)), so IS = H(M) - E.
			// Tolerance: X ~ Bin(N, q) samples move; each moves M by at most
			// 2/N in L1 and E by at most max|H(b_i) - H(a_i)|/N, and H(M) is
			// Lipschitz with constant max_j |1 + ln M_j|; 4 sd of X.
			keep, move := r.forcedProbs(g.Key, x, false), r.forcedProbs(g.Key, x, true)
			q := g.Switch
			marg := make([]float64, NumModes)
			ent, dH := 0.0, 0.0
			for i := range keep {
				for j := range marg {
					marg[j] += ((1-q)*keep[i][j] + q*move[i][j]) / float64(len(keep))
				}
				ha, hb := entropy(keep[i]), entropy(move[i])
				ent += ((1-q)*ha + q*hb) / float64(len(keep))
				dH = math.Max(dH, math.Abs(hb-ha))
			}
			lip := 0.0
			for _, m := range marg {
				lip = math.Max(lip, math.Abs(1+math.Log(m)))
			}
			n := float64(gtInputs * k)
			want := entropy(marg) - ent
			tolIS := 4 * math.Sqrt(n*q*(1-q)) * (2*lip + dH) / n
			gotIS := inceptionScore(p)
			t.Logf("%-10s planted IS %.4f on these inputs, recovered %.4f (tolerance %.4f)", g.Method, want, gotIS, tolIS)
			if math.Abs(gotIS-want) > tolIS {
				t.Errorf("%s: IS %.5f, planted %.5f +- %.5f", g.Method, gotIS, want, tolIS)
			}
			// Planted diversity: a pair differs with probability
			// P = 2q(1-q), and then by D_i, the distance between input i's
			// outline in its mode and in the next one (noise forced).
			dKeep, dSq := 0.0, 0.0
			for _, d := range dSwitch {
				dKeep += d / float64(len(dSwitch))
				dSq += d * d / float64(len(dSwitch))
			}
			pd := g.PlantedPairDiffers()
			want = pd * dKeep
			sd := math.Sqrt((pd*dSq - want*want) / float64(gtInputs*gtPairs))
			t.Logf("%-10s planted LPIPS diversity %.4f = %.4f x %.4f, recovered %.4f (4 sd %.4f)", g.Method, want, pd, dKeep, div, 4*sd)
			if math.Abs(div-want) > 4*sd {
				t.Errorf("%s: LPIPS diversity %.5f, planted %.5f +- %.5f (4 sd)", g.Method, div, want, 4*sd)
			}
		}
	}
	// The real-data row: LPIPS between random pairs of target images.
	_, b, _ := World(testSeed, 2*gtInputs*gtPairs)
	e := r.embed(b)
	real := 0.0
	for j := 0; j < len(b); j += 2 {
		real += lpipsDistance(e[j], e[j+1], r.lpipsHW) / float64(len(b)/2)
	}
	t.Logf("real data (testB pairs): LPIPS diversity %.4f", real)
	// The paper's shape: MUNIT and BicycleGAN high, the noisy baselines small
	// but not zero.
	d := func(m string) float64 { return results[m].div }
	if !(d("MUNIT") > d("BicycleGAN") && d("BicycleGAN") > 2*d("UNIT") && d("BicycleGAN") > 2*d("CycleGAN") &&
		d("BicycleGAN") > 2*d("CycleGAN*") && d("UNIT") > 0 && d("CycleGAN") > 0 && d("CycleGAN*") > 0) {
		t.Errorf("LPIPS diversity MUNIT %.4f BicycleGAN %.4f UNIT %.4f CycleGAN %.4f CycleGAN* %.4f; want MUNIT > BicycleGAN > 2 x (UNIT, CycleGAN, CycleGAN*) > 0",
			d("MUNIT"), d("BicycleGAN"), d("UNIT"), d("CycleGAN"), d("CycleGAN*"))
	}
}

// TestDeterministicModeChoice checks the planted CycleGAN, UNIT and
// CycleGAN*, with noise that keeps the mode, against their rule computed
// here: mode = number of thresholds below the input's ink fraction, and with
// noise that moves it, the next mode (quartiles of the reference images for
// CycleGAN and CycleGAN*, the 0.15, 0.4, 0.65 quantiles for UNIT); CycleGAN*
// must choose CycleGAN's mode on every input (its input noise reaches only
// the switch). Inputs within 2e-4 of a threshold, where float32 pooling may
// fall either way, are skipped.
func TestDeterministicModeChoice(t *testing.T) {
	r := newRig(t)
	a, _, _ := World(testSeed+1, 64)
	rules := []struct {
		key string
		t   []float64
	}{{KeyCycleGAN, areaThresholds(0.25, 0.5, 0.75)}, {KeyUNIT, areaThresholds(0.15, 0.4, 0.65)},
		{KeyCycleGANStar, areaThresholds(0.25, 0.5, 0.75)}}
	chosen := make([][]int, len(rules))
	for ri, rule := range rules {
		run := func(move bool) [][]float64 {
			// Noise that keeps the mode (u = 1 >= p; n = 0 <= tau; z_0 = 0)
			// or that moves it (u = 0 < p; n = 10 > tau; z_0 = 10 > tau*).
			in := forcedNoise(rule.key, len(a), move)
			in["image"] = r.tensor(a)
			out, err := r.sessions[rule.key].Run(in, "translated")
			if err != nil {
				t.Fatal(err)
			}
			return r.probs(toImages(t, out["translated"]))
		}
		p, moved := run(false), run(true)
		used := map[int]bool{}
		for i, m := range a {
			ink := InkFraction(m)
			want, near := 0, false
			for _, th := range rule.t {
				if ink > th {
					want++
				}
				near = near || math.Abs(ink-th) < 2e-4
			}
			got := 0
			for j := range p[i] {
				if p[i][j] > p[i][got] {
					got = j
				}
			}
			if next := argmax(moved[i]); next != (got+1)%NumModes {
				t.Errorf("%s: input %d: with the noise that moves the mode, %s; want %s (the one after %s)", rule.key, i, ModeNames[next], ModeNames[(got+1)%NumModes], ModeNames[got])
			}
			chosen[ri] = append(chosen[ri], got)
			used[got] = true
			if !near && got != want {
				t.Errorf("%s: input %d (ink %.5f, thresholds %.5f) classified %s, want %s", rule.key, i, ink, rule.t, ModeNames[got], ModeNames[want])
			}
		}
		if len(used) != NumModes {
			t.Errorf("%s: uses %d of the %d modes on 64 inputs", rule.key, len(used), NumModes)
		}
	}
	differ := 0
	for i := range chosen[0] {
		if chosen[0][i] != chosen[1][i] {
			differ++
		}
	}
	for i := range chosen[0] {
		if chosen[2][i] != chosen[0][i] {
			t.Errorf("input %d: CycleGAN* chooses %s, CycleGAN %s", i, ModeNames[chosen[2][i]], ModeNames[chosen[0][i]])
		}
	}
	t.Logf("CycleGAN and UNIT choose different modes on %d of %d inputs", differ, len(a))
	if differ == 0 || differ > len(a)/2 {
		t.Errorf("CycleGAN and UNIT differ on %d of %d inputs, want some but not most", differ, len(a))
	}
}

// TestOperators checks that the generators use the operators of real
// MUNIT/CycleGAN exports and the LPIPS model the AlexNet trunk's.
func TestOperators(t *testing.T) {
	data, err := Models(testSeed)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		KeyMUNIT:    {"Pad", "Conv", "InstanceNormalization", "Relu", "Gemm", "Softmax", "Mul", "Add", "Resize", "Tanh"},
		KeyCycleGAN: {"Pad", "Conv", "InstanceNormalization", "GlobalAveragePool", "Resize", "Tanh"},
		// CycleGAN*: the style code expanded over the image and concatenated
		// to its channels, as pix2pix's add_to_input exports.
		KeyCycleGANStar: {"Shape", "Unsqueeze", "Expand", "Concat", "Pad", "Conv", "GlobalAveragePool", "Greater", "Tanh"},
		KeyClassifier:   {"Conv", "Relu", "GlobalMaxPool", "GlobalAveragePool", "Concat"},
		KeyLPIPS:        {"Sub", "Div", "Conv", "Relu", "MaxPool", "ReduceSumSquare", "Sqrt"},
	}
	for key, ops := range want {
		mi, err := onnxbuild.Parse(data[key])
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		have := map[string]int{}
		for _, op := range mi.OpTypes() {
			have[op]++
		}
		for _, op := range ops {
			if have[op] == 0 {
				t.Errorf("%s: no %s node (ops: %v)", key, op, have)
			}
		}
		if key == KeyLPIPS && (have["Conv"] != 5 || have["Relu"] != 5 || have["MaxPool"] != 2) {
			t.Errorf("lpips: %d Conv, %d Relu, %d MaxPool; AlexNet has 5, 5, 2", have["Conv"], have["Relu"], have["MaxPool"])
		}
	}
}

// TestLPIPSNormalisation checks the embedding formula of docs/models.md on the
// network's outputs: with s_c = sqrt(w_c) read from the model's weights,
// sum_c (lpips_l,c / s_c)^2 = (sum_c f^2)/(sqrt(sum_c f^2) + 1e-10)^2 is 1 at
// every position where some channel is active (0 elsewhere), and w_c >= 0.
func TestLPIPSNormalisation(t *testing.T) {
	r := newRig(t)
	data, err := Models(testSeed)
	if err != nil {
		t.Fatal(err)
	}
	mi, err := onnxbuild.Parse(data[KeyLPIPS])
	if err != nil {
		t.Fatal(err)
	}
	producer := map[string]onnxbuild.NodeInfo{}
	for _, n := range mi.Nodes {
		for _, o := range n.Outputs {
			producer[o] = n
		}
	}
	a, b, _ := World(testSeed, 4)
	imgs := append(a, b...)
	e := r.embed(imgs)
	for l := range lpipsChannels {
		id := producer[fmt.Sprintf("lpips_%d", l)]
		mul := producer[id.Inputs[0]]
		init := mi.Initializer(mul.Inputs[1])
		if mul.OpType != "Mul" || init == nil {
			t.Fatalf("lpips_%d: not Mul by a constant (%s)", l, mul.OpType)
		}
		s, err := init.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		c := len(s)
		for _, v := range s {
			if !(v > 0) {
				t.Fatalf("lpips_%d: sqrt(w) = %v, want > 0", l, v)
			}
		}
		hw := r.lpipsHW[l]
		active := 0
		for n := range imgs {
			for p := range hw {
				sum := 0.0
				for ch := range c {
					v := float64(e[n][l][ch*hw+p]) / float64(s[ch])
					sum += v * v
				}
				if sum != 0 {
					active++
					if math.Abs(sum-1) > 1e-5 {
						t.Fatalf("lpips_%d image %d position %d: sum_c (e/sqrt(w))^2 = %.7f, want 1", l, n, p, sum)
					}
				}
			}
		}
		if active == 0 {
			t.Errorf("lpips_%d: no active position on %d images", l, len(imgs))
		}
	}
}

// binaryEntropyMoments returns the mean and variance of H(X/k), X ~ Bin(k, q)
// and H the binary entropy in nats, summed exactly over X: the CIS
// estimator's per-input term for a generator that switches modes with
// probability q.
func binaryEntropyMoments(q float64, k int) (mean, variance float64) {
	lk, _ := math.Lgamma(float64(k + 1))
	m2 := 0.0
	for x := 0; x <= k; x++ {
		lx, _ := math.Lgamma(float64(x + 1))
		ly, _ := math.Lgamma(float64(k - x + 1))
		w := math.Exp(lk - lx - ly + float64(x)*math.Log(q) + float64(k-x)*math.Log1p(-q))
		h := PlantedSwitchCIS(float64(x) / float64(k))
		mean += w * h
		m2 += w * h * h
	}
	return mean, m2 - mean*mean
}

// forcedNoise returns generator key's noise inputs for n samples, all set to
// the value that keeps the mode (move false) or moves it (move true). For
// CycleGAN* that is its style code: z_0 = 0 or 10, and every other
// dimension 3, above tau*, which the network must ignore.
func forcedNoise(key string, n int, move bool) map[string]model.Tensor {
	out := map[string]model.Tensor{}
	if key == KeyCycleGANStar {
		z := make([]float32, n*LatentDim)
		for j := range z {
			z[j] = 3
			if j%LatentDim == 0 {
				z[j] = map[bool]float32{false: 0, true: 10}[move]
			}
		}
		out["style"] = model.Tensor{Shape: []int64{int64(n), LatentDim}, Data: z}
	}
	for _, spec := range wantNoise[key] {
		v := map[bool]float64{false: 1, true: 0}[move]
		if spec.Dist == NoiseNormal {
			v = map[bool]float64{false: 0, true: 10}[move]
		}
		out[spec.Input] = noiseTensor(spec, n, Size, Size, func() float64 { return v })
	}
	return out
}

// switchDistances returns, for each input of x, D_i: the LPIPS distance
// between generator key's output with the noise forced to keep the mode and
// forced to move it.
func (r *rig) switchDistances(key string, x model.Tensor) []float64 {
	r.t.Helper()
	n := int(x.Shape[0])
	var pair [2][]*images.Image
	for j, move := range []bool{false, true} {
		in := forcedNoise(key, n, move)
		in["image"] = x
		out, err := r.sessions[key].Run(in, "translated")
		if err != nil {
			r.t.Fatal(err)
		}
		pair[j] = toImages(r.t, out["translated"])
	}
	e0, e1 := r.embed(pair[0]), r.embed(pair[1])
	d := make([]float64, n)
	for i := range n {
		d[i] = lpipsDistance(e0[i], e1[i], r.lpipsHW)
	}
	return d
}

// TestNoiseSwitchProbability runs the planted CycleGAN, UNIT and CycleGAN*
// through onnxruntime with noise drawn here (uniform [0,1) and standard
// normal, as munit_eval.noise declares; CycleGAN*'s style code from
// N(0, I)) and checks that the share of samples whose mode differs from the
// input's own mode matches the closed form (CycleGAN: p = CycleGANDropout;
// UNIT: 1 - Phi(tau) = UNITSwitch; CycleGAN*: 1 - Phi(tau*) =
// CycleGANStarSwitch; the normal tails checked here against independent
// table values) within 4 binomial standard errors; and, sample by sample,
// that the mode changes, to the next one, exactly where the noise value the
// decoder reads says so.
func TestNoiseSwitchProbability(t *testing.T) {
	// 1 - Phi(1.9) and 1 - Phi(1.75) from a table of the normal distribution
	// (Abramowitz & Stegun 26.2: Phi(1.9) = 0.9712834, Phi(1.75) = 0.9599408).
	if math.Abs(UNITSwitch-0.0287166) > 1e-7 {
		t.Fatalf("UNITSwitch = %.7f, want 1 - Phi(1.9) = 0.0287166", UNITSwitch)
	}
	if math.Abs(CycleGANStarSwitch-0.0400592) > 1e-7 {
		t.Fatalf("CycleGANStarSwitch = %.7f, want 1 - Phi(1.75) = 0.0400592", CycleGANStarSwitch)
	}
	r := newRig(t)
	const inputs, k = 16, 100
	a, _, _ := World(testSeed+2, inputs)
	x := r.tensor(a)
	for _, g := range Generators {
		if g.Switch == 0 {
			continue
		}
		in := forcedNoise(g.Key, inputs, false)
		in["image"] = x
		out, err := r.sessions[g.Key].Run(in, "translated")
		if err != nil {
			t.Fatal(err)
		}
		own := r.probs(toImages(t, out["translated"]))
		moved, n, wrong := 0, inputs*k, 0
		rng := rand.New(rand.NewPCG(uint64(testSeed), 0x737769746368)) // "switch"
		for i := range inputs {
			mode := argmax(own[i])
			in := map[string]model.Tensor{"image": repeat(x, i, k)}
			for _, spec := range wantNoise[g.Key] {
				in[spec.Input] = noiseTensor(spec, k, Size, Size, func() float64 {
					if spec.Dist == NoiseNormal {
						return rng.NormFloat64()
					}
					return rng.Float64()
				})
			}
			if g.Latent {
				z := make([]float32, k*LatentDim)
				for j := range z {
					z[j] = float32(rng.NormFloat64())
				}
				in["style"] = model.Tensor{Shape: []int64{int64(k), LatentDim}, Data: z}
			}
			out, err := r.sessions[g.Key].Run(in, "translated")
			if err != nil {
				t.Fatal(err)
			}
			rule := plantedMoves(g.Key, in, k)
			for j, p := range r.probs(toImages(t, out["translated"])) {
				// The rule, from the noise value the decoder reads (the
				// map's top-left cell; CycleGAN*'s z_0): dropped where
				// u < p, moved where n > tau or z_0 > tau*.
				want := mode
				if rule[j] {
					want = (mode + 1) % NumModes
				}
				got := argmax(p)
				if got != want {
					wrong++
					if wrong <= 3 {
						t.Errorf("%s: input %d sample %d (moved by the rule: %v): %s, want %s", g.Method, i, j, rule[j], ModeNames[got], ModeNames[want])
					}
				}
				if got != mode {
					moved++
				}
			}
		}
		if wrong > 0 {
			t.Errorf("%s: %d of %d samples disagree with the rule", g.Method, wrong, n)
		}
		got := float64(moved) / float64(n)
		sd := math.Sqrt(g.Switch * (1 - g.Switch) / float64(n))
		t.Logf("%-8s mode changed in %d of %d samples (%.4f), closed form %.4f +- %.4f (4 sd)", g.Method, moved, n, got, g.Switch, 4*sd)
		if math.Abs(got-g.Switch) > 4*sd {
			t.Errorf("%s: mode changed in %.4f of samples, closed form %.4f +- %.4f", g.Method, got, g.Switch, 4*sd)
		}
	}
}

// TestPlantedSwitchCIS checks the binary entropy and the estimator's exact
// expectation on cases worked by hand.
func TestPlantedSwitchCIS(t *testing.T) {
	for _, c := range []struct {
		q, want float64
	}{{0.5, math.Ln2}, {0, 0}, {1, 0}, {0.25, math.Log(4) - 0.75*math.Log(3)}} {
		if got := PlantedSwitchCIS(c.q); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("PlantedSwitchCIS(%g) = %.17g, want %.17g", c.q, got, c.want)
		}
	}
	// CycleGAN* changes mode a little more often than CycleGAN, so that,
	// with the same mode distance (same thresholds, same decoder), its
	// planted diversity stands to CycleGAN's as the paper's edges->shoes
	// figures do: 0.016 / 0.010 = 1.6 (within 0.1).
	star, cyc := Generators[2], Generators[1]
	if star.Key != KeyCycleGANStar || cyc.Key != KeyCycleGAN {
		t.Fatalf("Generators order changed: %v", Generators)
	}
	if r := star.PlantedPairDiffers() / cyc.PlantedPairDiffers(); math.Abs(r-1.6) > 0.1 {
		t.Errorf("CycleGAN* / CycleGAN pair-differs ratio %.3f, want 1.6 +- 0.1", r)
	}
	// K = 2: H(X/2) is ln 2 when X = 1 (probability 2q(1-q)), else 0.
	q := 0.3
	m, v := binaryEntropyMoments(q, 2)
	p1 := 2 * q * (1 - q)
	if math.Abs(m-p1*math.Ln2) > 1e-15 || math.Abs(v-(p1*math.Ln2*math.Ln2-m*m)) > 1e-15 {
		t.Errorf("binaryEntropyMoments(0.3, 2) = %g, %g", m, v)
	}
	if got := ExpectedSwitchCIS(q, 2); math.Abs(got-p1*math.Ln2) > 1e-15 {
		t.Errorf("ExpectedSwitchCIS(0.3, 2) = %.17g, want 2q(1-q) ln 2 = %.17g", got, p1*math.Ln2)
	}
	// The exported expectation is the test's binomial mean, for the planted
	// switch probabilities at the paper's K and the demo test's.
	for _, g := range Generators {
		for _, k := range []int{40, 100} {
			if g.Switch == 0 {
				continue
			}
			if m, _ := binaryEntropyMoments(g.Switch, k); math.Abs(ExpectedSwitchCIS(g.Switch, k)-m) > 1e-12 {
				t.Errorf("%s: ExpectedSwitchCIS(%g, %d) = %.15f, binomial mean %.15f", g.Method, g.Switch, k, ExpectedSwitchCIS(g.Switch, k), m)
			}
		}
	}
}

// forcedProbs returns the classifier's probabilities of generator key's
// outputs for the inputs x with the noise forced to keep (move false) or
// move (move true) the mode.
func (r *rig) forcedProbs(key string, x model.Tensor, move bool) [][]float64 {
	r.t.Helper()
	in := forcedNoise(key, int(x.Shape[0]), move)
	in["image"] = x
	out, err := r.sessions[key].Run(in, "translated")
	if err != nil {
		r.t.Fatal(err)
	}
	return r.probs(toImages(r.t, out["translated"]))
}

// entropy is -sum p ln p in nats (0 ln 0 = 0).
func entropy(p []float64) float64 {
	h := 0.0
	for _, v := range p {
		if v > 0 {
			h -= v * math.Log(v)
		}
	}
	return h
}

// inceptionScore is the log Inception Score over every sample of p, written
// out here independently of package metrics: H(mean p) - mean H(p).
func inceptionScore(p [][][]float64) float64 {
	var all [][]float64
	for _, pi := range p {
		all = append(all, pi...)
	}
	marg := make([]float64, len(all[0]))
	ent := 0.0
	for _, pk := range all {
		for j, v := range pk {
			marg[j] += v / float64(len(all))
		}
		ent += entropy(pk) / float64(len(all))
	}
	return entropy(marg) - ent
}
