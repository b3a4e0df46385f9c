package inception

// Benchmarks of the classifier path on 256x256 images with the parity
// classifier (skipped when ../shared/parity is absent):
//
//	go test -run '^$' -bench . -count 5 ./inception | benchstat -
//
// BenchmarkClassify is the network alone (Classifier.Classify on decoded
// images: tensor conversion, onnxruntime, finiteness check); BenchmarkRunner
// is Runner.Run over 64 PNG files with known SHA-256 (as a store gives
// them), without a cache, filling an empty cache, and from a warm cache. The
// share of time outside onnxruntime is 1 - Classify/Runner per image;
// BenchmarkParts splits it into PNG decoding, softmax and cache I/O.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/paritytest"
	"github.com/munit-eval/munit-eval/metrics"
)

const benchFiles = 64

// benchImages returns n distinct 256x256 images: the parity scenes shifted
// and with +-3 noise, so that their PNGs are about the size of real samples.
func benchImages(b *testing.B, n int) []*images.Image {
	dir := paritytest.Dir(b)
	rng := rand.New(rand.NewPCG(7, 8))
	var out []*images.Image
	for i := 0; i < n; i++ {
		scene, err := images.Load(filepath.Join(dir, "images", fmt.Sprintf("s256_%02d_scene.png", i%4)))
		if err != nil {
			b.Fatal(err)
		}
		img := images.New(scene.W, scene.H)
		for p := range img.Pix {
			q := (p + 3*(7*i)) % len(scene.Pix)
			img.Pix[p] = uint8(min(max(int(scene.Pix[q])+rng.IntN(7)-3, 0), 255))
		}
		out = append(out, img)
	}
	return out
}

// benchRefs writes n sample PNGs into a temporary folder.
func benchRefs(b *testing.B, n int) []images.Ref {
	dir := b.TempDir()
	var refs []images.Ref
	for i, img := range benchImages(b, n) {
		p := filepath.Join(dir, fmt.Sprintf("%d.png", i))
		if err := images.WritePNG(p, img); err != nil {
			b.Fatal(err)
		}
		h, err := images.HashFile(p)
		if err != nil {
			b.Fatal(err)
		}
		refs = append(refs, images.Ref{Path: p, SHA256: h})
	}
	return refs
}

func BenchmarkClassify(b *testing.B) {
	c := openClassifier(b)
	imgs := benchImages(b, 16)
	for _, n := range []int{1, 8, 16} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := c.Classify(imgs[:n]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}

func BenchmarkRunner(b *testing.B) {
	c := openClassifier(b)
	refs := benchRefs(b, benchFiles)
	run := func(b *testing.B, r *Runner) {
		// A fresh memory cache: the classifier's would serve every run
		// after the first.
		c.eng = nil
		if _, err := r.Run(context.Background(), append([]images.Ref(nil), refs...)); err != nil {
			b.Fatal(err)
		}
	}
	for _, n := range []int{1, 8, 16} {
		b.Run(fmt.Sprintf("batch=%d/nocache", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r := NewRunner(c, "")
				r.Batch = n
				run(b, r)
			}
			b.ReportMetric(float64(benchFiles*b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
	b.Run("batch=16/cold-cache", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			r := NewRunner(c, b.TempDir())
			b.StartTimer()
			run(b, r)
		}
		b.ReportMetric(float64(benchFiles*b.N)/b.Elapsed().Seconds(), "img/s")
	})
	b.Run("batch=16/warm-cache", func(b *testing.B) {
		cache := b.TempDir()
		run(b, NewRunner(c, cache))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r := NewRunner(c, cache)
			run(b, r)
			if r.Computed != 0 {
				b.Fatalf("warm cache computed %d", r.Computed)
			}
		}
		b.ReportMetric(float64(benchFiles*b.N)/b.Elapsed().Seconds(), "img/s")
	})
}

// BenchmarkParts times, per image, what Runner.Run does besides the
// network: decoding a 256x256 PNG, the softmax (metrics.ProbsFromLogits
// over 64 rows, reported per row), and one cache entry's write and read.
func BenchmarkParts(b *testing.B) {
	c := openClassifier(b)
	refs := benchRefs(b, 1)
	out, err := NewRunner(c, "").Run(context.Background(), refs)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("load-png", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := images.Load(refs[0].Path); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("softmax-per-row", func(b *testing.B) {
		const rows = 64
		logits := make([]float32, 0, rows*len(c.Classes))
		for i := 0; i < rows; i++ {
			logits = append(logits, out[0].Logits...)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := metrics.ProbsFromLogits(logits, rows, 1, len(c.Classes)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows*b.N), "ns/row")
	})
	b.Run("cache-write", func(b *testing.B) {
		l, err := openOutputCache(b.TempDir(), c.SHA256(), len(c.Classes), c.FeatureDim, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer l.close()
		keys := make([]string, 16)
		outs := make([]Output, 16)
		for i := 0; i < b.N; i += 16 {
			for j := range keys {
				keys[j], outs[j] = fmt.Sprintf("key%08d", i+j), out[0]
			}
			if err := l.Put(keys, outs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cache-read", func(b *testing.B) {
		dir := b.TempDir()
		l, err := openOutputCache(dir, c.SHA256(), len(c.Classes), c.FeatureDim, 0)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < 1000; i++ {
			l.Put([]string{fmt.Sprintf("key%08d", i)}, out[:1])
		}
		l.close()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			l, err := openOutputCache(dir, c.SHA256(), len(c.Classes), c.FeatureDim, 0)
			if err != nil {
				b.Fatal(err)
			}
			if _, ok, _ := l.Get("key00000999"); !ok {
				b.Fatal("cache entry not read")
			}
			l.close()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(1000*b.N), "ns/entry")
	})
}
