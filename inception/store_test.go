package inception

// Tests of the Runner, its caches and the store path on the synthetic
// world's classifier and images (built in Go: they never skip for want of
// the parity fixtures).

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/synth"
	"github.com/munit-eval/munit-eval/translate"
)

var synthClassifierBytes = sync.OnceValues(func() ([]byte, error) {
	ms, err := synth.Models(7)
	if err != nil {
		return nil, err
	}
	return ms[synth.KeyClassifier], nil
})

func synthClassifier(t testing.TB) *Classifier {
	t.Helper()
	b, err := synthClassifierBytes()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "classifier.onnx")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := model.Init(""); err != nil {
		t.Skipf("onnxruntime not available (run `make setup`): %v", err)
	}
	c, err := Open(p, model.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// synthRefs writes n synthetic 64x64 images and returns their refs.
func synthRefs(t testing.TB, n int) []images.Ref {
	t.Helper()
	dir := t.TempDir()
	imgs, _ := synth.DomainB(5, n)
	var refs []images.Ref
	for i, img := range imgs {
		p := filepath.Join(dir, fmt.Sprintf("%d.png", i))
		if err := images.WritePNG(p, img); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, images.Ref{Path: p})
	}
	return refs
}

// synthStore builds a store of inputs x samples synthetic images.
func synthStore(t testing.TB, inputs, samples int) *translate.Store {
	t.Helper()
	imgs, _ := synth.DomainB(3, inputs*samples)
	root := t.TempDir()
	in, pre := filepath.Join(root, "in"), filepath.Join(root, "pre")
	os.MkdirAll(in, 0o755)
	for i := 0; i < inputs; i++ {
		stem := fmt.Sprintf("in_%d", i)
		os.MkdirAll(filepath.Join(pre, stem), 0o755)
		if err := images.WritePNG(filepath.Join(in, stem+".png"), images.New(4, 4)); err != nil {
			t.Fatal(err)
		}
		for k := 0; k < samples; k++ {
			if err := images.WritePNG(filepath.Join(pre, stem, fmt.Sprintf("%d.png", k)), imgs[i*samples+k]); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg := translate.DefaultConfig()
	cfg.Inputs, cfg.Out, cfg.FromFolder, cfg.Method, cfg.Quiet = in, filepath.Join(root, "store"), pre, "m", true
	sum, err := translate.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := translate.OpenStore(sum.Store)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestRunnerCache: outputs equal Classify on each decoded image alone
// (exactly: same network, same input), at several batch sizes (two image
// sizes mixed); a second Runner over the disk cache computes nothing and
// returns the same outputs; the same Runner serves a second call from
// memory; a damaged cache costs exactly the damaged records.
func TestRunnerCache(t *testing.T) {
	c := synthClassifier(t)
	refs := synthRefs(t, 10)
	refs = append(refs, images.Ref{Path: refs[3].Path, Size: 40}, refs[0])
	c.eng = nil // a fresh memory cache
	want := make([]Output, len(refs))
	for i, r := range refs {
		img, err := r.Load()
		if err != nil {
			t.Fatal(err)
		}
		o, err := c.Classify([]*images.Image{img})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = o[0]
	}
	const distinct = 11
	cache := t.TempDir()
	for _, b := range []int{1, 4, 16} {
		c.eng = nil // a fresh memory cache
		r := NewRunner(c, filepath.Join(cache, fmt.Sprint(b)))
		r.Batch = b
		out, err := r.Run(context.Background(), refs)
		if err != nil {
			t.Fatal(err)
		}
		if r.Computed != distinct {
			t.Errorf("batch %d: computed %d, want %d", b, r.Computed, distinct)
		}
		for i := range out {
			if !closeOutputs(out[i], want[i], 1e-5) {
				t.Fatalf("batch %d image %d: %v, alone %v", b, i, out[i], want[i])
			}
		}
		again, err := r.Run(context.Background(), refs)
		if err != nil || r.Computed != distinct || !reflect.DeepEqual(again, out) {
			t.Fatalf("batch %d: second call on one runner computed %d more (err %v)", b, r.Computed-distinct, err)
		}
	}
	// Another Runner on the same classifier, without a disk cache (the FID
	// features after the IS logits): served from memory.
	r2 := NewRunner(c, "")
	if _, err := r2.Run(context.Background(), refs); err != nil || r2.Computed != 0 {
		t.Fatalf("a second runner on one classifier computed %d (err %v)", r2.Computed, err)
	}
	dir := filepath.Join(cache, "16")
	c.eng = nil // from here on, disk cache only
	r := NewRunner(c, dir)
	first, err := r.Run(context.Background(), refs)
	if err != nil || r.Computed != 0 {
		t.Fatalf("warm cache: computed %d, err %v", r.Computed, err)
	}
	log := filepath.Join(dir, c.SHA256()+".outputs")
	for _, tc := range []struct {
		name     string
		damage   func(b []byte) []byte
		computed int
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-4] }, 1},
		{"flipped byte", func(b []byte) []byte { b[len(b)-9] ^= 0x40; return b }, 1},
		{"garbage header", func(b []byte) []byte { copy(b, "not a cache"); return b }, distinct},
	} {
		b, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(log, tc.damage(b), 0o644)
		c.eng = nil
		r3 := NewRunner(c, dir)
		third, err := r3.Run(context.Background(), refs)
		if err != nil {
			t.Fatal(err)
		}
		if r3.Computed != tc.computed {
			t.Fatalf("%s: computed %d, want %d", tc.name, r3.Computed, tc.computed)
		}
		if !reflect.DeepEqual(third, first) {
			t.Fatalf("%s: recomputed outputs differ", tc.name)
		}
	}
}

