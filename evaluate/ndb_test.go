package evaluate

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/synth"
)

// ndbOf reads a document's NDB fragment.
func ndbOf(t *testing.T, d *results.Document) registry.NDB {
	t.Helper()
	var n registry.NDB
	if ok, err := d.Metrics.GetExtra(registry.KeyNDB, &n); !ok || err != nil {
		t.Fatalf("no ndb fragment: %v", err)
	}
	return n
}

// writeNPY writes rows as a float32 [N, D] .npy file.
func writeNPY(t *testing.T, path string, x [][]float64) {
	t.Helper()
	a := &images.Array{Shape: []int{len(x), len(x[0])}}
	for _, r := range x {
		for _, v := range r {
			a.Data = append(a.Data, float32(v))
		}
	}
	if err := images.WriteNPY(path, a); err != nil {
		t.Fatal(err)
	}
}

// blobRows are n rows of dimension 6 around 4 centers (10·e_c), σ = 0.5,
// the center of row i being i mod 4 unless only names the allowed ones.
func blobRows(n int, shift float64, only []int) [][]float64 {
	x := make([][]float64, n)
	for i := range x {
		c := i % 4
		if only != nil {
			c = only[i%len(only)]
		}
		x[i] = make([]float64, 6)
		for j := range x[i] {
			// A deterministic spread without a generator: a low-discrepancy
			// sequence per dimension.
			x[i][j] = 0.5*math.Sin(float64(i*7+j*13)) + shift
		}
		x[i][c] += 10
	}
	return x
}

// TestNDBFeatures: NDB on .npy features; the bins written with
// --bins-out and read back with --bins-file give the same numbers; a set
// missing two of four modes differs in all four bins; the real-data row
// is there.
func TestNDBFeatures(t *testing.T) {
	dir := t.TempDir()
	q, r, half := filepath.Join(dir, "q.npy"), filepath.Join(dir, "r.npy"), filepath.Join(dir, "half.npy")
	writeNPY(t, q, blobRows(400, 0, nil))
	writeNPY(t, r, blobRows(800, 0, nil))
	writeNPY(t, half, blobRows(400, 0, []int{0, 1}))
	bins := filepath.Join(dir, "bins.npz")
	p := DefaultProtocol()
	p.NDBBins = 4
	docs, err := NDB(context.Background(), NDBRequest{Protocol: p, Features: q, RealFeatures: r, BinsOut: bins})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[1].Method != results.MethodRealData {
		t.Fatalf("%d documents, want the method's and the real-data row", len(docs))
	}
	a := ndbOf(t, docs[0])
	if a.NDB != 0 || a.JS > 1e-3 || a.Bins != 4 || a.NumReal != 800 || a.Source != "features q.npy" {
		t.Errorf("same modes: %+v", a)
	}
	if rr := ndbOf(t, docs[1]); rr.NumSamples != 400 || rr.NumReal != 400 {
		t.Errorf("real-data row: %+v, want 400 against 400", rr)
	}
	docs, err = NDB(context.Background(), NDBRequest{Protocol: p, Features: half, BinsFile: bins})
	if err != nil {
		t.Fatal(err)
	}
	b := ndbOf(t, docs[0])
	// p_r = ¼ each, p_g = ½, ½, 0, 0: JS = ½(2·¼ ln(¼/⅜) + 2·¼ ln 2) + ½·2·½ ln(½/⅜).
	want := 0.5*(0.5*math.Log(0.25/0.375)+0.5*math.Log(2)) + 0.5*math.Log(0.5/0.375)
	if len(docs) != 1 || b.NDB != 4 || b.NDBK != 1 || math.Abs(b.JS-want) > 1e-12 || b.BinsFile != "bins.npz" {
		t.Errorf("half the modes from the bins file: %+v (%d documents), want NDB 4, JS %v", b, len(docs), want)
	}
}

