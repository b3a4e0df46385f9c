package registry

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/results"
)

// TestEntriesComplete: every registered metric is shown and compared, so
// that a new metric cannot be half-added: a table with a name, title and
// note, at least one column with a cell, a protocol note, detail columns
// for the metric commands, and at least one compared quantity with a
// direction and a getter; quantity names are unique and a follower follows
// a quantity of its own entry; entries sharing a table share its title.
func TestEntriesComplete(t *testing.T) {
	names := map[string]string{}
	tables := map[string]*Table{}
	for _, e := range All() {
		if e.Table == nil || e.Table.Name == "" || e.Table.Title == "" || e.Table.Note == nil {
			t.Errorf("%s: no table, or one without name, title or note", e.Key)
		} else if prev, ok := tables[e.Table.Name]; ok && prev.Title != e.Table.Title {
			t.Errorf("%s: table %s titled %q and %q", e.Key, e.Table.Name, prev.Title, e.Table.Title)
		} else {
			tables[e.Table.Name] = e.Table
		}
		if e.Title == "" || e.Protocol == nil || len(e.Details) == 0 {
			t.Errorf("%s: no title, protocol note or detail columns", e.Key)
		}
		if len(e.Columns) == 0 {
			t.Errorf("%s: no column in the report's tables", e.Key)
		}
		for _, c := range e.Columns {
			if c.Header == "" || c.Cell == nil || c.Better < -1 || c.Better > 1 {
				t.Errorf("%s: column %+v without header or cell, or with a bad direction", e.Key, c)
			}
		}
		if len(e.Compare) == 0 {
			t.Errorf("%s: nothing for check to compare", e.Key)
		}
		own := map[string]bool{}
		for _, q := range e.Compare {
			own[q.Name] = true
			if q.Name == "" || q.Get == nil || (q.Better != 1 && q.Better != -1) {
				t.Errorf("%s: quantity %q without name, getter or direction", e.Key, q.Name)
			}
			if q.By == BySamples && q.Samples == "" {
				t.Errorf("%s: quantity %s compares samples it does not name", e.Key, q.Name)
			}
			if prev, dup := names[q.Name]; dup || q.Name == results.KeyPreference {
				t.Errorf("%s: quantity %s also belongs to %q", e.Key, q.Name, prev)
			}
			names[q.Name] = e.Key
		}
		for _, q := range e.Compare {
			if q.Follows != "" && !own[q.Follows] {
				t.Errorf("%s: %s follows %s, not a quantity of its entry", e.Key, q.Name, q.Follows)
			}
		}
		// Nothing reads an absent metric: an empty document has no cell,
		// detail or quantity of any entry.
		d := results.New("M", "D")
		for _, c := range e.Columns {
			if c.Cell(d, View{}).Kind != 0 {
				t.Errorf("%s: a cell of %s in an empty document", e.Key, c.Header)
			}
		}
		for _, q := range e.Compare {
			if _, ok := q.Get(d); ok {
				t.Errorf("%s: %s in an empty document", e.Key, q.Name)
			}
		}
	}
}

// TestMetricIndex keeps docs/metrics.md's metric index equal to the
// registry's (Index); run with MUNIT_EVAL_UPDATE_INDEX=1 to rewrite it.
func TestMetricIndex(t *testing.T) {
	path := filepath.Join("..", "docs", "metrics.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- metric index: generated from the registry -->\n", "<!-- end of the metric index -->\n"
	page := string(b)
	i, j := strings.Index(page, begin), strings.Index(page, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no metric index between %q and %q", path, begin, end)
	}
	got, want := page[i+len(begin):j], Index()
	if got == want {
		return
	}
	if os.Getenv("MUNIT_EVAL_UPDATE_INDEX") != "" {
		if err := os.WriteFile(path, []byte(page[:i+len(begin)]+want+page[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s's metric index is not the registry's; want:\n%s", path, want)
}

func TestClassSharesFew(t *testing.T) {
	got := ClassShares([]string{"cat", "dog"}, []float64{0.25, 0.75}, 10)
	if want := "samples per class (argmax): cat 25.0%, dog 75.0%"; len(got) != 1 || got[0] != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
