package translate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig of input sizes
	_ "image/png"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/atomicfile"
	"github.com/munit-eval/munit-eval/internal/progress"
	"github.com/munit-eval/munit-eval/internal/version"
	"github.com/munit-eval/munit-eval/model"
)

// inputFile is a selected input.
type inputFile struct {
	path string
	rec  Input
	// h, w is the size fed to the generator (after Config.Size).
	h, w int
}

// runner holds the state of one Run.
type runner struct {
	cfg    Config
	gen    generator
	spec   genSpec
	inputs []inputFile
	// allStems are the stems of every image of the input folder.
	allStems map[string]bool
	k        int
	dir      string
	man      *Manifest
	// latents is the [M,K,S] latents file, when given.
	latents *images.Array
	scan    *folderScan
	// done[i*K+k] is the finished sample k of input i (nil: pending).
	done     []*Sample
	reused   int
	computed int
	// unsynced are sample files written since the last manifest; they are
	// flushed to disk before the next manifest lists them.
	unsynced []string
}

// Run translates the inputs of cfg into the store cfg.Out/<method>,
// reusing every sample already there that was produced by the same
// generator from the same input and latent code (checked by hash), and
// computing the rest in batches of cfg.Batch samples. It refuses to mix
// with a store of a different model, latent source, seed, resize or input
// set, naming the difference, unless cfg.Force.
//
// A store only grows: when it already holds more samples per input, or
// (first-M selection) more inputs than asked, it keeps them, and the run
// fills the whole M x K rectangle, so commands that need different K (LPIPS
// 38, CIS 100) share one store without recomputing or deleting anything;
// Summary reports the store's M and K. Consumers take the first M inputs
// and first K samples they need. Only a pre-generated folder store follows
// the folder exactly, and Force starts over.
//
// The work is a pipeline that keeps two cores busy: one goroutine decodes
// and resizes inputs and builds the next batch while onnxruntime runs the
// current one, and a pool of goroutines turns outputs into PNG files (encode,
// SHA-256, atomic write). The manifest is rewritten as samples finish (at
// most every cfg.manifestEvery) and at the end.
//
// When ctx is cancelled, Run finishes the batch in flight, writes its
// samples and the manifest, and returns an error wrapping context.Canceled;
// a later Run finishes the store with exactly the samples an uninterrupted
// run would have produced.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	start := time.Now()
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("translate: %w", err)
	}
	r := &runner{cfg: cfg}
	defer func() {
		if r.gen != nil {
			r.gen.close()
		}
	}()
	if err := r.setup(); err != nil {
		return nil, fmt.Errorf("translate: %w", err)
	}
	if err := r.openStore(); err != nil {
		return nil, fmt.Errorf("translate: %w", err)
	}
	runErr := r.generate(ctx)
	sum := &Summary{
		Method:          r.man.Method,
		Store:           r.dir,
		Inputs:          len(r.inputs),
		SamplesPerInput: r.k,
		Computed:        r.computed,
		Reused:          r.reused,
		Seconds:         time.Since(start).Seconds(),
	}
	if runErr != nil {
		if ctx.Err() != nil && errors.Is(runErr, ctx.Err()) {
			return sum, fmt.Errorf("translate: interrupted with %d of %d samples in %s (rerun to finish): %w",
				r.countDone(), len(r.done), r.dir, runErr)
		}
		return sum, fmt.Errorf("translate: %w", runErr)
	}
	return sum, nil
}

