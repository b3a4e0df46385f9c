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

	"github.com/munit-eval/munit-eval/inception"
	"github.com/munit-eval/munit-eval/lpips"
	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/translate"
)

// Metric names, as the evaluation file's metrics list spells them.
const (
	MetricLPIPS = "lpips"
	MetricIS    = "is"
	MetricFID   = "fid"
	MetricKID   = "kid"
	// MetricPRDC is precision, recall, density and coverage.
	MetricPRDC = "prdc"
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

// Metrics says which metrics to compute. IS covers IS and CIS; PRDC
// covers precision, recall, density and coverage.
type Metrics struct {
	LPIPS, IS, FID, KID bool
	PRDC                bool
}

// AllMetrics asks for the paper's metrics and FID/KID (not PRDC, which is
// asked for by name: it costs three N×N distance matrices).
func AllMetrics() Metrics { return Metrics{LPIPS: true, IS: true, FID: true, KID: true} }

// ParseMetrics reads a metrics list (lpips, is, fid, kid, prdc).
func ParseMetrics(names []string) (Metrics, error) {
	var w Metrics
	for _, n := range names {
		switch n {
		case MetricLPIPS:
			w.LPIPS = true
		case MetricIS:
			w.IS = true
		case MetricFID:
			w.FID = true
		case MetricKID:
			w.KID = true
		case MetricPRDC:
			w.PRDC = true
		default:
			return w, fmt.Errorf("unknown metric %q (want lpips, is, fid, kid, prdc)", n)
		}
	}
	return w, nil
}

// Distance reports whether FID, KID or PRDC is asked for: they need the
// features of real images.
func (w Metrics) Distance() bool { return w.FID || w.KID || w.PRDC }

// PerSample reports whether a metric scores every sample of an input (IS,
// FID, KID, PRDC), so that K = samples_per_input samples are needed.
func (w Metrics) PerSample() bool { return w.IS || w.FID || w.KID || w.PRDC }

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
	// Pairing is lpips.Independent, lpips.Consecutive or lpips.All.
	Pairing string `yaml:"pairing"`
	// Bootstrap is the number of resamples over inputs of the 95%
	// intervals (0: no interval; LPIPS diversity needs at least 1).
	Bootstrap int `yaml:"bootstrap"`
	// Splits is the number of splits of the conventional Inception Score.
	Splits int `yaml:"splits"`
	// Size resizes every image (shorter side, centre crop); 0 keeps sizes.
	Size int `yaml:"size"`
	// Batch is the number of samples per generator run.
	Batch int `yaml:"batch"`
	// FIDBootstrap is the number of FID bootstrap resamples
	// (inception.AutoFIDBootstrap: 100 for features of up to 256
	// dimensions, else none; 0: none).
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
	// Seed draws latents, the input subset, real pairs and bootstraps. The
	// evaluation file gives it at the top level.
	Seed int64 `yaml:"-"`
}

// DefaultProtocol is the MUNIT paper's protocol: 100 inputs, 100 samples
// each, 19 independent LPIPS pairs per input, 2,000 bootstrap resamples,
// the 10-split Inception Score, KID over 100 subsets of 1,000.
func DefaultProtocol() Protocol {
	return Protocol{NumInputs: 100, Select: translate.SelectFirst, SamplesPerInput: 100, Pairs: 19,
		Pairing: string(lpips.Independent), Bootstrap: 2000, Splits: metrics.DefaultSplits, Batch: 16,
		FIDBootstrap: inception.AutoFIDBootstrap, KIDSubsets: metrics.DefaultKIDSubsets,
		KIDSubsetSize: metrics.DefaultKIDSubsetSize, Resize: ResizeLegacy, PRK: metrics.DefaultPRK, DCK: metrics.DefaultDCK}
}

// FieldError is a protocol value out of its bounds. Field is the yaml key;
// the CLI names the flag instead.
type FieldError struct {
	Field string
	// Rule says what the value must be, e.g. "must be at least 1, got 0".
	Rule string
}

func (e *FieldError) Error() string { return e.Field + " " + e.Rule }

// Validate checks every value of the protocol for the metrics w asks for.
// It is the only place the protocol's bounds are written.
func (p Protocol) Validate(w Metrics) error {
	atLeast := func(field string, v, min int) error {
		if v < min {
			return &FieldError{field, fmt.Sprintf("must be at least %d, got %d", min, v)}
		}
		return nil
	}
	pairing, err := lpips.ParsePairing(p.Pairing)
	if err != nil {
		return &FieldError{"pairing", fmt.Sprintf("%q: unknown pairing (want independent, consecutive or all)", p.Pairing)}
	}
	bootMin := 0
	if w.LPIPS {
		bootMin = 1 // the diversity always has an interval
	}
	for _, c := range []struct {
		field    string
		v, least int
	}{
		{"num_inputs", p.NumInputs, 1},
		{"samples_per_input", p.SamplesPerInput, 1},
		{"pairs", p.Pairs, 1},
		{"bootstrap", p.Bootstrap, bootMin},
		{"splits", p.Splits, 1},
		{"size", p.Size, 0},
		{"batch", p.Batch, 1},
		{"fid_bootstrap", p.FIDBootstrap, inception.AutoFIDBootstrap},
		{"kid_subsets", p.KIDSubsets, 1},
		{"kid_subset_size", p.KIDSubsetSize, 1},
		{"num_real", p.NumReal, 0},
		{"pr_k", p.PRK, 1},
		{"dc_k", p.DCK, 1},
	} {
		if err := atLeast(c.field, c.v, c.least); err != nil {
			if c.field == "bootstrap" && w.LPIPS && p.Bootstrap == 0 {
				err.(*FieldError).Rule += " (LPIPS diversity always has its interval)"
			}
			return err
		}
	}
	if p.Select != translate.SelectFirst && p.Select != translate.SelectRandom {
		return &FieldError{"select", fmt.Sprintf("%q: want first or random", p.Select)}
	}
	if p.Resize != "" && p.Resize != ResizeLegacy && p.Resize != ResizeClean {
		return &FieldError{"resize", fmt.Sprintf("%q: want legacy or clean", p.Resize)}
	}
	if pairing == lpips.All && p.SamplesPerInput < 2 {
		return &FieldError{"samples_per_input", fmt.Sprintf("must be at least 2 for pairing all, got %d", p.SamplesPerInput)}
	}
	return nil
}

// LPIPSOptions are the lpips package's parameters for m inputs.
func (p Protocol) LPIPSOptions(m int) lpips.Options {
	return lpips.Options{Pairing: lpips.Pairing(p.Pairing), Pairs: p.Pairs, SamplesPerInput: p.SamplesPerInput,
		NumInputs: m, Bootstrap: p.Bootstrap, Seed: p.Seed}
}

// LPIPSSamples is the number of samples per input the LPIPS pairing needs.
func (p Protocol) LPIPSSamples() int {
	return lpips.SamplesNeeded(lpips.Pairing(p.Pairing), p.Pairs, p.SamplesPerInput)
}

// SamplesNeeded is the number of samples per input to draw so that every
// metric of w has enough: K for IS/FID/KID, the pairing's need for LPIPS,
// and at least 1.
func (p Protocol) SamplesNeeded(w Metrics) int {
	k := 1
	if w.PerSample() {
		k = p.SamplesPerInput
	}
	if w.LPIPS {
		k = max(k, p.LPIPSSamples())
	}
	return k
}
