package evaluate

import (
	"context"
	"fmt"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/progress"
	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/registry"
)

// Keys of the real-image statistics in a pytorch-fid .npz (np.savez(path,
// mu=mu, sigma=sigma), float64).
const (
	StatsMean = "mu"
	StatsCov  = "sigma"
)

// ReadStats reads FID statistics in pytorch-fid's format: a .npz with a
// float64 mean `mu` [D] and covariance `sigma` [D, D] (float32 members are
// widened). Other members are ignored; a missing or misshapen one is an
// error naming the file.
func ReadStats(path string) (*metrics.Gaussian, error) {
	arrays, err := images.ReadNPZ(path)
	if err != nil {
		return nil, err
	}
	mu, sigma := arrays[StatsMean], arrays[StatsCov]
	if mu == nil || sigma == nil {
		return nil, fmt.Errorf("%s: FID statistics need arrays %q and %q (pytorch-fid's --save-stats format)", path, StatsMean, StatsCov)
	}
	if len(mu.Shape) != 1 || len(sigma.Shape) != 2 || sigma.Shape[0] != mu.Shape[0] || sigma.Shape[1] != mu.Shape[0] {
		return nil, fmt.Errorf("%s: mu has shape %v and sigma %v, want [D] and [D, D]", path, mu.Shape, sigma.Shape)
	}
	g, err := metrics.NewGaussian(mu.Data, sigma.Data, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// WriteStats writes g as pytorch-fid's --save-stats does: float64 `mu`
// [D] and `sigma` [D, D] in a .npz, atomically.
func WriteStats(path string, g *metrics.Gaussian) error {
	d := len(g.Mean)
	return images.WriteNPZ(path, map[string]*images.Array64{
		StatsMean: {Shape: []int{d}, Data: g.Mean},
		StatsCov:  {Shape: []int{d, d}, Data: g.CovData()},
	})
}

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
	return g, nil
}
