package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/reports"
	"github.com/munit-eval/munit-eval/results"
	"github.com/spf13/cobra"
)

// planKey is one row of planKeys: an evaluation-file key (its sections
// before dots; "protocol.X" binds the field of evaluate.Protocol tagged X),
// the flag that sets the same value, and the flag's usage.
type planKey struct{ key, flag, usage string }

// planKeys is the one table between the metric commands' flags and the
// evaluation file's keys: it registers the flags and, through bind, fills
// the same evaluate.Plan fields the file fills; TestFlagsMatchYAMLKeys
// checks that every flag and every key has its row.
var planKeys = []planKey{
	{"seed", "seed", "seed of the latent codes, input selection, real pairs and bootstraps"},
	{"metrics", "metrics", "metrics to compute (the registry's keys: lpips, is, fid, kid, prdc, cmmd, fd, sfid, ndb; default: the command's)"},
	{"cache", "no-cache", "do not keep pair distances, embeddings or classifier outputs on disk (the file's cache: false)"},
	{"cache_embeddings", "cache-embeddings", "also cache the full LPIPS embeddings on disk (about 1 MB per 256x256 image), for re-pairing"},
	{"models.lpips", "lpips", "LPIPS embedding ONNX model"},
	{"models.classifier", "classifier", "classifier ONNX model (IS/CIS; FID/KID/PRDC too unless --features)"},
	{"models.features", "features", "features ONNX model of FID, KID, PRDC, CMMD and FD (default: --classifier; cmmd and fd: or embeddings X.npy)"},
	{"models.metric_features", "metric-features", "a metric's own features model, e.g. fd=dinov2.onnx,cmmd=clip.onnx (others use --features)"},
	{"datasets.name", "dataset", "dataset name for the results document"},
	{"datasets.inputs", "inputs", "input image folder for --generator"},
	{"datasets.real", "real", "real target image folder (the real-data LPIPS row, FID, KID, PRDC)"},
	{"datasets.real_size", "real-size", "resize real images (shorter side, centre crop) first (0: --size)"},
	{"datasets.real_stats", "real-stats", "real statistics .npz (pytorch-fid's mu and sigma) instead of --real: FID only"},
	{"datasets.methods.name", "method", "method name (default: the generator's munit_eval.method, the store's, or the folder's name)"},
	{"datasets.methods.generator", "generator", "generator ONNX model (or the content encoder, with --decoder) to run over --inputs"},
	{"datasets.methods.content_encoder", "generator", ""},
	{"datasets.methods.decoder", "decoder", "decoder ONNX model of the two-stage form"},
	{"datasets.methods.folder", "from-folder", "pre-generated samples copied into the store (with --inputs and --method)"},
	{"datasets.methods.samples", "samples", "samples read where they are: a store folder STORE/<method>, or a plain folder"},
	{"datasets.methods.latents", "latents", "latent codes for --generator, float32 .npy [M,K,S] or [M,S]"},
	{"protocol.num_inputs", "num-inputs", "number of inputs M (fewer, with a warning, when the source holds fewer and M is not given)"},
	{"protocol.select", "select", "which inputs: first (the first M in sorted order) or random (a seeded subset)"},
	{"protocol.samples_per_input", "samples-per-input", "samples per input K (IS/CIS, FID/KID/PRDC, and the all pairing)"},
	{"protocol.pairs", "pairs", "LPIPS pairs per input P"},
	{"protocol.pairing", "pairing", "LPIPS pairing: independent, consecutive, all or random"},
	{"protocol.trials", "trials", "repeat the LPIPS measurement on fresh samples T times (DSGAN's trials): mean and std over trials"},
	{"protocol.preset", "preset", "published protocol to start from, the other flags overriding it: munit, bicyclegan, msgan, dsgan (docs/protocols.md)"},
	{"protocol.bootstrap", "bootstrap", "bootstrap resamples over inputs for the 95% intervals (0: none)"},
	{"protocol.splits", "splits", "splits of the conventional Inception Score"},
	{"protocol.contiguous_splits", "contiguous-splits", "split rows in order for is_splits instead of torch-fidelity's shuffle (seed 2020)"},
	{"protocol.size", "size", "resize inputs: shorter side to N, centre crop N x N (0: as they are)"},
	{"protocol.batch", "batch", "images per network run, for every network (generator, LPIPS, classifier)"},
	{"protocol.streams", "streams", "generator runs at once, sharing --threads (0: 2 on a CPU of 2+ cores, else 1)"},
	{"protocol.fid_interval", "fid-interval", "FID's jackknife interval: on, off or auto (on for features of up to 256 dimensions)"},
	{"protocol.fid_bootstrap", "fid-bootstrap", "deprecated: use --fid-interval (above 0 on, 0 off, -1 auto)"},
	{"protocol.kid_subsets", "kid-subsets", "KID subsets"},
	{"protocol.kid_subset_size", "kid-subset-size", "KID subset size"},
	{"protocol.num_real", "num-real", "real images to use (0: all)"},
	{"protocol.resize", "resize", "how images reach the features model: legacy (the network's own resize, as pytorch-fid) or clean (clean-fid's antialiased bicubic to 299 in Go first)"},
	{"protocol.pr_k", "pr-k", "neighbours k of precision and recall (torch-fidelity's prc_neighborhood)"},
	{"protocol.dc_k", "dc-k", "neighbours k of density and coverage (prdc's nearest_k)"},
	{"protocol.ndb_bins", "bins", "NDB's k-means bins K"},
	{"protocol.ndb_alpha", "alpha", "NDB's significance level of the per-bin z-test"},
	{"protocol.ndb_whiten", "whiten", "NDB: whiten by the real set's per-dimension mean and std first"},
}

