package synth

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/onnxbuild"
)

// LatentDim is the length of the style code of the planted stochastic
// generators (MUNIT's style_dim is 8).
const LatentDim = 8

// Keys of the models BuildModels writes; the file of key k is k + ".onnx".
const (
	KeyMUNIT        = "munit"         // MUNIT, single graph (image, style -> translated)
	KeyMUNITContent = "munit_content" // MUNIT content encoder (image -> content)
	KeyMUNITDecoder = "munit_decoder" // MUNIT decoder (content, style -> translated)
	KeyBicycleGAN   = "bicyclegan"
	KeyCycleGAN     = "cyclegan"
	KeyCycleGANStar = "cyclegan_star"
	KeyUNIT         = "unit"
	KeyClassifier   = "classifier"
	KeyLPIPS        = "lpips"
)

// Generator names one planted generator: its model key, the method name in
// its metadata, the number of colour modes its style code reaches (each
// equally likely under the latent distribution; 1 for the others, which pick
// one mode per input), and Switch, the probability that its noise (the noise
// inputs of munit_eval.noise for UNIT and CycleGAN, the style code
// concatenated to the image for CycleGAN*) moves a sample from its input's
// mode to the next one (red -> green -> blue -> yellow -> red); 0 for the
// generators whose style code picks the mode.
type Generator struct {
	Key    string
	Method string
	Modes  int     // modes the style code reaches from one input
	Latent bool    // has a style input
	Switch float64 // probability that the noise changes a sample's mode
}

// Planted noise of the stochastic baselines (MUNIT paper §5.1: "UNIT ...
// randomness comes from the Gaussian encoders as well as the dropout layers";
// CycleGAN uses "dropout during both training and testing").
const (
	// CycleGANDropout is the planted CycleGAN's dropout rate p: the mode's
	// keep gate is x * (u >= p) / (1 - p) with u ~ U[0, 1), so the gate is
	// dropped, and the sample takes the next mode, with probability p.
	CycleGANDropout = 0.025
	// UNITNoiseThreshold is tau of the planted UNIT: the Gaussian encoder
	// adds n ~ N(0, 1) to the hidden code's mode channel, whose mean is 0,
	// and the decoder takes the next mode where that value exceeds tau, with
	// probability 1 - Phi(tau) (UNITSwitch).
	UNITNoiseThreshold = 1.9
	// CycleGANStarThreshold is tau* of the planted CycleGAN*, CycleGAN with
	// noise added to its input (the paper's CycleGAN*; pix2pix's
	// add_to_input): the style code z ~ N(0, I) is broadcast over the image
	// and concatenated to its channels, the network ignores every noise
	// channel but the first, and takes the next mode where z_0 exceeds tau*,
	// with probability 1 - Phi(tau*) (CycleGANStarSwitch), a little more
	// often than the planted CycleGAN's dropout (the paper's diversity: 0.016
	// against 0.010).
	CycleGANStarThreshold = 1.75
	// NoiseInputCycleGAN and NoiseInputUNIT name the noise inputs.
	NoiseInputCycleGAN = "dropout_noise"
	NoiseInputUNIT     = "encoder_noise"
	// Strides of the noise inputs: CycleGAN's dropout acts on a feature map at
	// a quarter of the image's size, UNIT's encoder noise on the hidden code
	// at half size (the content's resolution).
	cycleNoiseStride = 4
	unitNoiseStride  = 2
)

// UNITSwitch is 1 - Phi(UNITNoiseThreshold) = erfc(tau/sqrt 2)/2, the
// probability that the planted UNIT's encoder noise changes the mode
// (0.0287166 for tau = 1.9).
var UNITSwitch = math.Erfc(UNITNoiseThreshold/math.Sqrt2) / 2

// CycleGANStarSwitch is 1 - Phi(CycleGANStarThreshold), the probability that
// the planted CycleGAN*'s input noise changes the mode (0.0400592 for
// tau* = 1.75).
var CycleGANStarSwitch = math.Erfc(CycleGANStarThreshold/math.Sqrt2) / 2

// NoiseInput is one entry of a generator's munit_eval.noise metadata
// (docs/models.md): a float32 input [N, Channels, H/Stride, W/Stride], H and W
// the image's, filled with uniform [0, 1) ("uniform") or standard normal
// ("normal") values for every sample.
type NoiseInput struct {
	Input    string `json:"input"`
	Dist     string `json:"dist"`
	Channels int    `json:"channels"`
	Stride   int    `json:"stride"`
}

// Distributions of NoiseInput.Dist.
const (
	NoiseUniform = "uniform"
	NoiseNormal  = "normal"
)

// MetaNoise is the metadata key declaring a generator's noise inputs.
const MetaNoise = "munit_eval.noise"

