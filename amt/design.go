package amt

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/translate"
)

// source is one image a question shows before it is written to the batch.
type source struct {
	info  ImageInfo
	path  string // file to read
	size  int    // ResizeCrop size for inputs (0: none)
	scram uint64 // scramble seed (kind scrambled)
	// name is the image's file name in the batch, set when written.
	name string
}

// methodStore is an opened store and the stems it holds.
type methodStore struct {
	name  string
	store *translate.Store
	stems map[string]int
}

// Design is a batch's study design (docs/amt.md): which
// questions, in which HITs, with which method on which side, and the image
// every slot will show. DesignBatch computes it from the stores' manifests
// alone, reading no image, so it can be checked without files; Write then
// renders the images and writes the batch.
type Design struct {
	// Key is the answer key without what needs the rendered images: its
	// Images and HITs are filled by Write.
	Key *Key
	// Warnings are things the researcher must know about the draw (samples
	// shown in more than one question); amt make prints them.
	Warnings []string

	cfg    MakeConfig
	secret []byte
	srcs   []*source          // every image to render, inputs once
	slots  [][][3]*source     // (hit, slot) -> input, left, right
	labels map[*source]string // occurrence label of each image (see Make)
}

// DesignBatch draws the study design of cfg from the stores' manifests.
//
// For each baseline B, Questions questions compare the reference with B on a
// uniformly drawn input i (among the inputs every store holds), each method's
// sample index drawn uniformly from its K samples, with the sides in random
// order. Draws are independent (with replacement), so a sample may appear in
// several questions: Questions above the baseline's distinct samples
// (inputs·K_B) adds a warning, and Questions above its distinct comparisons
// (inputs·K_ref·K_B) is refused, as no draw could avoid repeating one. Each
// HIT holds c = round(Catch·PerHIT) catch questions (at least one when
// Catch > 0): the reference's output of a random input against a copy with
// its pixel blocks shuffled, whose right answer is the unscrambled side.
// The real questions are shuffled and dealt PerHIT−c to a HIT; the last HIT
// is filled up with catch questions (with Catch = 0, with further real
// questions for the baselines in turn) so that every row of batch.csv has
// every variable. Questions within a HIT are in random order.
//
// The secret is derived from Seed, so the same configuration gives the same
// batch byte for byte; keep the seed private like the key. The output folder
// is checked here, before any work: it must not hold a batch unless Force.
func DesignBatch(cfg MakeConfig) (*Design, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if err := checkOut(cfg.Out, cfg.Force); err != nil {
		return nil, err
	}
	stores := make([]*methodStore, len(cfg.Methods))
	for i, m := range cfg.Methods {
		s, err := translate.OpenStore(m.Store)
		if err != nil {
			return nil, fmt.Errorf("amt: method %s: %w", m.Name, err)
		}
		ms := &methodStore{name: m.Name, store: s, stems: map[string]int{}}
		for j, in := range s.Manifest().Inputs {
			ms.stems[in.Stem] = j
		}
		stores[i] = ms
	}
	var ref *methodStore
	var baselines []*methodStore
	for _, s := range stores {
		if s.name == cfg.Reference {
			ref = s
		} else {
			baselines = append(baselines, s)
		}
	}
	// Inputs common to all stores, in the reference's order; the same stem
	// must be the same image everywhere.
	var common []string
	for _, in := range ref.store.Manifest().Inputs {
		ok := true
		for _, s := range baselines {
			j, has := s.stems[in.Stem]
			if !has {
				ok = false
				break
			}
			if other := s.store.Manifest().Inputs[j].SHA256; other != in.SHA256 {
				return nil, fmt.Errorf("amt: input %s differs between %s and %s (sha256 %s vs %s)", in.Stem, ref.name, s.name, in.SHA256[:12], other[:12])
			}
		}
		if ok {
			common = append(common, in.Stem)
		}
	}
	if len(common) == 0 {
		return nil, fmt.Errorf("amt: the stores of %s have no input in common", methodNames(stores))
	}
	d := &Design{cfg: cfg, secret: deriveSecret(cfg.Seed), labels: map[*source]string{}}
	// Bound the questions against what the stores hold, before any draw.
	kRef := ref.store.SamplesPerInput()
	for _, b := range baselines {
		samples := len(common) * b.store.SamplesPerInput()
		if distinct := samples * kRef; cfg.Questions > distinct {
			return nil, fmt.Errorf("amt: %d questions per baseline, but %s and %s have only %d distinct comparisons (%d common inputs x %d x %d samples); ask at most %d questions", cfg.Questions, ref.name, b.name, distinct, len(common), kRef, b.store.SamplesPerInput(), distinct)
		}
		if cfg.Questions > samples {
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s: %d questions drawn from %d samples (%d inputs x %d): some samples are shown in more than one question", b.name, cfg.Questions, samples, len(common), b.store.SamplesPerInput()))
		}
	}
	inputPaths, err := cfg.inputPaths(ref, common)
	if err != nil {
		return nil, err
	}

	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x616d742d6d616b65)) // "amt-make"

	// Real questions, then the deal into HITs.
	type pending struct {
		base  *methodStore // nil for a catch question
		stem  string
		kRef  int
		kBase int
		swap  bool // reference on the right
	}
	draw := func(b *methodStore) pending {
		p := pending{base: b, stem: common[rng.IntN(len(common))]}
		p.kRef = rng.IntN(kRef)
		if b != nil {
			p.kBase = rng.IntN(b.store.SamplesPerInput())
		}
		p.swap = rng.IntN(2) == 1
		return p
	}
	var real []pending
	for _, b := range baselines {
		for range cfg.Questions {
			real = append(real, draw(b))
		}
	}
	rng.Shuffle(len(real), func(i, j int) { real[i], real[j] = real[j], real[i] })
	c := catchPerHIT(cfg.Catch, cfg.PerHIT)
	if w := catchWarning(c, cfg.PerHIT); w != "" {
		d.Warnings = append(d.Warnings, w)
	}
	perReal := cfg.PerHIT - c
	nHITs := (len(real) + perReal - 1) / perReal
	var hits [][]pending
	next := 0
	for h := 0; h < nHITs; h++ {
		var qs []pending
		for len(qs) < perReal && next < len(real) {
			qs = append(qs, real[next])
			next++
		}
		for extra := 0; len(qs) < cfg.PerHIT; extra++ {
			if c == 0 {
				qs = append(qs, draw(baselines[extra%len(baselines)]))
			} else {
				qs = append(qs, draw(nil))
			}
		}
		rng.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
		hits = append(hits, qs)
	}

	key := &Key{
		Schema:    KeySchema,
		Reference: cfg.Reference,
		Params: Params{
			Dataset: cfg.Dataset, Inputs: cfg.Inputs, Questions: cfg.Questions, PerHIT: cfg.PerHIT, Workers: cfg.Workers,
			Catch: cfg.Catch, CatchPerHIT: c, Seed: cfg.Seed, BaseURL: cfg.BaseURL,
		},
		Secret: hex.EncodeToString(d.secret),
		Images: map[string]ImageInfo{},
	}
	d.Key = key
	for _, s := range stores {
		key.Params.Methods = append(key.Params.Methods, MethodRef{Name: s.name, Store: s.store.Dir(), SamplesPerInput: s.store.SamplesPerInput()})
	}
	for _, b := range baselines {
		key.Params.Baselines = append(key.Params.Baselines, b.name)
	}
	for s := 1; s <= cfg.PerHIT; s++ {
		key.Fields = append(key.Fields, slotField(s))
		key.Variables = append(key.Variables, inputVar(s), leftVar(s), rightVar(s))
	}

	// Sources of every slot; inputs are shared between questions.
	inputSrc := map[string]*source{}
	d.slots = make([][][3]*source, len(hits))
	sample := func(ms *methodStore, stem string, k int) *source {
		i := ms.stems[stem]
		s := &source{info: ImageInfo{Kind: KindSample, Method: ms.name, Input: stem, K: k}, path: ms.store.SamplePath(i, k)}
		d.srcs = append(d.srcs, s)
		return s
	}
	for h, qs := range hits {
		d.slots[h] = make([][3]*source, len(qs))
		for j, p := range qs {
			id := h*cfg.PerHIT + j
			in := inputSrc[p.stem]
			if in == nil {
				in = &source{info: ImageInfo{Kind: KindInput, Input: p.stem}, path: inputPaths[p.stem], size: ref.store.Manifest().Size}
				inputSrc[p.stem] = in
				d.srcs = append(d.srcs, in)
				d.labels[in] = "input/" + p.stem
			}
			refSrc := sample(ref, p.stem, p.kRef)
			var other *source
			q := Question{ID: id, HIT: h, AnswerField: slotField(j + 1)}
			if p.base == nil {
				other = &source{info: ImageInfo{Kind: KindScrambled, Method: ref.name, Input: p.stem, K: p.kRef}, path: refSrc.path, scram: rng.Uint64()}
				d.srcs = append(d.srcs, other)
				q.Catch = true
			} else {
				other = sample(p.base, p.stem, p.kBase)
			}
			otherName := CatchMethod
			if p.base != nil {
				otherName = p.base.name
			}
			left, right := refSrc, other
			q.Left, q.Right = ref.name, otherName
			if p.swap {
				left, right = other, refSrc
				q.Left, q.Right = otherName, ref.name
			}
			if q.Catch {
				if q.Left == CatchMethod {
					q.Correct = strPtr(AnswerRight)
				} else {
					q.Correct = strPtr(AnswerLeft)
				}
			}
			// Occurrence labels: outputs carry their question and side.
			d.labels[left] = fmt.Sprintf("q%d/left", id)
			d.labels[right] = fmt.Sprintf("q%d/right", id)
			d.slots[h][j] = [3]*source{in, left, right}
			key.Questions = append(key.Questions, q)
		}
	}
	return d, nil
}

