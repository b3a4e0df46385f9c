package reports

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/table"
)

// CIStyle is how an interval is printed next to its value (table.CIStyle).
type CIStyle = table.CIStyle

// Interval styles.
const (
	// CIPlusMinus prints "v ± h" where the interval is symmetric at the
	// printed precision and "v [lo, hi]" where it is not.
	CIPlusMinus = table.CIPlusMinus
	// CIBrackets prints "v [lo, hi]", the interval's exact bounds.
	CIBrackets = table.CIBrackets
)

// ScoreForm selects which form of IS and CIS the tables print.
type ScoreForm string

// Score forms (DESIGN.md §3).
const (
	// ScoresNats prints the raw mean KL divergences in nats, as the MUNIT
	// paper's tables do (CycleGAN's CIS 0.078).
	ScoresNats ScoreForm = "nats"
	// ScoresExp prints exp() of the same means, as the official evaluation
	// script does.
	ScoresExp ScoreForm = "exp"
)

// PrefInterval selects which 95% interval of a preference is printed.
type PrefInterval string

// Preference intervals (DESIGN.md §3, human preference).
const (
	// PrefWilson is the Wilson score interval on judgments.
	PrefWilson PrefInterval = "wilson"
	// PrefBootstrap is the bootstrap over questions and workers.
	PrefBootstrap PrefInterval = "bootstrap"
)

// TableOptions controls the content and notation of the tables.
type TableOptions struct {
	CI     CIStyle      // default CIPlusMinus
	Scores ScoreForm    // default ScoresNats
	Pref   PrefInterval // default PrefWilson
}

func (o TableOptions) withDefaults() (TableOptions, error) {
	if o.CI == "" {
		o.CI = CIPlusMinus
	}
	if o.Scores == "" {
		o.Scores = ScoresNats
	}
	if o.Pref == "" {
		o.Pref = PrefWilson
	}
	if o.CI != CIPlusMinus && o.CI != CIBrackets {
		return o, fmt.Errorf("reports: interval style %q, want pm or brackets", o.CI)
	}
	if o.Scores != ScoresNats && o.Scores != ScoresExp {
		return o, fmt.Errorf("reports: score form %q, want nats or exp", o.Scores)
	}
	if o.Pref != PrefWilson && o.Pref != PrefBootstrap {
		return o, fmt.Errorf("reports: preference interval %q, want wilson or bootstrap", o.Pref)
	}
	return o, nil
}

// Table is one paper-style table in the one table model: one row per
// method in the paper's order (Real data a reference row), columns grouped
// by dataset (Column.Group), warnings attached to the row of the method
// they concern or to the table.
type Table = table.Table

// Column is one metric of one dataset.
type Column = table.Column

// Row is one method's cells, one per column.
type Row = table.Row

// Cell is one value with its optional 95% interval.
type Cell = table.Cell

// CellKind says what a cell holds.
type CellKind = table.CellKind

// Cell kinds.
const (
	// CellNA: the metric was not computed or does not apply ("N/A").
	CellNA = table.CellNA
	// CellValue: a value, maybe with an interval.
	CellValue = table.CellValue
	// CellReference: the reference method's own preference, 50% by construction.
	CellReference = table.CellReference
)

// methodRank orders methods as the paper's tables do: UNIT, CycleGAN,
// CycleGAN*, the MUNIT variants, MUNIT, BicycleGAN, other methods, Real data.
func methodRank(m string) int {
	switch {
	case m == "UNIT":
		return 0
	case m == "CycleGAN":
		return 1
	case m == "CycleGAN*":
		return 2
	case m == "MUNIT":
		return 4
	case strings.HasPrefix(m, "MUNIT"):
		return 3
	case m == "BicycleGAN" || strings.HasPrefix(m, "BicycleGAN"):
		return 5
	case m == results.MethodRealData:
		return 7
	}
	return 6
}

// SortMethods sorts method names in the paper's order (see methodRank);
// ties are broken alphabetically.
func SortMethods(ms []string) {
	sort.SliceStable(ms, func(i, j int) bool { return methodLess(ms[i], ms[j]) })
}

