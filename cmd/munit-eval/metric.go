package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/translate"
	"github.com/spf13/cobra"
)

// metricFlags are what the metric commands (lpips, is/cis, fid/kid) share:
// where the samples come from (an evaluate.Source: a generator run over an
// input folder through the store, or an existing store folder), the
// protocol values, and the output flags. The commands are flag adapters
// over package evaluate, as `munit-eval run` is a YAML adapter over it.
type metricFlags struct {
	src     evaluate.Source
	p       evaluate.Protocol
	out     outputFlags
	dataset string
	noCache bool
	// cacheEmbeddings is lpips's --cache-embeddings.
	cacheEmbeddings bool
	// shard and shards are --shard I/N and --shards N (with --generator).
	shard  string
	shards int
}

// errShardDone ends a metric command that generated one shard's samples
// and measured nothing (a success).
var errShardDone = errors.New("shard generated")

func newMetricFlags() *metricFlags {
	return &metricFlags{p: evaluate.DefaultProtocol(), src: evaluate.Source{Store: "store"}}
}

// command makes a metric command with up to maxArgs positional arguments
// (plain folders, described by what) and the shared flags; run does the
// work.
func (f *metricFlags) command(use, short, long, cached, resultsNote string, maxArgs int, what string, run func(*cobra.Command, []string) error) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Long: long,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > maxArgs {
				return usageError{fmt.Errorf("%s: want at most %s, got %d argument(s) (see '%s --help')", commandName(cmd), what, len(args), cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := run(cmd, args); !errors.Is(err, errShardDone) {
				return err
			}
			return nil
		}}
	f.register(cmd, cached, resultsNote)
	return cmd
}

// register adds the sample-source, input-selection and output flags.
func (f *metricFlags) register(cmd *cobra.Command, cached, resultsNote string) {
	fs := cmd.Flags()
	fs.StringVar(&f.src.Generator, "generator", "", "generator ONNX model (or the content encoder, with --decoder) to run over --inputs")
	fs.StringVar(&f.src.Decoder, "decoder", "", "decoder ONNX model of the two-stage form")
	fs.StringVar(&f.src.Inputs, "inputs", "", "input image folder for --generator")
	fs.StringVar(&f.src.Samples, "samples", "", "an existing sample store folder, STORE/<method>")
	fs.StringVar(&f.src.Store, "store", f.src.Store, "the sample store --generator writes to (and whose .cache/ keeps embeddings)")
	fs.StringVar(&f.src.Method, "method", "", "method name (default: the generator's munit_eval.method)")
	fs.BoolVar(&f.src.Force, "force", false, "discard store samples of a different model, seed or input set")
	fs.StringVar(&f.shard, "shard", "", "with --generator: generate only shard `I/N` of the samples (auto: from Slurm or Kubernetes) and measure nothing; measure with --samples once every shard finished")
	fs.IntVar(&f.shards, "shards", 0, "with --generator: number of shards N, the index from a Slurm array or Kubernetes Indexed Job (JOB_COMPLETION_INDEX)")
	fs.Int64Var(&f.p.Seed, "seed", f.p.Seed, "seed of the latent codes, input selection and bootstrap")
	fs.StringVar(&f.p.Select, "select", f.p.Select, "which inputs: first (the first M in sorted order) or random (a seeded subset)")
	f.protocolFlags(cmd, "num_inputs", "size", "batch")
	f.out.register(cmd, &f.dataset, &f.noCache, cached, resultsNote)
}

// protocolFlags registers the integer protocol values named by their
// evaluation-file keys as flags (num_inputs is --num-inputs), with the
// protocol's defaults as set in f.p when called.
func (f *metricFlags) protocolFlags(cmd *cobra.Command, keys ...string) {
	p := &f.p
	flags := map[string]struct {
		v     *int
		usage string
	}{
		"num_inputs":        {&p.NumInputs, "number of inputs M (fewer, with a warning, when the folder or store holds fewer)"},
		"size":              {&p.Size, "resize inputs: shorter side to N, centre crop N x N (0: as they are)"},
		"batch":             {&p.Batch, "samples per generator run"},
		"samples_per_input": {&p.SamplesPerInput, "samples per input K"},
		"pairs":             {&p.Pairs, "LPIPS pairs per input P"},
		"bootstrap":         {&p.Bootstrap, "bootstrap resamples over inputs for the 95% intervals (0: none)"},
		"splits":            {&p.Splits, "splits of the conventional Inception Score"},
		"num_real":          {&p.NumReal, "real images to use (0: all)"},
		"fid_bootstrap":     {&p.FIDBootstrap, "bootstrap resamples for the FID interval (0: none; -1: 100 up to 256 feature dimensions, else none)"},
		"kid_subsets":       {&p.KIDSubsets, "KID subsets"},
		"kid_subset_size":   {&p.KIDSubsetSize, "KID subset size"},
		"pr_k":              {&p.PRK, "neighbours k of precision and recall (torch-fidelity's prc_neighborhood)"},
		"dc_k":              {&p.DCK, "neighbours k of density and coverage (prdc's nearest_k)"},
	}
	for _, k := range keys {
		fl, ok := flags[k]
		if !ok {
			panic("no protocol flag " + k)
		}
		cmd.Flags().IntVar(fl.v, strings.ReplaceAll(k, "_", "-"), *fl.v, fl.usage)
	}
}

