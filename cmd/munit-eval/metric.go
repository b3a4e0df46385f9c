package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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

// command makes a metric command with no positional arguments and the
// shared flags; run does the work.
func (f *metricFlags) command(use, short, long, cached, resultsNote string, run func(*cobra.Command) error) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Long: long, Args: exactArgs(0, "no positional arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := run(cmd); !errors.Is(err, errShardDone) {
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
	fs.StringVar(&f.shard, "shard", "", "with --generator: generate only shard `I/N` of the samples (default: from Slurm or Kubernetes) and measure nothing; measure with --samples once every shard finished")
	fs.IntVar(&f.shards, "shards", 0, "with --generator: number of shards N, for a Kubernetes Indexed Job (JOB_COMPLETION_INDEX)")
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
	}
	for _, k := range keys {
		fl, ok := flags[k]
		if !ok {
			panic("no protocol flag " + k)
		}
		cmd.Flags().IntVar(fl.v, strings.ReplaceAll(k, "_", "-"), *fl.v, fl.usage)
	}
}

// given reports whether a sample source was named.
func (f *metricFlags) given() bool { return f.src.Generator != "" || f.src.Samples != "" }

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
		var fe *evaluate.FieldError
		if errors.As(err, &fe) {
			return usageError{fmt.Errorf("%s: --%s %s", name, strings.ReplaceAll(fe.Field, "_", "-"), fe.Rule)}
		}
		return usageError{fmt.Errorf("%s: %w", name, err)}
	}
	return nil
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
// as needed or read from --samples.
func (f *metricFlags) samples(ctx context.Context, cmd *cobra.Command, k int, quiet bool) (*evaluate.Samples, error) {
	src := f.src
	src.ExactInputs = cmd.Flags().Changed("num-inputs")
	src.KeepSeed = cmd.Flags().Changed("seed")
	if src.Generator != "" {
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
	j := evaluate.Job{Dataset: f.dataset, Protocol: f.p, Metrics: want, Quiet: quiet || global.quiet}
	if smp != nil {
		j.Method, j.Samples = smp.Store.Method(), *smp
		if !f.noCache {
			j.Cache = evaluate.StoreRoot(smp.Store)
		}
	}
	return j
}

// noteStore says on stderr, once, that the command wrote into the default
// store folder, which the user did not name.
func (f *metricFlags) noteStore(cmd *cobra.Command, wrote bool) {
	if wrote && !cmd.Flags().Changed("store") && f.src.Samples == "" {
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
