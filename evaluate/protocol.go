// Package evaluate measures one method on one dataset: it acquires the
// method's samples (through the sample store, from an existing store
// folder, or from a plain folder of images read where it is), runs the
// asked metrics on them (LPIPS diversity, IS/CIS, FID/KID, precision,
// recall, density and coverage, FID against published .npz statistics)
// and returns the results document with its warnings; it also makes the
// real-data LPIPS row, folder statistics and paired-by-name distances. Both `munit-eval run` (package pipeline) and the
// metric commands of the CLI call it, so the two cannot drift apart.
//
// The protocol (how many inputs, samples, pairs, resamples...) is one type,
// Protocol, with the MUNIT paper's defaults and one Validate, filled from an
// evaluation file or from command-line flags.
package evaluate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/munit-eval/munit-eval/lpips"
	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/translate"
)

// Codes of the warnings evaluate makes (the metrics' own are in metrics
// and inception).
const (
	CodeFewerSamples   = "fewer-samples"
	CodeFewRealPairs   = "few-real-pairs"
	CodeCut            = "cut"
	CodeFewerInputs    = "fewer-inputs"
	CodeMethodMismatch = "method-mismatch"
	CodePresetLPIPS    = "preset-lpips-version"
)

// Resize modes of the features model's input, named as clean-fid names
// them.
const (
	// ResizeLegacy hands images to the network as they are; the network
	// resizes inside its graph (pytorch-fid's bilinear resize to 299).
	ResizeLegacy = "legacy"
	// ResizeClean resizes every image to CleanSize × CleanSize in Go
	// first, with Pillow's antialiased bicubic in float (clean-fid's
	// default), so the network's own resize is the identity.
	ResizeClean = "clean"
	// CleanSize is the side ResizeClean resizes to: Inception-v3's input.
	CleanSize = 299
)

// Protocol is the sampling and measuring protocol shared by every method of
// an evaluation. The yaml keys are those of the evaluation file's protocol
// section; the command-line flags are the same names with '-' for '_'.
type Protocol struct {
	// NumInputs is M, the inputs per method.
	NumInputs int `yaml:"num_inputs"`
	// Select picks the inputs: first (sorted order) or random (seeded).
	Select string `yaml:"select"`
	// SamplesPerInput is K: the samples per input IS/CIS and FID/KID use,
	// and the samples the all pairing pairs.
	SamplesPerInput int `yaml:"samples_per_input"`
	// Pairs is P, the LPIPS pairs per input (independent, consecutive).
	Pairs int `yaml:"pairs"`
	// Pairing is lpips.Independent, lpips.Consecutive, lpips.All or
	// lpips.Random.
	Pairing string `yaml:"pairing"`
	// Trials repeats the LPIPS measurement on fresh samples (DSGAN's 20
	// trials): trial t takes pairs tP..(t+1)P-1 of each input, so the
	// pairing draws P × Trials pairs; results add the trials' means and
	// their spread (results.Trials). 1: one measurement.
	Trials int `yaml:"trials"`
	// Preset names the published protocol the values started from
	// (Presets; "" when none was named).
	Preset string `yaml:"preset"`
	// Bootstrap is the number of resamples over inputs of the 95%
	// intervals (0: no interval; LPIPS diversity needs at least 1).
	Bootstrap int `yaml:"bootstrap"`
	// Splits is the number of splits of the conventional Inception Score.
	Splits int `yaml:"splits"`
	// ContiguousSplits splits the rows in order instead of shuffling them
	// as torch-fidelity does by default (numpy RandomState(2020)).
	ContiguousSplits bool `yaml:"contiguous_splits"`
	// Size resizes every image (shorter side, centre crop); 0 keeps sizes.
	Size int `yaml:"size"`
	// Batch is the number of images per network run, for every network:
	// the generator's samples, the LPIPS model's and the classifier's
	// images.
	Batch int `yaml:"batch"`
	// Streams is the number of generator runs at once, sharing the
	// threads (0: two on a CPU of two or more cores, else one).
	Streams int `yaml:"streams"`
	// FIDInterval asks for FID's interval, a jackknife over input groups:
	// FIDOn, FIDOff, or FIDAuto (on for features of up to
	// registry.MaxAutoFIDBootstrapDim dimensions: each leave-one-out
	// value is a full FID, seconds at 2,048).
	FIDInterval string `yaml:"fid_interval"`
	// FIDBootstrap is the deprecated form of FIDInterval, a count of
	// resamples that the jackknife never used: above 0 on, 0 off,
	// registry.AutoFIDBootstrap auto. It counts only while FIDInterval is
	// FIDAuto.
	FIDBootstrap int `yaml:"fid_bootstrap"`
	// KIDSubsets and KIDSubsetSize set the KID estimate.
	KIDSubsets    int `yaml:"kid_subsets"`
	KIDSubsetSize int `yaml:"kid_subset_size"`
	// NumReal is the number of real images used (0: all of the folder).
	NumReal int `yaml:"num_real"`
	// Resize is how images reach the features model (FID, KID, PRDC):
	// ResizeLegacy or ResizeClean.
	Resize string `yaml:"resize"`
	// PRK is the neighbour k of precision and recall (3, as
	// torch-fidelity), DCK that of density and coverage (5, as prdc).
	PRK int `yaml:"pr_k"`
	DCK int `yaml:"dc_k"`
	// NDBBins is NDB's number of k-means bins K (100), NDBAlpha its
	// z-test's significance level (0.05), NDBWhiten whether the features
	// are whitened by the real set's per-dimension mean and std first
	// (gans-n-gmms utils/ndb.py's defaults).
	NDBBins   int     `yaml:"ndb_bins"`
	NDBAlpha  float64 `yaml:"ndb_alpha"`
	NDBWhiten bool    `yaml:"ndb_whiten"`
	// Seed draws latents, the input subset, real pairs and bootstraps. The
	// evaluation file gives it at the top level.
	Seed int64 `yaml:"-"`
	// Given names the keys given explicitly (a flag, or the evaluation
	// file), so that a count the samples cannot meet is an error when it
	// was asked for and a warning when it is a default (num_inputs,
	// samples_per_input), and an asked seed overrides a store's.
	Given map[string]bool `yaml:"-"`
}

