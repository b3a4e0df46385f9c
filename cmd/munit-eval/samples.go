package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/translate"
	"github.com/spf13/cobra"
)

// sampleFlags say where a metric command's samples come from: an existing
// store folder (--samples STORE/<method>), or a generator run over an input
// folder through the store (--generator G.onnx --inputs DIR), which reuses
// whatever samples the store already holds.
type sampleFlags struct {
	generator string
	decoder   string
	inputs    string
	samples   string
	store     string
	method    string
	selection string
	numInputs int
	size      int
	batch     int
	seed      int64
	force     bool
}

// defaultNumInputs is the paper's number of inputs.
const defaultNumInputs = 100

func (f *sampleFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.generator, "generator", "", "generator ONNX model (or the content encoder, with --decoder) to run over --inputs")
	fs.StringVar(&f.decoder, "decoder", "", "decoder ONNX model of the two-stage form")
	fs.StringVar(&f.inputs, "inputs", "", "input image folder for --generator")
	fs.StringVar(&f.samples, "samples", "", "an existing sample store folder, STORE/<method>")
	fs.StringVar(&f.store, "store", "store", "the sample store --generator writes to")
	fs.StringVar(&f.method, "method", "", "method name (default: the generator's munit_eval.method)")
	fs.StringVar(&f.selection, "select", translate.SelectFirst, "which inputs: first (the first M in sorted order) or random (a seeded subset)")
	fs.IntVar(&f.numInputs, "num-inputs", defaultNumInputs, "number of inputs M (fewer when the folder or store holds fewer)")
	fs.IntVar(&f.size, "size", 0, "resize inputs: shorter side to N, centre crop N x N (0: as they are)")
	fs.IntVar(&f.batch, "batch", translate.DefaultConfig().Batch, "samples per generator run")
	fs.Int64Var(&f.seed, "seed", 0, "seed of the latent codes, input selection and bootstrap")
	fs.BoolVar(&f.force, "force", false, "discard store samples of a different model, seed or input set")
}

// given reports whether any sample source was named.
func (f *sampleFlags) given() bool { return f.generator != "" || f.samples != "" }

// validate checks the flags name exactly one source.
func (f *sampleFlags) validate(cmd *cobra.Command) error {
	switch {
	case f.generator != "" && f.samples != "":
		return usageError{fmt.Errorf("%s: give --generator or --samples, not both", cmd.CommandPath())}
	case f.generator != "" && f.inputs == "":
		return usageError{fmt.Errorf("%s: --generator needs --inputs DIR", cmd.CommandPath())}
	case f.decoder != "" && f.generator == "":
		return usageError{fmt.Errorf("%s: --decoder needs --generator ENC.onnx (the content encoder)", cmd.CommandPath())}
	case f.numInputs < 1:
		return usageError{fmt.Errorf("%s: --num-inputs must be at least 1", cmd.CommandPath())}
	}
	return nil
}

// open returns a store holding at least k samples for each of the inputs,
// generating what is missing when a generator is named. It also returns
// warnings (fewer inputs than asked for).
func (f *sampleFlags) open(ctx context.Context, cmd *cobra.Command, k int, quiet bool) (*translate.Store, int, []string, error) {
	var warnings []string
	explicitM := cmd.Flags().Changed("num-inputs")
	if f.samples != "" {
		st, err := translate.OpenStore(f.samples)
		if err != nil {
			return nil, 0, nil, err
		}
		m := f.numInputs
		if m > st.NumInputs() {
			if explicitM {
				return nil, 0, nil, fmt.Errorf("%s holds %d inputs, --num-inputs asks for %d", f.samples, st.NumInputs(), m)
			}
			warnings = append(warnings, fmt.Sprintf("the store holds %d inputs, fewer than the paper's %d", st.NumInputs(), m))
			m = st.NumInputs()
		}
		if st.SamplesPerInput() < k {
			return nil, 0, nil, fmt.Errorf("%s holds %d samples per input, %d needed (rerun translate with --samples %d)", f.samples, st.SamplesPerInput(), k, k)
		}
		// The results describe how the store was made, not this command's
		// defaults; its seed also seeds the bootstrap unless --seed is given.
		man := st.Manifest()
		f.selection, f.size, f.inputs = man.Select, man.Size, man.InputDir
		if !cmd.Flags().Changed("seed") {
			f.seed = man.Seed
		}
		return st, m, warnings, nil
	}
	files, err := images.ListDir(f.inputs)
	if err != nil {
		return nil, 0, nil, err
	}
	m := f.numInputs
	if m > len(files) {
		if explicitM {
			return nil, 0, nil, fmt.Errorf("%s holds %d images, --num-inputs asks for %d", f.inputs, len(files), m)
		}
		warnings = append(warnings, fmt.Sprintf("%s holds %d inputs, fewer than the paper's %d", f.inputs, len(files), m))
		m = len(files)
	}
	if err := model.Init(global.ortLib); err != nil {
		return nil, 0, nil, err
	}
	cfg := translate.DefaultConfig()
	cfg.Generator, cfg.Decoder, cfg.Inputs, cfg.Out = f.generator, f.decoder, f.inputs, f.store
	cfg.Method, cfg.Select, cfg.NumInputs, cfg.Samples = f.method, f.selection, m, k
	cfg.Seed, cfg.Size, cfg.Batch, cfg.Force = f.seed, f.size, f.batch, f.force
	cfg.Threads, cfg.Device, cfg.Quiet = global.threads, global.device, quiet || global.quiet
	if f.decoder == "" {
		info, err := model.Inspect(f.generator)
		if err != nil {
			return nil, 0, nil, err
		}
		// A deterministic generator's one output fills every sample: its
		// diversity is 0 and its CIS 0, as they should be.
		cfg.Repeat = info.LatentInput == "" && k > 1
	}
	sum, err := translate.Run(ctx, cfg)
	if err != nil {
		return nil, 0, nil, err
	}
	st, err := translate.OpenStore(sum.Store)
	if err != nil {
		return nil, 0, nil, err
	}
	return st, m, warnings, nil
}

// storeRoot is the store folder that holds a method folder.
func storeRoot(st *translate.Store) string { return filepath.Dir(st.Dir()) }
