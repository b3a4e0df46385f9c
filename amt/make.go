package amt

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"text/template"

	_ "embed"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/atomicfile"
	"github.com/munit-eval/munit-eval/translate"
)

// Method is one compared method: its name and sample store folder
// (STORE/<method>).
type Method struct {
	Name  string
	Store string
}

// MakeConfig holds the parameters of Make. DefaultMakeConfig gives the
// paper's defaults.
type MakeConfig struct {
	// Methods are the compared methods, the reference among them.
	Methods []Method
	// Reference names the method every other one is compared with.
	Reference string
	// Inputs, when set, is the folder the input images are read from (by
	// stem); otherwise each store's own input folder.
	Inputs string
	// Questions per baseline, questions per HIT, workers per HIT.
	Questions int
	PerHIT    int
	Workers   int
	// Catch is the share of each HIT's questions that are catch questions.
	Catch float64
	// Seed draws the questions and derives the image-naming secret.
	Seed int64
	// BaseURL is where BATCH/images/ will be served from; image URLs are
	// BaseURL + "/" + name. Empty gives relative URLs "images/<name>".
	BaseURL string
	// Out is the batch folder. It must not exist or be empty unless Force.
	Out   string
	Force bool
	// Workers for image encoding (0: the number of CPUs).
	Jobs int
}

// DefaultMakeConfig returns the paper's protocol: 500 questions per baseline,
// 10 per HIT, 5 workers per HIT, 10% catch questions, seed 0.
func DefaultMakeConfig() MakeConfig {
	return MakeConfig{Reference: "MUNIT", Questions: 500, PerHIT: 10, Workers: 5, Catch: 0.1}
}

//go:embed hit.html.tmpl
var hitTemplateText string

var hitTemplate = template.Must(template.New("hit").Parse(hitTemplateText))

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

// MaxWorkers bounds MakeConfig.Workers (assignments per HIT).
const MaxWorkers = 1000

// MaxPerHIT bounds MakeConfig.PerHIT: a HIT is one sitting of one worker.
const MaxPerHIT = 1000

// MaxQuestions bounds MakeConfig.Questions (per baseline): the paper asks
// 500, and every question writes two images.
const MaxQuestions = 100000

// Design is a batch's study design (DESIGN.md §3, human preference): which
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