// Generators lists the planted generators in the order of the paper's tables.
var Generators = []Generator{
	{KeyUNIT, "UNIT", 1, false, UNITSwitch},
	{KeyCycleGAN, "CycleGAN", 1, false, CycleGANDropout},
	{KeyCycleGANStar, "CycleGAN*", 1, true, CycleGANStarSwitch},
	{KeyBicycleGAN, "BicycleGAN", 2, true, 0},
	{KeyMUNIT, "MUNIT", 4, true, 0},
}

// PlantedCIS returns the conditional Inception Score (in nats) that a
// generator reaching modes equally likely modes, each classified with
// certainty, has by construction: CIS = E_x KL(p(y|x,z) || p(y|x)) with
// p(y|x,z) one-hot and p(y|x) uniform over the reachable modes, which is
// ln(modes) (MUNIT paper §5.1). The empirical estimate over K samples per
// input sits below it by about (modes-1)/(2K), see docs/demo.md.
func PlantedCIS(modes int) float64 { return math.Log(float64(modes)) }

// PlantedSwitchCIS returns the CIS of a generator that keeps its input's
// mode with probability 1-q and takes the next one with probability q, each
// classified with certainty: p(y|x) = (1-q, q) on those two modes, so
// CIS = H(p(y|x)) = -(1-q) ln(1-q) - q ln q, the binary entropy of q.
func PlantedSwitchCIS(q float64) float64 {
	if q <= 0 || q >= 1 {
		return 0
	}
	return -(1-q)*math.Log1p(-q) - q*math.Log(q)
}

// ExpectedSwitchCIS returns what the CIS estimator averages to, with k
// samples per input, for a generator that keeps its input's mode with
// probability 1-q and takes the next one with probability q, each
// classified with certainty. The estimator replaces p(y|x) by the
// empirical marginal of the input's k samples, X/k of them moved with
// X ~ Bin(k, q), so its per-input term is H(X/k) and its mean
//
//	E H(X/k) = sum_{x=0..k} C(k, x) q^x (1-q)^(k-x) H(x/k)
//
// (summed exactly, in float64, with log-space binomial weights), below
// H(q) by Jensen's inequality: the estimator's known bias (docs/demo.md).
func ExpectedSwitchCIS(q float64, k int) float64 {
	if q <= 0 || q >= 1 || k < 1 {
		return 0
	}
	lk, _ := math.Lgamma(float64(k + 1))
	mean := 0.0
	for x := 1; x < k; x++ {
		lx, _ := math.Lgamma(float64(x + 1))
		ly, _ := math.Lgamma(float64(k - x + 1))
		w := math.Exp(lk - lx - ly + float64(x)*math.Log(q) + float64(k-x)*math.Log1p(-q))
		mean += w * PlantedSwitchCIS(float64(x)/float64(k))
	}
	return mean
}

// PlantedCIS returns g's planted CIS: PlantedSwitchCIS(g.Switch) for the
// noisy baselines, PlantedCIS(g.Modes) for the others.
func (g Generator) PlantedCIS() float64 {
	if g.Switch > 0 {
		return PlantedSwitchCIS(g.Switch)
	}
	return PlantedCIS(g.Modes)
}

// PlantedPairDiffers returns the probability that two independent samples of
// one input show different modes: 1 - sum_j pi_j^2 over the input's mode
// distribution pi, which is 2q(1-q) for a switching generator and
// 1 - 1/modes for a style code reaching modes equally likely modes. The
// planted LPIPS diversity is this probability times the mean distance
// between two renderings of the outline in the two modes (docs/demo.md).
func (g Generator) PlantedPairDiffers() float64 {
	if g.Switch > 0 {
		return 2 * g.Switch * (1 - g.Switch)
	}
	return 1 - 1/float64(g.Modes)
}

// Planted network constants.
const (
	channels      = 4     // content channels
	styleTemp     = 25    // softmax temperature on the style scores (MUNIT, BicycleGAN)
	areaTemp      = 2e4   // softmax temperature on the ink-fraction scores (CycleGAN, UNIT)
	inkGain       = 6     // AdaIN gamma that turns an outline channel to -1
	inkBias       = 4     // AdaIN beta: the white background, tanh(4) ~ 0.9993
	classGain     = 20    // classifier logit for a mode holding all of an image's colour response
	classEps      = 1e-3  // keeps the classifier's colour share finite on colourless images
	referenceN    = 400   // reference images for the CycleGAN/UNIT thresholds
	referenceSeed = 20181 // seed of the reference images (fixed: models do not depend on the world's seed)
)

// bicycleModes are the two modes the planted BicycleGAN reaches.
// Red and yellow differ in the green channel only, so a sample whose style
// code sits near the boundary blends into orange, which the classifier
// splits between these two modes; red and green would blend into yellow, a
// third mode.
var bicycleModes = []Mode{Red, Yellow}

// Model streams for the seeded weights.
const (
	streamEnc uint64 = iota + 100
	streamDec
	streamCls
	streamLPIPS
)

