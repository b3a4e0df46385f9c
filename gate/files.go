package gate

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/warning"
)

// Doc is a results document and the file it was read from.
type Doc struct {
	Path string
	Doc  *results.Document
}

// Pair is a baseline document and the new document of the same (method,
// dataset).
type Pair struct {
	Base, New Doc
}

// Set is what the gate compares: one pair of files, or the documents of two
// folders paired by (method, dataset).
type Set struct {
	Pairs []Pair
	// NewOnly holds new documents without a baseline (folder mode): they
	// are reported, not gated, and --update adds them to the baseline.
	NewOnly []Doc
	// Folder is true in folder mode; BaseDir is then the baseline folder.
	Folder  bool
	BaseDir string
}

// Load reads the baseline and the new results: two files, or two folders
// whose *.json documents are paired by (method, dataset). Bad input is an
// error naming the file and what is wrong: unreadable or malformed JSON, a
// file paired with a folder, two documents of one (method, dataset) in a
// folder, or a baseline document with no new counterpart (a run that
// produced no result must not pass the gate).
func Load(basePath, newPath string) (*Set, error) {
	bst, err := os.Stat(basePath)
	if err != nil {
		return nil, fmt.Errorf("gate: baseline: %w", err)
	}
	nst, err := os.Stat(newPath)
	if err != nil {
		return nil, fmt.Errorf("gate: results: %w", err)
	}
	if bst.IsDir() != nst.IsDir() {
		return nil, fmt.Errorf("gate: --baseline %s and --results %s must both be files or both be folders", basePath, newPath)
	}
	if !bst.IsDir() {
		b, err := results.Read(basePath)
		if err != nil {
			return nil, fmt.Errorf("gate: baseline: %w", err)
		}
		n, err := results.Read(newPath)
		if err != nil {
			return nil, fmt.Errorf("gate: results: %w", err)
		}
		return &Set{Pairs: []Pair{{Doc{basePath, b}, Doc{newPath, n}}}}, nil
	}
	base, err := readFolder("baseline", basePath)
	if err != nil {
		return nil, err
	}
	news, err := readFolder("results", newPath)
	if err != nil {
		return nil, err
	}
	s := &Set{Folder: true, BaseDir: basePath}
	var missing []string
	for _, k := range sortedKeys(base) {
		n, ok := news[k]
		if !ok {
			missing = append(missing, fmt.Sprintf("%s (baseline %s)", k, base[k].Path))
			continue
		}
		s.Pairs = append(s.Pairs, Pair{base[k], n})
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("gate: no new result in %s for %s", newPath, strings.Join(missing, ", "))
	}
	for _, k := range sortedKeys(news) {
		if _, ok := base[k]; !ok {
			s.NewOnly = append(s.NewOnly, news[k])
		}
	}
	return s, nil
}

// key identifies a document in folder mode.
func key(d *results.Document) string {
	if d.Dataset == "" {
		return d.Method
	}
	return d.Method + " / " + d.Dataset
}

// readFolder reads every *.json in dir, keyed by (method, dataset).
func readFolder(what, dir string) (map[string]Doc, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("gate: %s %s: %w", what, dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("gate: %s folder %s holds no *.json results documents", what, dir)
	}
	sort.Strings(paths)
	out := map[string]Doc{}
	for _, p := range paths {
		d, err := results.Read(p)
		if err != nil {
			return nil, fmt.Errorf("gate: %s: %w", what, err)
		}
		k := key(d)
		if prev, ok := out[k]; ok {
			return nil, fmt.Errorf("gate: %s folder %s: %s and %s are both %s", what, dir, prev.Path, p, k)
		}
		out[k] = Doc{p, d}
	}
	return out, nil
}

// Group is the comparison of one pair of documents.
type Group struct {
	Method   string            `json:"method"`
	Dataset  string            `json:"dataset,omitempty"`
	BasePath string            `json:"baseline"`
	NewPath  string            `json:"results"`
	Metrics  []Comparison      `json:"metrics"`
	Warnings []warning.Warning `json:"warnings,omitempty"`
}

