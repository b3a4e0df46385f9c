package evaluate

import (
	"context"
	"fmt"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/inception"
	"github.com/munit-eval/munit-eval/internal/progress"
	"github.com/munit-eval/munit-eval/metrics"
)

// Keys of the real-image statistics in a pytorch-fid .npz (np.savez(path,
// mu=mu, sigma=sigma), float64).
const (
	StatsMean = inception.StatsMean
	StatsCov  = inception.StatsCov
)

// ReadStats reads FID statistics in pytorch-fid's format, with the
// provenance fid-stats records (inception.ReadStats).
func ReadStats(path string) (*metrics.Gaussian, error) { return inception.ReadStats(path) }

// WriteStats writes g as pytorch-fid's --save-stats does, with its
// provenance (inception.WriteStats).
func WriteStats(path string, g *metrics.Gaussian) error { return inception.WriteStats(path, g) }

// FolderStats fits the Gaussian of the features model's features of every
// image of a folder (its mean and N−1 covariance, as pytorch-fid's
// calculate_activation_statistics), with j's resize mode and cache.
func FolderStats(ctx context.Context, s *Scorers, dir string, j Job) (*metrics.Gaussian, error) {
	files, err := images.ListDir(dir)
	if err != nil {
		return nil, err
	}
	clean := 0
	if j.Protocol.Resize == ResizeClean {
		clean = CleanSize
	}
	refs := make([]images.Ref, len(files))
	for i, f := range files {
		refs[i] = images.Ref{Path: f.Path, Size: j.Protocol.Size, Clean: clean}
	}
	r, done := j.runner(s.Features)
	defer done()
	r.Bar = progress.New(len(refs), "features", j.Quiet)
	outs, err := r.Run(ctx, refs)
	r.Bar.Finish()
	if err != nil {
		return nil, err
	}
	x, err := inception.Features(outs)
	if err != nil {
		return nil, err
	}
	g, err := metrics.FitGaussian(x)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	g.Source = inception.StatsSource(j.Protocol.Resize, j.Protocol.Size, s.Features.SHA256())
	return g, nil
}
