package evaluate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/munit-eval/munit-eval/batch"
	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/translate"
	"github.com/munit-eval/munit-eval/warning"
)

// Layouts of a SampleSet besides translate's grouped folder layouts
// (translate.LayoutDirs <stem>/<k>.png, translate.LayoutSuffix
// <stem>_<k>.png).
const (
	// LayoutStore is a sample store folder, STORE/<method> with its
	// manifest, whose samples are verified against it as they are read.
	LayoutStore = "store"
	// LayoutFlat is a plain folder of images with no per-input structure:
	// every image is a sample of its own (real images too).
	LayoutFlat = "<name>.png (flat)"
)

// SampleSet is what the engine measures: M inputs x K samples of one
// method, however they are held (a store, a folder grouped by input, a
// flat folder), or a folder of real images (flat). Every metric command
// and `run` read each layout through it, so they read it the same way.
type SampleSet struct {
	// Name names the set in messages (its folder, as given).
	Name string
	// Method is the method the samples are of ("" for real images).
	Method string
	// Layout is LayoutStore, translate.LayoutDirs, translate.LayoutSuffix
	// or LayoutFlat.
	Layout string
	// Refs[i][k] is sample k of input i, with the SHA-256 a store's
	// manifest records for it (verified as the file is read); a flat set
	// holds one image per input.
	Refs [][]images.Ref
	// Prov is what the results document records about the samples.
	Prov Provenance
	// Warnings go first in the results document (fewer inputs than asked,
	// a default count that left inputs out, a method-name mismatch).
	Warnings []warning.Warning
	// FromFolder is the pre-generated folder a store's samples were
	// copied from (translate --from-folder; "" for a generator's store):
	// more samples must come from there, not from rerunning translate.
	FromFolder string
	// Generated is what a shard translated (Source.Shard): the set is
	// then other shards' work too, and holds no Refs.
	Generated *translate.Summary
	// Keep is a store's --keep-samples mode when it keeps only some sample
	// files (translate.KeepGrid, KeepNone; "" otherwise): the values of
	// dropped samples are then looked up by their recorded SHA-256 only.
	Keep string
}

// Provenance is what a results document records about a set's samples.
type Provenance struct {
	// Inputs and Samples are protocol.inputs and protocol.samples.
	Inputs, Samples string
	// Select and Size are how the inputs were picked and resized.
	Select string
	Size   int
	// Randomness is where the samples' variation comes from (a store's).
	Randomness string
	// Models are the models that made the samples (a store's), by role.
	Models map[string]results.ModelRef
}

// Grouped reports whether the set's samples are grouped by input.
func (s *SampleSet) Grouped() bool { return s.Layout != LayoutFlat }

// M is the number of inputs (of images, for a flat set).
func (s *SampleSet) M() int { return len(s.Refs) }

// K is the number of samples per input the set holds.
func (s *SampleSet) K() int {
	if len(s.Refs) == 0 {
		return 0
	}
	return len(s.Refs[0])
}

// items lists the first k samples of every input (every image of a flat
// set), input-major, clean-resized to clean when clean > 0; a store's
// carry the repair hint.
func (s *SampleSet) items(k, clean int) []batch.Item {
	hint := ""
	if s.Layout == LayoutStore {
		hint = batch.RepairHint
	}
	if s.Keep != "" {
		// A dropped sample is read only when its value is missing.
		hint = fmt.Sprintf("store %s keeps samples %q, so a sample whose value is not cached has no pixels either; rerun with --keep-samples all to restore the samples", s.Name, s.Keep)
	}
	out := make([]batch.Item, 0, len(s.Refs)*k)
	for _, row := range s.Refs {
		for _, r := range row[:min(k, len(row))] {
			r.Clean = clean
			out = append(out, batch.Item{Ref: r, Hint: hint})
		}
	}
	return out
}