// resizeFlag registers --resize, the features model's resize mode.
func (f *metricFlags) resizeFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.p.Resize, "resize", f.p.Resize, "how images reach the features model: legacy (the network's own resize, as pytorch-fid) or clean (clean-fid's antialiased bicubic to 299 in Go first)")
}

// given reports whether a sample source was named (flags or a folder
// argument).
func (f *metricFlags) given(args []string) bool {
	return f.src.Generator != "" || f.src.Samples != "" || len(args) > 0
}

// grouped reports whether the plain folder the samples come from (an
// argument or --samples) holds sub-folders, <stem>/<k>.png: samples
// grouped by input.
func (f *metricFlags) grouped(args []string) bool {
	dir := f.src.Samples
	if len(args) > 0 {
		dir = args[0]
	}
	return dir != "" && !evaluate.IsStore(dir) && evaluate.GroupedLayout(dir)
}

// folder returns the plain folder the samples come from: the first
// argument, or --samples when it names a folder that is not a store ("" for
// a store or a generator).
func (f *metricFlags) folder(cmd *cobra.Command, args []string) (string, error) {
	dir := f.src.Samples
	if len(args) > 0 {
		if f.src.Generator != "" || f.src.Samples != "" {
			return "", usageError{fmt.Errorf("%s: give a sample folder %s, --samples or --generator, not several", commandName(cmd), args[0])}
		}
		dir = args[0]
	}
	if dir == "" || evaluate.IsStore(dir) {
		f.src.Samples = dir
		return "", nil
	}
	return dir, nil
}

// check refuses contradictory sources and protocol values out of bounds
// (evaluate.Protocol.Validate, the evaluation file's rule), naming flags.
func (f *metricFlags) check(cmd *cobra.Command, want evaluate.Metrics) error {
	name := commandName(cmd)
	switch s := f.src; {
	case s.Generator != "" && s.Samples != "":
		return usageError{fmt.Errorf("%s: give --generator or --samples, not both", name)}
	case s.Generator != "" && s.Inputs == "":
		return usageError{fmt.Errorf("%s: --generator needs --inputs DIR", name)}
	case s.Decoder != "" && s.Generator == "":
		return usageError{fmt.Errorf("%s: --decoder needs --generator ENC.onnx (the content encoder)", name)}
	}
	if err := f.p.Validate(want); err != nil {
		return usageError{fmt.Errorf("%s: %w", name, flagError(err))}
	}
	return nil
}

// flagError names the flag of an evaluate.FieldError (num_inputs is
// --num-inputs); other errors are returned as they are.
func flagError(err error) error {
	var fe *evaluate.FieldError
	if errors.As(err, &fe) {
		return fmt.Errorf("--%s %s", strings.ReplaceAll(fe.Field, "_", "-"), fe.Rule)
	}
	return err
}

// evalRunOptions are the global flags' onnxruntime settings.
func evalRunOptions(quiet bool) evaluate.RunOptions {
	return evaluate.RunOptions{Threads: global.threads, Device: global.device, Quiet: quiet || global.quiet}
}

// openScorers loads onnxruntime and opens the scoring models.
func openScorers(files evaluate.ModelFiles, want evaluate.Metrics) (*evaluate.Scorers, error) {
	if err := model.Init(global.ortLib); err != nil {
		return nil, err
	}
	return evaluate.OpenScorers(files, want, evalRunOptions(false).ModelOptions())
}

