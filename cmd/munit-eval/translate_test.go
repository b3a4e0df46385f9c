package main

import (
	"encoding/json"
	"os"
	"os/exec"
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
	// Another resize is another run: it goes beside the first.
	r := cli(t, append(args, "--method", "Tiny", "--size", "2")...)
	if r.code != 0 || !strings.Contains(r.stdout, filepath.Join(store, "Tiny@")) {
		t.Fatalf("--size 2: exit %d, %s%s; want a run in %s@<key>", r.code, r.stdout, r.stderr, filepath.Join(store, "Tiny"))
	}

	// Shards: a bad --shard is bad usage; two shards (one from Slurm's
	// environment) complete the store; the second says so.
	wantBadInput(t, cli(t, append(args, "--shard", "2/2")...), "--shard", "0 <= I < N")
	wantBadInput(t, cli(t, append(args, "--shards", "2")...), "--shards 2 without a shard index")
	sharded := filepath.Join(dir, "sharded")
	sargs := []string{"translate", "--generator", gen, "--inputs", in, "--out", sharded}
	if r := cli(t, append(sargs, "--shard", "0/2")...); r.code != 0 || !strings.Contains(r.stdout, "shard 0/2") || !strings.Contains(r.stdout, "this shard: 1 computed") {
		t.Fatalf("shard 0/2: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	cmd := exec.Command(binary, append(sargs, "--shard", "auto")...)
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_COUNT=2")
	b, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "shard 1/2") || !strings.Contains(string(b), "store complete") {
		t.Fatalf("Slurm task 2 of 1-2: %v: %s", err, b)
	}
	if _, err := os.Stat(filepath.Join(sharded, "Tiny", "manifest.json")); err != nil {
		t.Fatalf("the shards left no manifest.json: %v", err)
	}
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
