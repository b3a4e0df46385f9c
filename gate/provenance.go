package gate

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// AddModelChanges adds to each group a warning for every model whose SHA-256
// differs between the baseline and the new document (the generator too,
// not only the evaluators the gate itself looks at), unless the group
// already warns about that model, one for a model recorded in only one of
// them, and one for a model of the new document whose metadata names
// another method.
func AddModelChanges(set *Set, rep *Report) {
	for i, p := range set.Pairs {
		if i >= len(rep.Groups) {
			return
		}
		g := &rep.Groups[i]
		roles := map[string]bool{}
		for r := range p.Base.Doc.Models {
			roles[r] = true
		}
		for r := range p.New.Doc.Models {
			roles[r] = true
		}
		sorted := make([]string, 0, len(roles))
		for r := range roles {
			sorted = append(sorted, r)
		}
		sort.Strings(sorted)
		for _, r := range sorted {
			b, okb := p.Base.Doc.Models[r]
			n, okn := p.New.Doc.Models[r]
			var msg string
			switch {
			case okb && okn && b.SHA256 != n.SHA256:
				msg = fmt.Sprintf("the %s model changed: sha256 %s (%s) in the baseline, %s (%s) in the results", r, shortOrNone(b.SHA256), filepath.Base(b.File), shortOrNone(n.SHA256), filepath.Base(n.File))
			case okb && !okn:
				msg = fmt.Sprintf("the %s model (%s) is recorded in the baseline only", r, filepath.Base(b.File))
			case okn && !okb:
				msg = fmt.Sprintf("the %s model (%s) is recorded in the results only", r, filepath.Base(n.File))
			default:
				continue
			}
			dup := false
			for _, w := range g.Warnings {
				dup = dup || strings.Contains(w, "the "+r+" model")
			}
			if !dup {
				g.Warnings = append(g.Warnings, msg)
			}
		}
		for _, r := range sorted {
			if m := p.New.Doc.Models[r].Method; m != "" && m != p.New.Doc.Method {
				g.Warnings = append(g.Warnings, fmt.Sprintf("the %s model's metadata names the method %q, not %q", r, m, p.New.Doc.Method))
			}
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