// The values of FIDInterval.
const (
	FIDAuto = "auto"
	FIDOn   = "on"
	FIDOff  = "off"
)

// given reports whether key was given explicitly.
func (p Protocol) given(key string) bool { return p.Given[key] }

// Params are the values the registry's computations read.
func (p Protocol) Params() registry.Params {
	fid := registry.AutoFIDBootstrap
	switch {
	case p.FIDInterval == FIDOn:
		fid = 1
	case p.FIDInterval == FIDOff:
		fid = 0
	case p.FIDBootstrap != registry.AutoFIDBootstrap:
		fid = min(p.FIDBootstrap, 1)
	}
	return registry.Params{Seed: p.Seed, Bootstrap: p.Bootstrap, Splits: p.Splits, ContiguousSplits: p.ContiguousSplits,
		FIDBootstrap: fid, KIDSubsets: p.KIDSubsets, KIDSubsetSize: p.KIDSubsetSize, PRK: p.PRK, DCK: p.DCK,
		NDBBins: p.NDBBins, NDBAlpha: p.NDBAlpha, NDBWhiten: p.NDBWhiten}
}

// DefaultProtocol is the MUNIT paper's protocol: 100 inputs, 100 samples
// each, 19 independent LPIPS pairs per input, 2,000 bootstrap resamples,
// the 10-split Inception Score, KID over 100 subsets of 1,000. It is the
// one place of the defaults: the evaluation file, every metric command and
// translate (whose K and batch are the constants named here) start from it.
func DefaultProtocol() Protocol {
	return Protocol{NumInputs: 100, Select: translate.SelectFirst, SamplesPerInput: translate.DefaultSamples, Pairs: 19,
		Pairing: string(lpips.Independent), Trials: 1, Bootstrap: 2000, Splits: metrics.DefaultSplits, Batch: translate.DefaultBatch,
		FIDInterval: FIDAuto, FIDBootstrap: registry.AutoFIDBootstrap, KIDSubsets: metrics.DefaultKIDSubsets,
		KIDSubsetSize: metrics.DefaultKIDSubsetSize, Resize: ResizeLegacy, PRK: metrics.DefaultPRK, DCK: metrics.DefaultDCK,
		NDBBins: metrics.DefaultNDBBins, NDBAlpha: metrics.DefaultNDBAlpha}
}

// FieldError is a protocol value out of its bounds. Field is the yaml key;
// the CLI names the flag instead.
type FieldError struct {
	Field string
	// Rule says what the value must be, e.g. "must be at least 1, got 0".
	Rule string
}

func (e *FieldError) Error() string { return e.Field + " " + e.Rule }

