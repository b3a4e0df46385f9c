package main

import (
	"fmt"

	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/spf13/cobra"
)

func init() {
	f := &planFlags{pl: evaluate.Plan{Protocol: evaluate.DefaultProtocol()}, store: "store"}
	var out string
	cmd := &cobra.Command{
		Use:   "fid-stats DIR --classifier C.onnx --out STATS.npz",
		Short: "write the FID statistics (mu, sigma) of a folder of images in pytorch-fid's .npz format",
		Long: `Fid-stats runs the features model over every image of a folder and writes
the mean mu [D] and the covariance sigma [D, D] (N-1 normalization, as
np.cov) of the features, float64, to a .npz as pytorch-fid's --save-stats
does. fid --real-stats reads it back (and files pytorch-fid wrote), so the
real images of a dataset are processed once. --resize and --size apply as
for fid; the features are cached in the store (--store, --no-cache).

	munit-eval fid-stats real/ --classifier fid_inception.onnx --out real_stats.npz`,
		Args: exactArgs(1, "one image folder DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			m := f.pl.Models
			if m.Features == "" {
				m.Features = m.Classifier
			}
			if m.Features == "" || out == "" {
				return usageError{fmt.Errorf("fid-stats: need --classifier C.onnx and --out STATS.npz")}
			}
			if err := f.pl.Protocol.Validate(nil); err != nil {
				return usageError{fmt.Errorf("fid-stats: %w", flagError(err))}
			}
			if err := model.Init(global.ortLib); err != nil {
				return err
			}
			s, err := evaluate.OpenScorers(evaluate.ModelFiles{Features: m.Features}, registry.NeedFeatures, model.Options{Threads: global.threads, Device: global.device})
			if err != nil {
				return err
			}
			defer s.Close()
			j := evaluate.Job{Protocol: f.pl.Protocol, Quiet: global.quiet, Warn: warnStderr}
			if !f.noCache {
				j.Cache = f.store
			}
			g, err := evaluate.FolderStats(cmd.Context(), s, args[0], j)
			if err == nil {
				err = evaluate.WriteStats(out, g)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: mu [%d] and sigma [%d, %d] of %d images of %s\n", out, len(g.Mean), len(g.Mean), len(g.Mean), g.N, args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the .npz to write (required)")
	cmd.Flags().StringVar(&f.store, "store", f.store, "the store folder whose .cache/ keeps the features")
	f.register(cmd, "models.classifier", "models.features", "cache", "protocol.size", "protocol.resize", "protocol.batch")
	rootCmd.AddCommand(cmd)
}
