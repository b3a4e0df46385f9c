package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/results"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenSet is a hand-built pair of folders: MUNIT with every metric (a
// diversity regression, a CIS improvement, a preference regression) and
// BicycleGAN with diversity and intervals only.
func goldenSet() *Set {
	munit := func(div, cis, fid, kid float64, pref int) *results.Document {
		d := divDoc(50, div, 0.02, 0)
		d.Metrics.LPIPSDiversity.N = 50 * 19
		m := &d.Metrics
		is := 0.93
		m.IS, m.ISExp = results.Float(is), results.Float(math.Exp(is))
		m.CIS, m.CISExp = results.Float(cis), results.Float(math.Exp(cis))
		m.ISBootstrap, m.CISBootstrap = alternating(200, is, 0.01), alternating(200, cis, 0.012)
		m.ISCI95 = &[2]float64{is - 0.0196, is + 0.0196}
		m.CISCI95 = &[2]float64{cis - 0.0235, cis + 0.0235}
		m.NumInputs, m.SamplesPerInput = results.Int(50), results.Int(10)
		m.FID = &results.FID{Value: fid, CI95: &[2]float64{fid - 2.1, fid + 2.3}, Bootstrap: alternating(100, fid, 1.1), NumSamples: 500, NumReal: 400, FeatureDim: 64}
		vals := make([]float64, 20)
		for i := range vals {
			vals[i] = kid + 0.002*math.Sin(float64(3*i))
		}
		// The mean must be the values' mean (check validates documents).
		off := metrics.Mean(vals) - kid
		for i := range vals {
			vals[i] -= off
		}
		m.KID = &results.KID{Mean: kid, Std: 0.0014, Subsets: 20, SubsetSize: 100, Values: vals}
		m.Preference = map[string]results.Preference{"CycleGAN": {Percent: 100 * float64(pref) / 400, Wilson: [2]float64{100 * float64(pref-40) / 400, 100 * float64(pref+40) / 400}, Judgments: 400, Preferred: pref, Workers: 20}}
		return d
	}
	bicycle := func(div, is float64, withFID bool) *results.Document {
		d := divDoc(50, div, 0.03, 1)
		d.Method = "BicycleGAN"
		d.Metrics.IS = results.Float(is)
		d.Metrics.ISCI95 = &[2]float64{is - 0.05, is + 0.06}
		if withFID {
			d.Metrics.FID = &results.FID{Value: 40}
		}
		return d
	}
	extra := divDoc(50, 0.1, 0.01, 0)
	extra.Method = "CycleGAN"
	return &Set{
		Folder: true, BaseDir: "ci/baseline",
		Pairs: []Pair{
			{Doc{"ci/baseline/bicyclegan.json", bicycle(0.25, 0.70, true)}, Doc{"out/bicyclegan.json", bicycle(0.252, 0.62, false)}},
			{Doc{"ci/baseline/munit.json", munit(0.31, 0.82, 45.2, 0.0123, 120)}, Doc{"out/munit.json", munit(0.29, 0.90, 45.9, 0.0127, 180)}},
		},
		NewOnly: []Doc{{"out/cyclegan.json", extra}},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./gate -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (go test ./gate -run %s -update to accept):\n--- got\n%s\n--- want\n%s", path, t.Name(), got, want)
	}
}

func TestGoldenTable(t *testing.T) {
	o := DefaultOptions()
	o.Tolerance[results.KeyFID] = 0.05
	// The golden set's new BicycleGAN document lacks the baseline's FID:
	// an error by default, a failure listed in Missing with AllowMissing.
	var me *MissingError
	if _, err := Check(goldenSet(), o); !errors.As(err, &me) || len(me.Missing) != 1 || me.Missing[0].Metric != results.KeyFID {
		t.Fatalf("Check without AllowMissing: %v, want a *MissingError for BicycleGAN's fid", err)
	}
	o.AllowMissing = true
	r, err := Check(goldenSet(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Missing) != 1 || r.Missing[0].Method != "BicycleGAN" || !r.Failed() {
		t.Errorf("missing %v, failed %v: want BicycleGAN's fid, failed", r.Missing, r.Failed())
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "check.golden", buf.Bytes())
	// On a 100-column terminal every line fits, and each metric's values,
	// intervals and verdict stay in one block, a line each.
	var narrow bytes.Buffer
	if err := WriteTableOptions(&narrow, r, TableOptions{Width: 100}); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimRight(narrow.String(), "\n"), "\n") {
		if n := len([]rune(l)); n > 100 {
			t.Errorf("width 100: line of %d characters: %q", n, l)
		}
	}
	for _, want := range []string{"kid:\n  base ", "(sd 0.00140)\n", "  verdict      = unchanged (tol 5%)\n"} {
		if !strings.Contains(narrow.String(), want) {
			t.Errorf("width 100: no %q in:\n%s", want, narrow.String())
		}
	}
	// The verdicts the golden table must show.
	want := map[string]Verdict{"BicycleGAN/lpips_diversity": Unchanged, "BicycleGAN/is": Unchanged,
		"MUNIT/lpips_diversity": Regressed, "MUNIT/cis": Improved, "MUNIT/cis_exp": Improved, "MUNIT/is": Unchanged,
		"MUNIT/fid": Unchanged, "MUNIT/kid": Unchanged, "MUNIT/preference": Regressed}
	for _, g := range r.Groups {
		for _, c := range g.Metrics {
			if v, ok := want[g.Method+"/"+c.Metric]; ok && c.Verdict != v {
				t.Errorf("%s %s: %s, want %s", g.Method, c.Metric, c.Verdict, v)
			}
		}
	}
	if len(r.Regressions()) != 2 {
		t.Errorf("%d regressions, want 2", len(r.Regressions()))
	}

	buf.Reset()
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "check.json.golden", buf.Bytes())
	var back struct {
		Regressed bool
		Verdicts  []Comparison
	}
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !back.Regressed || len(back.Verdicts) != 10 {
		t.Errorf("JSON: regressed %v, %d verdicts, want true and 10", back.Regressed, len(back.Verdicts))
	}
}

