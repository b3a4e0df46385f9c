package evaluate

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
)

// splitMixRows are n rows of d values offset + scale·(2u − 1), u the
// SplitMix64 stream from seed as a 53-bit fraction, rounded to float32 (as
// embeddings files hold them). The stream is plain integer arithmetic, so
// the same rows are rebuilt outside Go to run reference code on them.
func splitMixRows(n, d int, seed uint64, offset, scale float64) []float32 {
	out := make([]float32, n*d)
	s := seed
	for i := range out {
		s += 0x9e3779b97f4a7c15
		z := s
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		u := float64(z>>11) / (1 << 53)
		out[i] = float32(offset + scale*(2*u-1))
	}
	return out
}

func writeEmbeddings(t *testing.T, path string, shape []int, data []float32) string {
	t.Helper()
	if err := images.WriteNPY(path, &images.Array{Shape: shape, Data: data}); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFeatureFilesMatchReferences: cmmd and fd on embeddings files equal
// the reference implementations run on the same float32 values (widened
// to float64, as munit-eval reads them): sayakpaul/cmmd-pytorch @f7673a9
// distance.py's mmd(x, y).item() and layer6ai-labs/dgm-eval @74c79f7
// dgm_eval/metrics/fd.py's compute_FD_with_reps(y, x), run under Debian's
// PyTorch 1.13.1, NumPy and SciPy on the rows splitMixRows makes. The
// tolerance is 1e-6 relative (the bound for CMMD); the figures
// agree to 4e-12. The samples are [M=40, K=5, D=24] (input groups,
// for the jackknife), the real embeddings [230, 24].
func TestFeatureFilesMatchReferences(t *testing.T) {
	dir := t.TempDir()
	const m, k, d, n = 40, 5, 24, 230
	x := writeEmbeddings(t, filepath.Join(dir, "x.npy"), []int{m, k, d}, splitMixRows(m*k, d, 1, 0.02, 0.5))
	y := writeEmbeddings(t, filepath.Join(dir, "y.npy"), []int{n, d}, splitMixRows(n, d, 2, 0, 0.45))
	p := DefaultProtocol()
	p.FIDInterval = "on"
	for _, c := range []struct {
		key  string
		want float64
	}{
		{registry.KeyCMMD, cmmdDistancePy},
		{registry.KeyFD, fdDGMEval},
	} {
		doc, err := FeatureFiles(c.key, x, y, "toy", p)
		if err != nil {
			t.Fatal(err)
		}
		var cm registry.CMMD
		var fd registry.FD
		var f struct {
			Value float64
			CI95  *[2]float64
		}
		if c.key == registry.KeyCMMD {
			_, err = doc.Metrics.GetExtra(c.key, &cm)
			f.Value, f.CI95 = cm.Value, cm.CI95
		} else {
			_, err = doc.Metrics.GetExtra(c.key, &fd)
			f.Value, f.CI95 = fd.Value, fd.CI95
			if fd.Model != EmbeddingsModel || fd.FeatureDim != d || fd.NumSamples != m*k || fd.NumReal != n {
				t.Errorf("fd fragment %+v", fd)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if rel := math.Abs(f.Value-c.want) / c.want; rel > 1e-6 {
			t.Errorf("%s %.17g, reference %.17g (%.2g relative)", c.key, f.Value, c.want, rel)
		}
		if f.CI95 == nil || f.CI95[0] > f.Value || f.CI95[1] < f.Value {
			t.Errorf("%s: interval %v does not hold %g", c.key, f.CI95, f.Value)
		}
		if doc.Protocol.NumInputs != m || doc.Protocol.SamplesPerInput != k {
			t.Errorf("%s: M %d, K %d, want %d, %d", c.key, doc.Protocol.NumInputs, doc.Protocol.SamplesPerInput, m, k)
		}
	}
	// sFID's computation (the sfid entry, here on the same rows as if they
	// were spatial features) equals the ADM evaluator's: openai/
	// guided-diffusion evaluations/evaluator.py's compute_statistics and
	// FIDStatistics.frechet_distance, which print its sFID (TensorFlow
	// stubbed out: those two are NumPy and SciPy).
	xs, _, _, err := readEmbeddings(x, true)
	if err != nil {
		t.Fatal(err)
	}
	ys, _, _, err := readEmbeddings(y, false)
	if err != nil {
		t.Fatal(err)
	}
	var mt results.Metrics
	in := &registry.Inputs{Params: p.Params(), M: m, K: k, Grouped: true, Features: xs, RealFeatures: ys}
	if _, err := registry.Lookup(registry.KeySFID).Compute(in, &mt); err != nil {
		t.Fatal(err)
	}
	var sf registry.FD
	if _, err := mt.GetExtra(registry.KeySFID, &sf); err != nil || math.Abs(sf.Value-sfidADMEvaluator)/sfidADMEvaluator > 1e-6 {
		t.Errorf("sfid %.17g (%v), ADM evaluator %.17g", sf.Value, err, sfidADMEvaluator)
	}
}

// The references' values on TestFeatureFilesMatchReferences's embeddings
// (munit-eval: 0.2311704512854007 and 0.14586946656675526, 3.8e−12 and
// 6e−16 relative off). distance.py fed the float32 arrays themselves, as
// cmmd-pytorch's main.py does, gives 0.23102760314941406 (6.2e−4 off: its
// float32 kernel means near 1 nearly cancel; docs/metrics.md).
// The ADM evaluator's Fréchet distance of the same rows is
// 0.14586946656675215 (2.1e−14 relative off munit-eval's).
const (
	cmmdDistancePy   = 0.23117045128451252
	fdDGMEval        = 0.14586946656675517
	sfidADMEvaluator = 0.14586946656675215
)

// TestFeatureFilesBadInput: each bad file gets one error naming it and
// what is wrong.
func TestFeatureFilesBadInput(t *testing.T) {
	dir := t.TempDir()
	good := writeEmbeddings(t, filepath.Join(dir, "good.npy"), []int{10, 4}, splitMixRows(10, 4, 3, 0, 1))
	other := writeEmbeddings(t, filepath.Join(dir, "d5.npy"), []int{10, 5}, splitMixRows(10, 5, 4, 0, 1))
	rank1 := writeEmbeddings(t, filepath.Join(dir, "rank1.npy"), []int{40}, splitMixRows(10, 4, 3, 0, 1))
	one := writeEmbeddings(t, filepath.Join(dir, "one.npy"), []int{1, 4}, splitMixRows(1, 4, 3, 0, 1))
	nan := splitMixRows(10, 4, 3, 0, 1)
	nan[13] = float32(math.NaN())
	nanFile := writeEmbeddings(t, filepath.Join(dir, "nan.npy"), []int{10, 4}, nan)
	grouped := writeEmbeddings(t, filepath.Join(dir, "g.npy"), []int{2, 5, 4}, splitMixRows(10, 4, 3, 0, 1))
	text := filepath.Join(dir, "text.npy")
	os.WriteFile(text, []byte("not an array"), 0o644)
	for _, c := range []struct {
		key, x, y string
		want      []string
	}{
		{"cmmd", good, other, []string{"good.npy", "4-dimensional", "d5.npy", "5-dimensional"}},
		{"fd", rank1, good, []string{"rank1.npy", "shape [40]"}},
		{"cmmd", good, grouped, []string{"g.npy", "want [N, D]"}},
		{"fd", one, good, []string{"one.npy", "at least 2 rows"}},
		{"cmmd", nanFile, good, []string{"nan.npy", "row 3, dimension 1", "finite"}},
		{"cmmd", text, good, []string{"text.npy"}},
		{"cmmd", filepath.Join(dir, "absent.npy"), good, []string{"absent.npy"}},
		{"lpips", good, good, []string{"lpips does not score embeddings"}},
		{"sfid", good, good, []string{"sfid does not score embeddings"}},
	} {
		_, err := FeatureFiles(c.key, c.x, c.y, "", DefaultProtocol())
		if err == nil {
			t.Errorf("%s %s %s: no error", c.key, filepath.Base(c.x), filepath.Base(c.y))
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s %s %s: error %q lacks %q", c.key, filepath.Base(c.x), filepath.Base(c.y), err, w)
			}
		}
	}
}
