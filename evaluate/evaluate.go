package evaluate

import (
	"context"
	"fmt"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/warning"
	"path/filepath"
	"strings"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/inception"
	"github.com/munit-eval/munit-eval/internal/progress"
	"github.com/munit-eval/munit-eval/internal/version"
	"github.com/munit-eval/munit-eval/lpips"
	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/translate"
)

// ModelFiles name the scoring models of an evaluation.
type ModelFiles struct {
	LPIPS      string
	Classifier string
	// Features is the FID/KID feature model ("": Classifier).
	Features string
}

// Scorers are the opened scoring models. Features may be Classifier.
type Scorers struct {
	LPIPS      *lpips.Model
	Classifier *inception.Classifier
	Features   *inception.Classifier
	files      ModelFiles
}

// OpenScorers opens the models the metrics w need, each checked against
// the contract of its role, before any work: the LPIPS model, the
// classifier (IS/CIS, and FID/KID when no features model is named) and the
// features model, which must have a "features" output.
func OpenScorers(f ModelFiles, w Metrics, mo model.Options) (s *Scorers, err error) {
	s = &Scorers{files: f}
	defer func() {
		if err != nil {
			s.Close()
			s = nil
		}
	}()
	if w.LPIPS {
		if f.LPIPS == "" {
			return nil, fmt.Errorf("LPIPS diversity needs an LPIPS model")
		}
		if s.LPIPS, err = lpips.Open(f.LPIPS, mo); err != nil {
			return nil, err
		}
	}
	if f.Classifier != "" && (w.IS || f.Features == "") {
		if s.Classifier, err = inception.Open(f.Classifier, mo); err != nil {
			return nil, err
		}
	}
	if w.IS && s.Classifier == nil {
		return nil, fmt.Errorf("IS and CIS need a classifier")
	}
	if w.Distance() {
		switch {
		case f.Features != "":
			if s.Features, err = inception.Open(f.Features, mo); err != nil {
				return nil, err
			}
			s.files.Features = f.Features
		case s.Classifier != nil:
			s.Features, s.files.Features = s.Classifier, f.Classifier
		default:
			return nil, fmt.Errorf("FID and KID need a features (or classifier) model")
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

// Job is one method on one dataset, or (RealRow) a dataset's real images.
type Job struct {
	Method, Dataset string
	Protocol        Protocol
	Metrics         Metrics
	// Samples are the method's samples (for RealRow only NumInputs,
	// Inputs and Warnings count).
	Samples Samples
	// Real are the real target images (FID/KID, the real-data row), named
	// RealName in the document.
	Real     []images.File
	RealName string
	// RealStats, when set, replaces Real for FID: the real images'
	// Gaussian fit from published statistics (a pytorch-fid .npz), named
	// RealStatsName in the document. KID and PRDC need features and are
	// then skipped with a warning.
	RealStats     *metrics.Gaussian
	RealStatsName string
	// Cache is the store folder whose .cache/ keeps embeddings and
	// classifier outputs ("": no disk cache).
	Cache string
	Quiet bool
	// CacheEmbeddings keeps full LPIPS embeddings on disk beside the
	// default per-pair distance cache (for re-pairing later).
	CacheEmbeddings bool
	// Log, when set, receives one line per step.
	Log func(step string)
	// Warn, when set, receives what went wrong without changing a number
	// (a cache that could not be written); such notes are not recorded in
	// the results document, which depends only on the inputs and seed.
	Warn func(msg string)
}

func (j *Job) log(step string) {
	if j.Log != nil {
		j.Log(step)
	}
}

// embedder returns an LPIPS embedder with j's cache settings; done passes
// its warnings to j.Warn once it has been used.
func (j *Job) embedder(m *lpips.Model) (e *lpips.Embedder, done func()) {
	e = lpips.NewEmbedder(m, j.cacheDir("lpips"))
	e.CacheEmbeddings = j.CacheEmbeddings
	return e, func() { j.warn(e.Warnings) }
}

// runner returns a classifier runner with j's cache; done passes its
// warnings to j.Warn once it has been used.
func (j *Job) runner(c *inception.Classifier) (r *inception.Runner, done func()) {
	r = inception.NewRunner(c, j.cacheDir("classifier"))
	return r, func() { j.warn(r.Warnings) }
}

func (j *Job) warn(msgs []string) {
	if j.Warn == nil {
		return
	}
	for _, m := range msgs {
		j.Warn(m)
	}
}

func (j *Job) cacheDir(kind string) string {
	if j.Cache == "" {
		return ""
	}
	return filepath.Join(j.Cache, translate.CacheDirName, kind)
}

// newDoc starts a results document with the protocol and versions of j.
func (j *Job) newDoc(method string) *results.Document {
	p := j.Protocol
	doc := results.New(method, j.Dataset)
	doc.Protocol = results.Protocol{NumInputs: j.Samples.NumInputs, Seed: p.Seed, Bootstrap: p.Bootstrap, Select: p.Select,
		ImageSize: p.Size, Inputs: j.Samples.Inputs}
	doc.Versions = results.Versions{MunitEval: version.MunitEval, ONNXRuntime: model.ORTVersion()}
	doc.Models = map[string]results.ModelRef{}
	return doc
}

// addLPIPSModel records the LPIPS model and warns about version 0.0.
func (s *Scorers) addLPIPSModel(doc *results.Document) {
	m := s.LPIPS
	doc.Models[results.ModelLPIPS] = results.ModelRef{File: filepath.Base(s.files.LPIPS), SHA256: m.SHA256(),
		Net: m.Net, Version: m.Version, Synthetic: m.Synthetic()}
	if m.Version == "0.0" {
		doc.Warnings = append(doc.Warnings, warning.New(CodeLPIPSv0, MetricLPIPS, "LPIPS version 0.0 (no scaling layer): values are about half of v0.1's and not comparable with the MUNIT paper"))
	}
}

// Measure computes every metric j asks for from j's samples and returns
// the method's results document (not yet stamped with its created time).
// The store may hold more samples than asked (it only grows); the protocol
// records the K that IS/CIS and FID/KID used, or, for LPIPS alone, the
// samples the pairing used.
func Measure(ctx context.Context, s *Scorers, j Job) (*results.Document, error) {
	if j.Samples.Folder != nil {
		return measureFolder(ctx, s, j)
	}
	p, w, st, m := j.Protocol, j.Metrics, j.Samples.Store, j.Samples.NumInputs
	doc := j.newDoc(j.Method)
	if !w.LPIPS && !w.IS {
		doc.Protocol.Bootstrap = 0 // FID/KID alone use no bootstrap over inputs
	}
	have := st.SamplesPerInput()
	if w.PerSample() {
		doc.Protocol.SamplesPerInput = min(p.SamplesPerInput, have)
	} else {
		doc.Protocol.SamplesPerInput = min(p.SamplesNeeded(w), have)
	}
	man := st.Manifest()
	for role, ref := range man.Models {
		doc.Models[role] = results.ModelRef{File: filepath.Base(ref.File), SHA256: ref.SHA256, Method: man.Method}
	}
	doc.Protocol.Samples = j.Samples.From
	doc.Protocol.Randomness = st.Randomness()
	if w.LPIPS {
		opts := p.LPIPSOptions(m)
		need := p.LPIPSSamples()
		if have < need {
			doc.Warnings = append(doc.Warnings, warning.New(CodeTooFewSamples, MetricLPIPS, "no LPIPS diversity: %d samples per input, the %s pairing needs %d", have, opts.Pairing, need))
		} else {
			j.log("LPIPS")
			e, done := j.embedder(s.LPIPS)
			defer done()
			e.Bar = progress.New(m*need, "lpips", j.Quiet)
			div, err := lpips.StoreDiversity(ctx, e, st, opts)
			e.Bar.Finish()
			if err != nil {
				return nil, err
			}
			doc.Metrics.LPIPSDiversity = div
			doc.Protocol.PairsPerInput, doc.Protocol.Pairing = div.PairsPerInput, div.Pairing
			s.addLPIPSModel(doc)
		}
	}
	k := min(p.SamplesPerInput, have)
	if w.IS {
		j.log("IS and CIS")
		r, done := j.runner(s.Classifier)
		defer done()
		r.Bar = progress.New(m*k, "classify", j.Quiet)
		outs, err := inception.StoreOutputs(ctx, r, st, m, k)
		r.Bar.Finish()
		if err != nil {
			return nil, err
		}
		warns, err := registry.Scores(inception.Logits(outs), m, k, s.Classifier.Classes,
			p.ScoreOptions(), &doc.Metrics)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.Dir(), err)
		}
		doc.Warnings = append(doc.Warnings, warns...)
		doc.Protocol.Splits = p.Splits
		doc.Models[results.ModelClassifier] = results.ModelRef{File: filepath.Base(s.files.Classifier), SHA256: s.Classifier.SHA256(),
			Classes: s.Classifier.Classes, Synthetic: s.Classifier.Info().Synthetic()}
	}
	if w.Distance() {
		refs := make([]images.Ref, 0, m*k)
		for i := range m {
			for kk := range k {
				refs = append(refs, images.Ref{Path: st.SamplePath(i, kk), SHA256: st.SampleSHA256(i, kk)})
			}
		}
		if err := j.distance(ctx, s, doc, refs, k); err != nil {
			return nil, err
		}
	}
	doc.Warnings = append(append([]warning.Warning(nil), j.Samples.Warnings...), doc.Warnings...)
	return doc, nil
}

// distance computes the distance metrics j asks for (FID, KID, PRDC)
// between the features of the sample images refs (groupSize samples per
// input, in input order) and those of j.Real, or FID alone against
// j.RealStats, into doc. Nothing happens without real images or
// statistics. In ResizeClean mode every image is first resized to
// CleanSize (images.Ref.Clean).
func (j *Job) distance(ctx context.Context, s *Scorers, doc *results.Document, refs []images.Ref, groupSize int) error {
	p, w := j.Protocol, j.Metrics
	if len(j.Real) == 0 && j.RealStats == nil {
		return nil
	}
	if j.RealStats != nil {
		if err := inception.CheckStats(j.RealStatsName, j.RealStats, inception.StatsSource(p.Resize, p.Size, s.Features.SHA256())); err != nil {
			return err
		}
	}
	j.log("FID and KID")
	clean := 0
	if p.Resize == ResizeClean {
		clean = CleanSize
		doc.Protocol.Resize = ResizeClean
	}
	samples := make([]images.Ref, len(refs))
	for i, r := range refs {
		r.Clean = clean
		samples[i] = r
	}
	real := make([]images.Ref, len(j.Real))
	for i, f := range j.Real {
		real[i] = images.Ref{Path: f.Path, Size: p.Size, Clean: clean}
	}
	// Samples and real images run apart, so that a batch never mixes
	// them (what a network computes for an image stays independent of
	// which others share its batch).
	r, done := j.runner(s.Features)
	defer done()
	r.Bar = progress.New(len(samples)+len(real), "features", j.Quiet)
	outs, err := r.Run(ctx, samples)
	var realOuts []inception.Output
	if err == nil && len(real) > 0 {
		realOuts, err = r.Run(ctx, real)
	}
	r.Bar.Finish()
	if err != nil {
		return err
	}
	x, err := inception.Features(outs)
	if err != nil {
		return err
	}
	if j.RealStats != nil {
		if err := fidToStats(x, j.RealStats, w, doc); err != nil {
			return fmt.Errorf("FID against %s: %w", j.RealStatsName, err)
		}
		doc.Protocol.RealStats = j.RealStatsName
	} else {
		y, err := inception.Features(realOuts)
		if err != nil {
			return err
		}
		if w.FID || w.KID {
			warns, err := registry.FIDKID(x, y, registry.DistanceOptions{FIDBootstrap: p.FIDBootstrap, GroupSize: groupSize,
				KID:  metrics.KIDOptions{Subsets: p.KIDSubsets, SubsetSize: p.KIDSubsetSize, Seed: uint64(p.Seed)},
				Seed: p.Seed, WantFID: w.FID, WantKID: w.KID}, &doc.Metrics)
			if err != nil {
				return err
			}
			doc.Warnings = append(doc.Warnings, warns...)
		}
		if w.PRDC {
			pr, err := metrics.PRDC(y, x, metrics.PRDCOptions{PRK: p.PRK, DCK: p.DCK})
			if err != nil {
				return err
			}
			doc.Metrics.PRDC = &results.PRDC{Precision: pr.Precision, Recall: pr.Recall, FScore: pr.FScore,
				Density: pr.Density, Coverage: pr.Coverage, PRK: pr.PRK, DCK: pr.DCK, NumSamples: pr.NumFake, NumReal: pr.NumReal}
		}
		doc.Protocol.Real = j.RealName
	}
	// The classifier's entry already names the features model when they
	// are one.
	if s.Features != s.Classifier || !w.IS {
		doc.Models[results.ModelFeatures] = results.ModelRef{File: filepath.Base(s.files.Features), SHA256: s.Features.SHA256(),
			Synthetic: s.Features.Info().Synthetic()}
	}
	return nil
}

// fidToStats is FID between features x and published real statistics g
// (no interval: the bootstrap needs the real features); KID and PRDC,
// which need real features, are skipped with a warning.
func fidToStats(x [][]float64, g *metrics.Gaussian, w Metrics, doc *results.Document) error {
	if len(x) > 0 && len(x[0]) != len(g.Mean) {
		return fmt.Errorf("the samples' features have %d dimensions, the statistics %d: were they made with another features model?", len(x[0]), len(g.Mean))
	}
	if w.FID {
		v, err := metrics.FIDToGaussian(x, g)
		if err != nil {
			return err
		}
		doc.Metrics.FID = &results.FID{Value: v, NumSamples: len(x), NumReal: g.N, FeatureDim: len(g.Mean)}
	}
	if w.KID || w.PRDC {
		doc.Warnings = append(doc.Warnings, warning.New(CodeNoRealFeatures, MetricKID, "no KID or precision/recall/density/coverage against real statistics: they need the real images' features, and a .npz holds only mu and sigma"))
	}
	return nil
}

// RealRow is the real-data LPIPS row of a dataset: Pairs x NumInputs pairs
// of distinct real images drawn with the seed (see lpips.RealDiversity).
func RealRow(ctx context.Context, s *Scorers, j Job) (*results.Document, error) {
	p, m := j.Protocol, j.Samples.NumInputs
	j.log("LPIPS")
	e, done := j.embedder(s.LPIPS)
	defer done()
	div, err := lpips.RealDiversity(ctx, e, j.Real, p.Size, p.LPIPSOptions(m))
	if err != nil {
		return nil, err
	}
	doc := j.newDoc(results.MethodRealData)
	doc.Protocol.Real = j.RealName
	doc.Metrics.LPIPSDiversity = div
	doc.Warnings = append(doc.Warnings, j.Samples.Warnings...)
	if w := lpips.RealPairsWarning(len(j.Real), div.N); w != "" {
		doc.Warnings = append(doc.Warnings, warning.New(CodeFewRealPairs, MetricLPIPS, "%s", w))
	}
	s.addLPIPSModel(doc)
	return doc, nil
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

// Logits scores a float32 [M, K, C] logits array from a .npy file with
// IS/CIS (no network runs): the document names the file under "logits"
// and the classes (class0..class{C-1} when classes is nil).
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
	w, err := registry.Scores(a.Float64(), m, k, classes, p.ScoreOptions(), &doc.Metrics)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	doc.Warnings = append(doc.Warnings, w...)
	return doc, nil
}
