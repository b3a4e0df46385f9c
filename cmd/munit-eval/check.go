package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/munit-eval/munit-eval/gate"
)

func init() {
	o := gate.DefaultArgs()
	cmd := &cobra.Command{
		Use:   "check --baseline BASE.json --results NEW.json [--tolerance METRIC=REL ...] [--alpha 0.01] [--update]",
		Short: "compare results with a baseline and fail when a metric regressed (the CI regression gate)",
		Long: `Check compares the metrics of a new results document with those of a
baseline document of the same method, dataset and protocol, and prints, for
each metric present in both, the two values with their 95% intervals, the
change, its 95% interval, the p-value and a verdict:

	regressed  worse by more than the tolerance AND significant at --alpha
	improved   better by more than the tolerance AND significant at --alpha
	unchanged  otherwise

For example:

	munit-eval check --baseline ci/baseline.json --results out/munit.json
	munit-eval check --baseline ci/baseline/ --results out/ --tolerance lpips_diversity=0.05

Each metric is tested on what its document stores, never recomputed:
lpips_diversity with Welch's t on the per-input means (--diversity-test
mann-whitney for Mann–Whitney U), is, cis and fid with Welch's t on the
standard errors of their bootstrap replicates over inputs, is_exp and cis_exp
following is and cis, is_splits with Welch's t on the splits, kid with a
normal test on the subset values that allows for the subsets' overlap,
preference with a two-proportion z-test per baseline, and the quantities of
any other registered metric as its registry entry says (precision, recall,
density and coverage store no uncertainty: they are shown, not tested). A document without what
its test needs is compared by non-overlap of the stored intervals, which is
conservative; the table says so.

The p-values of all the metrics of all the documents compared are corrected
with Holm's method (--correction none to test each at --alpha on its own),
so that noise alone fails a CI run with probability below --alpha.

Higher is better for lpips_diversity, is, cis and is_splits; lower is better
for fid, kid and preference (the share of judgments preferring a baseline
over the document's method). --higher-is-better and --lower-is-better
override a metric's direction (e.g. --lower-is-better lpips_diversity for a
task whose right answer is deterministic).

--tolerance METRIC=REL (repeatable) ignores changes smaller than REL times
the baseline value: lpips_diversity=0.05 (or 5%) tolerates a 5% change. The
default is 0: any significant worsening regresses.

--baseline and --results may both be folders: their *.json documents are
paired by (method, dataset). A baseline document without a new one is an
error; a new one without a baseline is reported and not gated.

--update rewrites the baseline with the new results (each file atomically)
after reporting, and exits 0. --json prints the verdicts as JSON instead of
the table.

A metric of the baseline that the new results lack (AMT preference
included) is bad input; --allow-missing reports it and fails with exit 1
instead. Every document is checked for internal consistency first.

Exit status: 0 when nothing regressed, 1 when a metric regressed, 2 on bad
input: an unreadable, malformed or self-contradicting document, a missing
metric, or documents that are not comparable (another schema, method, dataset or protocol: the message names
every difference).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := gate.Run(cmd.OutOrStdout(), o)
			if err != nil || o.Update {
				if err == nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "munit-eval: baseline %s updated\n", o.Baseline)
				}
				return err
			}
			for _, m := range rep.Missing {
				fmt.Fprintf(cmd.ErrOrStderr(), "munit-eval: missing: %s\n", m)
			}
			if rep.Failed() {
				return errRegression
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Baseline, "baseline", "", "baseline results document, or folder of documents")
	f.StringVar(&o.Results, "results", "", "new results document, or folder of documents")
	f.StringArrayVar(&o.Tolerance, "tolerance", nil, "METRIC=REL: relative change to tolerate, e.g. lpips_diversity=0.05 (repeatable)")
	f.Float64Var(&o.Alpha, "alpha", o.Alpha, "significance level of the tests")
	f.BoolVar(&o.Update, "update", false, "rewrite the baseline with the new results after reporting, and exit 0")
	f.StringArrayVar(&o.Higher, "higher-is-better", nil, "METRIC whose higher values are better (repeatable)")
	f.StringArrayVar(&o.Lower, "lower-is-better", nil, "METRIC whose lower values are better (repeatable)")
	f.StringVar(&o.DiversityTest, "diversity-test", o.DiversityTest, "two-sample test for lpips_diversity: welch or mann-whitney")
	f.StringVar(&o.Correction, "correction", o.Correction, "multiple-testing correction over the report: holm or none")
	f.BoolVar(&o.JSON, "json", false, "print the verdicts as JSON instead of the table")
	f.BoolVar(&o.Wide, "wide", false, "print the full tables even when they are wider than the terminal")
	f.BoolVar(&o.AllowMissing, "allow-missing", false, "a baseline metric missing from the new results fails with exit 1 (after the table) instead of exit 2")
	rootCmd.AddCommand(cmd)
}
