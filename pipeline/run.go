package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

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

// Options configure a run beyond the file: how to run, not what to measure.
type Options struct {
	Threads int
	Device  string
	Quiet   bool
	// Force discards store samples of a different model or seed.
	Force bool
	// Log receives one line per step ("" for none).
	Log io.Writer
	// Now stamps the documents' created field (default time.Now).
	Now func() time.Time
}

// Outcome lists what a run wrote.
type Outcome struct {
	// Docs are the results documents, Paths where they were written, in order.
	Docs  []*results.Document
	Paths []string
}

// ResultsDir, StoreDir and ReportDir are the run's output folders inside Out.
func (c *Config) ResultsDir() string { return filepath.Join(c.Resolve(c.Out), "results") }

// StoreDir is the sample store of one dataset.
func (c *Config) StoreDir(dataset string) string {
	return filepath.Join(c.Resolve(c.Out), "store", dataset)
}

// ReportDir is where the report goes.
func (c *Config) ReportDir() string { return filepath.Join(c.Resolve(c.Out), "report") }

type runner struct {
	c      *Config
	o      Options
	lp     *lpips.Model
	cls    *inception.Classifier
	feat   *inception.Classifier
	out    *Outcome
	logf   func(format string, args ...any)
	ortVer string
}

// Run executes the evaluation: every method of every dataset through the
// store, its metrics, one results document per (method, dataset) written
// atomically to ResultsDir, and the real-data LPIPS row of each dataset.
func Run(ctx context.Context, c *Config, o Options) (*Outcome, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := model.Init(""); err != nil {
		return nil, err
	}
	r := &runner{c: c, o: o, out: &Outcome{}, ortVer: model.ORTVersion(), logf: func(string, ...any) {}}
	if o.Log != nil {
		r.logf = func(format string, args ...any) { fmt.Fprintf(o.Log, format+"\n", args...) }
	}
	mo := model.Options{Threads: o.Threads, Device: o.Device}
	var err error
	if c.Wants(MetricLPIPS) {
		if r.lp, err = lpips.Open(c.Resolve(c.Models.LPIPS.Value), mo); err != nil {
			return nil, err
		}
		defer r.lp.Close()
	}
	if c.Models.Classifier.Value != "" && (c.Wants(MetricIS) || c.Models.Features.Value == "") {
		if r.cls, err = inception.Open(c.Resolve(c.Models.Classifier.Value), mo); err != nil {
			return nil, err
		}
		defer r.cls.Close()
	}
	if c.Wants(MetricFID) || c.Wants(MetricKID) {
		if c.Models.Features.Value != "" {
			if r.feat, err = inception.Open(c.Resolve(c.Models.Features.Value), mo); err != nil {
				return nil, err
			}
			defer r.feat.Close()
		} else {
			r.feat = r.cls
		}
		if !r.feat.HasFeatures() {
			return nil, fmt.Errorf("%s: the FID/KID model has no \"features\" output", r.feat.Info().Path)
		}
	}
	if err := os.MkdirAll(c.ResultsDir(), 0o755); err != nil {
		return nil, err
	}
	for _, d := range c.Datasets {
		if err := r.dataset(ctx, d); err != nil {
			return r.out, err
		}
	}
	return r.out, nil
}

// samplesNeeded is K: enough samples per input for every asked metric.
func (r *runner) samplesNeeded() int {
	p := r.c.Protocol
	k := 1
	if r.c.Wants(MetricIS) || r.c.Wants(MetricFID) || r.c.Wants(MetricKID) {
		k = p.SamplesPerInput
	}
	if r.c.Wants(MetricLPIPS) {
		k = max(k, lpips.SamplesNeeded(lpips.Pairing(p.Pairing), p.Pairs, p.SamplesPerInput))
	}
	return k
}