// methodLess orders two method names as SortMethods does.
func methodLess(a, b string) bool {
	ra, rb := methodRank(a), methodRank(b)
	if ra != rb {
		return ra < rb
	}
	return a < b
}

// entry is everything known about one (method, dataset): the documents
// that describe it, in input order.
type entry struct {
	method, dataset string
	docs            []*results.Document
}

// find returns the one value of a metric across the entry's documents,
// using get to pick it from a document (nil when absent). Two documents
// holding the same metric for the same method and dataset are an error:
// the report cannot know which is right.
func find[T any](e *entry, what string, get func(*results.Document) *T) (*T, error) {
	var got *T
	for _, d := range e.docs {
		if v := get(d); v != nil {
			if got != nil {
				return nil, fmt.Errorf("reports: %s on %s: %s appears in two results documents", e.method, e.dataset, what)
			}
			got = v
		}
	}
	return got, nil
}

// collection indexes documents by dataset and method.
type collection struct {
	datasets []string // order of first appearance
	entries  map[[2]string]*entry
	methods  map[string][]string // dataset -> methods seen (documents or preference keys)
}

func datasetOf(d *results.Document) string {
	if d.Dataset == "" {
		return results.DefaultDatasetName
	}
	return d.Dataset
}

func collect(docs []*results.Document) *collection {
	c := &collection{entries: map[[2]string]*entry{}, methods: map[string][]string{}}
	add := func(ds, m string) *entry {
		k := [2]string{ds, m}
		e := c.entries[k]
		if e == nil {
			e = &entry{method: m, dataset: ds}
			c.entries[k] = e
			c.methods[ds] = append(c.methods[ds], m)
		}
		return e
	}
	for _, d := range docs {
		ds := datasetOf(d)
		if _, ok := c.methods[ds]; !ok {
			c.datasets = append(c.datasets, ds)
		}
		e := add(ds, d.Method)
		e.docs = append(e.docs, d)
	}
	// Baselines named only in a preference map get an (empty) entry so
	// that they have a row.
	for _, d := range docs {
		ds := datasetOf(d)
		keys := make([]string, 0, len(d.Metrics.Preference))
		for b := range d.Metrics.Preference {
			keys = append(keys, b)
		}
		sort.Strings(keys)
		for _, b := range keys {
			add(ds, b)
		}
	}
	return c
}

// reference returns the method whose document holds the preference study
// of a dataset and that study, or "" when the dataset has none.
func (c *collection) reference(ds string) (string, map[string]results.Preference, bool, error) {
	ref := ""
	var pref map[string]results.Preference
	simulated := false
	for _, m := range c.methods[ds] {
		for _, d := range c.entries[[2]string{ds, m}].docs {
			if len(d.Metrics.Preference) == 0 {
				continue
			}
			if ref != "" {
				return "", nil, false, fmt.Errorf("reports: %s: two preference studies (in the documents of %s and %s)", ds, ref, m)
			}
			ref, pref = m, d.Metrics.Preference
			for _, p := range pref {
				simulated = simulated || p.Simulated
			}
		}
	}
	return ref, pref, simulated, nil
}

// sortedMethods returns the dataset-independent list of methods, in the
// paper's order.
func (c *collection) sortedMethods() []string {
	seen := map[string]bool{}
	var ms []string
	for _, ds := range c.datasets {
		for _, m := range c.methods[ds] {
			if !seen[m] {
				seen[m] = true
				ms = append(ms, m)
			}
		}
	}
	SortMethods(ms)
	return ms
}

// builder accumulates one table's columns; each column has a function
// giving a method's cell.
type builder struct {
	t     *Table
	cells []func(method string) (Cell, error)
}

func (b *builder) add(col Column, f func(method string) (Cell, error)) {
	b.t.Columns = append(b.t.Columns, col)
	b.cells = append(b.cells, f)
}

