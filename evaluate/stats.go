package evaluate

import (
	"context"
	"fmt"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/inception"
	"github.com/munit-eval/munit-eval/internal/progress"
	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/registry"
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

// Stats opens pl's features model (its classifier when none is named) and
// fits the Gaussian of the features of every image of dir with FolderStats,
// under pl's protocol, caching in store's .cache/ unless pl.NoCache.
func Stats(ctx context.Context, pl Plan, dir, store string) (*metrics.Gaussian, error) {
	f := pl.Models.Features
	if f == "" {
		f = pl.Models.Classifier
	}
	s, err := OpenScorers(ModelFiles{Features: f}, registry.NeedFeatures, pl.Run.ModelOptions())
	if err != nil {
		return nil, err
	}
	defer s.Close()
	j := Job{Protocol: pl.Protocol, Quiet: pl.Run.Quiet, Warn: pl.Warn}
	if !pl.NoCache {
		j.Cache = store
	}
	return FolderStats(ctx, s, dir, j)
}

// FolderStats fits the Gaussian of the features model's features of every
// image of a folder (its mean and N−1 covariance, as pytorch-fid's
// calculate_activation_statistics), with j's resize mode, batch and cache.
func FolderStats(ctx context.Context, s *Scorers, dir string, j Job) (*metrics.Gaussian, error) {
	files, err := images.ListDir(dir)
	if err != nil {
		return nil, err
	}
	clean := 0
	if j.Protocol.Resize == ResizeClean {
		clean = CleanSize
	}
	items := realSet(dir, files, j.Protocol.Size).items(1, clean)
	r := j.runner(s.Features)
	r.Bar = progress.New(len(items), "features", j.Quiet)
	x, err := features(ctx, r, items)
	r.Bar.Finish()
	j.warn(r.Warnings)
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
