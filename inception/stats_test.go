package inception

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/metrics"
)

// TestStatsProvenance: statistics keep the resize, --size and features
// model they were made with (extra .npz members pytorch-fid ignores), and
// CheckStats refuses them for samples of another (they were used
// silently); pytorch-fid's files, without them, pass; moments no features
// have are refused naming the file.
func TestStatsProvenance(t *testing.T) {
	dir := t.TempDir()
	g, err := metrics.FitGaussian([][]float64{{0, 1}, {1, 0}, {2, 2}})
	if err != nil {
		t.Fatal(err)
	}
	sha := strings.Repeat("a", 64)
	g.Source = StatsSource("", 0, sha)
	p := filepath.Join(dir, "s.npz")
	if err := WriteStats(p, g); err != nil {
		t.Fatal(err)
	}
	back, err := ReadStats(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckStats(p, back, StatsSource("legacy", 0, sha)); err != nil {
		t.Fatalf("the same settings: %v", err)
	}
	for _, c := range []struct {
		now  map[string]string
		want string
	}{
		{StatsSource("clean", 0, sha), "made with --resize legacy, the samples' features with clean"},
		{StatsSource("legacy", 64, sha), "made with --size 0"},
		{StatsSource("legacy", 0, strings.Repeat("b", 64)), "features model (sha256) " + sha},
	} {
		err := CheckStats(p, back, c.now)
		if err == nil || !strings.HasPrefix(err.Error(), p+": ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want a refusal saying %q", c.now, err, c.want)
		}
	}
	// pytorch-fid's file: mu and sigma only.
	plain := filepath.Join(dir, "plain.npz")
	images.WriteNPZ(plain, map[string]*images.Array64{StatsMean: {Shape: []int{2}, Data: g.Mean}, StatsCov: {Shape: []int{2, 2}, Data: g.CovData()}})
	if pg, err := ReadStats(plain); err != nil || CheckStats(plain, pg, StatsSource("clean", 9, sha)) != nil {
		t.Fatalf("pytorch-fid's statistics: %v", err)
	}
	bad := filepath.Join(dir, "bad.npz")
	images.WriteNPZ(bad, map[string]*images.Array64{StatsMean: {Shape: []int{2}, Data: []float64{0, 0}}, StatsCov: {Shape: []int{2, 2}, Data: []float64{1, 2, 2, 1}}})
	if _, err := ReadStats(bad); err == nil || !strings.HasPrefix(err.Error(), bad+": ") || !strings.Contains(err.Error(), "not positive semidefinite") {
		t.Errorf("a covariance with a negative eigenvalue: %v", err)
	}
	os.Remove(bad)
}
