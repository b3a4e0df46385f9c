package evaluate

import (
	"context"
	"fmt"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/warning"
	"os"
	"path/filepath"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/inception"
	"github.com/munit-eval/munit-eval/internal/progress"
	"github.com/munit-eval/munit-eval/lpips"
	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/translate"
)

// LayoutFlat is a plain folder of images with no per-input structure:
// every image is a sample of its own.
const LayoutFlat = "<name>.png (flat)"

// Folder is a plain folder of samples, read where it is (no store, no
// manifest): flat (LayoutFlat, for FID, KID, PRDC and the split Inception
// Score) or grouped by input as translate --from-folder reads it
// (translate.LayoutDirs <stem>/<k>.png, translate.LayoutSuffix
// <stem>_<k>.png), which LPIPS diversity and the per-input IS/CIS need.
type Folder struct {
	Dir    string
	Layout string
	// Stems name the inputs of a grouped folder; Files[i][k] is sample k
	// of input i (a flat folder has one group per image).
	Stems []string
	Files [][]string
	// K is the number of samples per input in the folder (1 when flat).
	K int
}

// Flat reports whether the folder has no per-input structure.
func (f *Folder) Flat() bool { return f.Layout == LayoutFlat }

// GroupedLayout reports whether dir holds sub-folders (<stem>/<k>.png),
// the layout of samples grouped by input, rather than images.
func GroupedLayout(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if e.IsDir() && e.Name()[0] != '.' {
			return true
		}
	}
	return false
}

// IsStore reports whether dir is a sample store folder (STORE/<method>,
// with a manifest or shard fragments) rather than a plain folder of images.
func IsStore(dir string) bool { return translate.IsStore(dir) }

// OpenFolder reads a plain folder of samples: grouped by input (for LPIPS
// diversity) or flat (every image of the folder, images.ListDir). Every
// input is used unless exact (num_inputs was asked for): then the first
// p.NumInputs, and fewer is an error.
func OpenFolder(dir string, grouped bool, p Protocol, exact bool) (*Samples, error) {
	f := &Folder{Dir: dir, Layout: LayoutFlat, K: 1}
	if grouped {
		layout, stems, files, err := translate.ScanSamples(dir)
		if err != nil {
			return nil, err
		}
		f.Layout, f.Stems, f.Files, f.K = layout, stems, files, len(files[0])
	} else {
		files, err := images.ListDir(dir)
		if err != nil {
			return nil, err
		}
		for _, file := range files {
			f.Stems = append(f.Stems, file.Stem)
			f.Files = append(f.Files, []string{file.Path})
		}
	}
	m := len(f.Files)
	if exact {
		if m < p.NumInputs {
			return nil, fmt.Errorf("%s holds %d inputs, %d asked for (num_inputs)", dir, m, p.NumInputs)
		}
		m = p.NumInputs
		f.Stems, f.Files = f.Stems[:m], f.Files[:m]
	}
	return &Samples{Folder: f, NumInputs: m, From: dir}, nil
}

// measureFolder is Measure on a plain folder: LPIPS diversity and IS/CIS
// on a grouped folder, the split Inception Score alone on a flat one, and
// FID/KID/PRDC on every image.
func measureFolder(ctx context.Context, s *Scorers, j Job) (*results.Document, error) {
	p, w, f := j.Protocol, j.Metrics, j.Samples.Folder
	doc := j.newDoc(j.Method)
	doc.Protocol.Samples = j.Samples.From
	// A flat folder's images are inputs of one sample each.
	doc.Protocol.Select, doc.Protocol.ImageSize = "", 0
	if !w.LPIPS && !w.IS {
		doc.Protocol.Bootstrap = 0
	}
	doc.Protocol.SamplesPerInput = f.K
	if w.LPIPS {
		if f.Flat() {
			return nil, fmt.Errorf("%s: LPIPS diversity needs samples grouped by input (%s or %s); a flat folder has none", f.Dir, translate.LayoutDirs, translate.LayoutSuffix)
		}
		opts := p.LPIPSOptions(j.Samples.NumInputs)
		need := p.LPIPSSamples()
		if f.K < need {
			return nil, fmt.Errorf("%s holds %d samples per input; the %s pairing with %d pairs needs %d (try --pairing all, which pairs every two of --samples-per-input K)", f.Dir, f.K, opts.Pairing, opts.Pairs, need)
		}
		if f.K > need {
			doc.Warnings = append(doc.Warnings, warning.New(CodeCut, MetricLPIPS, "%s holds %d samples per input; the %s pairing used the first %d", f.Dir, f.K, opts.Pairing, need))
		}
		j.log("LPIPS")
		e, done := j.embedder(s.LPIPS)
		defer done()
		e.Bar = progress.New(j.Samples.NumInputs*need, "lpips", j.Quiet)
		div, err := folderDiversity(ctx, e, f.Files, need, opts)
		e.Bar.Finish()
		if err != nil {
			return nil, err
		}
		doc.Metrics.LPIPSDiversity = div
		doc.Protocol.PairsPerInput, doc.Protocol.Pairing = div.PairsPerInput, div.Pairing
		doc.Protocol.SamplesPerInput = need
		s.addLPIPSModel(doc)
	}
	if w.IS {
		if err := j.folderScores(ctx, s, doc); err != nil {
			return nil, err
		}
	}
	if w.Distance() {
		var refs []images.Ref
		for _, g := range f.Files {
			for _, path := range g {
				refs = append(refs, images.Ref{Path: path})
			}
		}
		if err := j.distance(ctx, s, doc, refs, f.K); err != nil {
			return nil, err
		}
	}
	doc.Warnings = append(append([]warning.Warning(nil), j.Samples.Warnings...), doc.Warnings...)
	return doc, nil
}

