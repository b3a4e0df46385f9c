// Package evaluate measures one method on one dataset: it acquires the
// method's samples as a SampleSet (through the sample store, from an
// existing store folder, or from a plain folder read where it is),
// gathers what the asked metrics need (LPIPS pair distances, classifier
// logits, features of the samples and of real images), computes the
// metrics through their registry entries and returns the results document
// with its warnings. A Plan is a whole evaluation; Run executes it. Both
// `munit-eval run` (package pipeline) and the metric commands of the CLI
// build a Plan and Run it, so the two cannot drift apart.
//
// The protocol (how many inputs, samples, pairs, resamples...) is one type,
// Protocol, with the MUNIT paper's defaults and one Validate, filled from an
// evaluation file or from command-line flags.
package evaluate

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"

	"github.com/munit-eval/munit-eval/batch"
	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/inception"
	"github.com/munit-eval/munit-eval/internal/progress"
	"github.com/munit-eval/munit-eval/internal/version"
	"github.com/munit-eval/munit-eval/lpips"
	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/translate"
	"github.com/munit-eval/munit-eval/warning"
)

// ModelFiles name the scoring models of an evaluation.
type ModelFiles struct {
	LPIPS      string
	Classifier string
	// Features is the FID/KID feature model ("": Classifier).
	Features string
	// Metric names, by metric key, a features model of the metric's own
	// (fd: a DINOv2 export, cmmd: a CLIP export), so that metrics in
	// different feature spaces share one evaluation; the others use
	// Features.
	Metric map[string]string
}

// Scorers are the opened scoring models. Features may be Classifier;
// metric holds the metrics' own features models (ModelFiles.Metric).
type Scorers struct {
	LPIPS      *lpips.Model
	Classifier *inception.Classifier
	Features   *inception.Classifier
	files      ModelFiles
	metric     map[string]*inception.Classifier
	owned      []*inception.Classifier
}

// OpenPlanScorers opens the models the entries es need (OpenScorers),
// each metric's own features model once per file (ModelFiles.Metric),
// and checks that every features model has the output its metrics read
// (sFID: "spatial").
func OpenPlanScorers(f ModelFiles, es []*registry.Entry, mo model.Options) (s *Scorers, err error) {
	var shared []*registry.Entry
	for _, e := range es {
		if f.Metric[e.Key] == "" || !e.Needs.Has(registry.NeedFeatures) {
			shared = append(shared, e)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(f.Metric)) {
		if e := registry.Lookup(k); e == nil || !e.Needs.Has(registry.NeedFeatures) {
			return nil, fmt.Errorf("models.metric_features names %q, not a metric of a features model (%s)", k, strings.Join(featureKeys(), ", "))
		}
	}
	if s, err = OpenScorers(f, registry.NeedsOf(shared), mo); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.Close()
			s = nil
		}
	}()
	byFile := map[string]*inception.Classifier{}
	for _, e := range es {
		file := f.Metric[e.Key]
		if file == "" || !e.Needs.Has(registry.NeedFeatures) {
			continue
		}
		c := byFile[file]
		if c == nil {
			if c, err = inception.Open(file, mo); err != nil {
				return nil, err
			}
			s.owned, byFile[file] = append(s.owned, c), c
			if !c.HasFeatures() {
				return nil, fmt.Errorf("%s: the features model of %s has no \"features\" output (export it with features)", file, e.Key)
			}
		}
		if s.metric == nil {
			s.metric = map[string]*inception.Classifier{}
		}
		s.metric[e.Key] = c
	}
	for _, e := range es {
		if c, file, _ := s.featuresOf(e.Key); e.Output != "" && e.Needs.Has(registry.NeedFeatures) && !c.HasOutput(e.Output) {
			return nil, fmt.Errorf("%s: %s reads the features model's %q output, which it lacks (python3 -m export.fid_inception writes it)", file, e.Title, e.Output)
		}
	}
	return s, nil
}

// featureKeys are the keys of the metrics that read a features model.
func featureKeys() []string {
	var out []string
	for _, e := range registry.All() {
		if e.Needs.Has(registry.NeedFeatures) {
			out = append(out, e.Key)
		}
	}
	return out
}

// featuresOf is the features model metric key reads, its file, and
// whether it is the metric's own.
func (s *Scorers) featuresOf(key string) (*inception.Classifier, string, bool) {
	if c := s.metric[key]; c != nil {
		return c, s.files.Metric[key], true
	}
	return s.Features, s.files.Features, false
}