// finish fills the rows (methods with at least one cell that is not N/A),
// marks the best cells and returns the table, or nil when it has no column.
func (b *builder) finish(methods []string) (*Table, error) {
	if len(b.t.Columns) == 0 {
		return nil, nil
	}
	for _, m := range methods {
		r := Row{Label: m, Reference: m == results.MethodRealData, Cells: make([]Cell, len(b.cells))}
		any := false
		for i, f := range b.cells {
			c, err := f(m)
			if err != nil {
				return nil, err
			}
			r.Cells[i] = c
			any = any || c.Kind != CellNA
		}
		if any {
			b.t.Rows = append(b.t.Rows, r)
		}
	}
	b.t.MarkBest()
	return b.t, nil
}

// fmtNum formats v with d decimals; negative zero prints as zero.
func fmtNum(v float64, d int) string { return table.Num(v, d) }

// BuildTables lays out the paper's tables from results documents:
//
//   - "quality_diversity" (the paper's Table 1): per dataset, Quality (% of
//     judgments preferring the method over the reference, MUNIT, whose own
//     row is 50% by construction) and Diversity (mean LPIPS distance);
//   - "scores" (the paper's Table 2): per dataset, CIS and IS;
//   - "distances": per dataset, FID and KID.
//
// A table with no column is left out; a method with no value in a table has
// no row there; a missing value prints as N/A. Documents for the same
// method and dataset are merged; the same metric in two of them is an error.
func BuildTables(docs []*results.Document, opts TableOptions) ([]*Table, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := collect(docs)
	methods := c.sortedMethods()
	var out []*Table
	for _, f := range []func(*collection, []string, TableOptions) (*Table, error){qualityDiversity, scoresTable, distancesTable} {
		t, err := f(c, methods, opts)
		if err != nil {
			return nil, err
		}
		if t != nil {
			t.CI = opts.CI
			out = append(out, t)
		}
	}
	return out, nil
}

func (c *collection) entry(ds, m string) *entry {
	if e := c.entries[[2]string{ds, m}]; e != nil {
		return e
	}
	return &entry{method: m, dataset: ds}
}

func getDiversity(d *results.Document) *results.Diversity { return d.Metrics.LPIPSDiversity }

func qualityDiversity(c *collection, methods []string, opts TableOptions) (*Table, error) {
	b := &builder{t: &Table{Name: "quality_diversity", Title: "Quality and diversity"}}
	var notes []string
	usedDatasets := []string{}
	for _, ds := range c.datasets {
		used := false
		ref, pref, simulated, err := c.reference(ds)
		if err != nil {
			return nil, err
		}
		if ref != "" {
			used = true
			label := "Quality (%)"
			if simulated {
				label = "Quality (%, simulated)"
			}
			b.add(Column{Group: ds, Header: label, Better: +1, Decimals: 1}, func(m string) (Cell, error) {
				if m == ref {
					return Cell{Kind: CellReference, Value: 50}, nil
				}
				p, ok := pref[m]
				if !ok {
					return Cell{}, nil
				}
				ci := p.Wilson
				if opts.Pref == PrefBootstrap {
					ci = p.Bootstrap
				}
				return Cell{Kind: CellValue, Value: p.Percent, CI: &ci}, nil
			})
			notes = append(notes, preferenceNote(ds, ref, pref, simulated, opts.Pref))
		}
		// Diversity: the header names the LPIPS net and version when all
		// methods agree; otherwise values are not comparable and nothing
		// is bold.
		nets := map[string]bool{}
		for _, m := range c.methods[ds] {
			dv, err := find(c.entry(ds, m), "lpips_diversity", getDiversity)
			if err != nil {
				return nil, err
			}
			if dv != nil {
				nets[lpipsName(dv)] = true
			}
		}
		if len(nets) > 0 {
			used = true
			label, better := "Diversity (LPIPS)", +1
			if len(nets) == 1 {
				for n := range nets {
					label = "Diversity (" + n + ")"
				}
			} else {
				better = 0
				names := make([]string, 0, len(nets))
				for n := range nets {
					names = append(names, n)
				}
				sort.Strings(names)
				notes = append(notes, fmt.Sprintf("%s: diversity was measured with different LPIPS models (%s); the values are not comparable and none is marked best.", ds, strings.Join(names, ", ")))
			}
			b.add(Column{Group: ds, Header: label, Better: better, Decimals: 3}, func(m string) (Cell, error) {
				dv, err := find(c.entry(ds, m), "lpips_diversity", getDiversity)
				if err != nil || dv == nil {
					return Cell{}, err
				}
				ci := dv.CI95
				return Cell{Kind: CellValue, Value: dv.Mean, CI: &ci}, nil
			})
			notes = append(notes, diversityNotes(c, ds)...)
		}
		if used {
			usedDatasets = append(usedDatasets, ds)
		}
	}
	t, err := b.finish(methods)
	if t != nil {
		t.Notes = append([]string{notationNote(opts, "quality_diversity")}, notes...)
		attachWarnings(t, c, usedDatasets, []string{topicPreference, topicLPIPS}, func(d *results.Document) bool {
			return d.Metrics.LPIPSDiversity != nil || len(d.Metrics.Preference) > 0
		})
	}
	return t, err
}

