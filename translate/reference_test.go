package translate

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/munit-eval/munit-eval/model"
)

// fakeStyleEnc's code of an image is (mean of channel 0, mean of channel
// 2, ...) repeated to dim values, so each reference image has its own code.
type fakeStyleEnc struct {
	dim   int
	mu    sync.Mutex
	calls int
}

func (e *fakeStyleEnc) encode(img model.Tensor) ([]float32, error) {
	e.mu.Lock()
	e.calls++
	e.mu.Unlock()
	hw := int(img.Shape[2] * img.Shape[3])
	var m0, m2 float64
	for p := range hw {
		m0 += float64(img.Data[p])
		m2 += float64(img.Data[2*hw+p])
	}
	code := make([]float32, e.dim)
	for s := range code {
		if s%2 == 0 {
			code[s] = float32(m0 / float64(hw))
		} else {
			code[s] = float32(m2 / float64(hw))
		}
	}
	return code, nil
}

func (e *fakeStyleEnc) close() error { return nil }

func refConfig(t *testing.T, in, refs, out string, enc *fakeStyleEnc) Config {
	cfg := fakeConfig(&fakeGen{latentDim: 2, method: "MUNIT"}, in, out)
	cfg.StyleEncoder, cfg.References, cfg.styleEnc = "fake_style.onnx", refs, enc
	return cfg
}

func TestRunReferences(t *testing.T) {
	in := writeInputs(t, 3, 4, 4, 21)
	refs := writeInputs(t, 6, 4, 4, 22)
	out := t.TempDir()
	enc := &fakeStyleEnc{dim: 2}
	cfg := refConfig(t, in, refs, out, enc)
	cfg.Samples = 4
	s := mustRun(t, cfg)
	if s.Method != "MUNIT (ref)" || filepath.Base(s.Store) != "MUNIT__ref_" {
		t.Fatalf("method %q in %s, want MUNIT (ref) in its own folder", s.Method, s.Store)
	}
	st, err := OpenStore(s.Store)
	if err != nil {
		t.Fatal(err)
	}
	m := st.Manifest()
	if m.LatentSource != LatentsReference || m.References == nil || m.References.Order != ReferenceRandom || len(m.References.Files) != 6 {
		t.Fatalf("manifest references %+v, source %s", m.References, m.LatentSource)
	}
	// Each sample's latent is its reference's code; an input's samples use
	// distinct references; sample k's reference does not depend on K.
	codes := map[string][]float32{}
	for j := range 6 {
		name := filepath.Base(filepath.Join(refs, m.References.Files[j].File))
		img, err := loadTensor(filepath.Join(refs, name))
		if err != nil {
			t.Fatal(err)
		}
		codes[name], _ = (&fakeStyleEnc{dim: 2}).encode(model.Tensor{Shape: []int64{1, 3, 4, 4}, Data: img})
	}
	byInput := map[int][]string{}
	for _, smp := range m.Samples {
		if !slices.Equal(smp.Latent, codes[smp.Reference]) {
			t.Fatalf("sample %d/%d: latent %v, its reference %s has code %v", smp.Input, smp.K, smp.Latent, smp.Reference, codes[smp.Reference])
		}
		byInput[smp.Input] = append(byInput[smp.Input], smp.Reference)
	}
	for i, names := range byInput {
		u := slices.Clone(names)
		slices.Sort(u)
		if len(slices.Compact(u)) != 4 {
			t.Fatalf("input %d uses references %v, want 4 distinct", i, names)
		}
	}
	if slices.Equal(byInput[0], byInput[1]) && slices.Equal(byInput[1], byInput[2]) {
		t.Fatalf("every input drew the same references %v", byInput[0])
	}
	// A rerun reuses everything; K = 5 keeps samples 0..3 and their references.
	s2 := mustRun(t, cfg)
	if s2.Computed != 0 || s2.Reused != 12 {
		t.Fatalf("rerun computed %d, reused %d", s2.Computed, s2.Reused)
	}
	cfg.Samples = 5
	s3 := mustRun(t, cfg)
	if s3.Store != s.Store || s3.Computed != 3 || s3.Reused != 12 {
		t.Fatalf("K=5: %s computed %d reused %d", s3.Store, s3.Computed, s3.Reused)
	}
	st3, _ := OpenStore(s3.Store)
	for _, smp := range st3.Manifest().Samples {
		if smp.K < 4 && byInput[smp.Input][smp.K] != smp.Reference {
			t.Fatalf("K=5 moved sample %d/%d to reference %s from %s", smp.Input, smp.K, smp.Reference, byInput[smp.Input][smp.K])
		}
	}
	// Another seed, the sorted order, or a changed reference is another run.
	cfg.Samples = 4
	seen := map[string]bool{s.Store: true}
	for _, change := range []func(c *Config){
		func(c *Config) { c.Seed = 9 },
		func(c *Config) { c.ReferenceOrder = ReferenceSorted },
		func(c *Config) {
			b, _ := os.ReadFile(filepath.Join(refs, "in_01.png"))
			os.WriteFile(filepath.Join(refs, "in_01.png"), b[:len(b)-1], 0o644) // another SHA-256
			os.WriteFile(filepath.Join(refs, "in_01.png"), b, 0o644)
			os.Rename(filepath.Join(refs, "in_05.png"), filepath.Join(refs, "in_06.png"))
		},
	} {
		c := cfg
		change(&c)
		got := mustRun(t, c)
		if seen[got.Store] {
			t.Fatalf("changed run reused the folder %s", got.Store)
		}
		seen[got.Store] = true
	}
}