// Source says where one method's samples come from: a generator (or a
// content encoder and Decoder) or a Folder of pre-generated outputs run
// over Inputs through the store at Store, or samples read as they are
// (Samples: a store folder STORE/<method>, or a plain folder), or a set
// already acquired (Set).
type Source struct {
	// Method names the method ("": the generator's munit_eval.method, the
	// store's, or a plain folder's name).
	Method    string
	Generator string
	Decoder   string
	Folder    string
	Inputs    string
	// Latents is a .npy of latent codes to use instead of drawing them.
	Latents string
	// StyleEncoder, References, ReferenceOrder, Mapping and TargetDomain
	// are translate.Config's: a reference-guided or multi-domain generator.
	StyleEncoder, References, ReferenceOrder, Mapping, TargetDomain string
	// Store is the store root new samples go to (Store/<method>).
	Store string
	// Samples is an existing store folder or a plain folder of samples;
	// it excludes the fields above.
	Samples string
	// Set, when not nil, is the method's samples, acquired already (the
	// scoring step of a sharded run checked them).
	Set *SampleSet

	// InputsName and FolderName are how the results document and the
	// warnings name Inputs and Folder ("": as they are); an evaluation
	// file names them relative to itself.
	InputsName, FolderName string
	// Force discards store samples of a different model, seed or inputs.
	Force bool
	// Shard is the part of the inputs Generate translates (the zero value:
	// all); the store's other shards are other processes' work.
	Shard translate.Shard
	// CheckOnly makes Acquire read the store without translating: the
	// scoring step of a sharded evaluation. A store lacking samples is a
	// *translate.IncompleteError naming them.
	CheckOnly bool
	// Keep is the run's --keep-samples mode (translate.Config.Keep).
	Keep string
}

// RunOptions say how to run the networks, not what to measure.
type RunOptions struct {
	Threads int
	Device  string
	Quiet   bool
	// Memory is the memory a generator batch may take, in bytes (0: no
	// estimate is checked); see CheckMemory.
	Memory int64
}

// ModelOptions are the onnxruntime options of o.
func (o RunOptions) ModelOptions() model.Options {
	return model.Options{Threads: o.Threads, Device: o.Device}
}

// fewer is the one rule for a count of inputs the source cannot meet:
// num_inputs given explicitly is an error, the default a warning; and a
// default that leaves inputs out says so.
func fewer(name string, have int, p Protocol) (int, []warning.Warning, error) {
	want, exact := p.NumInputs, p.given("num_inputs")
	if ps, _ := PresetNamed(p.Preset); ps.AllInputs && !exact {
		return have, nil, nil
	}
	switch {
	case have < want && exact:
		return 0, nil, fmt.Errorf("%s holds %d inputs, %d asked for (num_inputs)", name, have, want)
	case have < want:
		return have, []warning.Warning{warning.New(CodeFewerInputs, warning.SubjectSamples, "%s holds %d inputs, fewer than num_inputs %d", name, have, want)}, nil
	case have > want && !exact:
		return want, []warning.Warning{warning.New(CodeCut, warning.SubjectSamples, "%s holds %d inputs; %d were used (num_inputs default %d: give --num-inputs %d to use all)", name, have, want, want, have)}, nil
	}
	return want, nil, nil
}