// TestNDBBinsFile: the bins round-trip through the .npz exactly, and a
// file missing a field, or with an index out of range, is refused naming
// the file.
func TestNDBBinsFile(t *testing.T) {
	dir := t.TempDir()
	b, err := metrics.NewNDBBins(blobRows(200, 0, nil), metrics.NDBOptions{Bins: 4, Whiten: true, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "b.npz")
	if err := WriteNDBBins(path, b); err != nil {
		t.Fatal(err)
	}
	got, err := ReadNDBBins(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.N != b.N || !slices.Equal(got.Proportions, b.Proportions) || !slices.Equal(got.Std, b.Std) || !slices.Equal(got.DIndices, b.DIndices) || !slices.Equal(got.Centers[3], b.Centers[3]) {
		t.Errorf("round trip: %+v, want %+v", got, b)
	}
	z, _ := images.ReadNPZ(path)
	delete(z, "std")
	bad := filepath.Join(dir, "bad.npz")
	images.WriteNPZ(bad, z)
	if _, err := ReadNDBBins(bad); err == nil || !strings.Contains(err.Error(), bad+`: no "std" array`) {
		t.Errorf("missing std: %v", err)
	}
	z, _ = images.ReadNPZ(path)
	z["d_indices"].Data[0] = 6
	images.WriteNPZ(bad, z)
	if _, err := ReadNDBBins(bad); err == nil || !strings.Contains(err.Error(), "dimension index 6 outside [0, 6)") {
		t.Errorf("index out of range: %v", err)
	}
}

// TestNDBBadInput: fewer real samples than bins, sets of different
// dimensions and NaN features are one clear error naming the file.
func TestNDBBadInput(t *testing.T) {
	dir := t.TempDir()
	q, r, r5, nan := filepath.Join(dir, "q.npy"), filepath.Join(dir, "r.npy"), filepath.Join(dir, "r5.npy"), filepath.Join(dir, "nan.npy")
	writeNPY(t, q, blobRows(50, 0, nil))
	writeNPY(t, r, blobRows(50, 0, nil))
	x := blobRows(50, 0, nil)
	for i := range x {
		x[i] = x[i][:5]
	}
	writeNPY(t, r5, x)
	x = blobRows(50, 0, nil)
	x[4][1] = math.NaN()
	writeNPY(t, nan, x)
	p := DefaultProtocol()
	for _, c := range []struct {
		q, r string
		want string
	}{
		{q, r, r + ": NDB: 50 real samples for 100 bins"},
		{q, r5, q + ": NDB: the samples have 6 dimensions, the real samples (bins) 5"},
		{nan, r, nan + ": NDB: generated sample 4, dimension 1 is NaN"},
	} {
		p.NDBBins = 4
		if c.want == r+": NDB: 50 real samples for 100 bins" {
			p.NDBBins = 100
		}
		if _, err := NDB(context.Background(), NDBRequest{Protocol: p, Features: c.q, RealFeatures: c.r}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

// TestNDBPixels: NDB on pixels of two image folders: 8x8 images of four
// flat colours, resized to 4x4 (48 dimensions); the same colours give
// NDB 0, the generated folder in two colours only differs in every bin.
func TestNDBPixels(t *testing.T) {
	dir := t.TempDir()
	colours := [][3]uint8{{250, 10, 10}, {10, 250, 10}, {10, 10, 250}, {240, 240, 10}}
	write := func(name string, n int, use []int) string {
		d := filepath.Join(dir, name)
		os.MkdirAll(d, 0o755)
		for i := range n {
			c := colours[use[i%len(use)]]
			m := &images.Image{W: 8, H: 8, Pix: make([]uint8, 8*8*3)}
			for p := 0; p < len(m.Pix); p += 3 {
				m.Pix[p], m.Pix[p+1], m.Pix[p+2] = c[0]+uint8(i%5), c[1], c[2]-uint8(p%7)
			}
			if err := images.WritePNG(filepath.Join(d, fmt.Sprintf("%03d.png", i)), m); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	real, same, two := write("real", 80, []int{0, 1, 2, 3}), write("same", 40, []int{0, 1, 2, 3}), write("two", 40, []int{0, 1})
	p := DefaultProtocol()
	p.NDBBins = 4
	for _, c := range []struct {
		gen  string
		want int
	}{{same, 0}, {two, 4}} {
		docs, err := NDB(context.Background(), NDBRequest{Protocol: p, Samples: c.gen, Real: real, PixelSize: 4, Run: RunOptions{Quiet: true}})
		if err != nil {
			t.Fatal(err)
		}
		n := ndbOf(t, docs[0])
		if n.NDB != c.want || n.FeatureDim != 48 || n.NumSamples != 40 || n.Source != "pixels 4x4" {
			t.Errorf("%s: %+v, want NDB %d on 40 samples of 48 dimensions", c.gen, n, c.want)
		}
	}
}

// TestNDBRun: metric ndb in a Plan (what run builds) on
// the synthetic world's folders gives the method's NDB and a real-data
// row equal to the ndb command's, on the classifier's features.
func TestNDBRun(t *testing.T) {
	dir, models := world(t)
	gen, real := filepath.Join(dir, "world", "testA"), filepath.Join(dir, "world", "testB")
	p := DefaultProtocol()
	p.NDBBins, p.NumInputs, p.Seed = 3, 8, 4
	c := Command{Plan: Plan{Protocol: p, Metrics: []string{"ndb"}, Models: ModelFiles{Classifier: models[synth.KeyClassifier]}, NoCache: true,
		Run: RunOptions{Threads: 1, Quiet: true}}, Dataset: Dataset{Real: real}, Source: Source{Samples: gen}, Store: filepath.Join(dir, "store")}
	pl, _, err := c.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	pl.RealRowLPIPS = false // run's real-data rows, not a metric command's
	out, err := Run(context.Background(), pl)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := NDB(context.Background(), NDBRequest{Protocol: p, Samples: gen, Real: real, Model: models[synth.KeyClassifier], Run: RunOptions{Threads: 1, Quiet: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Docs) != 2 || out.Docs[1].Method != results.MethodRealData {
		t.Fatalf("%d documents, want the method's and the real-data row", len(out.Docs))
	}
	for i := range 2 {
		a, b := ndbOf(t, out.Docs[i]), ndbOf(t, docs[i])
		b.Source = ""
		if !reflect.DeepEqual(a, b) || a.Bins != 3 {
			t.Errorf("%s: run %+v, ndb command %+v", out.Docs[i].Method, a, b)
		}
	}
}

// TestNDBSmallRealRow: with more real samples than bins but fewer than
// twice as many, the method is scored and the real-data row carries a
// warning instead of NDB.
func TestNDBSmallRealRow(t *testing.T) {
	dir := t.TempDir()
	q, r := filepath.Join(dir, "q.npy"), filepath.Join(dir, "r.npy")
	writeNPY(t, q, blobRows(60, 0, nil))
	writeNPY(t, r, blobRows(30, 0, nil))
	p := DefaultProtocol()
	p.NDBBins = 20
	docs, err := NDB(context.Background(), NDBRequest{Protocol: p, Features: q, RealFeatures: r})
	if err != nil {
		t.Fatal(err)
	}
	if n := ndbOf(t, docs[0]); n.Bins != 20 {
		t.Errorf("method: %+v", n)
	}
	row := docs[1]
	if _, ok := row.Metrics.Extra[registry.KeyNDB]; ok || len(row.Warnings) != 1 || row.Warnings[0].Code != registry.CodeNDBNoRealRow {
		t.Errorf("real-data row: ndb %s, warnings %+v", row.Metrics.Extra[registry.KeyNDB], row.Warnings)
	}
}
