package lpips

// Tests of the embedder, its caches and the diversity protocol on the
// synthetic world's LPIPS model and images (built in Go: they never skip
// for want of the parity fixtures).

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/munit-eval/munit-eval/batch"
	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/synth"
	"github.com/munit-eval/munit-eval/translate"
)

var synthLPIPS = sync.OnceValues(func() ([]byte, error) {
	ms, err := synth.Models(7)
	if err != nil {
		return nil, err
	}
	return ms[synth.KeyLPIPS], nil
})

// synthModel opens the synthetic LPIPS model.
func synthModel(t testing.TB) *Model {
	t.Helper()
	b, err := synthLPIPS()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "lpips.onnx")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return openModel(t, p)
}

// synthStore builds a store of inputs x samples synthetic 64x64 images in
// which sample k of input i is image (i+k) mod 8, so images recur within
// and across inputs; it returns the store and the image of every sample.
func synthStore(t testing.TB, inputs, samples int) (*translate.Store, map[[2]int]*images.Image) {
	t.Helper()
	imgs, _ := synth.DomainB(3, 9)
	root := t.TempDir()
	in, pre := filepath.Join(root, "in"), filepath.Join(root, "pre")
	src := map[[2]int]*images.Image{}
	for i := 0; i < inputs; i++ {
		stem := fmt.Sprintf("in_%d", i)
		os.MkdirAll(filepath.Join(pre, stem), 0o755)
		os.MkdirAll(in, 0o755)
		if err := images.WritePNG(filepath.Join(in, stem+".png"), images.New(4, 4)); err != nil {
			t.Fatal(err)
		}
		for k := 0; k < samples; k++ {
			img := imgs[(i+k)%8]
			if err := images.WritePNG(filepath.Join(pre, stem, fmt.Sprintf("%d.png", k)), img); err != nil {
				t.Fatal(err)
			}
			src[[2]int{i, k}] = img
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
	return st, src
}

// cacheModes are the embedder's disk-cache settings.
var cacheModes = []struct {
	name       string
	cache, emb bool
}{{"no cache", false, false}, {"pair cache", true, false}, {"pair and embedding caches", true, true}}

func newEmbedder(m *Model, dir string, cache, emb bool, batch int) *Embedder {
	if !cache {
		dir = ""
	}
	e := NewEmbedder(m, dir)
	e.CacheEmbeddings, e.Batch = emb, batch
	return e
}

// TestStoreDiversityStream checks StoreDiversity's pipelined path (batches
// across inputs, samples repeated across inputs, distances in another
// goroutine) against distances computed pair by pair with Model.Embed on
// the decoded images, within 1e-6 (float32 network, batched or not), for
// every pairing, batch sizes that do and do not divide the samples per
// input, and every cache setting; then that a warm cache gives the same
// values computing nothing, and that only the embedding cache serves a new
// pairing.
func TestStoreDiversityStream(t *testing.T) {
	m := synthModel(t)
	const inputs, samples = 3, 6
	st, src := synthStore(t, inputs, samples)
	ref := map[[2]*images.Image]float64{}
	refDist := func(a, b *images.Image) float64 {
		if d, ok := ref[[2]*images.Image{a, b}]; ok {
			return d
		}
		embs, err := m.Embed([]*images.Image{a, b})
		if err != nil {
			t.Fatal(err)
		}
		d, _, err := Distance(embs[0], embs[1])
		if err != nil {
			t.Fatal(err)
		}
		ref[[2]*images.Image{a, b}] = d
		return d
	}
	opts := []Options{
		{Pairing: Independent, Pairs: 3},
		{Pairing: Consecutive, Pairs: 4},
		{Pairing: All, SamplesPerInput: 4},
	}
	for _, mode := range cacheModes {
		for oi, o := range opts {
			o.NumInputs, o.Bootstrap = inputs, 10
			for _, b := range []int{1, 4, 16} {
				name := fmt.Sprintf("%s, %s, batch %d", mode.name, o.Pairing, b)
				cache := t.TempDir()
				e := newEmbedder(m, cache, mode.cache, mode.emb, b)
				div, err := StoreDiversity(context.Background(), e, st, o)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				want := inputs * len(PairIndices(o.Pairing, o.Pairs, o.SamplesPerInput, 0))
				if div.N != want || len(div.Pairs) != want {
					t.Fatalf("%s: %d pairs, want %d", name, div.N, want)
				}
				distinct := map[*images.Image]bool{}
				for i := 0; i < inputs; i++ {
					for k := 0; k < SamplesNeeded(o.Pairing, o.Pairs, o.SamplesPerInput); k++ {
						distinct[src[[2]int{i, k}]] = true
					}
				}
				if e.Computed != len(distinct) {
					t.Errorf("%s: computed %d embeddings for %d distinct images", name, e.Computed, len(distinct))
				}
				for j, p := range div.Pairs {
					w := refDist(src[[2]int{p.Input, p.A}], src[[2]int{p.Input, p.B}])
					if math.Abs(p.Distance-w) > 1e-6 {
						t.Errorf("%s pair %d (%+v): %.9f, pair by pair %.9f", name, j, p, p.Distance, w)
					}
				}
				if len(e.Warnings) > 0 {
					t.Errorf("%s: warnings %q", name, e.Warnings)
				}
				if !mode.cache {
					continue
				}
				// Warm cache, fresh embedder: nothing computed, same values.
				e2 := newEmbedder(m, cache, mode.cache, mode.emb, b)
				div2, err := StoreDiversity(context.Background(), e2, st, o)
				if err != nil {
					t.Fatal(err)
				}
				if e2.Computed != 0 {
					t.Errorf("%s: warm cache computed %d", name, e2.Computed)
				}
				if !reflect.DeepEqual(div2, div) {
					t.Fatalf("%s: warm result differs from the cold one", name)
				}
				// Another pairing over the same cache: the embedding cache
				// serves it; the pair cache alone embeds again.
				o2 := opts[(oi+1)%len(opts)]
				o2.NumInputs, o2.Bootstrap = inputs, 10
				e3 := newEmbedder(m, cache, mode.cache, mode.emb, b)
				if _, err := StoreDiversity(context.Background(), e3, st, o2); err != nil {
					t.Fatal(err)
				}
				k1 := SamplesNeeded(o.Pairing, o.Pairs, o.SamplesPerInput)
				k2 := SamplesNeeded(o2.Pairing, o2.Pairs, o2.SamplesPerInput)
				if mode.emb && k2 <= k1 && e3.Computed != 0 {
					t.Errorf("%s: re-pairing as %s over the embedding cache computed %d", name, o2.Pairing, e3.Computed)
				}
			}
		}
	}
	// A cancelled context stops the stream with its error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := StoreDiversity(ctx, NewEmbedder(m, ""), st, Options{Pairing: Consecutive, Pairs: 2, Bootstrap: 10}); err == nil {
		t.Fatal("no error from a cancelled context")
	}
}

// TestStoreVerified: a sample replaced by another valid PNG is refused,
// naming the file and the repair, with every cache setting and whether or
// not the cache was warm; once the file is restored the numbers are the
// fresh ones.
func TestStoreVerified(t *testing.T) {
	m := synthModel(t)
	st, _ := synthStore(t, 3, 4)
	o := Options{Pairing: Consecutive, Pairs: 3, NumInputs: 3, Bootstrap: 10}
	fresh, err := StoreDiversity(context.Background(), NewEmbedder(m, ""), st, o)
	if err != nil {
		t.Fatal(err)
	}
	victim := st.SamplePath(1, 2)
	orig, err := os.ReadFile(victim)
	if err != nil {
		t.Fatal(err)
	}
	other, err := os.ReadFile(st.SamplePath(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(orig, other) {
		t.Fatal("test setup: the replacement is the same image")
	}
	for _, mode := range cacheModes {
		for _, warm := range []bool{false, true} {
			cache := t.TempDir()
			if warm {
				if _, err := StoreDiversity(context.Background(), newEmbedder(m, cache, mode.cache, mode.emb, 4), st, o); err != nil {
					t.Fatal(err)
				}
			}
			os.WriteFile(victim, other, 0o644)
			_, err := StoreDiversity(context.Background(), newEmbedder(m, cache, mode.cache, mode.emb, 4), st, o)
			if err == nil || !strings.Contains(err.Error(), victim) || !strings.Contains(err.Error(), "rerun munit-eval translate") {
				t.Errorf("%s, warm %v: error %v, want a refusal naming %s and the repair", mode.name, warm, err, victim)
			}
			os.WriteFile(victim, orig, 0o644)
			div, err := StoreDiversity(context.Background(), newEmbedder(m, cache, mode.cache, mode.emb, 4), st, o)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(div, fresh) {
				t.Errorf("%s, warm %v: restored store gives another result", mode.name, warm)
			}
		}
	}
	// A corrupt sample says to rerun translate too.
	os.WriteFile(victim, orig[:len(orig)/2], 0o644)
	defer os.WriteFile(victim, orig, 0o644)
	if _, err := StoreDiversity(context.Background(), NewEmbedder(m, ""), st, o); err == nil || !strings.Contains(err.Error(), victim) || !strings.Contains(err.Error(), "rerun munit-eval translate") {
		t.Errorf("corrupt sample: error %v", err)
	}
}

// TestSwappedCacheRecords: two embedding files swapped, and two pair records
// with their values swapped, are misses: the next run recomputes them and
// gives exactly the fresh numbers.
func TestSwappedCacheRecords(t *testing.T) {
	m := synthModel(t)
	st, _ := synthStore(t, 2, 4)
	o := Options{Pairing: All, SamplesPerInput: 4, NumInputs: 2, Bootstrap: 10}
	fresh, err := StoreDiversity(context.Background(), NewEmbedder(m, ""), st, o)
	if err != nil {
		t.Fatal(err)
	}

	cache := t.TempDir()
	if _, err := StoreDiversity(context.Background(), newEmbedder(m, cache, true, true, 4), st, o); err != nil {
		t.Fatal(err)
	}
	embs, _ := filepath.Glob(filepath.Join(cache, m.SHA256(), "*.emb"))
	if len(embs) < 2 {
		t.Fatalf("%d embedding files", len(embs))
	}
	a, _ := os.ReadFile(embs[0])
	b, _ := os.ReadFile(embs[1])
	os.WriteFile(embs[0], b, 0o644)
	os.WriteFile(embs[1], a, 0o644)
	os.Remove(filepath.Join(cache, m.SHA256()+".pairs")) // make the embeddings matter
	e := newEmbedder(m, cache, true, true, 4)
	div, err := StoreDiversity(context.Background(), e, st, o)
	if err != nil {
		t.Fatal(err)
	}
	if e.Computed != 2 || !reflect.DeepEqual(div, fresh) {
		t.Errorf("swapped embedding files: computed %d (want 2), same as fresh: %v", e.Computed, reflect.DeepEqual(div, fresh))
	}

	// The pair cache: swap the values of the first two records.
	cache = t.TempDir()
	if _, err := StoreDiversity(context.Background(), newEmbedder(m, cache, true, false, 4), st, o); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(cache, m.SHA256()+".pairs")
	raw, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	h := 8 + 4 + 1 + len("lpips-pairs "+m.SHA256())
	rec := 1 + int(raw[h]) + 8 + 4
	v1, v2 := h+rec-12, h+2*rec-12
	tmp := append([]byte(nil), raw[v1:v1+8]...)
	copy(raw[v1:v1+8], raw[v2:v2+8])
	copy(raw[v2:v2+8], tmp)
	os.WriteFile(log, raw, 0o644)
	e = newEmbedder(m, cache, true, false, 4)
	div, err = StoreDiversity(context.Background(), e, st, o)
	if err != nil {
		t.Fatal(err)
	}
	if e.Computed == 0 || !reflect.DeepEqual(div, fresh) {
		t.Errorf("swapped pair records: computed %d, same as fresh: %v", e.Computed, reflect.DeepEqual(div, fresh))
	}
}

// TestRealDiversityCache: the real-data row is the same cold, warm (nothing
// computed) and without a cache; a real image replaced after the cache was
// filled gets its new value, never the stale one.
func TestRealDiversityCache(t *testing.T) {
	m := synthModel(t)
	dir := t.TempDir()
	imgs, _ := synth.DomainB(11, 6)
	var files []images.File
	for i, img := range imgs {
		p := filepath.Join(dir, fmt.Sprintf("%d.png", i))
		if err := images.WritePNG(p, img); err != nil {
			t.Fatal(err)
		}
		files = append(files, images.File{Path: p, Name: filepath.Base(p)})
	}
	o := Options{Pairing: Independent, Pairs: 4, NumInputs: 5, Bootstrap: 10, Seed: 3}
	fresh, err := RealDiversity(context.Background(), NewEmbedder(m, ""), files, 48, o)
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	for _, run := range []string{"cold", "warm"} {
		e := NewEmbedder(m, cache)
		div, err := RealDiversity(context.Background(), e, files, 48, o)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(div, fresh) {
			t.Errorf("%s: differs from the run without a cache", run)
		}
		if run == "warm" && e.Computed != 0 {
			t.Errorf("warm: computed %d", e.Computed)
		}
	}
	changed := imgs[0]
	if err := images.WritePNG(files[1].Path, changed); err != nil {
		t.Fatal(err)
	}
	want, err := RealDiversity(context.Background(), NewEmbedder(m, ""), files, 48, o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := RealDiversity(context.Background(), NewEmbedder(m, cache), files, 48, o)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || reflect.DeepEqual(got, fresh) {
		t.Error("a replaced real image was scored from the stale cache")
	}
}

// TestCacheFailureWarns: a pair cache that cannot be opened is a warning
// naming --no-cache, and the numbers are those of a run without a cache.
func TestCacheFailureWarns(t *testing.T) {
	m := synthModel(t)
	st, _ := synthStore(t, 2, 4)
	o := Options{Pairing: Consecutive, Pairs: 3, NumInputs: 2, Bootstrap: 10}
	fresh, err := StoreDiversity(context.Background(), NewEmbedder(m, ""), st, o)
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	// A folder where the log should be: it can be neither read nor written.
	os.MkdirAll(filepath.Join(cache, m.SHA256()+".pairs"), 0o755)
	e := NewEmbedder(m, cache)
	div, err := StoreDiversity(context.Background(), e, st, o)
	if err != nil {
		t.Fatalf("a broken cache stopped the metric: %v", err)
	}
	if !reflect.DeepEqual(div, fresh) {
		t.Error("result differs from the run without a cache")
	}
	if len(e.Warnings) != 1 || !strings.Contains(e.Warnings[0], "--no-cache") {
		t.Errorf("warnings %q", e.Warnings)
	}
}

// TestEmbedMixedSizes: LPIPS refuses images of two sizes, naming both.
func TestEmbedMixedSizes(t *testing.T) {
	m := synthModel(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png")
	images.WritePNG(a, images.New(64, 64))
	images.WritePNG(b, images.New(48, 64))
	for _, batch := range []int{1, 2} {
		e := NewEmbedder(m, "")
		e.Batch = batch
		_, err := e.Embed([]images.Ref{{Path: a}, {Path: b}})
		if err == nil || !strings.Contains(err.Error(), a) || !strings.Contains(err.Error(), b) || !strings.Contains(err.Error(), "one size") {
			t.Errorf("batch %d: error %v", batch, err)
		}
	}
	// Embed fills in the hashes and verifies given ones.
	refs := []images.Ref{{Path: a}}
	if _, err := NewEmbedder(m, "").Embed(refs); err != nil {
		t.Fatal(err)
	}
	if h, _ := images.HashFile(a); refs[0].SHA256 != h {
		t.Errorf("hash %q, want %q", refs[0].SHA256, h)
	}
	if _, err := NewEmbedder(m, "").Embed([]images.Ref{{Path: a, SHA256: "00"}}); err == nil || !strings.Contains(err.Error(), a) {
		t.Errorf("a wrong recorded hash: %v", err)
	}
}

// TestVerifyPairCache: a pair record edited with a valid CRC (appended by
// anyone who can write the shared store) decides the number unless a spot
// check recomputes it: with batch.SetVerifyCache(1) the run refuses, naming
// the cache, and an intact cache passes with the fresh numbers.
func TestVerifyPairCache(t *testing.T) {
	m := synthModel(t)
	st, _ := synthStore(t, 2, 4)
	o := Options{Pairing: All, SamplesPerInput: 4, NumInputs: 2, Bootstrap: 10}
	fresh, err := StoreDiversity(context.Background(), NewEmbedder(m, ""), st, o)
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	if _, err := StoreDiversity(context.Background(), NewEmbedder(m, cache), st, o); err != nil {
		t.Fatal(err)
	}
	batch.SetVerifyCache(1)
	div, err := StoreDiversity(context.Background(), NewEmbedder(m, cache), st, o)
	batch.SetVerifyCache(0)
	if err != nil || !reflect.DeepEqual(div, fresh) {
		t.Fatalf("an intact cache, checked: %v, same as fresh: %v", err, reflect.DeepEqual(div, fresh))
	}
	path := filepath.Join(cache, m.SHA256()+".pairs")
	raw, _ := os.ReadFile(path)
	h := 8 + 4 + 1 + len("lpips-pairs "+m.SHA256())
	key := string(raw[h+1 : h+1+int(raw[h])])
	l, err := batch.OpenLog(path, "lpips-pairs "+m.SHA256(), 8)
	if err != nil {
		t.Fatal(err)
	}
	l.Add(key, binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.999)))
	l.Close()
	if div, err := StoreDiversity(context.Background(), NewEmbedder(m, cache), st, o); err != nil || reflect.DeepEqual(div, fresh) {
		t.Fatalf("unchecked, the edited record decides the number (the trust model): %v", err)
	}
	batch.SetVerifyCache(1)
	defer batch.SetVerifyCache(0)
	_, err = StoreDiversity(context.Background(), NewEmbedder(m, cache), st, o)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "was changed") {
		t.Fatalf("checked: %v, want a refusal naming %s", err, path)
	}
}
