package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/translate"
)

// Options configure a run beyond the file: how to run, not what to measure.
type Options struct {
	Threads int
	Device  string
	Quiet   bool
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
}

// Outcome lists what a run wrote.
type Outcome struct {
	// Docs are the results documents, Paths where they were written, in order.
	Docs  []*results.Document
	Paths []string
	// Generated is what a shard task translated, per method (Options.Shard).
	Generated []Generated
}

// ResultsDir, StoreDir and ReportDir are the run's output folders inside Out.
func (c *Config) ResultsDir() string { return filepath.Join(c.Resolve(c.Out), "results") }

// StoreDir is the sample store of one dataset.
func (c *Config) StoreDir(dataset string) string {
	return filepath.Join(c.Resolve(c.Out), "store", dataset)
}

// ReportDir is where the report goes.
func (c *Config) ReportDir() string { return filepath.Join(c.Resolve(c.Out), "report") }

// Run executes the evaluation: every method of every dataset through the
// store and evaluate.Measure, one results document per (method, dataset)
// written atomically to ResultsDir, and the real-data LPIPS row of each
// dataset. Every model, folder and contract of the file is checked before
// any work starts (Check).
//
// With o.Shard, Run is one task of a sharded evaluation: it only generates
// the shard's samples (Outcome.Generated). With o.ScoreOnly it generates
// nothing and refuses, with an *IncompleteError, while any method's store
// lacks samples; otherwise it scores as an unsharded run does, so the
// documents are the same apart from created.
func Run(ctx context.Context, c *Config, o Options) (*Outcome, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Shard.Sharded() && o.ScoreOnly {
		return nil, fmt.Errorf("a shard (%s) generates and the scoring step scores: give one of them", o.Shard)
	}
	if err := model.Init(""); err != nil {
		return nil, err
	}
	ro := evaluate.RunOptions{Threads: o.Threads, Device: o.Device, Quiet: o.Quiet}
	if o.Shard.Sharded() {
		if err := c.Check(); err != nil {
			return nil, err
		}
		out := &Outcome{}
		return out, c.generate(ctx, o, ro, out)
	}
	s, err := evaluate.OpenScorers(evaluate.ModelFiles{LPIPS: c.Resolve(c.Models.LPIPS.Value),
		Classifier: c.Resolve(c.Models.Classifier.Value), Features: c.Resolve(c.Models.Features.Value)}, c.Want(), ro.ModelOptions())
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if err := c.Check(); err != nil {
		return nil, err
	}
	if err := c.checkMemory(o.Memory); err != nil {
		return nil, err
	}
	var pre checked
	if o.ScoreOnly {
		if pre, err = c.checkComplete(ctx, o, ro); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(c.ResultsDir(), 0o755); err != nil {
		return nil, err
	}
	out := &Outcome{}
	for _, d := range c.Datasets {
		if err := c.dataset(ctx, s, d, o, ro, pre, out); err != nil {
			return out, err
		}
	}
	return out, nil
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
			if err := evaluate.CheckSource(c.source(d, m, false)); err != nil {
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
func (c *Config) source(d Dataset, m Method, force bool) evaluate.Source {
	src := evaluate.Source{Method: m.Name, Inputs: c.Resolve(d.Inputs.Value), InputsName: d.Inputs.Value,
		Store: c.StoreDir(d.Name), Force: force, KeepSeed: true}
	switch {
	case m.Folder.Value != "":
		src.Folder, src.FolderName = c.Resolve(m.Folder.Value), m.Folder.Value
	case m.ContentEncoder.Value != "":
		src.Generator, src.Decoder = c.Resolve(m.ContentEncoder.Value), c.Resolve(m.Decoder.Value)
	default:
		src.Generator = c.Resolve(m.Generator.Value)
	}
	return src
}

// dataset scores every method of d, acquiring its samples (or taking them
// from pre, the scoring step's first pass), and the real-data row.
func (c *Config) dataset(ctx context.Context, s *evaluate.Scorers, d Dataset, o Options, ro evaluate.RunOptions, pre checked, out *Outcome) error {
	p, want := c.Protocol, c.Want()
	var realFiles []images.File
	if d.Real.Value != "" {
		var err error
		if realFiles, err = evaluate.RealFiles(c.Resolve(d.Real.Value), p); err != nil {
			return err
		}
	}
	job := evaluate.Job{Dataset: d.Name, Protocol: p, Metrics: want, Real: realFiles, RealName: d.Real.Value,
		Cache: c.StoreDir(d.Name), Quiet: o.Quiet, Warn: func(msg string) {
			if o.Log != nil {
				fmt.Fprintf(o.Log, "%s: warning: %s\n", d.Name, msg)
			}
		}}
	logf := func(method string) func(string) {
		return func(step string) {
			if o.Log != nil {
				fmt.Fprintf(o.Log, "%s / %s: %s\n", d.Name, method, step)
			}
		}
	}
	for _, meth := range d.Methods {
		if err := ctx.Err(); err != nil {
			return err
		}
		logf(meth.Name)("samples")
		pm := p
		smp := pre[[2]string{d.Name, meth.Name}]
		if smp == nil {
			var err error
			if smp, err = evaluate.Acquire(ctx, c.source(d, meth, o.Force), &pm, p.SamplesNeeded(want), ro); err != nil {
				return fmt.Errorf("%s / %s: %w", d.Name, meth.Name, c.Damaged(err))
			}
		}
		for _, w := range smp.Warnings {
			if o.Log != nil {
				fmt.Fprintf(o.Log, "%s / %s: warning: %s\n", d.Name, meth.Name, w)
			}
		}
		j := job
		j.Method, j.Protocol, j.Samples, j.Log = meth.Name, pm, *smp, logf(meth.Name)
		doc, err := evaluate.Measure(ctx, s, j)
		if err != nil {
			return fmt.Errorf("%s / %s: %w", d.Name, meth.Name, err)
		}
		if err := c.write(d, doc, o, out); err != nil {
			return err
		}
	}
	if want.LPIPS && len(realFiles) > 0 {
		m, _, err := evaluate.CountInputs(c.Resolve(d.Inputs.Value), d.Inputs.Value, p, false)
		if err != nil {
			return err
		}
		j := job
		j.Samples = evaluate.Samples{NumInputs: m, Inputs: d.Inputs.Value}
		j.Log = logf(results.MethodRealData)
		doc, err := evaluate.RealRow(ctx, s, j)
		if err != nil {
			return fmt.Errorf("%s / real data: %w", d.Name, err)
		}
		if err := c.write(d, doc, o, out); err != nil {
			return err
		}
	}
	return nil
}

// write stamps and writes one results document.
func (c *Config) write(d Dataset, doc *results.Document, o Options, out *Outcome) error {
	doc.Created = o.Now().UTC().Format(time.RFC3339)
	dir, err := translate.MethodDir(doc.Method)
	if err != nil {
		return err
	}
	p := filepath.Join(c.ResultsDir(), d.Name+"__"+dir+".json")
	if err := results.Write(p, doc); err != nil {
		return err
	}
	out.Docs = append(out.Docs, doc)
	out.Paths = append(out.Paths, p)
	return nil
}
