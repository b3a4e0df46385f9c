package metrics

import (
	"encoding/json"
	"github.com/munit-eval/munit-eval/warning"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSoftmax(t *testing.T) {
	// Large logits would overflow exp without the max subtraction; the
	// values are 1/(1+e) and e/(1+e).
	p := Softmax([]float32{1000, 1001})
	e := math.E
	if !near(p[0], 1/(1+e), 1e-15) || !near(p[1], e/(1+e), 1e-15) {
		t.Errorf("Softmax = %v", p)
	}
	lp := LogSoftmax([]float64{0, -1000})
	// ln(1 + e^-1000) rounds to 0 in float64, so the values are exact.
	if lp[0] != 0 || lp[1] != -1000 {
		t.Errorf("LogSoftmax = %v, want [0 -1000]", lp)
	}
	if len(Softmax([]float64{})) != 0 || len(LogSoftmax([]float32{})) != 0 {
		t.Error("empty logits should give empty results")
	}
	u := Softmax([]float64{3, 3, 3, 3})
	for _, v := range u {
		if v != 0.25 {
			t.Errorf("equal logits: %v, want 0.25 each", u)
		}
	}
}

func TestKL(t *testing.T) {
	tests := []struct {
		name string
		p, q []float64
		want float64
	}{
		// scipy.stats.entropy documentation: entropy([1/2, 1/2], qk=[9/10, 1/10]).
		{"scipy docs", []float64{0.5, 0.5}, []float64{0.9, 0.1}, 0.5108256237659907},
		{"identical", []float64{0.2, 0.8}, []float64{0.2, 0.8}, 0},
		{"0 ln 0 = 0", []float64{0, 1}, []float64{0.5, 0.5}, math.Ln2},
		{"0 against 0", []float64{0, 1}, []float64{0, 1}, 0},
		{"p > 0, q = 0", []float64{0.5, 0.5}, []float64{1, 0}, math.Inf(1)},
		{"length mismatch", []float64{1}, []float64{0.5, 0.5}, math.NaN()},
	}
	for _, tt := range tests {
		if got := KL(tt.p, tt.q); !near(got, tt.want, 1e-15) {
			t.Errorf("%s: KL = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// confident returns a probability row putting 1−(C−1)ε on class c.
func confident(c, classes int, eps float64) []float64 {
	row := make([]float64, classes)
	for j := range row {
		row[j] = eps
	}
	row[c] = 1 - float64(classes-1)*eps
	return row
}

func TestScoreMUNITClosedForms(t *testing.T) {
	const C = 4
	// (a) Every input uses all C classes equally (K = 2C samples, one-hot):
	// q_i = q = uniform, KL(onehot || uniform) = ln C: IS = CIS = ln C.
	allModes := make([][][]float64, 5)
	for i := range allModes {
		for k := range 2 * C {
			allModes[i] = append(allModes[i], confident(k%C, C, 0))
		}
	}
	// (b) Each input always gets the same class, inputs spread evenly over
	// the classes: q_i = onehot, q = uniform: CIS = 0, IS = ln C.
	collapsed := make([][][]float64, 2*C)
	for i := range collapsed {
		for range 3 {
			collapsed[i] = append(collapsed[i], confident(i%C, C, 0))
		}
	}
	// (c) Uniform predictions: every KL is 0.
	uniform := [][][]float64{{{0.25, 0.25, 0.25, 0.25}, {0.25, 0.25, 0.25, 0.25}}}
	tests := []struct {
		name    string
		probs   [][][]float64
		is, cis float64
	}{
		{"all modes per input", allModes, math.Log(C), math.Log(C)},
		{"one mode per input", collapsed, math.Log(C), 0},
		{"uniform predictions", uniform, 0, 0},
	}
	for _, tt := range tests {
		s, err := ScoreMUNIT(tt.probs)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !near(s.IS, tt.is, 1e-12) || !near(s.CIS, tt.cis, 1e-12) {
			t.Errorf("%s: IS %v CIS %v, want %v %v", tt.name, s.IS, s.CIS, tt.is, tt.cis)
		}
		if !near(s.ISExp, math.Exp(tt.is), 1e-12) || !near(s.CISExp, math.Exp(tt.cis), 1e-12) {
			t.Errorf("%s: exp forms %v %v", tt.name, s.ISExp, s.CISExp)
		}
	}
	// Nearly confident (ε = 1e-6) stays within 1e-4 of ln C.
	near1 := make([][][]float64, 3)
	for i := range near1 {
		for k := range C {
			near1[i] = append(near1[i], confident(k, C, 1e-6))
		}
	}
	s, err := ScoreMUNIT(near1)
	if err != nil {
		t.Fatal(err)
	}
	if !near(s.CIS, math.Log(C), 1e-4) {
		t.Errorf("near-confident CIS = %v, want ≈ ln 4", s.CIS)
	}
}

func TestScoreMUNITWarnings(t *testing.T) {
	s, err := ScoreMUNIT([][][]float64{{{1, 0, 0}}, {{0, 1, 0}}})
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(warning.Details(s.Warnings), "\n")
	if !strings.Contains(joined, "one sample per input") || !strings.Contains(joined, "class 2 of 3") {
		t.Errorf("warnings %q", s.Warnings)
	}
}

func TestScoreMUNITBadInput(t *testing.T) {
	tests := []struct {
		name  string
		probs [][][]float64
		want  string
	}{
		{"no inputs", nil, "no inputs"},
		{"no samples", [][][]float64{{}}, "no samples"},
		{"no classes", [][][]float64{{{}}}, "no classes"},
		{"ragged samples", [][][]float64{{{1}}, {{1}, {1}}}, "input 1 has 2 samples"},
		{"ragged classes", [][][]float64{{{1}, {0.5, 0.5}}}, "input 0 sample 1 has 2 classes"},
		{"NaN", [][][]float64{{{math.NaN(), 1}}}, "probability NaN"},
		{"negative", [][][]float64{{{-0.5, 1.5}}}, "probability -0.5"},
		{"not normalised", [][][]float64{{{0.5, 0.4}}}, "sum to 0.9"},
	}
	for _, tt := range tests {
		_, err := ScoreMUNIT(tt.probs)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestProbsFromLogits(t *testing.T) {
	p, err := ProbsFromLogits([]float32{0, 0, 1000, 1000, 5, 1}, 1, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if p[0][0][0] != 0.5 || p[0][1][1] != 0.5 || !near(p[0][2][0], 1/(1+math.Exp(-4)), 1e-15) {
		t.Errorf("probs %v", p)
	}
	tests := []struct {
		name    string
		logits  []float32
		m, k, c int
		want    string
	}{
		{"NaN", []float32{0, float32(math.NaN())}, 1, 1, 2, "logits[0, 0, 1] is NaN"},
		{"Inf", []float32{float32(math.Inf(1)), 0}, 1, 1, 2, "logits[0, 0, 0] is +Inf"},
		{"K = 0", nil, 2, 0, 4, "at least 1"},
		{"length", []float32{1, 2, 3}, 1, 2, 2, "needs 4 values, got 3"},
	}
	for _, tt := range tests {
		_, err := ProbsFromLogits(tt.logits, tt.m, tt.k, tt.c)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestMT19937(t *testing.T) {
	// The reference mt19937ar.c, init_genrand(5489): first outputs.
	m := newMT19937(5489)
	for i, want := range []uint32{3499211612, 581869302, 3890346734, 3586334585} {
		if got := m.next(); got != want {
			t.Errorf("output %d = %d, want %d", i, got, want)
		}
	}
	p := numpyPermutation(1000, 2020)
	s := slices.Clone(p)
	slices.Sort(s)
	for i, v := range s {
		if v != i {
			t.Fatalf("numpyPermutation is not a permutation of 0..999")
		}
	}
}

type isRefSet struct {
	Shape      []int                         `json:"shape"`
	IsAll      struct{ Exp, Nonexp float64 } `json:"is_all"`
	IsSplits10 struct {
		Mean, Std float64
		PerSplit  []float64 `json:"per_split"`
	} `json:"is_splits10"`
	MunitPaper map[string]float64            `json:"munit_paper"`
	TorchFid   map[string]map[string]float64 `json:"torch_fidelity_isc"`
	Logits     string                        `json:"logits_npy"`
}

// TestParityIS checks every set of ../shared/parity/is_refs.json (numpy
// and torch-fidelity 0.4.0 in float64 on the same float32 logits) within
// 1e-9.
func TestParityIS(t *testing.T) {
	dir := parityDir(t)
	raw, err := os.ReadFile(filepath.Join(dir, "is_refs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Sets [][2]json.RawMessage `json:"sets"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("is_refs.json: %v", err)
	}
	if len(doc.Sets) == 0 {
		t.Fatal("is_refs.json: no sets")
	}
	const tol = 1e-9
	check := func(t *testing.T, what string, got, want float64) {
		t.Helper()
		if !near(got, want, tol) {
			t.Errorf("%s = %.17g, want %.17g (diff %.3g)", what, got, want, got-want)
		}
	}
	for _, pair := range doc.Sets {
		var name string
		var ref isRefSet
		if err := json.Unmarshal(pair[0], &name); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(pair[1], &ref); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Run(name, func(t *testing.T) {
			shape, logits, err := readNPY(filepath.Join(dir, ref.Logits))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(shape, ref.Shape) || len(shape) != 3 {
				t.Fatalf("shape %v, is_refs.json says %v", shape, ref.Shape)
			}
			probs, err := ProbsFromLogits(logits, shape[0], shape[1], shape[2])
			if err != nil {
				t.Fatal(err)
			}
			s, err := ScoreMUNIT(probs)
			if err != nil {
				t.Fatal(err)
			}
			mp := ref.MunitPaper
			if len(mp) < 6 {
				t.Fatalf("munit_paper has %d values, want 6", len(mp))
			}
			check(t, "IS_nonexp", s.IS, mp["IS_nonexp"])
			check(t, "IS_exp", s.ISExp, mp["IS_exp"])
			check(t, "CIS_nonexp", s.CIS, mp["CIS_nonexp"])
			check(t, "CIS_exp", s.CISExp, mp["CIS_exp"])
			check(t, "IS_mean_over_inputs_of_exp", s.ISMeanOverInputsOfExp, mp["IS_mean_over_inputs_of_exp"])
			check(t, "CIS_mean_over_inputs_of_exp", s.CISMeanOverInputsOfExp, mp["CIS_mean_over_inputs_of_exp"])

			rows := Rows(probs)
			one, err := SplitInceptionScore(rows, SplitOptions{Splits: 1})
			if err != nil {
				t.Fatal(err)
			}
			check(t, "is_all.exp", one.Mean, ref.IsAll.Exp)
			check(t, "is_all.nonexp", math.Log(one.Mean), ref.IsAll.Nonexp)
			ten, err := SplitInceptionScore(rows, SplitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			check(t, "is_splits10.mean", ten.Mean, ref.IsSplits10.Mean)
			check(t, "is_splits10.std", ten.Std, ref.IsSplits10.Std)
			if len(ref.IsSplits10.PerSplit) != len(ten.PerSplit) {
				t.Fatalf("%d splits, is_refs.json has %d", len(ten.PerSplit), len(ref.IsSplits10.PerSplit))
			}
			for i, want := range ref.IsSplits10.PerSplit {
				check(t, "is_splits10.per_split", ten.PerSplit[i], want)
			}

			if len(ref.TorchFid) != 3 {
				t.Fatalf("torch_fidelity_isc has %d entries, want 3", len(ref.TorchFid))
			}
			for key, want := range ref.TorchFid {
				var opts SplitOptions
				switch {
				case strings.HasPrefix(key, "splits1_shuffle_false"):
					opts = SplitOptions{Splits: 1}
				case strings.HasPrefix(key, "splits10_shuffle_false"):
					opts = SplitOptions{Splits: 10}
				case strings.HasPrefix(key, "splits10_shuffle_true_seed2020"):
					opts = SplitOptions{Splits: 10, Shuffle: true, Seed: 2020}
				default:
					t.Fatalf("unknown torch_fidelity_isc entry %q", key)
				}
				got, err := SplitInceptionScore(rows, opts)
				if err != nil {
					t.Fatal(err)
				}
				check(t, key+" mean", got.Mean, want["inception_score_mean"])
				check(t, key+" std", got.Std, want["inception_score_std"])
			}
		})
	}
}

func TestSplitInceptionScore(t *testing.T) {
	// 10 one-hot rows over 10 classes: one split has IS = 10, ten splits of
	// one row each have IS = 1, std 0.
	var rows [][]float64
	for c := range 10 {
		rows = append(rows, confident(c, 10, 0))
	}
	one, err := SplitInceptionScore(rows, SplitOptions{Splits: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !near(one.Mean, 10, 1e-12) || one.Std != 0 {
		t.Errorf("one split: %v ± %v, want 10 ± 0", one.Mean, one.Std)
	}
	ten, err := SplitInceptionScore(rows, SplitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ten.Splits != 10 || !near(ten.Mean, 1, 1e-12) || len(ten.Warnings) == 0 {
		t.Errorf("ten splits: %+v", ten)
	}
	// Shuffling only changes which rows share a split.
	two, err := SplitInceptionScore(rows, SplitOptions{Splits: 2, Shuffle: true, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if !near(two.Mean, 5, 1e-12) {
		t.Errorf("two shuffled splits of distinct one-hots: %v, want 5", two.Mean)
	}
	if _, err := SplitInceptionScore(rows[:5], SplitOptions{}); err == nil || !strings.Contains(err.Error(), "5 rows cannot fill 10 splits") {
		t.Errorf("too few rows: error %v", err)
	}
}

func TestMUNITBootstrap(t *testing.T) {
	// Random probabilities; the bootstrap replicate on the identity draw
	// must equal the score itself (the expanded IS formula).
	r := newRand(11)
	probs := make([][][]float64, 30)
	for i := range probs {
		for range 8 {
			logits := make([]float64, 5)
			for j := range logits {
				logits[j] = 2 * r.NormFloat64()
			}
			probs[i] = append(probs[i], Softmax(logits))
		}
	}
	s, err := ScoreMUNIT(probs)
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, len(probs))
	for i := range idx {
		idx[i] = i
	}
	if got := s.resampledIS(idx, make([]float64, 5)); !near(got, s.IS, 1e-12) {
		t.Errorf("identity resample IS = %v, score %v", got, s.IS)
	}
	b, err := s.Bootstrap(1000, 5, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.IS) != 1000 || len(b.CIS) != 1000 {
		t.Fatalf("replicates %d %d", len(b.IS), len(b.CIS))
	}
	if !(b.ISCI[0] < s.IS && s.IS < b.ISCI[1]) || !(b.CISCI[0] < s.CIS && s.CIS < b.CISCI[1]) {
		t.Errorf("intervals IS %v CIS %v do not contain the scores %v %v", b.ISCI, b.CISCI, s.IS, s.CIS)
	}
	b2, _ := s.Bootstrap(1000, 5, 0.95)
	if !slices.Equal(b.IS, b2.IS) {
		t.Error("same seed gave different replicates")
	}
	if _, err := s.Bootstrap(0, 5, 0.95); err == nil {
		t.Error("0 resamples accepted")
	}
}