// OpenScorers opens the models that needs ask for, each checked against
// the contract of its role, before any work: the LPIPS model (pair
// distances), the classifier (logits, and features when no features model
// is named) and the features model, which must have a "features" output.
func OpenScorers(f ModelFiles, needs registry.Need, mo model.Options) (s *Scorers, err error) {
	s = &Scorers{files: f}
	defer func() {
		if err != nil {
			s.Close()
			s = nil
		}
	}()
	if needs.Has(registry.NeedPairs) {
		if f.LPIPS == "" {
			return nil, fmt.Errorf("LPIPS diversity needs an LPIPS model")
		}
		if s.LPIPS, err = lpips.Open(f.LPIPS, mo); err != nil {
			return nil, err
		}
	}
	logits, feats := needs.Has(registry.NeedLogits), needs.Has(registry.NeedFeatures)
	if f.Classifier != "" && (logits || feats && f.Features == "") {
		if s.Classifier, err = inception.Open(f.Classifier, mo); err != nil {
			return nil, err
		}
	}
	if logits && s.Classifier == nil {
		return nil, fmt.Errorf("IS and CIS need a classifier")
	}
	if logits && !s.Classifier.HasLogits() {
		return nil, fmt.Errorf("%s is a feature extractor without logits: IS and CIS need a classifier (give it as --features / models.features for FID, KID, PRDC and CMMD)", f.Classifier)
	}
	if feats {
		switch {
		case f.Features != "":
			if s.Features, err = inception.Open(f.Features, mo); err != nil {
				return nil, err
			}
		case s.Classifier != nil:
			s.Features, s.files.Features = s.Classifier, f.Classifier
		default:
			return nil, fmt.Errorf("FID, KID, PRDC, CMMD, FD and sFID need a features (or classifier) model")
		}
		if !s.Features.HasFeatures() {
			return nil, fmt.Errorf("%s: the FID/KID model has no \"features\" output; FID and KID need pool features (export it with features)", s.files.Features)
		}
	}
	return s, nil
}

// Close closes every opened model.
func (s *Scorers) Close() {
	if s == nil {
		return
	}
	if s.LPIPS != nil {
		s.LPIPS.Close()
	}
	if s.Features != nil && s.Features != s.Classifier {
		s.Features.Close()
	}
	for _, c := range s.owned {
		c.Close()
	}
	if s.Classifier != nil {
		s.Classifier.Close()
	}
}

// CheckModel opens a model's description and checks it against the
// contract of role, so that a wrong model is found before any work.
func CheckModel(path string, role model.Role) error {
	info, err := model.Inspect(path)
	if err != nil {
		return err
	}
	if p := model.Check(info, role); len(p) > 0 {
		return fmt.Errorf("%s does not fit the %s contract (see docs/models.md): %s", path, role, strings.Join(p, "; "))
	}
	return nil
}

// CheckSource checks the models of a source against their roles: the
// generator, or the content encoder and decoder.
func CheckSource(src Source) error {
	switch {
	case src.Generator != "" && src.Decoder != "":
		if err := CheckModel(src.Generator, model.RoleContentEncoder); err != nil {
			return err
		}
		return CheckModel(src.Decoder, model.RoleDecoder)
	case src.Generator != "":
		return CheckModel(src.Generator, model.RoleGenerator)
	}
	return nil
}