// Acquire returns the samples of src: at least k per input for M inputs,
// translating what the store lacks when src names a generator or folder.
// Samples read as they are (src.Samples) set p's selection, size and
// (unless the seed was given) seed to the store's, so that the results
// describe it.
func Acquire(ctx context.Context, src Source, p *Protocol, k int, o RunOptions) (*SampleSet, error) {
	switch {
	case src.Set != nil:
		return src.Set, nil
	case src.Samples != "":
		return OpenSet(src.Samples, src.Method, p)
	}
	name := src.InputsName
	if name == "" {
		name = src.Inputs
	}
	files, err := images.ListDir(src.Inputs)
	if err != nil {
		return nil, err
	}
	m, warnings, err := fewer(name, len(files), *p)
	if err != nil {
		return nil, err
	}
	if src.Generator != "" {
		// The inputs' sizes against the pixel budgets and the memory, from
		// their headers, before any work.
		if err := CheckInputs(src.Inputs, *p, o.Memory); err != nil {
			return nil, err
		}
	}
	if err := model.Init(""); err != nil {
		return nil, err
	}
	cfg := translate.DefaultConfig()
	cfg.Inputs, cfg.Out, cfg.Method, cfg.Latents = src.Inputs, src.Store, src.Method, src.Latents
	cfg.NumInputs, cfg.Select, cfg.Seed, cfg.Size, cfg.Batch, cfg.Streams, cfg.Force = m, p.Select, p.Seed, p.Size, p.Batch, p.Streams, src.Force
	cfg.Threads, cfg.Device, cfg.Quiet = o.Threads, o.Device, o.Quiet
	cfg.StyleEncoder, cfg.References, cfg.ReferenceOrder = src.StyleEncoder, src.References, src.ReferenceOrder
	cfg.Mapping, cfg.TargetDomain = src.Mapping, src.TargetDomain
	from := ""
	switch {
	case src.Folder != "":
		cfg.FromFolder = src.Folder
		from = src.FolderName
		if from == "" {
			from = src.Folder
		}
	case src.Decoder != "":
		cfg.Generator, cfg.Decoder, cfg.Samples = src.Generator, src.Decoder, k
	default:
		cfg.Generator, cfg.Samples = src.Generator, k
		info, err := model.Inspect(src.Generator)
		if err != nil {
			return nil, err
		}
		// A deterministic generator's one output fills every sample: its
		// diversity is 0 and its CIS 0, as they should be. A generator with
		// noise inputs (test-time dropout, encoder noise) is stochastic
		// without a style code.
		cfg.Repeat = info.LatentInput == "" && len(info.Noise) == 0 && k > 1
		if w := methodMismatch(src.Method, info.Method); w != "" {
			warnings = append(warnings, warning.New(CodeMethodMismatch, warning.SubjectModels, "%s", w))
		}
	}
	if cfg.Latents != "" {
		cfg.Samples = 0 // the latents file gives K
	}
	cfg.Shard, cfg.CheckOnly, cfg.Keep = src.Shard, src.CheckOnly, src.Keep
	sum, err := translate.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if src.Shard.Sharded() {
		return &SampleSet{Name: sum.Store, Generated: sum}, nil // other shards' work too: not read
	}
	st, err := translate.OpenStore(sum.Store)
	if err != nil {
		return nil, err
	}
	set := storeSet(st, m)
	set.Prov.Inputs, set.Prov.Samples, set.Prov.Select, set.Prov.Size = name, from, p.Select, p.Size
	set.Warnings = warnings
	return set, nil
}

// methodMismatch warns when the method's name differs from the one the
// generator's munit_eval.method metadata gives (a CycleGAN export measured
// under the name MUNIT): the numbers would be filed under the wrong method.
func methodMismatch(name, meta string) string {
	if name == "" || meta == "" || name == meta {
		return ""
	}
	return fmt.Sprintf("the generator's metadata names the method %q, but it is evaluated as %q", meta, name)
}

// Generate translates src.Shard's share of the samples Acquire would
// acquire (k per input for the protocol's M inputs, through the same
// translate run) and measures nothing: one task of a sharded evaluation,
// whose scoring step later acquires the assembled store with CheckOnly. It
// reports what the shard did (Complete when it was the last to finish).
func Generate(ctx context.Context, src Source, p Protocol, k int, o RunOptions) (*translate.Summary, error) {
	switch {
	case !src.Shard.Sharded():
		return nil, fmt.Errorf("evaluate: Generate needs a shard (I/N with N > 1)")
	case src.Samples != "":
		return nil, fmt.Errorf("%s: existing samples have nothing to generate", src.Samples)
	}
	s, err := Acquire(ctx, src, &p, k, o)
	if err != nil {
		return nil, err
	}
	return s.Generated, nil
}

// storeSet is the first m inputs of a store, every sample it holds.
func storeSet(st *translate.Store, m int) *SampleSet {
	man := st.Manifest()
	set := &SampleSet{Name: st.Dir(), Method: st.Method(), Layout: LayoutStore, Refs: make([][]images.Ref, m), FromFolder: man.FromFolder}
	if st.Keep() != translate.KeepAll {
		set.Keep = st.Keep()
	}
	for i := range m {
		set.Refs[i] = make([]images.Ref, st.SamplesPerInput())
		for k := range set.Refs[i] {
			set.Refs[i][k] = images.Ref{Path: st.SamplePath(i, k), SHA256: st.SampleSHA256(i, k)}
		}
	}
	set.Prov = Provenance{Randomness: st.Randomness(), Models: map[string]results.ModelRef{}}
	for role, ref := range man.Models {
		set.Prov.Models[role] = results.ModelRef{File: filepath.Base(ref.File), SHA256: ref.SHA256, Method: man.Method}
	}
	return set
}

// IsStore reports whether dir is a sample store folder (STORE/<method>,
// with a manifest or shard fragments) rather than a plain folder of images.
func IsStore(dir string) bool { return translate.IsStore(dir) }