// Upper bounds of the protocol. They keep every value from crashing the
// process or exhausting the machine (a --size of 100000 asks for a 40 GB
// image), while leaving every published protocol far inside: the MUNIT
// paper uses 256 x 256 images, 100 inputs, 100 samples, 2,000 resamples.
const (
	// MaxImagePixels is the pixel budget of one image given to a network:
	// 4096 x 4096. An input larger than this must be resized (size).
	MaxImagePixels = 4096 * 4096
	// MaxSize is the largest size: MaxSize x MaxSize is MaxImagePixels.
	MaxSize = 4096
	// MaxBatchPixels is the pixel budget of one generator batch, batch x
	// the images' pixels: 64 Mpx, e.g. 16 images of 2048 x 2048.
	MaxBatchPixels = 1 << 26
	// MaxSamples bounds num_inputs x the samples drawn per input.
	MaxSamples = 10_000_000
)

// bounds are the limits of the protocol's integers, by yaml key.
var bounds = []struct {
	field       string
	least, most int
}{
	{"num_inputs", 1, 1_000_000},
	{"samples_per_input", 1, 10_000},
	{"pairs", 1, 10_000},
	{"trials", 1, 1_000},
	{"bootstrap", 0, 100_000},
	{"splits", 1, 1_000},
	{"size", 0, MaxSize},
	{"batch", 1, 1_024},
	{"streams", 0, 64},
	{"fid_bootstrap", registry.AutoFIDBootstrap, 1_000},
	{"kid_subsets", 1, 100_000},
	{"kid_subset_size", 1, 1_000_000},
	{"num_real", 0, 10_000_000},
	{"pr_k", 1, 1_000},
	{"dc_k", 1, 1_000},
	{"ndb_bins", 0, 100_000}, // 0: the default; 1 is refused by NDB
}

// field returns the value of the integer named by its yaml key.
func (p Protocol) field(key string) int {
	switch key {
	case "num_inputs":
		return p.NumInputs
	case "samples_per_input":
		return p.SamplesPerInput
	case "pairs":
		return p.Pairs
	case "trials":
		return p.Trials
	case "bootstrap":
		return p.Bootstrap
	case "splits":
		return p.Splits
	case "size":
		return p.Size
	case "batch":
		return p.Batch
	case "streams":
		return p.Streams
	case "fid_bootstrap":
		return p.FIDBootstrap
	case "kid_subsets":
		return p.KIDSubsets
	case "kid_subset_size":
		return p.KIDSubsetSize
	case "pr_k":
		return p.PRK
	case "dc_k":
		return p.DCK
	case "ndb_bins":
		return p.NDBBins
	case "num_real":
		return p.NumReal
	}
	panic("evaluate: no protocol field " + key)
}

// Bounds returns the least and most value of a protocol integer named by
// its yaml key, and whether the key is one.
func Bounds(key string) (least, most int, ok bool) {
	for _, b := range bounds {
		if b.field == key {
			return b.least, b.most, true
		}
	}
	return 0, 0, false
}

