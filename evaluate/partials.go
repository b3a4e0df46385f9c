package evaluate

// Sharded scoring (docs/scale.md): a shard task computes the per-sample
// values of the inputs it owns into its partials, and the scoring step
// folds every shard's partials into the store's caches and reduces.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/munit-eval/munit-eval/batch"
	"github.com/munit-eval/munit-eval/inception"
	"github.com/munit-eval/munit-eval/internal/progress"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/translate"
)

// partials is Measure in a shard task: it runs the networks over the
// share of j's images that j.Shard owns, so that the values land in the
// shard's partials (the caches under PartialsDir), and computes no metric.
// Input i of a method (its K samples, its LPIPS pairs) belongs to shard
// i mod N, real image r (its features) to shard r mod N, and group g of
// the real-data row's pairs to shard g mod N: the shards together cover
// exactly what an unsharded Measure computes.
func (j *Job) partials(ctx context.Context, s *Scorers, k int) error {
	needs := registry.NeedsOf(j.Metrics)
	if needs.Has(registry.NeedPairs) {
		items, pairs, _, per, _, err := j.pairItems()
		if err != nil {
			return err
		}
		items, pairs = ownedPairs(items, pairs, per, j.Shard)
		j.log("LPIPS distances of shard " + j.Shard.String())
		e := j.embedder(s, len(items))
		_, err = e.PairDistances(ctx, items, pairs)
		e.Bar.Finish()
		j.warn(e.Warnings)
		if err != nil {
			return err
		}
	}
	if j.RealRow {
		return nil
	}
	if needs.Has(registry.NeedLogits) {
		j.log("classifier outputs of shard " + j.Shard.String())
		if err := j.runOwned(ctx, s.Classifier, owned(j.Set.items(k, 0), k, j.Shard), "classify"); err != nil {
			return err
		}
	}
	if needs.Has(registry.NeedFeatures) {
		clean := 0
		if j.Protocol.Resize == ResizeClean {
			clean = CleanSize
		}
		j.log("features of shard " + j.Shard.String())
		if err := j.runOwned(ctx, s.Features, owned(j.Set.items(k, clean), k, j.Shard), "features"); err != nil {
			return err
		}
		if j.Real != nil && j.RealStats == nil {
			// Apart from the samples, as features does: a batch never
			// mixes them.
			if err := j.runOwned(ctx, s.Features, owned(j.Real.items(1, clean), 1, j.Shard), "features"); err != nil {
				return err
			}
		}
	}
	return nil
}

// runOwned runs items through c into the shard's partials.
func (j *Job) runOwned(ctx context.Context, c *inception.Classifier, items []batch.Item, bar string) error {
	r := j.runner(c)
	r.Bar = progress.New(len(items), bar, j.Quiet)
	_, err := r.RunItems(ctx, items)
	r.Bar.Finish()
	j.warn(r.Warnings)
	return err
}

// owned keeps the items of the inputs s owns, per items to an input.
func owned(items []batch.Item, per int, s translate.Shard) []batch.Item {
	var out []batch.Item
	for i, it := range items {
		if s.Owns(i / per) {
			out = append(out, it)
		}
	}
	return out
}

// ownedPairs keeps the pairs of the groups s owns (per pairs to a group,
// in order) and the items they name, renumbered.
func ownedPairs(items []batch.Item, pairs [][2]int, per int, s translate.Shard) ([]batch.Item, [][2]int) {
	at := map[int]int{}
	var its []batch.Item
	var out [][2]int
	for q, ab := range pairs {
		if !s.Owns(q / per) {
			continue
		}
		var p [2]int
		for n, x := range ab {
			y, ok := at[x]
			if !ok {
				y = len(its)
				at[x] = y
				its = append(its, items[x])
			}
			p[n] = y
		}
		out = append(out, p)
	}
	return its, out
}

// ShardSet is the samples shard s owns in the store method folder
// methodDir, for its partials (translate.OpenShard): every input's K
// references, the inputs of other shards without their hashes.
func ShardSet(methodDir string, s translate.Shard) (*SampleSet, error) {
	st, err := translate.OpenShard(methodDir, s)
	if err != nil {
		return nil, err
	}
	return storeSet(st, st.NumInputs()), nil
}

// FoldPartials adds the records of every shard's partials in the store
// folder store (PartialsDir) to the store's caches, each cache opened once
// and the shards' logs merged into it in the order of their folders'
// names, and returns what a person should know: a partial that is not a
// valid cache log (its values are then computed from the samples, and
// Measure says how many). The caches are keyed by content and model, so
// the order of folding changes no value.
func FoldPartials(store string) (notes []string, err error) {
	root := filepath.Join(store, translate.CacheDirName, "partials")
	shards, err := os.ReadDir(root)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// srcs[kind/name] lists that cache's partials, shard by shard.
	srcs := map[string][]string{}
	var dsts []string
	for _, sh := range shards {
		if !sh.IsDir() {
			continue
		}
		for _, kind := range []string{"lpips", "classifier"} {
			ents, err := os.ReadDir(filepath.Join(root, sh.Name(), kind))
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				return notes, err
			}
			for _, e := range ents {
				name := e.Name()
				if e.IsDir() || !(strings.HasSuffix(name, ".pairs") || strings.HasSuffix(name, ".outputs")) {
					continue
				}
				dst := filepath.Join(kind, name)
				if srcs[dst] == nil {
					dsts = append(dsts, dst)
				}
				srcs[dst] = append(srcs[dst], filepath.Join(root, sh.Name(), kind, name))
			}
		}
	}
	for _, dst := range dsts {
		_, bad, err := batch.MergeLogs(filepath.Join(store, translate.CacheDirName, dst), srcs[dst])
		for _, b := range bad {
			notes = append(notes, fmt.Sprintf("%v: this partial is skipped; what it held is computed from the samples", b))
		}
		if err != nil {
			return notes, err
		}
	}
	return notes, nil
}