// Job is one measurement: the metrics of one SampleSet under the
// protocol, or (RealRow) the real-data row of a dataset: LPIPS over random
// pairs of real images, IS of the real images, and the metrics that
// compare samples with real images between two seeded halves of them.
type Job struct {
	Method, Dataset string
	Protocol        Protocol
	// Metrics are the entries to compute, in the registry's order.
	Metrics []*registry.Entry
	// Set holds the samples (for RealRow, the real images).
	Set *SampleSet
	// RealRow makes the job the real-data row: RealInputs groups of the
	// pairing's pairs per input, each pair two distinct real images drawn
	// with the seed (lpips.RandomPairs); the real images as flat samples
	// for the classifier (registry.Inputs.RealRow); one half of them
	// against the other for the features (RealHalves).
	RealRow    bool
	RealInputs int
	// Real are the real images the distance metrics compare the samples
	// with (a flat set, named by its Name in the document). RealStats,
	// when set, replaces them: the real images' Gaussian fit from
	// published statistics (a pytorch-fid .npz), named RealStatsName; the
	// metrics that need the real features then say so in a warning.
	Real          *SampleSet
	RealStats     *metrics.Gaussian
	RealStatsName string
	// Cache is the store folder whose .cache/ keeps embeddings, pair
	// distances and classifier outputs ("": no disk cache);
	// CacheEmbeddings also keeps full LPIPS embeddings (for re-pairing).
	Cache           string
	CacheEmbeddings bool
	Quiet           bool
	// Log, when set, receives one line per step.
	Log func(step string)
	// Warn, when set, receives what went wrong without changing a number
	// (a cache that could not be written); such notes are not recorded in
	// the results document, which depends only on the inputs and seed.
	Warn func(msg string)
	// Shard, when sharded, makes Measure a shard task's share of the
	// scoring: it computes the per-sample values of the inputs (and real
	// images, and real-row pairs) the shard owns into the shard's partials
	// (PartialsDir) and returns no document.
	Shard translate.Shard
	// FromPartials makes Measure the scoring step of a sharded run: values
	// of store samples come from the caches (the shards' partials folded
	// in) by the SHA-256 the manifest records, without reading the files;
	// what the caches lack is computed from the samples and Warn says so.
	FromPartials bool
}

// PartialsDir is the folder of shard s's partials in the store folder
// store: per-sample values in the caches' formats, written by that shard
// alone (docs/scale.md).
func PartialsDir(store string, s translate.Shard) string {
	return filepath.Join(store, translate.CacheDirName, "partials", fmt.Sprintf("shard-%d-of-%d", s.Index, s.Count))
}

func (j *Job) log(step string) {
	if j.Log != nil {
		j.Log(step)
	}
}

func (j *Job) warn(msgs []string) {
	for _, m := range msgs {
		if j.Warn != nil {
			j.Warn(m)
		}
	}
}

func (j *Job) cacheDir(kind string) string {
	switch {
	case j.Cache == "":
		return ""
	case j.Shard.Sharded():
		return filepath.Join(PartialsDir(j.Cache, j.Shard), kind)
	}
	return filepath.Join(j.Cache, translate.CacheDirName, kind)
}

// Measure computes the metrics of j from its samples and returns the
// results document (not yet stamped with its created time). It gathers,
// in this order and only what the metrics need (registry.NeedsOf): the
// LPIPS distances of the pairing's pairs, the classifier's logits of the
// K samples of each input, the features of those samples and of the real
// images; then each metric's registry entry computes its part of the
// document from them. K is samples_per_input, or what the set holds when
// that is fewer and K was not asked for explicitly (a warning says so).
func Measure(ctx context.Context, s *Scorers, j Job) (*results.Document, error) {
	p, set := j.Protocol, j.Set
	needs := registry.NeedsOf(j.Metrics)
	doc := results.New(j.Method, j.Dataset)
	doc.Protocol = results.Protocol{NumInputs: set.M(), Seed: p.Seed, Bootstrap: p.Bootstrap, Select: set.Prov.Select,
		ImageSize: set.Prov.Size, Inputs: set.Prov.Inputs, Samples: set.Prov.Samples, Randomness: set.Prov.Randomness, Preset: p.Preset}
	doc.Versions = results.Versions{MunitEval: version.MunitEval, ONNXRuntime: model.ORTVersion()}
	doc.Models = map[string]results.ModelRef{}
	for role, ref := range set.Prov.Models {
		doc.Models[role] = ref
	}
	if !needs.Has(registry.NeedPairs) && !needs.Has(registry.NeedLogits) {
		doc.Protocol.Bootstrap = 0 // FID/KID alone use no bootstrap over inputs
	}
	if j.RealRow {
		doc.Method, doc.Protocol.NumInputs, doc.Protocol.Real = results.MethodRealData, j.RealInputs, set.Name
	}
	k, recorded, warns, err := j.samplesUsed()
	if err != nil {
		return nil, err
	}
	doc.Protocol.SamplesPerInput = recorded
	doc.Warnings = append(append([]warning.Warning(nil), set.Warnings...), warns...)
	if j.Shard.Sharded() {
		return nil, j.partials(ctx, s, k)
	}
	in := &registry.Inputs{Params: p.Params(), M: set.M(), K: k, Grouped: set.Grouped(), RealRow: j.RealRow}
	if needs.Has(registry.NeedPairs) {
		if err := j.pairs(ctx, s, in, doc); err != nil {
			return nil, err
		}
	}
	if needs.Has(registry.NeedLogits) {
		if err := j.logits(ctx, s, in, doc); err != nil {
			return nil, err
		}
	}
	spaces := map[space]gathered{}
	for _, e := range j.Metrics {
		if e.Needs.Has(registry.NeedFeatures) {
			if err := j.features(ctx, s, e, in, doc, needs.Has(registry.NeedLogits), spaces); err != nil {
				return nil, err
			}
		}
		ws, err := e.Compute(in, &doc.Metrics)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", set.Name, e.Title, err)
		}
		doc.Warnings = append(doc.Warnings, ws...)
	}
	return doc, nil
}

