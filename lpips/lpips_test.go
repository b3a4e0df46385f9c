package lpips

import (
	"github.com/munit-eval/munit-eval/images"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/munit-eval/munit-eval/internal/paritytest"
	"github.com/munit-eval/munit-eval/model"
)

type refPair struct {
	A, B string
	Nets map[string]struct {
		Torch         float64   `json:"torch"`
		TorchPerLayer []float64 `json:"torch_per_layer"`
	}
}

func loadRefs(t *testing.T) (string, []refPair) {
	t.Helper()
	var raw struct {
		Pairs []map[string]any `json:"pairs"`
	}
	paritytest.JSON(t, "lpips_refs.json", &raw)
	var out []refPair
	for _, p := range raw.Pairs {
		rp := refPair{A: p["a"].(string), B: p["b"].(string), Nets: map[string]struct {
			Torch         float64   `json:"torch"`
			TorchPerLayer []float64 `json:"torch_per_layer"`
		}{}}
		for _, net := range []string{"alex", "squeeze"} {
			v, ok := p[net].(map[string]any)
			if !ok {
				continue
			}
			var per []float64
			for _, x := range v["torch_per_layer"].([]any) {
				per = append(per, x.(float64))
			}
			rp.Nets[net] = struct {
				Torch         float64   `json:"torch"`
				TorchPerLayer []float64 `json:"torch_per_layer"`
			}{v["torch"].(float64), per}
		}
		out = append(out, rp)
	}
	return paritytest.Dir(t), out
}

