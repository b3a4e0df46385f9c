// Package results holds the results document (schema munit-eval/results/v2,
// docs/results.md): one JSON document per (method, dataset) evaluation, holding
// everything reports and the regression gate need so that they never
// recompute. A metric that was not computed is absent (a nil pointer or an
// empty slice), never zero. Timestamps live only in Created, so two runs with
// the same inputs and seed give identical documents apart from that field.
package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/internal/atomicfile"
	"github.com/munit-eval/munit-eval/warning"
)

// Schema is the value of Document.Schema for this version of the format:
// v2 writes warnings as typed objects (package warning). Documents of
// SchemaV1, whose warnings are strings, are read and upgraded.
const Schema = "munit-eval/results/v2"

// SchemaV1 is the schema of documents written before warnings were typed.
const SchemaV1 = "munit-eval/results/v1"

// Names of the metrics inside Document.Metrics, as they appear in JSON. Every
// consumer (reports, check, the CLI) spells them through these constants.
const (
	KeyLPIPSDiversity  = "lpips_diversity"
	KeyIS              = "is"
	KeyISExp           = "is_exp"
	KeyCIS             = "cis"
	KeyCISExp          = "cis_exp"
	KeyISSplits        = "is_splits"
	KeyFID             = "fid"
	KeyKID             = "kid"
	KeyPreference      = "preference"
	KeyPRDC            = "prdc"
	MethodRealData     = "Real data"
	DefaultDatasetName = "dataset"
)

// Model roles used as keys of Document.Models.
const (
	ModelGenerator      = "generator"
	ModelContentEncoder = "content_encoder"
	ModelDecoder        = "decoder"
	ModelLPIPS          = "lpips"
	ModelClassifier     = "classifier"
	// ModelFeatures is the FID/KID feature model when it is not the
	// classifier of the same document.
	ModelFeatures = "features"
)

// Document is one results document.
type Document struct {
	Schema   string              `json:"schema"`
	Method   string              `json:"method"`
	Dataset  string              `json:"dataset,omitempty"`
	Created  string              `json:"created,omitempty"`
	Protocol Protocol            `json:"protocol"`
	Models   map[string]ModelRef `json:"models,omitempty"`
	Versions Versions            `json:"versions"`
	Metrics  Metrics             `json:"metrics"`
	// Warnings are things the reader must know that did not stop the
	// evaluation ("LPIPS version 0.0", "classifier never predicts class 3"),
	// typed (package warning). Reports show them under the tables of their
	// subject.
	Warnings []warning.Warning `json:"warnings,omitempty"`
}

// Protocol records how the samples were drawn and paired. Seed is always
// written (0 is a valid seed).
type Protocol struct {
	NumInputs       int    `json:"num_inputs,omitempty"`
	SamplesPerInput int    `json:"samples_per_input,omitempty"`
	PairsPerInput   int    `json:"pairs_per_input,omitempty"`
	Pairing         string `json:"pairing,omitempty"`
	Select          string `json:"select,omitempty"`
	Seed            int64  `json:"seed"`
	Bootstrap       int    `json:"bootstrap,omitempty"`
	Splits          int    `json:"splits,omitempty"`
	ImageSize       int    `json:"image_size,omitempty"`
	// Inputs is the input folder (as given), Real the real target folder.
	Inputs string `json:"inputs,omitempty"`
	Real   string `json:"real,omitempty"`
	// Samples is the sample store folder the metrics were read from.
	Samples string `json:"samples,omitempty"`

	// Plain folders, published statistics and resize modes (issue 15).
	// Resize is "clean" when images were resized for the features model in
	// Go as clean-fid does (absent: "legacy", the network's own resize).
	// RealStats names the .npz of real-image statistics FID was measured
	// against instead of Real.
	Resize    string `json:"resize,omitempty"`
	RealStats string `json:"real_stats,omitempty"`
	// Randomness says where the method's sample-to-sample variation comes
	// from, as the sample store's manifest records it: "style" (a style
	// code per sample), "noise" (noise inputs, munit_eval.noise),
	// "style+noise", "none" (a deterministic generator) or "unknown"
	// (pre-generated samples). Absent for the real-data row and for
	// documents written before the field existed.
	Randomness string `json:"randomness,omitempty"`
	// Preset names the published protocol the evaluation started from
	// (docs/protocols.md); absent when none was named.
	Preset string `json:"preset,omitempty"`
}

