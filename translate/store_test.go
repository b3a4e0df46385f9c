package translate

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestMethodDir(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"MUNIT", "MUNIT"},
		{"CycleGAN*", "CycleGAN_star"},
		{"UNIT+", "UNIT_plus"},
		{"Bicycle GAN/v2", "Bicycle_GAN_v2"},
		{"..", "_."},
		{".hidden", "_hidden"},
		{"é", "_"},
		{"a-b_c.d", "a-b_c.d"},
	} {
		got, err := MethodDir(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("MethodDir(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"A\nB", "A\x1b[2J", "A\u0085"} {
		if _, err := MethodDir(bad); err == nil || !strings.Contains(err.Error(), "control character") {
			t.Errorf("MethodDir(%q): %v, want a refusal of the control character", bad, err)
		}
	}
	if _, err := MethodDir(" "); err == nil {
		t.Error("MethodDir(\" \") gave no error")
	}
}

func validManifest() *Manifest {
	return &Manifest{
		Schema: ManifestSchema, Method: "M", LatentDim: 2, LatentSource: LatentsSeed, Select: SelectFirst, SamplesPerInput: 2,
		Inputs: []Input{{Index: 0, Stem: "a", File: "a.png", SHA256: strings.Repeat("0", 64)}, {Index: 1, Stem: "b", File: "b.png", SHA256: strings.Repeat("1", 64)}},
		Samples: []Sample{
			{Input: 0, K: 0, Latent: []float32{1, 2}, SHA256: strings.Repeat("2", 64)},
			{Input: 1, K: 1, Latent: []float32{1, 2}, SHA256: strings.Repeat("3", 64)},
		},
	}
}

func TestManifestValidate(t *testing.T) {
	if err := validManifest().validate(); err != nil {
		t.Fatalf("valid manifest: %v", err)
	}
	for _, tc := range []struct {
		name, want string
		edit       func(m *Manifest)
	}{
		{"schema", "schema", func(m *Manifest) { m.Schema = "x" }},
		{"no method", "no method", func(m *Manifest) { m.Method = "" }},
		{"K", "samples_per_input", func(m *Manifest) { m.SamplesPerInput = 0 }},
		{"index", "index", func(m *Manifest) { m.Inputs[1].Index = 5 }},
		{"dup stem", "share the stem", func(m *Manifest) { m.Inputs[1].Stem = "a" }},
		{"bad stem", "path separator", func(m *Manifest) { m.Inputs[1].Stem = "a/b" }},
		{"input sha", "malformed sha256", func(m *Manifest) { m.Inputs[0].SHA256 = "xyz" }},
		{"order", "out of order", func(m *Manifest) { m.Samples[0], m.Samples[1] = m.Samples[1], m.Samples[0] }},
		{"repeat", "out of order or repeated", func(m *Manifest) { m.Samples[1] = m.Samples[0] }},
		{"k range", "out of range", func(m *Manifest) { m.Samples[1].K = 2 }},
		{"latent", "latent of 1 values", func(m *Manifest) { m.Samples[1].Latent = []float32{1} }},
		{"source", "latent_source", func(m *Manifest) { m.LatentSource = "x" }},
		// Counts that would make a reader loop or allocate without bound.
		{"huge K", "more than the 10000000 samples", func(m *Manifest) { m.SamplesPerInput = 4_000_000_000_000 }},
		{"huge M x K", "more than the 10000000 samples", func(m *Manifest) { m.SamplesPerInput = 6_000_000 }},
		{"huge N", "2 <= N <= 100000", func(m *Manifest) { m.Shard = &Shard{Index: 0, Count: 4_000_000_000_000} }},
	} {
		m := validManifest()
		tc.edit(m)
		errContains(t, m.validate(), tc.want)
	}
}

func TestManifestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := validManifest()
	m.Samples[0].Latent = []float32{0.1, -3.4028235e38}
	if err := m.write(dir); err != nil {
		t.Fatal(err)
	}
	got, err := readManifest(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if got.Samples[0].Latent[0] != 0.1 || got.Samples[0].Latent[1] != -3.4028235e38 {
		t.Fatalf("latent %v did not round-trip", got.Samples[0].Latent)
	}
	os.WriteFile(filepath.Join(dir, ManifestName), []byte(`{"schema":"munit-eval/samples/v1","bogus":1}`), 0o644)
	if _, err := readManifest(filepath.Join(dir, ManifestName)); err == nil {
		t.Fatal("unknown field accepted")
	}
}

func TestOpenStoreErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := OpenStore(dir)
	errContains(t, err, "not a sample store")
	m := validManifest()
	m.write(dir)
	_, err = OpenStore(dir)
	errContains(t, err, "incomplete", "2 of 4")
}

func TestStoreVerifyAndMissing(t *testing.T) {
	in := writeInputs(t, 2, 4, 4, 40)
	cfg := fakeConfig(&fakeGen{latentDim: 1}, in, t.TempDir())
	cfg.Samples = 2
	s := mustRun(t, cfg)
	st, err := OpenStore(s.Store)
	if err != nil {
		t.Fatal(err)
	}
	if st.Method() != "Fake*" || st.InputPath(1) != filepath.Join(st.Manifest().InputDir, "in_01.png") {
		t.Fatalf("method %q input path %s", st.Method(), st.InputPath(1))
	}
	os.WriteFile(st.SamplePath(1, 0), []byte("changed"), 0o644)
	errContains(t, st.Verify(), "in_01", "0.png has sha256", "the manifest says")
	os.Remove(st.SamplePath(1, 1))
	_, err = OpenStore(s.Store)
	errContains(t, err, "sample 1 of input in_01.png is missing")
}

// TestRunRefusesLinks: a symbolic link planted as a store's lock file or as
// a sample folder is refused, naming it, and what it points to (outside the
// store) is untouched; the lock holder's text once truncated the link's
// target.
func TestRunRefusesLinks(t *testing.T) {
	in := writeInputs(t, 2, 8, 6, 1)
	outside := t.TempDir()
	precious := filepath.Join(outside, "precious")
	os.WriteFile(precious, []byte("keep"), 0o644)
	os.WriteFile(filepath.Join(outside, "0.png"), []byte("keep"), 0o644)
	for _, c := range []struct{ name, plant, to string }{
		{"lock", lockName, precious},
		{"sample folder", "", outside}, // the first input's stem
	} {
		out := t.TempDir()
		cfg := fakeConfig(&fakeGen{latentDim: 2}, in, out)
		cfg.Samples = 2
		dir := filepath.Join(out, "Fake_star")
		os.MkdirAll(dir, 0o755)
		plant := c.plant
		if plant == "" {
			ents, _ := os.ReadDir(in)
			plant = strings.TrimSuffix(ents[0].Name(), filepath.Ext(ents[0].Name()))
		}
		if err := os.Symlink(c.to, filepath.Join(dir, plant)); err != nil {
			t.Skip("no symbolic links here:", err)
		}
		_, err := Run(context.Background(), cfg)
		errContains(t, err, filepath.Join(dir, plant), "symbolic link")
	}
	if b, _ := os.ReadFile(precious); string(b) != "keep" {
		t.Fatalf("the lock's link target was written: %q", b)
	}
	ents, _ := os.ReadDir(outside)
	if b, _ := os.ReadFile(filepath.Join(outside, "0.png")); len(ents) != 2 || string(b) != "keep" {
		t.Fatalf("the sample folder's link target was written: %d entries, 0.png %q", len(ents), b)
	}
}

// TestMovedStore: a store copied elsewhere together with its inputs (a
// finished evaluation folder moved) keeps its run identity, so a check
// finds every sample and a rerun computes nothing (the absolute input
// path once made it a new run missing every sample); a store written
// before the relative paths were recorded still matches in place; and a
// check that misses a run of another identity says which fields differ.
func TestMovedStore(t *testing.T) {
	root := t.TempDir()
	in := writeInputs(t, 3, 8, 6, 1)
	if err := os.Rename(in, filepath.Join(root, "inputs")); err != nil {
		t.Fatal(err)
	}
	cfgAt := func(root string) Config {
		cfg := fakeConfig(&fakeGen{latentDim: 2}, filepath.Join(root, "inputs"), filepath.Join(root, "store"))
		cfg.Samples, cfg.Seed = 2, 42
		return cfg
	}
	first := mustRun(t, cfgAt(root))
	moved := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Rename(root, moved); err != nil {
		t.Fatal(err)
	}
	check := cfgAt(moved)
	check.CheckOnly = true
	s, err := Run(context.Background(), check)
	if err != nil || s.Store != filepath.Join(moved, "store", filepath.Base(first.Store)) || s.Reused != 6 {
		t.Fatalf("check of the moved store: %+v, %v", s, err)
	}
	if s := mustRun(t, cfgAt(moved)); s.Computed != 0 || s.Reused != 6 {
		t.Fatalf("rerun in the moved store: %+v", s)
	}
	st, err := OpenStore(s.Store)
	if err != nil || st.InputDir() != filepath.Join(moved, "inputs") {
		t.Fatalf("the moved store's inputs: %v, %v", st, err)
	}

	// A manifest without the relative paths (an older munit-eval's) still
	// matches where it is.
	mp := filepath.Join(s.Store, ManifestName)
	b, _ := os.ReadFile(mp)
	old := regexp.MustCompile(`\n *"input_dir_rel": "[^"]*",`).ReplaceAll(b, nil)
	if bytes.Equal(old, b) {
		t.Fatal("the manifest records no input_dir_rel")
	}
	os.WriteFile(mp, old, 0o644)
	if s := mustRun(t, cfgAt(moved)); s.Computed != 0 || s.Store != st.Dir() {
		t.Fatalf("an older manifest in place: %+v", s)
	}

	// Another seed: the message says the seed is what differs.
	other := cfgAt(moved)
	other.Seed, other.CheckOnly = 43, true
	_, err = Run(context.Background(), other)
	errContains(t, err, "holds a run of another identity", "seed: store 42, now 43")
}

// TestKeepDropped: in a store whose manifest records a keep mode, samples
// dropped after their values were computed are neither missing (OpenStore,
// Verify) nor regenerated by a rerun in that mode; a rerun keeping every
// sample regenerates them byte for byte; a store without the mode refuses
// to drop anything.
func TestKeepDropped(t *testing.T) {
	in := writeInputs(t, 2, 4, 4, 41)
	out := t.TempDir()
	cfg := fakeConfig(&fakeGen{latentDim: 1}, in, out)
	cfg.Samples, cfg.Keep = 2, KeepGrid
	s := mustRun(t, cfg)
	st, err := OpenStore(s.Store)
	if err != nil {
		t.Fatal(err)
	}
	if st.Keep() != KeepGrid {
		t.Fatalf("keep %q, want grid", st.Keep())
	}
	full := readTree(t, s.Store)
	n, err := st.DropSamples(func(i, k int) bool { return i == 0 && k == 0 }, func(int) bool { return true })
	if err != nil || n != 3 {
		t.Fatalf("dropped %d (%v), want 3", n, err)
	}
	st, err = OpenStore(s.Store)
	if err != nil {
		t.Fatal(err)
	}
	if st.Dropped(0, 0) || !st.Dropped(1, 1) || st.Verify() != nil {
		t.Fatalf("dropped (0,0) %v, (1,1) %v, verify %v", st.Dropped(0, 0), st.Dropped(1, 1), st.Verify())
	}
	errContains(t, st.DroppedError(1, 1), s.Store, `keeps samples "grid"`, "1.png was dropped", "rerun with --keep-samples all")
	again := mustRun(t, cfg)
	if again.Computed != 0 || again.Reused != 4 {
		t.Errorf("rerun in grid mode: computed %d, reused %d; want 0 and 4", again.Computed, again.Reused)
	}
	if _, err := os.Stat(st.SamplePath(1, 1)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a rerun in grid mode regenerated a dropped sample (%v)", err)
	}
	cfg.Keep = KeepAll
	restored := mustRun(t, cfg)
	if restored.Computed != 3 {
		t.Errorf("rerun keeping all: computed %d, want the 3 dropped", restored.Computed)
	}
	got := readTree(t, s.Store)
	for f, b := range full {
		if f != ManifestName && got[f] != b {
			t.Errorf("%s differs after restoring", f)
		}
	}
	st, err = OpenStore(s.Store)
	if err != nil || st.Keep() != KeepAll {
		t.Fatalf("restored store: keep %v (%v)", st, err)
	}
	if _, err := st.DropSamples(func(int, int) bool { return false }, func(int) bool { return true }); err == nil {
		t.Error("a store keeping every sample dropped samples")
	}
}
