package lpips

// Benchmarks of the LPIPS diversity pipeline on 256x256 images with the
// parity AlexNet model (skipped when ../shared/parity is absent):
//
//	go test -run '^$' -bench . -benchtime 1x -count 5 ./lpips | benchstat -
//
// (about 3 minutes per count; add -args -lpips.inputs 20 for a quick look).
// BenchmarkEmbed reports embeddings/s of Model.Embed at batch 1, 8 and 16
// (decoded images: tensor, network, finiteness check). BenchmarkStoreDiversity
// reports pairs/s of StoreDiversity over a generated store of 100 inputs x 38
// samples for the three pairings: cold (fresh embedder, no disk cache: every
// sample decoded and embedded, as the lpips Python package does), and, over
// the first 20 inputs, filling an empty default (pair) cache (cold+pairs),
// an empty embedding cache (cold+embeddings, about 1 MB per image), and from
// a warm pair cache. BenchmarkFirstRunCache compares the first-run costs of
// the caches in interleaved runs. Each also reports the
// process's CPU time per pair, steadier than wall time on a busy machine. The
// store (about 500 MB of PNGs) is built once per process in a temporary
// folder and removed at the end.

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/paritytest"
	"github.com/munit-eval/munit-eval/translate"
)

const (
	benchSamples = 38 // independent P=19 needs 2P
	benchSize    = 256
)

// benchInputs is the number of inputs of the store benchmarks (the paper's
// 100; fewer for a quick look: -args -lpips.inputs 10).
var benchInputs = flag.Int("lpips.inputs", 100, "inputs in the StoreDiversity benchmarks")

var benchStore struct {
	once sync.Once
	dir  string // temporary root, removed by TestMain
	path string // the method folder
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchStore.dir != "" {
		os.RemoveAll(benchStore.dir)
	}
	os.Exit(code)
}

// benchScenes returns the four 256x256 parity scenes.
func benchScenes(b *testing.B) []*images.Image {
	dir := paritytest.Dir(b)
	var out []*images.Image
	for i := 0; i < 4; i++ {
		img, err := images.Load(filepath.Join(dir, "images", fmt.Sprintf("s256_%02d_scene.png", i)))
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, images.ResizeCrop(img, benchSize))
	}
	return out
}

// variation is scene shifted circularly by (dx, dy) with uniform noise of
// +-amp on every channel: distinct, natural-looking samples whose PNGs are
// about the size of real generator outputs.
func variation(scene *images.Image, dx, dy, amp int, rng *rand.Rand) *images.Image {
	w, h := scene.W, scene.H
	out := images.New(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			src := 3 * (((y+dy)%h)*w + (x+dx)%w)
			dst := 3 * (y*w + x)
			for c := 0; c < 3; c++ {
				v := int(scene.Pix[src+c]) + rng.IntN(2*amp+1) - amp
				out.Pix[dst+c] = uint8(min(max(v, 0), 255))
			}
		}
	}
	return out
}

// openBenchStore builds (once per process) a store of benchInputs inputs x
// benchSamples samples through translate.Run with Config.FromFolder.
func openBenchStore(b *testing.B) *translate.Store {
	scenes := benchScenes(b)
	benchStore.once.Do(func() {
		benchStore.dir, benchStore.err = os.MkdirTemp("", "munit-eval-lpips-bench-")
		if benchStore.err != nil {
			return
		}
		in, pre := filepath.Join(benchStore.dir, "inputs"), filepath.Join(benchStore.dir, "pre")
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < *benchInputs && benchStore.err == nil; i++ {
			stem := fmt.Sprintf("in_%03d", i)
			for _, d := range []string{in, filepath.Join(pre, stem)} {
				if benchStore.err = os.MkdirAll(d, 0o755); benchStore.err != nil {
					return
				}
			}
			if benchStore.err = images.WritePNG(filepath.Join(in, stem+".png"), images.New(8, 8)); benchStore.err != nil {
				return
			}
			for k := 0; k < benchSamples; k++ {
				v := variation(scenes[(i+k)%4], 7*i+13*k, 5*k, 3, rng)
				if benchStore.err = images.WritePNG(filepath.Join(pre, stem, fmt.Sprintf("%d.png", k)), v); benchStore.err != nil {
					return
				}
			}
		}
		cfg := translate.DefaultConfig()
		cfg.Inputs, cfg.Out, cfg.FromFolder, cfg.Method, cfg.Quiet = in, filepath.Join(benchStore.dir, "store"), pre, "bench", true
		var sum *translate.Summary
		if sum, benchStore.err = translate.Run(context.Background(), cfg); benchStore.err != nil {
			return
		}
		benchStore.path = sum.Store
		benchStore.err = os.RemoveAll(pre)
	})
	if benchStore.err != nil {
		b.Fatalf("building the benchmark store: %v", benchStore.err)
	}
	st, err := translate.OpenStore(benchStore.path)
	if err != nil {
		b.Fatal(err)
	}
	return st
}