// planFlags are the values the metric commands' flags set: the
// evaluation of one dataset and at most one method, and how to print it.
type planFlags struct {
	evaluate.Command
	out reports.Output
}

// bind returns the field the key of a planKeys row fills.
func (f *planFlags) bind(key string) any {
	if k, ok := strings.CutPrefix(key, "protocol."); ok {
		v := reflect.ValueOf(&f.Plan.Protocol).Elem()
		for i := range v.NumField() {
			if v.Type().Field(i).Tag.Get("yaml") == k {
				return v.Field(i).Addr().Interface()
			}
		}
	}
	return map[string]any{"seed": &f.Plan.Protocol.Seed, "metrics": &f.Plan.Metrics, "cache": &f.Plan.NoCache,
		"cache_embeddings": &f.Plan.CacheEmbeddings, "models.lpips": &f.Plan.Models.LPIPS, "models.classifier": &f.Plan.Models.Classifier,
		"models.features": &f.Plan.Models.Features, "models.metric_features": &f.Plan.Models.Metric, "datasets.name": &f.Dataset.Name, "datasets.inputs": &f.Dataset.Inputs,
		"datasets.real": &f.Dataset.Real, "datasets.real_size": &f.Dataset.RealSize, "datasets.real_stats": &f.Dataset.RealStats,
		"datasets.methods.name": &f.Source.Method, "datasets.methods.generator": &f.Source.Generator, "datasets.methods.decoder": &f.Source.Decoder,
		"datasets.methods.folder": &f.Source.Folder, "datasets.methods.samples": &f.Source.Samples, "datasets.methods.latents": &f.Source.Latents}[key]
}

// register adds the flags of the planKeys rows whose keys are given (all
// when none), bound to f, with their defaults as set in f when called.
func (f *planFlags) register(cmd *cobra.Command, keys ...string) {
	fs := cmd.Flags()
	for _, r := range planKeys {
		if fs.Lookup(r.flag) != nil || len(keys) > 0 && !strings.Contains(" "+strings.Join(keys, " ")+" ", " "+r.key+" ") {
			continue
		}
		switch v := f.bind(r.key).(type) {
		case *int:
			fs.IntVar(v, r.flag, *v, r.usage)
		case *int64:
			fs.Int64Var(v, r.flag, *v, r.usage)
		case *string:
			fs.StringVar(v, r.flag, *v, r.usage)
		case *bool:
			fs.BoolVar(v, r.flag, *v, r.usage)
		case *float64:
			fs.Float64Var(v, r.flag, *v, r.usage)
		case *[]string:
			fs.StringSliceVar(v, r.flag, *v, r.usage)
		case *map[string]string:
			fs.StringToStringVar(v, r.flag, *v, r.usage)
		}
	}
	fs.MarkDeprecated("fid-bootstrap", "the FID interval is a jackknife over input groups and the count was never used: use --fid-interval on|off|auto")
}

// given are the protocol keys (and seed) set by a flag.
func (f *planFlags) given(cmd *cobra.Command) map[string]bool {
	g := map[string]bool{}
	for _, r := range planKeys {
		if k, ok := strings.CutPrefix(r.key, "protocol."); ok && cmd.Flags().Changed(r.flag) {
			g[k] = true
		}
	}
	g["seed"] = cmd.Flags().Changed("seed")
	return g
}