// samplesUsed is K, the samples per input the per-sample metrics score,
// and what the document states as samples_per_input: K, or the pairing's
// need for the pairs alone (none for the real-data row). The pairing's need beyond what the
// set holds is an error; so is samples_per_input when it was asked for,
// and a default above it takes what the set holds, with a warning. A
// folder holding more than is used says so (a store only grows: it does
// not).
func (j *Job) samplesUsed() (k, recorded int, warns []warning.Warning, err error) {
	p, set := j.Protocol, j.Set
	have, need := set.K(), 0
	k = 1
	// rerun says where more samples come from: a generator's store grows
	// by rerunning translate; a store of copied files only from a folder
	// that holds more.
	rerun := func(n int) string {
		switch {
		case set.Layout != LayoutStore:
			return ""
		case set.FromFolder != "":
			return fmt.Sprintf(" (its samples were copied from %s: copy again, with translate --from-folder, from a folder holding at least %d samples per input)", set.FromFolder, n)
		}
		return fmt.Sprintf(" (rerun translate with --samples-per-input %d)", n)
	}
	if registry.NeedsOf(j.Metrics).Has(registry.NeedPairs) && !j.RealRow {
		need = p.LPIPSSamples()
		switch {
		case !set.Grouped():
			return 0, 0, nil, fmt.Errorf("%s: LPIPS diversity needs samples grouped by input (%s or %s); a flat folder has none", set.Name, translate.LayoutDirs, translate.LayoutSuffix)
		case have < need:
			return 0, 0, nil, fmt.Errorf("%s holds %d samples per input; the %s pairing with %d pairs needs %d%s", set.Name, have, p.Pairing, p.PairsDrawn(), need, rerun(need))
		}
	}
	if perSample(j.Metrics) && set.Grouped() {
		k = p.SamplesPerInput
		if have < k && p.given("samples_per_input") {
			return 0, 0, nil, fmt.Errorf("%s holds %d samples per input, %d asked for (samples_per_input)%s", set.Name, have, k, rerun(k))
		} else if have < k {
			warns = append(warns, warning.New(CodeFewerSamples, warning.SubjectSamples, "%s holds %d samples per input, fewer than samples_per_input %d: the metrics score %d", set.Name, have, k, have))
			k = have
		}
	}
	switch {
	case j.RealRow:
	case perSample(j.Metrics):
		recorded = k
	default:
		recorded = need
	}
	if used := max(k, need); set.Layout != LayoutStore && set.Grouped() && have > used {
		warns = append(warns, warning.New(CodeCut, warning.SubjectSamples, "%s holds %d samples per input; the metrics used the first %d", set.Name, have, used))
	}
	return k, recorded, warns, nil
}

