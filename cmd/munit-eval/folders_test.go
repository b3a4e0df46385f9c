package main

import (
	"encoding/json"
	"fmt"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/warning"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/synth"
	"github.com/munit-eval/munit-eval/translate"
)

// TestPlainFolders: the metric commands on plain folders give the numbers
// they give on the store holding the same files (FID and KID exactly,
// LPIPS diversity to 1e-6), fid-stats and --real-stats give the FID of the
// real folder to 1e-9 relative, prdc of a folder against itself is 1, is on
// a flat folder reports the split IS with a warning, and distance pairs two
// folders by name.
func TestPlainFolders(t *testing.T) {
	dir, models := tinyWorld(t)
	inputs, real := filepath.Join(dir, "world", "testA"), filepath.Join(dir, "world", "testB")
	store := filepath.Join(dir, "store")
	if r := cli(t, "-q", "translate", "--generator", models[synth.KeyMUNITContent], "--decoder", models[synth.KeyMUNITDecoder],
		"--inputs", inputs, "--out", store, "--samples", "4", "--method", "MUNIT", "--seed", "5"); r.code != 0 {
		t.Fatalf("translate: %s", r.stderr)
	}
	st, err := translate.OpenStore(filepath.Join(store, "MUNIT"))
	if err != nil {
		t.Fatal(err)
	}
	flat, grouped := filepath.Join(dir, "flat"), filepath.Join(dir, "grouped")
	for i := range st.NumInputs() {
		for k := range 4 {
			b, err := os.ReadFile(st.SamplePath(i, k))
			if err != nil {
				t.Fatal(err)
			}
			os.MkdirAll(flat, 0o755)
			os.WriteFile(filepath.Join(flat, fmt.Sprintf("%02d_%02d.png", i, k)), b, 0o644)
			os.MkdirAll(filepath.Join(grouped, fmt.Sprintf("in%d", i)), 0o755)
			os.WriteFile(filepath.Join(grouped, fmt.Sprintf("in%d", i), fmt.Sprintf("%d.png", k)), b, 0o644)
		}
	}
	cls := models[synth.KeyClassifier]
	// The store's seed is 5: the folders get it explicitly, so that KID
	// draws the same subsets.
	cache := filepath.Join(dir, "cache")
	kid := []string{"--kid-subsets", "5", "--kid-subset-size", "20", "--fid-bootstrap", "0", "--store", cache, "--seed", "5"}

	var fromStore, fromFolders, viaSamples results.Document
	okJSON(t, &fromStore, append([]string{"fid", "--classifier", cls, "--samples", filepath.Join(store, "MUNIT"), "--real", real, "--json"}, kid...)...)
	okJSON(t, &fromFolders, append([]string{"fid", "--classifier", cls, flat, real, "--json"}, kid...)...)
	okJSON(t, &viaSamples, append([]string{"kid", "--classifier", cls, "--samples", flat, "--real", real, "--json"}, kid...)...)
	for _, d := range []results.Document{fromFolders, viaSamples} {
		if d.Metrics.FID.Value != fromStore.Metrics.FID.Value || d.Metrics.KID.Mean != fromStore.Metrics.KID.Mean || d.Metrics.FID.NumSamples != 24 {
			t.Errorf("folder FID %v KID %v (%d samples), store FID %v KID %v", d.Metrics.FID.Value, d.Metrics.KID.Mean, d.Metrics.FID.NumSamples,
				fromStore.Metrics.FID.Value, fromStore.Metrics.KID.Mean)
		}
	}
	var fromGrouped, isGrouped results.Document
	okJSON(t, &fromGrouped, append([]string{"fid", "--classifier", cls, grouped, real, "--json"}, kid...)...)
	if fromGrouped.Metrics.FID.Value != fromFolders.Metrics.FID.Value || fromGrouped.Metrics.KID.Mean != fromFolders.Metrics.KID.Mean {
		t.Errorf("grouped folder FID %v KID %v, flat %v %v", fromGrouped.Metrics.FID.Value, fromGrouped.Metrics.KID.Mean,
			fromFolders.Metrics.FID.Value, fromFolders.Metrics.KID.Mean)
	}
	okJSON(t, &isGrouped, "cis", "--classifier", cls, "--samples", grouped, "--json", "--no-cache", "--bootstrap", "50")
	if isGrouped.Metrics.CIS == nil || isGrouped.Protocol.SamplesPerInput != 4 || isGrouped.Protocol.NumInputs != 6 {
		t.Errorf("cis on a grouped folder: CIS %v, protocol %+v", isGrouped.Metrics.CIS, isGrouped.Protocol)
	}
	if fromFolders.Method != "flat" || fromFolders.Protocol.Samples != flat {
		t.Errorf("folder document: method %q samples %q", fromFolders.Method, fromFolders.Protocol.Samples)
	}

	// Statistics from the same cached features: the FID through the .npz
	// equals the FID on features to 1e-6 relative. (24 samples in 32
	// dimensions: the samples' covariance is singular, and FID on features
	// then works in sample space while FID against moments works with the
	// D×D covariance; the two differ by the rounding of the zero
	// eigenvalues, about 1e-7 here. metrics' tests check 1e-9 where the
	// covariances are regular.)
	npz := filepath.Join(dir, "real.npz")
	if r := cli(t, "-q", "fid-stats", real, "--classifier", cls, "--out", npz, "--store", cache); r.code != 0 || !strings.Contains(r.stdout, "of 30 images") {
		t.Fatalf("fid-stats: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	var stats results.Document
	okJSON(t, &stats, "fid", "--classifier", cls, flat, "--real-stats", npz, "--json", "--store", cache)
	if v, w := stats.Metrics.FID.Value, fromStore.Metrics.FID.Value; math.Abs(v-w) > 1e-6*w || stats.Metrics.FID.FeatureDim != 32 || stats.Protocol.RealStats != npz || stats.Metrics.KID != nil {
		t.Errorf("--real-stats: FID %v (want %v), real_stats %q, KID %v", v, w, stats.Protocol.RealStats, stats.Metrics.KID)
	}
	// The statistics record their resize and features model: used with
	// another resize they are refused (they were used silently).
	wantBadInput(t, cli(t, "-q", "fid", "--classifier", cls, flat, "--real-stats", npz, "--resize", "clean", "--store", cache),
		npz, "made with --resize legacy", "with clean")

	var self results.Document
	okJSON(t, &self, "prdc", "--classifier", cls, real, real, "--json", "--no-cache")
	if p := self.Metrics.PRDC; p == nil || p.Precision != 1 || p.Recall != 1 || p.Coverage != 1 || self.Metrics.FID != nil {
		t.Errorf("prdc of a folder against itself: %+v", p)
	}
	// CMMD through the registry: of a folder against itself exactly 0 (the
	// biased estimator's three means cancel); of two folders positive,
	// inside its interval.
	var cm, cself results.Document
	okJSON(t, &cself, "cmmd", "--features", cls, real, real, "--json", "--no-cache")
	okJSON(t, &cm, "cmmd", "--features", cls, flat, real, "--json", "--no-cache")
	var c0, c1 registry.CMMD
	if ok, err := cself.Metrics.GetExtra("cmmd", &c0); !ok || err != nil || math.Abs(c0.Value) > 1e-9 {
		t.Errorf("cmmd of a folder against itself: %+v (%v, %v)", c0, ok, err)
	}
	if ok, err := cm.Metrics.GetExtra("cmmd", &c1); !ok || err != nil || c1.Value <= 0 || c1.CI95 == nil || c1.CI95[0] > c1.Value || c1.Value > c1.CI95[1] || cm.Metrics.FID != nil {
		t.Errorf("cmmd of two folders: %+v (%v, %v)", c1, ok, err)
	}
	// FD is FID's computation under its own key, naming its space: with
	// FID's model it is FID, from the folders and from fid-stats' .npz; a
	// model of its own (metric_features; here a copy of the classifier) is
	// named in the document beside the shared one.
	var fdDoc, fdStats, both results.Document
	okJSON(t, &fdDoc, "fd", "--classifier", cls, flat, real, "--json", "--store", cache, "--fid-interval", "on")
	okJSON(t, &fdStats, "fd", "--classifier", cls, flat, "--real-stats", npz, "--json", "--store", cache)
	other := filepath.Join(dir, "other_features.onnx")
	if b, err := os.ReadFile(cls); err != nil || os.WriteFile(other, b, 0o644) != nil {
		t.Fatal(err)
	}
	okJSON(t, &both, "fid", "--classifier", cls, flat, real, "--metrics", "fid,fd", "--metric-features", "fd="+other, "--json", "--store", cache, "--fid-interval", "off")
	var fd0, fd1, fd2 registry.FD
	fdDoc.Metrics.GetExtra("fd", &fd0)
	fdStats.Metrics.GetExtra("fd", &fd1)
	both.Metrics.GetExtra("fd", &fd2)
	if w := fromFolders.Metrics.FID.Value; math.Abs(fd0.Value-w) > 1e-12*w || math.Abs(fd1.Value-w) > 1e-6*w || math.Abs(fd2.Value-w) > 1e-12*w ||
		fd0.CI95 == nil || fd0.Model != strings.TrimSuffix(filepath.Base(cls), ".onnx") || fd2.Model != "other_features" || fdDoc.Metrics.FID != nil {
		t.Errorf("fd %+v, from stats %+v, own model %+v; FID %v", fd0, fd1, fd2, w)
	}
	if both.Models["features.fd"].File != "other_features.onnx" || both.Metrics.FID == nil {
		t.Errorf("fid and fd with two models: models %+v", both.Models)
	}
	// Embeddings files are scored as given; dimensions that differ are one
	// line naming both files.
	x, y, y5 := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy"), filepath.Join(dir, "y5.npy")
	for _, f := range []struct {
		path string
		n, d int
	}{{x, 30, 4}, {y, 20, 4}, {y5, 20, 5}} {
		a := &images.Array{Shape: []int{f.n, f.d}}
		for i := range f.n * f.d {
			a.Data = append(a.Data, float32(math.Sin(float64(i*len(f.path)))))
		}
		if err := images.WriteNPY(f.path, a); err != nil {
			t.Fatal(err)
		}
	}
	var emb results.Document
	okJSON(t, &emb, "cmmd", "--features", x, "--real-features", y, "--json")
	var ce registry.CMMD
	if ok, err := emb.Metrics.GetExtra("cmmd", &ce); !ok || err != nil || ce.NumSamples != 30 || ce.NumReal != 20 || ce.FeatureDim != 4 || ce.Value <= 0 {
		t.Errorf("cmmd of embeddings: %+v (%v)", ce, err)
	}
	if r := cli(t, "-q", "fd", "--features", x, "--real-features", y); r.code != 0 || !strings.Contains(r.stdout, "FD") {
		t.Errorf("fd of embeddings: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	wantBadInput(t, cli(t, "-q", "cmmd", "--features", x, "--real-features", y5), "x.npy", "4-dimensional", "y5.npy", "5-dimensional")
	wantBadInput(t, cli(t, "-q", "cmmd", "--features", x, "--real-features", y, flat), "--features X.npy --real-features Y.npy alone")
	wantBadInput(t, cli(t, "-q", "fd", "--features", x), "--features X.npy --real-features Y.npy alone")
	r := cli(t, "-q", "fid", "--classifier", cls, flat, real, "--prdc", "--resize", "clean", "--no-cache", "--kid-subset-size", "20")
	if r.code != 0 || !strings.Contains(r.stdout, "precision (k=3)") || !strings.Contains(r.stdout, "coverage (k=5)") {
		t.Errorf("fid --prdc table: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	var is results.Document
	okJSON(t, &is, "is", "--classifier", cls, flat, "--json", "--no-cache", "--splits", "4")
	if is.Metrics.IS != nil || is.Metrics.ISSplits == nil || is.Metrics.ISSplits.Splits != 4 || !strings.Contains(strings.Join(warning.Details(is.Warnings), " "), "flat folder") {
		t.Errorf("is on a flat folder: IS %v splits %+v warnings %q", is.Metrics.IS, is.Metrics.ISSplits, is.Warnings)
	}
	if r := cli(t, "-q", "is", "--classifier", cls, flat, "--no-cache"); r.code != 0 || !strings.Contains(r.stdout, "IS (10 splits)") {
		t.Errorf("is table on a flat folder: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	var divStore, divFolder []*results.Document
	lp := []string{"--lpips", models[synth.KeyLPIPS], "--pairing", "all", "--samples-per-input", "4", "--json", "--no-cache", "--bootstrap", "100"}
	okJSON(t, &divStore, append([]string{"lpips", "--samples", filepath.Join(store, "MUNIT")}, lp...)...)
	okJSON(t, &divFolder, append([]string{"lpips", grouped}, lp...)...)
	if a, b := divFolder[0].Metrics.LPIPSDiversity, divStore[0].Metrics.LPIPSDiversity; math.Abs(a.Mean-b.Mean) > 1e-6 || a.N != b.N || a.N != 6*6 {
		t.Errorf("lpips on the grouped folder %v (%d pairs), store %v (%d pairs)", a.Mean, a.N, b.Mean, b.N)
	}

	r = cli(t, "-q", "distance", "--lpips", models[synth.KeyLPIPS], "--json", flat, flat)
	var paired evaluate.Paired
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &paired) != nil || len(paired.Pairs) != 24 || paired.Mean != 0 {
		t.Errorf("distance on two folders: exit %d, %+v\n%s", r.code, paired, r.stderr)
	}
	wantBadInput(t, cli(t, "distance", "--lpips", models[synth.KeyLPIPS], flat, st.SamplePath(0, 0)), "two images or two folders")
	wantBadInput(t, cli(t, "fid", "--classifier", cls, flat, real, "--real", real), "the second argument")
	wantBadInput(t, cli(t, "lpips", "--lpips", models[synth.KeyLPIPS], flat, "--no-cache"), "needs samples grouped by input (<stem>/<k>.png")
}

// TestUserStore: a metric command without --store keeps its caches in the
// per-user store $XDG_CACHE_HOME/munit-eval, never ./store in the folder it
// runs in, and says so once: when it makes the store.
func TestUserStore(t *testing.T) {
	dir, models := tinyWorld(t)
	cache, work := filepath.Join(dir, "xdg"), filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CACHE_HOME", cache)
	real := filepath.Join(dir, "world", "testB")
	notice := "made the per-user store " + filepath.Join(cache, "munit-eval")
	for i := range 2 {
		r := cliIn(t, work, "-q", "--ort-lib", model.LibraryPath(), "fid-stats", real, "--classifier", models[synth.KeyClassifier], "--out", filepath.Join(dir, "s.npz"))
		if r.code != 0 {
			t.Fatalf("fid-stats: %s", r.stderr)
		}
		if got := strings.Count(r.stderr, notice); got != 1-i {
			t.Errorf("run %d: the notice %d times, want %d:\n%s", i+1, got, 1-i, r.stderr)
		}
		r = cliIn(t, work, "-q", "--ort-lib", model.LibraryPath(), "is", real, "--classifier", models[synth.KeyClassifier], "--bootstrap", "20")
		if r.code != 0 || strings.Contains(r.stderr, "store") {
			t.Errorf("is after fid-stats: exit %d, stderr:\n%s", r.code, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(cache, "munit-eval", ".cache")); err != nil {
		t.Errorf("no caches in the per-user store: %v", err)
	}
	if entries, _ := os.ReadDir(work); len(entries) > 0 {
		t.Errorf("the command wrote into the folder it ran in: %v", entries)
	}
}
