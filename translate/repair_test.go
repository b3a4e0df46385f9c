package translate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestRunRepairsTruncatedManifest cuts a finished store's manifest short in
// the middle of its samples: a rerun refuses, offering --repair and
// --force; with --repair it keeps every sample listed before the cut
// (checked by hash), recomputes the rest, and ends byte-identical to the
// uninterrupted store. A cut inside the run's description cannot be
// repaired and says so.
func TestRunRepairsTruncatedManifest(t *testing.T) {
	in := writeInputs(t, 4, 8, 8, 50)
	ref := t.TempDir()
	mustRun(t, killConfig(in, ref, 0))
	want, _ := os.ReadFile(filepath.Join(ref, "Fake_star", ManifestName))

	out := t.TempDir()
	mustRun(t, killConfig(in, out, 0))
	path := filepath.Join(out, "Fake_star", ManifestName)
	cut := len(want) * 2 / 3
	os.WriteFile(path, want[:cut], 0o644)
	_, err := Run(context.Background(), killConfig(in, out, 0))
	errContains(t, err, "not a sample manifest", "--repair to keep every intact sample", "--force")

	salvaged, err := salvageManifest(want[:cut])
	if err != nil {
		t.Fatal(err)
	}
	cfg := killConfig(in, out, 0)
	cfg.Repair = true
	s := mustRun(t, cfg)
	if s.Reused != len(salvaged.Samples) || s.Reused == 0 || s.Reused+s.Computed != 16 {
		t.Fatalf("repair: %+v, want the %d salvaged samples reused", s, len(salvaged.Samples))
	}
	sameTree(t, ref, out)

	os.WriteFile(path, want[:200], 0o644)
	_, err = Run(context.Background(), cfg)
	errContains(t, err, "cannot be repaired")
}

// FuzzManifest feeds arbitrary bytes to the manifest reader and the
// salvager: neither may panic; whatever the reader accepts validates and
// survives an encode-decode round trip unchanged; whatever the salvager
// returns validates.
func FuzzManifest(f *testing.F) {
	in := writeInputs(f, 2, 4, 4, 51)
	out := f.TempDir()
	cfg := killConfig(in, out, 0)
	cfg.Samples = 2
	mustRun(f, cfg)
	b, err := os.ReadFile(filepath.Join(out, "Fake_star", ManifestName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte(`{"schema":"munit-eval/samples/v1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := parseManifest(data, "fuzz"); err == nil {
			if err := m.validate(); err != nil {
				t.Fatalf("accepted an invalid manifest: %v", err)
			}
			dir := t.TempDir()
			if err := m.write(dir); err != nil {
				t.Fatal(err)
			}
			name := ManifestName
			if m.Shard != nil {
				name = fragmentName(*m.Shard)
			}
			m2, err := readManifest(filepath.Join(dir, name))
			if err != nil {
				t.Fatalf("round trip: %v", err)
			}
			if !reflect.DeepEqual(m, m2) {
				t.Fatalf("round trip changed the manifest:\n%+v\n%+v", m, m2)
			}
		}
		if m, err := salvageManifest(data); err == nil {
			if err := m.validate(); err != nil {
				t.Fatalf("salvaged an invalid manifest: %v", err)
			}
		}
	})
}

// TestFragmentsOnlyStore: a store that only sharded runs wrote, and not all
// of them, is a store (not a plain folder of images), and its messages
// name the shards and the commands that finish or repair it: the missing
// shard for an incomplete one, the damaged fragment's shard (and --repair)
// for a fragment cut short.
func TestFragmentsOnlyStore(t *testing.T) {
	in := writeInputs(t, 4, 8, 8, 52)
	out := t.TempDir()
	cfg := killConfig(in, out, 0)
	cfg.Shard = Shard{Index: 0, Count: 2}
	mustRun(t, cfg)
	dir := filepath.Join(out, "Fake_star")
	if !IsStore(dir) || IsStore(in) {
		t.Fatalf("IsStore: fragments-only store %v, image folder %v", IsStore(dir), IsStore(in))
	}
	_, err := OpenStore(dir)
	errContains(t, err, "incomplete", "rerun --shard 1/2 (of the munit-eval translate, or run, that wrote the store)")

	frag := filepath.Join(dir, fragmentName(cfg.Shard))
	b, _ := os.ReadFile(frag)
	os.WriteFile(frag, b[:len(b)*2/3], 0o644)
	_, err = OpenStore(dir)
	errContains(t, err, frag, "(the fragment of shard 0/2)", "munit-eval translate --shard 0/2 --repair", "delete it and rerun --shard 0/2")
	var de *DamagedError
	if !errors.As(err, &de) || de.Path != frag || de.Shard == nil || *de.Shard != cfg.Shard {
		t.Fatalf("%v: want a *DamagedError of shard 0/2", err)
	}
	_, err = Run(context.Background(), cfg)
	errContains(t, err, frag, "(the fragment of shard 0/2)", "--repair")
	cfg.Repair = true
	mustRun(t, cfg)
	cfg.Repair, cfg.Shard = false, Shard{Index: 1, Count: 2}
	if s := mustRun(t, cfg); !s.Complete {
		t.Fatalf("after the repair and the other shard: %+v", s)
	}
}