// pairs gathers the LPIPS distances of the pairing's pairs of the first
// samples of each input, or of the real-data row's random pairs of real
// images, through one lpips.Embedder.PairDistances call.
func (j *Job) pairs(ctx context.Context, s *Scorers, in *registry.Inputs, doc *results.Document) error {
	p := j.Protocol
	items, pairs, m, per, k, err := j.pairItems()
	if err != nil {
		return err
	}
	if j.RealRow {
		in.Pairing = "random real pairs"
		if w := lpips.RealPairsWarning(len(items), len(pairs)); w != "" {
			doc.Warnings = append(doc.Warnings, warning.New(CodeFewRealPairs, registry.KeyLPIPS, "%s", w))
		}
	} else {
		in.Pairing, in.Trials = p.Pairing, max(p.Trials, 1)
		doc.Protocol.PairsPerInput, doc.Protocol.Pairing = per, p.Pairing
	}
	j.log("LPIPS")
	e := j.embedder(s, len(items))
	dist, err := e.PairDistances(ctx, items, pairs)
	e.Bar.Finish()
	j.warn(e.Warnings)
	j.computed(e.Computed, "LPIPS embeddings")
	if err != nil {
		return err
	}
	in.PairGroups, in.Pairs = make([][]float64, m), make([]results.Pair, len(pairs))
	for q, d := range dist {
		g := q / per
		in.PairGroups[g] = append(in.PairGroups[g], d)
		in.Pairs[q] = results.Pair{Input: g, A: pairs[q][0] - g*k, B: pairs[q][1] - g*k, Distance: d}
	}
	in.PairsPerInput, in.LPIPSNet, in.LPIPSVersion = per, s.LPIPS.Net, s.LPIPS.Version
	if ps, ok := PresetNamed(p.Preset); ok && ps.LPIPSVersion != "" && ps.LPIPSVersion != s.LPIPS.Version {
		doc.Warnings = append(doc.Warnings, warning.New(CodePresetLPIPS, registry.KeyLPIPS,
			"the %s preset's published LPIPS values were computed with LPIPS v%s, this model is v%s (v0.0 values are about half of v0.1's): compare with the paper's numbers only under the same version (docs/protocols.md)",
			ps.Name, ps.LPIPSVersion, s.LPIPS.Version))
	}
	doc.Models[results.ModelLPIPS] = results.ModelRef{File: filepath.Base(s.files.LPIPS), SHA256: s.LPIPS.SHA256(),
		Net: s.LPIPS.Net, Version: s.LPIPS.Version, Synthetic: s.LPIPS.Synthetic()}
	return nil
}

// pairItems lists the images and the pairs (indices into them) whose
// distances the LPIPS metrics need: the pairing's pairs of the first
// samples of each of the m inputs, per pairs each and k images each, or
// the real-data row's random pairs of real images (k = 0), m groups of per.
func (j *Job) pairItems() (items []batch.Item, pairs [][2]int, m, per, k int, err error) {
	p, set := j.Protocol, j.Set
	pairing := lpips.Pairing(p.Pairing)
	m, per = set.M(), p.Pairs
	if j.RealRow {
		if set.M() < 2 {
			return nil, nil, 0, 0, 0, fmt.Errorf("the real data row needs at least 2 images, %s has %d", set.Name, set.M())
		}
		if pairing == lpips.All {
			per = p.SamplesPerInput * (p.SamplesPerInput - 1) / 2
		}
		m, items = j.RealInputs, set.items(1, 0)
		return items, lpips.RandomPairs(p.Seed, len(items), m*per), m, per, 0, nil
	}
	k = p.LPIPSSamples()
	per = len(lpips.PairIndices(pairing, p.PairsDrawn(), k, p.Seed))
	return set.items(k, 0), lpips.GroupPairs(pairing, p.PairsDrawn(), k, m, p.Seed), m, per, k, nil
}

// embedder returns an LPIPS embedder with j's cache, batch and trust.
func (j *Job) embedder(s *Scorers, n int) *lpips.Embedder {
	e := lpips.NewEmbedder(s.LPIPS, j.cacheDir("lpips"))
	e.CacheEmbeddings, e.Batch, e.Trust = j.CacheEmbeddings, j.Protocol.Batch, j.trust()
	e.Bar = progress.New(n, "lpips", j.Quiet)
	return e
}

// runner returns a classifier runner with j's cache, batch and trust.
func (j *Job) runner(c *inception.Classifier) *inception.Runner {
	r := inception.NewRunner(c, j.cacheDir("classifier"))
	r.Batch, r.Trust = j.Protocol.Batch, j.trust()
	return r
}

// trust reports whether store samples' values are looked up by the
// SHA-256 their manifest records, without reading the files: in the
// scoring step of a sharded run, and in a shard task, whose partials hold
// only values it computed from bytes verified against those hashes (so it
// reads each of its samples once, not once to hash and once to run).
func (j *Job) trust() bool { return j.FromPartials || j.Shard.Sharded() }

// computed says, in the scoring step of a sharded run, that n values were
// not in the shards' partials and were computed here from the samples.
func (j *Job) computed(n int, what string) {
	if j.FromPartials && n > 0 {
		j.warn([]string{fmt.Sprintf("%s / %s: the shards' partials lacked %d %s: computed here from the samples (a shard did not finish its partials, or they were damaged)",
			j.Dataset, j.Method, n, what)})
	}
}

