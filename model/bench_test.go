package model

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/munit-eval/munit-eval/internal/paritytest"
	ort "github.com/yalue/onnxruntime_go"
)

// The per-batch overhead of Session.Run over a bare onnxruntime session run
// of the same model, batch 8 at 64x64 (the parity MUNIT generator):
//
//	go test -run '^$' -bench 'Generator64' -count 6 ./model | benchstat -
//
// Both use 2 intra-op threads and fresh input values per batch.
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

func BenchmarkGenerator64Batch8Session(b *testing.B) {
	p, img, z := benchInputs(b)
	s, err := Open(p, Options{Threads: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	in := map[string]Tensor{
		"image": {Shape: []int64{8, 3, 64, 64}, Data: img},
		"style": {Shape: []int64{8, 8}, Data: z},
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Run(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerator64Batch8BareORT(b *testing.B) {
	p, img, z := benchInputs(b)
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	so, err := sessionOptions(Options{Threads: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer so.Destroy()
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(data, []string{"image", "style"}, []string{"translated"}, so)
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Destroy()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x, _ := ort.NewTensor(ort.NewShape(8, 3, 64, 64), img)
		s, _ := ort.NewTensor(ort.NewShape(8, 8), z)
		outs := []ort.Value{nil}
		if err := sess.Run([]ort.Value{x, s}, outs); err != nil {
			b.Fatal(err)
		}
		_ = outs[0].(*ort.Tensor[float32]).GetData()
		outs[0].Destroy()
		x.Destroy()
		s.Destroy()
	}
}