func TestRunReferencesSorted(t *testing.T) {
	in := writeInputs(t, 2, 4, 4, 31)
	refs := writeInputs(t, 3, 4, 4, 32)
	cfg := refConfig(t, in, refs, t.TempDir(), &fakeStyleEnc{dim: 2})
	cfg.Samples, cfg.ReferenceOrder = 3, ReferenceSorted
	s := mustRun(t, cfg)
	st, _ := OpenStore(s.Store)
	for _, smp := range st.Manifest().Samples {
		if want := []string{"in_00.png", "in_01.png", "in_02.png"}[smp.K]; smp.Reference != want {
			t.Fatalf("sample %d/%d: reference %s, want %s (k-th by name)", smp.Input, smp.K, smp.Reference, want)
		}
	}
}

func TestRunReferencesErrors(t *testing.T) {
	in := writeInputs(t, 2, 4, 4, 41)
	refs := writeInputs(t, 3, 4, 4, 42)
	for _, tc := range []struct {
		name   string
		change func(c *Config)
		want   []string
	}{
		{"too few", func(c *Config) { c.Samples = 5 }, []string{refs, "holds 3 images", "5 samples per input need 5 distinct references"}},
		{"empty", func(c *Config) { c.References = t.TempDir() }, []string{"--references", "no .png, .jpg or .jpeg files"}},
		{"no folder", func(c *Config) { c.References = "" }, []string{"needs both --style-encoder and --references"}},
		{"latents", func(c *Config) { c.Latents = "z.npy" }, []string{"--latents and --references exclude each other"}},
		{"order", func(c *Config) { c.ReferenceOrder = "shuffled" }, []string{`--reference-order "shuffled"`}},
		{"order alone", func(c *Config) { c.StyleEncoder, c.References, c.ReferenceOrder = "", "", ReferenceSorted }, []string{"--reference-order applies to reference-guided runs"}},
		{"deterministic", func(c *Config) { c.gen = &fakeGen{} }, []string{"has no style input"}},
		{"mapping and style encoder", func(c *Config) { c.Mapping = "map.onnx" }, []string{"--mapping needs --generator and excludes --style-encoder"}},
		{"domain of nothing", func(c *Config) { c.StyleEncoder, c.References, c.TargetDomain = "", "", "dog" }, []string{"--target-domain applies to multi-domain models"}},
	} {
		cfg := refConfig(t, in, refs, t.TempDir(), &fakeStyleEnc{dim: 2})
		cfg.Samples = 2
		tc.change(&cfg)
		_, err := Run(context.Background(), cfg)
		if err == nil || strings.Count(err.Error(), "\n") > 0 {
			t.Fatalf("%s: error %v, want one line", tc.name, err)
		}
		errContains(t, err, tc.want...)
	}
}

func TestResolveDomain(t *testing.T) {
	d := []string{"cat", "dog", "wild"}
	for target, want := range map[string]int{"dog": 1, "2": 2, "wild": 2, "0": 0} {
		if got, err := ResolveDomain(d, target, "m.onnx"); err != nil || got != want {
			t.Fatalf("%s: %d %v, want %d", target, got, err, want)
		}
	}
	for target, want := range map[string]string{
		"":     "multi-domain model (domains: cat, dog, wild): name the target with --target-domain",
		"bird": `--target-domain "bird": not a domain of m.onnx (domains: cat, dog, wild)`,
		"3":    "--target-domain 3: m.onnx has 3 domains (indices 0 to 2",
		"-1":   "--target-domain -1",
	} {
		_, err := ResolveDomain(d, target, "m.onnx")
		errContains(t, err, want)
	}
}

func TestReferencePicksPrefix(t *testing.T) {
	// The first k picks of a longer draw are the draw of k.
	long := referencePicks(5, 3, 50, 20)
	if short := referencePicks(5, 3, 50, 7); !slices.Equal(short, long[:7]) {
		t.Fatalf("picks %v are not a prefix of %v", short, long)
	}
	u := slices.Clone(long)
	slices.Sort(u)
	if len(slices.Compact(u)) != 20 {
		t.Fatalf("picks %v repeat a reference", long)
	}
}

func TestStyleEncoderFixedSize(t *testing.T) {
	// A style encoder with a fixed input size (StarGAN v2's) refuses other
	// sizes before running, naming the --size that fits.
	e := &onnxStyleEncoder{fixedH: 32, fixedW: 32, path: "sg.style_encoder.onnx"}
	_, err := e.encode(model.Tensor{Shape: []int64{1, 3, 16, 24}, Data: make([]float32, 3*16*24)})
	errContains(t, err, "the image is 24x16, but sg.style_encoder.onnx takes 32x32 images (resize with --size 32)")
}
