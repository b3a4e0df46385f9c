package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/results"
)

// diversityDoc is a results document with LPIPS diversity over 40 inputs
// whose per-input means are centre + 0.02·sin(i + phase).
func diversityDoc(centre, phase float64) *results.Document {
	d := results.New("MUNIT", "edges2shoes")
	d.Protocol = results.Protocol{NumInputs: 40, SamplesPerInput: 10, PairsPerInput: 19, Pairing: "consecutive"}
	div := &results.Diversity{NumInputs: 40, PairsPerInput: 19, Pairing: "consecutive", LPIPSNet: "alex", LPIPSVersion: "0.1"}
	var sum float64
	for i := range 40 {
		v := centre + 0.02*math.Sin(float64(i)+phase)
		div.PerInputMean = append(div.PerInputMean, v)
		sum += v
	}
	div.Mean = sum / 40
	div.CI95 = [2]float64{div.Mean - 0.006, div.Mean + 0.006}
	d.Metrics.LPIPSDiversity = div
	return d
}

func writeResults(t *testing.T, dir, name string, d *results.Document) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := results.Write(p, d); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	base := writeResults(t, dir, "base.json", diversityDoc(0.30, 0))
	same := writeResults(t, dir, "same.json", diversityDoc(0.30, 1))
	worse := writeResults(t, dir, "worse.json", diversityDoc(0.27, 1))
	slightly := writeResults(t, dir, "slightly.json", diversityDoc(0.29, 1))

	r := cli(t, "check", "--baseline", base, "--results", same)
	if r.code != 0 || !strings.Contains(r.stdout, "unchanged") || !strings.Contains(r.stdout, "0 regressed") {
		t.Errorf("same distribution: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, "check", "--baseline", base, "--results", worse)
	if r.code != 1 || !strings.Contains(r.stdout, "regressed") || r.stderr != "" {
		t.Errorf("regression: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	// 3.3% worse: regressed without tolerance, unchanged with 5% ("5%" or 0.05).
	if r := cli(t, "check", "--baseline", base, "--results", slightly); r.code != 1 {
		t.Errorf("3%% drop without tolerance: exit %d, want 1\n%s", r.code, r.stdout)
	}
	for _, tol := range []string{"lpips_diversity=0.05", "lpips_diversity=5%"} {
		if r := cli(t, "check", "--baseline", base, "--results", slightly, "--tolerance", tol); r.code != 0 {
			t.Errorf("--tolerance %s: exit %d, want 0\n%s", tol, r.code, r.stdout)
		}
	}
	// Lower-is-better diversity: the drop is an improvement.
	if r := cli(t, "check", "--baseline", base, "--results", worse, "--lower-is-better", "lpips_diversity"); r.code != 0 || !strings.Contains(r.stdout, "improved") {
		t.Errorf("--lower-is-better: exit %d\n%s", r.code, r.stdout)
	}

	// --json: one object with the verdicts.
	r = cli(t, "check", "--baseline", base, "--results", worse, "--json")
	var out struct {
		Regressed bool `json:"regressed"`
		Verdicts  []struct {
			Metric, Verdict string
		} `json:"verdicts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 1 {
		t.Fatalf("--json: exit %d, %v\n%s", r.code, err, r.stdout)
	}
	if !out.Regressed || len(out.Verdicts) != 1 || out.Verdicts[0].Verdict != "regressed" {
		t.Errorf("--json: %+v", out)
	}
}

func TestCheckBadInput(t *testing.T) {
	dir := t.TempDir()
	base := writeResults(t, dir, "base.json", diversityDoc(0.30, 0))
	other := diversityDoc(0.30, 1)
	other.Protocol.NumInputs, other.Metrics.LPIPSDiversity.LPIPSNet = 20, "vgg"
	mismatch := writeResults(t, dir, "mismatch.json", other)
	bicycle := diversityDoc(0.30, 1)
	bicycle.Method = "BicycleGAN"
	method := writeResults(t, dir, "bicycle.json", bicycle)
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"protocol", []string{"--baseline", base, "--results", mismatch}, []string{"not comparable", "num_inputs: base 40, new 20", `lpips net: base "alex", new "vgg"`}},
		{"method", []string{"--baseline", base, "--results", method}, []string{`method: base "MUNIT", new "BicycleGAN"`}},
		{"malformed", []string{"--baseline", base, "--results", broken}, []string{"broken.json", "not a results document"}},
		{"missing", []string{"--baseline", filepath.Join(dir, "none.json"), "--results", base}, []string{"none.json"}},
		{"no results flag", []string{"--baseline", base}, []string{"--baseline and --results"}},
		{"bad tolerance", []string{"--baseline", base, "--results", base, "--tolerance", "fid"}, []string{"METRIC=REL"}},
		{"unknown metric", []string{"--baseline", base, "--results", base, "--tolerance", "lpips=0.1"}, []string{`unknown metric "lpips"`}},
		{"both directions", []string{"--baseline", base, "--results", base, "--higher-is-better", "fid", "--lower-is-better", "fid"}, []string{"both"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantBadInput(t, cli(t, append([]string{"check"}, tc.args...)...), tc.want...)
		})
	}
}

func TestCheckUpdate(t *testing.T) {
	dir := t.TempDir()
	base := writeResults(t, dir, "base.json", diversityDoc(0.30, 0))
	worse := writeResults(t, t.TempDir(), "worse.json", diversityDoc(0.27, 1))
	r := cli(t, "check", "--baseline", base, "--results", worse, "--update")
	if r.code != 0 || !strings.Contains(r.stdout, "regressed") || !strings.Contains(r.stderr, "updated") {
		t.Fatalf("--update: exit %d, want 0 after reporting\n%s%s", r.code, r.stdout, r.stderr)
	}
	got, _ := os.ReadFile(base)
	want, _ := os.ReadFile(worse)
	if string(got) != string(want) {
		t.Error("the baseline does not hold the new results")
	}
	if r := cli(t, "check", "--baseline", base, "--results", worse); r.code != 0 {
		t.Errorf("after --update: exit %d, want 0", r.code)
	}
}

func TestCheckFolders(t *testing.T) {
	bdir, ndir := t.TempDir(), t.TempDir()
	writeResults(t, bdir, "munit.json", diversityDoc(0.30, 0))
	writeResults(t, ndir, "munit.json", diversityDoc(0.30, 1))
	extra := diversityDoc(0.1, 0)
	extra.Method = "CycleGAN"
	writeResults(t, ndir, "cyclegan.json", extra)
	r := cli(t, "check", "--baseline", bdir, "--results", ndir)
	if r.code != 0 || !strings.Contains(r.stdout, "CycleGAN / edges2shoes") || !strings.Contains(r.stdout, "no baseline") {
		t.Errorf("folders: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	os.Remove(filepath.Join(ndir, "munit.json"))
	wantBadInput(t, cli(t, "check", "--baseline", bdir, "--results", ndir), "no new result", "MUNIT / edges2shoes")
}

// TestCheckProvenance: a changed generator is named, regressed methods are
// listed before unchanged ones, and a protocol mismatch is said once per
// field, not once per place the field is recorded.
func TestCheckProvenance(t *testing.T) {
	base, out := t.TempDir(), t.TempDir()
	munit := diversityDoc(0.30, 0)
	munit.Models = map[string]results.ModelRef{results.ModelGenerator: {File: "munit.onnx", SHA256: strings.Repeat("a", 64)}}
	writeResults(t, base, "munit.json", munit)
	newMunit := diversityDoc(0.30, 1)
	newMunit.Models = map[string]results.ModelRef{results.ModelGenerator: {File: "munit.onnx", SHA256: strings.Repeat("b", 64)}}
	writeResults(t, out, "munit.json", newMunit)
	unit := diversityDoc(0.30, 0)
	unit.Method = "UNIT"
	writeResults(t, base, "unit.json", unit)
	worse := diversityDoc(0.25, 1)
	worse.Method = "UNIT"
	writeResults(t, out, "unit.json", worse)

	r := cli(t, "check", "--baseline", base, "--results", out)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	if want := "the generator model changed: sha256 aaaaaaaaaaaa (munit.onnx) in the baseline, bbbbbbbbbbbb (munit.onnx) in the results"; !strings.Contains(r.stdout, want) {
		t.Errorf("no word of the changed generator:\n%s", r.stdout)
	}
	if u, m := strings.Index(r.stdout, "UNIT / edges2shoes"), strings.Index(r.stdout, "MUNIT / edges2shoes"); u < 0 || m < 0 || u > m {
		t.Errorf("the regressed UNIT is not listed first:\n%s", r.stdout)
	}

	other := diversityDoc(0.30, 1)
	// A consistent document of 20 inputs (check validates each document
	// before comparing them).
	od := other.Metrics.LPIPSDiversity
	other.Protocol.NumInputs, od.NumInputs = 20, 20
	od.PerInputMean = od.PerInputMean[:20]
	var sum float64
	for _, v := range od.PerInputMean {
		sum += v
	}
	od.Mean = sum / 20
	od.CI95 = [2]float64{od.Mean - 0.008, od.Mean + 0.008}
	other.Metrics.NumInputs = results.Int(20)
	dir := t.TempDir()
	b := writeResults(t, dir, "base.json", diversityDoc(0.30, 0))
	n := writeResults(t, dir, "new.json", other)
	r = cli(t, "check", "--baseline", b, "--results", n)
	wantBadInput(t, r, "not comparable", "num_inputs: base 40, new 20")
	if c := strings.Count(r.stderr, "num_inputs"); c != 1 || len(r.stderr) > 300 {
		t.Errorf("num_inputs said %d times in %d characters, want once in at most 300:\n%s", c, len(r.stderr), r.stderr)
	}
}