// Validate checks every value of the protocol for the metrics es.
// It is the only place the protocol's bounds are written: each integer
// between its least and most value, the size and batch within the pixel
// budgets (MaxImagePixels, MaxBatchPixels), and num_inputs x the samples
// drawn within MaxSamples.
func (p Protocol) Validate(es []*registry.Entry) error {
	pairs := registry.NeedsOf(es).Has(registry.NeedPairs)
	pairing, err := lpips.ParsePairing(p.Pairing)
	if err != nil {
		return &FieldError{"pairing", fmt.Sprintf("%q: unknown pairing (want independent, consecutive, all or random)", p.Pairing)}
	}
	if _, ok := PresetNamed(p.Preset); p.Preset != "" && !ok {
		return &FieldError{"preset", fmt.Sprintf("%q: unknown protocol preset (want %s)", p.Preset, strings.Join(PresetNames(), ", "))}
	}
	for _, b := range bounds {
		least, v := b.least, p.field(b.field)
		if b.field == "bootstrap" && pairs {
			least = 1 // the diversity always has an interval
		}
		switch {
		case v < least:
			e := &FieldError{b.field, fmt.Sprintf("must be at least %d, got %d", least, v)}
			if b.field == "bootstrap" && pairs && v == 0 {
				e.Rule += " (LPIPS diversity always has its interval)"
			}
			return e
		case v > b.most:
			e := &FieldError{b.field, fmt.Sprintf("must be at most %d, got %d", b.most, v)}
			if b.field == "size" {
				e.Rule += fmt.Sprintf(" (the pixel budget is %d x %d per image)", MaxSize, MaxSize)
			}
			return e
		}
	}
	if p.NDBAlpha != 0 && !(p.NDBAlpha > 0 && p.NDBAlpha < 1) {
		return &FieldError{"ndb_alpha", fmt.Sprintf("must be between 0 and 1, got %g", p.NDBAlpha)}
	}
	if p.NDBBins == 1 {
		return &FieldError{"ndb_bins", "must be at least 2, got 1"}
	}
	if p.Select != translate.SelectFirst && p.Select != translate.SelectRandom {
		return &FieldError{"select", fmt.Sprintf("%q: want first or random", p.Select)}
	}
	if p.Resize != "" && p.Resize != ResizeLegacy && p.Resize != ResizeClean {
		return &FieldError{"resize", fmt.Sprintf("%q: want legacy or clean", p.Resize)}
	}
	if p.FIDInterval != "" && p.FIDInterval != FIDAuto && p.FIDInterval != FIDOn && p.FIDInterval != FIDOff {
		return &FieldError{"fid_interval", fmt.Sprintf("%q: want auto, on or off", p.FIDInterval)}
	}
	if (pairing == lpips.All || pairing == lpips.Random) && p.SamplesPerInput < 2 {
		return &FieldError{"samples_per_input", fmt.Sprintf("must be at least 2 for pairing %s, got %d", pairing, p.SamplesPerInput)}
	}
	if n, k := p.Pairs*max(p.Trials, 1), p.SamplesPerInput; pairing == lpips.Random && pairs && n > k*(k-1)/2 {
		return &FieldError{"pairs", fmt.Sprintf("x trials is %d random pairs, more than the %d distinct pairs of samples_per_input %d", n, k*(k-1)/2, k)}
	}
	if p.Trials > 1 && pairing == lpips.All {
		return &FieldError{"trials", fmt.Sprintf("%d: the all pairing has no fresh pairs to repeat on (use independent, consecutive or random)", p.Trials)}
	}
	if p.Size > 0 {
		if err := CheckBatchPixels(p.Batch, int64(p.Size)*int64(p.Size)); err != nil {
			return err
		}
	}
	if n := int64(p.NumInputs) * int64(p.SamplesNeeded(es)); n > MaxSamples {
		return &FieldError{"num_inputs", fmt.Sprintf("x %d samples per input is %d samples, more than the %d one evaluation draws", p.SamplesNeeded(es), n, MaxSamples)}
	}
	return nil
}

// CheckBatchPixels checks a generator batch of images of pixels pixels
// each against MaxBatchPixels, naming the batch that would fit.
func CheckBatchPixels(batch int, pixels int64) error {
	if pixels <= 0 || int64(batch)*pixels <= MaxBatchPixels {
		return nil
	}
	fit := max(MaxBatchPixels/pixels, 1)
	return &FieldError{"batch", fmt.Sprintf("%d of %s images is %s, above the pixel budget of %s per batch (lower batch to %d or the size)",
		batch, mpx(pixels), mpx(int64(batch)*pixels), mpx(MaxBatchPixels), fit)}
}

// mpx writes a pixel count in megapixels.
func mpx(n int64) string { return fmt.Sprintf("%.1f Mpx", float64(n)/1e6) }

// LPIPSSamples is the number of samples per input the LPIPS pairing needs.
func (p Protocol) LPIPSSamples() int {
	return lpips.SamplesNeeded(lpips.Pairing(p.Pairing), p.PairsDrawn(), p.SamplesPerInput)
}

// PairsDrawn is the number of LPIPS pairs per input over all trials.
func (p Protocol) PairsDrawn() int {
	if lpips.Pairing(p.Pairing) == lpips.All {
		return p.Pairs
	}
	return p.Pairs * max(p.Trials, 1)
}

// perSample reports whether one of es scores every sample of an input.
func perSample(es []*registry.Entry) bool {
	return slices.ContainsFunc(es, func(e *registry.Entry) bool { return e.PerSample })
}

// SamplesNeeded is the number of samples per input to draw so that every
// metric of es has enough: K for the per-sample ones (IS, FID, KID, PRDC),
// the pairing's need for the pair distances (LPIPS), and at least 1.
func (p Protocol) SamplesNeeded(es []*registry.Entry) int {
	k := 1
	if perSample(es) {
		k = p.SamplesPerInput
	}
	if registry.NeedsOf(es).Has(registry.NeedPairs) {
		k = max(k, p.LPIPSSamples())
	}
	return k
}