// Report is the gate's outcome for a Set.
type Report struct {
	Alpha float64 `json:"alpha"`
	// Correction is the multiple-testing correction applied.
	Correction string  `json:"correction"`
	Groups     []Group `json:"groups"`
	// Warnings are about the set as a whole (new documents without a
	// baseline).
	Warnings []warning.Warning `json:"warnings,omitempty"`
	// Missing lists the baseline metrics absent from the new results
	// (only with Options.AllowMissing; otherwise Check fails). A report
	// with missing metrics fails the gate like a regression.
	Missing []Missing `json:"missing,omitempty"`
}

// Missing is a metric of a baseline document that the new document of the
// same (method, dataset) lacks: a run that stopped computing a metric must
// not pass the gate by having nothing to compare.
type Missing struct {
	Method   string `json:"method"`
	Dataset  string `json:"dataset,omitempty"`
	Metric   string `json:"metric"`
	Baseline string `json:"baseline,omitempty"`
	BasePath string `json:"baseline_path"`
	NewPath  string `json:"results_path"`
}

func (m Missing) String() string {
	s := m.Metric
	if m.Baseline != "" {
		s += fmt.Sprintf(" (preference for %q)", m.Baseline)
	}
	return fmt.Sprintf("%s of %s in %s is missing from %s", s, join2(m.Method, m.Dataset), m.BasePath, m.NewPath)
}

func join2(method, dataset string) string {
	if dataset == "" {
		return method
	}
	return method + "/" + dataset
}

// MissingError is Check's error when baseline metrics are missing from the
// new results and Options.AllowMissing is not set.
type MissingError struct {
	Missing []Missing
}

func (e *MissingError) Error() string {
	msgs := make([]string, len(e.Missing))
	for i, m := range e.Missing {
		msgs[i] = m.String()
	}
	return "gate: baseline metrics missing from the new results (--allow-missing to report them as a failure instead): " + strings.Join(msgs, "; ")
}

// Failed reports whether the gate fails: a metric regressed or a baseline
// metric is missing.
func (r *Report) Failed() bool {
	return len(r.Regressions()) > 0 || len(r.Missing) > 0
}

// missingMetrics lists the quantities of base that new lacks, in the
// order of Metrics, preference per baseline name.
func missingMetrics(p Pair) []Missing {
	var out []Missing
	add := func(metric, baseline string) {
		out = append(out, Missing{Method: p.Base.Doc.Method, Dataset: p.Base.Doc.Dataset, Metric: metric, Baseline: baseline,
			BasePath: p.Base.Path, NewPath: p.New.Path})
	}
	for _, e := range registry.All() {
		for _, q := range e.Compare {
			_, inB := q.Get(p.Base.Doc)
			_, inN := q.Get(p.New.Doc)
			if inB && !inN {
				add(q.Name, "")
			}
		}
	}
	for _, name := range sortedKeys(p.Base.Doc.Metrics.Preference) {
		if _, ok := p.New.Doc.Metrics.Preference[name]; !ok {
			add(results.KeyPreference, name)
		}
	}
	return out
}

// Regressions returns every regressed comparison.
func (r *Report) Regressions() []Comparison {
	var out []Comparison
	for _, g := range r.Groups {
		for _, c := range g.Metrics {
			if c.Verdict == Regressed {
				out = append(out, c)
			}
		}
	}
	return out
}

