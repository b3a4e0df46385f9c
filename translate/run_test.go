package translate

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/images"
)

// TestRunBatchInvariance runs the same work with batch sizes 1, 3 and 8 and
// 1 to 3 generator runs at once, in one go or grown in steps (K 2 then 5,
// M 3 then 5), and checks that every store holds the same bytes: the latent
// of (seed, i, k) does not depend on how the work is cut.
func TestRunBatchInvariance(t *testing.T) {
	in := writeInputs(t, 5, 8, 6, 1)
	ref := t.TempDir()
	cfg := fakeConfig(&fakeGen{latentDim: 3}, in, ref)
	cfg.Samples, cfg.Seed, cfg.Batch = 5, 42, 1
	s := mustRun(t, cfg)
	if s.Computed != 25 || s.Reused != 0 || s.Inputs != 5 || s.SamplesPerInput != 5 || s.Method != "Fake*" {
		t.Fatalf("summary %+v", s)
	}
	if filepath.Base(s.Store) != "Fake_star" {
		t.Fatalf("store %s, want .../Fake_star", s.Store)
	}
	for _, b := range []int{3, 8} {
		for _, streams := range []int{1, 2, 3} {
			out := t.TempDir()
			cfg := fakeConfig(&fakeGen{latentDim: 3}, in, out)
			cfg.Samples, cfg.Seed, cfg.Batch, cfg.Streams = 5, 42, b, streams
			mustRun(t, cfg)
			sameTree(t, ref, out)
		}
	}
	// Grown in steps: more samples per input, then more inputs.
	out := t.TempDir()
	g := &fakeGen{latentDim: 3}
	cfg = fakeConfig(g, in, out)
	cfg.Samples, cfg.Seed, cfg.Batch, cfg.NumInputs = 2, 42, 4, 3
	mustRun(t, cfg)
	cfg.Samples = 5
	if s := mustRun(t, cfg); s.Reused != 6 || s.Computed != 9 {
		t.Fatalf("K 2 -> 5: %+v, want 6 reused, 9 computed", s)
	}
	cfg.NumInputs = 0
	if s := mustRun(t, cfg); s.Reused != 15 || s.Computed != 10 {
		t.Fatalf("M 3 -> 5: %+v, want 15 reused, 10 computed", s)
	}
	sameTree(t, ref, out)
	// A rerun computes nothing.
	if s := mustRun(t, cfg); s.Reused != 25 || s.Computed != 0 {
		t.Fatalf("rerun: %+v", s)
	}
	// The manifest records the codes of Latent.
	st, err := OpenStore(s.Store)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Verify(); err != nil {
		t.Fatal(err)
	}
	for _, smp := range st.Manifest().Samples {
		if !slices.Equal(smp.Latent, Latent(42, smp.Input, smp.K, 3)) {
			t.Fatalf("sample %d/%d latent %v, want Latent(42, ...)", smp.Input, smp.K, smp.Latent)
		}
	}
	if st.NumInputs() != 5 || st.SamplesPerInput() != 5 || st.SamplePath(2, 4) != filepath.Join(s.Store, "in_02", "4.png") {
		t.Fatalf("store M %d K %d path %s", st.NumInputs(), st.SamplesPerInput(), st.SamplePath(2, 4))
	}
	if got := st.CachePath("lpips", "m", "i"); got != filepath.Join(filepath.Dir(s.Store), ".cache", "lpips", "m", "i.npy") {
		t.Fatalf("cache path %s", got)
	}
	// Asking fewer inputs or samples keeps the store as it is.
	cfg.Samples, cfg.NumInputs = 2, 2
	if s := mustRun(t, cfg); s.Reused != 25 || s.Computed != 0 || s.Inputs != 5 || s.SamplesPerInput != 5 {
		t.Fatalf("M 5 -> 2, K 5 -> 2: %+v, want the 5 x 5 store kept", s)
	}
	sameTree(t, ref, out)
	// Growing one side while asking less of the other fills the rectangle.
	cfg.Samples, cfg.NumInputs = 6, 2
	if s := mustRun(t, cfg); s.Reused != 25 || s.Computed != 5 || s.SamplesPerInput != 6 || s.Inputs != 5 {
		t.Fatalf("K 5 -> 6 with M 2: %+v, want 5 x 6", s)
	}
}