// TaskMean holds the per-task values and their means with equal weight
// per task; FID or LPIPS is absent when the tasks lack it.
type TaskMean struct {
	Tasks     []string  `json:"tasks"`
	FID       []float64 `json:"fid,omitempty"`
	FIDMean   *float64  `json:"fid_mean,omitempty"`
	LPIPS     []float64 `json:"lpips,omitempty"`
	LPIPSMean *float64  `json:"lpips_mean,omitempty"`
}

// SeedRuns is an evaluation repeated with several seeds (run's seeds:
// the latent codes, references and random selections drawn anew, the
// models the same): every quantity the runs share, its value per seed,
// the plain mean over seeds (what StarGAN v2's paper reports: "the average
// of values from 10 measurements using different seed numbers") and the
// sample standard deviation over seeds. Each seed's own documents are in
// the results folder's seed-<S>/.
type SeedRuns struct {
	Seeds      []int64        `json:"seeds"`
	Quantities []SeedQuantity `json:"quantities"`
}

// SeedQuantity is one quantity over the seeds of a SeedRuns, by the
// regression gate's quantity name (lpips_diversity, fid, is, ...).
type SeedQuantity struct {
	Name string `json:"name"`
	// Better is +1 when higher is better, -1 when lower is.
	Better int `json:"better"`
	// Values are the per-seed values, in Seeds' order.
	Values []float64 `json:"values"`
	Mean   float64   `json:"mean"`
	// SD is the sample standard deviation over seeds (n-1 in the
	// denominator); absent for one seed.
	SD *float64 `json:"sd,omitempty"`
}

// Quantity is the quantity named name, nil when r (or r itself) has none.
func (r *SeedRuns) Quantity(name string) *SeedQuantity {
	if r == nil {
		return nil
	}
	for i := range r.Quantities {
		if r.Quantities[i].Name == name {
			return &r.Quantities[i]
		}
	}
	return nil
}

// ModelRef identifies a model file by name and content hash.
type ModelRef struct {
	File    string   `json:"file"`
	SHA256  string   `json:"sha256"`
	Method  string   `json:"method,omitempty"`
	Net     string   `json:"net,omitempty"`
	Version string   `json:"version,omitempty"`
	Classes []string `json:"classes,omitempty"`
	// Synthetic is true for models built by munit-eval's synthetic world:
	// their numbers are comparable within the demo only.
	Synthetic bool `json:"synthetic,omitempty"`
}

// Versions of the software that produced the document.
type Versions struct {
	MunitEval   string `json:"munit_eval"`
	ONNXRuntime string `json:"onnxruntime,omitempty"`
}

