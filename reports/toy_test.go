package reports

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/gate"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/table"
	"github.com/munit-eval/munit-eval/warning"
)

// toy is the fragment of a metric that results.Metrics has no field for:
// a value with its standard error over n units.
type toy struct {
	Value  float64 `json:"value"`
	StdErr float64 `json:"stderr"`
	N      int     `json:"n"`
}

func toyOf(d *results.Document) (toy, bool) {
	var r toy
	ok, err := d.Metrics.GetExtra("toy", &r)
	return r, ok && err == nil
}

// registerToy registers the toy metric: stored in the generic fragment,
// one column in a table of its own, one compared quantity.
func registerToy(t *testing.T) {
	t.Helper()
	registry.Register(&registry.Entry{
		Key: "toy", Title: "toy metric", Needs: registry.NeedFeatures, Extra: (*toy)(nil),
		Compute: func(in *registry.Inputs, m *results.Metrics) ([]warning.Warning, error) {
			return nil, m.SetExtra("toy", toy{Value: float64(len(in.Features)), StdErr: 1, N: 30})
		},
		Table: &registry.Table{Name: "toy", Title: "The toy table", Note: func(registry.View) string { return "Toy: higher is better." }},
		Columns: []registry.Column{{Header: "Toyness", Better: +1, Decimals: 3, Cell: func(d *results.Document, _ registry.View) table.Cell {
			r, ok := toyOf(d)
			if !ok {
				return table.Cell{}
			}
			return table.Value(r.Value, &[2]float64{r.Value - 2*r.StdErr, r.Value + 2*r.StdErr})
		}}},
		Protocol: func(d *results.Document) string { r, _ := toyOf(d); return fmt.Sprintf("toyness over %d units", r.N) },
		Details: []registry.Detail{{Header: "toyness", Text: func(d *results.Document) string {
			r, _ := toyOf(d)
			return fmt.Sprintf("%.4f", r.Value)
		}}},
		Compare: []registry.Quantity{{Name: "toy", Better: +1, By: registry.ByStdErr, Get: func(d *results.Document) (registry.Value, bool) {
			r, ok := toyOf(d)
			return registry.Value{V: r.Value, StdErr: r.StdErr, Groups: r.N}, ok
		}}},
	})
	t.Cleanup(func() { registry.Unregister("toy") })
}

// toyDoc is a document of method carrying toyness v, written and read
// back as a file would be.
func toyDoc(t *testing.T, method string, v float64) *results.Document {
	t.Helper()
	d := doc(method, "toyland")
	if err := d.Metrics.SetExtra("toy", toy{Value: v, StdErr: 0.1, N: 30}); err != nil {
		t.Fatal(err)
	}
	b, err := results.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	back, err := results.Parse(method+".json", b)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// TestToyMetric registers a metric no reader knows and finds it
// everywhere: computed into the generic fragment, in the terminal,
// Markdown, LaTeX and HTML tables with its warning, in the metric
// commands' table, and in check, which flags a move beyond its
// uncertainty and not one within it, and misses it when a run drops it.
func TestToyMetric(t *testing.T) {
	registerToy(t)
	var m results.Metrics
	if _, err := registry.Lookup("toy").Compute(&registry.Inputs{Features: make([][]float64, 7)}, &m); err != nil {
		t.Fatal(err)
	}
	if r, ok := toyOf(&results.Document{Metrics: m}); !ok || r.Value != 7 {
		t.Fatalf("computed toy %+v (%v)", r, ok)
	}

	munit, cyc := toyDoc(t, "MUNIT", 0.5), toyDoc(t, "CycleGAN", 0.25)
	munit.Warn(warning.New("toy-few", "toy", "toyness from few units"))
	tables, err := BuildTables([]*results.Document{munit, cyc}, TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	toyTable := tableNamed(t, tables, "toy")
	if c := cellOf(t, toyTable, "MUNIT", "toyland", "Toyness"); !c.Best || c.Value != 0.5 {
		t.Errorf("MUNIT's toy cell %+v, want 0.5 marked best", c)
	}
	var txt, md, tex, html bytes.Buffer
	if err := WriteText(&txt, tables, BoldStar); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, tables); err != nil {
		t.Fatal(err)
	}
	if err := WriteLaTeX(&tex, tables); err != nil {
		t.Fatal(err)
	}
	if err := toyTable.HTML(&html); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"terminal": txt.String(), "markdown": md.String(), "latex": tex.String(), "html": html.String()} {
		for _, want := range []string{"The toy table", "Toyness", "0.500", "0.250", "toyness over 30 units", "toyness from few units"} {
			if name == "html" && want == "The toy table" {
				continue // the page puts the title above the fragment
			}
			if !strings.Contains(out, want) {
				t.Errorf("%s tables lack %q:\n%s", name, want, out)
			}
		}
	}
	var cli bytes.Buffer
	for _, tb := range MetricTables([]*results.Document{munit}) {
		if err := tb.Text(&cli, table.TextOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(cli.String(), "toyness") || !strings.Contains(cli.String(), "0.5000") {
		t.Errorf("metric command's table:\n%s", cli.String())
	}

	for _, tc := range []struct {
		name    string
		new     float64
		verdict gate.Verdict
	}{
		{"moved beyond its uncertainty", 0.0, gate.Regressed},
		{"moved within it", 0.45, gate.Unchanged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := &gate.Set{Pairs: []gate.Pair{{Base: gate.Doc{Path: "base.json", Doc: munit}, New: gate.Doc{Path: "new.json", Doc: toyDoc(t, "MUNIT", tc.new)}}}}
			rep, err := gate.Check(set, gate.DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := gate.WriteTable(&out, rep); err != nil {
				t.Fatal(err)
			}
			cmps := rep.Groups[0].Metrics
			if len(cmps) != 1 || cmps[0].Metric != "toy" || cmps[0].Verdict != tc.verdict || !strings.Contains(out.String(), "toy") {
				t.Errorf("comparisons %+v, want toy %s:\n%s", cmps, tc.verdict, out.String())
			}
		})
	}
	dropped := doc("MUNIT", "toyland")
	_, err = gate.Check(&gate.Set{Pairs: []gate.Pair{{Base: gate.Doc{Path: "base.json", Doc: munit}, New: gate.Doc{Path: "new.json", Doc: dropped}}}}, gate.DefaultOptions())
	var missing *gate.MissingError
	if !errors.As(err, &missing) || missing.Missing[0].Metric != "toy" {
		t.Errorf("toy dropped by the new run: error %v, want it missing", err)
	}
}
