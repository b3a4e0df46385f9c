package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/munit-eval/munit-eval/demo"
	"github.com/munit-eval/munit-eval/pipeline"
	"github.com/munit-eval/munit-eval/reports"
	"github.com/munit-eval/munit-eval/table"
	"github.com/munit-eval/munit-eval/translate"
	"github.com/spf13/cobra"
)

// runOptions are the flags of munit-eval run.
type runOptions struct {
	force     bool
	noReport  bool
	shard     string
	shards    int
	scoreOnly bool
	emit      string
	job       pipeline.Emit
	wide      bool
}

func init() {
	var o runOptions
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
nothing) generates only shard I's share of every method's samples
and scores nothing; then --score-only scores the assembled store exactly as
one unsharded run would, refusing (naming the missing inputs and the shards
to rerun) while any shard has not finished. --emit slurm or --emit k8s
prints the jobs that do both on a cluster.

See examples/eval.yaml for an annotated file, and docs/run.md for the schema.`,
		Example: `  munit-eval run eval.yaml
  munit-eval run eval.yaml --shard 0/4        # one of four shard tasks
  munit-eval run eval.yaml --score-only       # after every shard finished
  munit-eval run eval.yaml --emit slurm --shards 16 --cpus 4 --mem 8G > submit.sh`,
		Args: exactArgs(1, "eval.yaml"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.emit != "" {
				return emitJobs(cmd, args[0], o)
			}
			shard, err := translate.ParseShard(o.shard, o.shards, os.Getenv)
			if o.scoreOnly {
				// The scoring step is one process; --shards only names the
				// shards to rerun.
				shard, err = translate.Shard{}, nil
				if o.shard != "" {
					err = errors.New("--shard generates and --score-only scores: give one of them")
				}
			}
			if err != nil {
				return usageError{fmt.Errorf("run: %w", err)}
			}
			if o.force && (shard.Sharded() || o.scoreOnly) {
				return usageError{errors.New("run: --force discards the store, which shards write together: run one unsharded --force first")}
			}
			c, err := pipeline.Load(args[0])
			if err != nil {
				return err
			}
			if o.noReport {
				off := false
				c.Report = &off
			}
			out, err := pipeline.Run(cmd.Context(), c, pipeline.Options{Threads: global.threads, Device: global.device,
				Quiet: global.quiet, Force: o.force, Log: os.Stderr, Shard: shard, ScoreOnly: o.scoreOnly, Shards: o.shards, Memory: global.memBytes})
			if err != nil {
				return err
			}
			if shard.Sharded() {
				_, err := io.WriteString(cmd.OutOrStdout(), out.ShardSummary(args[0], shard))
				return err
			}
			return finishRun(cmd, c, out, o.wide)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.force, "force", false, "discard store samples of a different model, seed or input set")
	f.BoolVar(&o.noReport, "no-report", false, "do not write the report")
	f.StringVar(&o.shard, "shard", "", "generate only shard `I/N` of the samples (I from 0; auto: from Slurm or Kubernetes) and score nothing")
	f.IntVar(&o.shards, "shards", 0, "number of shards N, the index from a Slurm array or Kubernetes Indexed Job (with --emit, the tasks to emit)")
	f.BoolVar(&o.scoreOnly, "score-only", false, "generate nothing: score the store the shards wrote, refusing while one has not finished")
	f.StringVar(&o.emit, "emit", "", "print the jobs of a sharded run instead of running: slurm (an sbatch script) or k8s (Kubernetes Jobs)")
	d := pipeline.EmitDefaults
	f.StringVar(&o.job.Binary, "binary", "", "with --emit: the munit-eval executable on the nodes (default: this one's path for slurm, munit-eval for k8s)")
	f.StringVar(&o.job.Workdir, "workdir", "", "with --emit: the jobs' working directory (default: the current one for slurm, --mount for k8s)")
	f.StringVar(&o.job.JobName, "job-name", d.JobName, "with --emit: the jobs' name prefix")
	f.IntVar(&o.job.CPUs, "cpus", d.CPUs, "with --emit: cores per task (also onnxruntime's --threads)")
	f.StringVar(&o.job.Memory, "mem", d.Memory, "with --emit: memory per task (\"\": none asked)")
	f.StringVar(&o.job.Time, "time", d.Time, "with --emit: time limit per task, Slurm's form (\"\": none asked)")
	f.IntVar(&o.job.GPUs, "gpus", 0, "with --emit: GPUs per task (needs --device cuda and a GPU build of onnxruntime, --ort-lib)")
	f.StringVar(&o.job.Partition, "partition", "", "with --emit slurm: the partition (default: the cluster's)")
	f.StringVar(&o.job.Image, "image", d.Image, "with --emit k8s: the container image holding munit-eval")
	f.StringVar(&o.job.Claim, "claim", d.Claim, "with --emit k8s: the PersistentVolumeClaim (ReadWriteMany) holding the evaluation's files")
	f.StringVar(&o.job.Mount, "mount", d.Mount, "with --emit k8s: where the claim is mounted")
	f.BoolVar(&o.wide, "wide", false, "print the full tables even when they are wider than the terminal")
	rootCmd.AddCommand(cmd)
}

// finishRun writes the report of a run's documents when the file asks for
// it, and prints the comparison tables, folded to the terminal's width
// unless wide (the report's files keep the full tables).
func finishRun(cmd *cobra.Command, c *pipeline.Config, out *pipeline.Outcome, wide bool) error {
	w := cmd.OutOrStdout()
	topts := func() reports.TextOptions {
		return reports.TextOptions{Bold: reports.BoldFor(w), Width: table.TermWidth(w, wide)}
	}
	if !c.WantsReport() {
		tables, err := reports.BuildTables(out.Docs, reports.TableOptions{})
		if err != nil {
			return err
		}
		return reports.WriteTextOptions(w, tables, topts())
	}
	var stores []string
	for _, d := range c.Datasets {
		stores = append(stores, c.StoreDir(d.Name))
	}
	sum, err := reports.Write(out.Docs, out.Paths, reports.Options{Out: c.ReportDir(), Stores: stores})
	if err != nil {
		return err
	}
	if err := reports.WriteTextOptions(w, sum.Tables, topts()); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d results documents to %s and the report to %s\n",
		len(out.Paths), c.ResultsDir(), sum.Files[len(sum.Files)-1])
	return nil
}

// emitJobs prints the jobs of a sharded run (run --emit slurm|k8s) instead
// of running it (pipeline.EmitFor).
func emitJobs(cmd *cobra.Command, file string, o runOptions) error {
	if o.shard != "" || o.scoreOnly || o.force {
		return usageError{errors.New("run --emit: --shard, --score-only and --force belong to the emitted jobs, not to --emit")}
	}
	if o.shards < 1 {
		return usageError{fmt.Errorf("run --emit %s: give --shards N, the number of shard tasks", o.emit)}
	}
	e := o.job
	e.File, e.Shards, e.Device, e.ORTLib = file, o.shards, global.device, global.ortLib
	if err := pipeline.EmitFor(cmd.OutOrStdout(), o.emit, e); err != nil {
		return usageError{fmt.Errorf("run: %w", err)}
	}
	return nil
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
			start := time.Now()
			c, err := demo.SetUp(o.out, o.opts)
			if err != nil {
				return err
			}
			if o.setupOnly {
				fmt.Fprintf(os.Stderr, "wrote the synthetic world, its models and eval.yaml to %s\n", o.out)
				return nil
			}
			out, err := pipeline.Run(cmd.Context(), c, pipeline.Options{Threads: global.threads, Device: global.device,
				Quiet: global.quiet, Log: os.Stderr, Memory: global.memBytes})
			if err != nil {
				return err
			}
			if o.opts.Questions > 0 {
				fmt.Fprintf(os.Stderr, "%s: simulated AMT study\n", demo.Dataset)
				if err := demo.AMT(cmd.Context(), c, out, o.opts); err != nil {
					return err
				}
			}
			if err := finishRun(cmd, c, out, false); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "demo finished in %.1f s\n", time.Since(start).Seconds())
			return nil
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
