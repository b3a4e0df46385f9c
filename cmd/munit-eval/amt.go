package main

import (
	"io"
	"os"

	"github.com/munit-eval/munit-eval/amt"
	"github.com/munit-eval/munit-eval/reports"
	"github.com/munit-eval/munit-eval/table"
	"github.com/spf13/cobra"
)

// amtAnalyzeOptions are the flags of munit-eval amt analyze.
type amtAnalyzeOptions struct {
	key     string
	dataset string
	opts    amt.AnalyzeOptions
	out     reports.Output
}

func init() {
	parent := &cobra.Command{
		Use:   "amt",
		Short: "human preference studies: make AMT batches, run a local study, analyse answers",
		Long: `Amt runs the MUNIT paper's human preference study (the "Quality" column):
two-alternative forced choices between the reference method's output and a
baseline's, for the same input, answered on Amazon Mechanical Turk or in a
local web page, and analysed into the percentage of judgments preferring each
baseline over the reference.

	munit-eval amt make    --method MUNIT=STORE/MUNIT --method UNIT=STORE/UNIT --out BATCH
	munit-eval amt serve   BATCH                     # local study at http://127.0.0.1:8080
	munit-eval amt analyze --key BATCH/key.json RESULTS.csv BATCH/local-results.csv
	munit-eval amt simulate --key BATCH/key.json --prefer UNIT=0.37 --out sim.csv`,
	}
	parent.AddCommand(amtMakeCommand(), amtAnalyzeCommand(), amtServeCommand(), amtSimulateCommand())
	rootCmd.AddCommand(parent)
}

