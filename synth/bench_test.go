package synth

import (
	"testing"

	"github.com/munit-eval/munit-eval/model"
)

// BenchmarkDomainA measures rendering: one op is one 64x64 image.
func BenchmarkDomainA(b *testing.B) {
	for b.Loop() {
		DomainA(1, 1)
	}
}

// BenchmarkModels measures building and serialising all nine planted models.
func BenchmarkModels(b *testing.B) {
	referenceInk() // computed once per process; not part of a build
	for b.Loop() {
		if _, err := Models(testSeed); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRun measures each planted model on one onnxruntime thread at
// batch 16 and reports images per second.
//
//	go test ./synth/ -run '^$' -bench Run -benchtime 3s
func BenchmarkRun(b *testing.B) {
	r := newRig(b)
	a, _, _ := World(testSeed, 16)
	x := r.tensor(a)
	c, err := r.sessions[KeyMUNITContent].Run(map[string]model.Tensor{"image": x}, "content")
	if err != nil {
		b.Fatal(err)
	}
	keys := []string{KeyMUNIT, KeyMUNITContent, KeyMUNITDecoder, KeyBicycleGAN, KeyCycleGAN, KeyCycleGANStar, KeyUNIT, KeyClassifier, KeyLPIPS}
	for _, key := range keys {
		b.Run(key, func(b *testing.B) {
			s := r.sessions[key]
			in := map[string]model.Tensor{}
			if key == KeyMUNITDecoder {
				in["content"] = c["content"]
			} else {
				in["image"] = x
			}
			if s.Info().LatentInput != "" {
				in[s.Info().LatentInput] = latents(0, 16)
			}
			for b.Loop() {
				if _, err := s.Run(in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(16*float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
