package model

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/images"
)

// Forward runs the model at path once on the inputs specs name (each
// NAME=FILE.npy, float32 or float64) and writes every output to
// outDir/<name>.npy, in name order, calling wrote for each: what the
// exporters compare with PyTorch where no Python onnxruntime exists. An
// output with a NaN or an infinity is an error naming it.
func Forward(path string, specs []string, outDir string, opts Options, wrote func(name string, shape []int64, file string)) error {
	feeds := map[string]Tensor{}
	for _, spec := range specs {
		name, file, ok := strings.Cut(spec, "=")
		if !ok || name == "" || file == "" {
			return fmt.Errorf("--input %q: want NAME=FILE.npy", spec)
		}
		a, err := images.ReadNPY(file)
		if err != nil {
			return err
		}
		shape := make([]int64, len(a.Shape))
		for i, d := range a.Shape {
			shape[i] = int64(d)
		}
		feeds[name] = Tensor{Shape: shape, Data: a.Data}
	}
	s, err := Open(path, opts)
	if err != nil {
		return err
	}
	defer s.Close()
	outs, err := s.Run(feeds)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(outs))
	for name := range outs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t := outs[name]
		for i, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%s: output %q has a non-finite value (%v) at flat index %d", path, name, v, i)
			}
		}
		shape := make([]int, len(t.Shape))
		for i, d := range t.Shape {
			shape[i] = int(d)
		}
		p := filepath.Join(outDir, name+".npy")
		if err := images.WriteNPY(p, &images.Array{Shape: shape, Data: t.Data}); err != nil {
			return err
		}
		wrote(name, t.Shape, p)
	}
	return nil
}
