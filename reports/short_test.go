package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/warning"
)

// TestShortIntervalMarked: a document warned that its CIS/IS intervals
// may cover less than 95% (too few samples per input for its classes) gets
// its intervals marked "(w)" in every format, with the notation line; the
// other documents' intervals are not marked.
func TestShortIntervalMarked(t *testing.T) {
	docs := paperDocs()
	var marked string
	for _, d := range docs {
		if d.Metrics.CIS != nil && d.Metrics.CISCI95 != nil {
			d.Warn(warning.New(metrics.CodeUndersampled, "is", "K = 10 samples per input miss an estimated 40%% of each input's class distribution"))
			marked = d.Method
			break
		}
	}
	if marked == "" {
		t.Fatal("no fixture document with a CIS interval")
	}
	tables, err := BuildTables(docs, TableOptions{AllowMixed: true})
	if err != nil {
		t.Fatal(err)
	}
	s := tableNamed(t, tables, "scores")
	for _, r := range s.Rows {
		for _, c := range r.Cells {
			if c.Short != (r.Label == marked && c.CI != nil) {
				t.Errorf("%s: cell %+v marked %v", r.Label, c, c.Short)
			}
		}
	}
	var md, tex, html bytes.Buffer
	if err := s.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := s.LaTeX(&tex); err != nil {
		t.Fatal(err)
	}
	if err := s.HTML(&html); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"markdown": md.String(), "latex": tex.String(), "html": html.String()} {
		if !strings.Contains(out, "(w)") || !strings.Contains(out, "may cover less than 95") {
			t.Errorf("%s: no (w) mark or its note:\n%s", name, out)
		}
	}
}
