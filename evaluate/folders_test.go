package evaluate

import (
	"context"
	"fmt"
	"github.com/munit-eval/munit-eval/warning"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/lpips"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/synth"
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

// TestFoldersEqualStore: the planted MUNIT's samples measured from its
// store and from plain folders holding the same files (grouped
// <stem>/<k>.png for LPIPS and IS/CIS, flat for FID/KID) give the same
// numbers: LPIPS to 1e-6 (embeddings recomputed without the store's
// cache), IS/CIS, FID and KID to 1e-12. Published-style statistics of the
// real folder, written to .npz and read back, give the same FID to 1e-9
// relative; the real folder against itself has precision, recall and
// coverage 1 and FID 0 (to 1e-9).
func TestFoldersEqualStore(t *testing.T) {
	dir, models := world(t)
	ctx := context.Background()
	p := DefaultProtocol()
	p.NumInputs, p.SamplesPerInput, p.Pairs, p.Bootstrap, p.Seed = 4, 6, 3, 100, 7
	p.KIDSubsets, p.KIDSubsetSize, p.FIDBootstrap, p.PRK, p.DCK = 5, 12, 0, 2, 3
	w := Metrics{LPIPS: true, IS: true, FID: true, KID: true, PRDC: true}
	s, err := OpenScorers(ModelFiles{LPIPS: models[synth.KeyLPIPS], Classifier: models[synth.KeyClassifier]}, w, model.Options{Threads: 1})
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
	job := Job{Method: "MUNIT", Protocol: pm, Metrics: w, Real: realFiles, RealName: "real", Quiet: true}
	j := job
	j.Samples, j.Cache = *smp, StoreRoot(smp.Store)
	want, err := Measure(ctx, s, j)
	if err != nil {
		t.Fatal(err)
	}
	st := smp.Store
	grouped, flat := filepath.Join(dir, "grouped"), filepath.Join(dir, "flat")
	for i := range st.NumInputs() {
		for k := range pm.SamplesPerInput {
			copyFile(t, st.SamplePath(i, k), filepath.Join(grouped, fmt.Sprintf("in%d", i), fmt.Sprintf("%d.png", k)))
			copyFile(t, st.SamplePath(i, k), filepath.Join(flat, fmt.Sprintf("%03d_%03d.png", i, k)))
		}
	}
	measure := func(dir string, grouped bool, w Metrics, edit func(*Job)) *results.Document {
		t.Helper()
		fs, err := OpenFolder(dir, grouped, pm, false)
		if err != nil {
			t.Fatal(err)
		}
		j := job
		j.Samples, j.Metrics = *fs, w
		if edit != nil {
			edit(&j)
		}
		doc, err := Measure(ctx, s, j)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	g := measure(grouped, true, Metrics{LPIPS: true, IS: true}, nil)
	if a, b := g.Metrics.LPIPSDiversity, want.Metrics.LPIPSDiversity; !closeTo(a.Mean, b.Mean, 1e-6) || a.N != b.N || !closeTo(a.CI95[0], b.CI95[0], 1e-6) {
		t.Errorf("grouped folder diversity %v (n %d), store %v (n %d)", a.Mean, a.N, b.Mean, b.N)
	}
	if !closeTo(*g.Metrics.CIS, *want.Metrics.CIS, 1e-12) || !closeTo(*g.Metrics.IS, *want.Metrics.IS, 1e-12) {
		t.Errorf("grouped folder IS/CIS %v/%v, store %v/%v", *g.Metrics.IS, *g.Metrics.CIS, *want.Metrics.IS, *want.Metrics.CIS)
	}
	f := measure(flat, false, Metrics{IS: true, FID: true, KID: true, PRDC: true}, nil)
	if !closeTo(f.Metrics.FID.Value, want.Metrics.FID.Value, 1e-12) || !closeTo(f.Metrics.KID.Mean, want.Metrics.KID.Mean, 1e-12) ||
		*f.Metrics.PRDC != *want.Metrics.PRDC {
		t.Errorf("flat folder FID %v KID %v PRDC %+v, store %v %v %+v", f.Metrics.FID.Value, f.Metrics.KID.Mean, *f.Metrics.PRDC,
			want.Metrics.FID.Value, want.Metrics.KID.Mean, *want.Metrics.PRDC)
	}
	if f.Metrics.IS != nil || f.Metrics.ISSplits == nil || !strings.Contains(strings.Join(warning.Details(f.Warnings), "\n"), "flat folder") {
		t.Errorf("flat folder IS: is %v, is_splits %v, warnings %q", f.Metrics.IS, f.Metrics.ISSplits, f.Warnings)
	}
	// LPIPS diversity on a flat folder is refused.
	fs, _ := OpenFolder(flat, false, pm, false)
	if _, err := Measure(ctx, s, Job{Protocol: pm, Metrics: Metrics{LPIPS: true}, Samples: *fs, Quiet: true}); err == nil {
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
	viaStats := measure(flat, false, Metrics{FID: true, KID: true}, func(j *Job) { j.Real, j.RealStats, j.RealStatsName = nil, back, "real.npz" })
	if v, u := viaStats.Metrics.FID.Value, want.Metrics.FID.Value; !closeTo(v, u, 1e-9*u) || viaStats.Protocol.RealStats != "real.npz" ||
		viaStats.Metrics.KID != nil || len(viaStats.Warnings) == 0 {
		t.Errorf("FID via statistics %v (want %v), real_stats %q, KID %v, warnings %q", v, u, viaStats.Protocol.RealStats, viaStats.Metrics.KID, viaStats.Warnings)
	}
	self := measure(realDir, false, Metrics{FID: true, PRDC: true}, nil)
	if pr := self.Metrics.PRDC; pr.Precision != 1 || pr.Recall != 1 || pr.Coverage != 1 || math.Abs(self.Metrics.FID.Value) > 1e-9 {
		t.Errorf("real vs itself: PRDC %+v, FID %v", *pr, self.Metrics.FID.Value)
	}
	// Clean resizing is recorded and changes what the network sees.
	clean := measure(flat, false, Metrics{FID: true}, func(j *Job) { j.Protocol.Resize = ResizeClean })
	if clean.Protocol.Resize != ResizeClean || clean.Metrics.FID.Value == f.Metrics.FID.Value || f.Protocol.Resize != "" {
		t.Errorf("clean: resize %q FID %v (legacy %v, resize %q)", clean.Protocol.Resize, clean.Metrics.FID.Value, f.Metrics.FID.Value, f.Protocol.Resize)
	}
}

// TestCutByDefault: a store read with a default num_inputs smaller than
// what it holds says so; asked explicitly, it does not.
func TestCutByDefault(t *testing.T) {
	dir, models := world(t)
	ctx := context.Background()
	p := DefaultProtocol()
	p.NumInputs, p.SamplesPerInput = 4, 1
	if _, err := Acquire(ctx, Source{Generator: models[synth.KeyCycleGAN], Inputs: filepath.Join(dir, "world", "testA"), Store: filepath.Join(dir, "store")},
		&p, 1, RunOptions{Threads: 1, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	p.NumInputs = 2
	for _, exact := range []bool{false, true} {
		pm := p
		smp, err := Acquire(ctx, Source{Samples: filepath.Join(dir, "store", "CycleGAN"), NoteCuts: !exact, ExactInputs: exact}, &pm, 1, RunOptions{Quiet: true})
		if err != nil {
			t.Fatal(err)
		}
		noted := strings.Contains(strings.Join(warning.Details(smp.Warnings), "\n"), "holds 4 inputs; 2 were used")
		if smp.NumInputs != 2 || noted == exact {
			t.Errorf("exact %v: %d inputs, warnings %q", exact, smp.NumInputs, smp.Warnings)
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
