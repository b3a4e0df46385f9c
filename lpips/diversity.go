package lpips

import (
	"context"
	"fmt"
	"github.com/munit-eval/munit-eval/registry"
	"math/rand/v2"

	"github.com/munit-eval/munit-eval/batch"
	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/translate"
)

// Pairing is how the samples of one input are paired (DESIGN.md §3).
type Pairing string

// The pairings.
const (
	// Independent is the MUNIT protocol: 2P independently sampled outputs
	// per input, pairs (2j, 2j+1).
	Independent Pairing = "independent"
	// Consecutive is the BicycleGAN protocol: P+1 samples, pairs (j, j+1).
	Consecutive Pairing = "consecutive"
	// All pairs every two of K samples: K(K-1)/2 pairs.
	All Pairing = "all"
)

// ParsePairing checks a pairing name.
func ParsePairing(s string) (Pairing, error) {
	switch p := Pairing(s); p {
	case Independent, Consecutive, All:
		return p, nil
	}
	return "", fmt.Errorf("unknown pairing %q (want independent, consecutive or all)", s)
}

// SamplesNeeded is the number of samples per input a pairing needs for P
// pairs per input; for All it is k, the samples the user asked for.
func SamplesNeeded(p Pairing, pairs, k int) int {
	switch p {
	case Independent:
		return 2 * pairs
	case Consecutive:
		return pairs + 1
	}
	return k
}

// PairIndices lists the sample pairs of one input: (2j, 2j+1) for
// Independent, (j, j+1) for Consecutive (j < pairs), and every (a, b) with
// a < b < k for All.
func PairIndices(p Pairing, pairs, k int) [][2]int {
	var out [][2]int
	switch p {
	case Independent:
		for j := 0; j < pairs; j++ {
			out = append(out, [2]int{2 * j, 2*j + 1})
		}
	case Consecutive:
		for j := 0; j < pairs; j++ {
			out = append(out, [2]int{j, j + 1})
		}
	case All:
		for a := 0; a < k; a++ {
			for b := a + 1; b < k; b++ {
				out = append(out, [2]int{a, b})
			}
		}
	}
	return out
}

// Options are the diversity functions' parameters. The protocol, with the
// paper's defaults and its bounds, is evaluate.Protocol, which fills them.
type Options struct {
	Pairing Pairing
	// Pairs per input (Independent, Consecutive).
	Pairs int
	// SamplesPerInput is K for All.
	SamplesPerInput int
	// NumInputs is how many inputs to use (0: all the store has).
	NumInputs int
	// Bootstrap resamples for the interval over inputs.
	Bootstrap int
	Seed      int64
}

// Validate checks the options (a guard for direct callers; evaluate.Protocol
// validates what users give).
func (o Options) Validate() error {
	if _, err := ParsePairing(string(o.Pairing)); err != nil {
		return err
	}
	if o.Pairing == All {
		if o.SamplesPerInput < 2 {
			return fmt.Errorf("pairing all needs at least 2 samples per input, got %d", o.SamplesPerInput)
		}
	} else if o.Pairs < 1 {
		return fmt.Errorf("need at least 1 pair per input, got %d", o.Pairs)
	}
	if o.NumInputs < 0 {
		return fmt.Errorf("negative number of inputs %d", o.NumInputs)
	}
	if o.Bootstrap < 1 {
		return fmt.Errorf("need at least 1 bootstrap resample, got %d", o.Bootstrap)
	}
	return nil
}

