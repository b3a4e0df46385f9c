package translate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestCheckOnly checks the scoring step's view of a store: nothing there,
// shards 0/3 and 2/3 done (1/3 missing), then every shard done. A check
// writes nothing (the folder's files are the same before and after) and
// finds the folder a generating run would use; an incomplete store is an
// *IncompleteError naming the missing inputs and the shard to rerun.
func TestCheckOnly(t *testing.T) {
	g := &fakeGen{latentDim: 4}
	in := writeInputs(t, 5, 8, 8, 7)
	out := t.TempDir()
	check := func() (*Summary, error) {
		cfg := fakeConfig(g, in, out)
		cfg.Samples, cfg.CheckOnly = 3, true
		return Run(context.Background(), cfg)
	}
	_, err := check()
	var inc *IncompleteError
	if !errors.As(err, &inc) || fmt.Sprint(inc.Missing) != "[0 1 2 3 4]" || inc.Samples != 0 {
		t.Fatalf("empty store: %v, want every input missing", err)
	}
	if _, err := os.Stat(filepath.Join(out, "Fake_star")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a check of an empty store left its folder: %v", err)
	}
	for _, i := range []int{0, 2} {
		cfg := fakeConfig(g, in, out)
		cfg.Samples, cfg.Shard = 3, Shard{i, 3}
		mustRun(t, cfg)
	}
	before := readTree(t, out)
	_, err = check()
	// Shard 1/3 owns inputs 1 and 4.
	if !errors.As(err, &inc) || fmt.Sprint(inc.Missing) != "[1 4]" || inc.Samples != 9 {
		t.Fatalf("shard 1/3 missing: %v, want inputs 1 and 4 missing, 9 samples present", err)
	}
	errContains(t, err, "2 of 5 inputs lack samples (in_01.png, in_04.png)", "--shard 1/3")
	if after := readTree(t, out); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatal("a check of an incomplete store changed it")
	}
	cfg := fakeConfig(g, in, out)
	cfg.Samples, cfg.Shard = 3, Shard{1, 3}
	if s := mustRun(t, cfg); !s.Complete {
		t.Fatalf("last shard: %+v, want the store complete", s)
	}
	s, err := check()
	if err != nil || !s.Complete || s.Reused != 15 || s.Computed != 0 || s.Store != filepath.Join(out, "Fake_star") {
		t.Fatalf("complete store: %+v, %v", s, err)
	}
	if _, err := OpenStore(s.Store); err != nil {
		t.Fatal(err)
	}
	// More samples than the store holds: missing, not generated.
	cfg = fakeConfig(g, in, out)
	cfg.Samples, cfg.CheckOnly = 4, true
	if _, err := Run(context.Background(), cfg); !errors.As(err, &inc) || len(inc.Missing) != 5 {
		t.Fatalf("K=4 on a K=3 store: %v, want every input missing", err)
	}
	cfg.Shard = Shard{0, 2}
	errContains(t, cfg.check(), "excludes --force, --shard and --repair")
}