// Metrics holds every metric of one evaluation; absent ones are nil/empty.
type Metrics struct {
	LPIPSDiversity *Diversity `json:"lpips_diversity,omitempty"`
	// TaskMean is the mean over the tasks of a multi-domain dataset
	// (StarGAN v2's eval.py: each task's FID and LPIPS, then their plain
	// mean), in a document of its own whose dataset is the tasks' group.
	TaskMean *TaskMean `json:"task_mean,omitempty"`
	// Seeds is the mean over the seeds of a repeated evaluation, in a
	// document of its own (no other fragment but TaskMean, the per-task
	// means over seeds).
	Seeds *SeedRuns `json:"seeds,omitempty"`

	// IS and CIS in the MUNIT paper's form: raw mean KL in nats. The *Exp
	// fields are exp() of the same means (the official script's print).
	IS     *float64 `json:"is,omitempty"`
	ISExp  *float64 `json:"is_exp,omitempty"`
	CIS    *float64 `json:"cis,omitempty"`
	CISExp *float64 `json:"cis_exp,omitempty"`
	// ISCI95 and CISCI95 are the 95% intervals shown beside IS and CIS:
	// for the expectation of the plug-in value at this M and K, the
	// plug-in ± Student's t times the jackknife standard error
	// (IntervalJackknifeT), so they always hold the value they bracket
	// (docs/metrics.md, "Intervals and bias"). ISPopulationCI95 and
	// CISPopulationCI95 are the intervals for the population values,
	// around the bias-corrected estimates. Documents written before
	// interval_methods was recorded hold percentile-bootstrap intervals
	// around the plug-in values; documents written before the population
	// fields existed hold the population intervals in is_ci95/cis_ci95.
	// The bootstrap replicates over inputs are what the regression gate
	// compares without recomputing.
	ISCI95            *[2]float64 `json:"is_ci95,omitempty"`
	CISCI95           *[2]float64 `json:"cis_ci95,omitempty"`
	ISPopulationCI95  *[2]float64 `json:"is_population_ci95,omitempty"`
	CISPopulationCI95 *[2]float64 `json:"cis_population_ci95,omitempty"`
	ISBootstrap       []float64   `json:"is_bootstrap,omitempty"`
	CISBootstrap      []float64   `json:"cis_bootstrap,omitempty"`
	// ISBiasCorrected and CISBiasCorrected are the jackknife bias-corrected
	// IS and CIS in nats, beside the plug-in values IS and CIS (which stay
	// the headline: they are what the paper and the official scripts
	// print). docs/metrics.md states each estimator's bias.
	ISBiasCorrected  *float64 `json:"is_bias_corrected,omitempty"`
	CISBiasCorrected *float64 `json:"cis_bias_corrected,omitempty"`
	// IntervalMethods names, per metric key, how its 95% interval was
	// computed (Interval* constants), for intervals whose method changed.
	IntervalMethods map[string]string `json:"interval_methods,omitempty"`
	// CISPerInput is mean_k KL(p_ik || q_i) for each input i.
	CISPerInput     []float64 `json:"cis_per_input,omitempty"`
	ISSplits        *ISSplits `json:"is_splits,omitempty"`
	NumInputs       *int      `json:"num_inputs,omitempty"`
	SamplesPerInput *int      `json:"samples_per_input,omitempty"`
	Classes         []string  `json:"classes,omitempty"`
	// ClassShare is the share of samples whose most probable class is each
	// class, in the order of Classes.
	ClassShare []float64 `json:"class_share,omitempty"`

	FID *FID `json:"fid,omitempty"`
	KID *KID `json:"kid,omitempty"`

	// PRDC is precision, recall, density and coverage (issue 15).
	PRDC *PRDC `json:"prdc,omitempty"`

	// Preference maps a baseline's name to the share of judgments that
	// preferred it over the reference method.
	Preference map[string]Preference `json:"preference,omitempty"`

	// Extra holds the fragments of metrics that have no typed field here
	// (a metric registered in package registry with a fragment of its own
	// type), each under its registry key, written inline in the "metrics"
	// object after the typed fields (see extra.go).
	Extra map[string]json.RawMessage `json:"-"`
}

// Diversity is the LPIPS diversity of one method (docs/metrics.md).
type Diversity struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	// Stderr is the standard error of Mean: clustered by input
	// (StderrMethod StderrClustered) in documents that name a method, over
	// independent pairs (StderrNaive) in older ones and with one input.
	Stderr       float64    `json:"stderr"`
	StderrMethod string     `json:"stderr_method,omitempty"`
	CI95         [2]float64 `json:"ci95"`
	// Interval names the method of CI95: IntervalBootstrapT, or
	// IntervalExpandedPercentile (one input, and documents written before
	// the field existed).
	Interval string `json:"interval,omitempty"`
	// N is the number of pairs.
	N             int    `json:"n"`
	NumInputs     int    `json:"num_inputs"`
	PairsPerInput int    `json:"pairs_per_input"`
	Pairing       string `json:"pairing"`
	LPIPSNet      string `json:"lpips_net"`
	LPIPSVersion  string `json:"lpips_version"`
	// PerInputMean is the mean distance over each input's pairs, in input
	// order; the regression gate's two-sample test runs on these.
	PerInputMean []float64 `json:"per_input_mean,omitempty"`
	Pairs        []Pair    `json:"pairs,omitempty"`
	// Trials is the repeated measurement (protocol trials > 1), absent
	// otherwise.
	Trials *Trials `json:"trials,omitempty"`
}

// Trials is a diversity measured T times on fresh samples, as DSGAN
// reports it: trial t is the mean over every input's pairs t·P..(t+1)·P-1
// (PairsPerTrial = P), and the trials are summarised by their mean (the
// diversity's Mean, as every trial has as many pairs) and their population
// standard deviation (numpy's default ddof = 0, which DSGAN's "std" is).
type Trials struct {
	Count         int       `json:"count"`
	PairsPerTrial int       `json:"pairs_per_trial"`
	Means         []float64 `json:"means"`
	Mean          float64   `json:"mean"`
	Std           float64   `json:"std"`
}