// folderScores scores a folder with the classifier: IS and CIS (the MUNIT
// paper's per-input scores) with the split Inception Score on a grouped
// folder; on a flat folder, which has no inputs, the split Inception Score
// alone (Salimans et al.'s conventional IS over all images).
func (j *Job) folderScores(ctx context.Context, s *Scorers, doc *results.Document) error {
	p, f := j.Protocol, j.Samples.Folder
	k := f.K
	if !f.Flat() {
		k = min(k, p.SamplesPerInput)
	}
	var refs []images.Ref
	for _, g := range f.Files {
		for _, path := range g[:k] {
			refs = append(refs, images.Ref{Path: path})
		}
	}
	j.log("IS and CIS")
	r, done := j.runner(s.Classifier)
	defer done()
	r.Bar = progress.New(len(refs), "classify", j.Quiet)
	outs, err := r.Run(ctx, refs)
	r.Bar.Finish()
	if err != nil {
		return err
	}
	classes := s.Classifier.Classes
	logits := inception.Logits([][]inception.Output{outs})
	opts := p.ScoreOptions()
	doc.Protocol.Splits = p.Splits
	doc.Models[results.ModelClassifier] = results.ModelRef{File: filepath.Base(s.files.Classifier), SHA256: s.Classifier.SHA256(),
		Classes: classes, Synthetic: s.Classifier.Info().Synthetic()}
	if !f.Flat() {
		doc.Protocol.SamplesPerInput = k
		if k < f.K {
			doc.Warnings = append(doc.Warnings, warning.New(CodeCut, MetricIS, "%s holds %d samples per input; IS and CIS used the first %d (samples_per_input)", f.Dir, f.K, k))
		}
		warns, err := registry.Scores(logits, len(f.Files), k, classes, opts, &doc.Metrics)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Dir, err)
		}
		doc.Warnings = append(doc.Warnings, warns...)
		return nil
	}
	probs, err := metrics.ProbsFromLogits(logits, len(refs), 1, len(classes))
	if err != nil {
		return fmt.Errorf("%s: %w", f.Dir, err)
	}
	split, err := metrics.SplitInceptionScore(metrics.Rows(probs), metrics.SplitOptions{Splits: p.Splits})
	if err != nil {
		return fmt.Errorf("%s: %w", f.Dir, err)
	}
	doc.Metrics.ISSplits = &results.ISSplits{Splits: split.Splits, Mean: split.Mean, Std: split.Std, Values: split.PerSplit}
	doc.Metrics.Classes = classes
	doc.Warnings = append(doc.Warnings, split.Warnings...)
	doc.Warnings = append(doc.Warnings, warning.New(CodeFlatFolder, MetricIS, "%s is a flat folder: IS and CIS as the MUNIT paper defines them need samples grouped by input (%s or %s), so only the conventional split Inception Score is reported", f.Dir, translate.LayoutDirs, translate.LayoutSuffix))
	return nil
}

