package lpips

import (
	"github.com/munit-eval/munit-eval/images"
	"math"
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
		if got := PairIndices(c.p, c.pairs, k, 0); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: pairs %v, want %v", c.p, got, c.want)
		}
	}
	// The paper's protocol: 19 pairs from 38 samples, each sample in exactly one pair.
	seen := map[int]int{}
	for _, p := range PairIndices(Independent, 19, 38, 0) {
		seen[p[0]]++
		seen[p[1]]++
	}
	if len(seen) != 38 {
		t.Fatalf("independent pairing uses %d distinct samples, want 38", len(seen))
	}
	// Random: distinct pairs a < b < k, the seed's alone; all of them when
	// asked for every pair; each pair equally likely as the first draw
	// (chi-square over 20,000 seeds of the 10 pairs of 5 samples, 9
	// degrees of freedom: 27.9 is the 0.999 quantile).
	if k := SamplesNeeded(Random, 50, 50); k != 50 {
		t.Fatalf("random: needs %d samples, want k = 50", k)
	}
	r := PairIndices(Random, 50, 50, 7)
	if len(r) != 50 || !reflect.DeepEqual(r, PairIndices(Random, 50, 50, 7)) || reflect.DeepEqual(r, PairIndices(Random, 50, 50, 8)) {
		t.Fatalf("random pairs: %d drawn, or not the seed's alone", len(r))
	}
	for _, n := range []int{50, 1225, 2000} {
		got := map[[2]int]bool{}
		for _, ab := range PairIndices(Random, n, 50, 3) {
			if ab[0] < 0 || ab[0] >= ab[1] || ab[1] >= 50 || got[ab] {
				t.Fatalf("random pair %v out of range or repeated", ab)
			}
			got[ab] = true
		}
		if len(got) != min(n, 1225) {
			t.Fatalf("random: %d pairs asked, %d distinct drawn", n, len(got))
		}
	}
	count := map[[2]int]float64{}
	for seed := range int64(20000) {
		count[PairIndices(Random, 1, 5, seed)[0]]++
	}
	chi := 0.0
	for _, c := range count {
		chi += (c - 2000) * (c - 2000) / 2000
	}
	if len(count) != 10 || chi > 27.9 {
		t.Fatalf("random first pairs: %d distinct, chi-square %.1f", len(count), chi)
	}
	if _, err := ParsePairing("shuffled"); err == nil {
		t.Fatal("ParsePairing accepted an unknown pairing")
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
// (negative zero, tiny and huge values included) with the model and key the
// record carries, and any damage is an error.
func TestEmbeddingCodec(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	emb := &Embedding{
		Shapes: [][3]int{{2, 2, 3}, {1, 1, 5}},
		Layers: [][]float32{
			{0, 1.5, 0, 0, negZero, 3e-38, 0, 0, 0, 7, 0, -2},
			{0, 0, 0, 0, 3.4e38},
		},
	}
	b := encodeEmbedding("model-sha", "image-sha-s64", emb)
	model, key, got, err := decodeEmbedding(b)
	if err != nil {
		t.Fatal(err)
	}
	if model != "model-sha" || key != "image-sha-s64" {
		t.Fatalf("record carries model %q key %q", model, key)
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
		if _, _, _, err := decodeEmbedding(d); err == nil {
			t.Fatalf("flipping byte %d went unnoticed", i)
		}
	}
	for _, n := range []int{0, 8, 15, len(b) - 1} {
		if _, _, _, err := decodeEmbedding(b[:n]); err == nil {
			t.Fatalf("%d of %d bytes decoded", n, len(b))
		}
	}
}

// FuzzDecodeEmbedding: a damaged cache file is an error, never a panic, and
// whatever decodes is self-consistent.
func FuzzDecodeEmbedding(f *testing.F) {
	f.Add(encodeEmbedding("m", "k", &Embedding{Shapes: [][3]int{{1, 2, 2}}, Layers: [][]float32{{0, 1, 0, 2}}}))
	f.Add([]byte("MELPIPS3"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, _, emb, err := decodeEmbedding(b); err == nil {
			for l, s := range emb.Shapes {
				if len(emb.Layers[l]) != s[0]*s[1]*s[2] {
					t.Fatalf("layer %d: %d values for shape %v", l, len(emb.Layers[l]), s)
				}
			}
		}
	})
}