// writeDoc writes d to dir/name and returns the path.
func writeDoc(t *testing.T, dir, name string, d *results.Document) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := results.Write(p, d); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadBadInput(t *testing.T) {
	dir := t.TempDir()
	good := writeDoc(t, dir, "good.json", divDoc(10, 0.3, 0.01, 0))
	malformed := filepath.Join(dir, "malformed.json")
	os.WriteFile(malformed, []byte(`{"schema": "munit-eval/results/v1", "method": `), 0o644)
	other := filepath.Join(dir, "other.json")
	os.WriteFile(other, []byte(`{"schema": "munit-eval/results/v0", "method": "MUNIT"}`), 0o644)
	unknown := filepath.Join(dir, "unknown.json")
	os.WriteFile(unknown, []byte(`{"schema": "munit-eval/results/v1", "method": "MUNIT", "lpips": 0.3}`), 0o644)
	emptyDir := filepath.Join(dir, "empty")
	os.Mkdir(emptyDir, 0o755)
	dup := filepath.Join(dir, "dup")
	writeDoc(t, dup, "a.json", divDoc(10, 0.3, 0.01, 0))
	writeDoc(t, dup, "b.json", divDoc(10, 0.3, 0.01, 0))
	for _, tc := range []struct {
		name, base, new string
		want            []string
	}{
		{"missing baseline", filepath.Join(dir, "nope.json"), good, []string{"baseline", "nope.json", "no such file"}},
		{"missing results", good, filepath.Join(dir, "nope.json"), []string{"results", "nope.json"}},
		{"malformed", good, malformed, []string{"malformed.json", "not a results document"}},
		{"other schema", other, good, []string{"other.json", `schema "munit-eval/results/v0"`}},
		{"unknown field", good, unknown, []string{"unknown.json", `unknown field "lpips"`}},
		{"file and folder", good, dir, []string{"both be files or both be folders"}},
		{"empty folder", emptyDir, dup, []string{"empty", "no *.json"}},
		{"duplicate", dup, dup, []string{"a.json", "b.json", "are both MUNIT / edges2shoes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.base, tc.new)
			if err == nil {
				t.Fatal("no error")
			}
			for _, f := range tc.want {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("error %q lacks %q", err, f)
				}
			}
		})
	}
}

