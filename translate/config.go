package translate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// Config is one translate run. DefaultConfig holds the defaults; zero values
// of optional fields mean "not asked".
type Config struct {
	// Generator is the generator ONNX model (single graph), or the content
	// encoder of the two-stage form when Decoder is set.
	Generator string
	// Decoder is the decoder ONNX model of the two-stage form (docs/models.md):
	// the content of each input is computed once for all its samples.
	Decoder string
	// FromFolder is a folder of pre-generated samples to copy into the store
	// instead of running a generator (layouts <stem>/<k>.png,
	// <stem>_<k>.png or <stem>.png; see scanFolder). Method is then required.
	FromFolder string

	// Inputs is the input image folder; Out the store root (samples go to
	// Out/MethodDir(method)).
	Inputs string
	Out    string
	// Method names the method, overriding the model's munit_eval.method.
	Method string

	// NumInputs is M, the number of inputs (0: all of the folder).
	NumInputs int
	// Select is SelectFirst (the first M in sorted order) or SelectRandom (a
	// subset of M drawn with Seed, kept in sorted order).
	Select string
	// Samples is K, the samples per input. 0 picks: the second axis of the
	// latents file, the pre-generated folder's count, 1 for a deterministic
	// generator, and DefaultSamples for a stochastic one.
	Samples int
	// Seed draws the latent codes (Latent) and the random input subset.
	Seed int64
	// Latents is a .npy file of latent codes, float32 [M, K, S] or [M, S]
	// (K = 1), used instead of drawing them from Seed.
	Latents string
	// StyleEncoder and References make the run reference-guided: the style
	// code of each sample is StyleEncoder's code of a reference image of
	// the folder References, chosen per ReferenceOrder (ReferenceRandom,
	// the default, or ReferenceSorted).
	StyleEncoder   string
	References     string
	ReferenceOrder string
	// Mapping is a mapping network (role mapping, StarGAN v2): the drawn
	// latent (seed or Latents) goes through it, with the target domain,
	// to the style code the generator takes.
	Mapping string
	// TargetDomain names the target domain of a multi-domain model (a
	// name of its munit_eval.domains, or an index).
	TargetDomain string
	// Repeat lets a deterministic generator fill K > 1 samples per input with
	// copies of its one output (diversity 0, as it should be).
	Repeat bool
	// Batch is the most samples per network run. On CPU a run also holds
	// at most CPUBatchPixels output pixels (at least one sample), so that
	// 256×256 generators run one sample at a time: measured faster per
	// sample than batches of 4 or 8 (docs/performance.md).
	Batch int
	// Size, when > 0, resizes every input (shorter side to Size, centre crop
	// Size x Size, images.ResizeCrop) before the generator; 0 feeds the
	// images as they are.
	Size int
	// Force discards what the run's folder holds when it cannot be reused
	// (inputs whose bytes changed, a random subset of another size, a
	// manifest that cannot be read) instead of refusing. Runs of another
	// identity (model, seed, ...) need no Force: they get their own folder.
	Force bool

	// Shard, when Shard.Sharded(), runs only the inputs the shard owns,
	// writing its own manifest fragment, so that N processes (on N machines
	// sharing the store's filesystem) together produce the store of one
	// run; see ParseShard.
	Shard Shard
	// Repair reads a damaged (for example truncated) manifest or fragment
	// for what is intact in it instead of refusing; every sample it lists
	// is still checked by its SHA-256 before reuse.
	Repair bool
	// CheckOnly finds the run's folder as Run would and checks that it
	// holds every sample of the run, computing and writing nothing: the
	// scoring step of a sharded evaluation. A store that lacks samples is
	// an *IncompleteError naming them (see checkOnly).
	CheckOnly bool

	// Threads and Device configure onnxruntime (model.Options): Threads is
	// the cores the run uses in all (0: every core).
	Threads int
	Device  string
	// Streams is the number of generator runs in flight at once, sharing
	// the Threads between them (0: two on a CPU with two or more threads,
	// else one; see parallelism). Samples do not depend on it.
	Streams int
	// Quiet turns the progress bar off.
	Quiet bool

	// manifestEvery is the least time between two manifest writes during a
	// run (the manifest is always written at the start and the end).
	manifestEvery time.Duration
	// gen replaces the ONNX generator, styleEnc the ONNX style encoder
	// (tests).
	gen      generator
	styleEnc styleEncoder
	// observe, when set, sees every raw generator output (tests).
	observe func(input, k int, chw []float32, h, w int)
}

// CPUBatchPixels is the most output pixels of one generator run on CPU.
const CPUBatchPixels = 1 << 16

// onCPU reports whether the generator runs on onnxruntime's CPU provider.
func (c *Config) onCPU() bool { return c.Device == "" || strings.EqualFold(c.Device, "cpu") }

// batchFor is the number of samples per network run for h×w images.
func (c *Config) batchFor(h, w int) int {
	b := c.Batch
	if c.onCPU() {
		b = min(b, max(1, CPUBatchPixels/max(h*w, 1)))
	}
	return max(b, 1)
}

// parallelism returns the generator runs in flight at once and the
// onnxruntime intra-op threads of each. Two single-threaded runs beat one
// two-threaded run by 12–19% on MUNIT's decoder (docs/performance.md): some
// of onnxruntime's operators (DepthToSpace, Pad, Slice, Concat) run on one
// thread, leaving the other core idle.
func (c *Config) parallelism() (streams, threads int) {
	threads = c.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	streams = c.Streams
	if streams <= 0 {
		streams = 1
		if c.onCPU() && threads >= 2 {
			streams = 2
		}
	}
	return streams, max(1, threads/streams)
}

