package main

import (
	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/reports"
	"github.com/spf13/cobra"
)

func init() {
	cmd, _ := metricCommand("lpips --lpips L.onnx (--generator G.onnx --inputs DIR | --samples STORE/<method> | DIR) [--pairs 19] [--real DIR]",
		"measure LPIPS diversity (the MUNIT paper's protocol)",
		`Lpips measures the diversity of a multimodal translation model as the MUNIT
paper does: for each of M inputs (--num-inputs, default 100), P pairs of outputs
(--pairs, default 19: 1,900 pairs), the mean LPIPS distance over all pairs, with
its standard deviation, standard error and a 95% expanded percentile-bootstrap
interval over inputs (--bootstrap resamples, seeded by --seed).

Pairings (--pairing):
	independent  2P independently sampled outputs per input, pairs (2j, 2j+1): the MUNIT protocol
	consecutive  P+1 samples, pairs (j, j+1): the BicycleGAN protocol
	all          K samples (--samples-per-input K), all K(K-1)/2 pairs

With --generator the samples are made through the sample store (--store,
default the per-user store), which reuses whatever it already holds; with --samples they
are read from an existing store folder. Deterministic generators get their one
output repeated, so their diversity is 0. --real DIR adds the "real data" row:
P x M pairs of distinct real target images drawn with the seed (alone, it is
the only row).

Each image is embedded once per run. The distances of the pairs are cached
in the store under .cache/lpips/ (about 150 bytes per pair, keyed by the
model and both images' content), so a rerun recomputes nothing;
--cache-embeddings also keeps the full embeddings (about 1 MB per 256x256
image for AlexNet) so that another pairing reuses them; --no-cache turns the
disk cache off.

A plain folder DIR of samples grouped by input, laid out as translate
--from-folder reads them (DIR/<stem>/<k>.png or DIR/<stem>_<k>.png, the
same K for every input), is read where it is; the pairing uses each input's
first samples (a warning says when the folder holds more).

The LPIPS version (metadata munit_eval.lpips_version) matters: v0.0 gives
values about half of v0.1. It goes into every result.

	munit-eval lpips --lpips lpips_alex.onnx --generator munit.onnx --inputs edges/testA --pairs 19
	munit-eval lpips --lpips lpips_alex.onnx --pairing all --samples-per-input 10 samples/`, []string{"lpips"}, 1, reports.Output.LPIPS)
	cmd.Flags().Lookup("json").Usage = "print a JSON array of the results documents (the method's, then the real-data row's) instead of the table"
}

func init() {
	var o evaluate.DistanceOptions
	cmd := &cobra.Command{
		Use:   "distance --lpips L.onnx (A.png B.png | A_DIR B_DIR)",
		Short: "print the LPIPS distance between two images, or between the images of two folders paired by name",
		Long: `Distance prints the LPIPS distance between two images of the same size,

	LPIPS(x, y) = sum_l mean_{h,w} sum_c (e_l(x) - e_l(y))^2,

from the embeddings e_l of an LPIPS model (docs/models.md), which equals the
reference lpips.LPIPS(net=..., version=...)(x, y) up to float32 rounding.
--json prints {"distance", "per_layer", "lpips_net", "lpips_version"}.

Given two folders, it pairs their images by file name, as the lpips
package's lpips_2dirs.py does, and prints one distance per pair and their
mean, then the names found in one folder only. --json prints {"pairs":
[{"name", "distance"}], "mean", "only_a", "only_b", "lpips_net",
"lpips_version"}.

	munit-eval distance --lpips lpips_alex.onnx a.png b.png
	munit-eval distance --lpips lpips_alex.onnx outputs/ targets/`,
		Args: exactArgs(2, "two images A.png B.png or two folders"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Run = global.run(false)
			return evaluate.Distance(cmd.Context(), cmd.OutOrStdout(), args[0], args[1], o)
		},
	}
	cmd.Flags().StringVar(&o.LPIPS, "lpips", "", "LPIPS embedding ONNX model (required)")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print a JSON object")
	cmd.Flags().IntVar(&o.Size, "size", 0, "resize both images first (shorter side, centre crop)")
	rootCmd.AddCommand(cmd)
}
