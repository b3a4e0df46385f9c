package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/munit-eval/munit-eval/amt"
	"github.com/munit-eval/munit-eval/reports"
	"github.com/munit-eval/munit-eval/translate"
)

// storePNGs lists the sample files under a run's store, relative to it.
func storePNGs(t *testing.T, c *Config) []string {
	t.Helper()
	root := filepath.Join(c.Resolve(c.Out), "store")
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == translate.CacheDirName {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, ".png") {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestKeepSamples: runs with --keep-samples grid and none write results
// documents byte-identical to a run that keeps every sample; grid leaves
// exactly the files the report's grid (MakeGrid on the full store) shows,
// none leaves no sample file; a second run in the same mode regenerates
// no file and writes the same documents (with none, it reads no sample
// pixels: there are none); a command that needs a dropped sample's pixels
// (a wider grid, amt make, values missing from the caches) fails with one
// line naming the store, the mode and the fix; --keep-samples all restores
// every file.
func TestKeepSamples(t *testing.T) {
	load := shardWorld(t)
	fixed := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	ctx := context.Background()
	all := load("all")
	ref, err := Run(ctx, all, Options{Threads: 1, Quiet: true, Now: fixed})
	if err != nil {
		t.Fatal(err)
	}
	allFiles := storePNGs(t, all)
	// What the report's grid of each dataset shows, drawn from the full store.
	var want []string
	for _, ds := range []string{"one", "two"} {
		store := all.StoreDir(ds)
		dirs, err := reports.MethodDirs(store)
		if err != nil {
			t.Fatal(err)
		}
		g, err := reports.MakeGrid(dirs, reports.GridOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, col := range g.Header[1:] {
			dir, _ := translate.MethodDir(col.Name)
			for _, stem := range g.Stems {
				for k := range col.Columns {
					want = append(want, ds+"/"+dir+"/"+stem+"/"+string(rune('0'+k))+".png")
				}
			}
		}
	}
	slices.Sort(want)
	if len(want) == 0 || len(want) >= len(allFiles) {
		t.Fatalf("the grids show %d of %d samples: the test needs some, not all", len(want), len(allFiles))
	}
	same := func(mode string, got *Outcome) {
		t.Helper()
		if len(got.Paths) != len(ref.Paths) {
			t.Fatalf("%s: %d documents, want %d", mode, len(got.Paths), len(ref.Paths))
		}
		for i, p := range ref.Paths {
			a, _ := os.ReadFile(p)
			b, _ := os.ReadFile(got.Paths[i])
			if filepath.Base(p) != filepath.Base(got.Paths[i]) || !bytes.Equal(a, b) || len(a) == 0 {
				t.Errorf("%s: %s differs from %s (every sample kept)", mode, got.Paths[i], p)
			}
		}
	}
	for _, mode := range []string{translate.KeepGrid, translate.KeepNone} {
		c := load(mode)
		o := Options{Threads: 1, Quiet: true, Now: fixed, Keep: mode}
		got, err := Run(ctx, c, o)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		same(mode, got)
		left := storePNGs(t, c)
		expect := want
		if mode == translate.KeepNone {
			expect = nil
		}
		if !slices.Equal(left, expect) {
			t.Errorf("%s: files left %v, want %v", mode, left, expect)
		}
		var log bytes.Buffer
		o.Log = &log
		again, err := Run(ctx, c, o)
		if err != nil {
			t.Fatalf("%s, second run: %v", mode, err)
		}
		same(mode+" (second run)", again)
		if l := storePNGs(t, c); !slices.Equal(l, left) {
			t.Errorf("%s: the second run left %v, want %v (nothing regenerated)", mode, l, left)
		}
		if strings.Contains(log.String(), "warning") {
			t.Errorf("%s: the second run warned:\n%s", mode, log.String())
		}
	}

	// A mode that is no mode, and dropping what no cache keeps, are refused.
	if _, err := Run(ctx, load("bad"), Options{Threads: 1, Quiet: true, Keep: "some"}); err == nil || !strings.Contains(err.Error(), `"some": want all, grid or none`) {
		t.Errorf("--keep-samples some: %v", err)
	}
	nc := load("nocache")
	off := false
	nc.Cache = &off
	if _, err := Run(ctx, nc, Options{Threads: 1, Quiet: true, Keep: translate.KeepNone}); err == nil || !strings.Contains(err.Error(), "cache is false") {
		t.Errorf("--keep-samples none with cache: false: %v", err)
	}

	// Sharded: each shard drops its inputs' files after its partials; the
	// scoring step reads none of them.
	sh := load("sharded-grid")
	for i := range 2 {
		if _, err := Run(ctx, sh, Options{Threads: 1, Quiet: true, Shard: translate.Shard{Index: i, Count: 2}, Keep: translate.KeepGrid}); err != nil {
			t.Fatalf("shard %d/2: %v", i, err)
		}
	}
	got, err := Run(ctx, sh, Options{Threads: 1, Quiet: true, Now: fixed, ScoreOnly: true, Keep: translate.KeepGrid})
	if err != nil {
		t.Fatal(err)
	}
	same("sharded grid", got)
	if left := storePNGs(t, sh); !slices.Equal(left, want) {
		t.Errorf("sharded grid: files left %v, want %v", left, want)
	}

	// Commands that need dropped pixels.
	c := load(translate.KeepGrid)
	fix := `keeps samples "grid"`
	dirs, _ := reports.MethodDirs(c.StoreDir("one"))
	if _, err := reports.MakeGrid(dirs, reports.GridOptions{}); err != nil {
		t.Errorf("the report's grid of a grid store: %v", err)
	}
	if _, err := reports.MakeGrid(dirs, reports.GridOptions{NumInputs: 5}); err == nil || !strings.Contains(err.Error(), fix) || !strings.Contains(err.Error(), "--keep-samples all") {
		t.Errorf("a grid wider than the kept one: %v, want the dropped-sample error", err)
	}
	mcfg := amt.DefaultMakeConfig()
	mcfg.Questions, mcfg.PerHIT, mcfg.Catch, mcfg.Out = 15, 5, 0, filepath.Join(t.TempDir(), "batch")
	for _, d := range dirs {
		s, err := translate.OpenStore(d)
		if err != nil {
			t.Fatal(err)
		}
		mcfg.Methods = append(mcfg.Methods, amt.Method{Name: s.Method(), Store: d})
	}
	if _, err := amt.DesignBatch(mcfg); err == nil || !strings.Contains(err.Error(), fix) || !strings.Contains(err.Error(), "--keep-samples all") {
		t.Errorf("amt make drawing dropped samples: %v, want the dropped-sample error", err)
	}
	// Values missing from the caches (a metric with another model): one
	// clear line, not a silent regeneration.
	if err := os.RemoveAll(filepath.Join(c.StoreDir("one"), translate.CacheDirName, "classifier")); err != nil {
		t.Fatal(err)
	}
	_, err = Run(ctx, c, Options{Threads: 1, Quiet: true, Now: fixed, Keep: translate.KeepGrid})
	if err == nil || !strings.Contains(err.Error(), fix) || !strings.Contains(err.Error(), "--keep-samples all") || strings.Contains(err.Error(), "\n") {
		t.Errorf("values missing for dropped samples: %v, want one line naming the mode and the fix", err)
	}
	// --keep-samples all restores every file, and the same numbers.
	got, err = Run(ctx, c, Options{Threads: 1, Quiet: true, Now: fixed})
	if err != nil {
		t.Fatal(err)
	}
	same("restored", got)
	if l := storePNGs(t, c); !slices.Equal(l, allFiles) {
		t.Errorf("--keep-samples all after grid: %d files, want all %d", len(l), len(allFiles))
	}
}