// setup selects the inputs, opens the generator or scans the folder, and
// fixes K and the latent codes.
func (r *runner) setup() error {
	cfg := &r.cfg
	switch {
	case cfg.gen != nil:
		r.gen = cfg.gen
		r.spec = r.gen.spec()
	case cfg.Generator != "":
		g, err := openGenerator(cfg)
		if err != nil {
			return err
		}
		r.gen, r.spec = g, g.spec()
	}
	method := cfg.Method
	if method == "" {
		method = r.spec.method
	}
	if method == "" {
		return fmt.Errorf("%s has no munit_eval.method metadata: name the method with --method", cfg.Generator)
	}
	dirName, err := MethodDir(method)
	if err != nil {
		return err
	}
	r.dir = filepath.Join(cfg.Out, dirName)
	// A store only grows: a comparable store of more inputs (first-M
	// selection) or more samples per input keeps them (see grow).
	var prev *Manifest
	if !cfg.Force {
		prev, _ = readManifest(filepath.Join(r.dir, ManifestName))
	}
	if err := r.selectInputs(prev); err != nil {
		return err
	}

	stochastic := r.spec.latentDim > 0
	latentSource := LatentsNone
	var latentsRef *FileRef
	switch {
	case cfg.FromFolder != "":
		stems := make([]string, len(r.inputs))
		for i, in := range r.inputs {
			stems[i] = in.rec.Stem
		}
		r.scan, err = scanFolder(cfg.FromFolder, stems, r.allStems, cfg.Samples)
		if err != nil {
			return err
		}
		r.k = r.scan.k
	case !stochastic:
		if cfg.Latents != "" {
			return fmt.Errorf("--latents %s: the generator %s is deterministic (no latent input)", cfg.Latents, cfg.Generator)
		}
		r.k = max(cfg.Samples, 1)
		if r.k > 1 && !cfg.Repeat {
			return fmt.Errorf("the generator %s is deterministic (no latent input), so it gives one sample per input; pass --repeat to copy it into %d samples (diversity 0), or drop --samples-per-input", cfg.Generator, r.k)
		}
		if prev != nil && prev.LatentSource == LatentsNone && prev.FromFolder == "" {
			r.k = max(r.k, prev.SamplesPerInput)
		}
	case cfg.Latents != "":
		latentSource = LatentsFile
		if err := r.readLatents(); err != nil {
			return err
		}
		sha, err := images.HashFile(cfg.Latents)
		if err != nil {
			return fmt.Errorf("--latents: %w", err)
		}
		abs, _ := filepath.Abs(cfg.Latents)
		latentsRef = &FileRef{File: abs, SHA256: sha}
	default:
		latentSource = LatentsSeed
		r.k = cfg.Samples
		if r.k == 0 {
			r.k = DefaultStochasticSamples
		}
		if prev != nil && prev.LatentSource == LatentsSeed {
			r.k = max(r.k, prev.SamplesPerInput)
		}
	}
	if r.gen != nil {
		if err := r.checkSizes(); err != nil {
			return err
		}
	}

	inputDir, _ := filepath.Abs(cfg.Inputs)
	r.man = &Manifest{
		Schema:          ManifestSchema,
		Method:          method,
		LatentSource:    latentSource,
		LatentsFile:     latentsRef,
		Repeat:          !stochastic && cfg.FromFolder == "" && r.k > 1,
		Seed:            cfg.Seed,
		Select:          cfg.Select,
		InputDir:        inputDir,
		Size:            cfg.Size,
		SamplesPerInput: r.k,
		Samples:         []Sample{},
		Versions:        Versions{MunitEval: version.MunitEval, ONNXRuntime: r.spec.ortVersion},
	}
	if stochastic {
		r.man.LatentDim = r.spec.latentDim
	}
	if len(r.spec.models) > 0 {
		r.man.Models = r.spec.models
	}
	if cfg.FromFolder != "" {
		abs, _ := filepath.Abs(cfg.FromFolder)
		r.man.FromFolder, r.man.FolderLayout = abs, r.scan.layout
	}
	for _, in := range r.inputs {
		r.man.Inputs = append(r.man.Inputs, in.rec)
	}
	r.done = make([]*Sample, len(r.inputs)*r.k)
	return nil
}

// selectInputs lists the input folder, picks the M inputs and hashes them.
// With first-M selection, a previous manifest of more inputs (prev, nil when
// none) raises M to its count, so a store never shrinks.
func (r *runner) selectInputs(prev *Manifest) error {
	cfg := &r.cfg
	files, err := images.ListDir(cfg.Inputs)
	if err != nil {
		return fmt.Errorf("inputs: %w", err)
	}
	r.allStems = map[string]bool{}
	for _, f := range files {
		r.allStems[f.Stem] = true
	}
	m := cfg.NumInputs
	if m == 0 {
		m = len(files)
	}
	if m > len(files) {
		return fmt.Errorf("--num-inputs %d: the input folder %s holds only %d images", m, cfg.Inputs, len(files))
	}
	if prev != nil && prev.Select == SelectFirst && cfg.Select == SelectFirst && cfg.FromFolder == "" && len(prev.Inputs) <= len(files) {
		m = max(m, len(prev.Inputs))
	}
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	if cfg.Select == SelectRandom {
		idx = selectRandom(cfg.Seed, len(files), m)
	}
	r.inputs = make([]inputFile, m)
	seen := map[string]string{}
	for i, j := range idx {
		f := files[j]
		if err := checkStem(f.Stem); err != nil {
			return fmt.Errorf("input %s: %w", f.Path, err)
		}
		if prev, dup := seen[f.Stem]; dup {
			return fmt.Errorf("inputs %s and %s share the stem %q, so their samples would share a folder; rename one", prev, f.Name, f.Stem)
		}
		seen[f.Stem] = f.Name
		r.inputs[i] = inputFile{path: f.Path, rec: Input{Index: i, Stem: f.Stem, File: f.Name}}
	}
	return parallel(len(r.inputs), func(i int) error {
		in := &r.inputs[i]
		b, err := os.ReadFile(in.path)
		if err != nil {
			return fmt.Errorf("input %w", err)
		}
		c, _, err := image.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("input %s: %w", in.path, err)
		}
		in.rec.SHA256 = images.HashBytes(b)
		in.rec.Width, in.rec.Height = c.Width, c.Height
		in.w, in.h = c.Width, c.Height
		if cfg.Size > 0 {
			in.w, in.h = cfg.Size, cfg.Size
		}
		return nil
	})
}