func closeOutputs(a, b Output, tol float64) bool {
	if len(a.Logits) != len(b.Logits) || len(a.Features) != len(b.Features) {
		return false
	}
	for _, p := range [][2][]float32{{a.Logits, b.Logits}, {a.Features, b.Features}} {
		for i := range p[0] {
			if d := float64(p[0][i] - p[1][i]); d > tol || d < -tol {
				return false
			}
		}
	}
	return true
}

// TestStoreOutputsVerified: a sample replaced by another valid PNG is
// refused, naming the file and the repair, with and without a cache, warm
// or cold; two cache records with their values swapped are recomputed;
// restored, the outputs are the fresh ones.
func TestStoreOutputsVerified(t *testing.T) {
	c := synthClassifier(t)
	st := synthStore(t, 3, 3)
	fresh, err := StoreOutputs(context.Background(), NewRunner(c, ""), st, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	victim := st.SamplePath(2, 1)
	orig, _ := os.ReadFile(victim)
	other, _ := os.ReadFile(st.SamplePath(0, 0))
	for _, cached := range []bool{false, true} {
		for _, warm := range []bool{false, true} {
			cache := ""
			if cached {
				cache = t.TempDir()
			}
			if warm {
				if _, err := StoreOutputs(context.Background(), NewRunner(c, cache), st, 3, 3); err != nil {
					t.Fatal(err)
				}
			}
			os.WriteFile(victim, other, 0o644)
			_, err := StoreOutputs(context.Background(), NewRunner(c, cache), st, 3, 3)
			if err == nil || !strings.Contains(err.Error(), victim) || !strings.Contains(err.Error(), "rerun munit-eval translate") {
				t.Errorf("cache %v warm %v: error %v, want a refusal naming %s", cached, warm, err, victim)
			}
			os.WriteFile(victim, orig, 0o644)
			got, err := StoreOutputs(context.Background(), NewRunner(c, cache), st, 3, 3)
			if err != nil || !reflect.DeepEqual(got, fresh) {
				t.Errorf("cache %v warm %v: restored store: %v", cached, warm, err)
			}
		}
	}
	// Swap the values of the first two records of a warm cache.
	c.eng = nil
	cache := t.TempDir()
	if _, err := StoreOutputs(context.Background(), NewRunner(c, cache), st, 3, 3); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(cache, c.SHA256()+".outputs")
	raw, _ := os.ReadFile(log)
	id := fmt.Sprintf("classifier %s K=%d D=%d", c.SHA256(), len(c.Classes), c.FeatureDim)
	h := 8 + 4 + 1 + len(id)
	vs := 4 * (len(c.Classes) + c.FeatureDim)
	rec := 1 + int(raw[h]) + vs + 4
	v1, v2 := h+1+int(raw[h]), h+rec+1+int(raw[h+rec])
	tmp := append([]byte(nil), raw[v1:v1+vs]...)
	copy(raw[v1:v1+vs], raw[v2:v2+vs])
	copy(raw[v2:v2+vs], tmp)
	os.WriteFile(log, raw, 0o644)
	c.eng = nil // the disk cache alone
	r := NewRunner(c, cache)
	got, err := StoreOutputs(context.Background(), r, st, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	if r.Computed == 0 || !reflect.DeepEqual(got, fresh) {
		t.Errorf("swapped records: computed %d, same as fresh %v", r.Computed, reflect.DeepEqual(got, fresh))
	}
}

// TestRunnerErrors: a missing file is an error naming it, at every batch
// size; a cache that cannot be opened is a warning; a cancelled context
// stops Run.
func TestRunnerErrors(t *testing.T) {
	c := synthClassifier(t)
	refs := synthRefs(t, 8)
	missing := filepath.Join(t.TempDir(), "gone.png")
	for _, b := range []int{1, 4, 16} {
		r := NewRunner(c, "")
		r.Batch = b
		bad := append(append([]images.Ref(nil), refs[:6]...), images.Ref{Path: missing})
		bad = append(bad, refs[6:]...)
		if _, err := r.Run(context.Background(), bad); err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("batch %d: error %v, want one naming %s", b, err, missing)
		}
	}
	cache := t.TempDir()
	os.MkdirAll(filepath.Join(cache, c.SHA256()+".outputs"), 0o755)
	r := NewRunner(c, cache)
	if _, err := r.Run(context.Background(), refs); err != nil {
		t.Fatalf("a broken cache stopped the run: %v", err)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "--no-cache") {
		t.Errorf("warnings %q", r.Warnings)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewRunner(c, "").Run(ctx, refs); err == nil {
		t.Error("no error from a cancelled context")
	}
}