// Make builds an AMT batch (DESIGN.md §3, human preference) in cfg.Out:
// DesignBatch, then Design.Write. The batch holds
//
//   - images/: every image shown, re-encoded as PNG (no metadata), named
//     hex(HMAC-SHA256(secret, occurrence))[:32] + ".png", where the
//     occurrence is (input stem, pixels) for inputs and (question id, side,
//     pixels) for outputs, so that no name can be computed without the secret,
//     byte-identical inputs still get a file each, and no output image recurs
//     across questions (a recurring image would betray the reference, which
//     appears in every comparison);
//   - batch.csv: MTurk's batch input, one row per HIT, columns
//     q<s>_input, q<s>_left, q<s>_right for s = 1..PerHIT;
//   - hit.html: the HIT layout (crowd-html-elements);
//   - key.json: the answer key (Key), mode 0600.
//
// The batch is written into a temporary folder beside cfg.Out and moved into
// place at the end, so a failed or interrupted Make leaves no partial batch.
func Make(ctx context.Context, cfg MakeConfig) (*Key, error) {
	d, err := DesignBatch(cfg)
	if err != nil {
		return nil, err
	}
	return d.Write(ctx)
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
			Inputs: cfg.Inputs, Questions: cfg.Questions, PerHIT: cfg.PerHIT, Workers: cfg.Workers,
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

// Write renders every image of the design and writes the batch (see Make)
// into a temporary folder beside the design's output folder, then moves it
// into place; on any failure the temporary folder is removed and the output
// folder is left as it was. It returns the complete key.
func (d *Design) Write(ctx context.Context) (*Key, error) {
	cfg := d.cfg
	if err := checkOut(cfg.Out, cfg.Force); err != nil {
		return nil, err
	}
	parent := filepath.Dir(filepath.Clean(cfg.Out))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("amt: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(filepath.Clean(cfg.Out))+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("amt: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("amt: %w", err)
	}
	if err := os.Mkdir(filepath.Join(tmp, ImagesDir), 0o755); err != nil {
		return nil, fmt.Errorf("amt: %w", err)
	}
	key := d.Key
	key.Images = map[string]ImageInfo{}
	key.HITs = nil
	if err := writeImages(ctx, cfg.Jobs, tmp, d.secret, d.srcs, d.labels); err != nil {
		return nil, err
	}
	for _, s := range d.srcs {
		if prev, dup := key.Images[s.name]; dup {
			return nil, fmt.Errorf("amt: internal error: images %s and %s got the same name %s", prev.Source, s.path, s.name)
		}
		key.Images[s.name] = s.info
	}
	for h := range d.slots {
		row := make([]string, 0, len(key.Variables))
		for _, sl := range d.slots[h] {
			for _, s := range sl {
				row = append(row, imageURL(cfg.BaseURL, s.name))
			}
		}
		key.HITs = append(key.HITs, row)
	}
	if err := key.validate(); err != nil {
		return nil, fmt.Errorf("amt: internal error, invalid key: %w", err)
	}
	if err := writeBatchFiles(tmp, key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := moveBatch(tmp, cfg.Out, cfg.Force); err != nil {
		return nil, err
	}
	done = true
	return key, nil
}

// check validates a MakeConfig.
func (cfg *MakeConfig) check() error {
	switch {
	case cfg.Out == "":
		return errors.New("amt: no output folder")
	case cfg.Questions < 1 || cfg.Questions > MaxQuestions:
		return fmt.Errorf("amt: questions %d, want 1 to %d per baseline", cfg.Questions, MaxQuestions)
	case cfg.PerHIT > MaxPerHIT:
		return fmt.Errorf("amt: per-hit %d, want at most %d", cfg.PerHIT, MaxPerHIT)
	case cfg.PerHIT < 1:
		return fmt.Errorf("amt: per-hit %d, want at least 1", cfg.PerHIT)
	case cfg.Workers < 1 || cfg.Workers > MaxWorkers:
		return fmt.Errorf("amt: workers %d, want 1 to %d per HIT", cfg.Workers, MaxWorkers)
	case !(cfg.Catch >= 0 && cfg.Catch < 1):
		return fmt.Errorf("amt: catch %g, want a share in [0, 1)", cfg.Catch)
	}
	if c := catchPerHIT(cfg.Catch, cfg.PerHIT); c >= cfg.PerHIT {
		return fmt.Errorf("amt: catch %g leaves no room for real questions in a HIT of %d (%d catch questions)", cfg.Catch, cfg.PerHIT, c)
	}
	names := map[string]bool{}
	hasRef := false
	for _, m := range cfg.Methods {
		if m.Name == "" || m.Store == "" {
			return fmt.Errorf("amt: method %q with store %q: want NAME=STORE/<method>", m.Name, m.Store)
		}
		if m.Name == CatchMethod {
			return fmt.Errorf("amt: %q is reserved for catch questions; rename the method", CatchMethod)
		}
		if names[m.Name] {
			return fmt.Errorf("amt: method %s given twice", m.Name)
		}
		names[m.Name] = true
		hasRef = hasRef || m.Name == cfg.Reference
	}
	if !hasRef {
		return fmt.Errorf("amt: the reference %q is not among the methods (%d given); add --method %s=STORE/<method>", cfg.Reference, len(cfg.Methods), cfg.Reference)
	}
	if len(cfg.Methods) < 2 {
		return errors.New("amt: no baseline: give at least one --method besides the reference")
	}
	if strings.ContainsAny(cfg.BaseURL, "\"'<>` \t\r\n") {
		return fmt.Errorf("amt: base URL %q contains quotes, spaces or angle brackets", cfg.BaseURL)
	}
	if sanitizeCell(cfg.BaseURL) != cfg.BaseURL {
		return fmt.Errorf("amt: base URL %q starts with a spreadsheet formula character", cfg.BaseURL)
	}
	return nil
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

// deriveSecret derives the 32-byte image-naming secret from the seed:
// SHA-256("munit-eval/amt secret" || seed as 8 little-endian bytes).
func deriveSecret(seed int64) []byte {
	h := sha256.New()
	h.Write([]byte("munit-eval/amt secret"))
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	return h.Sum(nil)
}

// imageName is hex(HMAC-SHA256(secret, label || 0 || sha256(png)))[:32] + ".png".
func imageName(secret []byte, label string, png []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	m.Write([]byte{0})
	sum := sha256.Sum256(png)
	m.Write(sum[:])
	return hex.EncodeToString(m.Sum(nil))[:32] + ".png"
}

// imageURL is the URL of image name under base.
func imageURL(base, name string) string {
	if base == "" {
		return ImagesDir + "/" + name
	}
	return strings.TrimRight(base, "/") + "/" + name
}

// batchFiles are the entries of a batch folder that Make writes.
var batchFiles = []string{ImagesDir, KeyFile, BatchCSVFile, HITFile}

// checkOut refuses an output folder that is not empty unless force, and one
// holding local results (answers to the batch in it) even with force.
func checkOut(dir string, force bool) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		if st, serr := os.Stat(dir); serr == nil && !st.IsDir() {
			return fmt.Errorf("amt: output %s is a file, not a folder", dir)
		}
		return fmt.Errorf("amt: %w", err)
	case len(ents) == 0:
		return nil
	case !force:
		return fmt.Errorf("amt: %s exists and is not empty (use --force to replace the batch in it)", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, LocalResultsFile)); err == nil {
		return fmt.Errorf("amt: %s holds %s: refusing to replace a batch that has results", dir, LocalResultsFile)
	}
	return nil
}

// moveBatch moves the finished batch in tmp to dir: by one rename when dir
// does not exist or is empty; with force, by removing the previous batch's
// files from dir and renaming the new ones in (other files in dir stay).
func moveBatch(tmp, dir string, force bool) error {
	if err := checkOut(dir, force); err != nil {
		return err
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) && !force {
		return fmt.Errorf("amt: %w", err)
	}
	if err := os.Rename(tmp, dir); err == nil {
		return nil
	}
	for _, f := range batchFiles {
		if err := os.RemoveAll(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("amt: removing the previous batch: %w", err)
		}
	}
	for _, f := range batchFiles {
		if err := os.Rename(filepath.Join(tmp, f), filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("amt: moving the batch into %s: %w", dir, err)
		}
	}
	return os.RemoveAll(tmp)
}

// writeImages renders every source (decode, resize or scramble, encode) in
// parallel, names it and writes it to the batch's images folder.
func writeImages(ctx context.Context, jobs int, out string, secret []byte, srcs []*source, labels map[*source]string) error {
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	ch := make(chan *source)
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range ch {
				err := renderSource(out, secret, s, labels[s])
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, s := range srcs {
		if ctx.Err() != nil {
			break
		}
		ch <- s
	}
	close(ch)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// renderSource produces one image file of the batch.
func renderSource(out string, secret []byte, s *source, label string) error {
	m, err := images.Load(s.path)
	if err != nil {
		return fmt.Errorf("amt: %w", err)
	}
	if s.size > 0 {
		m = images.ResizeCrop(m, s.size)
	}
	if s.info.Kind == KindScrambled {
		m = Scramble(m, ScrambleGrid, s.scram)
	}
	var buf bytes.Buffer
	if err := images.EncodePNG(&buf, m); err != nil {
		return fmt.Errorf("amt: encoding %s: %w", s.path, err)
	}
	s.name = imageName(secret, label, buf.Bytes())
	s.info.Source = s.path
	s.info.SHA256 = images.HashBytes(buf.Bytes())
	if err := atomicfile.Write(filepath.Join(out, ImagesDir, s.name), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("amt: %w", err)
	}
	return nil
}

// ScrambleGrid is the number of blocks per side of a catch question's
// scrambled image.
const ScrambleGrid = 8

// Scramble returns a copy of m whose grid×grid blocks are permuted by a
// seeded cyclic permutation (Sattolo's algorithm), so no block stays in
// place. Blocks are floor(W/grid) × floor(H/grid) pixels; a remainder strip at
// the right and bottom stays in place. The grid shrinks for images smaller
// than 2 pixels per block, and an image too small to scramble is returned
// inverted instead, which is just as obviously wrong.
func Scramble(m *images.Image, grid int, seed uint64) *images.Image {
	out := images.New(m.W, m.H)
	copy(out.Pix, m.Pix)
	for grid > 1 && (m.W/grid < 2 || m.H/grid < 2) {
		grid--
	}
	if grid < 2 {
		for i := range out.Pix {
			out.Pix[i] = 255 - out.Pix[i]
		}
		return out
	}
	bw, bh := m.W/grid, m.H/grid
	n := grid * grid
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	rng := rand.New(rand.NewPCG(seed, 0x736372616d626c65)) // "scramble"
	for i := n - 1; i > 0; i-- {
		j := rng.IntN(i)
		perm[i], perm[j] = perm[j], perm[i]
	}
	for dst, src := range perm {
		dx, dy := (dst%grid)*bw, (dst/grid)*bh
		sx, sy := (src%grid)*bw, (src/grid)*bh
		for y := 0; y < bh; y++ {
			d := 3 * ((dy+y)*m.W + dx)
			s := 3 * ((sy+y)*m.W + sx)
			copy(out.Pix[d:d+3*bw], m.Pix[s:s+3*bw])
		}
	}
	return out
}

// writeBatchFiles writes batch.csv, hit.html and key.json.
func writeBatchFiles(dir string, key *Key) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(key.Variables)
	for _, row := range key.HITs {
		w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("amt: batch.csv: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, BatchCSVFile), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("amt: %w", err)
	}
	html, err := HITHTML(key)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, HITFile), html, 0o644); err != nil {
		return fmt.Errorf("amt: %w", err)
	}
	b, err := json.MarshalIndent(key, "", " ")
	if err != nil {
		return fmt.Errorf("amt: encoding key: %w", err)
	}
	b = append(b, '\n')
	if err := atomicfile.Write(filepath.Join(dir, KeyFile), b, 0o600); err != nil {
		return fmt.Errorf("amt: %w", err)
	}
	return nil
}

// HITHTML renders the HIT layout of key: a crowd-form with one
// two-alternative forced choice per question, the input above the two
// outputs, images referenced through ${q<s>_input}, ${q<s>_left} and
// ${q<s>_right}, and answers in radio fields named q<s> with values "left" and
// "right". It names no method and no side's method. Images smaller than
// their 256-px box are enlarged with nearest-neighbour pixels.
func HITHTML(key *Key) ([]byte, error) {
	type slot struct {
		N                      int
		Field, In, Left, Right string
	}
	var data struct {
		Slots  []slot
		Total  int
		Onload string
	}
	data.Onload = "if (this.naturalWidth < this.width) this.classList.add('small')"
	for s := 1; s <= len(key.Fields); s++ {
		data.Slots = append(data.Slots, slot{N: s, Field: slotField(s), In: inputVar(s), Left: leftVar(s), Right: rightVar(s)})
	}
	data.Total = len(key.Fields)
	var buf bytes.Buffer
	if err := hitTemplate.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("amt: hit.html: %w", err)
	}
	return buf.Bytes(), nil
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