// DefaultSamples and DefaultBatch are the evaluation protocol's K and
// batch (evaluate.DefaultProtocol, which names them): a stochastic
// generator's default K, so that a default translate serves every default
// metric (IS/CIS and FID/KID score K = 100 samples per input, the LPIPS
// pairs use the first 38), and the most samples per network run.
const (
	DefaultSamples = 100
	DefaultBatch   = 16
)

// DefaultConfig returns the defaults of every field: all inputs in sorted
// order, K chosen by the generator kind, seed 0, batch DefaultBatch, no
// resize, CPU.
func DefaultConfig() Config {
	return Config{
		Select:        SelectFirst,
		Batch:         DefaultBatch,
		Device:        "cpu",
		manifestEvery: time.Second,
	}
}

// check validates the combination of fields, filling zero defaults.
func (c *Config) check() error {
	if c.Select == "" {
		c.Select = SelectFirst
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	switch {
	case c.Inputs == "":
		return errors.New("no input folder (--inputs)")
	case c.Out == "":
		return errors.New("no store folder (--out)")
	case c.Generator == "" && c.FromFolder == "" && c.gen == nil:
		return errors.New("nothing to translate with: give --generator or --from-folder")
	case c.Generator != "" && c.FromFolder != "":
		return errors.New("--generator and --from-folder exclude each other")
	case c.Decoder != "" && c.Generator == "":
		return errors.New("--decoder needs --generator (the content encoder)")
	case c.FromFolder != "" && c.Method == "":
		return errors.New("--from-folder needs --method to name the method")
	case c.FromFolder != "" && c.Latents != "":
		return errors.New("--latents does not apply to --from-folder")
	case c.NumInputs < 0:
		return fmt.Errorf("--num-inputs %d: want a positive number (0 for all)", c.NumInputs)
	case c.Samples < 0:
		return fmt.Errorf("--samples-per-input %d: want a positive number", c.Samples)
	case c.Batch < 0:
		return fmt.Errorf("--batch %d: want a positive number", c.Batch)
	case c.Streams < 0:
		return fmt.Errorf("--streams %d: want a positive number (0: automatic)", c.Streams)
	case c.Size < 0:
		return fmt.Errorf("--size %d: want a positive number (0 for no resize)", c.Size)
	case c.CheckOnly && (c.Force || c.Shard.Sharded() || c.Repair):
		return errors.New("checking a store (CheckOnly) writes nothing: it excludes --force, --shard and --repair")
	case c.Force && c.Shard.Sharded():
		return errors.New("--force discards the whole store, which other shards are writing: run one unsharded --force first, then the shards")
	case c.Shard.Count < 0 || c.Shard.Count > MaxShards || (c.Shard.Sharded() && (c.Shard.Index < 0 || c.Shard.Index >= c.Shard.Count)):
		return fmt.Errorf("shard %d/%d: want 0 <= I < N <= %d", c.Shard.Index, c.Shard.Count, MaxShards)
	case c.Select != SelectFirst && c.Select != SelectRandom:
		return fmt.Errorf("--select %q: want first or random", c.Select)
	}
	return c.checkReferenceConfig()
}

// Summary reports a finished run (the CLI's --json output). Inputs and
// SamplesPerInput are the store's M and K, which may exceed what was asked
// (a store only grows; see Run). Computed + Copied + Reused = Inputs x
// SamplesPerInput after a successful run.
type Summary struct {
	Method          string `json:"method"`
	Store           string `json:"store"`
	Inputs          int    `json:"inputs"`
	SamplesPerInput int    `json:"samples_per_input"`
	Computed        int    `json:"computed"`
	// Copied counts the samples copied from a pre-generated folder
	// (--from-folder), which no network computed (Computed is then 0).
	Copied  int     `json:"copied,omitempty"`
	Reused  int     `json:"reused"`
	Seconds float64 `json:"seconds"`
	// Randomness is the store's Manifest.Randomness.
	Randomness string `json:"randomness"`
	// Shard is "I/N" for a sharded run (Computed and Reused then count its
	// own inputs only).
	Shard string `json:"shard,omitempty"`
	// Complete reports whether the store now holds every sample: always
	// after an unsharded run; after a shard, when it was the last to finish
	// and folded every fragment into manifest.json.
	Complete bool `json:"complete"`
	// Note says what deciding the run folder found beyond the identity:
	// whether a run with other graph rewrites regenerated the store's
	// samples byte for byte (and so joined it).
	Note string `json:"note,omitempty"`
}

// Made says how many samples the run added and how: "N computed" by a
// network, or "N copied" from a pre-generated folder.
func (s *Summary) Made() string {
	if s.Copied > 0 {
		return fmt.Sprintf("%d copied", s.Copied)
	}
	return fmt.Sprintf("%d computed", s.Computed)
}

// String is the summary on one line, as translate prints it.
func (s *Summary) String() string {
	note := ""
	if s.Note != "" {
		note = "  " + s.Note + "\n"
	}
	made := s.Made()
	if s.Shard == "" {
		return fmt.Sprintf("%s: %d inputs x %d samples in %s (%s, %d reused) in %.1fs\n",
			s.Method, s.Inputs, s.SamplesPerInput, s.Store, made, s.Reused, s.Seconds) + note
	}
	state := "other shards still to finish"
	if s.Complete {
		state = "store complete"
	}
	return fmt.Sprintf("%s shard %s: %d inputs x %d samples in %s (this shard: %s, %d reused; %s) in %.1fs\n",
		s.Method, s.Shard, s.Inputs, s.SamplesPerInput, s.Store, made, s.Reused, state, s.Seconds) + note
}

// Write prints s as translate does: its String, or with asJSON the
// indented JSON object (the --json output).
func (s *Summary) Write(w io.Writer, asJSON bool) error {
	if !asJSON {
		_, err := io.WriteString(w, s.String())
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}