func amtMakeCommand() *cobra.Command {
	o := amt.MakeArgs{Config: amt.DefaultMakeConfig()}
	cmd := &cobra.Command{
		Use:   "make --method NAME=STORE/<method>... [--reference MUNIT] --out BATCH [flags]",
		Short: "make an AMT batch: opaque images, batch.csv, hit.html and the answer key",
		Long: `Make builds a batch of two-alternative forced-choice questions from sample
stores (made by munit-eval translate). For each baseline, --questions questions
compare the reference's output with the baseline's on a random input (random
samples of stochastic methods), sides in random order. Each HIT of --per-hit
questions holds a --catch share of catch questions: the reference's output
against a block-scrambled copy of it, which attentive workers never choose.

BATCH/images/ holds the images under opaque names (HMAC-SHA256 under a secret
derived from --seed): upload its files so that they are served at --base-url.
BATCH/batch.csv is the MTurk batch input, BATCH/hit.html the HIT layout
(crowd-html-elements; paste it into the requester's layout editor), and
BATCH/key.json the answer key: keep it, and the seed, to yourself. Set the
HIT's assignments to --workers.

The same flags give the same batch, byte for byte.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return amt.MakeBatch(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.Methods, "method", nil, "a compared method as NAME=STORE/<method> (repeat; the reference too); a bare STORE/<method> takes the manifest's name")
	f.StringVar(&o.Config.Reference, "reference", o.Config.Reference, "the method every other one is compared with")
	f.StringVar(&o.Config.Dataset, "dataset", "", "the dataset the stores hold, kept in the key for amt analyze's results document")
	f.StringVar(&o.Config.Inputs, "inputs", "", "folder of the input images, matched by stem (default: each store's input folder)")
	f.IntVar(&o.Config.Questions, "questions", o.Config.Questions, "questions per baseline")
	f.IntVar(&o.Config.PerHIT, "per-hit", o.Config.PerHIT, "questions per HIT, catch questions included")
	f.IntVar(&o.Config.Workers, "workers", o.Config.Workers, "workers (assignments) per HIT")
	f.Float64Var(&o.Config.Catch, "catch", o.Config.Catch, "share of each HIT's questions that are catch questions (0 for none)")
	f.Int64Var(&o.Config.Seed, "seed", 0, "seed of the questions and of the image-naming secret")
	f.StringVar(&o.Config.BaseURL, "base-url", "", "URL where BATCH/images/ will be served (default: relative URLs images/NAME)")
	f.StringVar(&o.Config.Out, "out", "", "the batch folder to create (required)")
	f.BoolVar(&o.Config.Force, "force", false, "replace a batch already in --out (refused when it has local results)")
	cmd.MarkFlagRequired("out")
	return cmd
}

func amtAnalyzeCommand() *cobra.Command {
	o := amtAnalyzeOptions{opts: amt.DefaultAnalyzeOptions()}
	cmd := &cobra.Command{
		Use:   "analyze --key BATCH/key.json RESULTS.csv... [--results FILE] [--json]",
		Short: "analyse AMT or local-study results into preference percentages",
		Long: `Analyze reads the batch results downloaded from MTurk (columns HITId,
WorkerId, AssignmentStatus, WorkTimeInSeconds, Input.*, Answer.*; others are
ignored) and the local study's local-results.csv, matches rows to HITs by their
Input.* values, and reports for each baseline the percentage of judgments
preferring it over the reference (the reference itself is 50% by
construction), with a 95% Wilson interval on judgments and a 95% bootstrap
interval resampling questions and workers.

Rejected assignments are dropped. Workers answering less than
--catch-threshold of their catch questions correctly are excluded, with all
their judgments. A worker answering a question twice keeps the first answer;
duplicates and unanswered questions are counted and reported, never merged.
A malformed file (missing column, unknown HIT, an answer other than left or
right) is an error naming the file and line.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAmtAnalyze(cmd.OutOrStdout(), args, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.key, "key", "", "the batch's answer key, BATCH/key.json (required)")
	f.Float64Var(&o.opts.CatchThreshold, "catch-threshold", o.opts.CatchThreshold, "exclude workers with a smaller share of correct catch answers (0 keeps everyone)")
	f.IntVar(&o.opts.Resamples, "bootstrap", o.opts.Resamples, "bootstrap resamples")
	f.Uint64Var(&o.opts.Seed, "seed", 0, "bootstrap seed")
	f.StringVar(&o.dataset, "dataset", "", "dataset name for the results document (default: the one amt make --dataset recorded in the key)")
	f.StringVar(&o.out.Results, "results", "", "also write the results document to FILE")
	f.BoolVar(&o.out.JSON, "json", false, "print the results document instead of the table")
	cmd.MarkFlagRequired("key")
	return cmd
}

func runAmtAnalyze(w io.Writer, files []string, o amtAnalyzeOptions) error {
	a, doc, err := amt.AnalyzeFiles(o.key, files, o.opts, o.dataset, o.out.JSON || o.out.Results != "")
	if err != nil {
		return err
	}
	o.out.Log = os.Stderr
	return o.out.Document(w, doc, func(w io.Writer) error { return a.WriteTable(w, table.TermWidth(w, false)) })
}

func amtServeCommand() *cobra.Command {
	var addr string
	var hits int
	cmd := &cobra.Command{
		Use:   "serve BATCH [--addr 127.0.0.1:8080] [--hits 1]",
		Short: "run the batch as a local study in the browser",
		Long: `Serve runs the batch as a web page for a lab study without MTurk. A
participant enters an id and answers one question at a time, with the mouse
or the left and right arrow keys; progress is shown, and a participant who
reloads the page or comes back with the same id resumes where they were.
Every answer is validated and appended, synced, to BATCH/local-results.csv in
MTurk's results layout, so amt analyze reads it like MTurk's file.

Serve listens on the loopback interface unless --addr names another one. It
serves the study page and the batch's images only (never key.json). Each
participant answers --hits HITs (default 1: one HIT's worth of questions, as
on MTurk; 0 gives everyone the whole batch), each new one the HIT the fewest
participants have started, so the next participant takes the next HIT. Small
images are enlarged with nearest-neighbour pixels, never blurred. Stop it with
Ctrl-C.`,
		Args: exactArgs(1, "BATCH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := amt.ListenAndServe(cmd.Context(), args[0], addr, hits, cmd.ErrOrStderr())
			if cmd.Context().Err() != nil {
				return errInterrupted
			}
			return err
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (host:port)")
	cmd.Flags().IntVar(&hits, "hits", 1, "HITs per participant (0: all of the batch)")
	return cmd
}

func amtSimulateCommand() *cobra.Command {
	var o amt.SimulateArgs
	cmd := &cobra.Command{
		Use:   "simulate --key BATCH/key.json --prefer NAME=P... [--careless N] [--out FILE]",
		Short: "write MTurk-format results from simulated workers (demo, tests)",
		Long: `Simulate answers the batch with simulated workers and writes the results in
MTurk's batch-results layout: attentive workers prefer baseline NAME over the
reference with probability P and answer catch questions right; --careless
workers answer at random. Worker ids start with SIMULATED-, and amt analyze
labels such results simulated.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return amt.SimulateTo(cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Key, "key", "", "the batch's answer key (required)")
	f.StringArrayVar(&o.Prefer, "prefer", nil, "NAME=P: probability that attentive workers prefer baseline NAME (repeat for each baseline)")
	f.IntVar(&o.Careless, "careless", 0, "number of careless workers")
	f.Uint64Var(&o.Seed, "seed", 0, "simulation seed")
	f.StringVar(&o.Out, "out", "", "output file (default: standard output)")
	cmd.MarkFlagRequired("key")
	return cmd
}