// lpipsName is "LPIPS <net> v<version>" for a diversity result.
func lpipsName(dv *results.Diversity) string {
	net, ver := dv.LPIPSNet, dv.LPIPSVersion
	if net == "" {
		net = "net?"
	}
	if ver == "" {
		ver = "?"
	}
	return "LPIPS " + net + " v" + ver
}

func preferenceNote(ds, ref string, pref map[string]results.Preference, simulated bool, which PrefInterval) string {
	keys := make([]string, 0, len(pref))
	for k := range pref {
		keys = append(keys, k)
	}
	SortMethods(keys)
	study := func(p results.Preference) string {
		s := fmt.Sprintf("%d judgments", p.Judgments)
		if p.Questions > 0 {
			s += fmt.Sprintf(" on %d questions", p.Questions)
		}
		s += fmt.Sprintf(" by %d workers", p.Workers)
		if p.ExcludedWorkers > 0 {
			s += fmt.Sprintf(" (%d excluded by catch trials)", p.ExcludedWorkers)
		}
		return s
	}
	// One description when every baseline's study has the same size.
	same := true
	for _, k := range keys {
		same = same && study(pref[k]) == study(pref[keys[0]])
	}
	var desc string
	if same && len(keys) > 0 {
		desc = study(pref[keys[0]]) + " per baseline"
	} else {
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + " " + study(pref[k])
		}
		desc = strings.Join(parts, "; ")
	}
	ci := "Wilson interval on judgments"
	if which == PrefBootstrap {
		ci = "bootstrap interval over questions and workers"
	}
	sim := ""
	if simulated {
		sim = " Judgments come from simulated workers, not people."
	}
	return fmt.Sprintf("%s: Quality is the percentage of judgments preferring the method over %s (%s itself is 50%% by construction), with a 95%% %s; %s.%s",
		ds, ref, ref, ci, desc, sim)
}

// protocolGroups describes, for one dataset, each distinct protocol string
// produced by desc with the methods that used it.
func protocolGroups(c *collection, ds string, desc func(e *entry) (string, error)) ([]string, error) {
	var order []string
	byDesc := map[string][]string{}
	ms := append([]string(nil), c.methods[ds]...)
	SortMethods(ms)
	for _, m := range ms {
		s, err := desc(c.entry(ds, m))
		if err != nil {
			return nil, err
		}
		if s == "" {
			continue
		}
		if _, ok := byDesc[s]; !ok {
			order = append(order, s)
		}
		byDesc[s] = append(byDesc[s], m)
	}
	out := make([]string, 0, len(order))
	for _, s := range order {
		if len(order) == 1 {
			out = append(out, fmt.Sprintf("%s: %s.", ds, s))
		} else {
			out = append(out, fmt.Sprintf("%s (%s): %s.", ds, strings.Join(byDesc[s], ", "), s))
		}
	}
	return out, nil
}

