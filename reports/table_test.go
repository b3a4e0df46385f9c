package reports

import (
	"bytes"
	"flag"
	"github.com/munit-eval/munit-eval/warning"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/results"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func mathExp(x float64) float64 { return math.Exp(x) }

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

func TestGoldenTables(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts TableOptions
	}{
		{"pm", TableOptions{}},
		{"brackets", TableOptions{CI: CIBrackets, Scores: ScoresExp, Pref: PrefBootstrap}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tables, err := BuildTables(paperDocs(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var md, tex, txt bytes.Buffer
			if err := WriteMarkdown(&md, tables); err != nil {
				t.Fatal(err)
			}
			if err := WriteLaTeX(&tex, tables); err != nil {
				t.Fatal(err)
			}
			if err := WriteText(&txt, tables, BoldStar); err != nil {
				t.Fatal(err)
			}
			golden(t, "tables_"+tc.name+".md.golden", md.Bytes())
			golden(t, "tables_"+tc.name+".tex.golden", tex.Bytes())
			golden(t, "tables_"+tc.name+".txt.golden", txt.Bytes())
		})
	}
}

// cellOf returns the cell of method in the column (dataset, metric prefix).
func cellOf(t *testing.T, tb *Table, method, dataset, metric string) Cell {
	t.Helper()
	for j, c := range tb.Columns {
		if c.Group != dataset || !strings.HasPrefix(c.Header, metric) {
			continue
		}
		for _, r := range tb.Rows {
			if r.Label == method {
				return r.Cells[j]
			}
		}
		t.Fatalf("table %s: no row %s", tb.Name, method)
	}
	t.Fatalf("table %s: no column %s %s", tb.Name, dataset, metric)
	return Cell{}
}

func tableNamed(t *testing.T, tables []*Table, name string) *Table {
	t.Helper()
	for _, tb := range tables {
		if tb.Name == name {
			return tb
		}
	}
	t.Fatalf("no table %s", name)
	return nil
}

func TestSortMethods(t *testing.T) {
	got := []string{"Real data", "BicycleGAN", "MUNIT", "Zeta", "MUNIT w/o L^s_recon", "CycleGAN*", "Alpha", "UNIT", "MUNIT w/o L^c_recon", "CycleGAN"}
	SortMethods(got)
	want := []string{"UNIT", "CycleGAN", "CycleGAN*", "MUNIT w/o L^c_recon", "MUNIT w/o L^s_recon", "MUNIT", "BicycleGAN", "Alpha", "Zeta", "Real data"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestBuildTablesCells(t *testing.T) {
	tables, err := BuildTables(paperDocs(), TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	qd := tableNamed(t, tables, "quality_diversity")
	var rows []string
	for _, r := range qd.Rows {
		rows = append(rows, r.Label)
	}
	if want := []string{"UNIT", "CycleGAN", "CycleGAN*", "MUNIT w/o L^x_recon", "MUNIT", "BicycleGAN", "Real data"}; !slices.Equal(rows, want) {
		t.Errorf("rows %v, want %v", rows, want)
	}
	for _, tc := range []struct {
		method, metric string
		kind           CellKind
		value          float64
		best           bool
	}{
		{"MUNIT", "Quality", CellReference, 50, false},
		{"BicycleGAN", "Quality", CellValue, 56.7, true},
		{"UNIT", "Quality", CellValue, 37.4, false},
		{"Real data", "Quality", CellNA, 0, false},
		// Real data has the highest diversity but is not a competitor.
		{"Real data", "Diversity", CellValue, 0.293, false},
		{"MUNIT w/o L^x_recon", "Diversity", CellValue, 0.213, true},
		{"MUNIT", "Diversity", CellValue, 0.109, false},
	} {
		c := cellOf(t, qd, tc.method, "edges2shoes", tc.metric)
		if c.Kind != tc.kind || c.Best != tc.best || math.Abs(c.Value-tc.value) > 1e-12 {
			t.Errorf("%s %s: %+v, want kind %d value %g best %v", tc.method, tc.metric, c, tc.kind, tc.value, tc.best)
		}
	}
	if h := qd.Columns[1].Header; h != "Diversity (LPIPS alex v0.1)" {
		t.Errorf("diversity header %q", h)
	}
	// FID: lower is better; KID absent for CycleGAN prints N/A.
	dist := tableNamed(t, tables, "distances")
	if c := cellOf(t, dist, "MUNIT", "cat2dog-fid", "FID"); !c.Best {
		t.Error("MUNIT's FID 21.46 < 35.2 is not marked best")
	}
	if c := cellOf(t, dist, "CycleGAN", "cat2dog-fid", "KID"); c.Kind != CellNA {
		t.Errorf("CycleGAN KID: %+v, want N/A", c)
	}
}

func TestScoreForms(t *testing.T) {
	for _, form := range []ScoreForm{ScoresNats, ScoresExp} {
		tables, err := BuildTables(paperDocs(), TableOptions{Scores: form})
		if err != nil {
			t.Fatal(err)
		}
		sc := tableNamed(t, tables, "scores")
		c := cellOf(t, sc, "CycleGAN", "cat2dog", "CIS")
		// The fixture's CycleGAN CIS is 0.078 nats with interval [0.058, 0.108].
		want, lo, hi := 0.078, 0.058, 0.108
		if form == ScoresExp {
			want, lo, hi = math.Exp(want), math.Exp(lo), math.Exp(hi)
		}
		if math.Abs(c.Value-want) > 1e-12 || c.CI == nil || math.Abs(c.CI[0]-lo) > 1e-12 || math.Abs(c.CI[1]-hi) > 1e-12 {
			t.Errorf("%s: CIS cell %+v, want %g [%g, %g]", form, c, want, lo, hi)
		}
		if !strings.Contains(sc.Columns[0].Header, "("+string(form)+")") {
			t.Errorf("%s: header %q does not name the form", form, sc.Columns[0].Header)
		}
	}
}

func TestBuildTablesSpecialCases(t *testing.T) {
	t.Run("simulated", func(t *testing.T) {
		docs := paperDocs()
		p := docs[2].Metrics.Preference["UNIT"]
		p.Simulated = true
		docs[2].Metrics.Preference["UNIT"] = p
		tables, err := BuildTables(docs, TableOptions{})
		if err != nil {
			t.Fatal(err)
		}
		qd := tableNamed(t, tables, "quality_diversity")
		if qd.Columns[0].Header != "Quality (%, simulated)" || !strings.Contains(strings.Join(qd.Notes, " "), "simulated workers") {
			t.Errorf("simulated preference not labelled: %q", qd.Columns[0].Header)
		}
	})
	t.Run("mixed lpips", func(t *testing.T) {
		docs := paperDocs()
		docs[1].Metrics.LPIPSDiversity.LPIPSVersion = "0.0"
		tables, err := BuildTables(docs, TableOptions{})
		if err != nil {
			t.Fatal(err)
		}
		qd := tableNamed(t, tables, "quality_diversity")
		if qd.Columns[1].Header != "Diversity (LPIPS)" || qd.Columns[1].Better != 0 {
			t.Errorf("mixed LPIPS versions: column %+v", qd.Columns[1])
		}
		for _, r := range qd.Rows {
			if r.Cells[1].Best {
				t.Errorf("%s marked best although LPIPS models differ", r.Label)
			}
		}
	})
	t.Run("shared warning", func(t *testing.T) {
		docs := paperDocs()
		for _, d := range docs[:3] {
			d.Warnings = append(d.Warnings, warning.Warning{Code: "synthetic", Subject: "lpips", Detail: "the LPIPS model is synthetic"})
		}
		tables, err := BuildTables(docs, TableOptions{})
		if err != nil {
			t.Fatal(err)
		}
		qd := tableNamed(t, tables, "quality_diversity")
		var got []string
		for _, r := range qd.Rows {
			for _, w := range r.Warnings {
				if !strings.Contains(w, "synthetic") {
					continue
				}
				got = append(got, r.Label+": "+w)
			}
		}
		want := []string{"MUNIT w/o L^x_recon: the LPIPS model is synthetic", "MUNIT: the LPIPS model is synthetic", "BicycleGAN: the LPIPS model is synthetic"}
		if !slices.Equal(got, want) {
			t.Errorf("row warnings %q, want %q", got, want)
		}
	})
	t.Run("deterministic row in scores", func(t *testing.T) {
		docs := paperDocs()
		d := doc("CycleGAN*", "cat2dog")
		d.Metrics.IS = results.Float(0.5)
		docs = append(docs, d)
		tables, err := BuildTables(docs, TableOptions{AllowMixed: true}) // the fixture's K differs
		if err != nil {
			t.Fatal(err)
		}
		if c := cellOf(t, tableNamed(t, tables, "scores"), "CycleGAN*", "cat2dog", "CIS"); c.Kind != CellNA {
			t.Errorf("missing CIS: %+v, want N/A", c)
		}
	})
	for _, tc := range []struct {
		name string
		edit func([]*results.Document) []*results.Document
		want string
	}{
		{"duplicate metric", func(docs []*results.Document) []*results.Document {
			d := doc("MUNIT", "edges2shoes")
			d.Metrics.LPIPSDiversity = div(0.2, 0.01, 100)
			return append(docs, d)
		}, "appears in two results documents"},
		{"two studies", func(docs []*results.Document) []*results.Document {
			d := doc("UNIT", "edges2shoes")
			d.Metrics.Preference = map[string]results.Preference{"MUNIT": {Percent: 60}}
			return append(docs, d)
		}, "two preference studies"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := BuildTables(tc.edit(paperDocs()), TableOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := BuildTables(paperDocs(), TableOptions{CI: "stars"}); err == nil {
		t.Error("unknown interval style accepted")
	}
}

// TestWarningPlacement: one document holding every metric (as run writes
// it) carries warnings about each; each lands under the table it concerns,
// on the row of the method it concerns, and nowhere else.
func TestWarningPlacement(t *testing.T) {
	d := doc("MUNIT", "shapes")
	d.Metrics.LPIPSDiversity = div(0.13, 0.008, 760)
	d.Metrics.IS, d.Metrics.CIS = results.Float(1.38), results.Float(1.37)
	d.Metrics.FID = &results.FID{Value: 0.4, NumSamples: 4000, NumReal: 200, FeatureDim: 32}
	d.Metrics.KID = &results.KID{Mean: 0.05, Std: 0.01, Subsets: 100, SubsetSize: 200}
	d.Metrics.PRDC = &results.PRDC{Precision: 0.7, Recall: 0.5, Density: 0.9, Coverage: 0.8, PRK: 3, DCK: 5, NumSamples: 4000, NumReal: 200}
	d.Metrics.Preference = map[string]results.Preference{"UNIT": {Percent: 35, Wilson: [2]float64{32, 38}, Judgments: 880, Workers: 15, Simulated: true}}
	d.Warnings = []warning.Warning{
		{Code: "few-real", Subject: "prdc", Detail: "only 200 real images for precision and recall"},
		{Code: warning.CodeText, Detail: "a warning read from a v1 document"},
		{Code: "clipped", Subject: "kid", Detail: "KID subset size 1000 clipped to 200, the size of the smaller set"},
		{Code: "never-predicted", Subject: "is", Detail: "classifier never predicts (top-1) class 1, 2 of 4", Classes: []int{1, 2}},
		{Code: "lpips-v0", Subject: "lpips", Detail: "LPIPS version 0.0 (no scaling layer): values are about half of v0.1's"},
		{Code: "study", Subject: "preference", Detail: "UNIT: no judgments"},
		{Code: "simulated", Subject: "preference", Detail: "simulated judgments (UNIT): workers are a simulation, not people"},
		{Code: "fewer-inputs", Subject: "samples", Detail: "the store holds 50 inputs, fewer than the paper's 100"},
	}
	d.Models = map[string]results.ModelRef{results.ModelGenerator: {File: "cyclegan_star.onnx", SHA256: "ab", Method: "CycleGAN*"}}
	d.Metrics.Classes = []string{"red", "green", "blue", "yellow"}
	tables, err := BuildTables([]*results.Document{d}, TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, tb := range tables {
		for _, w := range tb.Warnings {
			got[tb.Name] = append(got[tb.Name], "table: "+w)
		}
		for _, r := range tb.Rows {
			for _, w := range r.Warnings {
				got[tb.Name] = append(got[tb.Name], r.Label+": "+w)
			}
		}
	}
	general := "MUNIT: the store holds 50 inputs, fewer than the paper's 100"
	model := `MUNIT: the generator model's metadata names the method "CycleGAN*", not "MUNIT"`
	v1 := "MUNIT: a warning read from a v1 document"
	want := map[string][]string{
		"quality_diversity": {
			"table: simulated judgments (UNIT): workers are a simulation, not people",
			"UNIT: no judgments",
			"MUNIT: LPIPS version 0.0 (no scaling layer): values are about half of v0.1's",
			general, model, v1,
		},
		"scores":    {"MUNIT: classifier never predicts (top-1) 2 of 4 classes: green (1), blue (2)", general, model, v1},
		"distances": {"MUNIT: KID subset size 1000 clipped to 200, the size of the smaller set", general, model, v1},
		"prdc":      {"MUNIT: only 200 real images for precision and recall", general, model, v1},
	}
	if len(got) != len(want) {
		t.Errorf("warnings under %d tables, want %d: %q", len(got), len(want), got)
	}
	for name, w := range want {
		g := append([]string(nil), got[name]...)
		slices.Sort(g)
		w = append([]string(nil), w...)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			t.Errorf("%s: warnings\n%q\nwant\n%q", name, g, w)
		}
	}
}

// TestV1Warnings: a document of schema v1 (warnings as bare strings, the
// committed gate baseline's form) shows its warnings under every table of
// its method, as read.
func TestV1Warnings(t *testing.T) {
	raw := []byte(`{"schema": "munit-eval/results/v1", "method": "BicycleGAN", "dataset": "shapes", "protocol": {"seed": 0},
		"versions": {"munit_eval": "0.1.0"},
		"metrics": {"lpips_diversity": {"mean": 0.2, "std": 0.1, "stderr": 0.01, "ci95": [0.18, 0.22], "n": 10, "num_inputs": 5,
			"pairs_per_input": 2, "pairing": "independent", "lpips_net": "alex", "lpips_version": "0.1"},
			"is": 0.5, "cis": 0.4},
		"warnings": ["classifier never predicts (top-1) 2 of 4 classes: green (1), blue (2)"]}`)
	d, err := results.Parse("v1.json", raw)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := BuildTables([]*results.Document{d}, TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 2 {
		t.Fatalf("%d tables, want quality_diversity and scores", len(tables))
	}
	for _, tb := range tables {
		if w := tb.Rows[0].Warnings; len(w) != 1 || w[0] != "classifier never predicts (top-1) 2 of 4 classes: green (1), blue (2)" {
			t.Errorf("%s: row warnings %q", tb.Name, w)
		}
	}
}