// catchWarning says when c catch questions per HIT (of perHIT) make amt
// analyze's default threshold all or nothing for a worker who answers one
// HIT: one slip would exclude them with every answer. The share is the
// researcher's choice (the paper's protocol is one in ten), so it is kept
// and the note says what would tolerate a miss.
func catchWarning(c, perHIT int) string {
	t := DefaultAnalyzeOptions().CatchThreshold
	need := CatchToleratingMiss(t)
	if c == 0 || need == 0 || c >= need {
		return ""
	}
	share := strconv.FormatFloat(float64(need)/float64(perHIT), 'g', 2, 64)
	fix := "--catch " + share + " keeps a worker who misses one"
	if need >= perHIT {
		fix = fmt.Sprintf("a worker who misses one is kept from %d catch questions on, so a HIT needs more than %d questions (--per-hit)", need, need)
	} else if v, _ := strconv.ParseFloat(share, 64); catchPerHIT(v, perHIT) != need { // the share as printed must give need
		fix = fmt.Sprintf("a worker who misses one is kept from %d catch questions on", need)
	}
	return fmt.Sprintf("%d catch question(s) per HIT: a worker who answers one HIT meets amt analyze's %.0f%% catch threshold only with all of them right, and one slip excludes all their answers (their catch answers of all HITs count together); %s",
		c, 100*t, fix)
}