// InkFraction returns the mean over pixels of (1 - mean_c x_c)/2, x_c =
// v/127.5 - 1 being channel c in [-1, 1]: the share of the image covered by
// black ink. The planted CycleGAN and UNIT pick their mode from it (by
// GlobalAveragePool of the image), so it decides their one mode per input.
func InkFraction(m *images.Image) float64 {
	s := 0.0
	for _, v := range m.Pix {
		s += float64(v)/127.5 - 1
	}
	return 0.5 - s/float64(len(m.Pix))/2
}

// areaThresholds returns the ink fractions at the given quantiles of the
// reference images of domain A.
func areaThresholds(q ...float64) []float64 {
	a := referenceInk()
	t := make([]float64, len(q))
	for i, v := range q {
		t[i] = a[int(v*float64(len(a)-1)+0.5)]
	}
	return t
}

// referenceInk returns the sorted ink fractions of the reference images,
// computed once.
var referenceInk = sync.OnceValue(func() []float64 {
	imgs, _ := DomainA(referenceSeed, referenceN)
	a := make([]float64, len(imgs))
	for i, m := range imgs {
		a[i] = InkFraction(m)
	}
	sort.Float64s(a)
	return a
})

// Models builds every planted model and returns its serialised bytes by key.
// The same seed gives the same bytes.
func Models(seed uint64) (map[string][]byte, error) {
	cycle := areaThresholds(0.25, 0.5, 0.75)
	unit := areaThresholds(0.15, 0.4, 0.65)
	builders := map[string]func() *onnxbuild.Model{
		KeyMUNIT:        func() *onnxbuild.Model { return generator(seed, "MUNIT", styleHead(allModes(), true), true) },
		KeyMUNITContent: func() *onnxbuild.Model { return contentEncoderModel(seed) },
		KeyMUNITDecoder: func() *onnxbuild.Model { return decoderModel(seed) },
		KeyBicycleGAN: func() *onnxbuild.Model {
			return generator(seed, "BicycleGAN", styleHead(bicycleModes, false), true)
		},
		KeyCycleGAN: func() *onnxbuild.Model {
			return generator(seed, "CycleGAN", withSwitch(areaHead(cycle), dropoutSwitch()), false)
		},
		KeyCycleGANStar: func() *onnxbuild.Model {
			return generator(seed, "CycleGAN*", withSwitch(areaHead(cycle), inputNoiseSwitch()), true)
		},
		KeyUNIT: func() *onnxbuild.Model {
			return generator(seed, "UNIT", withSwitch(areaHead(unit), encoderNoiseSwitch()), false)
		},
		KeyClassifier: func() *onnxbuild.Model { return classifierModel(seed) },
		KeyLPIPS:      func() *onnxbuild.Model { return lpipsModel(seed) },
	}
	out := make(map[string][]byte, len(builders))
	for k, b := range builders {
		data, err := b().Marshal()
		if err != nil {
			return nil, fmt.Errorf("synth: model %s: %w", k, err)
		}
		out[k] = data
	}
	return out, nil
}

// BuildModels writes every planted model into dir (created if missing) as
// <key>.onnx and returns the paths by key (KeyMUNIT, ...). The same seed
// gives byte-identical files.
func BuildModels(dir string, seed uint64) (map[string]string, error) {
	data, err := Models(seed)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("synth: models: %w", err)
	}
	paths := make(map[string]string, len(data))
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := filepath.Join(dir, k+".onnx")
		if err := writeFileAtomic(p, data[k]); err != nil {
			return nil, fmt.Errorf("synth: models: %w", err)
		}
		paths[k] = p
	}
	return paths, nil
}

// writeFileAtomic writes data to a temporary file beside path and renames it.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func allModes() []Mode { return []Mode{Red, Green, Blue, Yellow} }

// metadata returns a generator-family model's metadata.
func metadata(role, method string, latent int) map[string]string {
	m := map[string]string{
		"munit_eval.role":      role,
		"munit_eval.synthetic": "true",
	}
	if method != "" {
		m["munit_eval.method"] = method
		m["munit_eval.latent_dim"] = strconv.Itoa(latent)
	}
	return m
}

// head computes the per-sample mode weights w [N, M] (M = len(modes), rows
// summing to 1) from the graph's image and style values ("" when absent);
// image has cin channels (3, or 3 + LatentDim for input noise).
type head struct {
	modes []Mode
	build func(n *net, image string, cin int, style string) string
	// noise, when set, declares noise inputs or input noise and moves a
	// sample to the next mode where they say so (withSwitch).
	noise *modeSwitch
}

// modeSwitch is a head's noise: its inputs, and a function of their graph
// values returning d [N, 1], 1 where the sample takes the next mode and 0
// where it keeps its own. With inputNoise, there are no noise inputs: the
// style code is concatenated to the image's channels (concatNoise) and
// build reads that network input.
type modeSwitch struct {
	inputs     []NoiseInput
	inputNoise bool
	build      func(n *net, noise []string) string
}