// samples acquires the samples: k per input, translated through the store
// as needed or read from --samples, or a plain folder (an argument or a
// --samples folder without a manifest) read where it is, grouped by input
// when grouped.
func (f *metricFlags) samples(ctx context.Context, cmd *cobra.Command, args []string, k int, grouped, quiet bool) (*evaluate.Samples, error) {
	dir, err := f.folder(cmd, args)
	if err != nil {
		return nil, err
	}
	exact := cmd.Flags().Changed("num-inputs")
	if dir != "" {
		return evaluate.OpenFolder(dir, grouped, f.p, exact)
	}
	src := f.src
	src.ExactInputs = exact
	src.NoteCuts = !exact
	src.KeepSeed = cmd.Flags().Changed("seed")
	if src.Generator != "" {
		// The inputs' sizes against the pixel budgets and the memory,
		// from their headers, before any work.
		if err := evaluate.CheckInputs(src.Inputs, f.p, global.memBytes); err != nil {
			return nil, fmt.Errorf("%s: %w", commandName(cmd), flagError(err))
		}
		shard, err := translate.ParseShard(f.shard, f.shards, os.Getenv)
		if err != nil {
			return nil, usageError{fmt.Errorf("%s: %w", commandName(cmd), err)}
		}
		if shard.Sharded() {
			// One task of a sharded run: this shard's samples, exactly as
			// the unsharded command would translate them; no measuring.
			src.Shard = shard
			sum, err := evaluate.Generate(ctx, src, f.p, k, evalRunOptions(quiet))
			if err != nil {
				return nil, err
			}
			if err := printTranslateSummary(cmd.OutOrStdout(), sum, false); err != nil {
				return nil, err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "munit-eval: shard %s generated; nothing measured: once every shard has finished, measure with --samples %s\n", shard, sum.Store)
			return nil, errShardDone
		}
	} else if f.shard != "" || f.shards != 0 {
		return nil, usageError{fmt.Errorf("%s: --shard and --shards split the samples --generator makes: measure a store (--samples) in one process", commandName(cmd))}
	}
	return evaluate.Acquire(ctx, src, &f.p, k, evalRunOptions(quiet))
}

// job is the evaluation of smp under the flags.
func (f *metricFlags) job(want evaluate.Metrics, smp *evaluate.Samples, quiet bool) evaluate.Job {
	j := evaluate.Job{Dataset: f.dataset, Protocol: f.p, Metrics: want, Quiet: quiet || global.quiet,
		CacheEmbeddings: f.cacheEmbeddings, Warn: warnStderr}
	switch {
	case smp != nil && smp.Store != nil:
		j.Method, j.Samples = smp.Store.Method(), *smp
		if !f.noCache {
			j.Cache = evaluate.StoreRoot(smp.Store)
		}
	case smp != nil:
		// A plain folder: named by --method or its own name; caches go to
		// the store folder.
		j.Method, j.Samples = f.src.Method, *smp
		if j.Method == "" {
			j.Method = filepath.Base(filepath.Clean(smp.Folder.Dir))
		}
		if !f.noCache {
			j.Cache = f.src.Store
		}
	}
	return j
}

// noteStore says on stderr, once, that the command wrote into the default
// store folder, which the user did not name.
func (f *metricFlags) noteStore(cmd *cobra.Command, wrote bool) {
	if wrote && !cmd.Flags().Changed("store") && (f.src.Samples == "" || !evaluate.IsStore(f.src.Samples)) {
		fmt.Fprintf(os.Stderr, "munit-eval: samples and caches are kept in the store ./%s (choose it with --store)\n", f.src.Store)
	}
}

// commandName is a command's path without the program name, for errors
// (main prefixes every error with "munit-eval: ").
func commandName(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), rootCmd.Name()+" ")
}

// printSyntheticNotes tells the reader of a table that a scoring model is
// synthetic (the document records it in its models' synthetic field).
func printSyntheticNotes(w io.Writer, docs ...*results.Document) {
	seen := map[string]bool{}
	for _, doc := range docs {
		for _, role := range []string{results.ModelLPIPS, results.ModelClassifier, results.ModelFeatures} {
			if ref, ok := doc.Models[role]; ok && ref.Synthetic && !seen[role] {
				seen[role] = true
				fmt.Fprintf(w, "note: the %s model %s is synthetic: its numbers are comparable within munit-eval's synthetic world only\n", role, ref.File)
			}
		}
	}
}

// warnStderr prints a note that changes no number (a cache that could not
// be written) on stderr.
func warnStderr(msg string) { fmt.Fprintf(os.Stderr, "munit-eval: warning: %s\n", msg) }
