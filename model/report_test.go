package model_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/onnxbuild"
)

// TestReportAlignsLongNames: a tensor name longer than the usual column
// (exported graphs name inputs after their modules) keeps every shape in
// the inputs and outputs lists starting at one column.
func TestReportAlignsLongNames(t *testing.T) {
	g := onnxbuild.NewGraph("long")
	x := g.Input("image_from_the_encoder_block", -1, 3, -1, -1)
	g.OpNamed("Tanh", []string{x}, nil, "translated")
	g.Output("translated", -1, 3, -1, -1)
	p := filepath.Join(t.TempDir(), "long.onnx")
	if err := onnxbuild.NewModel(g, genMeta("0")).WriteFile(p); err != nil {
		t.Fatal(err)
	}
	r, err := model.NewReport(p, "")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	r.WriteText(&b, false)
	col := -1
	for _, line := range strings.Split(b.String(), "\n") {
		if !strings.HasPrefix(line, "  ") || !strings.Contains(line, "[") {
			continue
		}
		c := strings.Index(line, "[")
		if col >= 0 && c != col {
			t.Fatalf("shapes start at columns %d and %d:\n%s", col, c, b.String())
		}
		col = c
	}
	if col < 0 {
		t.Fatalf("no tensor lines:\n%s", b.String())
	}
}