// OpenSet reads samples where they are, by the one rule every command
// follows: a store folder (with its manifest: cut to num_inputs, its
// selection, size and, unless the seed was given, seed written into p);
// else a folder grouped by input as translate --from-folder reads it
// (<stem>/<k>.png, or <stem>_<k>.png with samples 0..K-1 of every stem);
// else a flat folder of images. A plain folder's inputs are all used
// unless num_inputs was given (then the first num_inputs; fewer is an
// error). method names the samples' method ("": the store's, or the
// folder's name).
func OpenSet(dir, method string, p *Protocol) (*SampleSet, error) {
	if IsStore(dir) {
		st, err := translate.OpenStore(dir)
		if err != nil {
			return nil, err
		}
		m, warnings, err := fewer(dir, st.NumInputs(), *p)
		if err != nil {
			return nil, err
		}
		man := st.Manifest()
		p.Select, p.Size = man.Select, man.Size
		if !p.given("seed") {
			p.Seed = man.Seed
		}
		set := storeSet(st, m)
		set.Prov.Inputs, set.Prov.Samples, set.Prov.Select, set.Prov.Size = man.InputDir, st.Dir(), p.Select, p.Size
		if man.FromFolder != "" {
			set.Prov.Samples = man.FromFolder
		}
		if method != "" {
			set.Method = method
		}
		set.Warnings = warnings
		return set, nil
	}
	set, err := folderSet(dir)
	if err != nil {
		return nil, err
	}
	if p.given("num_inputs") {
		if set.M() < p.NumInputs {
			return nil, fmt.Errorf("%s holds %d inputs, %d asked for (num_inputs)", dir, set.M(), p.NumInputs)
		}
		set.Refs = set.Refs[:p.NumInputs]
	}
	var paths []string
	for _, row := range set.Refs {
		for _, r := range row {
			paths = append(paths, r.Path)
		}
	}
	if w, err := imageMix(dir, paths); err != nil {
		return nil, err
	} else if w != nil {
		set.Warnings = append(set.Warnings, *w)
	}
	set.Method = method
	if method == "" {
		set.Method = filepath.Base(filepath.Clean(dir))
	}
	return set, nil
}

// folderSet reads a plain folder: grouped when translate.ScanSamples reads
// it so, else flat (a folder of sub-folders that does not scan is an
// error: it cannot be flat).
func folderSet(dir string) (*SampleSet, error) {
	set := &SampleSet{Name: dir, Prov: Provenance{Samples: dir}}
	layout, _, files, err := translate.ScanSamples(dir)
	if err == nil {
		set.Layout = layout
		for _, g := range files {
			row := make([]images.Ref, len(g))
			for k, path := range g {
				row[k] = images.Ref{Path: path}
			}
			set.Refs = append(set.Refs, row)
		}
		return set, nil
	}
	if hasSubfolders(dir) {
		return nil, err
	}
	flat, err := images.ListDir(dir)
	if err != nil {
		return nil, err
	}
	set.Layout = LayoutFlat
	for _, f := range flat {
		set.Refs = append(set.Refs, []images.Ref{{Path: f.Path}})
	}
	return set, nil
}

// hasSubfolders reports whether dir holds a visible sub-folder.
func hasSubfolders(dir string) bool {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() && e.Name()[0] != '.' {
			return true
		}
	}
	return false
}

// realSet is a flat set of real images, each resized to size when > 0.
func realSet(name string, files []images.File, size int) *SampleSet {
	set := &SampleSet{Name: name, Layout: LayoutFlat, Refs: make([][]images.Ref, len(files))}
	for i, f := range files {
		set.Refs[i] = []images.Ref{{Path: f.Path, Size: size}}
	}
	return set
}

// RealFiles lists a folder of real target images, the first p.NumReal of
// them when p.NumReal > 0; a num_real above the folder's count is an
// error, and so is an image above the pixel budget (read from the
// headers; see ImagePixels).
func RealFiles(dir string, p Protocol) ([]images.File, error) {
	files, err := images.ListDir(dir)
	if err != nil {
		return nil, err
	}
	if p.NumReal > len(files) {
		return nil, fmt.Errorf("%s holds %d images, fewer than num_real %d", dir, len(files), p.NumReal)
	}
	if p.NumReal > 0 {
		files = files[:p.NumReal]
	}
	if _, err := ImagePixels(files, p.Size); err != nil {
		return nil, err
	}
	return files, nil
}
