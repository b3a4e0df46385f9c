package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/munit-eval/munit-eval/reports"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/table"
)

// reportOptions are the flags of munit-eval report.
type reportOptions struct {
	results     []string
	out         string
	stores      []string
	inputs      string
	ci          string
	scores      string
	pref        string
	gridInputs  int
	gridSamples int
	seed        int64
	title       string
	wide        bool
}

// defaultReportOptions holds the defaults of munit-eval report in one place.
func defaultReportOptions() reportOptions {
	return reportOptions{
		ci:          string(reports.CIPlusMinus),
		scores:      string(reports.ScoresNats),
		pref:        string(reports.PrefWilson),
		gridInputs:  4,
		gridSamples: 4,
		title:       "munit-eval report",
	}
}

func init() {
	o := defaultReportOptions()
	cmd := &cobra.Command{
		Use:   "report --results 'DIR/*.json' --out REPORT [--stores STORE] [--inputs DIR]",
		Short: "write paper-style tables, plots, image grids and an HTML report from results documents",
		Long: `Report reads results documents and writes, into the folder REPORT:

	tables.md     the paper's tables in Markdown (one row per method, columns per dataset)
	tables.tex    the same tables in LaTeX with booktabs
	plots/        diversity, CIS/IS, pairwise-LPIPS and preference plots, PNG and SVG
	grids/        image grids: the input, each deterministic method, K samples of each stochastic one
	index.html    everything above in one self-contained page, with provenance

and prints the tables. Report never recomputes a metric: every number is read
from the documents. For example:

	munit-eval report --results 'out/results/*.json' --out out/report --stores out/store/edges2shoes

(out/ being the folder a run writes: results/, store/<dataset>/, report/).
--results accepts files, folders and glob patterns (quote them) and may be
repeated; arguments after the flags are read the same way. Each value is
printed with its 95% interval, as "v ± half-width" where the interval is
symmetric and "v [lo, hi]" where it is not (--ci pm), or always as
"v [lo, hi]" (--ci brackets); the best value of each column is bold (on a
terminal) or marked with a character that no method name contains. On a
terminal, tables wider than the window are folded and notes wrapped; --wide
prints them whole (tables.md, tables.tex and pipes always get them whole). IS and CIS are printed
in nats as in the paper's tables (--scores nats) or as exp() of them, as the
official script prints (--scores exp).

Grids come from the sample stores given with --stores (one grid per store),
or else from the method folders the documents name (protocol.samples) or, for
documents in a run's results/ folder, the run's store/<dataset>/ beside it;
when none is found the report says so. --grid-inputs inputs are
drawn with --seed, and --grid-samples samples are shown per stochastic method.
--inputs overrides the input folder recorded in the stores' manifests.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(cmd, append(append([]string(nil), o.results...), args...), o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.results, "results", nil, "results documents: files, folders or glob patterns (repeatable)")
	f.StringVar(&o.out, "out", "", "report folder (created when missing)")
	f.StringArrayVar(&o.stores, "stores", nil, "sample store (folder of method folders) to draw a grid from (repeatable)")
	f.StringVar(&o.inputs, "inputs", "", "input image folder for the grids (default: the folder in each store's manifest)")
	f.StringVar(&o.ci, "ci", o.ci, "interval notation: pm (value ± half-width) or brackets (value [lo, hi])")
	f.StringVar(&o.scores, "scores", o.scores, "IS/CIS form: nats (the paper's tables) or exp (the official script's print)")
	f.StringVar(&o.pref, "pref-interval", o.pref, "preference interval: wilson (on judgments) or bootstrap (over questions and workers)")
	f.IntVar(&o.gridInputs, "grid-inputs", o.gridInputs, "inputs (rows) per image grid")
	f.IntVar(&o.gridSamples, "grid-samples", o.gridSamples, "samples shown per stochastic method in the grids")
	f.Int64Var(&o.seed, "seed", o.seed, "seed of the grids' input selection")
	f.StringVar(&o.title, "title", o.title, "title of index.html")
	f.BoolVar(&o.wide, "wide", false, "print the full tables even when they are wider than the terminal")
	rootCmd.AddCommand(cmd)
}

func runReport(cmd *cobra.Command, paths []string, o reportOptions) error {
	if len(paths) == 0 {
		return usageError{fmt.Errorf("report: give the results documents with --results 'DIR/*.json'")}
	}
	if o.out == "" {
		return usageError{fmt.Errorf("report: --out REPORT is required")}
	}
	topts := reports.TableOptions{CI: reports.CIStyle(o.ci), Scores: reports.ScoreForm(o.scores), Pref: reports.PrefInterval(o.pref)}
	switch {
	case topts.CI != reports.CIPlusMinus && topts.CI != reports.CIBrackets:
		return usageError{fmt.Errorf("report: --ci %q: want pm or brackets", o.ci)}
	case topts.Scores != reports.ScoresNats && topts.Scores != reports.ScoresExp:
		return usageError{fmt.Errorf("report: --scores %q: want nats or exp", o.scores)}
	case topts.Pref != reports.PrefWilson && topts.Pref != reports.PrefBootstrap:
		return usageError{fmt.Errorf("report: --pref-interval %q: want wilson or bootstrap", o.pref)}
	case o.gridInputs < 1 || o.gridSamples < 1:
		return usageError{fmt.Errorf("report: --grid-inputs and --grid-samples must be at least 1")}
	}
	docs, sources, err := results.ReadAll(paths...)
	if err != nil {
		return err
	}
	sum, err := reports.Write(docs, sources, reports.Options{
		Out:    o.out,
		Tables: topts,
		Grid:   reports.GridOptions{Inputs: o.inputs, NumInputs: o.gridInputs, Samples: o.gridSamples, Seed: o.seed},
		Stores: o.stores,
		Title:  o.title,
	})
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if err := reports.WriteTextOptions(w, sum.Tables, reports.TextOptions{Bold: reports.BoldFor(w), Width: table.TermWidth(w, o.wide)}); err != nil {
		return err
	}
	for _, n := range sum.Notes {
		fmt.Fprintf(os.Stderr, "munit-eval: report: %s\n", n)
	}
	if !global.quiet {
		fmt.Fprintf(os.Stderr, "wrote %d files to %s (open %s)\n", len(sum.Files), o.out, sum.Files[len(sum.Files)-1])
	}
	return nil
}