func TestFolderMode(t *testing.T) {
	dir := t.TempDir()
	base, news := filepath.Join(dir, "base"), filepath.Join(dir, "new")
	munit := divDoc(30, 0.3, 0.02, 0)
	bicycle := divDoc(30, 0.2, 0.02, 0)
	bicycle.Method = "BicycleGAN"
	cycle := divDoc(30, 0.01, 0.001, 0)
	cycle.Method = "CycleGAN"
	writeDoc(t, base, "munit.json", munit)
	writeDoc(t, base, "bicycle.json", bicycle)
	worse := divDoc(30, 0.2, 0.02, 1)
	writeDoc(t, news, "1.json", worse) // names need not match
	writeDoc(t, news, "2.json", bicycle)
	writeDoc(t, news, "cyclegan.json", cycle)

	s, err := Load(base, news)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Pairs) != 2 || len(s.NewOnly) != 1 || !s.Folder {
		t.Fatalf("%d pairs, %d new-only", len(s.Pairs), len(s.NewOnly))
	}
	r, err := Check(s, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Verdict{}
	for _, g := range r.Groups {
		got[g.Method] = g.Metrics[0].Verdict
	}
	if got["MUNIT"] != Regressed || got["BicycleGAN"] != Unchanged {
		t.Errorf("verdicts %v", got)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0].Detail, "CycleGAN / edges2shoes") || !strings.Contains(r.Warnings[0].Detail, "no baseline") {
		t.Errorf("warnings %q", r.Warnings)
	}

	// A protocol mismatch in one pair names that pair; all are listed.
	odd := divDoc(30, 0.2, 0.02, 0)
	odd.Method, odd.Protocol.SamplesPerInput = "BicycleGAN", 5
	writeDoc(t, news, "2.json", odd)
	s, err = Load(base, news)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(s, DefaultOptions()); err == nil || !strings.Contains(err.Error(), "bicycle.json and "+filepath.Join(news, "2.json")) ||
		!strings.Contains(err.Error(), "samples_per_input: base 10, new 5") {
		t.Errorf("error %v", err)
	}

	// A baseline without a new result is an error.
	os.Remove(filepath.Join(news, "1.json"))
	if _, err := Load(base, news); err == nil || !strings.Contains(err.Error(), "no new result") || !strings.Contains(err.Error(), "MUNIT / edges2shoes") {
		t.Errorf("error %v, want a missing-result error naming MUNIT", err)
	}
}

// TestUpdate: the baseline is replaced by the new document (the same bytes
// results.Write gives), by rename (no temporary file is left), and a new
// document without a baseline is added in folder mode.
func TestUpdate(t *testing.T) {
	dir := t.TempDir()
	old, new := divDoc(10, 0.3, 0.01, 0), divDoc(10, 0.2, 0.01, 1)
	base := writeDoc(t, dir, "base.json", old)
	newPath := writeDoc(t, t.TempDir(), "new.json", new)
	before, _ := os.Stat(base)
	s, err := Load(base, newPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := Update(s); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(base)
	want, _ := results.Marshal(new)
	if !bytes.Equal(got, want) {
		t.Error("the baseline does not hold the new document")
	}
	after, _ := os.Stat(base)
	if os.SameFile(before, after) {
		t.Error("the baseline was rewritten in place, not replaced by rename")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d entries in the baseline folder, want 1 (a temporary file left behind?)", len(ents))
	}

	// Folder mode: pairs replaced, a new-only document added.
	bdir, ndir := t.TempDir(), t.TempDir()
	writeDoc(t, bdir, "munit.json", old)
	writeDoc(t, ndir, "munit-new.json", new)
	cyc := divDoc(10, 0.01, 0.001, 0)
	cyc.Method = "CycleGAN"
	writeDoc(t, ndir, "cyclegan.json", cyc)
	s, err = Load(bdir, ndir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Update(s); err != nil {
		t.Fatal(err)
	}
	d, err := results.Read(filepath.Join(bdir, "cyclegan.json"))
	if err != nil || d.Method != "CycleGAN" {
		t.Fatalf("added document: %v %v", d, err)
	}
	if got, _ := os.ReadFile(filepath.Join(bdir, "munit.json")); !bytes.Equal(got, want) {
		t.Error("munit.json not replaced")
	}

	// A new-only document whose name is taken in the baseline folder:
	// nothing is written.
	bdir, ndir = t.TempDir(), t.TempDir()
	writeDoc(t, bdir, "munit.json", old)
	writeDoc(t, bdir, "x.json", func() *results.Document { d := divDoc(10, 0.3, 0.01, 0); d.Method = "UNIT"; return d }())
	writeDoc(t, ndir, "munit.json", new)
	writeDoc(t, ndir, "unit.json", func() *results.Document { d := divDoc(10, 0.3, 0.01, 0); d.Method = "UNIT"; return d }())
	writeDoc(t, ndir, "x.json", cyc)
	s, err = Load(bdir, ndir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Update(s); err == nil || !strings.Contains(err.Error(), "x.json") {
		t.Fatalf("error %v, want a refusal naming x.json", err)
	}
	if got, _ := os.ReadFile(filepath.Join(bdir, "munit.json")); bytes.Equal(got, want) {
		t.Error("munit.json was updated although the update was refused")
	}
}

// BenchmarkCheck measures the gate on one simulated pair of documents with
// every metric (2000 IS/CIS replicates, 100 FID replicates, 50 KID subsets,
// 50 inputs): reading excluded, comparison, correction and table included.
func BenchmarkCheck(b *testing.B) {
	w := defaultWorld()
	s := &Set{Pairs: []Pair{{Doc{"base.json", w.doc(1, 2)}, Doc{"new.json", w.doc(1, 3)}}}}
	for b.Loop() {
		r, err := Check(s, DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteTable(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
