package main

import (
	"fmt"
	"os"

	"github.com/munit-eval/munit-eval/pipeline"
	"github.com/munit-eval/munit-eval/reports"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// runOptions are the flags of munit-eval run.
type runOptions struct {
	force    bool
	noReport bool
	wide     bool
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

See examples/eval.yaml for an annotated file, and docs/run.md for the schema.`,
		Args: exactArgs(1, "eval.yaml"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := pipeline.Load(args[0])
			if err != nil {
				return err
			}
			if o.noReport {
				off := false
				c.Report = &off
			}
			out, err := pipeline.Run(cmd.Context(), c, pipeline.Options{Threads: global.threads, Device: global.device,
				Quiet: global.quiet, Force: o.force, Log: os.Stderr, Memory: global.memBytes})
			if err != nil {
				return err
			}
			return finishRun(cmd, c, out, o.wide)
		},
	}
	cmd.Flags().BoolVar(&o.force, "force", false, "discard store samples of a different model, seed or input set")
	cmd.Flags().BoolVar(&o.noReport, "no-report", false, "do not write the report")
	cmd.Flags().BoolVar(&o.wide, "wide", false, "print the full tables even when they are wider than the terminal")
	rootCmd.AddCommand(cmd)
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
