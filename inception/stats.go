package inception

// FID statistics files: pytorch-fid's .npz (mu, sigma), with the
// provenance munit-eval records beside them as extra members that
// pytorch-fid's np.load(...)['mu'] never reads.

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/metrics"
)

// Members of a statistics .npz: pytorch-fid's float64 mean and covariance,
// and munit-eval's provenance strings.
const (
	StatsMean = "mu"
	StatsCov  = "sigma"
	// StatsResize is the resize mode of the images ("legacy", "clean"),
	// StatsSize the --size they were resized to first ("0": none), and
	// StatsFeatures the features model's SHA-256.
	StatsResize   = "munit_eval_resize"
	StatsSize     = "munit_eval_size"
	StatsFeatures = "munit_eval_features_sha256"
)

// StatsSource is the provenance recorded with statistics made with the
// given resize mode, --size and features model: what FID against them
// requires of the samples' features (CheckStats).
func StatsSource(resize string, size int, featuresSHA256 string) map[string]string {
	if resize == "" {
		resize = "legacy" // the protocol's default
	}
	return map[string]string{StatsResize: resize, StatsSize: strconv.Itoa(size), StatsFeatures: featuresSHA256}
}

// ReadStats reads FID statistics in pytorch-fid's format: a .npz with a
// float64 mean `mu` [D] and covariance `sigma` [D, D] (float32 members are
// widened), and the provenance munit-eval's fid-stats records (into
// Gaussian.Source; absent from pytorch-fid's files). Other members are
// ignored; a missing or misshapen one, and moments no features have (see
// metrics.NewGaussian), are errors naming the file.
func ReadStats(path string) (*metrics.Gaussian, error) {
	z, err := images.ReadNPZFile(path)
	if err != nil {
		return nil, err
	}
	mu, sigma := z.Arrays[StatsMean], z.Arrays[StatsCov]
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
	for _, k := range []string{StatsResize, StatsSize, StatsFeatures} {
		if v, ok := z.Strings[k]; ok {
			if g.Source == nil {
				g.Source = map[string]string{}
			}
			g.Source[k] = v
		}
	}
	return g, nil
}

// WriteStats writes g as pytorch-fid's --save-stats does (float64 `mu`
// [D] and `sigma` [D, D] in a .npz, atomically), with g.Source as string
// members.
func WriteStats(path string, g *metrics.Gaussian) error {
	d := len(g.Mean)
	return images.WriteNPZFile(path, &images.NPZ{
		Arrays: map[string]*images.Array64{
			StatsMean: {Shape: []int{d}, Data: g.Mean},
			StatsCov:  {Shape: []int{d, d}, Data: g.CovData()},
		},
		Strings: g.Source,
	})
}

// CheckStats refuses statistics read from path whose recorded provenance
// differs from the samples' (now, from StatsSource): FID between features
// of another resize or another network measures that difference, not the
// method. Statistics without provenance (pytorch-fid's) pass: nothing can
// be checked.
func CheckStats(path string, g *metrics.Gaussian, now map[string]string) error {
	what := map[string]string{StatsResize: "--resize", StatsSize: "--size", StatsFeatures: "features model (sha256)"}
	for _, k := range slices.Sorted(maps.Keys(what)) {
		had, ok := g.Source[k]
		if ok && had != now[k] {
			return fmt.Errorf("%s: the statistics were made with %s %s, the samples' features with %s: FID between them measures that difference; make the statistics again with munit-eval fid-stats and the same settings",
				path, what[k], had, now[k])
		}
	}
	return nil
}
