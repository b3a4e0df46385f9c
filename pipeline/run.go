package pipeline

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/translate"
)

// Options configure a run beyond the file: how to run, not what to measure.
type Options struct {
	Threads int
	Device  string
	// Quiet draws no progress bars and logs no step lines (warnings,
	// notes and the closing summary are still logged): -q.
	Quiet bool
	// Force discards store samples of a different model or seed.
	Force bool
	// Log receives one line per step and the samples' warnings (nil for
	// none).
	Log io.Writer
	// Memory is the memory a generator batch may take, in bytes (0: no
	// estimate is checked); see evaluate.CheckMemory.
	Memory int64
	// Now stamps the documents' created field (default time.Now).
	Now func() time.Time
	// Shard, when Shard.Sharded(), makes the run one task of a sharded
	// evaluation: it generates the samples of the inputs the shard owns
	// (of every method of every dataset) and scores nothing.
	Shard translate.Shard
	// ScoreOnly scores without generating: the scoring step of a sharded
	// evaluation. A store lacking samples is an *IncompleteError, before
	// any scoring.
	ScoreOnly bool
	// Shards is N, the number of shards, when known to the scoring step
	// (it names the shards to rerun when no fragment does).
	Shards int
	// Keep is --keep-samples (translate.KeepAll, KeepGrid, KeepNone; ""
	// takes the file's keep_samples): which sample files stay once their
	// values are computed (docs/scale.md).
	Keep string
}

// Outcome lists what a run wrote.
type Outcome struct {
	// Docs are the results documents, Paths where they were written, in order.
	Docs  []*results.Document
	Paths []string
	// Generated is what a shard task translated, per method (Options.Shard).
	Generated []Generated
	// SeedDocs and SeedPaths are each seed's documents and paths, in the
	// file's seeds order, when it has seeds; Docs are then the means over
	// seeds.
	SeedDocs  [][]*results.Document
	SeedPaths [][]string
}

// ResultsDir, StoreDir and ReportDir are the run's output folders inside Out.
func (c *Config) ResultsDir() string { return filepath.Join(c.Resolve(c.Out), "results", c.seedDir) }

// StoreDir is the sample store of one dataset.
func (c *Config) StoreDir(dataset string) string {
	return filepath.Join(c.Resolve(c.Out), "store", dataset)
}

// ReportDir is where the report goes.
func (c *Config) ReportDir() string { return filepath.Join(c.Resolve(c.Out), "report") }

// metricFeatures are the metrics' own features models, resolved (nil
// when there are none).
func (c *Config) metricFeatures() map[string]string {
	var out map[string]string
	for k, p := range c.Models.MetricFeatures {
		if out == nil {
			out = map[string]string{}
		}
		out[k] = c.Resolve(p.Value)
	}
	return out
}

// Plan is the evaluation the file declares, for evaluate.Run: its paths
// resolved against the file's folder, its documents written to ResultsDir.
func (c *Config) Plan(o Options) evaluate.Plan {
	pl := evaluate.Plan{Protocol: c.Protocol, Metrics: c.Metrics, Force: o.Force, ResultsDir: c.ResultsDir(), Now: o.Now,
		Models: evaluate.ModelFiles{LPIPS: c.Resolve(c.Models.LPIPS.Value), Classifier: c.Resolve(c.Models.Classifier.Value),
			Features: c.Resolve(c.Models.Features.Value), Metric: c.metricFeatures()},
		NoCache: c.Cache != nil && !*c.Cache, CacheEmbeddings: c.CacheEmbeddings, Log: o.Log,
		Run: evaluate.RunOptions{Threads: o.Threads, Device: o.Device, Quiet: o.Quiet, Memory: o.Memory}}
	if o.Log != nil {
		pl.Warn = func(msg string) { fmt.Fprintf(o.Log, "warning: %s\n", msg) }
	}
	for _, d := range c.Datasets {
		ds := evaluate.Dataset{Name: d.Name, Inputs: c.Resolve(d.Inputs.Value), InputsName: d.Inputs.Value,
			Real: c.Resolve(d.Real.Value), RealName: d.Real.Value, RealSize: d.RealSize,
			RealStats: c.Resolve(d.RealStats.Value), RealStatsName: d.RealStats.Value, Store: c.StoreDir(d.Name)}
		for _, m := range d.Methods {
			ds.Methods = append(ds.Methods, c.source(d, m))
		}
		for i := range ds.Methods {
			ds.Methods[i].Keep = c.keepMode(o)
		}
		pl.Datasets = append(pl.Datasets, ds)
	}
	return pl
}

// Run executes the evaluation: every method of every dataset through the
// store and evaluate.Run, one results document per (method, dataset)
// written atomically to ResultsDir, and the real-data LPIPS row of each
// dataset. Every model, folder and contract of the file is checked before
// any work starts (Check).
//
// With o.Shard, Run is one task of a sharded evaluation: it only generates
// the shard's samples (Outcome.Generated). With o.ScoreOnly it generates
// nothing and refuses, with an *IncompleteError, while any method's store
// lacks samples; otherwise it scores as an unsharded run does, so the
// documents are the same apart from created.
//
// A file with seeds runs so once per seed (runSeeds).
func Run(ctx context.Context, c *Config, o Options) (*Outcome, error) {
	if o.Shard.Sharded() && o.ScoreOnly {
		return nil, fmt.Errorf("a shard (%s) generates and the scoring step scores: give one of them", o.Shard)
	}
	if err := model.Init(""); err != nil {
		return nil, err
	}
	for _, n := range c.Notes {
		if o.Log != nil {
			fmt.Fprintf(o.Log, "%s: note: %s\n", c.file, n)
		}
	}
	if len(c.Seeds) > 0 {
		return c.runSeeds(ctx, o)
	}
	return c.runOnce(ctx, o)
}