// folderDiversity is the LPIPS diversity of grouped samples: for each
// input i, the distances of the pairing's pairs among files[i][:k], then
// the statistics of lpips.StoreDiversity (mean, sample std, standard
// error, percentile bootstrap over inputs).
func folderDiversity(ctx context.Context, e *lpips.Embedder, files [][]string, k int, o lpips.Options) (*results.Diversity, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	idx := lpips.PairIndices(o.Pairing, o.Pairs, k)
	m := min(o.NumInputs, len(files))
	groups := make([][]float64, m)
	var pairs []results.Pair
	for i := range m {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		refs := make([]images.Ref, k)
		for kk := range k {
			refs[kk] = images.Ref{Path: files[i][kk]}
		}
		embs, err := e.Embed(refs)
		if err != nil {
			return nil, err
		}
		for _, ab := range idx {
			d, _, err := lpips.Distance(embs[ab[0]], embs[ab[1]])
			if err != nil {
				return nil, fmt.Errorf("lpips: %s vs %s: %w", refs[ab[0]].Path, refs[ab[1]].Path, err)
			}
			groups[i] = append(groups[i], d)
			pairs = append(pairs, results.Pair{Input: i, A: ab[0], B: ab[1], Distance: d})
		}
	}
	div := registry.Summarize(groups, pairs, o.Bootstrap, o.Seed)
	div.PairsPerInput, div.Pairing = len(idx), string(o.Pairing)
	div.LPIPSNet, div.LPIPSVersion = e.Model().Net, e.Model().Version
	return div, nil
}

// NamedDistance is the LPIPS distance between the two files of one name.
type NamedDistance struct {
	Name     string  `json:"name"`
	Distance float64 `json:"distance"`
}

// Paired is the result of PairedDistances.
type Paired struct {
	Pairs []NamedDistance `json:"pairs"`
	// Mean is the mean distance over Pairs.
	Mean float64 `json:"mean"`
	// OnlyA and OnlyB are the images present in one folder only.
	OnlyA        []string `json:"only_a,omitempty"`
	OnlyB        []string `json:"only_b,omitempty"`
	LPIPSNet     string   `json:"lpips_net"`
	LPIPSVersion string   `json:"lpips_version"`
}

// pairChunk is the number of pairs embedded at a time, so that a large
// folder never holds all its embeddings in memory.
const pairChunk = 64

// PairedDistances is the LPIPS distance between the images of folders a
// and b that share a file name (the lpips package's lpips_2dirs.py), in
// name order, and their mean; images present in one folder only are
// listed, and no shared name at all is an error. size > 0 resizes every
// image first (shorter side, centre crop).
func PairedDistances(ctx context.Context, e *lpips.Embedder, a, b string, size int) (*Paired, error) {
	fa, err := images.ListDir(a)
	if err != nil {
		return nil, err
	}
	fb, err := images.ListDir(b)
	if err != nil {
		return nil, err
	}
	inB := map[string]images.File{}
	for _, f := range fb {
		inB[f.Name] = f
	}
	out := &Paired{LPIPSNet: e.Model().Net, LPIPSVersion: e.Model().Version}
	var pa, pb []images.File
	for _, f := range fa {
		g, ok := inB[f.Name]
		if !ok {
			out.OnlyA = append(out.OnlyA, f.Name)
			continue
		}
		delete(inB, f.Name)
		pa, pb = append(pa, f), append(pb, g)
	}
	for _, f := range fb {
		if _, ok := inB[f.Name]; ok {
			out.OnlyB = append(out.OnlyB, f.Name)
		}
	}
	if len(pa) == 0 {
		return nil, fmt.Errorf("%s and %s share no file name: nothing to pair", a, b)
	}
	var sum float64
	for lo := 0; lo < len(pa); lo += pairChunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+pairChunk, len(pa))
		refs := make([]images.Ref, 0, 2*(hi-lo))
		for i := lo; i < hi; i++ {
			refs = append(refs, images.Ref{Path: pa[i].Path, Size: size}, images.Ref{Path: pb[i].Path, Size: size})
		}
		embs, err := e.Embed(refs)
		if err != nil {
			return nil, err
		}
		for i := lo; i < hi; i++ {
			d, _, err := lpips.Distance(embs[2*(i-lo)], embs[2*(i-lo)+1])
			if err != nil {
				return nil, fmt.Errorf("%s vs %s: %w", pa[i].Path, pb[i].Path, err)
			}
			out.Pairs = append(out.Pairs, NamedDistance{Name: pa[i].Name, Distance: d})
			sum += d
		}
	}
	out.Mean = sum / float64(len(out.Pairs))
	return out, nil
}