func openModel(t testing.TB, path string) *Model {
	t.Helper()
	if err := model.Init(""); err != nil {
		t.Skipf("onnxruntime not available (run `make setup`): %v", err)
	}
	m, err := Open(path, model.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestParityTorch checks every pair of lpips_refs.json against the reference
// lpips.LPIPS(net, version='0.1') distance: within 1e-6 absolute in total and
// per layer (the fixtures' README; float32 network, float64 sum).
func TestParityTorch(t *testing.T) {
	dir, pairs := loadRefs(t)
	for _, net := range []string{"alex", "squeeze"} {
		t.Run(net, func(t *testing.T) {
			m := openModel(t, filepath.Join(dir, "models", "lpips_"+net+".onnx"))
			if m.Net != net || m.Version != "0.1" {
				t.Fatalf("net %q version %q", m.Net, m.Version)
			}
			e := NewEmbedder(m, "")
			worst := 0.0
			for _, p := range pairs {
				ref, ok := p.Nets[net]
				if !ok {
					continue
				}
				embs, err := e.Embed([]images.Ref{{Path: filepath.Join(dir, p.A)}, {Path: filepath.Join(dir, p.B)}})
				if err != nil {
					t.Fatal(err)
				}
				d, per, err := Distance(embs[0], embs[1])
				if err != nil {
					t.Fatal(err)
				}
				if diff := math.Abs(d - ref.Torch); diff > 1e-6 {
					t.Errorf("%s vs %s: %.9f, torch %.9f (diff %.2g)", p.A, p.B, d, ref.Torch, diff)
				}
				worst = math.Max(worst, math.Abs(d-ref.Torch))
				for l := range per {
					if diff := math.Abs(per[l] - ref.TorchPerLayer[l]); diff > 1e-6 {
						t.Errorf("%s vs %s layer %d: %.9f, torch %.9f", p.A, p.B, l, per[l], ref.TorchPerLayer[l])
					}
				}
				// Symmetric, and zero on identical inputs.
				back, _, _ := Distance(embs[1], embs[0])
				if back != d {
					t.Errorf("asymmetric: %v vs %v", d, back)
				}
				if z, _, _ := Distance(embs[0], embs[0]); z != 0 {
					t.Errorf("d(x, x) = %v", z)
				}
			}
			t.Logf("%s: worst |ours - torch| = %.2g over %d pairs", net, worst, len(pairs))
		})
	}
}

func TestPairIndices(t *testing.T) {
	cases := []struct {
		p     Pairing
		pairs int
		k     int
		need  int
		want  [][2]int
	}{
		{Independent, 3, 0, 6, [][2]int{{0, 1}, {2, 3}, {4, 5}}},
		{Consecutive, 3, 0, 4, [][2]int{{0, 1}, {1, 2}, {2, 3}}},
		{All, 0, 4, 4, [][2]int{{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}}},
	}
	for _, c := range cases {
		k := SamplesNeeded(c.p, c.pairs, c.k)
		if k != c.need {
			t.Errorf("%s: needs %d samples, want %d", c.p, k, c.need)
		}
		if got := PairIndices(c.p, c.pairs, k); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: pairs %v, want %v", c.p, got, c.want)
		}
	}
	// The paper's protocol: 19 pairs from 38 samples, each sample in exactly one pair.
	seen := map[int]int{}
	for _, p := range PairIndices(Independent, 19, 38) {
		seen[p[0]]++
		seen[p[1]]++
	}
	if len(seen) != 38 {
		t.Fatalf("independent pairing uses %d distinct samples, want 38", len(seen))
	}
	if _, err := ParsePairing("random"); err == nil {
		t.Fatal("ParsePairing accepted an unknown pairing")
	}
}

// TestEmbedderCache checks that a second embedder over the same disk cache
// runs the network on nothing, that duplicates in one call are embedded
// once, and that a damaged cache entry is recomputed.
func TestEmbedderCache(t *testing.T) {
	dir := paritytest.Dir(t)
	m := openModel(t, filepath.Join(dir, "models", "lpips_squeeze.onnx"))
	cache := t.TempDir()
	a := images.Ref{Path: filepath.Join(dir, "images", "s64_00_disc_red.png")}
	b := images.Ref{Path: filepath.Join(dir, "images", "s64_08_stripes.png")}
	e1 := NewEmbedder(m, cache)
	first, err := e1.Embed([]images.Ref{a, b, a})
	if err != nil {
		t.Fatal(err)
	}
	if e1.Computed != 2 {
		t.Fatalf("computed %d embeddings for 2 distinct images", e1.Computed)
	}
	e2 := NewEmbedder(m, cache)
	second, err := e2.Embed([]images.Ref{b, a})
	if err != nil {
		t.Fatal(err)
	}
	if e2.Computed != 0 || e2.Reused != 2 {
		t.Fatalf("second run computed %d, reused %d", e2.Computed, e2.Reused)
	}
	if !reflect.DeepEqual(first[0], second[1]) || !reflect.DeepEqual(first[1], second[0]) {
		t.Fatal("cached embeddings differ from computed ones")
	}
	// Damage every cache file: the next embedder must recompute, not trust them.
	files, _ := filepath.Glob(filepath.Join(cache, "*", "*.emb"))
	if len(files) != 2 {
		t.Fatalf("%d cache files, want 2", len(files))
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		os.WriteFile(f, b[:len(b)/2], 0o644)
	}
	e3 := NewEmbedder(m, cache)
	third, err := e3.Embed([]images.Ref{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if e3.Computed != 2 || !reflect.DeepEqual(third[0], first[0]) {
		t.Fatalf("after damage: computed %d", e3.Computed)
	}
}

func TestDistanceShapeMismatch(t *testing.T) {
	a := &Embedding{Shapes: [][3]int{{1, 2, 2}}, Layers: [][]float32{{1, 2, 3, 4}}}
	b := &Embedding{Shapes: [][3]int{{1, 1, 4}}, Layers: [][]float32{{1, 2, 3, 4}}}
	if _, _, err := Distance(a, b); err == nil {
		t.Fatal("no error for mismatched shapes")
	}
	// A hand-computed value: one layer [1,2,2], differences 1,0,2,0 -> (1+4)/4.
	c := &Embedding{Shapes: [][3]int{{1, 2, 2}}, Layers: [][]float32{{2, 2, 5, 4}}}
	if d, _, _ := Distance(a, c); d != 1.25 {
		t.Fatalf("distance %v, want 1.25", d)
	}
}

// TestEmbeddingCodec: the disk form restores every value bit for bit
// (negative zero, tiny and huge values included), and any damage is an error.
func TestEmbeddingCodec(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	emb := &Embedding{
		Shapes: [][3]int{{2, 2, 3}, {1, 1, 5}},
		Layers: [][]float32{
			{0, 1.5, 0, 0, negZero, 3e-38, 0, 0, 0, 7, 0, -2},
			{0, 0, 0, 0, 3.4e38},
		},
	}
	b := encodeEmbedding(emb)
	got, err := decodeEmbedding(b)
	if err != nil {
		t.Fatal(err)
	}
	for l := range emb.Layers {
		if got.Shapes[l] != emb.Shapes[l] {
			t.Fatalf("layer %d shape %v, want %v", l, got.Shapes[l], emb.Shapes[l])
		}
		for i, v := range emb.Layers[l] {
			if math.Float32bits(got.Layers[l][i]) != math.Float32bits(v) {
				t.Fatalf("layer %d value %d: %v, want %v", l, i, got.Layers[l][i], v)
			}
		}
	}
	for i := range b {
		d := append([]byte(nil), b...)
		d[i] ^= 0x10
		if _, err := decodeEmbedding(d); err == nil {
			t.Fatalf("flipping byte %d went unnoticed", i)
		}
	}
	for _, n := range []int{0, 8, 15, len(b) - 1} {
		if _, err := decodeEmbedding(b[:n]); err == nil {
			t.Fatalf("%d of %d bytes decoded", n, len(b))
		}
	}
}

// FuzzDecodeEmbedding: a damaged cache file is an error, never a panic.
func FuzzDecodeEmbedding(f *testing.F) {
	f.Add(encodeEmbedding(&Embedding{Shapes: [][3]int{{1, 2, 2}}, Layers: [][]float32{{0, 1, 0, 2}}}))
	f.Add([]byte("MELPIPS2"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if emb, err := decodeEmbedding(b); err == nil {
			for l, s := range emb.Shapes {
				if len(emb.Layers[l]) != s[0]*s[1]*s[2] {
					t.Fatalf("layer %d: %d values for shape %v", l, len(emb.Layers[l]), s)
				}
			}
		}
	})
}
