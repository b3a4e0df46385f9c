package evaluate

import (
	"context"
	"fmt"
	"github.com/munit-eval/munit-eval/internal/atomicfile"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/translate"
)

// Plan is a whole evaluation, declared by an evaluation file (package
// pipeline) or by a metric command's flags alike: the protocol, the
// metrics, the scoring models, the datasets with their methods' sample
// sources, and where the results go. Run executes it.
type Plan struct {
	Protocol Protocol
	// Metrics are registry keys (registry.Defaults() when empty).
	Metrics []string
	Models  ModelFiles
	// Datasets are evaluated in order.
	Datasets []Dataset
	// NoCache turns off the disk caches of pair distances, embeddings and
	// classifier outputs; CacheEmbeddings also keeps full LPIPS
	// embeddings (about 1 MB per 256x256 image), for re-pairing.
	NoCache, CacheEmbeddings bool
	// Force discards store samples of a different model, seed or inputs.
	Force bool
	// RealRowLPIPS limits the real-data row to LPIPS (a metric command's:
	// its output is the method's document, and lpips' the real row's
	// besides); otherwise the row has every asked metric with a real-data
	// value.
	RealRowLPIPS bool
	// ResultsDir, when set, receives each document as
	// <dataset>__<method folder>.json as soon as it is measured.
	ResultsDir string
	Run        RunOptions
	// Log receives one line per step (none with Run.Quiet: -q) and the
	// samples' warnings (nil: none); Warn what changes no number (a cache
	// not written).
	Log  io.Writer
	Warn func(msg string)
	// Now stamps the documents' created field (default time.Now).
	Now func() time.Time
	// Shard, when sharded, makes Run a shard task's share of the scoring:
	// the per-sample values of the inputs the shard owns, written to its
	// partials (PartialsDir, whatever NoCache says); no document. Each
	// method's Source.Set must hold the shard's samples (ShardSet).
	Shard translate.Shard
	// FromPartials makes Run the scoring step of a sharded run: it folds
	// the shards' partials into each store's caches (FoldPartials) and
	// takes store samples' values from them without reading the files.
	FromPartials bool
}

// Dataset is one translation task of a Plan.
type Dataset struct {
	Name string
	// Inputs is the input folder, InputsName how documents name it.
	Inputs, InputsName string
	// Real is the folder of real target images (the real-data row,
	// FID/KID/PRDC), RealName how documents name it; RealSize resizes them
	// (0: the protocol's size).
	Real, RealName string
	RealSize       int
	// RealStats is a pytorch-fid .npz of real statistics that replaces
	// Real for FID (RealStatsName how documents name it).
	RealStats, RealStatsName string
	// Store is the store root of the dataset's samples and caches.
	Store   string
	Methods []Source
}

// Outcome lists what a run measured and wrote.
type Outcome struct {
	// Docs are the results documents, Paths where they were written (with
	// a ResultsDir), in order.
	Docs  []*results.Document
	Paths []string
}

