package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/munit-eval/munit-eval/pipeline"
	"github.com/munit-eval/munit-eval/reports"
	"github.com/munit-eval/munit-eval/translate"
	"github.com/spf13/cobra"
	"golang.org/x/term"
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
				return printShard(cmd.OutOrStdout(), args[0], shard, out)
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

// printShard says what a shard task generated, one line per method.
func printShard(w io.Writer, file string, shard translate.Shard, out *pipeline.Outcome) error {
	done := len(out.Generated) > 0
	for _, g := range out.Generated {
		state := "other shards still to finish"
		if g.Complete {
			state = "store complete"
		}
		done = done && g.Complete
		fmt.Fprintf(w, "%s / %s shard %s: %d inputs x %d samples in %s (this shard: %d computed, %d reused; %s)\n",
			g.Dataset, g.Method, shard, g.Inputs, g.SamplesPerInput, g.Store, g.Computed, g.Reused, state)
	}
	next := "when every shard has finished"
	if done {
		next = "now (every store is complete)"
	}
	_, err := fmt.Fprintf(w, "shard %s generated its samples; nothing scored. Score %s: munit-eval run %s --score-only\n", shard, next, file)
	return err
}

// finishRun writes the report of a run's documents when the file asks for
// it, and prints the comparison tables, folded to the terminal's width
// unless wide (the report's files keep the full tables).
func finishRun(cmd *cobra.Command, c *pipeline.Config, out *pipeline.Outcome, wide bool) error {
	w := cmd.OutOrStdout()
	bold := reports.BoldStar
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bold = reports.BoldANSI
	}
	topts := func() reports.TextOptions { return reports.TextOptions{Bold: bold, Width: termWidth(w, wide)} }
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