// catchPerHIT is round(share·perHIT), at least 1 when share > 0.
func catchPerHIT(share float64, perHIT int) int {
	c := int(math.Round(share * float64(perHIT)))
	if share > 0 && c == 0 {
		c = 1
	}
	return c
}

// inputPaths maps each stem to its input file: cfg.Inputs/<stem>.<ext> when
// set, else the reference store's input file.
func (cfg *MakeConfig) inputPaths(ref *methodStore, stems []string) (map[string]string, error) {
	out := map[string]string{}
	if cfg.Inputs == "" {
		for _, st := range stems {
			out[st] = ref.store.InputPath(ref.stems[st])
		}
		return out, nil
	}
	files, err := images.ListDir(cfg.Inputs)
	if err != nil {
		return nil, fmt.Errorf("amt: inputs: %w", err)
	}
	byStem := map[string]string{}
	for _, f := range files {
		byStem[f.Stem] = f.Path
	}
	for _, st := range stems {
		p, ok := byStem[st]
		if !ok {
			return nil, fmt.Errorf("amt: inputs %s has no image %s.* (the stores hold it)", cfg.Inputs, st)
		}
		out[st] = p
	}
	return out, nil
}

// methodNames lists the stores' method names.
func methodNames(stores []*methodStore) string {
	var n []string
	for _, s := range stores {
		n = append(n, s.name)
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}
