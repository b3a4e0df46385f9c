package evaluate

import (
	"context"
	"fmt"
	"github.com/munit-eval/munit-eval/warning"
	"path/filepath"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/translate"
)

// Source says where one method's samples come from: a generator (or a
// content encoder and Decoder) or a Folder of pre-generated outputs run
// over Inputs through the store at Store, or an existing store folder
// (Samples, STORE/<method>), read as it is.
type Source struct {
	// Method names the method ("": the generator's munit_eval.method).
	Method    string
	Generator string
	Decoder   string
	Folder    string
	Inputs    string
	// Store is the store root new samples go to (Store/<method>).
	Store string
	// Samples is an existing store folder; it excludes the fields above.
	Samples string

	// InputsName and FolderName are how the results document and the
	// warnings name Inputs and Folder ("": as they are); an evaluation
	// file names them relative to itself.
	InputsName, FolderName string
	// ExactInputs makes fewer inputs than NumInputs an error (the count
	// was asked for), not a warning.
	ExactInputs bool
	// KeepSeed keeps the protocol's seed for a store read from Samples;
	// otherwise the store's seed is used, so that the results describe
	// how the store was made.
	KeepSeed bool
	// Force discards store samples of a different model, seed or inputs.
	Force bool
	// NoteCuts adds a warning when a default count (num_inputs, not asked
	// for explicitly) leaves inputs or samples of the source unused, so
	// the reader knows the numbers do not cover everything.
	NoteCuts bool
	// Shard is the part of the inputs Generate translates (the zero value:
	// all); the store's other shards are other processes' work.
	Shard translate.Shard
	// CheckOnly makes Acquire read the store without translating: the
	// scoring step of a sharded evaluation. A store lacking samples is a
	// *translate.IncompleteError naming them.
	CheckOnly bool
}

// RunOptions say how to run the networks, not what to measure.
type RunOptions struct {
	Threads int
	Device  string
	Quiet   bool
}

// ModelOptions are the onnxruntime options of o.
func (o RunOptions) ModelOptions() model.Options {
	return model.Options{Threads: o.Threads, Device: o.Device}
}

// Samples are a method's samples, ready to be measured.
type Samples struct {
	Store *translate.Store
	// Folder, instead of Store, is a plain folder of samples (OpenFolder).
	Folder *Folder
	// NumInputs is M, the inputs to measure (at most the protocol's).
	NumInputs int
	// Inputs and From are what the results document records as the input
	// folder and the source of the samples (protocol.inputs and
	// protocol.samples; From is "" for a generator run).
	Inputs, From string
	// Warnings go first in the results document (fewer inputs than asked).
	Warnings []warning.Warning
	// Generated is what a shard translated (Source.Shard; Store is then
	// nil).
	Generated *translate.Summary
}

// CountInputs lists an input folder and returns M, the number of inputs
// the protocol uses from it, with a warning when it holds fewer than
// p.NumInputs (an error when exact). name names the folder in messages.
func CountInputs(dir, name string, p Protocol, exact bool) (int, []warning.Warning, error) {
	files, err := images.ListDir(dir)
	if err != nil {
		return 0, nil, err
	}
	return fewer(name, len(files), p.NumInputs, exact)
}

func fewer(name string, have, want int, exact bool) (int, []warning.Warning, error) {
	if have >= want {
		return want, nil, nil
	}
	if exact {
		return 0, nil, fmt.Errorf("%s holds %d inputs, %d asked for (num_inputs)", name, have, want)
	}
	return have, []warning.Warning{warning.New(CodeFewerInputs, warning.SubjectSamples, "%s holds %d inputs, fewer than num_inputs %d", name, have, want)}, nil
}

// cutWarning says that a default num_inputs left inputs of a folder or
// store unused.
func cutWarning(name string, have, used int) warning.Warning {
	return warning.New(CodeCut, warning.SubjectSamples, "%s holds %d inputs; %d were used (num_inputs default %d: give --num-inputs %d to use all)", name, have, used, used, have)
}

// Acquire returns the samples of src: at least k per input for M inputs,
// translating what the store lacks when src names a generator or folder.
// A store read from src.Samples sets p's selection, size and (unless
// src.KeepSeed) seed to the store's, so that the results describe it.
func Acquire(ctx context.Context, src Source, p *Protocol, k int, o RunOptions) (*Samples, error) {
	if src.Samples != "" {
		return openSamples(src, p, k)
	}
	name := src.InputsName
	if name == "" {
		name = src.Inputs
	}
	files, err := images.ListDir(src.Inputs)
	if err != nil {
		return nil, err
	}
	m, warnings, err := fewer(name, len(files), p.NumInputs, src.ExactInputs)
	if err != nil {
		return nil, err
	}
	if src.NoteCuts && len(files) > m {
		warnings = append(warnings, cutWarning(name, len(files), m))
	}
	if err := model.Init(""); err != nil {
		return nil, err
	}
	cfg := translate.DefaultConfig()
	cfg.Inputs, cfg.Out, cfg.Method = src.Inputs, src.Store, src.Method
	cfg.NumInputs, cfg.Select, cfg.Seed, cfg.Size, cfg.Batch, cfg.Force = m, p.Select, p.Seed, p.Size, p.Batch, src.Force
	cfg.Threads, cfg.Device, cfg.Quiet = o.Threads, o.Device, o.Quiet
	s := &Samples{NumInputs: m, Inputs: name, Warnings: warnings}
	switch {
	case src.Folder != "":
		cfg.FromFolder = src.Folder
		s.From = src.FolderName
		if s.From == "" {
			s.From = src.Folder
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
			s.Warnings = append(s.Warnings, warning.New(CodeMethodMismatch, warning.SubjectModels, "%s", w))
		}
	}
	cfg.Shard, cfg.CheckOnly = src.Shard, src.CheckOnly
	sum, err := translate.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if src.Shard.Sharded() {
		s.Generated = sum // the store is other shards' work too: not read
		return s, nil
	}
	if s.Store, err = translate.OpenStore(sum.Store); err != nil {
		return nil, err
	}
	return s, nil
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
		return nil, fmt.Errorf("%s: an existing store folder has nothing to generate", src.Samples)
	}
	s, err := Acquire(ctx, src, &p, k, o)
	if err != nil {
		return nil, err
	}
	return s.Generated, nil
}

// openSamples reads an existing store folder holding at least k samples
// per input.
func openSamples(src Source, p *Protocol, k int) (*Samples, error) {
	st, err := translate.OpenStore(src.Samples)
	if err != nil {
		return nil, err
	}
	m, warnings, err := fewer(src.Samples, st.NumInputs(), p.NumInputs, src.ExactInputs)
	if err != nil {
		return nil, err
	}
	if src.NoteCuts && st.NumInputs() > m {
		warnings = append(warnings, cutWarning(src.Samples, st.NumInputs(), m))
	}
	if st.SamplesPerInput() < k {
		return nil, fmt.Errorf("%s holds %d samples per input, %d needed (rerun translate with --samples-per-input %d)", src.Samples, st.SamplesPerInput(), k, k)
	}
	man := st.Manifest()
	p.Select, p.Size = man.Select, man.Size
	if !src.KeepSeed {
		p.Seed = man.Seed
	}
	s := &Samples{Store: st, NumInputs: m, Inputs: man.InputDir, From: st.Dir(), Warnings: warnings}
	if man.FromFolder != "" {
		s.From = man.FromFolder
	}
	return s, nil
}

// StoreRoot is the store folder that holds a method folder (and the
// .cache/ of embeddings and classifier outputs).
func StoreRoot(st *translate.Store) string { return filepath.Dir(st.Dir()) }
