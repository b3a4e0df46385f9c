package translate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/synth"
)

// parity64Inputs copies the parity folder's 64x64 images into a new folder.
func parity64Inputs(b *testing.B) (string, string) {
	par := parityDir(b)
	in := b.TempDir()
	ents, _ := os.ReadDir(filepath.Join(par, "images"))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "s64_") {
			data, _ := os.ReadFile(filepath.Join(par, "images", e.Name()))
			os.WriteFile(filepath.Join(in, e.Name()), data, 0o644)
		}
	}
	return par, in
}

// cpuTime returns the process's user + system CPU time: on a shared
// machine it is steadier than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRun runs cfg into a fresh store b.N times and reports samples/s
// (wall) and CPU milliseconds per sample.
func benchRun(b *testing.B, cfg Config) {
	b.Helper()
	var n int
	var cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cfg.Out = b.TempDir()
		b.StartTimer()
		c0 := cpuTime()
		s, err := Run(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
		n += s.Computed
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
	b.ReportMetric(cpu.Seconds()*1000/float64(n), "cpu-ms/image")
}

// BenchmarkTranslateParityMUNIT measures the whole translate run (session
// creation, decode, latents, network, PNG, SHA-256, atomic writes, manifest)
// of the parity MUNIT generator over the 14 64x64 parity images x 16 samples,
// at batch 1, 4 and 8.
func BenchmarkTranslateParityMUNIT(b *testing.B) {
	par, in := parity64Inputs(b)
	needORT(b)
	for _, threads := range []int{1, 2} {
		for _, batch := range []int{1, 4, 8} {
			b.Run(fmt.Sprintf("threads=%d/batch=%d", threads, batch), func(b *testing.B) {
				cfg := DefaultConfig()
				cfg.Generator = filepath.Join(par, "models", "gen_munit_small.onnx")
				cfg.Inputs, cfg.Samples, cfg.Batch, cfg.Quiet, cfg.Threads = in, 16, batch, true, threads
				benchRun(b, cfg)
			})
		}
	}
}

// BenchmarkNetworkParityMUNIT measures the network alone on the same
// batches (one session, tensors prepared once): the floor against which
// BenchmarkTranslateParityMUNIT's store overhead is measured.
func BenchmarkNetworkParityMUNIT(b *testing.B) {
	par, in := parity64Inputs(b)
	needORT(b)
	img, err := images.Load(filepath.Join(in, "s64_00_disc_red.png"))
	if err != nil {
		b.Fatal(err)
	}
	for _, tb := range [][2]int{{1, 1}, {1, 4}, {1, 8}, {2, 1}, {2, 4}, {2, 8}} {
		threads, batch := tb[0], tb[1]
		b.Run(fmt.Sprintf("threads=%d/batch=%d", threads, batch), func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Generator, cfg.Threads = filepath.Join(par, "models", "gen_munit_small.onnx"), threads
			g, err := openGenerator(&cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer g.close()
			imgs := make([]*images.Image, batch)
			var lat []float32
			for j := range imgs {
				imgs[j] = img
				lat = append(lat, Latent(0, 0, j, 8)...)
			}
			t := model.Tensor{Shape: []int64{int64(batch), 3, 64, 64}, Data: make([]float32, batch*3*64*64)}
			images.ToTensor(imgs, t.Data)
			b.ResetTimer()
			c0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if _, err := g.translate(t, lat, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
			b.ReportMetric((cpuTime()-c0).Seconds()*1000/float64(b.N*batch), "cpu-ms/image")
		})
	}
}

// BenchmarkStoreWrite64 measures the store's work per 64x64 sample: uint8
// conversion, PNG encoding, SHA-256 and the atomic write (temp file, fsync,
// rename).
func BenchmarkStoreWrite64(b *testing.B) {
	r := &runner{dir: b.TempDir(), inputs: []inputFile{{rec: Input{Stem: "x"}}}}
	os.MkdirAll(filepath.Join(r.dir, "x"), 0o755)
	chw := make([]float32, 3*64*64)
	for i := range chw {
		chw[i] = float32(i%255)/127.5 - 1
	}
	b.ResetTimer()
	c0 := cpuTime()
	defer func() { b.ReportMetric((cpuTime()-c0).Seconds()*1000/float64(b.N), "cpu-ms/image") }()
	for i := 0; i < b.N; i++ {
		res := r.write(writeJob{u: unit{input: 0, ks: []int{i % 64}}, chw: chw, h: 64, w: 64})
		if res.err != nil {
			b.Fatal(res.err)
		}
	}
}

// BenchmarkStoreOnly64 runs the whole pipeline with a generator that costs
// nothing (the fake) at 64x64, 14 inputs x 16 samples: everything translate
// does besides the network.
func BenchmarkStoreOnly64(b *testing.B) {
	_, in := parity64Inputs(b)
	cfg := fakeConfig(&fakeGen{latentDim: 8}, in, "")
	cfg.Samples, cfg.manifestEvery = 16, DefaultConfig().manifestEvery
	benchRun(b, cfg)
}

// BenchmarkTranslateSynth256 runs the synthetic MUNIT generator on four
// 256x256 inputs x 4 samples, batch 4.
func BenchmarkTranslateSynth256(b *testing.B) {
	needORT(b)
	paths, err := synth.BuildModels(b.TempDir(), 1)
	if err != nil {
		b.Fatal(err)
	}
	a, _ := synth.DomainA(3, 4)
	in := b.TempDir()
	for i, m := range a {
		images.WritePNG(filepath.Join(in, fmt.Sprintf("%d.png", i)), images.ResizeCrop(m, 256))
	}
	cfg := DefaultConfig()
	cfg.Generator, cfg.Inputs, cfg.Samples, cfg.Batch, cfg.Quiet = paths[synth.KeyMUNIT], in, 4, 4, true
	benchRun(b, cfg)
}

// BenchmarkTwoStageK20 compares the synthetic MUNIT as one graph with its
// content encoder + decoder form for K = 20 samples of 4 64x64 inputs,
// batch 8: the two-stage form encodes each input once instead of 20 times.
func BenchmarkTwoStageK20(b *testing.B) {
	needORT(b)
	paths, err := synth.BuildModels(b.TempDir(), 1)
	if err != nil {
		b.Fatal(err)
	}
	a, _ := synth.DomainA(3, 4)
	in := b.TempDir()
	for i, m := range a {
		images.WritePNG(filepath.Join(in, fmt.Sprintf("%d.png", i)), m)
	}
	for _, two := range []bool{false, true} {
		name := "single"
		if two {
			name = "two-stage"
		}
		b.Run(name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Generator = paths[synth.KeyMUNIT]
			if two {
				cfg.Generator, cfg.Decoder = paths[synth.KeyMUNITContent], paths[synth.KeyMUNITDecoder]
			}
			cfg.Inputs, cfg.Samples, cfg.Batch, cfg.Quiet = in, 20, 8, true
			benchRun(b, cfg)
		})
	}
}

// BenchmarkOpenParityMUNIT measures opening the parity MUNIT generator (a
// session per Run), a fixed cost outside the per-image figures.
func BenchmarkOpenParityMUNIT(b *testing.B) {
	par := parityDir(b)
	needORT(b)
	cfg := DefaultConfig()
	cfg.Generator = filepath.Join(par, "models", "gen_munit_small.onnx")
	for i := 0; i < b.N; i++ {
		g, err := openGenerator(&cfg)
		if err != nil {
			b.Fatal(err)
		}
		g.close()
	}
}

// BenchmarkTwoStageNetworkK20 is BenchmarkTwoStageK20 without session
// creation, PNG and store: the networks alone for one input's 20 samples
// (batches of 8, 8 and 4), so the saving of encoding once shows by itself.
func BenchmarkTwoStageNetworkK20(b *testing.B) {
	needORT(b)
	paths, err := synth.BuildModels(b.TempDir(), 1)
	if err != nil {
		b.Fatal(err)
	}
	a, _ := synth.DomainA(3, 1)
	for _, two := range []bool{false, true} {
		name := "single"
		if two {
			name = "two-stage"
		}
		b.Run(name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Generator = paths[synth.KeyMUNIT]
			if two {
				cfg.Generator, cfg.Decoder = paths[synth.KeyMUNITContent], paths[synth.KeyMUNITDecoder]
			}
			g, err := openGenerator(&cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer g.close()
			one := model.Tensor{Shape: []int64{1, 3, 64, 64}, Data: make([]float32, 3*64*64)}
			images.ToTensor(a[:1], one.Data)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c, err := g.condition(one)
				if err != nil {
					b.Fatal(err)
				}
				for _, n := range []int{8, 8, 4} {
					batch := model.Tensor{Shape: append([]int64{int64(n)}, c.Shape[1:]...)}
					var lat []float32
					for j := 0; j < n; j++ {
						batch.Data = append(batch.Data, c.Data...)
						lat = append(lat, Latent(0, 0, j, synth.LatentDim)...)
					}
					if _, err := g.translate(batch, lat, nil); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(20*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