// readLatents reads and checks the latents file: [M,K,S], or [M,S] for K=1.
func (r *runner) readLatents() error {
	cfg := &r.cfg
	a, err := images.ReadNPY(cfg.Latents)
	if err != nil {
		return fmt.Errorf("--latents: %w", err)
	}
	m, s := len(r.inputs), r.spec.latentDim
	switch len(a.Shape) {
	case 2:
		a.Shape = []int{a.Shape[0], 1, a.Shape[1]}
	case 3:
	default:
		return fmt.Errorf("--latents %s: shape %v, want [M, K, S] = [%d, K, %d] (or [M, S] for one sample per input)", cfg.Latents, a.Shape, m, s)
	}
	switch {
	case a.Shape[0] != m:
		return fmt.Errorf("--latents %s: shape %v has %d rows, but there are %d inputs (want [%d, K, %d])", cfg.Latents, a.Shape, a.Shape[0], m, m, s)
	case a.Shape[2] != s:
		return fmt.Errorf("--latents %s: shape %v has latent size %d, but the generator's latent size is %d", cfg.Latents, a.Shape, a.Shape[2], s)
	case a.Shape[1] < 1:
		return fmt.Errorf("--latents %s: shape %v has no samples", cfg.Latents, a.Shape)
	case cfg.Samples != 0 && a.Shape[1] != cfg.Samples:
		return fmt.Errorf("--latents %s: shape %v holds %d samples per input, but --samples-per-input %d was asked", cfg.Latents, a.Shape, a.Shape[1], cfg.Samples)
	}
	for j, v := range a.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("--latents %s: value %d is %v", cfg.Latents, j, v)
		}
	}
	r.latents = a
	r.k = a.Shape[1]
	return nil
}

