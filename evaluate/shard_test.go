package evaluate

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/munit-eval/munit-eval/translate"
)

// TestGenerateShards generates the deterministic CycleGAN (K > 1: its one
// output repeated) and the stochastic MUNIT in two shards: a CheckOnly
// acquire refuses after the first shard, naming input 1 and 3 as missing,
// and after the second gives a store whose manifest is byte-identical to
// the one an unsharded Acquire writes.
func TestGenerateShards(t *testing.T) {
	dir, models := world(t)
	ctx := context.Background()
	p := DefaultProtocol()
	p.NumInputs = 4
	inputs := filepath.Join(dir, "world", "testA")
	for _, gen := range []string{models["cyclegan"], models["munit"]} {
		whole := Source{Generator: gen, Inputs: inputs, Store: filepath.Join(dir, "whole")}
		sharded := whole
		sharded.Store = filepath.Join(dir, "sharded")
		ref, err := Acquire(ctx, whole, &p, 3, RunOptions{Threads: 1, Quiet: true})
		if err != nil {
			t.Fatal(err)
		}
		check := sharded
		check.CheckOnly = true
		for i := range 2 {
			src := sharded
			src.Shard = translate.Shard{Index: i, Count: 2}
			sum, err := Generate(ctx, src, p, 3, RunOptions{Threads: 1, Quiet: true})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Computed != 6 || sum.Complete != (i == 1) {
				t.Fatalf("%s shard %d/2: %+v, want 6 samples computed", gen, i, sum)
			}
			_, err = Acquire(ctx, check, &p, 3, RunOptions{Threads: 1, Quiet: true})
			var inc *translate.IncompleteError
			if i == 0 && (!errors.As(err, &inc) || len(inc.Missing) != 2 || inc.Missing[0] != 1 || inc.Missing[1] != 3) {
				t.Fatalf("%s after shard 0/2: %v, want inputs 1 and 3 missing", gen, err)
			}
		}
		got, err := Acquire(ctx, check, &p, 3, RunOptions{Threads: 1, Quiet: true})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(filepath.Join(ref.Name, "manifest.json"))
		b, _ := os.ReadFile(filepath.Join(got.Name, "manifest.json"))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: the sharded manifest differs from the unsharded one", gen)
		}
	}
	if _, err := Generate(ctx, Source{Generator: models["munit"], Inputs: inputs, Store: dir}, p, 3, RunOptions{}); err == nil {
		t.Error("Generate without a shard accepted")
	}
}
