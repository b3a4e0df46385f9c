package reports

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/results"
)

// TestArgsOptions: each setting out of its values is refused naming the
// flag, in the order the command checks them; the defaults pass.
func TestArgsOptions(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Args)
		want string
	}{
		{func(a *Args) { a.Results = nil }, "--results 'DIR/*.json'"},
		{func(a *Args) { a.Out = "" }, "--out REPORT is required"},
		{func(a *Args) { a.CI = "x" }, `--ci "x": want pm or brackets`},
		{func(a *Args) { a.Scores = "x" }, `--scores "x": want nats or exp`},
		{func(a *Args) { a.Pref = "x" }, `--pref-interval "x": want wilson or bootstrap`},
		{func(a *Args) { a.GridSamples = 0 }, "must be at least 1"},
		{func(a *Args) {}, ""},
	} {
		a := DefaultArgs()
		a.Results, a.Out = []string{"r.json"}, "out"
		tc.edit(&a)
		o, err := a.Options()
		if tc.want == "" {
			if err != nil || o.Out != "out" || o.Grid.NumInputs != 4 || o.Title != "munit-eval report" {
				t.Errorf("defaults: %v, %+v", err, o)
			}
		} else if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

// TestRun: the report of a folder of documents is written and its tables
// printed.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	for i, d := range paperDocs() {
		if err := results.Write(filepath.Join(dir, "results", fmt.Sprintf("%d.json", i)), d); err != nil {
			t.Fatal(err)
		}
	}
	a := DefaultArgs()
	a.Results, a.Out = []string{filepath.Join(dir, "results")}, filepath.Join(dir, "report")
	var b bytes.Buffer
	sum, err := Run(&b, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(a.Out, IndexHTML)); err != nil || sum.Files[len(sum.Files)-1] != filepath.Join(a.Out, IndexHTML) {
		t.Errorf("index.html: %v, files %v", err, sum.Files)
	}
	if !strings.Contains(b.String(), "MUNIT") || !strings.Contains(b.String(), "BicycleGAN") {
		t.Errorf("tables:\n%s", b.String())
	}
}