func BenchmarkEmbed(b *testing.B) {
	m := openModel(b, paritytest.Path(b, filepath.Join("models", "lpips_alex.onnx")))
	scenes := benchScenes(b)
	for _, n := range []int{1, 8, 16} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			imgs := make([]*images.Image, n)
			for i := range imgs {
				imgs[i] = scenes[i%len(scenes)]
			}
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if _, err := m.Embed(imgs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "emb/s")
			b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(n*b.N), "cpu-ms/emb")
		})
	}
}

// BenchmarkDistance is one LPIPS distance between two 256x256 alex embeddings.
func BenchmarkDistance(b *testing.B) {
	m := openModel(b, paritytest.Path(b, filepath.Join("models", "lpips_alex.onnx")))
	scenes := benchScenes(b)
	embs, err := m.Embed(scenes[:2])
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := Distance(embs[0], embs[1]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStoreDiversity(b *testing.B) {
	m := openModel(b, paritytest.Path(b, filepath.Join("models", "lpips_alex.onnx")))
	st := openBenchStore(b)
	pairings := []Options{
		{Pairing: Independent, Pairs: 19},
		{Pairing: Consecutive, Pairs: 19},
		{Pairing: All, SamplesPerInput: 10},
	}
	for _, o := range pairings {
		o.NumInputs, o.Bootstrap = *benchInputs, 200
		run := func(b *testing.B, e *Embedder) {
			div, err := StoreDiversity(context.Background(), e, st, o)
			if err != nil {
				b.Fatal(err)
			}
			if div.N != len(PairIndices(o.Pairing, o.Pairs, o.SamplesPerInput, 0))*o.NumInputs {
				b.Fatalf("%d pairs", div.N)
			}
		}
		b.Run(string(o.Pairing)+"/cold", func(b *testing.B) {
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				run(b, NewEmbedder(m, ""))
			}
			reportPairs(b, o, cpu0)
		})
		// The warm embedding cache of 3,800 alex embeddings at 256x256 is
		// ~4 GB: the cached variants use the first 20 inputs.
		o.NumInputs = min(20, *benchInputs)
		for _, v := range []struct {
			name string
			emb  bool
		}{{"cold+pairs", false}, {"cold+embeddings", true}} {
			b.Run(string(o.Pairing)+"/"+v.name, func(b *testing.B) {
				cpu0 := cpuTime()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					cache := b.TempDir()
					b.StartTimer()
					e := NewEmbedder(m, cache)
					e.CacheEmbeddings = v.emb
					run(b, e)
					b.StopTimer()
					os.RemoveAll(cache)
					b.StartTimer()
				}
				reportPairs(b, o, cpu0)
			})
		}
		b.Run(string(o.Pairing)+"/warm", func(b *testing.B) {
			cache := b.TempDir()
			run(b, NewEmbedder(m, cache))
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				run(b, NewEmbedder(m, cache))
			}
			reportPairs(b, o, cpu0)
		})
	}
}

