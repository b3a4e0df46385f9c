package results

import (
	"bytes"
	"github.com/munit-eval/munit-eval/warning"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sample() *Document {
	d := New("MUNIT", "edges2shoes")
	d.Protocol = Protocol{NumInputs: 100, SamplesPerInput: 38, PairsPerInput: 19, Pairing: "independent"}
	d.Metrics.LPIPSDiversity = &Diversity{Mean: 0.109, Std: 0.05, Stderr: 0.001, CI95: [2]float64{0.107, 0.111}, N: 1900,
		Pairs: []Pair{{Input: 0, A: 0, B: 1, Distance: 0.1}}}
	d.Metrics.CIS = Float(1.04)
	return d
}

func TestRoundTripAndAbsentMetrics(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "r.json")
	d := sample()
	if err := Write(p, d); err != nil {
		t.Fatal(err)
	}
	got, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Marshal(d)
	b, _ := Marshal(got)
	if !bytes.Equal(a, b) {
		t.Fatalf("round trip changed the document:\n%s\n%s", a, b)
	}
	// Metrics not computed are absent, never zero; seed 0 is always written.
	for _, absent := range []string{`"is"`, `"fid"`, `"kid"`, `"preference"`, `"is_splits"`} {
		if bytes.Contains(a, []byte(absent+":")) {
			t.Errorf("document holds %s although it was not computed", absent)
		}
	}
	if !bytes.Contains(a, []byte(`"seed": 0`)) {
		t.Error("seed 0 not written")
	}
}

func TestParseRejects(t *testing.T) {
	cases := map[string]string{
		`{"schema": "munit-eval/results/v3", "method": "M"}`:                      "schema",
		`{"schema": "munit-eval/results/v1"}`:                                     "no method",
		`{"schema": "munit-eval/results/v1", "method": "M", "metrix": {}}`:        "unknown field",
		`{"schema": "munit-eval/results/v1", "method": "M", "metrics": {"x": 1}}`: "unknown field",
		`not json`: "not a results document",
	}
	for in, want := range cases {
		if _, err := Parse("doc.json", []byte(in)); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "doc.json") {
			t.Errorf("%s: error %v, want one naming doc.json and saying %q", in, err, want)
		}
	}
}

func TestReadAll(t *testing.T) {
	dir := t.TempDir()
	for _, m := range []string{"b", "a"} {
		d := sample()
		d.Method = m
		if err := Write(filepath.Join(dir, m+".json"), d); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	for _, args := range [][]string{{dir}, {filepath.Join(dir, "*.json")}, {filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")}} {
		docs, paths, err := ReadAll(args...)
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != 2 || docs[0].Method != "a" || !strings.HasSuffix(paths[1], "b.json") {
			t.Fatalf("%v: %d docs, paths %v", args, len(docs), paths)
		}
	}
	if _, _, err := ReadAll(filepath.Join(dir, "missing.json")); err == nil {
		t.Fatal("no error for a missing file")
	}
	if _, _, err := ReadAll(t.TempDir()); err == nil {
		t.Fatal("no error for a folder without documents")
	}
}

// FuzzParse: any bytes give a document or an error naming the file, never a panic.
func FuzzParse(f *testing.F) {
	b, _ := Marshal(sample())
	f.Add(b)
	f.Add([]byte(`{"schema": "munit-eval/results/v1", "method": "M", "metrics": {"is": 1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := Parse("fuzz.json", b); err != nil && !strings.Contains(err.Error(), "fuzz.json") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

// TestPRDCAndStatsFields: the issue-15 fields round-trip under their
// documented keys and are absent when not set.
func TestPRDCAndStatsFields(t *testing.T) {
	d := sample()
	if b, _ := Marshal(d); bytes.Contains(b, []byte(`"`+KeyPRDC+`"`)) || bytes.Contains(b, []byte(`"resize"`)) || bytes.Contains(b, []byte(`"real_stats"`)) {
		t.Fatalf("unset fields written:\n%s", b)
	}
	d.Protocol.Resize, d.Protocol.RealStats = "clean", "stats.npz"
	d.Metrics.PRDC = &PRDC{Precision: 0.7, Recall: 0.5, FScore: 0.58, Density: 1.1, Coverage: 0.8, PRK: 3, DCK: 5, NumSamples: 10, NumReal: 12}
	b, err := Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"prdc": {`, `"precision": 0.7`, `"coverage": 0.8`, `"pr_k": 3`, `"dc_k": 5`, `"resize": "clean"`, `"real_stats": "stats.npz"`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("document lacks %s:\n%s", key, b)
		}
	}
	got, err := Parse("d.json", b)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Metrics.PRDC != *d.Metrics.PRDC || got.Protocol.Resize != "clean" || got.Protocol.RealStats != "stats.npz" {
		t.Errorf("round trip: %+v %+v", got.Metrics.PRDC, got.Protocol)
	}
}

// TestReadV1Warnings: a document of schema v1, whose warnings are strings,
// is read as v2 with typed warnings of code "text".
func TestReadV1Warnings(t *testing.T) {
	d, err := Parse("old.json", []byte(`{"schema": "munit-eval/results/v1", "method": "M", "warnings": ["few inputs"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.Schema != Schema || len(d.Warnings) != 1 || d.Warnings[0].Code != warning.CodeText || d.Warnings[0].Detail != "few inputs" {
		t.Fatalf("read %+v", d)
	}
	b, err := Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"detail": "few inputs"`) {
		t.Fatalf("written as %s", b)
	}
	if _, err := Parse("bad.json", []byte(`{"schema": "munit-eval/results/v2", "method": "M", "warnings": [{"code": "x"}]}`)); err == nil {
		t.Fatal("a warning without detail was read")
	}
}