// Standard error methods of Diversity.StderrMethod.
const (
	// StderrClustered: cluster-robust over inputs (metrics.ClusteredStdErr).
	StderrClustered = "clustered-by-input"
	// StderrNaive: the pairs taken as independent (one input).
	StderrNaive = "independent-pairs"
)

// Pair is one LPIPS distance: between samples A and B of input Input, or,
// for the real-data row, between real images A and B (Input is then the
// index of the group the pair was drawn in).
type Pair struct {
	Input    int     `json:"input"`
	A        int     `json:"a"`
	B        int     `json:"b"`
	Distance float64 `json:"distance"`
}

// ISSplits is the conventional Inception Score of Salimans et al.: exp of the
// mean KL within each split, mean and population std over splits.
type ISSplits struct {
	Splits int       `json:"splits"`
	Mean   float64   `json:"mean"`
	Std    float64   `json:"std"`
	Values []float64 `json:"values,omitempty"`
	// Order is how the rows were split: SplitOrderShuffled (torch-fidelity's
	// default, numpy.random.RandomState(ShuffleSeed).permutation first) or
	// SplitOrderContiguous (rows in input-major order). Empty in documents
	// written before it was recorded, which split contiguously.
	Order string `json:"order,omitempty"`
	// ShuffleSeed is the RandomState seed of a shuffled split (2020).
	ShuffleSeed *int `json:"shuffle_seed,omitempty"`
}

// Values of Metrics.IntervalMethods.
const (
	// IntervalJackknifeT is a jackknife bias-corrected estimate ± a
	// quantile (Student's t for IS and CIS, the normal one for FID) times
	// the jackknife standard error.
	IntervalJackknifeT = "jackknife-t"
	// IntervalBootstrapT is the studentized bootstrap over inputs
	// (LPIPS diversity).
	IntervalBootstrapT = "bootstrap-t"
	// IntervalExpandedPercentile is Hesterberg's expanded percentile
	// bootstrap interval.
	IntervalExpandedPercentile = "expanded-percentile"
)

// Values of ISSplits.Order.
const (
	SplitOrderShuffled   = "shuffled"
	SplitOrderContiguous = "contiguous"
)

// FID is the Fréchet distance between Gaussian fits of sample and real features.
type FID struct {
	Value float64 `json:"value"`
	// CI95 is the 95% interval shown beside Value: for the expectation of
	// the plug-in FID at these sample and real counts, Value ± z times
	// the jackknife standard error, clamped at 0 (IntervalJackknifeT); it
	// always holds Value. PopulationCI95 is the interval for the
	// population FID around BiasCorrected. Documents written before
	// interval_methods was recorded hold a percentile-bootstrap interval,
	// with its replicates in Bootstrap; documents written before
	// population_ci95 existed hold the population interval in ci95.
	CI95           *[2]float64 `json:"ci95,omitempty"`
	PopulationCI95 *[2]float64 `json:"population_ci95,omitempty"`
	Bootstrap      []float64   `json:"bootstrap,omitempty"`
	// BiasCorrected is the jackknife bias-corrected FID, beside the plug-in
	// Value (the headline); StdErr its jackknife standard error over
	// Groups units (input groups paired with blocks of real images), which
	// the regression gate compares.
	BiasCorrected *float64 `json:"bias_corrected,omitempty"`
	StdErr        float64  `json:"stderr,omitempty"`
	Groups        int      `json:"groups,omitempty"`
	NumSamples    int      `json:"num_samples,omitempty"`
	NumReal       int      `json:"num_real,omitempty"`
	FeatureDim    int      `json:"feature_dim,omitempty"`
}

// KID is the kernel inception distance over random subsets.
type KID struct {
	Mean       float64   `json:"mean"`
	Std        float64   `json:"std"`
	Subsets    int       `json:"subsets,omitempty"`
	SubsetSize int       `json:"subset_size,omitempty"`
	Values     []float64 `json:"values,omitempty"`
}