// logits gathers the classifier's logits of the K samples of each input.
func (j *Job) logits(ctx context.Context, s *Scorers, in *registry.Inputs, doc *results.Document) error {
	j.log("IS and CIS")
	items := j.Set.items(in.K, 0)
	r := j.runner(s.Classifier)
	r.Bar = progress.New(len(items), "classify", j.Quiet)
	outs, err := r.RunItems(ctx, items)
	r.Bar.Finish()
	j.warn(r.Warnings)
	j.computed(r.Computed, "classifier outputs")
	if err != nil {
		return err
	}
	for _, o := range outs {
		for _, v := range o.Logits {
			in.Logits = append(in.Logits, float64(v))
		}
	}
	in.Classes = s.Classifier.Classes
	doc.Protocol.Splits = j.Protocol.Splits
	doc.Models[results.ModelClassifier] = results.ModelRef{File: filepath.Base(s.files.Classifier), SHA256: s.Classifier.SHA256(),
		Classes: s.Classifier.Classes, Synthetic: s.Classifier.Info().Synthetic()}
	return nil
}

// space is a feature space: a features model and the output read.
type space struct {
	c      *inception.Classifier
	output string
}

// gathered are a space's features of the samples and of the real images.
type gathered struct{ x, y [][]float64 }

// features gathers, once per feature space (done), the features of the
// K samples of each input and of the real images (or takes the real
// statistics) that entry e reads: its features model's output, each
// image resized to CleanSize first in ResizeClean mode; and sets in's
// features for e. Samples and real images run apart, so that a batch
// never mixes them (what a network computes for an image stays
// independent of which others share its batch). Two outputs of one model
// share its runs (the classifier's memory cache).
func (j *Job) features(ctx context.Context, s *Scorers, e *registry.Entry, in *registry.Inputs, doc *results.Document, logits bool, done map[space]gathered) error {
	c, file, own := s.featuresOf(e.Key)
	sp := space{c, e.Output}
	if sp.output == "" {
		sp.output = inception.OutputFeatures
	}
	in.FeatureModel, in.FeaturePreprocess = FeatureModelName(c.Info()), c.Info().Metadata[model.MetaPreprocess]
	ref := results.ModelRef{File: filepath.Base(file), SHA256: c.SHA256(), Synthetic: c.Info().Synthetic()}
	switch {
	case own:
		doc.Models[results.ModelFeatures+"."+e.Key] = ref
	case c != s.Classifier || !logits:
		// The classifier's entry already names the features model when
		// they are one.
		doc.Models[results.ModelFeatures] = ref
	}
	if j.RealStats != nil && e.Stats {
		// Statistics made with another resize, size or features model
		// would give a number that looks comparable and is not. (An entry
		// that takes no statistics warns that it needs real features.)
		if err := inception.CheckStats(j.RealStatsName, j.RealStats, inception.StatsSource(j.Protocol.Resize, j.Protocol.Size, c.SHA256())); err != nil {
			return err
		}
	}
	if g, ok := done[sp]; ok {
		in.Features, in.RealFeatures, in.RealStats = g.x, g.y, j.RealStats
		return nil
	}
	if j.Real == nil && j.RealStats == nil {
		return fmt.Errorf("%s needs real images (or, for FID and FD, real statistics)", e.Title)
	}
	if own {
		j.log(e.Title + " features (" + filepath.Base(file) + ")")
	} else {
		j.log("FID and KID")
	}
	clean := 0
	if j.Protocol.Resize == ResizeClean {
		clean = CleanSize
		doc.Protocol.Resize = ResizeClean
	}
	var real []batch.Item
	if j.RealStats == nil {
		real = j.Real.items(1, clean)
	}
	samples := j.Set.items(in.K, clean)
	if j.RealRow {
		// Real against real: one seeded half of the real images plays the
		// samples, the other the reference (RealHalves).
		a, b := RealHalves(j.Protocol.Seed, len(samples))
		samples, real = pick(samples, a), pick(samples, b)
	}
	r := j.runner(c)
	r.Bar = progress.New(len(samples)+len(real), "features", j.Quiet)
	var g gathered
	var err error
	if g.x, err = outputRows(ctx, r, samples, sp.output); err == nil && real != nil {
		g.y, err = outputRows(ctx, r, real, sp.output)
	}
	r.Bar.Finish()
	j.warn(r.Warnings)
	j.computed(r.Computed, "features")
	if err != nil {
		return err
	}
	done[sp] = g
	in.Features, in.RealFeatures = g.x, g.y
	if in.RealStats = j.RealStats; j.RealStats != nil {
		doc.Protocol.RealStats = j.RealStatsName
	} else {
		doc.Protocol.Real = j.Real.Name
	}
	return nil
}

