package main

import (
	"fmt"
	"os"

	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/reports"
	"github.com/spf13/cobra"
)

func init() {
	f := &planFlags{Command: evaluate.Command{Plan: evaluate.Plan{Protocol: evaluate.DefaultProtocol()}}}
	var r evaluate.NDBRequest
	cmd := &cobra.Command{
		Use:   "ndb [REAL_DIR] GEN_DIR | ndb --features Q.npy --real-features R.npy",
		Short: "measure NDB and JSD (statistically different bins) of samples against real images",
		Long: `Ndb reports NDB, NDB/K and JSD (Richardson & Weiss 2018, as gans-n-gmms
utils/ndb.py): k-means (--bins K) bins of the real samples, a two-proportion
z-test per bin at --alpha, the JS divergence of the bin proportions, and a
real-data row (bins from a seeded half of the real set, the other half
scored). Pixels resized to --ndb-size (3,072 dimensions at 32), a features
model's features (--classifier), or [N, D] .npy arrays. --bins-out writes
the bins, --bins-file reads them (then REAL_DIR is optional). See
docs/metrics.md.

	munit-eval ndb real/ generated/ --whiten
	munit-eval ndb --features q.npy --real-features r.npy --bins-out bins.npz`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r.Protocol, r.Dataset, r.Run, r.Model = f.Plan.Protocol, f.Dataset.Name, global.run(f.out.JSON), f.Plan.Models.Classifier
			notice, err := userStore(&f.Store)
			if err != nil {
				return err
			}
			r.Protocol.Given, r.Cache, r.NoCache = f.given(cmd), f.Store, f.Plan.NoCache
			if err := model.Init(global.ortLib); err != nil {
				return err
			}
			docs, err := evaluate.NDB(cmd.Context(), r.Folders(args))
			if err != nil {
				return fmt.Errorf("ndb: %w", evaluate.FlagError(err))
			}
			notice(os.Stderr)
			return show(cmd.OutOrStdout(), f.out, docs, reports.Output.Documents)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&r.Features, "features", "", "the samples' features, a float [N, D] .npy, instead of GEN_DIR")
	fs.StringVar(&r.RealFeatures, "real-features", "", "the real samples' features, a float [N, D] .npy, instead of REAL_DIR")
	fs.IntVar(&r.PixelSize, "ndb-size", evaluate.DefaultNDBSize, "NDB on pixels: resize images to N x N (shorter side, centre crop)")
	fs.StringVar(&r.BinsFile, "bins-file", "", "read the bins (ndb.py's cache fields) from this .npz instead of making them")
	fs.StringVar(&r.BinsOut, "bins-out", "", "write the bins (ndb.py's cache fields) to this .npz")
	fs.StringVar(&f.Store, "store", f.Store, "the store folder whose .cache/ keeps the features (default: the per-user store)")
	registerOutput(cmd, &f.out, &f.Dataset.Name, &f.Plan.NoCache, "features", "")
	f.register(cmd, "seed", "models.classifier", "protocol.ndb_bins", "protocol.ndb_alpha", "protocol.ndb_whiten", "protocol.num_inputs", "protocol.num_real", "protocol.batch")
	rootCmd.AddCommand(cmd)
}
