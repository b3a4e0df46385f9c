package main

import (
	"fmt"
	"os"

	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/translate"
	"github.com/spf13/cobra"
)

// translateOptions are the flags of munit-eval translate.
type translateOptions struct {
	cfg    translate.Config
	json   bool
	shard  string
	shards int
}

func init() {
	o := translateOptions{cfg: translate.DefaultConfig()}
	cmd := &cobra.Command{
		Use:   "translate --generator G.onnx --inputs DIR --out STORE [flags]",
		Short: "run a generator over input images into the cached, resumable sample store",
		Long: `Translate runs a generator over the input images and writes K samples per input
to the sample store, STORE/<method>/<input-stem>/<k>.png, with
STORE/<method>/manifest.json recording the method, the models' SHA-256, the
seed, every input's SHA-256 and size, and the latent code and SHA-256 of every
sample. Every metric command reads this store.

The inputs are the first --num-inputs images of --inputs in sorted file-name
order (default all), or with --select random a subset drawn with --seed, kept
in sorted order. --size N resizes each input (shorter side to N, centre crop
N x N) before the generator; without it the images go in as they are.

A stochastic generator (one with a style/latent input) gets K samples per
input; the latent code of sample k of input i is drawn from N(0, I) by a
generator seeded with (--seed, i, k) only, so it is the same whatever the batch
size, thread count or what was already cached. --latents FILE.npy supplies the
codes instead: float32 [M, K, S], or [M, S] for one sample per input. K
defaults to the evaluation protocol's 100, what the default metrics need
(IS/CIS and FID/KID score 100 samples per input, the 19 LPIPS pairs use the
first 38), so that every metric command reads a default store with its
defaults.

A deterministic generator (no latent input) gives one sample per input;
--samples-per-input K with K > 1 needs --repeat, which copies it (diversity 0).

--decoder DEC.onnx selects the two-stage form: --generator is then the content
encoder, run once per input, and the decoder runs once per sample.

--from-folder DIR copies pre-generated samples (a baseline's outputs) into the
store instead of running a generator, with --method naming the method. The
folder holds DIR/<stem>/<k>.png, DIR/<stem>_<k>.png or DIR/<stem>.png (PNG or
JPEG); any sample missing or extra for the inputs is an error listing them.

A generator may also declare noise inputs (munit_eval.noise: test-time
dropout masks, encoder noise); each sample's noise is drawn from (--seed, i, k)
apart from the style code, so it too is independent of batching and resumption.

A rerun reuses every sample already in the store (checked by SHA-256) and
computes only what is missing, so an interrupted run (Ctrl-C, or even a kill)
resumes and ends with exactly the samples of an uninterrupted one. A run of
another model, seed, latents, noise, resize or input folder goes beside the
first, to STORE/<method>@<key> (the summary names the folder; --samples takes
it like any other). Inputs whose bytes changed under the same run are refused,
naming the difference, unless --force discards that folder's samples; a damaged
manifest is refused with an offer: --repair keeps every intact sample. Ctrl-C
finishes the batches in flight, writes the manifest and exits 130. A second
translate on the same folder is refused, naming its host and pid.

--shard I/N (I from 0) runs only the inputs i with i mod N = I, so N processes,
on N machines sharing the store's filesystem, together write the store one
process writes: each keeps its own manifest fragment and the last to finish
folds them into manifest.json. With --shard auto (or --shards N), a Slurm
array task (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT) or a Kubernetes
Indexed Job (JOB_COMPLETION_INDEX, with --shards N) picks its shard; the
environment alone shards nothing; --shard 0/1 runs everything. Rerunning one shard redoes only what it lacks.

--json prints a summary object: method, store, inputs, samples_per_input,
computed, reused, seconds, randomness (style, noise, style+noise, none or
unknown), shard, complete.

Examples:

	munit-eval translate --generator munit_a2b.onnx --inputs edges/ --out samples \
	    --num-inputs 100 --samples-per-input 100 --seed 0
	munit-eval translate --generator cyclegan.onnx --inputs edges/ --out samples
	munit-eval translate --generator m.content_encoder.onnx --decoder m.decoder.onnx \
	    --style-encoder m.style_encoder.onnx --references shoes/ --inputs edges/ --out samples
	munit-eval translate --from-folder bicycle_out/ --method BicycleGAN \
	    --inputs edges/ --out samples
	munit-eval translate --generator munit_a2b.onnx --inputs edges/ --out nfs/samples \
	    --shard 2/4`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := evaluate.CheckTranslate(o.cfg, global.memBytes); err != nil {
				return fmt.Errorf("translate: %w", err)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTranslate(cmd, o)
		},
	}
	f := cmd.Flags()
	c := &o.cfg
	f.StringVar(&c.Generator, "generator", "", "generator ONNX model (the content encoder with --decoder)")
	f.StringVar(&c.Decoder, "decoder", "", "decoder ONNX model of the two-stage form")
	f.StringVar(&c.FromFolder, "from-folder", "", "copy pre-generated samples from `DIR` instead of running a generator")
	f.StringVar(&c.Inputs, "inputs", "", "input image folder")
	f.StringVar(&c.Out, "out", "", "sample store folder (samples go to STORE/<method>)")
	f.StringVar(&c.Method, "method", "", "method name (default: the model's munit_eval.method metadata)")
	f.IntVar(&c.NumInputs, "num-inputs", c.NumInputs, "number of inputs M (0: all)")
	f.StringVar(&c.Select, "select", c.Select, "which inputs: first (sorted order) or random (seeded)")
	f.IntVar(&c.Samples, "samples-per-input", c.Samples, "samples per input K (0: the protocol's 100 for stochastic generators, 1 for deterministic, as found for --from-folder and --latents)")
	f.IntVar(&c.Samples, "samples", c.Samples, "samples per input K (deprecated: --samples-per-input)")
	f.MarkDeprecated("samples", "use --samples-per-input (in the metric commands --samples names a store folder)")
	f.Int64Var(&c.Seed, "seed", c.Seed, "seed of the latent codes and of --select random")
	f.StringVar(&c.Latents, "latents", "", "latent codes, float32 .npy [M,K,S] or [M,S]")
	f.StringVar(&c.StyleEncoder, "style-encoder", "", "style encoder ONNX model: take each sample's style code from a reference image")
	f.StringVar(&c.References, "references", "", "reference image folder of --style-encoder")
	f.StringVar(&c.ReferenceOrder, "reference-order", translate.ReferenceRandom, "references per input: random (seeded, distinct per input) or sorted (sample k: the k-th by name)")
	f.StringVar(&c.Mapping, "mapping", "", "mapping network ONNX model (StarGAN v2): latents -> style codes of --target-domain")
	f.StringVar(&c.TargetDomain, "target-domain", "", "target domain `NAME|INDEX` of a multi-domain model")
	f.BoolVar(&c.Repeat, "repeat", false, "copy a deterministic generator's output into K samples")
	f.IntVar(&c.Batch, "batch", c.Batch, "most samples per network run, the protocol's batch (on CPU also at most 65,536 output pixels)")
	f.IntVar(&c.Streams, "streams", 0, "network runs at once, sharing --threads (0: 2 on a CPU with 2+ cores, else 1)")
	f.IntVar(&c.Size, "size", c.Size, "resize inputs: shorter side to N, centre crop N x N (0: as they are)")
	f.BoolVar(&c.Force, "force", false, "discard what the run's folder holds when it cannot be reused, instead of refusing")
	f.BoolVar(&c.Repair, "repair", false, "keep the intact samples of a store whose manifest is damaged")
	f.StringVar(&o.shard, "shard", "", "run shard `I/N` of the inputs (I from 0; auto: from Slurm or Kubernetes)")
	f.IntVar(&o.shards, "shards", 0, "number of shards N, the index from a Slurm array or Kubernetes Indexed Job (JOB_COMPLETION_INDEX)")
	f.BoolVar(&o.json, "json", false, "print a JSON summary")
	rootCmd.AddCommand(cmd)
}

func runTranslate(cmd *cobra.Command, o translateOptions) error {
	cfg := o.cfg
	shard, err := translate.ParseShard(o.shard, o.shards, os.Getenv)
	if err != nil {
		return usageError{fmt.Errorf("translate: %w", err)}
	}
	cfg.Shard, cfg.Threads, cfg.Device, cfg.Quiet = shard, global.threads, global.device, global.quiet || o.json
	if err := model.Init(global.ortLib); cfg.Generator != "" && err != nil {
		return err
	}
	sum, err := translate.Run(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	return sum.Write(cmd.OutOrStdout(), o.json)
}