// TestRunOutputValues checks a sample's pixels against the fake generator's
// formula computed here independently from the input file and the latent.
func TestRunOutputValues(t *testing.T) {
	in := writeInputs(t, 2, 4, 3, 2)
	out := t.TempDir()
	cfg := fakeConfig(&fakeGen{latentDim: 2}, in, out)
	cfg.Samples, cfg.Seed = 2, 9
	s := mustRun(t, cfg)
	src, err := images.Load(filepath.Join(in, "in_01.png"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := images.Load(filepath.Join(s.Store, "in_01", "1.png"))
	if err != nil {
		t.Fatal(err)
	}
	z := Latent(9, 1, 1, 2)
	for p := 0; p < 4*3; p++ {
		for c := 0; c < 3; c++ {
			x := float64(float32(src.Pix[3*p+c])/127.5 - 1)
			l := float64(z[0])*float64(c+1) + float64(z[1])*float64(c+1)/2
			v := float64(float32(math.Tanh(1.3*x + l)))
			want := uint8(math.Round(min(max((v+1)*127.5, 0), 255)))
			if got.Pix[3*p+c] != want {
				t.Fatalf("pixel %d channel %d = %d, want %d", p, c, got.Pix[3*p+c], want)
			}
		}
	}
}

func TestRunResumeAfterCrash(t *testing.T) {
	in := writeInputs(t, 4, 8, 8, 3)
	ref := t.TempDir()
	cfg := fakeConfig(&fakeGen{latentDim: 4}, in, ref)
	cfg.Samples, cfg.Seed = 3, 1
	mustRun(t, cfg)

	// A partial store: a stale manifest (only the first 4 samples), a
	// sample written after the manifest, one deleted, one truncated, one
	// overwritten with other bytes, and temporary files of unfinished writes.
	out := t.TempDir()
	cfg.Out = out
	mustRun(t, cfg)
	dir := filepath.Join(out, "Fake_star")
	m, err := readManifest(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	m.Samples = m.Samples[:4]
	if err := m.write(dir); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "in_00", "1.png"))
	os.Truncate(filepath.Join(dir, "in_00", "2.png"), 10)
	os.WriteFile(filepath.Join(dir, "in_00", "0.png"), []byte("junk"), 0o644)
	os.WriteFile(filepath.Join(dir, "in_01", ".2.png.tmp-123"), []byte("torn"), 0o644)
	os.WriteFile(filepath.Join(dir, ".manifest.json.tmp-9"), []byte("torn"), 0o644)
	os.Remove(filepath.Join(dir, "in_03", "2.png"))
	s := mustRun(t, cfg)
	// Manifest entries 0..3 are input 0 k 0..2 and input 1 k 0: input 0's
	// three are damaged, so only (1, 0) is reused.
	if s.Reused != 1 || s.Computed != 11 {
		t.Fatalf("resume: %+v, want 1 reused, 11 computed", s)
	}
	sameTree(t, ref, out)
}

// TestRunSideBySide checks that a run of another seed, model, method
// name, form, input folder, resize, latent size or selection goes to its
// own keyed folder STORE/<method>@<key> beside the first run, which is left
// byte for byte as it was; a rerun finds its folder again and reuses every
// sample. Within one run folder, inputs whose content changed are still
// refused, naming the difference.
func TestRunSideBySide(t *testing.T) {
	in := writeInputs(t, 3, 8, 8, 4)
	in2 := writeInputs(t, 3, 8, 8, 5)
	out := t.TempDir()
	base := func() Config {
		c := fakeConfig(&fakeGen{latentDim: 2}, in, out)
		c.Samples = 2
		return c
	}
	first := mustRun(t, base())
	plain := readTree(t, first.Store)
	for _, tc := range []struct {
		name string
		edit func(c *Config)
	}{
		{"seed", func(c *Config) { c.Seed = 1 }},
		{"model", func(c *Config) { c.gen = &fakeGen{latentDim: 2, sha: strings.Repeat("ef", 32)} }},
		{"method name", func(c *Config) { c.Method = "Fake_star" }},
		{"two-stage", func(c *Config) { c.gen = &fakeGen{latentDim: 2, twoStage: true} }},
		{"inputs", func(c *Config) { c.Inputs = in2 }},
		{"size", func(c *Config) { c.Size = 4 }},
		{"latent size", func(c *Config) { c.gen = &fakeGen{latentDim: 3} }},
		{"graph rewrites that round differently", func(c *Config) { c.gen = &fakeGen{latentDim: 2, rewrites: 2, nudge: true} }},
		{"random subset", func(c *Config) { c.Select, c.NumInputs = SelectRandom, 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(&c)
			s := mustRun(t, c)
			st, err := OpenStore(s.Store)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(out, "Fake_star"+RunKeySep+RunKey(st.Manifest())); s.Store != want || s.Reused != 0 {
				t.Fatalf("store %s (reused %d), want a new run in %s", s.Store, s.Reused, want)
			}
			if got := readTree(t, first.Store); !maps.Equal(got, plain) {
				t.Fatal("the first run's folder changed")
			}
			s2 := mustRun(t, c)
			if s2.Store != s.Store || s2.Computed != 0 {
				t.Fatalf("rerun: %+v, want every sample reused from %s", s2, s.Store)
			}
		})
	}
	// Graph rewrites that give byte-identical samples join the store
	// (after regenerating three of them) and reuse every sample; a run
	// whose identity matches a keyed folder exactly still goes there.
	c := base()
	c.gen = &fakeGen{latentDim: 2, rewrites: 5}
	s := mustRun(t, c)
	if s.Store != first.Store || s.Computed != 0 || s.Reused != 6 || !strings.Contains(s.Note, "3 of them regenerated byte for byte") {
		t.Fatalf("rewrites with identical samples: %+v, want every sample reused from %s", s, first.Store)
	}
	if got := readTree(t, first.Store); !maps.Equal(got, plain) {
		t.Fatal("joining with other rewrites changed the store")
	}
	c.gen = &fakeGen{latentDim: 2, rewrites: 2, nudge: true}
	s = mustRun(t, c) // found again: the keyed run of the nudged case above
	if s.Computed != 0 || !strings.Contains(s.Store, RunKeySep) {
		t.Fatalf("nudged rerun: %+v", s)
	}
	c = base()
	c.gen = &fakeGen{latentDim: 2, rewrites: 3, nudge: true}
	s = mustRun(t, c)
	if !strings.Contains(s.Store, RunKeySep) || s.Computed != 6 || !strings.Contains(s.Note, "sample 0 of in_00.png regenerated differently") {
		t.Fatalf("rewrites with other samples: %+v", s)
	}

	// The same run identity with other input bytes is refused.
	changed := writeInputs(t, 3, 8, 8, 4)
	b, _ := os.ReadFile(filepath.Join(in2, "in_00.png"))
	os.WriteFile(filepath.Join(changed, "in_00.png"), b, 0o644)
	c = base()
	c.Inputs = changed
	mustRun(t, c) // another input folder: a keyed run
	os.WriteFile(filepath.Join(changed, "in_00.png"), []byte(plain[filepath.Join("in_01", "0.png")]), 0o644)
	_, err := Run(context.Background(), c)
	errContains(t, err, "refusing to mix", "input 0: store in_00.png", "--force")
	// A random subset of another size under the same seed is refused too.
	c = base()
	c.Select, c.NumInputs = SelectRandom, 3
	_, err = Run(context.Background(), c)
	errContains(t, err, "refusing to mix", "inputs: store has 2 chosen by --select random, now 3 by --select random")

	// --force discards the refused folder's samples (and nothing else).
	c = base()
	c.Inputs, c.Force = changed, true
	s = mustRun(t, c)
	if s.Computed != 6 || s.Reused != 0 || !strings.Contains(s.Store, RunKeySep) {
		t.Fatalf("--force: %+v", s)
	}
	if got := readTree(t, first.Store); !maps.Equal(got, plain) {
		t.Fatal("--force on another run's folder changed the first run's")
	}
	c = base()
	c.Select, c.NumInputs, c.Force = SelectRandom, 1, true
	s = mustRun(t, c)
	if s.Computed != 2 || s.Reused != 0 {
		t.Fatalf("--force on a random subset: %+v", s)
	}
	if ents := visibleEntries(s.Store); len(ents) != 2 {
		t.Fatalf("old input folders kept after --force: %v", ents)
	}
	// A folder that is not a store.
	junk := t.TempDir()
	os.MkdirAll(filepath.Join(junk, "Fake_star"), 0o755)
	os.WriteFile(filepath.Join(junk, "Fake_star", "mine.txt"), nil, 0o644)
	c = base()
	c.Out = junk
	_, err = Run(context.Background(), c)
	errContains(t, err, "not a sample store", "mine.txt")
}

func TestRunCancel(t *testing.T) {
	in := writeInputs(t, 4, 8, 8, 6)
	ref := t.TempDir()
	cfg := fakeConfig(&fakeGen{latentDim: 2}, in, ref)
	cfg.Samples, cfg.Batch = 4, 3
	mustRun(t, cfg)

	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	g := &fakeGen{latentDim: 2}
	cfg = fakeConfig(g, in, out)
	// One stream: the test counts the batches in flight at the cancel.
	cfg.Samples, cfg.Batch, cfg.Streams = 4, 3, 1
	calls := 0
	cfg.observe = func(input, k int, chw []float32, h, w int) {
		calls++
		if calls == 4 { // during the second batch
			cancel()
		}
	}
	s, err := Run(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	errContains(t, err, "interrupted with 6 of 16 samples")
	// The batch in flight was finished and recorded.
	if s.Computed != 6 || g.runs != 2 {
		t.Fatalf("computed %d in %d runs, want 6 in 2", s.Computed, g.runs)
	}
	m, err := readManifest(filepath.Join(out, "Fake_star", ManifestName))
	if err != nil || len(m.Samples) != 6 {
		t.Fatalf("manifest after cancel: %v samples, err %v", len(m.Samples), err)
	}
	if _, err := OpenStore(filepath.Join(out, "Fake_star")); err == nil {
		t.Fatal("OpenStore accepted an incomplete store")
	}
	cfg.observe = nil
	if s := mustRun(t, cfg); s.Reused != 6 || s.Computed != 10 {
		t.Fatalf("resume: %+v", s)
	}
	sameTree(t, ref, out)
}

func TestRunBadOutput(t *testing.T) {
	in := writeInputs(t, 3, 4, 4, 7)
	// Poison in_01: its first red value is 200, x = 200/127.5 - 1.
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for p := range img.Pix {
		img.Pix[p] = 255
	}
	img.Set(0, 0, color.RGBA{200, 0, 0, 255})
	writePNGFile(t, filepath.Join(in, "in_01.png"), img)
	poison := float32(200)/127.5 - 1

	out := t.TempDir()
	cfg := fakeConfig(&fakeGen{latentDim: 2, nanIf: &poison}, in, out)
	// One stream: which samples precede the failure is then fixed.
	cfg.Samples, cfg.Batch, cfg.Streams = 2, 1, 1
	_, err := Run(context.Background(), cfg)
	errContains(t, err, "in_01.png, sample 0 is NaN")
	// Samples before the failure are kept and recorded.
	m, _ := readManifest(filepath.Join(out, "Fake_star", ManifestName))
	if len(m.Samples) != 2 {
		t.Fatalf("manifest holds %d samples after the failure, want 2 (input 0)", len(m.Samples))
	}

	cfg = fakeConfig(&fakeGen{latentDim: 2, badShape: true}, in, t.TempDir())
	cfg.Batch = 8
	_, err = Run(context.Background(), cfg)
	errContains(t, err, "has shape [8 1 4 4]", "want [8,3,H,W]")
}

func TestRunDeterministic(t *testing.T) {
	in := writeInputs(t, 3, 4, 4, 8)
	cfg := fakeConfig(&fakeGen{}, in, t.TempDir())
	cfg.Samples = 3
	_, err := Run(context.Background(), cfg)
	errContains(t, err, "deterministic", "--repeat")

	g := &fakeGen{}
	cfg = fakeConfig(g, in, t.TempDir())
	s := mustRun(t, cfg)
	if s.SamplesPerInput != 1 || s.Computed != 3 {
		t.Fatalf("deterministic default: %+v", s)
	}
	g = &fakeGen{}
	cfg = fakeConfig(g, in, t.TempDir())
	cfg.Samples, cfg.Repeat, cfg.Batch = 4, true, 2
	s = mustRun(t, cfg)
	if s.Computed != 12 || g.condRows != 3 {
		t.Fatalf("repeat: %+v, %d network rows, want 12 samples from 3 rows", s, g.condRows)
	}
	st, err := OpenStore(s.Store)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		for k := 1; k < 4; k++ {
			if st.SampleSHA256(i, k) != st.SampleSHA256(i, 0) {
				t.Fatalf("input %d sample %d differs from sample 0", i, k)
			}
		}
	}
	if !st.Manifest().Repeat || st.Manifest().LatentSource != LatentsNone {
		t.Fatalf("manifest repeat %v latents %s", st.Manifest().Repeat, st.Manifest().LatentSource)
	}
	// A later run asking one sample keeps the copies.
	cfg.Samples, cfg.Repeat = 1, false
	if s := mustRun(t, cfg); s.SamplesPerInput != 4 || s.Reused != 12 {
		t.Fatalf("K 4 -> 1: %+v, want the 4 copies kept", s)
	}
	cfg = fakeConfig(&fakeGen{}, in, t.TempDir())
	cfg.Latents = "x.npy"
	_, err = Run(context.Background(), cfg)
	errContains(t, err, "deterministic")
}

// TestRunTwoStage checks that the content of each input is computed once
// for all its samples even when they span batches, and that the samples
// equal those of a single graph computing the same function.
func TestRunTwoStage(t *testing.T) {
	in := writeInputs(t, 3, 4, 4, 9)
	g := &fakeGen{latentDim: 2, twoStage: true}
	cfg := fakeConfig(g, in, t.TempDir())
	cfg.Samples, cfg.Batch, cfg.Streams = 5, 4, 1 // one stream: batches in order
	s := mustRun(t, cfg)
	if g.condRows != 3 || s.Computed != 15 {
		t.Fatalf("two-stage: content computed for %d rows, want 3 (%+v)", g.condRows, s)
	}
	if !slices.Equal(g.batchSeen, []int{4, 4, 4, 3}) {
		t.Fatalf("decoder batches %v, want [4 4 4 3]", g.batchSeen)
	}
	st, _ := OpenStore(s.Store)
	if _, ok := st.Manifest().Models[ModelDecoder]; !ok {
		t.Fatal("manifest lacks the decoder")
	}
}

func TestRunLatentsFile(t *testing.T) {
	in := writeInputs(t, 2, 4, 4, 10)
	dir := t.TempDir()
	write := func(name string, shape []int, data []float32) string {
		p := filepath.Join(dir, name)
		if err := images.WriteNPY(p, &images.Array{Shape: shape, Data: data}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	codes := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	good := write("good.npy", []int{2, 3, 2}, codes)
	out := t.TempDir()
	cfg := fakeConfig(&fakeGen{latentDim: 2}, in, out)
	cfg.Latents = good
	s := mustRun(t, cfg)
	if s.SamplesPerInput != 3 {
		t.Fatalf("K %d, want 3 from the file", s.SamplesPerInput)
	}
	st, _ := OpenStore(s.Store)
	for _, smp := range st.Manifest().Samples {
		off := (smp.Input*3 + smp.K) * 2
		if !slices.Equal(smp.Latent, codes[off:off+2]) {
			t.Fatalf("sample %d/%d latent %v, want %v", smp.Input, smp.K, smp.Latent, codes[off:off+2])
		}
	}
	if st.Manifest().LatentSource != LatentsFile || st.Manifest().LatentsFile == nil {
		t.Fatal("manifest does not record the latents file")
	}
	// Seeded latents are another run, kept beside this one.
	cfg.Latents = ""
	if s2 := mustRun(t, cfg); s2.Store == s.Store || !strings.Contains(s2.Store, RunKeySep) {
		t.Fatalf("seeded latents went to %s, the file's run is in %s", s2.Store, s.Store)
	}

	for _, tc := range []struct {
		name    string
		shape   []int
		samples int
		want    string
	}{
		{"rows", []int{3, 1, 2}, 0, "has 3 rows, but there are 2 inputs"},
		{"dim", []int{2, 1, 3}, 0, "latent size 3, but the generator's latent size is 2"},
		{"rank", []int{2, 1, 1, 2}, 0, "want [M, K, S] = [2, K, 2]"},
		{"K", []int{2, 3, 2}, 2, "holds 3 samples per input, but --samples-per-input 2"},
	} {
		n := 1
		for _, d := range tc.shape {
			n *= d
		}
		p := write(tc.name+".npy", tc.shape, make([]float32, n))
		cfg := fakeConfig(&fakeGen{latentDim: 2}, in, t.TempDir())
		cfg.Latents, cfg.Samples = p, tc.samples
		_, err := Run(context.Background(), cfg)
		errContains(t, err, tc.want)
	}
	// [M, S] means K = 1.
	cfg = fakeConfig(&fakeGen{latentDim: 2}, in, t.TempDir())
	cfg.Latents = write("ms.npy", []int{2, 2}, codes[:4])
	if s := mustRun(t, cfg); s.SamplesPerInput != 1 {
		t.Fatalf("[M,S] latents: K %d", s.SamplesPerInput)
	}
}

func TestRunInputs(t *testing.T) {
	in := writeInputs(t, 6, 10, 6, 11)
	// --select random: a seeded subset, in sorted order.
	cfg := fakeConfig(&fakeGen{latentDim: 1}, in, t.TempDir())
	cfg.Samples, cfg.NumInputs, cfg.Select, cfg.Seed = 1, 3, SelectRandom, 4
	s := mustRun(t, cfg)
	st, _ := OpenStore(s.Store)
	var got []string
	for _, inp := range st.Manifest().Inputs {
		got = append(got, inp.Stem)
	}
	var want []string
	for _, i := range selectRandom(4, 6, 3) {
		want = append(want, "in_0"+string(rune('0'+i)))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("random inputs %v, want %v", got, want)
	}
	if inp := st.Manifest().Inputs[0]; inp.Width != 10 || inp.Height != 6 {
		t.Fatalf("input size %dx%d, want 10x6", inp.Width, inp.Height)
	}
	// --size resizes; the output follows.
	cfg = fakeConfig(&fakeGen{latentDim: 1}, in, t.TempDir())
	cfg.Samples, cfg.Size = 1, 4
	s = mustRun(t, cfg)
	img, err := images.Load(filepath.Join(s.Store, "in_00", "0.png"))
	if err != nil || img.W != 4 || img.H != 4 {
		t.Fatalf("--size 4 sample: %v %v", img, err)
	}
	// Fixed-size models and side multiples.
	cfg = fakeConfig(&fakeGen{latentDim: 1, fixedH: 8, fixedW: 8}, in, t.TempDir())
	_, err = Run(context.Background(), cfg)
	errContains(t, err, "takes 8 x 8 images", "in_00.png is 10x6", "--size 8")
	cfg = fakeConfig(&fakeGen{latentDim: 1, hwMultiple: 4}, in, t.TempDir())
	_, err = Run(context.Background(), cfg)
	errContains(t, err, "multiples of 4", "--size N")
	cfg = fakeConfig(&fakeGen{latentDim: 1}, in, t.TempDir())
	cfg.NumInputs = 7
	_, err = Run(context.Background(), cfg)
	errContains(t, err, "holds only 6 images")
	// Mixed sizes batch separately.
	writePNGFile(t, filepath.Join(in, "in_03.png"), image.NewRGBA(image.Rect(0, 0, 5, 5)))
	g := &fakeGen{latentDim: 1}
	cfg = fakeConfig(g, in, t.TempDir())
	cfg.Samples, cfg.Batch, cfg.Streams = 2, 8, 1 // one stream: batches in order
	mustRun(t, cfg)
	if !slices.Equal(g.batchSeen, []int{6, 2, 4}) {
		t.Fatalf("batches %v, want [6 2 4] (cut at the 5x5 input)", g.batchSeen)
	}
	// Two files with one stem.
	f, _ := os.Create(filepath.Join(in, "in_00.jpg"))
	jpeg.Encode(f, image.NewRGBA(image.Rect(0, 0, 5, 5)), nil)
	f.Close()
	_, err = Run(context.Background(), fakeConfig(&fakeGen{latentDim: 1}, in, t.TempDir()))
	errContains(t, err, `share the stem "in_00"`)
}

func TestRunFromFolder(t *testing.T) {
	in := writeInputs(t, 3, 4, 4, 12)
	pre := t.TempDir()
	for i := 0; i < 3; i++ {
		os.MkdirAll(filepath.Join(pre, "in_0"+string(rune('0'+i))), 0o755)
		for k := 0; k < 2; k++ {
			img := image.NewRGBA(image.Rect(0, 0, 6, 6))
			img.Set(1, 1, color.RGBA{uint8(i), uint8(k), 9, 255})
			writePNGFile(t, filepath.Join(pre, "in_0"+string(rune('0'+i)), string(rune('0'+k))+".png"), img)
		}
	}
	out := t.TempDir()
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Out, cfg.FromFolder, cfg.Quiet = in, out, pre, true
	_, err := Run(context.Background(), cfg)
	errContains(t, err, "needs --method")
	cfg.Method = "BicycleGAN"
	s := mustRun(t, cfg)
	// Copied files are reported as copied, not computed.
	if s.Copied != 6 || s.Computed != 0 || s.SamplesPerInput != 2 || !strings.Contains(s.String(), "(6 copied, 0 reused)") {
		t.Fatalf("from folder: %+v", s)
	}
	st, err := OpenStore(s.Store)
	if err != nil {
		t.Fatal(err)
	}
	m := st.Manifest()
	if m.FolderLayout != LayoutDirs || m.Models != nil || m.Samples[3].Source != "in_01/1.png" {
		t.Fatalf("manifest layout %q models %v source %q", m.FolderLayout, m.Models, m.Samples[3].Source)
	}
	a, _ := images.Load(filepath.Join(pre, "in_01", "1.png"))
	b, _ := images.Load(st.SamplePath(1, 1))
	if !slices.Equal(a.Pix, b.Pix) {
		t.Fatal("copied sample differs from its source")
	}
	if s := mustRun(t, cfg); s.Reused != 6 {
		t.Fatalf("rerun: %+v", s)
	}
	// A changed source is copied again.
	img := image.NewRGBA(image.Rect(0, 0, 6, 6))
	writePNGFile(t, filepath.Join(pre, "in_02", "0.png"), img)
	if s := mustRun(t, cfg); s.Reused != 5 || s.Copied != 1 {
		t.Fatalf("after changing a source: %+v", s)
	}
	os.Remove(filepath.Join(pre, "in_02", "1.png"))
	_, err = Run(context.Background(), cfg)
	errContains(t, err, "missing 1: in_02/1.png")
}

func TestRunConfigErrors(t *testing.T) {
	in := writeInputs(t, 1, 4, 4, 13)
	for _, tc := range []struct {
		edit func(c *Config)
		want string
	}{
		{func(c *Config) { c.Inputs = "" }, "no input folder"},
		{func(c *Config) { c.Out = "" }, "no store folder"},
		{func(c *Config) { c.gen = nil }, "give --generator or --from-folder"},
		{func(c *Config) { c.Generator, c.FromFolder = "g", "f" }, "exclude each other"},
		{func(c *Config) { c.Decoder = "d" }, "--decoder needs --generator"},
		{func(c *Config) { c.Select = "best" }, `--select "best"`},
		{func(c *Config) { c.Samples = -1 }, "--samples-per-input -1"},
		{func(c *Config) { c.Inputs = filepath.Join(in, "nope") }, "inputs:"},
	} {
		c := fakeConfig(&fakeGen{latentDim: 1}, in, t.TempDir())
		tc.edit(&c)
		_, err := Run(context.Background(), c)
		errContains(t, err, tc.want)
	}
}

// TestRunRefusedLeavesNoFolder checks that a run refused after its folder
// was locked (too many inputs asked) leaves no empty run folder behind.
func TestRunRefusedLeavesNoFolder(t *testing.T) {
	in := writeInputs(t, 2, 4, 4, 60)
	out := t.TempDir()
	cfg := fakeConfig(&fakeGen{latentDim: 2}, in, out)
	cfg.NumInputs = 5
	_, err := Run(context.Background(), cfg)
	errContains(t, err, "--num-inputs 5", "holds only 2 images")
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Fatalf("the refused run left %v", ents)
	}
}

// TestParallelism checks the defaults of Config.parallelism and
// Config.batchFor: two streams sharing the threads on a CPU with two or
// more, one on a GPU or one thread, explicit values kept; on CPU at most
// CPUBatchPixels output pixels per run, at least one sample.
func TestParallelism(t *testing.T) {
	for _, c := range []struct {
		threads, streams      int
		device                string
		wantStreams, wantEach int
	}{
		{2, 0, "cpu", 2, 1},
		{16, 0, "", 2, 8},
		{1, 0, "cpu", 1, 1},
		{8, 0, "cuda", 1, 8},
		{4, 3, "cpu", 3, 1},
		{2, 4, "cpu", 4, 1},
	} {
		cfg := Config{Threads: c.threads, Streams: c.streams, Device: c.device}
		s, each := cfg.parallelism()
		if s != c.wantStreams || each != c.wantEach {
			t.Errorf("threads %d streams %d %q: %d streams of %d threads, want %d of %d", c.threads, c.streams, c.device, s, each, c.wantStreams, c.wantEach)
		}
	}
	for _, c := range []struct {
		batch, h, w int
		device      string
		want        int
	}{
		{8, 256, 256, "cpu", 1},
		{8, 128, 128, "cpu", 4},
		{8, 64, 64, "cpu", 8},
		{16, 64, 64, "", 16},
		{8, 512, 512, "cpu", 1},
		{8, 256, 256, "cuda", 8},
		{3, 16, 16, "cpu", 3},
	} {
		cfg := Config{Batch: c.batch, Device: c.device}
		if got := cfg.batchFor(c.h, c.w); got != c.want {
			t.Errorf("batch %d at %dx%d on %q: %d per run, want %d", c.batch, c.h, c.w, c.device, got, c.want)
		}
	}
}