func diversityNotes(c *collection, ds string) []string {
	notes, _ := protocolGroups(c, ds, func(e *entry) (string, error) {
		dv, err := find(e, "lpips_diversity", getDiversity)
		if err != nil || dv == nil {
			return "", err
		}
		var doc *results.Document
		for _, d := range e.docs {
			if d.Metrics.LPIPSDiversity != nil {
				doc = d
			}
		}
		s := fmt.Sprintf("Diversity is the mean %s distance over %d pairs", lpipsName(dv), dv.N)
		if e.method == results.MethodRealData {
			s += " of real target images"
		} else {
			s += fmt.Sprintf(" (%d inputs, %d pairs per input, %s pairing", dv.NumInputs, dv.PairsPerInput, orUnknown(dv.Pairing))
			if doc.Protocol.SamplesPerInput > 0 {
				s += fmt.Sprintf(", %d samples per input", doc.Protocol.SamplesPerInput)
			}
			s += ")"
		}
		s += fmt.Sprintf(", seed %d, 95%% expanded percentile-bootstrap interval over inputs", doc.Protocol.Seed)
		if doc.Protocol.Bootstrap > 0 {
			s += fmt.Sprintf(" (%d resamples)", doc.Protocol.Bootstrap)
		}
		return s, nil
	})
	return notes
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// notationNote explains the units of a table; the interval notation, the
// best-value marker and N/A are explained by the renderers, only when the
// table holds them.
func notationNote(opts TableOptions, table string) string {
	switch table {
	case "scores":
		if opts.Scores == ScoresNats {
			return "IS and CIS are the MUNIT paper's raw mean KL divergences in nats (higher is better); --scores exp prints exp() of them, as the official script does."
		}
		return "IS and CIS are exp() of the mean KL divergences, as the official script prints them (higher is better); --scores nats prints the paper's raw means in nats. Intervals are exp() of the intervals in nats."
	case "distances":
		return "FID and KID: lower is better; KID shows the standard deviation over subsets (sd), not an interval."
	}
	return "Quality and diversity: higher is better."
}

// Warning topics: which table a warning concerns.
const (
	topicGeneral    = ""
	topicPreference = "preference"
	topicLPIPS      = "lpips"
	topicScores     = "scores"
	topicDistances  = "distances"
)

var (
	reDistances  = regexp.MustCompile(`\b(FID|KID)\b`)
	reScores     = regexp.MustCompile(`\b(IS|CIS)\b|Inception Score|classifier|\bsplits?\b`)
	reLPIPS      = regexp.MustCompile(`LPIPS|[Dd]iversity|pairing`)
	rePreference = regexp.MustCompile(`judgments?|workers?|questions?|catch|assignments?|preference|answers?`)
)

// warningTopic says which table a warning concerns, from its words:
// FID/KID, then IS/CIS and the classifier, then LPIPS, then the preference
// study; anything else (too few inputs, say) concerns every metric of its
// document.
func warningTopic(w string) string {
	switch {
	case reDistances.MatchString(w):
		return topicDistances
	case reScores.MatchString(w):
		return topicScores
	case reLPIPS.MatchString(w):
		return topicLPIPS
	case rePreference.MatchString(w):
		return topicPreference
	}
	return topicGeneral
}

// attachWarnings puts the warnings of the documents behind t under t: a
// warning goes to t only when its topic is one of topics (or general, and
// its document contributed to t, as uses says), to the row of the method
// whose document carries it, or, for a preference study's warning that
// names a baseline ("UNIT: no judgments"), to that baseline's row; a study
// warning naming no row concerns the whole table. With several datasets
// the dataset prefixes the warning.
func attachWarnings(t *Table, c *collection, datasets []string, topics []string, uses func(*results.Document) bool) {
	row := map[string]int{}
	for i, r := range t.Rows {
		row[r.Label] = i
	}
	want := map[string]bool{topicGeneral: true}
	for _, tp := range topics {
		want[tp] = true
	}
	seen := map[string]bool{}
	add := func(ri int, w string) {
		k := fmt.Sprint(ri, "\x00", w)
		if seen[k] {
			return
		}
		seen[k] = true
		if ri < 0 {
			t.Warnings = append(t.Warnings, w)
		} else {
			t.Rows[ri].Warnings = append(t.Rows[ri].Warnings, w)
		}
	}
	for _, ds := range datasets {
		prefix := ""
		if len(datasets) > 1 {
			prefix = ds + ": "
		}
		ms := append([]string(nil), c.methods[ds]...)
		SortMethods(ms)
		for _, m := range ms {
			ri, ok := row[m]
			if !ok {
				ri = -1
			}
			for _, d := range c.entry(ds, m).docs {
				if !uses(d) {
					continue
				}
				for _, w := range docWarnings(d) {
					tp := warningTopic(w)
					if !want[tp] {
						continue
					}
					if tp == topicPreference && len(d.Metrics.Preference) > 0 {
						target := -1
						text := w
						if b, rest, ok := strings.Cut(w, ": "); ok {
							if bi, ok := row[b]; ok {
								target, text = bi, rest
							}
						}
						add(target, prefix+text)
						continue
					}
					add(ri, prefix+w)
				}
			}
		}
	}
}

// docWarnings returns a document's warnings and, first, one for each model
// whose metadata names another method than the document's (a CycleGAN*
// export evaluated under the name MUNIT): the numbers would be the other
// method's.
func docWarnings(d *results.Document) []string {
	var out []string
	roles := make([]string, 0, len(d.Models))
	for r := range d.Models {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	for _, r := range roles {
		if m := d.Models[r].Method; m != "" && d.Method != "" && m != d.Method && d.Method != results.MethodRealData {
			out = append(out, fmt.Sprintf("the %s model's metadata names the method %q, not %q", r, m, d.Method))
		}
	}
	for _, w := range d.Warnings {
		out = append(out, nameClasses(w.Detail, d.Metrics.Classes))
	}
	return out
}

// neverPredicted matches metrics' warning "classifier never predicts
// (top-1) class 3, 7 and 990 more of 1000".
var neverPredicted = regexp.MustCompile(`^(classifier never predicts \(top-1\) class )([0-9]+(?:, [0-9]+)*)(.*)$`)

// nameClasses writes the class names of the document's classifier in
// place of the indices of a never-predicted warning ("class 1 (green),
// 2 (blue)"), so that a reader of a 1,000-class table need not look them
// up; other warnings pass unchanged.
func nameClasses(w string, classes []string) string {
	m := neverPredicted.FindStringSubmatch(w)
	if m == nil || len(classes) == 0 {
		return w
	}
	idx := strings.Split(m[2], ", ")
	for i, s := range idx {
		var k int
		if _, err := fmt.Sscan(s, &k); err == nil && k >= 0 && k < len(classes) && classes[k] != "" {
			idx[i] = fmt.Sprintf("%s (%s)", s, classes[k])
		}
	}
	return m[1] + strings.Join(idx, ", ") + m[3]
}

// allWarnings lists every warning of every document once per dataset,
// with the methods whose documents carry it (the provenance section).
func allWarnings(c *collection) []string {
	var out []string
	for _, ds := range c.datasets {
		ms := append([]string(nil), c.methods[ds]...)
		SortMethods(ms)
		var order []string
		who := map[string][]string{}
		for _, m := range ms {
			for _, d := range c.entry(ds, m).docs {
				for _, w := range docWarnings(d) {
					if _, ok := who[w]; !ok {
						order = append(order, w)
					}
					if l := who[w]; len(l) == 0 || l[len(l)-1] != m {
						who[w] = append(l, m)
					}
				}
			}
		}
		for _, w := range order {
			out = append(out, fmt.Sprintf("%s (%s): %s", strings.Join(who[w], ", "), ds, w))
		}
	}
	return out
}

// scoreCell returns the IS or CIS cell of a method in the selected form.
func scoreCell(e *entry, name string, nats, exps func(*results.Document) *float64, ci func(*results.Document) *[2]float64, form ScoreForm) (Cell, error) {
	v, err := find(e, name, nats)
	if err != nil {
		return Cell{}, err
	}
	ve, err := find(e, name+"_exp", exps)
	if err != nil {
		return Cell{}, err
	}
	iv, err := find(e, name+"_ci95", ci)
	if err != nil {
		return Cell{}, err
	}
	var cell Cell
	switch {
	case form == ScoresNats && v != nil:
		cell = Cell{Kind: CellValue, Value: *v}
		if iv != nil {
			x := *iv
			cell.CI = &x
		}
	case form == ScoresExp && (ve != nil || v != nil):
		if ve != nil {
			cell = Cell{Kind: CellValue, Value: *ve}
		} else {
			cell = Cell{Kind: CellValue, Value: math.Exp(*v)}
		}
		if iv != nil {
			// A percentile interval maps through a monotone function.
			x := [2]float64{math.Exp(iv[0]), math.Exp(iv[1])}
			cell.CI = &x
		}
	}
	return cell, nil
}

func scoresTable(c *collection, methods []string, opts TableOptions) (*Table, error) {
	b := &builder{t: &Table{Name: "scores", Title: "Conditional Inception Score (CIS) and Inception Score (IS)"}}
	unit := " (nats)"
	if opts.Scores == ScoresExp {
		unit = " (exp)"
	}
	type score struct {
		name       string
		nats, exps func(*results.Document) *float64
		ci         func(*results.Document) *[2]float64
	}
	scores := []score{
		{"CIS", func(d *results.Document) *float64 { return d.Metrics.CIS }, func(d *results.Document) *float64 { return d.Metrics.CISExp }, func(d *results.Document) *[2]float64 { return d.Metrics.CISCI95 }},
		{"IS", func(d *results.Document) *float64 { return d.Metrics.IS }, func(d *results.Document) *float64 { return d.Metrics.ISExp }, func(d *results.Document) *[2]float64 { return d.Metrics.ISCI95 }},
	}
	var notes, used []string
	for _, ds := range c.datasets {
		any := false
		for _, sc := range scores {
			present := false
			for _, m := range c.methods[ds] {
				cell, err := scoreCell(c.entry(ds, m), strings.ToLower(sc.name), sc.nats, sc.exps, sc.ci, opts.Scores)
				if err != nil {
					return nil, err
				}
				present = present || cell.Kind != CellNA
			}
			if !present {
				continue
			}
			any = true
			sc, ds := sc, ds
			b.add(Column{Group: ds, Header: sc.name + unit, Better: +1, Decimals: 3}, func(m string) (Cell, error) {
				return scoreCell(c.entry(ds, m), strings.ToLower(sc.name), sc.nats, sc.exps, sc.ci, opts.Scores)
			})
		}
		if !any {
			continue
		}
		used = append(used, ds)
		n, _ := protocolGroups(c, ds, func(e *entry) (string, error) {
			for _, d := range e.docs {
				if d.Metrics.CIS == nil && d.Metrics.IS == nil && d.Metrics.CISExp == nil && d.Metrics.ISExp == nil {
					continue
				}
				ni, k := d.Protocol.NumInputs, d.Protocol.SamplesPerInput
				if d.Metrics.NumInputs != nil {
					ni = *d.Metrics.NumInputs
				}
				if d.Metrics.SamplesPerInput != nil {
					k = *d.Metrics.SamplesPerInput
				}
				s := fmt.Sprintf("IS/CIS over %d inputs × %d samples per input, seed %d", ni, k, d.Protocol.Seed)
				if d.Metrics.CISCI95 != nil || d.Metrics.ISCI95 != nil {
					if d.Metrics.IntervalMethods[results.KeyCIS] == results.IntervalJackknifeT || d.Metrics.IntervalMethods[results.KeyIS] == results.IntervalJackknifeT {
						s += ", 95% jackknife intervals for the population values: centred on the bias-corrected estimates, they may exclude the plug-in values shown (the paper's)"
					} else {
						s += ", 95% bootstrap interval over inputs"
						if d.Protocol.Bootstrap > 0 {
							s += fmt.Sprintf(" (%d resamples)", d.Protocol.Bootstrap)
						}
					}
				}
				if ref, ok := d.Models[results.ModelClassifier]; ok && len(ref.Classes) > 0 {
					s += fmt.Sprintf(", classifier with %d classes", len(ref.Classes))
				}
				return s, nil
			}
			return "", nil
		})
		notes = append(notes, n...)
	}
	t, err := b.finish(methods)
	if t != nil {
		t.Notes = append([]string{notationNote(opts, "scores")}, notes...)
		attachWarnings(t, c, used, []string{topicScores}, func(d *results.Document) bool {
			return d.Metrics.IS != nil || d.Metrics.CIS != nil || d.Metrics.ISExp != nil || d.Metrics.CISExp != nil
		})
	}
	return t, err
}

func distancesTable(c *collection, methods []string, opts TableOptions) (*Table, error) {
	b := &builder{t: &Table{Name: "distances", Title: "Fréchet Inception Distance (FID) and Kernel Inception Distance (KID)"}}
	getFID := func(d *results.Document) *results.FID { return d.Metrics.FID }
	getKID := func(d *results.Document) *results.KID { return d.Metrics.KID }
	var notes, used []string
	for _, ds := range c.datasets {
		hasF, hasK := false, false
		for _, m := range c.methods[ds] {
			f, err := find(c.entry(ds, m), "fid", getFID)
			if err != nil {
				return nil, err
			}
			k, err := find(c.entry(ds, m), "kid", getKID)
			if err != nil {
				return nil, err
			}
			hasF, hasK = hasF || f != nil, hasK || k != nil
		}
		ds := ds
		if hasF {
			b.add(Column{Group: ds, Header: "FID", Better: -1, Decimals: 2}, func(m string) (Cell, error) {
				f, err := find(c.entry(ds, m), "fid", getFID)
				if err != nil || f == nil {
					return Cell{}, err
				}
				cell := Cell{Kind: CellValue, Value: f.Value}
				if f.CI95 != nil {
					x := *f.CI95
					cell.CI = &x
				}
				return cell, nil
			})
		}
		if hasK {
			b.add(Column{Group: ds, Header: "KID", Better: -1, Decimals: 4}, func(m string) (Cell, error) {
				k, err := find(c.entry(ds, m), "kid", getKID)
				if err != nil || k == nil {
					return Cell{}, err
				}
				sd := k.Std
				return Cell{Kind: CellValue, Value: k.Mean, SD: &sd}, nil
			})
		}
		if !hasF && !hasK {
			continue
		}
		used = append(used, ds)
		n, _ := protocolGroups(c, ds, func(e *entry) (string, error) {
			for _, d := range e.docs {
				f, k := d.Metrics.FID, d.Metrics.KID
				if f == nil && k == nil {
					continue
				}
				var parts []string
				if f != nil {
					fs := fmt.Sprintf("FID between %d samples and %d real images (%d features)", f.NumSamples, f.NumReal, f.FeatureDim)
					if f.CI95 != nil && d.Metrics.IntervalMethods[results.KeyFID] == results.IntervalJackknifeT {
						fs += " with a 95% jackknife interval for the population FID (centred on the bias-corrected estimate, so it may exclude the plug-in value shown)"
					}
					parts = append(parts, fs)
				}
				if k != nil {
					parts = append(parts, fmt.Sprintf("KID over %d subsets of %d", k.Subsets, k.SubsetSize))
				}
				return strings.Join(parts, ", ") + fmt.Sprintf(", seed %d", d.Protocol.Seed), nil
			}
			return "", nil
		})
		notes = append(notes, n...)
	}
	t, err := b.finish(methods)
	if t != nil {
		t.Notes = append([]string{notationNote(opts, "distances")}, notes...)
		attachWarnings(t, c, used, []string{topicDistances}, func(d *results.Document) bool {
			return d.Metrics.FID != nil || d.Metrics.KID != nil
		})
	}
	return t, err
}
