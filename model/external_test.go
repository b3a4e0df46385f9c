package model_test

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/onnxbuild"
)

// TestExternalData: a model whose weights live in an external data file
// (onnx's save_as_external_data) reads them from beside the model, not from
// the working directory; its SHA-256 covers them, so new weights are a new
// model identity (cached numbers were served for changed weights); a
// location outside the model's folder, a missing file and a file too short
// for the tensor are refused, naming the model.
func TestExternalData(t *testing.T) {
	initORT(t)
	src := writeModel(t, t.TempDir(), "ext", 3, 0, false, nil)
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	m, data, err := onnxbuild.ExternalizeInitializers(b, "weights.bin", 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "ext.onnx")
	os.WriteFile(p, m, 0o644)
	weights := func(dir string, v float32) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "weights.bin"), binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if len(data) != 4 || math.Float32frombits(binary.LittleEndian.Uint32(data)) != 0.5 {
		t.Fatalf("external data %v, want the 0.5 of the Mul", data)
	}
	weights(dir, 0.5)
	// A decoy beside the working directory, where onnxruntime looks for a
	// model handed over from memory.
	cwd := t.TempDir()
	weights(cwd, 2)
	t.Chdir(cwd)

	run := func() (float32, string) {
		t.Helper()
		s, err := model.Open(p, model.Options{Threads: 1, Role: model.RoleGenerator})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if !slices.Equal(s.Info().ExternalData, []string{"weights.bin"}) {
			t.Errorf("ExternalData %v", s.Info().ExternalData)
		}
		out, err := s.Run(map[string]model.Tensor{"image": {Shape: []int64{1, 3, 1, 1}, Data: []float32{1, 1, 1}}})
		if err != nil {
			t.Fatal(err)
		}
		return out["translated"].Data[0], s.Info().SHA256
	}
	v, sha := run()
	if want := float32(math.Tanh(0.5)); math.Abs(float64(v-want)) > 1e-6 {
		t.Fatalf("output %g, want tanh(0.5) = %g from the weights beside the model", v, want)
	}
	info, err := model.Inspect(p)
	if err != nil || info.SHA256 != sha {
		t.Fatalf("Inspect: %v, sha256 %s, want the session's %s", err, info.SHA256, sha)
	}
	weights(dir, 0.25)
	v2, sha2 := run()
	if want := float32(math.Tanh(0.25)); math.Abs(float64(v2-want)) > 1e-6 || sha2 == sha {
		t.Fatalf("new weights: output %g (want %g), sha256 %s (was %s): the identity must change with them", v2, want, sha2, sha)
	}

	for _, c := range []struct {
		name, location string
		data           []byte
		want           string
	}{
		{"outside", "../weights.bin", nil, "not a file inside the model's folder"},
		{"absolute", filepath.Join(cwd, "weights.bin"), nil, "not a file inside the model's folder"},
		{"missing", "nothing.bin", nil, "not found beside the model"},
		{"short", "short.bin", []byte{1, 2}, "is 2 bytes, the model asks bytes 0 to 4"},
	} {
		m, _, err := onnxbuild.ExternalizeInitializers(b, c.location, 1)
		if err != nil {
			t.Fatal(err)
		}
		q := filepath.Join(dir, c.name+".onnx")
		os.WriteFile(q, m, 0o644)
		if c.data != nil {
			os.WriteFile(filepath.Join(dir, c.location), c.data, 0o644)
		}
		_, err = model.Inspect(q)
		if err == nil || !strings.HasPrefix(err.Error(), q+": ") || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line naming %s and %q", c.name, err, q, c.want)
		}
		if _, err := model.Open(q, model.Options{Threads: 1}); err == nil {
			t.Errorf("%s: Open accepted it", c.name)
		}
	}
}