// Entries are the plan's metrics as registry entries, in the registry's
// order (the order of tables and of a document's warnings).
func (pl *Plan) Entries() ([]*registry.Entry, error) {
	keys := pl.Metrics
	if len(keys) == 0 {
		keys = registry.Defaults()
	}
	es, err := registry.Parse(keys)
	if err != nil {
		return nil, err
	}
	var out []*registry.Entry
	for _, e := range registry.All() {
		if slices.Contains(es, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (pl *Plan) logf(format string, args ...any) {
	if pl.Log != nil {
		fmt.Fprintf(pl.Log, format+"\n", args...)
	}
}

// stepf logs a step line, unless quiet.
func (pl *Plan) stepf(format string, args ...any) {
	if !pl.Run.Quiet {
		pl.logf(format, args...)
	}
}

// Run executes the plan: for every dataset, every method's samples are
// acquired (translated through the store as needed, or read as they are)
// and measured (Measure), then the dataset's real-data LPIPS row when the
// metrics include the pair distances and the dataset has real images.
// Each document is stamped; with a ResultsDir the documents are written
// as a set when every one is made, so a run that fails writes none.
func Run(ctx context.Context, pl Plan) (*Outcome, error) {
	if pl.Now == nil {
		pl.Now = time.Now
	}
	es, err := pl.Entries()
	if err != nil {
		return nil, err
	}
	p := pl.Protocol
	if err := p.Validate(es); err != nil {
		return nil, err
	}
	s, err := OpenPlanScorers(pl.Models, es, pl.Run.ModelOptions())
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if pl.ResultsDir != "" {
		if err := os.MkdirAll(pl.ResultsDir, 0o755); err != nil {
			return nil, err
		}
	}
	out := &Outcome{}
	for _, d := range pl.Datasets {
		if err := pl.dataset(ctx, s, d, es, out); err != nil {
			// Nothing is written: the results folder keeps the set of an
			// earlier run whole rather than a mix of two protocols. The
			// expensive work (samples, pair distances, classifier outputs)
			// is in the store's caches, so a rerun only recomputes metrics.
			return out, err
		}
	}
	if err := writeSet(out.Paths, out.Docs); err != nil {
		return out, err
	}
	return out, nil
}

// writeSet writes the documents of one run as a set: every one to a
// temporary file beside its place first, then each renamed into place, so
// that a failure before the renames (a full disk, a document that does
// not encode) leaves the folder as it was.
func writeSet(paths []string, docs []*results.Document) (err error) {
	tmps := make([]string, 0, len(paths))
	defer func() {
		if err != nil {
			for _, t := range tmps {
				os.Remove(t)
			}
		}
	}()
	for i, p := range paths {
		b, err := results.Marshal(docs[i])
		if err != nil {
			return err
		}
		t := p + ".set-tmp"
		if err := atomicfile.Write(t, b, 0o644); err != nil {
			return fmt.Errorf("results: %w", err)
		}
		tmps = append(tmps, t)
	}
	for i, t := range tmps {
		if err := os.Rename(t, paths[i]); err != nil {
			return fmt.Errorf("results: %w", err)
		}
	}
	return nil
}

// dataset measures every method of d, then its real-data row.
func (pl *Plan) dataset(ctx context.Context, s *Scorers, d Dataset, es []*registry.Entry, out *Outcome) error {
	p, needs := pl.Protocol, registry.NeedsOf(es)
	job := Job{Dataset: d.Name, Metrics: es, CacheEmbeddings: pl.CacheEmbeddings, Quiet: pl.Run.Quiet, Warn: pl.Warn, Shard: pl.Shard}
	if !pl.NoCache || pl.Shard.Sharded() {
		job.Cache = d.Store
	}
	if pl.FromPartials && job.Cache != "" && !pl.Shard.Sharded() {
		job.FromPartials = true
		notes, err := FoldPartials(d.Store)
		if err != nil {
			return fmt.Errorf("%s: the shards' partials: %w", d.Name, err)
		}
		for _, n := range notes {
			if pl.Warn != nil {
				pl.Warn(n)
			}
		}
	}
	if d.RealStats != "" && needs.Has(registry.NeedReal) {
		g, err := ReadStats(d.RealStats)
		if err != nil {
			return err
		}
		job.RealStats, job.RealStatsName = g, orName(d.RealStatsName, d.RealStats)
	}
	var last *SampleSet
	rowP := p // the real-data row's seed, selection and size: the last method's
	for _, src := range d.Methods {
		if err := ctx.Err(); err != nil {
			return err
		}
		if src.Store == "" {
			src.Store = d.Store
		}
		src.Force = src.Force || pl.Force
		src.Inputs, src.InputsName = orName(src.Inputs, d.Inputs), orName(src.InputsName, d.InputsName)
		name := orName(src.Method, d.Name)
		pl.stepf("%s / %s: samples", d.Name, name)
		j := job
		j.Protocol = p
		set, err := Acquire(ctx, src, &j.Protocol, p.SamplesNeeded(es), pl.Run)
		if err != nil {
			return fmt.Errorf("%s: %w", where(d.Name, name), err)
		}
		for _, w := range set.Warnings {
			pl.logf("%s / %s: warning: %s", d.Name, name, w)
		}
		j.Method, j.Set, last, rowP = orName(src.Method, set.Method), set, set, j.Protocol
		if needs.Has(registry.NeedReal) && j.RealStats == nil {
			if j.Real, err = d.real(j.Protocol); err != nil {
				return err
			}
		}
		j.Log = func(step string) { pl.stepf("%s / %s: %s", d.Name, j.Method, step) }
		doc, err := Measure(ctx, s, j)
		if err != nil {
			return fmt.Errorf("%s: %w", where(d.Name, j.Method), err)
		}
		if doc == nil {
			continue // a shard's partials: no document
		}
		if err := pl.emit(d, doc, out); err != nil {
			return err
		}
	}
	// The real-data row: every asked metric that has a real-data value
	// (LPIPS over random real pairs, IS of the real images, and, against
	// real images rather than published statistics, the metrics that
	// compare samples with them, between two seeded halves).
	var row []*registry.Entry
	for _, e := range es {
		if e.Needs.Has(registry.NeedPairs) || (!pl.RealRowLPIPS && (e.Needs.Has(registry.NeedLogits) || (e.Needs.Has(registry.NeedReal) && job.RealStats == nil))) {
			row = append(row, e)
		}
	}
	if len(row) == 0 || d.Real == "" {
		return nil
	}
	// The real-data row pairs as many inputs as the methods had: the input
	// folder's (at most num_inputs), else the samples', else num_inputs;
	// its seed, selection and size are the last method's.
	j := job
	p = rowP
	real, err := d.real(p)
	if err != nil {
		return err
	}
	j.Protocol, j.RealRow, j.RealInputs, j.Set, j.Metrics = p, true, p.NumInputs, real, row
	j.Real, j.RealStats = real, nil
	j.Set.Prov = Provenance{Select: p.Select, Size: real.Prov.Size}
	switch {
	case d.Inputs != "":
		files, err := images.ListDir(d.Inputs)
		if err != nil {
			return err
		}
		j.RealInputs = min(len(files), p.NumInputs)
		j.Set.Prov.Inputs = orName(d.InputsName, d.Inputs)
	case last != nil:
		j.RealInputs, j.Set.Prov.Inputs = last.M(), last.Prov.Inputs
	}
	j.Log = func(step string) { pl.stepf("%s / %s: %s", d.Name, results.MethodRealData, step) }
	doc, err := Measure(ctx, s, j)
	if err != nil || doc == nil {
		if err != nil {
			err = fmt.Errorf("%s: %w", where(d.Name, "real data"), err)
		}
		return err
	}
	return pl.emit(d, doc, out)
}

// real lists d's real images as a flat set, resized to d.RealSize (0: the
// size of p, which a store read as it is sets to its own).
func (d Dataset) real(p Protocol) (*SampleSet, error) {
	if d.RealSize > 0 {
		p.Size = d.RealSize
	}
	files, err := RealFiles(d.Real, p)
	if err != nil {
		return nil, err
	}
	set := realSet(orName(d.RealName, d.Real), files, p.Size)
	set.Prov.Size = p.Size
	return set, nil
}

// emit stamps a document and, with a ResultsDir, names its file; Run
// writes the set once every document is made (writeSet).
func (pl *Plan) emit(d Dataset, doc *results.Document, out *Outcome) error {
	doc.Created = pl.Now().UTC().Format(time.RFC3339)
	if pl.ResultsDir == "" {
		out.Docs = append(out.Docs, doc)
		return nil
	}
	dir, err := translate.MethodDir(doc.Method)
	if err != nil {
		return err
	}
	out.Docs = append(out.Docs, doc)
	out.Paths = append(out.Paths, filepath.Join(pl.ResultsDir, d.Name+"__"+dir+".json"))
	return nil
}

// where names a method of a dataset in errors: "dataset / method", or the
// method alone in a dataset without a name (a metric command's).
func where(dataset, method string) string {
	if dataset == "" {
		return method
	}
	return dataset + " / " + method
}

// orName is name, or else fallback.
func orName(name, fallback string) string {
	if name != "" {
		return name
	}
	return fallback
}
