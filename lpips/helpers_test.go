package lpips

import (
	"context"
	"fmt"

	"github.com/munit-eval/munit-eval/batch"
	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/translate"
)

// Options are the tests' diversity parameters (evaluate.Protocol in the
// program).
type Options struct {
	Pairing         Pairing
	Pairs           int
	SamplesPerInput int
	NumInputs       int
	Bootstrap       int
	Seed            int64
}

// summarize is the diversity of dist over m groups of the pairs, as the
// registry's LPIPS entry computes it.
func summarize(dist []float64, pairs [][2]int, m, per, k int, o Options, e *Embedder, pairing string) *results.Diversity {
	groups := make([][]float64, m)
	var rp []results.Pair
	for q, d := range dist {
		g := q / per
		groups[g] = append(groups[g], d)
		a, b := pairs[q][0], pairs[q][1]
		if k > 0 {
			a, b = a-g*k, b-g*k
		}
		rp = append(rp, results.Pair{Input: g, A: a, B: b, Distance: d})
	}
	div := registry.Summarize(groups, rp, o.Bootstrap, o.Seed)
	div.Pairing, div.PairsPerInput = pairing, per
	div.LPIPSNet, div.LPIPSVersion = e.m.Net, e.m.Version
	return div
}

// StoreDiversity is the diversity of the first o.NumInputs inputs of a
// store (all when 0) under o's pairing, through PairDistances.
func StoreDiversity(ctx context.Context, e *Embedder, st *translate.Store, o Options) (*results.Diversity, error) {
	k := SamplesNeeded(o.Pairing, o.Pairs, o.SamplesPerInput)
	if st.SamplesPerInput() < k {
		return nil, fmt.Errorf("%s holds %d samples per input, %d needed", st.Dir(), st.SamplesPerInput(), k)
	}
	m := st.NumInputs()
	if o.NumInputs > 0 {
		m = o.NumInputs
	}
	pairs := GroupPairs(o.Pairing, o.Pairs, k, m, 0)
	dist, err := e.PairDistances(ctx, batch.StoreItems(st, m, k), pairs)
	if err != nil {
		return nil, err
	}
	return summarize(dist, pairs, m, len(PairIndices(o.Pairing, o.Pairs, k, 0)), k, o, e, string(o.Pairing)), nil
}

// RealDiversity is the real-data row: o.NumInputs groups of o.Pairs random
// pairs of distinct real images.
func RealDiversity(ctx context.Context, e *Embedder, files []images.File, size int, o Options) (*results.Diversity, error) {
	items := make([]batch.Item, len(files))
	for i, f := range files {
		items[i] = batch.Item{Ref: images.Ref{Path: f.Path, Size: size}}
	}
	pairs := RandomPairs(o.Seed, len(files), o.NumInputs*o.Pairs)
	dist, err := e.PairDistances(ctx, items, pairs)
	if err != nil {
		return nil, err
	}
	return summarize(dist, pairs, o.NumInputs, o.Pairs, 0, o, e, "random real pairs"), nil
}