// checkSizes checks the inputs' sizes against what the generator accepts.
func (r *runner) checkSizes() error {
	sp := r.spec
	var bad []string
	for _, in := range r.inputs {
		switch {
		case sp.fixedH > 0 && in.h != sp.fixedH, sp.fixedW > 0 && in.w != sp.fixedW:
			bad = append(bad, fmt.Sprintf("%s is %dx%d", in.rec.File, in.w, in.h))
		case sp.hwMultiple > 1 && (in.h%sp.hwMultiple != 0 || in.w%sp.hwMultiple != 0):
			bad = append(bad, fmt.Sprintf("%s is %dx%d", in.rec.File, in.w, in.h))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	resized := ""
	if r.cfg.Size > 0 {
		resized = fmt.Sprintf(" after --size %d", r.cfg.Size)
	}
	if sp.fixedH > 0 || sp.fixedW > 0 {
		hint := ""
		if sp.fixedH == sp.fixedW && r.cfg.Size == 0 {
			hint = fmt.Sprintf("; resize the inputs with --size %d", sp.fixedH)
		}
		return fmt.Errorf("the generator takes %s x %s images, but%s %s%s",
			dimText(sp.fixedW), dimText(sp.fixedH), resized, listSome(bad, 5), hint)
	}
	return fmt.Errorf("the generator takes images whose sides are multiples of %d (munit_eval.hw_multiple), but%s %s; resize the inputs with --size N (N a multiple of %d)",
		sp.hwMultiple, resized, listSome(bad, 5), sp.hwMultiple)
}

func dimText(d int) string {
	if d <= 0 {
		return "any"
	}
	return fmt.Sprint(d)
}

// latentOf returns the latent code of sample k of input i (nil when the
// generator is deterministic).
func (r *runner) latentOf(i, k int) []float32 {
	switch r.man.LatentSource {
	case LatentsSeed:
		return Latent(r.cfg.Seed, i, k, r.man.LatentDim)
	case LatentsFile:
		s := r.man.LatentDim
		off := (i*r.k + k) * s
		return slices.Clone(r.latents.Data[off : off+s])
	}
	return nil
}

// openStore compares the store's existing manifest with the new run,
// discards (Force) or reuses what is there, removes stale temporary files,
// and writes the manifest of the reused samples before any work starts.
func (r *runner) openStore() error {
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return fmt.Errorf("creating the store: %w", err)
	}
	old, err := readManifest(filepath.Join(r.dir, ManifestName))
	switch {
	case errors.Is(err, os.ErrNotExist):
		old = nil
		if !r.cfg.Force {
			if names := visibleEntries(r.dir); len(names) > 0 {
				return fmt.Errorf("%s is not empty and holds no %s, so it is not a sample store (it has %s); use another store folder, or --force to write into it",
					r.dir, ManifestName, listSome(names, 5))
			}
		}
	case err != nil:
		if !r.cfg.Force {
			return fmt.Errorf("%w; use --force to discard the old store", err)
		}
		old = nil
	}
	if old != nil {
		if diff := differences(old, r.man); len(diff) > 0 {
			if !r.cfg.Force {
				return fmt.Errorf("%s holds samples of a different run (%s); refusing to mix them: use another store folder, or --force to discard the old samples",
					r.dir, strings.Join(diff, "; "))
			}
			if err := r.discard(old); err != nil {
				return err
			}
			old = nil
		}
	}
	r.removeTemps()
	if old != nil {
		if err := r.reuse(old); err != nil {
			return err
		}
	}
	return r.writeManifest()
}

// visibleEntries lists the non-hidden entries of dir.
func visibleEntries(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

// differences lists what makes old and new samples incomparable: the
// method, the models, the pre-generated folder, the latent source (and its
// seed or file), the resize, any input at the same index with another stem
// or content, and a random input subset of another size. More inputs
// (first-M selection) or samples per input are not differences: the common
// ones are reused.
func differences(old, cur *Manifest) []string {
	var d []string
	if old.Method != cur.Method {
		d = append(d, fmt.Sprintf("method: store %q, now %q", old.Method, cur.Method))
	}
	roles := map[string]bool{}
	for k := range old.Models {
		roles[k] = true
	}
	for k := range cur.Models {
		roles[k] = true
	}
	for _, role := range slices.Sorted(maps.Keys(roles)) {
		o, ok1 := old.Models[role]
		c, ok2 := cur.Models[role]
		switch {
		case !ok1:
			d = append(d, fmt.Sprintf("%s: store has none, now %s", role, c.File))
		case !ok2:
			d = append(d, fmt.Sprintf("%s: store has %s, now none", role, o.File))
		case o.SHA256 != c.SHA256:
			d = append(d, fmt.Sprintf("%s: store has %s (sha256 %.12s), now %s (sha256 %.12s)", role, o.File, o.SHA256, c.File, c.SHA256))
		}
	}
	if old.FromFolder != cur.FromFolder {
		d = append(d, fmt.Sprintf("pre-generated folder: store %q, now %q", old.FromFolder, cur.FromFolder))
	}
	if old.LatentSource != cur.LatentSource {
		d = append(d, fmt.Sprintf("latents: store %s, now %s", old.LatentSource, cur.LatentSource))
	} else {
		if old.LatentDim != cur.LatentDim {
			d = append(d, fmt.Sprintf("latent size: store %d, now %d", old.LatentDim, cur.LatentDim))
		}
		if old.LatentSource == LatentsSeed && old.Seed != cur.Seed {
			d = append(d, fmt.Sprintf("seed: store %d, now %d", old.Seed, cur.Seed))
		}
		if old.LatentSource == LatentsFile && old.LatentsFile != nil && cur.LatentsFile != nil && old.LatentsFile.SHA256 != cur.LatentsFile.SHA256 {
			d = append(d, fmt.Sprintf("latents file: store %s (sha256 %.12s), now %s (sha256 %.12s)", old.LatentsFile.File, old.LatentsFile.SHA256, cur.LatentsFile.File, cur.LatentsFile.SHA256))
		}
	}
	if old.Size != cur.Size {
		d = append(d, fmt.Sprintf("--size: store %d, now %d", old.Size, cur.Size))
	}
	var in []string
	for i := 0; i < min(len(old.Inputs), len(cur.Inputs)); i++ {
		o, c := old.Inputs[i], cur.Inputs[i]
		if o.Stem != c.Stem || o.SHA256 != c.SHA256 {
			in = append(in, fmt.Sprintf("input %d: store %s (sha256 %.12s), now %s (sha256 %.12s)", i, o.File, o.SHA256, c.File, c.SHA256))
		}
	}
	random := old.Select == SelectRandom || cur.Select == SelectRandom
	if random && (len(in) > 0 || len(old.Inputs) != len(cur.Inputs)) {
		// A random subset of another size is another subset: the indices,
		// and with them the latent codes, move.
		d = append(d, fmt.Sprintf("inputs: store has %d chosen by --select %s, now %d by --select %s", len(old.Inputs), old.Select, len(cur.Inputs), cur.Select))
	}
	if len(in) > 0 {
		d = append(d, listSome(in, 3))
	}
	return d
}

// discard removes the samples of an old store: every <stem>/<k>.png within
// its inputs and samples per input (listed or not), emptied stem folders and
// the manifest.
func (r *runner) discard(old *Manifest) error {
	for _, in := range old.Inputs {
		for k := 0; k < old.SamplesPerInput; k++ {
			p := samplePath(r.dir, in.Stem, k)
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("discarding the old store: %w", err)
			}
		}
		removeTempsIn(filepath.Join(r.dir, in.Stem))
		os.Remove(filepath.Join(r.dir, in.Stem)) // only when empty
	}
	if err := os.Remove(filepath.Join(r.dir, ManifestName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("discarding the old store: %w", err)
	}
	return nil
}

// removeTemps deletes temporary files left by writes that a killed run
// never finished (atomicfile's ".<name>.tmp-*").
func (r *runner) removeTemps() {
	removeTempsIn(r.dir)
	for _, in := range r.inputs {
		removeTempsIn(filepath.Join(r.dir, in.rec.Stem))
	}
}

func removeTempsIn(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp-") && !e.IsDir() {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

// reuse marks as done every sample of the old manifest (of a comparable run)
// that is still wanted, has the same latent code (or source file), and
// whose file is there with the recorded SHA-256; it removes the files of
// samples no longer wanted (fewer inputs or samples per input).
func (r *runner) reuse(old *Manifest) error {
	m := len(r.inputs)
	var cand []Sample
	for _, s := range old.Samples {
		if s.Input < m && s.K < r.k {
			cand = append(cand, s)
		}
	}
	for i, in := range old.Inputs {
		for k := 0; k < old.SamplesPerInput; k++ {
			if i >= m || k >= r.k {
				os.Remove(samplePath(r.dir, in.Stem, k))
			}
		}
		if i >= m {
			removeTempsIn(filepath.Join(r.dir, in.Stem))
			os.Remove(filepath.Join(r.dir, in.Stem))
		}
	}
	ok := make([]bool, len(cand))
	err := parallel(len(cand), func(j int) error {
		s := cand[j]
		if !slices.Equal(floatBits(s.Latent), floatBits(r.latentOf(s.Input, s.K))) {
			return nil
		}
		if r.scan != nil {
			if s.Source != r.scan.sources[s.Input][s.K] {
				return nil
			}
			h, err := images.HashFile(filepath.Join(r.cfg.FromFolder, filepath.FromSlash(s.Source)))
			if err != nil {
				return fmt.Errorf("pre-generated sample: %w", err)
			}
			if h != s.SourceSHA256 {
				return nil
			}
		}
		h, err := images.HashFile(samplePath(r.dir, r.inputs[s.Input].rec.Stem, s.K))
		ok[j] = err == nil && h == s.SHA256
		return nil
	})
	if err != nil {
		return err
	}
	for j, s := range cand {
		if ok[j] {
			r.done[s.Input*r.k+s.K] = &s
			r.reused++
		}
	}
	return nil
}

// floatBits returns the bit patterns of v, so latent codes compare exactly
// (NaN-safe, -0 distinct from 0).
func floatBits(v []float32) []uint32 {
	b := make([]uint32, len(v))
	for i, x := range v {
		b[i] = math.Float32bits(x)
	}
	return b
}

// writeManifest writes the manifest with every finished sample, after
// flushing the sample files written since the last one (syncSamples), so
// that even after a power cut the manifest lists only samples whose bytes
// reached the disk. Sample files themselves are written atomically
// (temporary file + rename) without an fsync each: one flush per manifest
// instead of one per sample keeps the store's cost at 64x64 low, and a
// sample is only ever reused after its SHA-256 is checked.
func (r *runner) writeManifest() error {
	if len(r.unsynced) > 0 {
		if err := syncSamples(r.dir, r.unsynced); err != nil {
			return fmt.Errorf("flushing samples to disk: %w", err)
		}
		r.unsynced = r.unsynced[:0]
	}
	r.man.Samples = r.man.Samples[:0]
	for _, s := range r.done {
		if s != nil {
			r.man.Samples = append(r.man.Samples, *s)
		}
	}
	if err := r.man.write(r.dir); err != nil {
		return fmt.Errorf("writing the manifest: %w", err)
	}
	return nil
}

func (r *runner) countDone() int {
	n := 0
	for _, s := range r.done {
		if s != nil {
			n++
		}
	}
	return n
}

// unit is one network forward pass: sample(s) ks of input i. A stochastic
// generator has one k per unit; a deterministic one computes an input once
// for all its pending samples (copies, with Repeat).
type unit struct {
	input  int
	ks     []int
	latent []float32
}

// batch is up to Config.Batch units of the same image size.
type batch struct {
	units []unit
	h, w  int
}

// plan lists the pending work in (input, k) order, cut into batches.
func (r *runner) plan() []batch {
	var units []unit
	for i := range r.inputs {
		var ks []int
		for k := 0; k < r.k; k++ {
			if r.done[i*r.k+k] == nil {
				ks = append(ks, k)
			}
		}
		if len(ks) == 0 {
			continue
		}
		if r.man.LatentSource == LatentsNone {
			units = append(units, unit{input: i, ks: ks})
			continue
		}
		for _, k := range ks {
			units = append(units, unit{input: i, ks: []int{k}, latent: r.latentOf(i, k)})
		}
	}
	var out []batch
	for _, u := range units {
		in := r.inputs[u.input]
		if n := len(out); n == 0 || len(out[n-1].units) >= r.cfg.Batch || out[n-1].h != in.h || out[n-1].w != in.w {
			out = append(out, batch{h: in.h, w: in.w})
		}
		b := &out[len(out)-1]
		b.units = append(b.units, u)
	}
	return out
}

// writeJob turns one output (or one pre-generated file) into sample files.
type writeJob struct {
	u      unit
	chw    []float32
	h, w   int
	src    string // pre-generated: file relative to FromFolder
	srcSHA string
}

// result is a finished writeJob.
type result struct {
	u      unit
	sha    string
	src    string
	srcSHA string
	err    error
}

// generate computes every pending sample.
func (r *runner) generate(ctx context.Context) error {
	pending := len(r.done) - r.reused
	if pending == 0 {
		return nil
	}
	for _, in := range r.inputs {
		if err := os.MkdirAll(filepath.Join(r.dir, in.rec.Stem), 0o755); err != nil {
			return fmt.Errorf("creating the store: %w", err)
		}
	}
	bar := progress.New(pending, "translate "+r.man.Method, r.cfg.Quiet)
	defer bar.Finish()

	ictx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan writeJob, 2*r.cfg.Batch)
	results := make(chan result, 2*r.cfg.Batch)

	var writers sync.WaitGroup
	for w := 0; w < max(runtime.GOMAXPROCS(0), 1); w++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for j := range jobs {
				results <- r.write(j)
			}
		}()
	}
	collected := make(chan error, 1)
	go func() { collected <- r.collect(results, bar, cancel) }()

	var err error
	if r.scan != nil {
		err = r.feedFolder(ictx, jobs)
	} else {
		err = r.feedGenerator(ictx, jobs)
	}
	close(jobs)
	writers.Wait()
	close(results)
	if cerr := <-collected; err == nil {
		err = cerr
	}
	if werr := r.writeManifest(); err == nil {
		err = werr
	}
	if err == nil {
		err = context.Cause(ictx)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
	}
	return err
}

