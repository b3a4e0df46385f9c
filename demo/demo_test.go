package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/pipeline"
)

// TestDemoDeterministic runs a small demo twice into two folders: the
// results documents must be byte-identical apart from their created field,
// and the planted order must come back (CIS and diversity: MUNIT >
// BicycleGAN > CycleGAN, CycleGAN*, which switch modes rarely; at 6 inputs
// they may not switch at all, so TestDemoGroundTruth checks their values).
func TestDemoDeterministic(t *testing.T) {
	if err := model.Init(""); err != nil {
		t.Fatalf("onnxruntime not available (run make setup): %v", err)
	}
	o := Options{Seed: 3, Inputs: 6, Real: 24, Samples: 40, Questions: 20}
	var runs [2]map[string][]byte
	created := regexp.MustCompile(`"created": "[^"]*"`)
	for i := range runs {
		dir := t.TempDir()
		c, err := SetUp(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pipeline.Run(context.Background(), c, pipeline.Options{Threads: 1, Quiet: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := AMT(context.Background(), c, out, o); err != nil {
			t.Fatal(err)
		}
		runs[i] = map[string][]byte{}
		for _, p := range out.Paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			runs[i][filepath.Base(p)] = created.ReplaceAll(b, []byte(`"created": ""`))
		}
		if i == 0 {
			get := func(method string) (cis, div float64) {
				for _, d := range out.Docs {
					if d.Method == method {
						return *d.Metrics.CIS, d.Metrics.LPIPSDiversity.Mean
					}
				}
				t.Fatalf("no document for %s", method)
				return 0, 0
			}
			mc, md := get("MUNIT")
			bc, bd := get("BicycleGAN")
			cc, cd := get("CycleGAN")
			sc, sd := get("CycleGAN*")
			if !(mc > bc && bc > 0.3 && cc < 0.3 && sc < 0.3 && cc >= 0 && sc >= 0) {
				t.Errorf("CIS MUNIT %.3f, BicycleGAN %.3f, CycleGAN %.3g, CycleGAN* %.3g: planted order lost", mc, bc, cc, sc)
			}
			if !(md > bd && bd > 2*sd && bd > 2*cd && sd >= 0 && cd >= 0) {
				t.Errorf("diversity MUNIT %.4f, BicycleGAN %.4f, CycleGAN* %.4f, CycleGAN %.4f: planted order lost", md, bd, sd, cd)
			}
			for _, d := range out.Docs {
				if d.Method == "MUNIT" && len(d.Metrics.Preference) != 4 {
					t.Errorf("MUNIT's document has %d preference entries, want 4", len(d.Metrics.Preference))
				}
			}
		}
	}
	if len(runs[0]) != 6 {
		t.Fatalf("%d results documents, want 6 (5 methods and real data)", len(runs[0]))
	}
	for name, b := range runs[0] {
		if !bytes.Equal(b, runs[1][name]) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
}