// PRDC holds improved precision and recall (Kynkäänniemi et al. 2019, as
// torch-fidelity computes them, PRK neighbours) and density and coverage
// (Naeem et al. 2020, as their prdc package, DCK neighbours) of the
// samples' features against the real images' features (docs/metrics.md).
type PRDC struct {
	Precision  float64 `json:"precision"`
	Recall     float64 `json:"recall"`
	FScore     float64 `json:"f_score"`
	Density    float64 `json:"density"`
	Coverage   float64 `json:"coverage"`
	PRK        int     `json:"pr_k"`
	DCK        int     `json:"dc_k"`
	NumSamples int     `json:"num_samples"`
	NumReal    int     `json:"num_real"`
}

// Preference is the human-preference result for one baseline against the
// reference method.
type Preference struct {
	// Percent of judgments preferring the baseline over the reference.
	Percent float64 `json:"percent"`
	// Wilson is the 95% Wilson score interval on judgments, in percent.
	Wilson [2]float64 `json:"wilson"`
	// Bootstrap is the 95% interval from resampling questions and workers, in percent.
	Bootstrap       [2]float64 `json:"bootstrap"`
	Judgments       int        `json:"judgments"`
	Preferred       int        `json:"preferred"`
	Questions       int        `json:"questions,omitempty"`
	Workers         int        `json:"workers"`
	ExcludedWorkers int        `json:"excluded_workers"`
	// Simulated is true when the judgments came from simulated workers (the demo).
	Simulated bool `json:"simulated,omitempty"`
}

// New returns a document with the schema set.
func New(method, dataset string) *Document {
	return &Document{Schema: Schema, Method: method, Dataset: dataset}
}

// Float returns a pointer to v, for the optional metric fields.
func Float(v float64) *float64 { return &v }

// Int returns a pointer to v, for the optional metric fields.
func Int(v int) *int { return &v }

// Marshal encodes d as indented JSON with a trailing newline. The encoding is
// deterministic: the same document gives the same bytes.
func Marshal(d *Document) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("results: encoding %s/%s: %w", d.Method, d.Dataset, err)
	}
	return buf.Bytes(), nil
}

// Write writes d to path atomically (temporary file + rename).
func Write(path string, d *Document) error {
	b, err := Marshal(d)
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("results: %w", err)
		}
	}
	return atomicfile.Write(path, b, 0o644)
}

// Read reads and validates a results document.
func Read(path string) (*Document, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	return Parse(path, b)
}

// Parse decodes a results document; name is used in error messages. Unknown
// fields are rejected so that a typo or a document of another schema is not
// silently read as empty.
func Parse(name string, b []byte) (*Document, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("results: %s: not a results document: %w", name, err)
	}
	if d.Schema == SchemaV1 {
		d.Schema = Schema // string warnings were read as typed ones
	}
	if d.Schema != Schema {
		return nil, fmt.Errorf("results: %s: schema %q, want %q", name, d.Schema, Schema)
	}
	if d.Method == "" {
		return nil, fmt.Errorf("results: %s: no method", name)
	}
	return &d, nil
}

// ReadAll reads every document named by the arguments: files, folders (every
// *.json inside, sorted) or glob patterns. It is an error when none is found.
func ReadAll(args ...string) ([]*Document, []string, error) {
	var paths []string
	for _, a := range args {
		if st, err := os.Stat(a); err == nil && st.IsDir() {
			m, _ := filepath.Glob(filepath.Join(a, "*.json"))
			sort.Strings(m)
			paths = append(paths, m...)
			continue
		} else if err == nil {
			paths = append(paths, a)
			continue
		}
		m, err := filepath.Glob(a)
		if err != nil {
			return nil, nil, fmt.Errorf("results: bad pattern %q: %w", a, err)
		}
		if len(m) == 0 {
			return nil, nil, fmt.Errorf("results: %s: no such file", a)
		}
		sort.Strings(m)
		paths = append(paths, m...)
	}
	if len(paths) == 0 {
		return nil, nil, fmt.Errorf("results: no results documents in %s", strings.Join(args, ", "))
	}
	docs := make([]*Document, 0, len(paths))
	for _, p := range paths {
		d, err := Read(p)
		if err != nil {
			return nil, nil, err
		}
		docs = append(docs, d)
	}
	return docs, paths, nil
}

// Warn adds warnings to the document, stamped with its method and dataset.
func (d *Document) Warn(ws ...warning.Warning) {
	d.Warnings = append(d.Warnings, warning.Stamp(ws, d.Method, d.Dataset)...)
}
