package rewrite_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/onnxbuild"
)

// DecoderEnv names an exported decoder (or any generator) ONNX file for
// TestExportedModel and BenchmarkExportedModel, for example the paper-config
// MUNIT decoder written by
//
//	python3 -m export.munit --random-init --config CONFIG --direction a2b --two-stage --out munit.onnx
//
// Exported models stay out of the repository; without the variable both
// skip.
const DecoderEnv = "MUNIT_EVAL_BENCH_MODEL"

// SizeEnv sets the dynamic spatial axes of the model's 4-D inputs (default
// 64: the content code of a 256×256 image after MUNIT's two downsamplings).
const SizeEnv = "MUNIT_EVAL_BENCH_SIZE"

// BatchEnv sets the batch size (default 1).
const BatchEnv = "MUNIT_EVAL_BENCH_BATCH"

func envInt(t testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("$%s=%q: want a positive integer", name, v)
	}
	return n
}

// exportedInputs reads the model named by DecoderEnv and makes seeded random
// inputs for it: float32, dynamic batch = BatchEnv, dynamic spatial axes =
// SizeEnv, values N(0, 1).
func exportedInputs(t testing.TB) (path string, data []byte, in map[string]model.Tensor) {
	path = os.Getenv(DecoderEnv)
	if path == "" {
		t.Skipf("set $%s to an exported model to run this", DecoderEnv)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := model.Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	size, batch := envInt(t, SizeEnv, 64), envInt(t, BatchEnv, 1)
	r := rand.New(rand.NewPCG(1, 2))
	in = map[string]model.Tensor{}
	for _, ti := range info.Inputs {
		shape := append([]int64(nil), ti.Shape...)
		n := 1
		for i, d := range shape {
			if d < 0 {
				shape[i] = int64(size)
				if i == 0 {
					shape[i] = int64(batch)
				}
			}
			n *= int(shape[i])
		}
		in[ti.Name] = model.Tensor{Shape: shape, Data: onnxbuild.RandNormal(r, 1, n)}
	}
	return path, data, in
}

// TestExportedModel checks the rewritten exported model against the model
// as written: outputs within tolerance, and at least one site rewritten.
func TestExportedModel(t *testing.T) {
	path, data, in := exportedInputs(t)
	orig, err := model.OpenData(path, data, model.Options{Threads: 2, NoRewrite: true})
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	fast, err := model.OpenData(path, data, model.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	if len(fast.Rewrites()) == 0 {
		t.Fatal("nothing rewritten")
	}
	for _, s := range fast.Rewrites() {
		t.Log(s)
	}
	want, err := orig.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fast.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		g := got[name]
		var d, a float64
		for i := range w.Data {
			d = max(d, math.Abs(float64(w.Data[i]-g.Data[i])))
			a = max(a, math.Abs(float64(w.Data[i])))
		}
		t.Logf("%s: max |rewritten - original| %.3g, outputs up to %.3g", name, d, a)
		if d > tolerance {
			t.Errorf("%s: max |rewritten - original| %.3g > %.0e", name, d, tolerance)
		}
	}
}

// cpuSeconds is the process's user+system CPU time so far.
func cpuSeconds(t testing.TB) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// sessionTuning reads MUNIT_EVAL_BENCH_SESSION, e.g.
// "opt=extended,spin=off,arena=off,profile=/tmp/decoder", into
// model.Options (profile: onnxruntime's per-node trace, one file per session).
func sessionTuning(t testing.TB) model.Options {
	var o model.Options
	v := os.Getenv("MUNIT_EVAL_BENCH_SESSION")
	if v == "" {
		return o
	}
	for _, kv := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(kv, "=")
		switch k {
		case "opt":
			o.Optimization = val
		case "spin":
			o.Spinning = val
		case "arena":
			o.NoArena = val == "off"
		case "profile":
			o.Profile = val
		default:
			t.Fatalf("MUNIT_EVAL_BENCH_SESSION: unknown key %q", k)
		}
	}
	return o
}

// BenchmarkExportedModel times the model named by DecoderEnv as written and
// rewritten, alternating, and reports seconds per sample. Run it with
// -count for medians on a loaded machine, e.g.
//
//	MUNIT_EVAL_BENCH_MODEL=munit.decoder.onnx go test -run '^$' -bench ExportedModel -benchtime 5x -count 5 ./rewrite
func BenchmarkExportedModel(b *testing.B) {
	path, data, in := exportedInputs(b)
	threads := envInt(b, "MUNIT_EVAL_BENCH_THREADS", 2)
	tune := sessionTuning(b)
	batch := int(0)
	for _, t := range in {
		batch = int(t.Shape[0])
		break
	}
	for _, noRewrite := range []bool{true, false} {
		name := "rewrite=on"
		if noRewrite {
			name = "rewrite=off"
		}
		b.Run(fmt.Sprintf("%s/threads=%d/batch=%d", name, threads, batch), func(b *testing.B) {
			o := tune
			o.Threads, o.NoRewrite = threads, noRewrite
			s, err := model.OpenData(path, data, o)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Run(in); err != nil { // warm-up: first-run allocations
				b.Fatal(err)
			}
			cpu0 := cpuSeconds(b)
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Run(in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N*batch), "s/sample")
			// CPU seconds (all threads) per sample: on a machine shared with
			// other work, wall time measures the neighbours as much as the
			// network; with spinning off, CPU time is the work itself.
			b.ReportMetric((cpuSeconds(b)-cpu0)/float64(b.N*batch), "cpu-s/sample")
		})
	}
}

// BenchmarkExportedModelConcurrent runs the rewritten model named by
// DecoderEnv from MUNIT_EVAL_BENCH_STREAMS goroutines at once (default 2)
// on one session with MUNIT_EVAL_BENCH_THREADS intra-op threads each (default
// 1), and reports the throughput as seconds per sample: what translate's
// concurrent network runs get when single-threaded operators would leave a
// core idle.
func BenchmarkExportedModelConcurrent(b *testing.B) {
	path, data, in := exportedInputs(b)
	threads := envInt(b, "MUNIT_EVAL_BENCH_THREADS", 1)
	streams := envInt(b, "MUNIT_EVAL_BENCH_STREAMS", 2)
	o := sessionTuning(b)
	o.Threads = threads
	s, err := model.OpenData(path, data, o)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Run(in); err != nil {
		b.Fatal(err)
	}
	batch := 0
	for _, t := range in {
		batch = int(t.Shape[0])
		break
	}
	b.Run(fmt.Sprintf("streams=%d/threads=%d/batch=%d", streams, threads, batch), func(b *testing.B) {
		cpu0 := cpuSeconds(b)
		b.ResetTimer()
		n := 0
		for b.Loop() {
			errs := make(chan error, streams)
			for range streams {
				go func() { _, err := s.Run(in); errs <- err }()
			}
			for range streams {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
			n += streams * batch
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(n), "s/sample")
		b.ReportMetric((cpuSeconds(b)-cpu0)/float64(n), "cpu-s/sample")
	})
}
