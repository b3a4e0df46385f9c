package amt

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkAnalyze analyses the paper's protocol: 4 baselines × 500
// questions, 10 per HIT with 1 catch question, 5 workers per HIT (about
// 11,000 judgments), with the 2,000-resample bootstrap.
func BenchmarkAnalyze(b *testing.B) {
	key, data := paperBatch(b)
	rows, _, err := ReadResults("sim.csv", bytes.NewReader(data), key)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Analyze(key, rows, DefaultAnalyzeOptions()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadResults parses the results file of the paper's protocol
// (1,115 assignments).
func BenchmarkReadResults(b *testing.B) {
	key, data := paperBatch(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := ReadResults("sim.csv", bytes.NewReader(data), key); err != nil {
			b.Fatal(err)
		}
	}
}

func paperBatch(b *testing.B) (*Key, []byte) {
	b.Helper()
	root := b.TempDir()
	_, methods := writeStores(b, root, 20, []fakeMethod{{"MUNIT", 4}, {"UNIT", 1}, {"CycleGAN", 1}, {"CycleGAN*", 1}, {"BicycleGAN", 3}})
	cfg := DefaultMakeConfig()
	cfg.Methods, cfg.Out = methods, filepath.Join(root, "batch")
	key, err := Make(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	data, err := Simulate(key, map[string]float64{"UNIT": 0.374, "CycleGAN": 0.36, "CycleGAN*": 0.295, "BicycleGAN": 0.567}, 3, 1)
	if err != nil {
		b.Fatal(err)
	}
	return key, data
}
