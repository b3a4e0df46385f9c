package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/munit-eval/munit-eval/reports"
)

func init() {
	o := reports.DefaultArgs()
	cmd := &cobra.Command{
		Use:   "report --results 'DIR/*.json' --out REPORT [--stores STORE] [--inputs DIR]",
		Short: "write paper-style tables, plots, image grids and an HTML report from results documents",
		Long: `Report reads results documents and writes, into the folder REPORT:

	tables.md     the paper's tables in Markdown (one row per method, columns per dataset)
	tables.tex    the same tables in LaTeX with booktabs: each float holds the
	              caption and tabular only; its notes and warnings follow it
	              as LaTeX comments (--no-notes leaves them out)
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
terminal, tables wider than the window are written one block per method
("column = value" lines) and notes wrapped; --wide
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
			o.Results = append(o.Results, args...)
			sum, err := reports.Run(cmd.OutOrStdout(), o)
			if err != nil {
				return err
			}
			for _, n := range sum.Notes {
				fmt.Fprintf(os.Stderr, "munit-eval: report: %s\n", n)
			}
			if !global.quiet {
				fmt.Fprintf(os.Stderr, "wrote %d files to %s (open %s)\n", len(sum.Files), o.Out, sum.Files[len(sum.Files)-1])
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.Results, "results", nil, "results documents: files, folders or glob patterns (repeatable)")
	f.StringVar(&o.Out, "out", "", "report folder (created when missing)")
	f.StringArrayVar(&o.Stores, "stores", nil, "sample store (folder of method folders) to draw a grid from (repeatable)")
	f.StringVar(&o.Inputs, "inputs", "", "input image folder for the grids (default: the folder in each store's manifest)")
	f.StringVar(&o.CI, "ci", o.CI, "interval notation: pm (value ± half-width) or brackets (value [lo, hi])")
	f.StringVar(&o.Scores, "scores", o.Scores, "IS/CIS form: nats (the paper's tables) or exp (the official script's print)")
	f.StringVar(&o.Pref, "pref-interval", o.Pref, "preference interval: bootstrap (over questions and workers) or wilson (on judgments, taken as independent)")
	f.IntVar(&o.GridInputs, "grid-inputs", o.GridInputs, "inputs (rows) per image grid")
	f.IntVar(&o.GridSamples, "grid-samples", o.GridSamples, "samples shown per stochastic method in the grids")
	f.Int64Var(&o.Seed, "seed", o.Seed, "seed of the grids' input selection")
	f.StringVar(&o.Title, "title", o.Title, "title of index.html")
	f.BoolVar(&o.Wide, "wide", false, "print the full tables even when they are wider than the terminal")
	f.BoolVar(&o.NoNotes, "no-notes", false, "leave the notes and warnings out of tables.tex (they follow each table there as LaTeX comments)")
	f.BoolVar(&o.AllowMixed, "allow-mixed", false, "put documents of one dataset measured under different protocols (counts, seed, size) in one table")
	rootCmd.AddCommand(cmd)
}
