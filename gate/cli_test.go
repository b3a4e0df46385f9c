package gate

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArgsOptions: tolerances as numbers or percentages, direction
// overrides, and the errors of each list naming the value.
func TestArgsOptions(t *testing.T) {
	a := DefaultArgs()
	a.Tolerance = []string{"lpips_diversity=0.05", " fid = 5%"}
	a.Lower = []string{"lpips_diversity"}
	o, err := a.Options()
	if err != nil {
		t.Fatal(err)
	}
	if o.Tolerance["lpips_diversity"] != 0.05 || o.Tolerance["fid"] != 0.05 || o.Direction["lpips_diversity"] != LowerIsBetter || o.Alpha != DefaultOptions().Alpha {
		t.Errorf("options %+v", o)
	}
	for _, tc := range []struct {
		edit func(*Args)
		want string
	}{
		{func(a *Args) { a.Tolerance = []string{"fid"} }, "want METRIC=REL"},
		{func(a *Args) { a.Tolerance = []string{"fid=x%"} }, `"x" is not a number`},
		{func(a *Args) { a.Higher, a.Lower = []string{"fid"}, []string{"fid"} }, "both --higher-is-better and --lower-is-better"},
		{func(a *Args) { a.Tolerance = []string{"nope=1"} }, "unknown metric"},
		{func(a *Args) { a.Alpha = 2 }, "alpha"},
	} {
		a := DefaultArgs()
		tc.edit(&a)
		if _, err := a.Options(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

// TestRun: check's work in one call — the table or JSON of the report of
// a regressed pair, the paths required, and --update rewriting the
// baseline.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	base := writeDoc(t, dir, "base.json", divDoc(30, 0.3, 0.02, 0))
	news := writeDoc(t, dir, "new.json", divDoc(30, 0.2, 0.02, 1))
	a := DefaultArgs()
	if _, err := Run(&bytes.Buffer{}, a); err == nil || !strings.Contains(err.Error(), "check needs --baseline and --results") {
		t.Errorf("error %v, want the paths asked for", err)
	}
	a.Baseline, a.Results = base, news
	var b bytes.Buffer
	rep, err := Run(&b, a)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Failed() || !strings.Contains(b.String(), "regressed") {
		t.Errorf("failed %v, table:\n%s", rep.Failed(), b.String())
	}
	b.Reset()
	a.JSON = true
	if _, err := Run(&b, a); err != nil || !json.Valid(b.Bytes()) {
		t.Errorf("JSON: %v:\n%s", err, b.String())
	}
	a.Update = true
	if _, err := Run(&bytes.Buffer{}, a); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(base)
	want, _ := os.ReadFile(filepath.Join(dir, "new.json"))
	if !bytes.Equal(got, want) {
		t.Error("--update left the baseline as it was")
	}
}
