package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/results"
)

// writeReportDocs writes two small results documents into a folder.
func writeReportDocs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	munit := results.New("MUNIT", "edges2shoes")
	munit.Metrics.LPIPSDiversity = &results.Diversity{Mean: 0.109, CI95: [2]float64{0.107, 0.111}, N: 38, NumInputs: 2, PairsPerInput: 19, LPIPSNet: "alex", LPIPSVersion: "0.1",
		Pairs: []results.Pair{{Input: 0, A: 0, B: 1, Distance: 0.1}, {Input: 1, A: 0, B: 1, Distance: 0.12}}}
	munit.Metrics.Preference = map[string]results.Preference{"CycleGAN": {Percent: 36, Wilson: [2]float64{34.1, 37.9}, Judgments: 2500, Workers: 5}}
	cyc := results.New("CycleGAN", "edges2shoes")
	cyc.Metrics.LPIPSDiversity = &results.Diversity{N: 38, NumInputs: 2, PairsPerInput: 19, LPIPSNet: "alex", LPIPSVersion: "0.1"}
	for name, d := range map[string]*results.Document{"munit.json": munit, "cyclegan.json": cyc} {
		if err := results.Write(filepath.Join(dir, name), d); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReportCommand(t *testing.T) {
	dir := writeReportDocs(t)
	out := filepath.Join(t.TempDir(), "report")
	r := cli(t, "report", "--results", filepath.Join(dir, "*.json"), "--out", out, "--ci", "brackets")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	// Not a terminal: the best value is marked with †, intervals in brackets.
	for _, want := range []string{"Quality and diversity", "0.109† [0.107, 0.111]", "36.0 [34.1, 37.9]", "50.0†"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, f := range []string{"tables.md", "tables.tex", "index.html", "plots/diversity_edges2shoes.png", "plots/preference_edges2shoes.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("report lacks %s: %v", f, err)
		}
	}

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no results", []string{"report", "--out", out}, []string{"--results"}},
		{"no out", []string{"report", "--results", dir}, []string{"--out"}},
		{"bad ci", []string{"report", "--results", dir, "--out", out, "--ci", "stars"}, []string{"--ci", "stars"}},
		{"bad scores", []string{"report", "--results", dir, "--out", out, "--scores", "bits"}, []string{"--scores"}},
		{"missing file", []string{"report", "--results", filepath.Join(dir, "nope.json"), "--out", out}, []string{"nope.json"}},
		{"bad store", []string{"report", "--results", dir, "--out", out, "--stores", dir}, []string{"no method folder"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantBadInput(t, cli(t, tc.args...), tc.want...)
		})
	}
}
