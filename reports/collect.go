package reports

import (
	"fmt"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
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

// evaluation is everything known about one (method, dataset): the
// documents that describe it, in input order.
type evaluation struct {
	method, dataset string
	docs            []*results.Document
}

// collection indexes documents by dataset and method.
type collection struct {
	datasets []string // order of first appearance
	evals    map[[2]string]*evaluation
	methods  map[string][]string // dataset -> methods seen (documents or preference keys)
}

func datasetOf(d *results.Document) string {
	if d.Dataset == "" {
		return results.DefaultDatasetName
	}
	return d.Dataset
}

func collect(docs []*results.Document) *collection {
	c := &collection{evals: map[[2]string]*evaluation{}, methods: map[string][]string{}}
	add := func(ds, m string) *evaluation {
		k := [2]string{ds, m}
		e := c.evals[k]
		if e == nil {
			e = &evaluation{method: m, dataset: ds}
			c.evals[k] = e
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
	// Baselines named only in a preference map get an (empty) evaluation
	// so that they have a row.
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

func (c *collection) eval(ds, m string) *evaluation {
	if e := c.evals[[2]string{ds, m}]; e != nil {
		return e
	}
	return &evaluation{method: m, dataset: ds}
}

// doc returns the one document of (ds, m) that carries the metric of e,
// nil when none does. Two documents holding the same metric for the same
// method and dataset are an error: the report cannot know which is right.
func (c *collection) doc(ds, m string, e *registry.Entry) (*results.Document, error) {
	var got *results.Document
	for _, d := range c.eval(ds, m).docs {
		if e.Present(&d.Metrics) {
			if got != nil {
				return nil, fmt.Errorf("reports: %s on %s: %s appears in two results documents", m, ds, e.Key)
			}
			got = d
		}
	}
	return got, nil
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

// sortedMethodsOf returns the methods of one dataset in the paper's order.
func (c *collection) sortedMethodsOf(ds string) []string {
	ms := append([]string(nil), c.methods[ds]...)
	SortMethods(ms)
	return ms
}

// reference returns the method whose document holds the preference study
// of a dataset and that study, or "" when the dataset has none.
func (c *collection) reference(ds string) (string, map[string]results.Preference, bool, error) {
	ref := ""
	var pref map[string]results.Preference
	simulated := false
	for _, m := range c.methods[ds] {
		for _, d := range c.eval(ds, m).docs {
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