// runOnce is Run of one seed.
func (c *Config) runOnce(ctx context.Context, o Options) (*Outcome, error) {
	pl := c.Plan(o)
	if err := c.Check(); err != nil {
		return nil, err
	}
	mode := c.keepMode(o)
	if err := c.checkKeep(mode); err != nil {
		return nil, err
	}
	if o.Shard.Sharded() {
		out := &Outcome{}
		if err := c.generate(ctx, pl, o, out); err != nil {
			return out, err
		}
		var ms []methodStore
		for _, g := range out.Generated {
			ms = append(ms, methodStore{dataset: g.Dataset, method: g.Method, dir: g.Store})
		}
		return out, c.dropSamples(ms, mode, o.Shard, o)
	}
	if err := c.checkMemory(o.Memory); err != nil {
		return nil, err
	}
	if o.ScoreOnly {
		if err := c.checkComplete(ctx, &pl, o); err != nil {
			return nil, err
		}
		pl.FromPartials = true
	}
	res, err := evaluate.Run(ctx, pl)
	out := &Outcome{}
	if res != nil {
		out.Docs, out.Paths = res.Docs, res.Paths
	}
	if err != nil {
		return out, err
	}
	docs, paths, err := c.taskMeans(out.Docs)
	if err != nil {
		return out, err
	}
	for i, d := range docs {
		if err := results.Write(paths[i], d); err != nil {
			return out, err
		}
	}
	out.Docs, out.Paths = append(out.Docs, docs...), append(out.Paths, paths...)
	if mode == translate.KeepAll || o.ScoreOnly {
		return out, nil // the scoring step: the shards dropped their files
	}
	// Every value is in the caches now: drop what the mode does not keep.
	ms, err := c.runStores(ctx, pl)
	if err != nil {
		return out, err
	}
	return out, c.dropSamples(ms, mode, translate.Shard{}, o)
}

// Check checks what the file names before any work: every generator,
// content encoder and decoder against its role's contract, and every input
// and real folder as an image folder whose images, read from their
// headers, fit the pixel budgets (evaluate.CheckInputs), and num_real
// against every real folder. (Parse checked that each file and folder
// exists; Run opens the scoring models first.)
func (c *Config) Check() error {
	for _, d := range c.Datasets {
		if err := evaluate.CheckInputs(c.Resolve(d.Inputs.Value), c.Protocol, 0); err != nil {
			return fmt.Errorf("%s: line %d: %w", c.file, d.Inputs.Line, err)
		}
		if d.Real.Value != "" {
			if _, err := evaluate.RealFiles(c.Resolve(d.Real.Value), c.Protocol); err != nil {
				return fmt.Errorf("%s: line %d: %w", c.file, d.Real.Line, err)
			}
		}
		for _, m := range d.Methods {
			if err := evaluate.CheckSource(c.source(d, m)); err != nil {
				return fmt.Errorf("%s: dataset %q, method %q (line %d): %w", c.file, d.Name, m.Name, m.line, err)
			}
		}
	}
	return nil
}

// checkMemory refuses, before any work, a file whose generator batches
// are estimated to need more than avail bytes (0: no check).
func (c *Config) checkMemory(avail int64) error {
	if avail <= 0 {
		return nil
	}
	for _, d := range c.Datasets {
		if err := evaluate.CheckInputs(c.Resolve(d.Inputs.Value), c.Protocol, avail); err != nil {
			return fmt.Errorf("%s: dataset %q: %w", c.file, d.Name, err)
		}
	}
	return nil
}

// source is where method m of dataset d takes its samples from.
func (c *Config) source(d Dataset, m Method) evaluate.Source {
	src := evaluate.Source{Method: m.Name, Inputs: c.Resolve(d.Inputs.Value), InputsName: d.Inputs.Value,
		Store: c.StoreDir(d.Name), Latents: c.Resolve(m.Latents.Value),
		StyleEncoder: c.Resolve(m.StyleEncoder.Value), References: c.Resolve(m.References.Value), ReferenceOrder: m.ReferenceOrder,
		Mapping: c.Resolve(m.Mapping.Value), TargetDomain: m.TargetDomain}
	switch {
	case m.Samples.Value != "":
		src.Samples = c.Resolve(m.Samples.Value)
	case m.Folder.Value != "":
		src.Folder, src.FolderName = c.Resolve(m.Folder.Value), m.Folder.Value
	case m.ContentEncoder.Value != "":
		src.Generator, src.Decoder = c.Resolve(m.ContentEncoder.Value), c.Resolve(m.Decoder.Value)
	default:
		src.Generator = c.Resolve(m.Generator.Value)
	}
	return src
}