// FeatureModelName names a features model in results: the architecture
// its exporter recorded (munit_eval.config's arch, "dinov2_vitl14"), else
// its file name without .onnx.
func FeatureModelName(info *model.Info) string {
	var cfg struct{ Arch string }
	if json.Unmarshal([]byte(info.Metadata["munit_eval.config"]), &cfg) == nil && cfg.Arch != "" {
		return cfg.Arch
	}
	return strings.TrimSuffix(filepath.Base(info.Path), filepath.Ext(info.Path))
}

// outputRows runs items through r and returns the named feature output in
// float64.
func outputRows(ctx context.Context, r *inception.Runner, items []batch.Item, output string) ([][]float64, error) {
	outs, err := r.RunItems(ctx, items)
	if err != nil {
		return nil, err
	}
	return inception.OutputRows(outs, output)
}

// realHalvesStream keys RealHalves' stream ("REALHALF"), apart from the
// LPIPS real pairs' stream of the same seed.
const realHalvesStream = 0x5245414c48414c46

// RealHalves splits n real images into two halves drawn with the seed: a
// (the first n/2 of a seeded permutation) and b (the other n - n/2), each
// in ascending order. The real-data row compares a with b wherever a
// metric compares samples with real images (FID, KID, PRDC): what a
// generator indistinguishable from the real data scores at about these
// counts.
func RealHalves(seed int64, n int) (a, b []int) {
	perm := rand.New(rand.NewPCG(uint64(seed), realHalvesStream)).Perm(n)
	a, b = perm[:n/2], perm[n/2:]
	slices.Sort(a)
	slices.Sort(b)
	return a, b
}

func pick(items []batch.Item, idx []int) []batch.Item {
	out := make([]batch.Item, len(idx))
	for i, k := range idx {
		out[i] = items[k]
	}
	return out
}

// features runs items through r and returns their features in float64.
func features(ctx context.Context, r *inception.Runner, items []batch.Item) ([][]float64, error) {
	outs, err := r.RunItems(ctx, items)
	if err != nil {
		return nil, err
	}
	return inception.Features(outs)
}

// Logits scores a float32 [M, K, C] logits array from a .npy file with
// the IS entry (no network runs): the document names the file under
// "logits" and the classes (class0..class{C-1} when classes is nil).
func Logits(path string, classes []string, dataset string, p Protocol) (*results.Document, error) {
	a, err := images.ReadNPY(path)
	if err != nil {
		return nil, err
	}
	if len(a.Shape) != 3 {
		return nil, fmt.Errorf("%s: logits have shape %v, want rank 3 [M, K, C]", path, a.Shape)
	}
	m, k, c := a.Shape[0], a.Shape[1], a.Shape[2]
	if m == 0 || k == 0 || c == 0 {
		return nil, fmt.Errorf("%s: logits have shape %v: M, K and C must be positive", path, a.Shape)
	}
	if classes == nil {
		for i := range c {
			classes = append(classes, fmt.Sprintf("class%d", i))
		}
	}
	if len(classes) != c {
		return nil, fmt.Errorf("%s: %d class names given, the logits have %d classes", path, len(classes), c)
	}
	doc := results.New(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), dataset)
	doc.Protocol = results.Protocol{NumInputs: m, SamplesPerInput: k, Seed: p.Seed, Bootstrap: p.Bootstrap, Splits: p.Splits}
	doc.Versions = results.Versions{MunitEval: version.MunitEval, ONNXRuntime: model.ORTVersion()}
	sha, err := images.HashFile(path)
	if err != nil {
		return nil, err
	}
	doc.Models = map[string]results.ModelRef{"logits": {File: filepath.Base(path), SHA256: sha, Classes: classes}}
	in := &registry.Inputs{Params: p.Params(), M: m, K: k, Grouped: true, Logits: a.Float64(), Classes: classes}
	w, err := registry.Lookup(registry.KeyIS).Compute(in, &doc.Metrics)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	doc.Warnings = append(doc.Warnings, w...)
	return doc, nil
}
