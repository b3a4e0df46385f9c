package model

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/munit-eval/munit-eval/internal/paritytest"
	ort "github.com/yalue/onnxruntime_go"
)

// benchInputs returns the parity MUNIT generator and a batch of 8 inputs.
func benchInputs(b *testing.B) (string, []float32, []float32) {
	p := paritytest.Path(b, filepath.Join("models", "gen_munit_small.onnx"))
	if err := Init(""); err != nil {
		b.Skip(err)
	}
	img := make([]float32, 8*3*64*64)
	for i := range img {
		img[i] = float32(i%255)/127.5 - 1
	}
	z := make([]float32, 8*8)
	for i := range z {
		z[i] = float32(i%7)/3 - 1
	}
	return p, img, z
}

// BenchmarkSessionOverhead alternates Session.Run and a bare onnxruntime run
// of the same model and inputs (batch 8, 64x64, the parity MUNIT
// generator), so that machine load hits both alike, and reports the
// overhead of Session.Run in percent of the bare run:
//
//	go test -run '^$' -bench SessionOverhead -benchtime 40x -count 5 ./model
func BenchmarkSessionOverhead(b *testing.B) {
	p, img, z := benchInputs(b)
	s, err := Open(p, Options{Threads: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	so, err := sessionOptions(Options{Threads: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer so.Destroy()
	bare, err := ort.NewDynamicAdvancedSessionWithONNXData(data, []string{"image", "style"}, []string{"translated"}, so)
	if err != nil {
		b.Fatal(err)
	}
	defer bare.Destroy()
	in := map[string]Tensor{
		"image": {Shape: []int64{8, 3, 64, 64}, Data: img},
		"style": {Shape: []int64{8, 8}, Data: z},
	}
	var tSession, tBare time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := s.Run(in); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		x, _ := ort.NewTensor(ort.NewShape(8, 3, 64, 64), img)
		st, _ := ort.NewTensor(ort.NewShape(8, 8), z)
		outs := []ort.Value{nil}
		if err := bare.Run([]ort.Value{x, st}, outs); err != nil {
			b.Fatal(err)
		}
		_ = outs[0].(*ort.Tensor[float32]).GetData()
		outs[0].Destroy()
		x.Destroy()
		st.Destroy()
		tSession += t1.Sub(t0)
		tBare += time.Since(t1)
	}
	b.ReportMetric(float64(tSession.Nanoseconds())/float64(b.N), "session-ns/batch")
	b.ReportMetric(float64(tBare.Nanoseconds())/float64(b.N), "bare-ns/batch")
	b.ReportMetric(100*(float64(tSession)/float64(tBare)-1), "overhead-%")
}

// BenchmarkFeaturesModel times Session.Run of the features model named by
// $MUNIT_EVAL_BENCH_MODEL (skipped when unset) on a batch of
// $MUNIT_EVAL_BENCH_BATCH (default 4) images of the model's input size
// (munit_eval.input_size, so its resize is to the same size) with
// $MUNIT_EVAL_BENCH_THREADS intra-op threads (default 2), and
// $MUNIT_EVAL_BENCH_PROFILE as Options.Profile when set. bench/features
// runs it beside PyTorch on the same weights:
//
//	MUNIT_EVAL_BENCH_MODEL=dinov2_vitl14.onnx go test -run '^$' -bench FeaturesModel -benchtime 3x ./model
func BenchmarkFeaturesModel(b *testing.B) {
	p := os.Getenv("MUNIT_EVAL_BENCH_MODEL")
	if p == "" {
		b.Skip("MUNIT_EVAL_BENCH_MODEL not set")
	}
	if err := Init(""); err != nil {
		b.Skip(err)
	}
	envInt := func(name string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
			return v
		}
		return def
	}
	s, err := Open(p, Options{Threads: envInt("MUNIT_EVAL_BENCH_THREADS", 2), Profile: os.Getenv("MUNIT_EVAL_BENCH_PROFILE")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	size := envInt("MUNIT_EVAL_BENCH_SIZE", 0)
	if size == 0 {
		size, err = strconv.Atoi(s.Info().Metadata[MetaInputSize])
		if err != nil {
			b.Fatalf("%s: no %s metadata: set MUNIT_EVAL_BENCH_SIZE", p, MetaInputSize)
		}
	}
	n := envInt("MUNIT_EVAL_BENCH_BATCH", 4)
	img := make([]float32, n*3*size*size)
	for i := range img {
		img[i] = float32(i%251)/127.5 - 1
	}
	in := map[string]Tensor{s.Info().ImageInput: {Shape: []int64{int64(n), 3, int64(size), int64(size)}, Data: img}}
	if _, err := s.Run(in, "features"); err != nil { // warm-up: allocations, first-run planning
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Run(in, "features"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/image")
}