// BenchmarkFirstRunCache measures what each disk cache costs a first run
// (an empty cache) of StoreDiversity (independent, 19 pairs, over the first
// min(20, -lpips.inputs) inputs of the 256x256 benchmark store, parity
// AlexNet): every iteration runs without a cache, with the default pair
// cache and with the embedding cache, in an order that rotates, so that a
// busy machine's drift falls on all three alike. It reports wall and CPU
// seconds per run of each (CPU time is steadier on a busy machine) and the
// two caches' overheads in percent of the run without one:
//
//	go test -run '^$' -bench FirstRunCache -benchtime 6x ./lpips -args -lpips.inputs 20
func BenchmarkFirstRunCache(b *testing.B) {
	m := openModel(b, paritytest.Path(b, filepath.Join("models", "lpips_alex.onnx")))
	st := openBenchStore(b)
	o := Options{Pairing: Independent, Pairs: 19, NumInputs: min(20, *benchInputs), Bootstrap: 200}
	modes := []struct {
		name       string
		cache, emb bool
	}{{"nocache", false, false}, {"pairs", true, false}, {"embeddings", true, true}}
	var total, cpu [3]time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range modes {
			k := (i + j) % len(modes)
			b.StopTimer()
			cache := ""
			if modes[k].cache {
				cache = b.TempDir()
			}
			e := NewEmbedder(m, cache)
			e.CacheEmbeddings = modes[k].emb
			b.StartTimer()
			t0, c0 := time.Now(), cpuTime()
			if _, err := StoreDiversity(context.Background(), e, st, o); err != nil {
				b.Fatal(err)
			}
			total[k] += time.Since(t0)
			cpu[k] += cpuTime() - c0
			b.StopTimer()
			if cache != "" {
				os.RemoveAll(cache)
			}
			b.StartTimer()
		}
	}
	for k, md := range modes {
		b.ReportMetric(total[k].Seconds()/float64(b.N), md.name+"-s/run")
		b.ReportMetric(cpu[k].Seconds()/float64(b.N), md.name+"-cpu-s/run")
	}
	b.ReportMetric(100*(total[1].Seconds()/total[0].Seconds()-1), "pairs-overhead-%")
	b.ReportMetric(100*(total[2].Seconds()/total[0].Seconds()-1), "embeddings-overhead-%")
	b.ReportMetric(100*(cpu[1].Seconds()/cpu[0].Seconds()-1), "pairs-cpu-overhead-%")
	b.ReportMetric(100*(cpu[2].Seconds()/cpu[0].Seconds()-1), "embeddings-cpu-overhead-%")
}

// reportPairs reports pairs/s (wall) and the process's CPU time per pair
// since cpu0, which is what bounds the rate on a busy machine.
func reportPairs(b *testing.B, o Options, cpu0 time.Duration) {
	n := len(PairIndices(o.Pairing, o.Pairs, o.SamplesPerInput, 0)) * o.NumInputs * b.N
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "pairs/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(n), "cpu-ms/pair")
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		return 0
	}
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// The parts of the pipeline outside onnxruntime, per 256x256 image:
// decoding a sample PNG, the finiteness check, and the disk cache's write
// and read of one alex embedding (~1 MB on disk).
func BenchmarkParts(b *testing.B) {
	m := openModel(b, paritytest.Path(b, filepath.Join("models", "lpips_alex.onnx")))
	scenes := benchScenes(b)
	embs, err := m.Embed(scenes[:1])
	if err != nil {
		b.Fatal(err)
	}
	emb := embs[0]
	dir := b.TempDir()
	png := filepath.Join(dir, "sample.png")
	if err := images.WritePNG(png, variation(scenes[0], 3, 5, 3, rand.New(rand.NewPCG(1, 2)))); err != nil {
		b.Fatal(err)
	}
	c := &embCache{dir: dir, model: m.SHA256(), layers: m.Layers}
	b.Run("load-png", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := images.Load(png); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check-finite", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, l := range emb.Layers {
				if firstNonFinite(l) >= 0 {
					b.Fatal("non-finite embedding")
				}
			}
		}
	})
	b.Run("cache-write", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := c.Put([]string{"bench"}, []*Embedding{emb}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cache-read", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if got, ok, err := c.Get("bench"); err != nil || !ok || got == nil {
				b.Fatal("cache entry not read", err)
			}
		}
	})
}
