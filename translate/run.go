package translate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/version"
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
	cfg Config
	// streams is the number of generator runs at once (Config.parallelism).
	streams int
	// observeMu serialises Config.observe across streams.
	observeMu sync.Mutex
	gen       generator
	spec      genSpec
	inputs    []inputFile
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
	// shard is the part of the inputs this run owns (the zero value: all).
	shard Shard
	// prev is what the run folder held when the run started (read under
	// the lock), or prevErr why it could not be read.
	prev    *assembly
	prevErr error
	// refs is the reference folder and style encoder of a
	// reference-guided run (nil otherwise).
	refs *references
	// domainName is the resolved --target-domain of a multi-domain model.
	domainName string
	// locks are the locks held on the run folder (see lock).
	locks []*fileLock
	// otherRun says, when the method's own folder holds a run of another
	// identity, which identity fields differ (for a check's message).
	otherRun string
	// joining is the stored run this run joins although their graph
	// rewrites differ, pending verifyRewrites; refuseJoin is set once the
	// check failed. note is what the check found, for the summary.
	joining    *Manifest
	refuseJoin bool
	note       string
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
// When ctx is cancelled, Run finishes the batches in flight, writes its
// samples and the manifest, and returns an error wrapping context.Canceled;
// a later Run finishes the store with exactly the samples an uninterrupted
// run would have produced.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	start := time.Now()
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("translate: %w", err)
	}
	r := &runner{cfg: cfg, shard: cfg.Shard.norm()}
	r.streams, _ = cfg.parallelism()
	defer func() {
		r.unlock()
		if r.gen != nil {
			r.gen.close()
		}
		if r.refs != nil && r.refs.enc != nil {
			r.refs.enc.close()
		}
	}()
	if err := r.setup(); err != nil {
		// Leave no empty run folder behind a refused run.
		r.unlock()
		if r.dir != "" {
			os.Remove(r.dir) // only when empty
		}
		return nil, fmt.Errorf("translate: %w", err)
	}
	if cfg.CheckOnly {
		sum, err := r.checkOnly(start)
		if err != nil {
			r.unlock()
			os.Remove(r.dir) // only when empty: the check made it
		}
		return sum, err
	}
	if err := r.openStore(); err != nil {
		return nil, fmt.Errorf("translate: %w", err)
	}
	runErr := r.generate(ctx)
	complete := false
	if runErr == nil {
		if r.shard.Sharded() {
			complete, runErr = r.consolidate()
		} else {
			complete = true
		}
	}
	sum := &Summary{
		Method:          r.man.Method,
		Store:           r.dir,
		Inputs:          len(r.inputs),
		SamplesPerInput: r.k,
		Computed:        r.computed,
		Reused:          r.reused,
		Seconds:         time.Since(start).Seconds(),
		Randomness:      r.man.Randomness,
		Complete:        complete,
		Note:            r.note,
	}
	if r.man.FromFolder != "" {
		sum.Copied, sum.Computed = r.computed, 0 // copied files, not computed by a network
	}
	if r.shard.Sharded() {
		sum.Shard = r.shard.String()
	}
	if runErr != nil {
		if ctx.Err() != nil && errors.Is(runErr, ctx.Err()) {
			done, total := r.countDone()
			return sum, fmt.Errorf("translate: interrupted with %d of %d samples in %s (rerun to finish): %w",
				done, total, r.dir, runErr)
		}
		return sum, fmt.Errorf("translate: %w", runErr)
	}
	return sum, nil
}