// errShardDone ends a metric command that generated one shard's samples
// and measured nothing (a success).
var errShardDone = errors.New("shard generated")

// metricCommand makes a metric command: the shared flags, up to maxArgs
// positional folders (the samples, then the real images), the command's
// default metrics, and print to show the documents.
func metricCommand(use, short, long string, metrics []string, maxArgs int, print func(reports.Output, io.Writer, []*results.Document) error) (*cobra.Command, *planFlags) {
	f := &planFlags{Command: evaluate.Command{Plan: evaluate.Plan{Protocol: evaluate.DefaultProtocol(), Metrics: metrics}}}
	cmd := &cobra.Command{Use: use, Short: short, Long: long,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > maxArgs {
				return usageError{fmt.Errorf("%s: want at most %d folder(s), got %d argument(s) (see '%s --help')", commandName(cmd), maxArgs, len(args), cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			docs, err := f.run(cmd, args)
			if errors.Is(err, errShardDone) {
				return nil
			} else if err != nil {
				return err
			}
			return show(cmd.OutOrStdout(), f.out, docs, print)
		}}
	fs := cmd.Flags()
	fs.StringVar(&f.Store, "store", "", "the sample store --generator writes to, whose .cache/ keeps embeddings and classifier outputs (default: $XDG_CACHE_HOME/munit-eval, else ~/.cache/munit-eval)")
	fs.BoolVar(&f.Source.Force, "force", false, "discard store samples of a different model, seed or input set")
	fs.StringVar(&f.ShardSpec, "shard", "", "with --generator: generate only shard `I/N` of the samples (auto: from Slurm or Kubernetes) and measure nothing; measure with --samples once every shard finished")
	fs.IntVar(&f.Shards, "shards", 0, "with --generator: number of shards N, the index from a Slurm array or Kubernetes Indexed Job (JOB_COMPLETION_INDEX)")
	fs.BoolVar(&f.PRDC, "prdc", false, "also report precision, recall, density and coverage (prdc in --metrics)")
	registerOutput(cmd, &f.out, &f.Dataset.Name, &f.Plan.NoCache, "pair distances, embeddings or classifier outputs", " (a real-data row to FILE with .real before .json)")
	f.register(cmd)
	rootCmd.AddCommand(cmd)
	return cmd, f
}

// run runs the evaluation of the flags and the folder arguments, or, with
// --shard, generates its shard.
func (f *planFlags) run(cmd *cobra.Command, args []string) ([]*results.Document, error) {
	f.Plan.Protocol.Given, f.Plan.Warn, f.Plan.Run = f.given(cmd), warnStderr, global.run(f.out.JSON)
	notice, err := userStore(&f.Store)
	if err != nil {
		return nil, usageError{fmt.Errorf("%s: %w", commandName(cmd), err)}
	}
	pl, shard, err := f.Build(args)
	if err != nil {
		return nil, usageError{fmt.Errorf("%s: %w", commandName(cmd), err)}
	}
	if err := model.Init(global.ortLib); err != nil {
		return nil, err
	}
	if shard.Sharded() {
		sum, err := evaluate.GenerateShard(cmd.Context(), pl, shard)
		if err == nil {
			err = sum.Write(cmd.OutOrStdout(), false)
		}
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "munit-eval: shard %s generated; nothing measured: once every shard has finished, measure with --samples %s\n", shard, sum.Store)
		return nil, errShardDone
	}
	out, err := evaluate.Run(cmd.Context(), pl)
	if err != nil {
		return nil, err
	}
	notice(os.Stderr)
	return out.Docs, nil
}

// userStore sets an unset --store to the per-user store and returns what
// says, once, that this command made it (evaluate.StoreNotice).
func userStore(store *string) (func(io.Writer), error) {
	if *store != "" {
		return func(io.Writer) {}, nil
	}
	dir, err := evaluate.UserStore(os.Getenv)
	*store = dir
	return evaluate.StoreNotice(dir), err
}

// entries are pl's metrics (none where --metrics names an unknown one).
func entries(pl evaluate.Plan) []*registry.Entry {
	es, _ := pl.Entries()
	return es
}

// commandName is a command's path without the program name, for errors
// (main prefixes every error with "munit-eval: ").
func commandName(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), rootCmd.Name()+" ")
}

// warnStderr prints a note that changes no number (a cache that could not
// be written) on stderr.
func warnStderr(msg string) { fmt.Fprintf(os.Stderr, "munit-eval: warning: %s\n", msg) }