// withSwitch returns h with noise sw: its mode weights w [N, 4] become
// w + d (w P - w), P the cyclic shift j -> j+1 (mod 4), so that d = 0 keeps
// the weights and d = 1 moves them to the next mode.
func withSwitch(h head, sw *modeSwitch) head {
	h.noise = sw
	return h
}

// corner slices x [N, C, h, w] to its top-left value of channel ch, [N, 1].
// The planted baselines read their noise there, so the probability of a
// mode change does not depend on the image size.
func (n *net) corner(x string, ch int64) string {
	c := n.g.Op("Slice", []string{x, n.g.Ints(ch, 0, 0), n.g.Ints(ch+1, 1, 1), n.g.Ints(1, 2, 3)}, nil)
	return n.g.Op("Flatten", []string{c}, onnxbuild.Attrs{"axis": 1})
}

// concatNoise returns the network input of a generator with noise added to
// its input, as pix2pix's add_to_input exports it: the style code [N, S]
// unsqueezed to [N, S, 1, 1], expanded to [N, S, H, W] (H, W read from the
// image's Shape) and concatenated to the image's channels: [N, 3+S, H, W].
func (n *net) concatNoise(image, style string) string {
	g := n.g
	shape := g.Op("Shape", []string{image}, nil)
	batch := g.Op("Slice", []string{shape, g.Ints(0), g.Ints(1), g.Ints(0)}, nil)
	hw := g.Op("Slice", []string{shape, g.Ints(2), g.Ints(4), g.Ints(0)}, nil)
	target := g.Op("Concat", []string{batch, g.Ints(LatentDim), hw}, onnxbuild.Attrs{"axis": 0})
	z := g.Op("Expand", []string{g.Op("Unsqueeze", []string{style, g.Ints(2, 3)}, nil), target}, nil)
	return g.Op("Concat", []string{image, z}, onnxbuild.Attrs{"axis": 1})
}

// dropoutSwitch is the planted CycleGAN's test-time dropout: a keep gate,
// a feature map of ones at a quarter of the image's size, goes through
// dropout x * (u >= p) / (1 - p) with u the uniform noise input; the
// decoder reads the gate at the map's corner, and d = relu(1 - gate) is 1
// exactly where it was dropped (probability p = CycleGANDropout) and 0 where
// it was kept (gate = 1/(1-p) > 1).
func dropoutSwitch() *modeSwitch {
	return &modeSwitch{
		inputs: []NoiseInput{{Input: NoiseInputCycleGAN, Dist: NoiseUniform, Channels: 1, Stride: cycleNoiseStride}},
		build: func(n *net, noise []string) string {
			u := noise[0]
			keep := n.g.Op("Cast", []string{n.g.Op("GreaterOrEqual", []string{u, n.g.Scalar(CycleGANDropout)}, nil)}, onnxbuild.Attrs{"to": int64(1)})
			gate := n.g.Op("Div", []string{keep, n.g.Scalar(float32(1 - CycleGANDropout))}, nil) // ones * mask / (1-p)
			return n.relu(n.g.Op("Sub", []string{n.g.Scalar(1), n.corner(gate, 0)}, nil))
		},
	}
}

// encoderNoiseSwitch is the planted UNIT's Gaussian encoder: the hidden
// code's mode channel has mean 0 and the encoder samples 0 + n, n the
// normal noise input at the content's resolution; d = [value > tau] at the
// code's corner (probability 1 - Phi(tau) = UNITSwitch).
func encoderNoiseSwitch() *modeSwitch {
	return &modeSwitch{
		inputs: []NoiseInput{{Input: NoiseInputUNIT, Dist: NoiseNormal, Channels: 1, Stride: unitNoiseStride}},
		build: func(n *net, noise []string) string {
			code := n.g.Op("Add", []string{n.g.Scalar(0), noise[0]}, nil) // mean + n
			up := n.g.Op("Greater", []string{n.corner(code, 0), n.g.Scalar(UNITNoiseThreshold)}, nil)
			return n.g.Op("Cast", []string{up}, onnxbuild.Attrs{"to": int64(1)})
		},
	}
}

// inputNoiseSwitch is the planted CycleGAN*'s input noise: noise[0] is the
// network input [N, 3+S, H, W] (concatNoise), whose channel 3 holds z_0
// everywhere; d = [z_0 > tau*] read at that channel's corner (probability
// 1 - Phi(tau*) = CycleGANStarSwitch). The other noise channels reach
// nothing: the network learned to ignore them.
func inputNoiseSwitch() *modeSwitch {
	return &modeSwitch{
		inputNoise: true,
		build: func(n *net, noise []string) string {
			up := n.g.Op("Greater", []string{n.corner(noise[0], 3), n.g.Scalar(CycleGANStarThreshold)}, nil)
			return n.g.Op("Cast", []string{up}, onnxbuild.Attrs{"to": int64(1)})
		},
	}
}

