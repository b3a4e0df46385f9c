package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/images"
)

func TestTranslateCommand(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	gen := writeGenerator(t, dir, 3)
	in := filepath.Join(dir, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"b.png", "a.png"} {
		m := images.New(4, 4)
		m.Pix[0] = 200
		if err := images.WritePNG(filepath.Join(in, name), m); err != nil {
			t.Fatal(err)
		}
	}
	store := filepath.Join(dir, "store")
	args := []string{"translate", "--generator", gen, "--inputs", in, "--out", store}

	wantBadInput(t, cli(t, append(args, "--samples-per-input", "3")...), "deterministic", "--repeat")
	wantBadInput(t, cli(t, "translate", "--inputs", in, "--out", store), "--generator")

	for _, want := range []struct{ computed, reused int }{{6, 0}, {0, 6}} {
		r := cli(t, append(args, "--samples-per-input", "3", "--repeat", "--json")...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		var s struct {
			Method          string  `json:"method"`
			Store           string  `json:"store"`
			Inputs          int     `json:"inputs"`
			SamplesPerInput int     `json:"samples_per_input"`
			Computed        int     `json:"computed"`
			Reused          int     `json:"reused"`
			Seconds         float64 `json:"seconds"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
			t.Fatalf("--json output %q: %v", r.stdout, err)
		}
		if s.Method != "Tiny" || s.Store != filepath.Join(store, "Tiny") || s.Inputs != 2 || s.SamplesPerInput != 3 ||
			s.Computed != want.computed || s.Reused != want.reused || s.Seconds <= 0 {
			t.Fatalf("summary %+v, want Tiny, 2 x 3, %d computed, %d reused", s, want.computed, want.reused)
		}
	}
	r := cli(t, append(args, "--method", "Tiny", "--size", "2")...)
	wantBadInput(t, r, "refusing to mix", "--size: store 0, now 2")
}

// TestTranslateSamplesDeprecated: translate's count is --samples-per-input,
// the name the metric commands give K (--samples names a store folder
// there); --samples K still works for one release, with a note.
func TestTranslateSamplesDeprecated(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	gen := writeGenerator(t, dir, 3)
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	if err := images.WritePNG(filepath.Join(in, "a.png"), images.New(4, 4)); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"--samples-per-input", "--samples"} {
		r := cli(t, "translate", "--generator", gen, "--inputs", in, "--out", filepath.Join(dir, "store"+flag), flag, "2", "--repeat", "--json")
		var s struct {
			SamplesPerInput int `json:"samples_per_input"`
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &s) != nil || s.SamplesPerInput != 2 {
			t.Fatalf("%s 2: exit %d, %q: %s", flag, r.code, r.stdout, r.stderr)
		}
		if deprecated := strings.Contains(r.stderr, "--samples has been deprecated, use --samples-per-input"); deprecated != (flag == "--samples") {
			t.Errorf("%s: deprecation note %v: %q", flag, deprecated, r.stderr)
		}
	}
	if r := cli(t, "translate", "--help"); strings.Contains(r.stdout, "--samples int") || !strings.Contains(r.stdout, "--samples-per-input") {
		t.Errorf("help lists the deprecated flag or lacks the new one:\n%s", r.stdout)
	}
}
