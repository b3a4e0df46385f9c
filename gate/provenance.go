package gate

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/warning"
)

// modelChanges warns about every model whose SHA-256 differs between the
// baseline and the new document (the generator too, not only the models
// that score the metrics: the numbers may have moved because the model
// did), about a model recorded in only one of them, and about a model of
// the new document whose metadata names another method.
func (c *comparer) modelChanges(base, new *results.Document) {
	roles := map[string]bool{}
	for r := range base.Models {
		roles[r] = true
	}
	for r := range new.Models {
		roles[r] = true
	}
	sorted := make([]string, 0, len(roles))
	for r := range roles {
		sorted = append(sorted, r)
	}
	sort.Strings(sorted)
	for _, r := range sorted {
		b, okb := base.Models[r]
		n, okn := new.Models[r]
		switch {
		case okb && okn && b.SHA256 != n.SHA256:
			c.warn(CodeModelChanged, warning.SubjectModels, "the %s model changed: sha256 %s (%s) in the baseline, %s (%s) in the results", r, shortOrNone(b.SHA256), filepath.Base(b.File), shortOrNone(n.SHA256), filepath.Base(n.File))
		case okb && !okn:
			c.warn(CodeModelChanged, warning.SubjectModels, "the %s model (%s) is recorded in the baseline only", r, filepath.Base(b.File))
		case okn && !okb:
			c.warn(CodeModelChanged, warning.SubjectModels, "the %s model (%s) is recorded in the results only", r, filepath.Base(n.File))
		}
	}
	for _, r := range sorted {
		if m := new.Models[r].Method; m != "" && m != new.Method {
			c.warn(CodeMethodMismatch, warning.SubjectModels, "the %s model's metadata names the method %q, not %q", r, m, new.Method)
		}
	}
}

// mismatchError is check's short form of the gate's protocol
// mismatches: each difference once (num_inputs is recorded in the protocol,
// the LPIPS result and the metrics: one line says it), and pairs with the
// same differences named together. It wraps the gate's error.
type mismatchError struct {
	msg string
	err error
}

func (e *mismatchError) Error() string { return e.msg }
func (e *mismatchError) Unwrap() error { return e.err }

// ConciseMismatch rewrites an error holding *MismatchError's into a
// mismatchError; other errors pass through.
func ConciseMismatch(err error) error {
	var ms []*MismatchError
	var walk func(error)
	walk = func(e error) {
		var m *MismatchError
		if errors.As(e, &m) && m == e {
			ms = append(ms, m)
			return
		}
		if u, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range u.Unwrap() {
				walk(x)
			}
			return
		}
		if x := errors.Unwrap(e); x != nil {
			walk(x)
		}
	}
	walk(err)
	if len(ms) == 0 {
		return err
	}
	var order []string
	pairs := map[string][]string{}
	for _, m := range ms {
		d := strings.Join(dedupDiffs(m.Diffs), "; ")
		if _, ok := pairs[d]; !ok {
			order = append(order, d)
		}
		pairs[d] = append(pairs[d], m.New)
	}
	parts := make([]string, len(order))
	for i, d := range order {
		files := pairs[d]
		if len(files) > 3 {
			files = append(files[:3:3], fmt.Sprintf("%d more", len(pairs[d])-3))
		}
		parts[i] = fmt.Sprintf("%s (%s)", d, strings.Join(files, ", "))
	}
	what := "the results are not comparable with the baseline"
	return &mismatchError{msg: what + ": " + strings.Join(parts, "; "), err: err}
}

// dedupDiffs keeps one of the differences that name the same field (the
// part after the last dot: num_inputs, lpips_diversity.num_inputs and
// metrics.num_inputs) with the same values.
func dedupDiffs(diffs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range diffs {
		name, vals, ok := strings.Cut(d, ": ")
		if !ok {
			out = append(out, d)
			continue
		}
		if i := strings.LastIndex(name, "."); i >= 0 {
			name = name[i+1:]
		}
		k := name + "\x00" + vals
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, name+": "+vals)
	}
	return out
}

// shortOrNone is the first 12 hex digits of a SHA-256, "(none)" when empty.
func shortOrNone(h string) string {
	if h == "" {
		return "(none)"
	}
	return short(h)
}