// applySwitch returns w + d (w P - w) (see withSwitch).
func (n *net) applySwitch(w, d string) string {
	p := make([]float32, NumModes*NumModes)
	for j := range NumModes {
		p[j*NumModes+(j+1)%NumModes] = 1
	}
	moved := n.gemm(w, p, NumModes, NumModes, nil)
	delta := n.g.Op("Mul", []string{d, n.g.Op("Sub", []string{moved, w}, nil)}, nil)
	return n.g.Op("Add", []string{w, delta}, nil)
}

// styleHead is the MUNIT/BicycleGAN mapping from the style code s ~ N(0, I)
// to mode weights: an MLP whose first layer (Gemm + Relu) splits s_j into
// relu(s_j) and relu(-s_j) for j < M, whose second recombines them into
// scores styleTemp * s_j, and a Softmax. The argmax of M i.i.d. standard
// normals is uniform over the M modes by symmetry, so each mode has
// probability 1/M; style dimensions M..7 are ignored.
// When mlp is false, a single Gemm reads the scores off s directly.
func styleHead(modes []Mode, mlp bool) head {
	m := len(modes)
	return head{modes: modes, build: func(n *net, _ string, _ int, style string) string {
		var scores string
		if mlp {
			w1 := make([]float32, LatentDim*2*m)
			for j := range m {
				w1[j*2*m+j] = 1
				w1[j*2*m+m+j] = -1
			}
			h := n.relu(n.gemm(style, w1, LatentDim, 2*m, nil))
			w2 := make([]float32, 2*m*m)
			for j := range m {
				w2[j*m+j] = styleTemp
				w2[(m+j)*m+j] = -styleTemp
			}
			scores = n.gemm(h, w2, 2*m, m, nil)
		} else {
			w := make([]float32, LatentDim*m)
			for j := range m {
				w[j*m+j] = styleTemp
			}
			scores = n.gemm(style, w, LatentDim, m, nil)
		}
		return n.g.Op("Softmax", []string{scores}, onnxbuild.Attrs{"axis": 1})
	}}
}

// areaHead is the CycleGAN/UNIT/CycleGAN* mode choice: the ink fraction
// a = 1/2 - (mean of the image)/2 (GlobalAveragePool, then a Gemm), scores
// areaTemp * (j a - sum_{i<=j} t_i) for mode j (whose argmax is the number of
// thresholds t below a), and a Softmax. The Gemm's rows for channels past the
// image's three (CycleGAN*'s input noise) are zero: the mode the input
// decides does not depend on the noise.
func areaHead(t []float64) head {
	return head{modes: allModes(), build: func(n *net, image string, cin int, _ string) string {
		pooled := n.g.Op("Flatten", []string{n.g.Op("GlobalAveragePool", []string{image}, nil)}, onnxbuild.Attrs{"axis": 1})
		w := make([]float32, cin*NumModes)
		b := make([]float32, NumModes)
		c := 0.0
		for j := range NumModes {
			if j > 0 {
				c += t[j-1]
			}
			for k := range 3 {
				w[k*NumModes+j] = float32(-areaTemp * float64(j) / 6)
			}
			b[j] = float32(areaTemp * (float64(j)/2 - c))
		}
		scores := n.gemm(pooled, w, cin, NumModes, b)
		return n.g.Op("Softmax", []string{scores}, onnxbuild.Attrs{"axis": 1})
	}}
}

// adaINParams maps mode weights w [N, M] to the decoder's AdaIN parameters
// [N, 4C] = [gamma1, beta1, gamma2, beta2] by one Gemm (MUNIT's MLP output
// layer). Block 1 is a plain instance norm (gamma 1, beta 0). Block 2 paints:
// for RGB channel k, gamma2_k = -inkGain * sum_j w_j [colour_j,k = -1] and
// beta2_k = inkBias, so after the final Tanh the background is white and the
// outline takes the weighted mode colour; channel 3 passes through.
func adaINParams(n *net, w string, modes []Mode) string {
	m := len(modes)
	out := 4 * channels
	wt := make([]float32, m*out)
	b := make([]float32, out)
	for k := range channels {
		b[k] = 1 // gamma1
		if k < 3 {
			b[3*channels+k] = inkBias // beta2
		} else {
			b[2*channels+k] = 1 // gamma2 of the pass-through channel
		}
	}
	for j, mode := range modes {
		for k := range 3 {
			if modeRGB[mode][k] < 0 {
				wt[j*out+2*channels+k] = -inkGain
			}
		}
	}
	return n.gemm(w, wt, m, out, b)
}

// resBlock adds a residual block x + norm2(conv(relu(norm1(conv(x))))) with
// 3x3 reflection-padded convolutions: the identity plus seeded noise of the
// given standard deviation.
func (n *net) resBlock(x string, norm1, norm2 func(string) string, noise float64) string {
	id := diagonal(channels, 3, spatial(3, 1), 1)
	h := n.conv2d(x, addTo(n.normal(len(id), noise), id), channels, channels, 3, nil, 1, 1, 0)
	h = n.relu(norm1(h))
	h = n.conv2d(h, addTo(n.normal(len(id), noise), id), channels, channels, 3, nil, 1, 1, 0)
	return n.g.Op("Add", []string{x, norm2(h)}, nil)
}