// collect records finished samples, advances the bar and rewrites the
// manifest at most every Config.manifestEvery. A failed write cancels the
// run through cancel.
func (r *runner) collect(results <-chan result, bar *progress.Bar, cancel context.CancelCauseFunc) error {
	var first error
	last := time.Now()
	for res := range results {
		if res.err != nil {
			if first == nil {
				first = res.err
				cancel(res.err)
			}
			continue
		}
		for _, k := range res.u.ks {
			r.done[res.u.input*r.k+k] = &Sample{Input: res.u.input, K: k, Latent: res.u.latent, SHA256: res.sha, Source: res.src, SourceSHA256: res.srcSHA}
			r.unsynced = append(r.unsynced, samplePath(r.dir, r.inputs[res.u.input].rec.Stem, k))
		}
		r.computed += len(res.u.ks)
		bar.Add(len(res.u.ks))
		if time.Since(last) >= r.cfg.manifestEvery {
			if err := r.writeManifest(); err != nil && first == nil {
				first = err
				cancel(err)
			}
			last = time.Now()
		}
	}
	return first
}

// write encodes one output (or re-encodes one pre-generated file) as PNG,
// hashes it and writes it atomically to every sample path of its unit.
func (r *runner) write(j writeJob) result {
	res := result{u: j.u, src: j.src}
	in := r.inputs[j.u.input]
	var img *images.Image
	if j.src != "" {
		path := filepath.Join(r.cfg.FromFolder, filepath.FromSlash(j.src))
		b, err := os.ReadFile(path)
		if err != nil {
			res.err = fmt.Errorf("pre-generated sample: %w", err)
			return res
		}
		res.srcSHA = images.HashBytes(b)
		if img, err = images.Decode(bytes.NewReader(b), path); err != nil {
			res.err = fmt.Errorf("pre-generated sample: %w", err)
			return res
		}
	} else {
		var err error
		if img, err = images.FromTensor(j.chw, j.h, j.w); err != nil {
			res.err = fmt.Errorf("input %s, sample %d: %w", in.rec.File, j.u.ks[0], err)
			return res
		}
	}
	var buf bytes.Buffer
	if err := images.EncodePNG(&buf, img); err != nil {
		res.err = fmt.Errorf("input %s, sample %d: encoding PNG: %w", in.rec.File, j.u.ks[0], err)
		return res
	}
	res.sha = images.HashBytes(buf.Bytes())
	for _, k := range j.u.ks {
		// Atomic, flushed later by writeManifest.
		err := atomicfile.WriteCacheFunc(samplePath(r.dir, in.rec.Stem, k), 0o644, func(w io.Writer) error {
			_, err := w.Write(buf.Bytes())
			return err
		})
		if err != nil {
			res.err = err
			return res
		}
	}
	return res
}