// setup opens the generator or scans the folder, chooses and locks the
// store's run folder (chooseStore), selects the inputs, and fixes K and the
// latent codes.
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
		r.gen, r.spec, r.domainName = g, g.spec(), g.mapDomainName
	}
	if err := r.openReferences(); err != nil {
		return err
	}
	method := cfg.Method
	if method == "" && r.spec.method != "" && r.refs != nil {
		// Reference-guided samples are another method's row in tables.
		method = r.spec.method + " (ref)"
	} else if method == "" {
		method = r.spec.method
	}
	if method == "" {
		return fmt.Errorf("%s has no munit_eval.method metadata: name the method with --method", cfg.Generator)
	}
	dirName, err := MethodDir(method)
	if err != nil {
		return err
	}

	// What produced the samples (the run's identity) is known before the
	// inputs are read; it picks the run folder.
	stochastic := r.spec.latentDim > 0
	noisy := len(r.spec.noise) > 0
	latentSource := LatentsNone
	var latentsRef *FileRef
	switch {
	case cfg.FromFolder != "":
	case !stochastic && r.refs != nil:
		return fmt.Errorf("--style-encoder %s: the generator %s has no style input to take its codes", cfg.StyleEncoder, cfg.Generator)
	case !stochastic && cfg.Latents != "" && noisy:
		return fmt.Errorf("--latents %s: the generator %s has no style input (its randomness comes from its noise inputs, drawn from --seed)", cfg.Latents, cfg.Generator)
	case !stochastic && cfg.Latents != "":
		return fmt.Errorf("--latents %s: the generator %s is deterministic (no latent input)", cfg.Latents, cfg.Generator)
	case !stochastic && !noisy && max(cfg.Samples, 1) > 1 && !cfg.Repeat:
		return fmt.Errorf("the generator %s is deterministic (no latent input), so it gives one sample per input; pass --repeat to copy it into %d samples (diversity 0), or drop --samples-per-input", cfg.Generator, cfg.Samples)
	case !stochastic:
	case r.refs != nil:
		latentSource = LatentsReference
	case cfg.Latents != "":
		latentSource = LatentsFile
		sha, err := images.HashFile(cfg.Latents)
		if err != nil {
			return fmt.Errorf("--latents: %w", err)
		}
		abs, _ := filepath.Abs(cfg.Latents)
		latentsRef = &FileRef{File: abs, SHA256: sha}
	default:
		latentSource = LatentsSeed
	}
	inputDir, _ := filepath.Abs(cfg.Inputs)
	r.man = &Manifest{
		Schema:       ManifestSchema,
		Method:       method,
		LatentSource: latentSource,
		LatentsFile:  latentsRef,
		Noise:        r.spec.noise,
		Seed:         cfg.Seed,
		Select:       cfg.Select,
		InputDir:     inputDir,
		Size:         cfg.Size,
		Rewrites:     r.spec.rewrites,
		Samples:      []Sample{},
		Versions:     Versions{MunitEval: version.MunitEval, ONNXRuntime: r.spec.ortVersion},
	}
	if stochastic {
		r.man.LatentDim = r.spec.latentDim
	}
	if r.refs != nil {
		r.man.References = &r.refs.set
	}
	r.man.TargetDomain = r.targetDomain()
	if len(r.spec.models) > 0 {
		r.man.Models = r.spec.models
	}
	if cfg.FromFolder != "" {
		abs, _ := filepath.Abs(cfg.FromFolder)
		r.man.FromFolder = abs
	}
	r.man.InputDirRel, r.man.FromFolderRel = relTo(cfg.Out, r.man.InputDir), relTo(cfg.Out, r.man.FromFolder)
	r.man.Randomness = randomnessOf(r.man)
	if r.shard.Sharded() {
		sh := r.shard
		r.man.Shard = &sh
	}
	if err := r.chooseStore(dirName); err != nil {
		return err
	}
	if err := r.selectRun(stochastic, noisy); err != nil {
		return err
	}
	if r.joining == nil {
		return nil
	}
	// The store's samples were made with another count of graph rewrites:
	// join it only if this run regenerates them byte for byte.
	same, note, err := r.verifyRewrites(r.joining)
	if err != nil {
		return err
	}
	r.note = note
	if same {
		return nil
	}
	r.unlock()
	os.Remove(r.dir) // only when empty
	r.joining, r.refuseJoin, r.man.Rewrites, r.man.Inputs = nil, true, r.spec.rewrites, nil
	if err := r.chooseStore(dirName); err != nil {
		return err
	}
	return r.selectRun(stochastic, noisy)
}

// selectRun selects the inputs of the chosen run folder and fixes K and
// the latent codes.
func (r *runner) selectRun(stochastic, noisy bool) error {
	cfg := &r.cfg
	var err error
	// A store only grows: a comparable store of more inputs (first-M
	// selection) or more samples per input keeps them.
	var prev *Manifest
	if !cfg.Force && r.prev != nil {
		prev = r.prev.m
	}
	if err := r.selectInputs(prev); err != nil {
		return err
	}
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
		r.man.FolderLayout = r.scan.layout
	case !stochastic && noisy:
		// Noise inputs only: every sample gets its own noise from the seed.
		r.k = cfg.Samples
		if r.k == 0 {
			r.k = DefaultSamples
		}
		if prev != nil && prev.LatentSource == LatentsNone && len(prev.Noise) > 0 {
			r.k = max(r.k, prev.SamplesPerInput)
		}
	case !stochastic:
		r.k = max(cfg.Samples, 1)
		if prev != nil && prev.LatentSource == LatentsNone && prev.FromFolder == "" {
			r.k = max(r.k, prev.SamplesPerInput)
		}
	case cfg.Latents != "":
		if err := r.readLatents(); err != nil {
			return err
		}
	default:
		r.k = cfg.Samples
		if r.k == 0 {
			r.k = DefaultSamples
		}
		if prev != nil && prev.LatentSource == r.man.LatentSource {
			r.k = max(r.k, prev.SamplesPerInput)
		}
	}
	if r.refs != nil {
		if err := r.assignReferences(); err != nil {
			return err
		}
	}
	if r.gen != nil {
		if err := r.checkSizes(); err != nil {
			return err
		}
	}
	if r.k > MaxSamples || len(r.inputs)*r.k > MaxSamples {
		return fmt.Errorf("%d inputs x %d samples per input: more than the %d samples a store holds", len(r.inputs), r.k, MaxSamples)
	}
	r.man.Repeat = !stochastic && !noisy && cfg.FromFolder == "" && r.k > 1
	r.man.SamplesPerInput = r.k
	for _, in := range r.inputs {
		r.man.Inputs = append(r.man.Inputs, in.rec)
	}
	r.done = make([]*Sample, len(r.inputs)*r.k)
	return nil
}