// Check compares every pair of s. Every document is first checked for
// internal consistency (results.Validate: lengths against counts, negative
// spreads, reversed intervals, non-finite or absurd values); then all
// protocol mismatches of all pairs are reported together in one error (a
// *MismatchError when there is one pair, an error wrapping them otherwise)
// before anything is compared. A metric of a baseline document that its new
// document lacks (AMT preference included, per baseline name) is a
// *MissingError, or, with Options.AllowMissing, an entry of Report.Missing
// that fails the gate (Report.Failed).
func Check(s *Set, opts Options) (*Report, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	var errs []error
	for _, p := range s.Pairs {
		for _, d := range []Doc{p.Base, p.New} {
			if err := results.Validate(d.Path, d.Doc); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, d := range s.NewOnly {
		if err := results.Validate(d.Path, d.Doc); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		for _, p := range s.Pairs {
			if err := CheckComparable(p.Base.Path, p.Base.Doc, p.New.Path, p.New.Doc); err != nil {
				errs = append(errs, err)
			}
		}
	}
	switch len(errs) {
	case 0:
	case 1:
		return nil, errs[0]
	default:
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return nil, &multiError{errs: errs, msg: strings.Join(msgs, "; ")}
	}
	var missing []Missing
	for _, p := range s.Pairs {
		missing = append(missing, missingMetrics(p)...)
	}
	if len(missing) > 0 && !opts.AllowMissing {
		return nil, &MissingError{Missing: missing}
	}
	if opts.Correction == "" {
		opts.Correction = CorrectionNone
	}
	r := &Report{Alpha: opts.Alpha, Correction: opts.Correction, Missing: missing}
	for _, p := range s.Pairs {
		cmps, warns, err := Compare(p.Base.Path, p.Base.Doc, p.New.Path, p.New.Doc, opts)
		if err != nil {
			return nil, err
		}
		r.Groups = append(r.Groups, Group{Method: p.New.Doc.Method, Dataset: p.New.Doc.Dataset,
			BasePath: p.Base.Path, NewPath: p.New.Path, Metrics: cmps, Warnings: warns})
	}
	if opts.Correction == CorrectionHolm {
		holm(r, opts.Alpha)
	}
	for _, d := range s.NewOnly {
		w := warning.New(CodeNoBaseline, warning.SubjectRun, "%s (%s) has no baseline: not gated", key(d.Doc), d.Path)
		w.Method, w.Dataset = d.Doc.Method, d.Doc.Dataset
		r.Warnings = append(r.Warnings, w)
	}
	return r, nil
}

// holm applies Holm's step-down correction (metrics.Holm) to every
// comparison of r that has a p-value of its own (followers such as is_exp
// copy their metric's verdict, and interval comparisons have none); a
// comparison is significant when its adjusted p-value is below alpha, which
// keeps the probability that noise flags any comparison of the report below
// alpha.
func holm(r *Report, alpha float64) {
	var tested []*Comparison
	for gi := range r.Groups {
		for ci := range r.Groups[gi].Metrics {
			c := &r.Groups[gi].Metrics[ci]
			if _, f := follows(c.Metric); !f && c.P != nil {
				tested = append(tested, c)
			}
		}
	}
	ps := make([]float64, len(tested))
	for i, c := range tested {
		ps[i] = *c.P
	}
	for i, adj := range metrics.Holm(ps) {
		c := tested[i]
		c.PAdjusted = &adj
		c.Significant = adj < alpha
		decide(c)
	}
	for gi := range r.Groups {
		g := &r.Groups[gi]
		for ci := range g.Metrics {
			c := &g.Metrics[ci]
			lead, ok := follows(c.Metric)
			if !ok {
				continue
			}
			for _, l := range g.Metrics {
				if l.Metric == lead {
					c.PAdjusted, c.Significant, c.Verdict = l.PAdjusted, l.Significant, l.Verdict
				}
			}
		}
	}
}

// Update rewrites the baseline with the new results, each file atomically
// (results.Write: temporary file + rename), so that an interrupted update
// leaves every baseline file either old or new, never partial. In folder
// mode a new document without a baseline is added to the baseline folder
// under its own file name; Update refuses (before writing anything) when
// that name is taken.
func Update(s *Set) error {
	type job struct {
		path string
		doc  *results.Document
	}
	var jobs []job
	for _, p := range s.Pairs {
		jobs = append(jobs, job{p.Base.Path, p.New.Doc})
	}
	for _, d := range s.NewOnly {
		path := filepath.Join(s.BaseDir, filepath.Base(d.Path))
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("gate: update: cannot add %s as %s: that file holds another document", d.Path, path)
		}
		jobs = append(jobs, job{path, d.Doc})
	}
	for _, j := range jobs {
		if err := results.Write(j.path, j.doc); err != nil {
			return fmt.Errorf("gate: update %s: %w", j.path, err)
		}
	}
	return nil
}

// multiError joins the mismatches of several pairs into one line; errors.As
// finds each *MismatchError.
type multiError struct {
	errs []error
	msg  string
}

func (m *multiError) Error() string   { return m.msg }
func (m *multiError) Unwrap() []error { return m.errs }