// feedFolder queues every pending pre-generated sample.
func (r *runner) feedFolder(ctx context.Context, jobs chan<- writeJob) error {
	for i := range r.inputs {
		for k := 0; k < r.k; k++ {
			if r.done[i*r.k+k] != nil {
				continue
			}
			select {
			case <-ctx.Done():
				return nil
			case jobs <- writeJob{u: unit{input: i, ks: []int{k}}, src: r.scan.sources[i][k]}:
			}
		}
	}
	return nil
}

// prepared is a batch ready for the network.
type prepared struct {
	b *batch
	// uniq are the batch's distinct inputs in order, imgs their images
	// [len(uniq),3,h,w].
	uniq []int
	imgs model.Tensor
	// latents are the units' codes, row-major [n,S] (nil: deterministic).
	latents []float32
	err     error
}

// feedGenerator runs the network over the planned batches: a goroutine
// prepares batch b+1 (decode, resize, tensor) while the network runs batch
// b; outputs are checked (shape, NaN/Inf) and queued for the writers. It
// stops before the next batch when ctx is done.
func (r *runner) feedGenerator(ctx context.Context, jobs chan<- writeJob) error {
	batches := r.plan()
	prep := make(chan prepared, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(prep)
		cache := map[int]*images.Image{}
		for bi := range batches {
			p := r.prepare(&batches[bi], cache)
			select {
			case prep <- p:
			case <-stop:
				return
			}
			if p.err != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
	}()

	// contents caches the conditioning rows (content codes, or images) of
	// inputs whose samples span several batches.
	contents := map[int][]float32{}
	var rowShape []int64
	for p := range prep {
		if p.err != nil {
			return p.err
		}
		if ctx.Err() != nil {
			return nil
		}
		b := p.b
		first := b.units[0].input
		for i := range contents {
			if i < first {
				delete(contents, i)
			}
		}
		// Condition the inputs not cached yet.
		var need []int
		for j, i := range p.uniq {
			if _, ok := contents[i]; !ok {
				need = append(need, j)
			}
		}
		if len(need) > 0 {
			per := len(p.imgs.Data) / len(p.uniq)
			sub := model.Tensor{Shape: append([]int64{int64(len(need))}, p.imgs.Shape[1:]...), Data: make([]float32, 0, per*len(need))}
			for _, j := range need {
				sub.Data = append(sub.Data, p.imgs.Data[j*per:(j+1)*per]...)
			}
			cond, err := r.gen.condition(sub)
			if err != nil {
				return fmt.Errorf("conditioning %s: %w", r.inputs[p.uniq[need[0]]].rec.File, err)
			}
			cper := len(cond.Data) / len(need)
			for n, j := range need {
				contents[p.uniq[j]] = cond.Data[n*cper : (n+1)*cper]
			}
			rowShape = cond.Shape[1:]
		}
		n := len(b.units)
		cond := model.Tensor{Shape: append([]int64{int64(n)}, rowShape...)}
		for _, u := range b.units {
			cond.Data = append(cond.Data, contents[u.input]...)
		}
		out, err := r.gen.translate(cond, p.latents)
		if err != nil {
			return fmt.Errorf("running the generator on %s: %w", r.inputs[b.units[0].input].rec.File, err)
		}
		if err := r.checkOutput(b, out); err != nil {
			return err
		}
		h, w := int(out.Shape[2]), int(out.Shape[3])
		per := 3 * h * w
		for j, u := range b.units {
			chw := out.Data[j*per : (j+1)*per]
			if r.cfg.observe != nil {
				for _, k := range u.ks {
					r.cfg.observe(u.input, k, chw, h, w)
				}
			}
			jobs <- writeJob{u: u, chw: chw, h: h, w: w}
		}
	}
	return nil
}

// prepare decodes (and resizes) the batch's inputs and builds its tensors.
// cache keeps decoded inputs whose samples continue into the next batch.
func (r *runner) prepare(b *batch, cache map[int]*images.Image) prepared {
	p := prepared{b: b}
	first := b.units[0].input
	for i := range cache {
		if i < first {
			delete(cache, i)
		}
	}
	var imgs []*images.Image
	for _, u := range b.units {
		if n := len(p.uniq); n > 0 && p.uniq[n-1] == u.input {
			continue
		}
		img, ok := cache[u.input]
		if !ok {
			in := r.inputs[u.input]
			var err error
			img, err = images.Load(in.path)
			if err != nil {
				p.err = fmt.Errorf("input %w", err)
				return p
			}
			if r.cfg.Size > 0 {
				img = images.ResizeCrop(img, r.cfg.Size)
			}
			if img.W != in.w || img.H != in.h {
				p.err = fmt.Errorf("input %s: decoded as %dx%d, expected %dx%d (changed during the run?)", in.path, img.W, img.H, in.w, in.h)
				return p
			}
			cache[u.input] = img
		}
		p.uniq = append(p.uniq, u.input)
		imgs = append(imgs, img)
	}
	p.imgs = model.Tensor{Shape: []int64{int64(len(imgs)), 3, int64(b.h), int64(b.w)}, Data: make([]float32, len(imgs)*3*b.h*b.w)}
	if err := images.ToTensor(imgs, p.imgs.Data); err != nil {
		p.err = fmt.Errorf("input %s: %w", r.inputs[first].rec.File, err)
		return p
	}
	if r.man.LatentSource != LatentsNone {
		p.latents = make([]float32, 0, len(b.units)*r.man.LatentDim)
		for _, u := range b.units {
			p.latents = append(p.latents, u.latent...)
		}
	}
	return p
}

// checkOutput checks a batch output against the contract ([N,3,H,W]) and
// for NaN or Inf, naming the input file and sample.
func (r *runner) checkOutput(b *batch, out model.Tensor) error {
	n := len(b.units)
	s := out.Shape
	if len(s) != 4 || s[0] != int64(n) || s[1] != 3 || s[2] <= 0 || s[3] <= 0 || int64(len(out.Data)) != s[0]*s[1]*s[2]*s[3] {
		return fmt.Errorf("the generator's output for %s has shape %v (%d values) for a batch of %d, want [%d,3,H,W]",
			r.inputs[b.units[0].input].rec.File, s, len(out.Data), n, n)
	}
	per := len(out.Data) / n
	for j, u := range b.units {
		for x, v := range out.Data[j*per : (j+1)*per] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				c, h, w := unravel(x, int(s[2]), int(s[3]))
				return fmt.Errorf("the generator's output for input %s, sample %d is %v at channel %d, pixel (%d, %d)",
					r.inputs[u.input].path, u.ks[0], v, c, w, h)
			}
		}
	}
	return nil
}

func unravel(x, h, w int) (c, y, xx int) {
	return x / (h * w), (x / w) % h, x % w
}

// parallel calls f(0..n-1) on GOMAXPROCS goroutines and returns the first
// error.
func parallel(n int, f func(i int) error) error {
	workers := min(max(runtime.GOMAXPROCS(0), 1), n)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  int
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= n || first != nil {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return first
}
