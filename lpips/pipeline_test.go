package lpips

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/paritytest"
	"github.com/munit-eval/munit-eval/translate"
)

func TestFirstNonFinite(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	for _, n := range []int{0, 1, 7, 8, 9, 16, 37} {
		clean := make([]float32, n)
		for i := range clean {
			// Large, tiny, subnormal and negative values are all finite.
			clean[i] = []float32{math.MaxFloat32, -math.MaxFloat32, 1e-45, -0.5, 0}[i%5]
		}
		if got := firstNonFinite(clean); got != -1 {
			t.Errorf("n=%d finite values: got %d, want -1", n, got)
		}
		for pos := 0; pos < n; pos++ {
			for _, bad := range []float32{nan, inf, -inf} {
				x := append([]float32(nil), clean...)
				x[pos] = bad
				if pos+1 < n {
					x[n-1] = nan // a later one must not be reported first
				}
				if got := firstNonFinite(x); got != pos {
					t.Errorf("n=%d %v at %d: got %d", n, bad, pos, got)
				}
			}
		}
	}
}

// TestSumSquaredDiff compares the unrolled sum with the plain loop it
// replaces: the same float64 terms summed in another order agree within a
// few ulps of the total (1e-12 relative here).
func TestSumSquaredDiff(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 3, 4, 5, 1000, 254016} {
		x, y := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = rng.Float32()-0.5, rng.Float32()-0.5
		}
		want := 0.0
		for i := range x {
			d := float64(x[i]) - float64(y[i])
			want += d * d
		}
		got := sumSquaredDiff(x, y)
		if math.Abs(got-want) > 1e-12*want {
			t.Errorf("n=%d: %.17g, plain loop %.17g", n, got, want)
		}
	}
}

// TestStoreDiversityStream checks StoreDiversity's pipelined path (batches
// across inputs, samples repeated across inputs, distances in another
// goroutine) against distances computed pair by pair with Model.Embed, for
// every pairing and batch sizes that do and do not divide the samples per
// input; then that a warm disk cache gives the same values computing nothing.
func TestStoreDiversityStream(t *testing.T) {
	dir := paritytest.Dir(t)
	m := openModel(t, filepath.Join(dir, "models", "lpips_squeeze.onnx"))
	files, err := filepath.Glob(filepath.Join(dir, "images", "s64_*.png"))
	if err != nil || len(files) < 8 {
		t.Fatalf("parity images: %v (%d)", err, len(files))
	}
	const inputs, samples = 3, 6
	root := t.TempDir()
	in, pre := filepath.Join(root, "in"), filepath.Join(root, "pre")
	os.MkdirAll(in, 0o755)
	src := map[[2]int]string{}
	for i := 0; i < inputs; i++ {
		stem := fmt.Sprintf("in_%d", i)
		os.MkdirAll(filepath.Join(pre, stem), 0o755)
		if err := images.WritePNG(filepath.Join(in, stem+".png"), images.New(4, 4)); err != nil {
			t.Fatal(err)
		}
		for k := 0; k < samples; k++ {
			// Inputs share samples ((i+k) mod 8), so the same image recurs.
			f := files[(i+k)%8]
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(pre, stem, fmt.Sprintf("%d.png", k)), b, 0o644); err != nil {
				t.Fatal(err)
			}
			src[[2]int{i, k}] = f
		}
	}
	cfg := translate.DefaultConfig()
	cfg.Inputs, cfg.Out, cfg.FromFolder, cfg.Method, cfg.Quiet = in, filepath.Join(root, "store"), pre, "m", true
	sum, err := translate.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := translate.OpenStore(sum.Store)
	if err != nil {
		t.Fatal(err)
	}
	// Reference: every pair embedded on its own.
	ref := map[[2]string]float64{}
	refDist := func(a, b string) float64 {
		if d, ok := ref[[2]string{a, b}]; ok {
			return d
		}
		ia, err := images.Load(a)
		if err != nil {
			t.Fatal(err)
		}
		ib, err := images.Load(b)
		if err != nil {
			t.Fatal(err)
		}
		embs, err := m.Embed([]*images.Image{ia, ib})
		if err != nil {
			t.Fatal(err)
		}
		d, _, err := Distance(embs[0], embs[1])
		if err != nil {
			t.Fatal(err)
		}
		ref[[2]string{a, b}] = d
		return d
	}
	for _, o := range []Options{
		{Pairing: Independent, Pairs: 3},
		{Pairing: Consecutive, Pairs: 4},
		{Pairing: All, SamplesPerInput: 4},
	} {
		o.NumInputs, o.Bootstrap = inputs, 10
		for _, batch := range []int{1, 4, 16} {
			cache := t.TempDir()
			e := NewEmbedder(m, cache)
			e.Batch = batch
			div, err := StoreDiversity(context.Background(), e, st, o)
			if err != nil {
				t.Fatalf("%s batch %d: %v", o.Pairing, batch, err)
			}
			want := inputs * len(PairIndices(o.Pairing, o.Pairs, o.SamplesPerInput))
			if div.N != want || len(div.Pairs) != want {
				t.Fatalf("%s batch %d: %d pairs, want %d", o.Pairing, batch, div.N, want)
			}
			distinct := map[string]bool{}
			for i := 0; i < inputs; i++ {
				for k := 0; k < SamplesNeeded(o.Pairing, o.Pairs, o.SamplesPerInput); k++ {
					distinct[src[[2]int{i, k}]] = true
				}
			}
			if e.Computed != len(distinct) {
				t.Errorf("%s batch %d: computed %d embeddings for %d distinct images", o.Pairing, batch, e.Computed, len(distinct))
			}
			for j, p := range div.Pairs {
				w := refDist(src[[2]int{p.Input, p.A}], src[[2]int{p.Input, p.B}])
				if math.Abs(p.Distance-w) > 1e-7 {
					t.Errorf("%s batch %d pair %d (%+v): %.9f, pair by pair %.9f", o.Pairing, batch, j, p, p.Distance, w)
				}
			}
			// Warm disk cache, fresh embedder: nothing computed, same values.
			e2 := NewEmbedder(m, cache)
			e2.Batch = batch
			div2, err := StoreDiversity(context.Background(), e2, st, o)
			if err != nil {
				t.Fatal(err)
			}
			if e2.Computed != 0 {
				t.Errorf("%s batch %d: warm cache computed %d", o.Pairing, batch, e2.Computed)
			}
			for j := range div.Pairs {
				if div2.Pairs[j] != div.Pairs[j] {
					t.Fatalf("%s batch %d pair %d: warm %+v, cold %+v", o.Pairing, batch, j, div2.Pairs[j], div.Pairs[j])
				}
			}
		}
	}
	// A cancelled context stops the stream with its error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := StoreDiversity(ctx, NewEmbedder(m, ""), st, Options{Pairing: Consecutive, Pairs: 2, Bootstrap: 10}); err == nil {
		t.Fatal("no error from a cancelled context")
	}
}
