package main

import (
	"context"
	"fmt"

	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/spf13/cobra"
)

// statsOptions are the flags of munit-eval fid-stats.
type statsOptions struct {
	*metricFlags
	classifier string
	outPath    string
}

func init() {
	o := &statsOptions{metricFlags: newMetricFlags()}
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
		RunE: func(cmd *cobra.Command, args []string) error { return runStats(cmd.Context(), cmd, args[0], *o) },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.classifier, "classifier", "", "classifier ONNX model with a features output (required)")
	fs.StringVar(&o.outPath, "out", "", "the .npz to write (required)")
	fs.StringVar(&o.src.Store, "store", o.src.Store, "the store folder whose .cache/ keeps the features")
	fs.BoolVar(&o.noCache, "no-cache", false, "do not cache classifier outputs on disk")
	o.protocolFlags(cmd, "size")
	o.resizeFlag(cmd)
	rootCmd.AddCommand(cmd)
}

func runStats(ctx context.Context, cmd *cobra.Command, dir string, o statsOptions) error {
	if o.classifier == "" || o.outPath == "" {
		return usageError{fmt.Errorf("fid-stats: need --classifier C.onnx and --out STATS.npz")}
	}
	want := evaluate.Metrics{FID: true}
	if err := o.check(cmd, want); err != nil {
		return err
	}
	s, err := openScorers(evaluate.ModelFiles{Features: o.classifier}, want)
	if err != nil {
		return err
	}
	defer s.Close()
	j := o.job(want, nil, false)
	if !o.noCache {
		j.Cache = o.src.Store
	}
	g, err := evaluate.FolderStats(ctx, s, dir, j)
	if err != nil {
		return err
	}
	if err := evaluate.WriteStats(o.outPath, g); err != nil {
		return err
	}
	o.noteStore(cmd, !o.noCache)
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: mu [%d] and sigma [%d, %d] of %d images of %s\n", o.outPath, len(g.Mean), len(g.Mean), len(g.Mean), g.N, dir)
	return nil
}