func (r *runner) dataset(ctx context.Context, d Dataset) error {
	c, p := r.c, r.c.Protocol
	inputs, err := images.ListDir(c.Resolve(d.Inputs.Value))
	if err != nil {
		return err
	}
	m := min(p.NumInputs, len(inputs))
	var warnings []string
	if m < p.NumInputs {
		warnings = append(warnings, fmt.Sprintf("%s holds %d inputs, fewer than num_inputs %d", d.Inputs.Value, len(inputs), p.NumInputs))
	}
	k := r.samplesNeeded()
	var realFiles []images.File
	if d.Real.Value != "" {
		if realFiles, err = images.ListDir(c.Resolve(d.Real.Value)); err != nil {
			return err
		}
	}
	storeDir := c.StoreDir(d.Name)
	for _, meth := range d.Methods {
		if err := ctx.Err(); err != nil {
			return err
		}
		r.logf("%s / %s: samples", d.Name, meth.Name)
		cfg := translate.DefaultConfig()
		cfg.Inputs, cfg.Out, cfg.Method = c.Resolve(d.Inputs.Value), storeDir, meth.Name
		cfg.NumInputs, cfg.Select, cfg.Seed, cfg.Size, cfg.Force = m, p.Select, c.Seed, p.Size, r.o.Force
		cfg.Threads, cfg.Device, cfg.Quiet = r.o.Threads, r.o.Device, r.o.Quiet
		if p.Batch > 0 {
			cfg.Batch = p.Batch
		}
		switch {
		case meth.Folder.Value != "":
			cfg.FromFolder = c.Resolve(meth.Folder.Value)
		case meth.ContentEncoder.Value != "":
			cfg.Generator, cfg.Decoder, cfg.Samples = c.Resolve(meth.ContentEncoder.Value), c.Resolve(meth.Decoder.Value), k
		default:
			cfg.Generator, cfg.Samples = c.Resolve(meth.Generator.Value), k
			info, err := model.Inspect(cfg.Generator)
			if err != nil {
				return err
			}
			cfg.Repeat = info.LatentInput == "" && k > 1
		}
		sum, err := translate.Run(ctx, cfg)
		if err != nil {
			return fmt.Errorf("%s / %s: %w", d.Name, meth.Name, err)
		}
		st, err := translate.OpenStore(sum.Store)
		if err != nil {
			return err
		}
		doc, err := r.measure(ctx, d, meth, st, m, realFiles)
		if err != nil {
			return fmt.Errorf("%s / %s: %w", d.Name, meth.Name, err)
		}
		doc.Warnings = append(append([]string(nil), warnings...), doc.Warnings...)
		if err := r.write(d, doc); err != nil {
			return err
		}
	}
	if r.lp != nil && len(realFiles) > 0 {
		r.logf("%s / %s: LPIPS", d.Name, results.MethodRealData)
		e := lpips.NewEmbedder(r.lp, filepath.Join(storeDir, translate.CacheDirName, "lpips"))
		div, err := lpips.RealDiversity(ctx, e, realFiles, p.Size, r.lpipsOptions(m))
		if err != nil {
			return fmt.Errorf("%s / real data: %w", d.Name, err)
		}
		doc := r.newDoc(results.MethodRealData, d, m)
		doc.Protocol.Real = d.Real.Value
		doc.Metrics.LPIPSDiversity = div
		if w := lpips.RealPairsWarning(len(realFiles), div.N); w != "" {
			doc.Warnings = append(doc.Warnings, w)
		}
		r.addLPIPSModel(doc)
		if err := r.write(d, doc); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) lpipsOptions(m int) lpips.Options {
	p := r.c.Protocol
	return lpips.Options{Pairing: lpips.Pairing(p.Pairing), Pairs: p.Pairs, SamplesPerInput: p.SamplesPerInput,
		NumInputs: m, Bootstrap: p.Bootstrap, Seed: r.c.Seed}
}

func (r *runner) newDoc(method string, d Dataset, m int) *results.Document {
	p := r.c.Protocol
	doc := results.New(method, d.Name)
	doc.Protocol = results.Protocol{NumInputs: m, Seed: r.c.Seed, Bootstrap: p.Bootstrap, Select: p.Select,
		ImageSize: p.Size, Inputs: d.Inputs.Value}
	doc.Versions = results.Versions{MunitEval: version.MunitEval, ONNXRuntime: r.ortVer}
	doc.Models = map[string]results.ModelRef{}
	return doc
}

func (r *runner) addLPIPSModel(doc *results.Document) {
	doc.Models[results.ModelLPIPS] = results.ModelRef{File: filepath.Base(r.c.Models.LPIPS.Value), SHA256: r.lp.SHA256(),
		Net: r.lp.Net, Version: r.lp.Version, Synthetic: r.lp.Synthetic()}
	if r.lp.Version == "0.0" {
		doc.Warnings = append(doc.Warnings, "LPIPS version 0.0 (no scaling layer): values are about half of v0.1's")
	}
}

// measure computes every asked metric of one method from its store.
func (r *runner) measure(ctx context.Context, d Dataset, meth Method, st *translate.Store, m int, realFiles []images.File) (*results.Document, error) {
	c, p := r.c, r.c.Protocol
	doc := r.newDoc(meth.Name, d, m)
	// The store may hold more samples than this evaluation asks for (it
	// only grows); the protocol records the K that IS/CIS and FID/KID used
	// (the LPIPS pairs are in pairs_per_input and pairing), or, for an
	// LPIPS-only run, the samples the pairing used.
	if c.Wants(MetricIS) || c.Wants(MetricFID) || c.Wants(MetricKID) {
		doc.Protocol.SamplesPerInput = min(p.SamplesPerInput, st.SamplesPerInput())
	} else {
		doc.Protocol.SamplesPerInput = min(r.samplesNeeded(), st.SamplesPerInput())
	}
	man := st.Manifest()
	for role, ref := range man.Models {
		doc.Models[role] = results.ModelRef{File: filepath.Base(ref.File), SHA256: ref.SHA256, Method: man.Method}
	}
	if meth.Folder.Value != "" {
		doc.Protocol.Samples = meth.Folder.Value
	}
	have := st.SamplesPerInput()
	root := filepath.Dir(st.Dir())
	if r.lp != nil {
		opts := r.lpipsOptions(m)
		need := lpips.SamplesNeeded(opts.Pairing, opts.Pairs, opts.SamplesPerInput)
		if have < need {
			doc.Warnings = append(doc.Warnings, fmt.Sprintf("no LPIPS diversity: %d samples per input, the %s pairing needs %d", have, opts.Pairing, need))
		} else {
			r.logf("%s / %s: LPIPS", d.Name, meth.Name)
			e := lpips.NewEmbedder(r.lp, filepath.Join(root, translate.CacheDirName, "lpips"))
			e.Bar = progress.New(m*need, "lpips", r.o.Quiet)
			div, err := lpips.StoreDiversity(ctx, e, st, opts)
			e.Bar.Finish()
			if err != nil {
				return nil, err
			}
			doc.Metrics.LPIPSDiversity = div
			doc.Protocol.PairsPerInput, doc.Protocol.Pairing = div.PairsPerInput, div.Pairing
			r.addLPIPSModel(doc)
		}
	}
	k := min(p.SamplesPerInput, have)
	if c.Wants(MetricIS) {
		r.logf("%s / %s: IS and CIS", d.Name, meth.Name)
		runner := inception.NewRunner(r.cls, filepath.Join(root, translate.CacheDirName, "classifier"))
		runner.Bar = progress.New(m*k, "classify", r.o.Quiet)
		outs, err := inception.StoreOutputs(ctx, runner, st, m, k)
		runner.Bar.Finish()
		if err != nil {
			return nil, err
		}
		w, err := inception.Scores(inception.Logits(outs), m, k, r.cls.Classes,
			inception.ScoreOptions{Bootstrap: p.Bootstrap, Seed: c.Seed, Splits: p.Splits}, &doc.Metrics)
		if err != nil {
			return nil, err
		}
		doc.Warnings = append(doc.Warnings, w...)
		doc.Protocol.Splits = p.Splits
		doc.Models[results.ModelClassifier] = results.ModelRef{File: filepath.Base(c.Models.Classifier.Value), SHA256: r.cls.SHA256(),
			Classes: r.cls.Classes, Synthetic: r.cls.Info().Synthetic()}
	}
	if (c.Wants(MetricFID) || c.Wants(MetricKID)) && len(realFiles) > 0 {
		r.logf("%s / %s: FID and KID", d.Name, meth.Name)
		runner := inception.NewRunner(r.feat, filepath.Join(root, translate.CacheDirName, "classifier"))
		runner.Bar = progress.New(m*k+len(realFiles), "features", r.o.Quiet)
		x, y, err := inception.StoreFeatures(ctx, runner, st, m, k, realFiles, p.Size)
		if err != nil {
			return nil, err
		}
		fb := inception.AutoFIDBootstrap
		if p.FIDBootstrap != nil {
			fb = *p.FIDBootstrap
		}
		w, err := inception.FIDKID(x, y, inception.DistanceOptions{FIDBootstrap: fb, GroupSize: k,
			KID:  metrics.KIDOptions{Subsets: p.KIDSubsets, SubsetSize: p.KIDSubsetSize, Seed: uint64(c.Seed)},
			Seed: c.Seed, WantFID: c.Wants(MetricFID), WantKID: c.Wants(MetricKID)}, &doc.Metrics)
		if err != nil {
			return nil, err
		}
		doc.Warnings = append(doc.Warnings, w...)
		doc.Protocol.Real = d.Real.Value
		if r.feat != r.cls || !c.Wants(MetricIS) {
			doc.Models["features"] = results.ModelRef{File: filepath.Base(r.feat.Info().Path), SHA256: r.feat.SHA256(), Synthetic: r.feat.Info().Synthetic()}
		}
	}
	return doc, nil
}

// write stamps and writes one results document.
func (r *runner) write(d Dataset, doc *results.Document) error {
	doc.Created = r.o.Now().UTC().Format(time.RFC3339)
	dir, err := translate.MethodDir(doc.Method)
	if err != nil {
		return err
	}
	p := filepath.Join(r.c.ResultsDir(), d.Name+"__"+dir+".json")
	if err := results.Write(p, doc); err != nil {
		return err
	}
	r.out.Docs = append(r.out.Docs, doc)
	r.out.Paths = append(r.out.Paths, p)
	return nil
}
