package onnxbuild_test

import (
	"github.com/munit-eval/munit-eval/internal/paritytest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/onnxbuild"
)

// parityModels returns the parity ONNX models, skipping the test when the
// fixtures are absent.
func parityModels(t *testing.T) []string {
	t.Helper()
	models, _ := filepath.Glob(filepath.Join(paritytest.Dir(t), "models", "*.onnx"))
	if len(models) == 0 {
		t.Skip("no parity models")
	}
	return models
}

// TestParseExports reads PyTorch-exported models with Parse and checks its
// inputs, outputs and metadata against what onnxruntime reports, and that
// every float or int64 initializer's data decodes.
func TestParseExports(t *testing.T) {
	paths := parityModels(t)
	initORT(t)
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			mi, err := onnxbuild.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			info, err := model.Inspect(p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(mi.Metadata, info.Metadata) {
				t.Errorf("metadata %v, ORT says %v", mi.Metadata, info.Metadata)
			}
			// ORT lists inputs that are not initializers.
			inits := map[string]bool{}
			for _, in := range mi.Initializers {
				inits[in.Name] = true
			}
			var ins []onnxbuild.ValueInfo
			for _, in := range mi.Inputs {
				if !inits[in.Name] {
					ins = append(ins, in)
				}
			}
			check := func(what string, got []onnxbuild.ValueInfo, want []model.TensorInfo) {
				if len(got) != len(want) {
					t.Fatalf("%s: %d, ORT says %d", what, len(got), len(want))
				}
				for i := range got {
					if got[i].Name != want[i].Name || !slices.Equal(got[i].Shape, want[i].Shape) {
						t.Errorf("%s %d: %s %v, ORT says %s %v", what, i, got[i].Name, got[i].Shape, want[i].Name, want[i].Shape)
					}
				}
			}
			check("input", ins, info.Inputs)
			check("output", mi.Outputs, info.Outputs)
			if len(mi.Nodes) == 0 || mi.Opsets[""] == 0 {
				t.Errorf("%d nodes, opsets %v", len(mi.Nodes), mi.Opsets)
			}
			for _, in := range mi.Initializers {
				var err error
				switch in.DataType {
				case onnxbuild.TypeFloat:
					_, err = in.Float32s()
				case onnxbuild.TypeInt64:
					_, err = in.Int64s()
				}
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
}
