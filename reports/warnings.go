package reports

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/warning"
)

// CodeMethodMismatch is the code of the warning a report adds for a model
// whose metadata names another method than its document's.
const CodeMethodMismatch = "method-mismatch"

// homes returns the tables a warning of d goes under, by its subject:
// a metric's key goes under that metric's table; preference under the
// study table; anything else (samples, models, run, a metric whose table
// d has no value in, or no subject at all: a v1 document's text) under
// every table d contributes a value to. built are the tables being shown.
func homes(w warning.Warning, d *results.Document, built []*tableSpec, v registry.View) []*tableSpec {
	for _, s := range built {
		if slices.Contains(s.keys(), w.Subject) && s.uses(d, v) {
			return []*tableSpec{s}
		}
	}
	var out []*tableSpec
	for _, s := range built {
		if s.uses(d, v) {
			out = append(out, s)
		}
	}
	return out
}

// attachWarnings puts under t (built from spec s) the warnings of the
// documents whose home it is (see homes): on the row of the method whose
// document carries it, or, for a preference study's warning that names a
// baseline ("UNIT: no judgments"), on that baseline's row; a study warning
// naming no row concerns the whole table. With several datasets the
// dataset prefixes the warning.
func attachWarnings(t *Table, c *collection, s *tableSpec, built []*tableSpec, v registry.View) {
	row := map[string]int{}
	for i, r := range t.Rows {
		row[r.Label] = i
	}
	var datasets []string
	for _, col := range t.Columns {
		if !slices.Contains(datasets, col.Group) {
			datasets = append(datasets, col.Group)
		}
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
		for _, m := range c.sortedMethodsOf(ds) {
			ri, ok := row[m]
			if !ok {
				ri = -1
			}
			for _, d := range c.eval(ds, m).docs {
				if !s.uses(d, v) {
					continue
				}
				for _, w := range docWarnings(d) {
					if !slices.Contains(homes(w, d, built, v), s) {
						continue
					}
					if s.study && w.Subject == warning.SubjectPreference && len(d.Metrics.Preference) > 0 {
						// The study's warnings name the baseline they
						// concern first, as a row label.
						target, text := -1, w.Detail
						if b, rest, ok := strings.Cut(w.Detail, ": "); ok {
							if bi, ok := row[b]; ok {
								target, text = bi, rest
							}
						}
						add(target, prefix+text)
						continue
					}
					add(ri, prefix+w.Detail)
				}
			}
		}
	}
}

// docWarnings returns a document's warnings as a reader sees them: first
// one for each model whose metadata names another method than the
// document's (a CycleGAN* export evaluated under the name MUNIT: the
// numbers would be the other method's), then the document's own, a
// never-predicted warning naming its classes from the document's class
// list when its detail gives only indices.
func docWarnings(d *results.Document) []warning.Warning {
	var out []warning.Warning
	roles := make([]string, 0, len(d.Models))
	for r := range d.Models {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	for _, r := range roles {
		if m := d.Models[r].Method; m != "" && d.Method != "" && m != d.Method && d.Method != results.MethodRealData {
			out = append(out, warning.New(CodeMethodMismatch, warning.SubjectModels, "the %s model's metadata names the method %q, not %q", r, m, d.Method))
		}
	}
	for _, w := range d.Warnings {
		if cl := d.Metrics.Classes; w.Code == metrics.CodeNeverPredicted && len(w.Classes) > 0 && len(cl) > 0 {
			w.Detail = metrics.NeverPredicted(w.Classes, len(cl), cl).Detail
		}
		out = append(out, w)
	}
	return out
}

// StudyName names a preference study where the report lists warnings.
const StudyName = "AMT study"

// allWarnings lists every warning of every document once per dataset,
// with the methods whose documents carry it (the provenance section).
func allWarnings(c *collection) []string {
	var out []string
	for _, ds := range c.datasets {
		var order []string
		who := map[string][]string{}
		for _, m := range c.sortedMethodsOf(ds) {
			for _, d := range c.eval(ds, m).docs {
				for _, w := range docWarnings(d) {
					if _, ok := who[w.Detail]; !ok {
						order = append(order, w.Detail)
					}
					// A preference study's warning is the study's, not
					// that of the reference method whose document holds it.
					by := m
					if w.Subject == warning.SubjectPreference && len(d.Metrics.Preference) > 0 {
						by = StudyName
					}
					if l := who[w.Detail]; len(l) == 0 || l[len(l)-1] != by {
						who[w.Detail] = append(l, by)
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