// StoreDiversity measures the LPIPS diversity of a method's samples: for
// each of the first NumInputs inputs, the distances of the pairs the pairing
// names, then their mean, sample std, standard error and a percentile
// bootstrap interval over inputs. Every sample file is verified against the
// SHA-256 its manifest records as it is read (a changed sample is refused,
// naming the file); distances and embeddings are cached by the hashes of
// the bytes read.
func StoreDiversity(ctx context.Context, e *Embedder, st *translate.Store, o Options) (*results.Diversity, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	k := SamplesNeeded(o.Pairing, o.Pairs, o.SamplesPerInput)
	if have := st.SamplesPerInput(); have < k {
		return nil, fmt.Errorf("lpips: %s holds %d samples per input; %s pairing with %d pairs needs %d (run translate with --samples-per-input %d)",
			st.Dir(), have, o.Pairing, o.Pairs, k, k)
	}
	m := st.NumInputs()
	if o.NumInputs > 0 {
		if o.NumInputs > m {
			return nil, fmt.Errorf("lpips: %s holds %d inputs, %d asked for", st.Dir(), m, o.NumInputs)
		}
		m = o.NumInputs
	}
	idx := PairIndices(o.Pairing, o.Pairs, k)
	items := batch.StoreItems(st, m, k)
	// dist[i][j] is pair j of input i, known[i][j] whether it came from the
	// pair cache; a sample is embedded only when one of its pairs did not.
	dist := make([][]float64, m)
	known := make([][]bool, m)
	for i := range dist {
		dist[i], known[i] = make([]float64, len(idx)), make([]bool, len(idx))
	}
	pc := e.openPairs()
	defer pc.close(e)
	var keys []string
	if pc != nil {
		// The pair cache is keyed by content, so every sample is read and
		// hashed (and verified against the manifest) before any lookup.
		var err error
		if keys, err = batch.Hash(ctx, "lpips", items); err != nil {
			return nil, err
		}
		for i := range items {
			items[i].SHA256 = keys[i]
		}
	}
	var run []int // indices into items, input-major
	needs := make([]int, m)
	for i := 0; i < m; i++ {
		need := make([]bool, k)
		for j, p := range idx {
			if d, ok := pc.get(keyAt(keys, i*k+p[0]), keyAt(keys, i*k+p[1])); ok {
				dist[i][j], known[i][j] = d, true
				continue
			}
			need[p[0]], need[p[1]] = true, true
		}
		for s, n := range need {
			if n {
				run = append(run, i*k+s)
				needs[i]++
			}
		}
	}
	e.Bar.Add(len(items) - len(run))
	// One stream over every sample to embed, so that batches run across
	// inputs; an input's distances are computed in another goroutine while
	// the network embeds the next inputs, and its embeddings are then let go.
	type input struct {
		i    int
		embs map[int]batch.Result[*Embedding]
	}
	inputs := make(chan input, 1)
	distErr := make(chan error, 1)
	go func() {
		var first error
		for in := range inputs {
			if first != nil {
				continue
			}
			for j, p := range idx {
				if known[in.i][j] {
					continue
				}
				a, b := in.embs[p[0]], in.embs[p[1]]
				d, _, err := Distance(a.Value, b.Value)
				if err != nil {
					first = fmt.Errorf("lpips: %s vs %s: %w", items[in.i*k+p[0]].Path, items[in.i*k+p[1]].Path, err)
					break
				}
				dist[in.i][j] = d
				pc.add(a.SHA256, b.SHA256, d)
			}
			pc.flush()
		}
		distErr <- first
	}()
	runItems := make([]batch.Item, len(run))
	for x, it := range run {
		runItems[x] = items[it]
	}
	cur := input{i: -1}
	err := e.stream(ctx, runItems, func(x int, r batch.Result[*Embedding]) error {
		i, s := run[x]/k, run[x]%k
		if i != cur.i {
			cur = input{i: i, embs: map[int]batch.Result[*Embedding]{}}
		}
		cur.embs[s] = r
		if len(cur.embs) == needs[i] {
			inputs <- cur
		}
		return nil
	})
	close(inputs)
	if derr := <-distErr; err == nil {
		err = derr
	}
	if err == nil {
		err = pc.check()
	}
	if err != nil {
		return nil, err
	}
	groups := make([][]float64, m)
	pairs := make([]results.Pair, 0, m*len(idx))
	for i := range dist {
		groups[i] = dist[i]
		for j, p := range idx {
			pairs = append(pairs, results.Pair{Input: i, A: p[0], B: p[1], Distance: dist[i][j]})
		}
	}
	div := registry.Summarize(groups, pairs, o.Bootstrap, o.Seed)
	div.Pairing = string(o.Pairing)
	div.PairsPerInput = len(idx)
	div.LPIPSNet, div.LPIPSVersion = e.m.Net, e.m.Version
	return div, nil
}