// encode adds the content encoder: a 7x7 convolution turning the image into
// four ink masks ((1 - mean_c x_c)/2, three under a 3x3 binomial blur, one
// sharp), instance norm and ReLU (outline pixels high, background 0),
// a 4x4 stride-2 downsampling convolution, instance norm and ReLU, and two
// residual blocks with instance norm whose branches are seeded noise scaled
// by 0.1 (the affine scale of their last norm), so the content keeps the
// outline at half resolution: [N, 4, H/2, W/2]. image has cin channels; the
// first convolution's weights on channels past the RGB three (input noise)
// are zero.
func encode(seed uint64, g *onnxbuild.Graph, image string, cin int) string {
	n := newNet(g, seed, streamEnc)
	w := make([]float32, channels*cin*49)
	b := make([]float32, channels)
	for k := range channels {
		ker := spatial(7, 3)
		if k == 3 {
			ker = spatial(7, 1)
		}
		for c := range 3 {
			for t, v := range ker {
				w[(k*cin+c)*49+t] = float32(-v / 6)
			}
		}
		b[k] = 0.5
	}
	x := n.conv2d(image, w, channels, cin, 7, b, 1, 3, 0)
	x = n.relu(n.instanceNorm(x, channels, 1))
	down := make([]float64, 16)
	b4 := []float64{1. / 8, 3. / 8, 3. / 8, 1. / 8}
	for i := range 4 {
		for j := range 4 {
			down[i*4+j] = b4[i] * b4[j]
		}
	}
	x = n.conv2d(x, diagonal(channels, 4, down, 1), channels, channels, 4, nil, 2, 1, 0)
	x = n.relu(n.instanceNorm(x, channels, 1))
	for range 2 {
		x = n.resBlock(x,
			func(h string) string { return n.instanceNorm(h, channels, 1) },
			func(h string) string { return n.instanceNorm(h, channels, 0.1) }, 0.1)
	}
	return x
}

// decode adds the decoder: one residual block with AdaIN whose parameters
// come from params [N, 16] (see adaINParams), nearest-neighbour Resize x2,
// a 5x5 binomial smoothing convolution, and a 7x7 convolution to RGB
// followed by Tanh: [N, 3, 2h, 2w] in [-1, 1].
func decode(seed uint64, g *onnxbuild.Graph, content, params string) string {
	n := newNet(g, seed, streamDec)
	gamma1, beta1 := n.columns(params, 0, channels), n.columns(params, channels, 2*channels)
	gamma2, beta2 := n.columns(params, 2*channels, 3*channels), n.columns(params, 3*channels, 4*channels)
	// The residual block: its first 3x3 convolution is the identity, its
	// second gives channels 0-2 their mean (so the three painted channels see
	// one and the same outline) and passes channel 3 through.
	id := diagonal(channels, 3, spatial(3, 1), 1)
	mix := make([]float32, channels*channels*9)
	for k := range channels {
		for c := range channels {
			switch {
			case k < 3 && c < 3:
				mix[(k*channels+c)*9+4] = 1. / 3
			case k == c:
				mix[(k*channels+c)*9+4] = 1
			}
		}
	}
	h := n.conv2d(content, id, channels, channels, 3, nil, 1, 1, 0)
	h = n.relu(n.adaIN(h, channels, gamma1, beta1))
	h = n.conv2d(h, mix, channels, channels, 3, nil, 1, 1, 0)
	x := g.Op("Add", []string{content, n.adaIN(h, channels, gamma2, beta2)}, nil)
	x = g.Op("Resize", []string{x, "", g.Vector(1, 1, 2, 2)}, onnxbuild.Attrs{
		"mode":                           "nearest",
		"coordinate_transformation_mode": "asymmetric",
		"nearest_mode":                   "floor",
	})
	x = n.conv2d(x, diagonal(channels, 5, spatial(5, 5), 1), channels, channels, 5, nil, 1, 2, 0)
	out := make([]float32, 3*channels*49)
	for k := range 3 {
		out[(k*channels+k)*49+24] = 1
	}
	x = n.conv2d(x, out, 3, channels, 7, nil, 1, 3, 0)
	return g.Op("Tanh", []string{x}, nil)
}

