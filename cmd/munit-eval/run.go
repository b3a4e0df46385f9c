package main

import (
	"github.com/munit-eval/munit-eval/demo"
	"github.com/munit-eval/munit-eval/pipeline"
	"github.com/spf13/cobra"
)

func init() {
	var o pipeline.Args
	cmd := &cobra.Command{
		Use:   "run [--force] [--no-report] eval.yaml",
		Short: "run a whole evaluation declared in one YAML file",
		Long: `Run executes the evaluation an eval.yaml file declares: for every dataset,
every method (a generator, a two-stage content encoder + decoder pair, or a
folder of pre-generated outputs) goes through the sample store once, and the
same samples serve every metric (LPIPS pairs use the first samples of each
input). It writes one results document per (method, dataset) to OUT/results/,
the real-data LPIPS row of every dataset, and the report to OUT/report/.

Nothing is computed twice: a rerun reuses the store's samples and its cached
embeddings and classifier outputs. Unknown keys, missing files, values out of
bounds and contradictory settings are errors naming the YAML line, and every
model (against its role's contract) and image folder of the whole file is
checked before any work starts. The metric commands measure through the same
code, with the same protocol bounds.

Sharded over many machines that share the out folder's filesystem (see
docs/scale.md): --shard I/N (or --shard auto or --shards N in a Slurm array
task, SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT, or a Kubernetes Indexed
Job's JOB_COMPLETION_INDEX with --shards N; the environment alone shards
nothing) generates shard I's share of every method's samples and computes
their per-sample values (partials); then --score-only reduces the partials
to the documents one unsharded run would write, reading no sample, refusing
(naming the missing inputs and shards to rerun) while a shard has not run. --emit slurm or --emit k8s
prints the jobs that do both on a cluster.

See examples/eval.yaml for an annotated file, and docs/run.md for the schema.`,
		Example: `  munit-eval run eval.yaml
  munit-eval run eval.yaml --shard 0/4        # one of four shard tasks
  munit-eval run eval.yaml --score-only       # after every shard: reduce
  munit-eval run eval.yaml --emit slurm --shards 16 --cpus 4 --mem 8G > submit.sh`,
		Args: exactArgs(1, "eval.yaml"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Options, o.Job.ORTLib = global.pipeline(o.Options), global.ortLib
			return pipeline.RunFile(cmd.Context(), cmd.OutOrStdout(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Force, "force", false, "discard store samples of a different model, seed or input set")
	f.BoolVar(&o.NoReport, "no-report", false, "do not write the report")
	f.StringVar(&o.ShardSpec, "shard", "", "generate only shard `I/N` of the samples (I from 0; auto: from Slurm or Kubernetes) and score nothing")
	f.IntVar(&o.Shards, "shards", 0, "number of shards N, the index from a Slurm array or Kubernetes Indexed Job (with --emit, the tasks to emit)")
	f.BoolVar(&o.ScoreOnly, "score-only", false, "generate nothing: score the store the shards wrote, refusing while one has not finished")
	f.StringVar(&o.Emit, "emit", "", "print the jobs of a sharded run instead of running: slurm (an sbatch script) or k8s (Kubernetes Jobs)")
	d := pipeline.EmitDefaults
	f.StringVar(&o.Job.Binary, "binary", "", "with --emit: the munit-eval executable on the nodes (default: this one's path for slurm, munit-eval for k8s)")
	f.StringVar(&o.Job.Workdir, "workdir", "", "with --emit: the jobs' working directory (default: the current one for slurm, --mount for k8s)")
	f.StringVar(&o.Job.JobName, "job-name", d.JobName, "with --emit: the jobs' name prefix")
	f.IntVar(&o.Job.CPUs, "cpus", d.CPUs, "with --emit: cores per task (also onnxruntime's --threads)")
	f.StringVar(&o.Job.Memory, "mem", d.Memory, "with --emit: memory per task (\"\": none asked)")
	f.StringVar(&o.Job.Time, "time", d.Time, "with --emit: time limit per task, Slurm's form (\"\": none asked)")
	f.IntVar(&o.Job.GPUs, "gpus", 0, "with --emit: GPUs per task (needs --device cuda and a GPU build of onnxruntime, --ort-lib)")
	f.StringVar(&o.Job.Partition, "partition", "", "with --emit slurm: the partition (default: the cluster's)")
	f.StringVar(&o.Job.Image, "image", d.Image, "with --emit k8s: the container image holding munit-eval")
	f.StringVar(&o.Job.Claim, "claim", d.Claim, "with --emit k8s: the PersistentVolumeClaim (ReadWriteMany) holding the evaluation's files")
	f.StringVar(&o.Job.Mount, "mount", d.Mount, "with --emit k8s: where the claim is mounted")
	f.BoolVar(&o.Wide, "wide", false, "print the full tables even when they are wider than the terminal")
	rootCmd.AddCommand(cmd)
}

// demoOptions are the flags of munit-eval demo.
type demoOptions struct {
	out       string
	setupOnly bool
	opts      demo.Options
}

func init() {
	o := demoOptions{out: "demo-out", opts: demo.DefaultOptions()}
	cmd := &cobra.Command{
		Use:   "demo [--out DIR]",
		Short: "run the whole evaluation on the built-in synthetic world",
		Long: `Demo builds munit-eval's synthetic world, whose right answers are known, and
evaluates it end to end: two image domains (A: shape outlines, B: the same
shapes in one of four colour modes), planted ONNX generators (MUNIT picks one
of four modes from its style code, BicycleGAN one of two, CycleGAN, CycleGAN*
and UNIT one per input), a mode classifier and an LPIPS network.

It writes into DIR (default ./demo-out): world/, models/, eval.yaml, the
sample store (store/), one results document per method (results/), a
simulated AMT study (amt/) and the report (report/index.html), and prints the
comparison table. The planted values come back: MUNIT's CIS near ln 4 = 1.386
(1.371 expected at K = 100), BicycleGAN's near ln 2, the deterministic
methods' CIS 0, and LPIPS diversity MUNIT > BicycleGAN > CycleGAN* = CycleGAN = 0.

Rerunning reuses the store; two runs give identical results documents apart
from their created field.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return demo.Run(cmd.Context(), cmd.OutOrStdout(), o.out, o.setupOnly, o.opts, global.pipeline(pipeline.Options{}))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", o.out, "output folder")
	f.BoolVar(&o.setupOnly, "setup-only", false, "write the world, models and eval.yaml, then stop")
	f.Uint64Var(&o.opts.Seed, "world-seed", o.opts.Seed, "seed of the synthetic world and its models")
	f.IntVar(&o.opts.Inputs, "inputs", o.opts.Inputs, "domain-A inputs M")
	f.IntVar(&o.opts.Real, "real", o.opts.Real, "domain-B real images")
	f.IntVar(&o.opts.Samples, "samples-per-input", o.opts.Samples, "samples per input K (the paper's 100)")
	f.IntVar(&o.opts.Questions, "questions", o.opts.Questions, "simulated AMT questions per baseline (0: no AMT step)")
	rootCmd.AddCommand(cmd)
}