// keyAt is keys[i], or "" when there are no keys (no pair cache).
func keyAt(keys []string, i int) string {
	if keys == nil {
		return ""
	}
	return keys[i]
}

// RealPairsWarning returns a warning when n real images hold fewer distinct
// pairs than the drawn number (pairs are drawn with replacement, so the row
// then repeats pairs and its interval understates the spread), or "".
func RealPairsWarning(n, drawn int) string {
	if distinct := n * (n - 1) / 2; distinct < drawn {
		return fmt.Sprintf("the real-data row draws %d pairs from %d images, which hold only %d distinct pairs: pairs repeat and the interval is too narrow", drawn, n, distinct)
	}
	return ""
}

// RealDiversity is the "real data" row: LPIPS between Pairs x NumInputs
// pairs of distinct real images drawn with the seed, grouped NumInputs
// groups of Pairs for the bootstrap. size > 0 resizes every image first.
func RealDiversity(ctx context.Context, e *Embedder, files []images.File, size int, o Options) (*results.Diversity, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if len(files) < 2 {
		return nil, fmt.Errorf("lpips: the real data row needs at least 2 images, the folder has %d", len(files))
	}
	m, p := o.NumInputs, o.Pairs
	if m == 0 {
		m = 100
	}
	if o.Pairing == All {
		p = o.SamplesPerInput * (o.SamplesPerInput - 1) / 2
	}
	// Draw all pairs first, so the pairs do not depend on cache state.
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x4c50495053524541)) // "LPIPSREA"
	n := len(files)
	drawn := make([][2]int, 0, m*p)
	for range m * p {
		a := rng.IntN(n)
		b := rng.IntN(n - 1)
		if b >= a {
			b++
		}
		drawn = append(drawn, [2]int{a, b})
	}
	items := make([]batch.Item, n)
	for i, f := range files {
		items[i] = batch.Item{Ref: images.Ref{Path: f.Path, Size: size}}
	}
	dist := make([]float64, len(drawn))
	pc := e.openPairs()
	defer pc.close(e)
	var run []batch.Item // the two images of each pair the cache lacks
	var runPair []int
	if pc != nil {
		shas, err := batch.Hash(ctx, "lpips", items)
		if err != nil {
			return nil, err
		}
		for i := range items {
			items[i].SHA256 = shas[i]
		}
	}
	for q, ab := range drawn {
		a, b := items[ab[0]], items[ab[1]]
		if d, ok := pc.get(images.KeyOf(a.SHA256, size), images.KeyOf(b.SHA256, size)); ok {
			dist[q] = d
			continue
		}
		run = append(run, a, b)
		runPair = append(runPair, q)
	}
	// One stream over the images of every pair to compute; images that
	// recur come from the memory cache.
	var prev batch.Result[*Embedding]
	err := e.stream(ctx, run, func(x int, r batch.Result[*Embedding]) error {
		if x%2 == 0 {
			prev = r
			return nil
		}
		q := runPair[x/2]
		d, _, err := Distance(prev.Value, r.Value)
		if err != nil {
			return fmt.Errorf("lpips: %s vs %s: %w", files[drawn[q][0]].Path, files[drawn[q][1]].Path, err)
		}
		dist[q] = d
		pc.add(images.KeyOf(prev.SHA256, size), images.KeyOf(r.SHA256, size), d)
		return nil
	})
	if err == nil {
		err = pc.check()
	}
	if err != nil {
		return nil, err
	}
	groups := make([][]float64, m)
	var pairs []results.Pair
	for g := 0; g < m; g++ {
		for q := g * p; q < (g+1)*p; q++ {
			groups[g] = append(groups[g], dist[q])
			pairs = append(pairs, results.Pair{Input: g, A: drawn[q][0], B: drawn[q][1], Distance: dist[q]})
		}
	}
	div := registry.Summarize(groups, pairs, o.Bootstrap, o.Seed)
	div.Pairing = "random real pairs"
	div.PairsPerInput = p
	div.LPIPSNet, div.LPIPSVersion = e.m.Net, e.m.Version
	return div, nil
}