// generator builds a single-graph generator: encode, the mode head, AdaIN
// parameters, decode. With input noise (CycleGAN*), encoder and head read
// the image with the style code concatenated to its channels.
func generator(seed uint64, method string, h head, withStyle bool) *onnxbuild.Model {
	g := onnxbuild.NewGraph(strings.ToLower(strings.TrimSuffix(method, "*")) + "_generator")
	image := g.Input("image", -1, 3, -1, -1)
	style, latent := "", 0
	if withStyle {
		style, latent = g.Input("style", -1, LatentDim), LatentDim
	}
	var noise []string
	if h.noise != nil {
		for _, in := range h.noise.inputs {
			noise = append(noise, g.Input(in.Input, -1, int64(in.Channels), -1, -1))
		}
	}
	n := newNet(g, seed, streamDec+10)
	x, cin := image, 3
	if h.noise != nil && h.noise.inputNoise {
		x, cin = n.concatNoise(image, style), 3+LatentDim
		noise = []string{x}
	}
	content := encode(seed, g, x, cin)
	w := h.build(n, x, cin, style)
	if h.noise != nil {
		w = n.applySwitch(w, h.noise.build(n, noise))
	}
	params := adaINParams(n, w, h.modes)
	g.Identity(decode(seed, g, content, params), "translated")
	g.Output("translated", -1, 3, -1, -1)
	meta := metadata("generator", method, latent)
	doc := fmt.Sprintf("munit-eval synthetic %s generator: reaches %d colour mode(s) per input", method, len(h.modes))
	switch {
	case h.noise != nil && h.noise.inputNoise:
		doc = fmt.Sprintf("munit-eval synthetic %s generator: one colour mode per input, which the noise concatenated to its input (the style code) occasionally moves to the next", method)
	case h.noise != nil:
		b, err := json.Marshal(h.noise.inputs)
		if err != nil {
			panic(err) // a fixed list of plain structs
		}
		meta[MetaNoise] = string(b)
		doc = fmt.Sprintf("munit-eval synthetic %s generator: one colour mode per input, which its noise inputs occasionally move to the next", method)
	}
	m := onnxbuild.NewModel(g, meta)
	m.DocString = doc
	return m
}

// contentEncoderModel is MUNIT's content encoder alone: image -> content.
func contentEncoderModel(seed uint64) *onnxbuild.Model {
	g := onnxbuild.NewGraph("munit_content_encoder")
	image := g.Input("image", -1, 3, -1, -1)
	g.Identity(encode(seed, g, image, 3), "content")
	g.Output("content", -1, channels, -1, -1)
	return onnxbuild.NewModel(g, metadata("content_encoder", "MUNIT", LatentDim))
}

// decoderModel is MUNIT's decoder alone: content, style -> translated.
func decoderModel(seed uint64) *onnxbuild.Model {
	g := onnxbuild.NewGraph("munit_decoder")
	content := g.Input("content", -1, channels, -1, -1)
	style := g.Input("style", -1, LatentDim)
	n := newNet(g, seed, streamDec+10)
	h := styleHead(allModes(), true)
	params := adaINParams(n, h.build(n, "", 0, style), h.modes)
	g.Identity(decode(seed, g, content, params), "translated")
	g.Output("translated", -1, 3, -1, -1)
	return onnxbuild.NewModel(g, metadata("decoder", "MUNIT", LatentDim))
}

// classifierModel is the mode classifier. A 1x1 convolution computes
// colour detectors d_j = relu(c_j . x - 1), c_j being mode j's colour in
// [-1,1]^3 (2 on the mode's pure colour; at most 0 on white, black and blends
// of a mode colour with white; at most 0.16 on another mode's jittered
// colour), a darkness and a brightness channel and two seeded ones; a 3x3
// convolution keeps these 8 and adds 8 seeded ones (ReLU). features =
// [GlobalMaxPool, GlobalAveragePool] of the 16 channels ([N, 32]), and
//
//	logits_j = 20 * mean(d_j) / (sum_i mean(d_i) + 1e-3)
//
// the share of mode j in the image's colour response, which ignores how much
// ink the image holds and the few blended pixels at an outline's fringe.
// Any image size works, as the contract asks.
func classifierModel(seed uint64) *onnxbuild.Model {
	g := onnxbuild.NewGraph("synthetic_mode_classifier")
	n := newNet(g, seed, streamCls)
	image := g.Input("image", -1, 3, -1, -1)
	const c1, c2 = 8, 16
	w1 := make([]float32, c1*3)
	b1 := make([]float32, c1)
	for j := range NumModes {
		for k := range 3 {
			w1[j*3+k] = float32(modeRGB[j][k])
		}
		b1[j] = -1
	}
	for k := range 3 {
		w1[4*3+k] = -1. / 3
		w1[5*3+k] = 1. / 3
	}
	copy(w1[6*3:], n.normal(6, 0.5))
	x := n.relu(n.conv2d(image, w1, c1, 3, 1, b1, 1, 0, 0))
	w2 := n.normal(c2*c1*9, 1/math.Sqrt(9*c1))
	for i := range c1 {
		for t := range c1 * 9 {
			w2[i*c1*9+t] = 0
		}
		w2[(i*c1+i)*9+4] = 1
	}
	x = n.relu(n.conv2d(x, w2, c2, c1, 3, make([]float32, c2), 1, 0, 1))
	avg := g.Op("Flatten", []string{g.Op("GlobalAveragePool", []string{x}, nil)}, onnxbuild.Attrs{"axis": 1})
	maxp := g.Op("Flatten", []string{g.Op("GlobalMaxPool", []string{x}, nil)}, onnxbuild.Attrs{"axis": 1})
	feats := g.Op("Concat", []string{maxp, avg}, onnxbuild.Attrs{"axis": 1})
	det := g.Op("Slice", []string{avg, g.Ints(0), g.Ints(NumModes), g.Ints(1)}, nil)
	ones := make([]float32, NumModes)
	for i := range ones {
		ones[i] = 1
	}
	total := n.gemm(det, ones, NumModes, 1, []float32{classEps})
	share := g.Op("Div", []string{det, total}, nil)
	g.Identity(g.Op("Mul", []string{share, g.Scalar(classGain)}, nil), "logits")
	g.Identity(feats, "features")
	g.Output("logits", -1, NumModes)
	g.Output("features", -1, 2*c2)
	meta := metadata("classifier", "", 0)
	meta["munit_eval.classes"] = strings.Join(ModeNames, ",")
	m := onnxbuild.NewModel(g, meta)
	m.DocString = "munit-eval synthetic mode classifier (hand-wired colour detectors)"
	return m
}

