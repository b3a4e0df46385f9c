package evaluate

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/lpips"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/synth"
	"github.com/munit-eval/munit-eval/warning"
)

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func closeTo(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// TestLayoutsReadAlike: the planted MUNIT's samples measured from its
// store and from plain folders holding the same files, grouped
// <stem>/<k>.png and <stem>_<k>.png, give the same numbers (LPIPS to 1e-6:
// embeddings recomputed without the store's cache; IS/CIS, FID, KID and
// PRDC to 1e-12), and a flat folder the same FID, KID and PRDC with the
// split Inception Score alone. Published-style statistics of the real
// folder, written to .npz and read back, give the same FID to 1e-9
// relative; the real folder against itself has precision, recall and
// coverage 1 and FID 0 (to 1e-9).
func TestLayoutsReadAlike(t *testing.T) {
	dir, models := world(t)
	ctx := context.Background()
	p := DefaultProtocol()
	p.NumInputs, p.SamplesPerInput, p.Pairs, p.Bootstrap, p.Seed = 4, 6, 3, 100, 7
	p.KIDSubsets, p.KIDSubsetSize, p.FIDInterval, p.PRK, p.DCK = 5, 12, FIDOff, 2, 3
	w := entries(t, "lpips", "is", "fid", "kid", "prdc")
	s, err := OpenScorers(ModelFiles{LPIPS: models[synth.KeyLPIPS], Classifier: models[synth.KeyClassifier]}, registry.NeedsOf(w), model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	realDir := filepath.Join(dir, "world", "testB")
	realFiles, err := RealFiles(realDir, p)
	if err != nil {
		t.Fatal(err)
	}
	pm := p
	smp, err := Acquire(ctx, Source{Method: "MUNIT", Generator: models[synth.KeyMUNITContent], Decoder: models[synth.KeyMUNITDecoder],
		Inputs: filepath.Join(dir, "world", "testA"), Store: filepath.Join(dir, "store")}, &pm, pm.SamplesNeeded(w), RunOptions{Threads: 1, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	job := Job{Method: "MUNIT", Protocol: pm, Metrics: w, Real: realSet("real", realFiles, 0), Quiet: true}
	j := job
	j.Set, j.Cache = smp, filepath.Join(dir, "store")
	want, err := Measure(ctx, s, j)
	if err != nil {
		t.Fatal(err)
	}
	grouped, suffix, flat := filepath.Join(dir, "grouped"), filepath.Join(dir, "suffix"), filepath.Join(dir, "flat")
	for i, row := range smp.Refs {
		for k, r := range row {
			copyFile(t, r.Path, filepath.Join(grouped, fmt.Sprintf("in%d", i), fmt.Sprintf("%d.png", k)))
			copyFile(t, r.Path, filepath.Join(suffix, fmt.Sprintf("in%d_%d.png", i, k)))
			copyFile(t, r.Path, filepath.Join(flat, fmt.Sprintf("%03d_%03d.png", i, k)))
		}
	}
	measure := func(dir string, w []*registry.Entry, edit func(*Job)) *results.Document {
		t.Helper()
		pf := pm
		fs, err := OpenSet(dir, "", &pf)
		if err != nil {
			t.Fatal(err)
		}
		j := job
		j.Set, j.Metrics = fs, w
		if edit != nil {
			edit(&j)
		}
		doc, err := Measure(ctx, s, j)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	for _, d := range []string{grouped, suffix} {
		g := measure(d, w, nil)
		if a, b := g.Metrics.LPIPSDiversity, want.Metrics.LPIPSDiversity; !closeTo(a.Mean, b.Mean, 1e-6) || a.N != b.N || !closeTo(a.CI95[0], b.CI95[0], 1e-6) {
			t.Errorf("%s: diversity %v (n %d), store %v (n %d)", d, a.Mean, a.N, b.Mean, b.N)
		}
		if !closeTo(*g.Metrics.CIS, *want.Metrics.CIS, 1e-12) || !closeTo(*g.Metrics.IS, *want.Metrics.IS, 1e-12) ||
			!closeTo(g.Metrics.FID.Value, want.Metrics.FID.Value, 1e-12) || !closeTo(g.Metrics.KID.Mean, want.Metrics.KID.Mean, 1e-12) ||
			*g.Metrics.PRDC != *want.Metrics.PRDC || g.Protocol.SamplesPerInput != want.Protocol.SamplesPerInput {
			t.Errorf("%s: IS/CIS %v/%v FID %v, store %v/%v %v", d, *g.Metrics.IS, *g.Metrics.CIS, g.Metrics.FID.Value, *want.Metrics.IS, *want.Metrics.CIS, want.Metrics.FID.Value)
		}
	}
	f := measure(flat, entries(t, "is", "fid", "kid", "prdc"), nil)
	if !closeTo(f.Metrics.FID.Value, want.Metrics.FID.Value, 1e-12) || !closeTo(f.Metrics.KID.Mean, want.Metrics.KID.Mean, 1e-12) ||
		*f.Metrics.PRDC != *want.Metrics.PRDC {
		t.Errorf("flat folder FID %v KID %v PRDC %+v, store %v %v %+v", f.Metrics.FID.Value, f.Metrics.KID.Mean, *f.Metrics.PRDC,
			want.Metrics.FID.Value, want.Metrics.KID.Mean, *want.Metrics.PRDC)
	}
	if f.Metrics.IS != nil || f.Metrics.ISSplits == nil || !strings.Contains(strings.Join(warning.Details(f.Warnings), "\n"), "flat folder") {
		t.Errorf("flat folder IS: is %v, is_splits %v, warnings %q", f.Metrics.IS, f.Metrics.ISSplits, f.Warnings)
	}
	// LPIPS diversity on a flat folder is refused.
	pf := pm
	fs, _ := OpenSet(flat, "", &pf)
	if _, err := Measure(ctx, s, Job{Protocol: pm, Metrics: entries(t, "lpips"), Set: fs, Quiet: true}); err == nil {
		t.Error("LPIPS on a flat folder accepted")
	}

	// Statistics of the real folder, through a .npz.
	stats, err := FolderStats(ctx, s, realDir, job)
	if err != nil {
		t.Fatal(err)
	}
	npz := filepath.Join(dir, "real.npz")
	if err := WriteStats(npz, stats); err != nil {
		t.Fatal(err)
	}
	back, err := ReadStats(npz)
	if err != nil {
		t.Fatal(err)
	}
	viaStats := measure(flat, entries(t, "fid", "kid"), func(j *Job) { j.Real, j.RealStats, j.RealStatsName = nil, back, "real.npz" })
	if v, u := viaStats.Metrics.FID.Value, want.Metrics.FID.Value; !closeTo(v, u, 1e-9*u) || viaStats.Protocol.RealStats != "real.npz" ||
		viaStats.Metrics.KID != nil || len(viaStats.Warnings) == 0 {
		t.Errorf("FID via statistics %v (want %v), real_stats %q, KID %v, warnings %q", v, u, viaStats.Protocol.RealStats, viaStats.Metrics.KID, viaStats.Warnings)
	}
	self := measure(realDir, entries(t, "fid", "prdc"), nil)
	if pr := self.Metrics.PRDC; pr.Precision != 1 || pr.Recall != 1 || pr.Coverage != 1 || math.Abs(self.Metrics.FID.Value) > 1e-9 {
		t.Errorf("real vs itself: PRDC %+v, FID %v", *pr, self.Metrics.FID.Value)
	}
	// NDB through the engine (metric ndb, as run computes it) equals the
	// ndb command's on the same folders and features model.
	nd := measure(flat, entries(t, "ndb"), func(j *Job) { j.Protocol.NDBBins = 3 })
	pn := pm
	pn.NDBBins = 3
	cmdDocs, err := NDB(ctx, NDBRequest{Protocol: pn, Samples: flat, Real: realDir, Model: models[synth.KeyClassifier], Run: RunOptions{Threads: 1, Quiet: true}})
	if err != nil {
		t.Fatal(err)
	}
	var a, b registry.NDB
	nd.Metrics.GetExtra(registry.KeyNDB, &a)
	cmdDocs[0].Metrics.GetExtra(registry.KeyNDB, &b)
	if a.Bins != 3 || a.NumSamples == 0 || a.NDB != b.NDB || a.JS != b.JS || a.NumSamples != b.NumSamples || a.NumReal != b.NumReal {
		t.Errorf("NDB through the engine %+v, through the ndb command %+v", a, b)
	}
	// Clean resizing is recorded and changes what the network sees.
	clean := measure(flat, entries(t, "fid"), func(j *Job) { j.Protocol.Resize = ResizeClean })
	if clean.Protocol.Resize != ResizeClean || clean.Metrics.FID.Value == f.Metrics.FID.Value || f.Protocol.Resize != "" {
		t.Errorf("clean: resize %q FID %v (legacy %v, resize %q)", clean.Protocol.Resize, clean.Metrics.FID.Value, f.Metrics.FID.Value, f.Protocol.Resize)
	}
}

// TestCounts: a store read with a default num_inputs smaller than what it
// holds says so, asked explicitly it does not; a default
// samples_per_input above what it holds takes what it holds with a
// warning, asked explicitly it is an error.
func TestCounts(t *testing.T) {
	dir, models := world(t)
	ctx := context.Background()
	p := DefaultProtocol()
	p.NumInputs, p.SamplesPerInput = 4, 3
	if _, err := Acquire(ctx, Source{Method: "MUNIT", Generator: models[synth.KeyMUNITContent], Decoder: models[synth.KeyMUNITDecoder],
		Inputs: filepath.Join(dir, "world", "testA"), Store: filepath.Join(dir, "store")}, &p, 3, RunOptions{Threads: 1, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	p.NumInputs = 2
	for _, exact := range []bool{false, true} {
		pm := p
		pm.Given = map[string]bool{"num_inputs": exact}
		smp, err := Acquire(ctx, Source{Samples: filepath.Join(dir, "store", "MUNIT")}, &pm, 1, RunOptions{Quiet: true})
		if err != nil {
			t.Fatal(err)
		}
		noted := strings.Contains(strings.Join(warning.Details(smp.Warnings), "\n"), "holds 4 inputs; 2 were used")
		if smp.M() != 2 || noted == exact {
			t.Errorf("exact %v: %d inputs, warnings %q", exact, smp.M(), smp.Warnings)
		}
		// K = 5 of a store holding 3.
		pm.SamplesPerInput = 5
		pm.Given["samples_per_input"] = exact
		k, rec, warns, err := (&Job{Protocol: pm, Metrics: entries(t, "is"), Set: smp}).samplesUsed()
		if exact != (err != nil) || !exact && (k != 3 || rec != 3 || len(warns) != 1 || warns[0].Code != CodeFewerSamples) {
			t.Errorf("exact %v: K %d recorded %d, warnings %v, error %v", exact, k, rec, warns, err)
		}
	}
}

// TestPairedDistances pairs two folders by file name: identical images are
// at distance 0, a recoloured one is not, and names in one folder only are
// listed.
func TestPairedDistances(t *testing.T) {
	dir, models := world(t)
	m, err := lpips.Open(models[synth.KeyLPIPS], model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	realDir := filepath.Join(dir, "world", "testB")
	names, _ := filepath.Glob(filepath.Join(realDir, "*.png"))
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for i, n := range names[:4] {
		copyFile(t, n, filepath.Join(a, filepath.Base(n)))
		switch i {
		case 0: // only in a
		case 1: // a different image under the same name
			copyFile(t, names[5], filepath.Join(b, filepath.Base(n)))
		default:
			copyFile(t, n, filepath.Join(b, filepath.Base(n)))
		}
	}
	copyFile(t, names[6], filepath.Join(b, "extra.png"))
	got, err := PairedDistances(context.Background(), lpips.NewEmbedder(m, ""), a, b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Pairs) != 3 || got.Pairs[0].Distance <= 0 || got.Pairs[1].Distance != 0 || got.Pairs[2].Distance != 0 ||
		!closeTo(got.Mean, got.Pairs[0].Distance/3, 1e-15) ||
		strings.Join(got.OnlyA, ",") != filepath.Base(names[0]) || strings.Join(got.OnlyB, ",") != "extra.png" {
		t.Errorf("paired: %+v", got)
	}
	c := filepath.Join(dir, "c")
	copyFile(t, names[0], filepath.Join(c, "other.png"))
	if _, err := PairedDistances(context.Background(), lpips.NewEmbedder(m, ""), b, c, 0); err == nil {
		t.Error("folders without a shared name: no error")
	}
}