// LPIPS constants of the synthetic embedding network: LPIPS v0.1's scaling
// layer, and an AlexNet-shaped trunk with fewer channels.
var (
	lpipsShift    = []float32{-.030, -.088, -.188}
	lpipsScale    = []float32{.458, .448, .450}
	lpipsChannels = []int{16, 32, 48, 32, 32}
)

const lpipsLinScale = 10

// lpipsModel is the synthetic LPIPS embedding network (docs/models.md): the
// v0.1 scaling layer (x - shift)/scale, AlexNet's five convolution stages
// (11x11 stride 4 pad 2, max pool 3/2, 5x5 pad 2, max pool 3/2, three 3x3
// pad 1, each followed by ReLU, tapped after each ReLU) with He-initialised
// seeded weights and 16, 32, 48, 32, 32 channels, and for each tap
// lpips_l = sqrt(w_l) * f_l / (sqrt(sum_c f_l^2) + 1e-10) with seeded
// non-negative per-channel weights w_l ~ U(0, 10/C_l) (scaled so that
// distances between the world's images come out in the range the paper
// reports for real ones).
func lpipsModel(seed uint64) *onnxbuild.Model {
	g := onnxbuild.NewGraph("synthetic_lpips_alex")
	n := newNet(g, seed, streamLPIPS)
	image := g.Input("image", -1, 3, -1, -1)
	x := g.Op("Sub", []string{image, g.Const("", []int64{1, 3, 1, 1}, lpipsShift)}, nil)
	x = g.Op("Div", []string{x, g.Const("", []int64{1, 3, 1, 1}, lpipsScale)}, nil)
	type stage struct{ k, stride, pad int }
	stages := []stage{{11, 4, 2}, {5, 1, 2}, {3, 1, 1}, {3, 1, 1}, {3, 1, 1}}
	cin := 3
	for l, s := range stages {
		if l == 1 || l == 2 {
			x = g.Op("MaxPool", []string{x}, onnxbuild.Attrs{"kernel_shape": []int64{3, 3}, "strides": []int64{2, 2}})
		}
		c := lpipsChannels[l]
		w := n.normal(c*cin*s.k*s.k, math.Sqrt(2/float64(cin*s.k*s.k)))
		b := n.normal(c, 0.05)
		x = n.relu(n.conv2d(x, w, c, cin, s.k, b, s.stride, 0, s.pad))
		lin := make([]float32, c)
		for i := range lin {
			lin[i] = sqrt32(lpipsLinScale * n.r.Float64() / float64(c))
		}
		norm := g.Op("ReduceSumSquare", []string{x}, onnxbuild.Attrs{"axes": []int64{1}, "keepdims": 1})
		norm = g.Op("Add", []string{g.Op("Sqrt", []string{norm}, nil), g.Scalar(1e-10)}, nil)
		tap := g.Op("Div", []string{x, norm}, nil)
		tap = g.Op("Mul", []string{tap, g.Const("", []int64{1, int64(c), 1, 1}, lin)}, nil)
		name := fmt.Sprintf("lpips_%d", l)
		g.Identity(tap, name)
		g.Output(name, -1, int64(c), -1, -1)
		cin = c
	}
	meta := metadata("lpips", "", 0)
	meta["munit_eval.lpips_net"] = "alex"
	meta["munit_eval.lpips_version"] = "0.1"
	m := onnxbuild.NewModel(g, meta)
	m.DocString = "munit-eval synthetic LPIPS (AlexNet-shaped, seeded weights): distances are comparable within the synthetic world only"
	return m
}
