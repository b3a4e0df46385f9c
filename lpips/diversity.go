package lpips

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/metrics"
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
// bootstrap interval over inputs. Sample files are keyed by the SHA-256 the
// store's manifest records.
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
	refs := make([]images.Ref, 0, m*k)
	for i := 0; i < m; i++ {
		for s := 0; s < k; s++ {
			refs = append(refs, images.Ref{Path: st.SamplePath(i, s), SHA256: st.SampleSHA256(i, s)})
		}
	}
	// One stream over every sample, so that batches run across inputs; an
	// input's distances are computed in another goroutine while the network
	// embeds the next inputs, and its embeddings are then let go.
	groups := make([][]float64, m)
	pairs := make([]results.Pair, 0, m*len(idx))
	inputs := make(chan []*Embedding, 1)
	distErr := make(chan error, 1)
	go func() {
		var first error
		i := 0
		for embs := range inputs {
			for _, p := range idx {
				if first != nil {
					break
				}
				d, _, err := Distance(embs[p[0]], embs[p[1]])
				if err != nil {
					first = fmt.Errorf("lpips: %s vs %s: %w", refs[i*k+p[0]].Path, refs[i*k+p[1]].Path, err)
					break
				}
				groups[i] = append(groups[i], d)
				pairs = append(pairs, results.Pair{Input: i, A: p[0], B: p[1], Distance: d})
			}
			i++
		}
		distErr <- first
	}()
	cur := make([]*Embedding, 0, k)
	err := e.stream(ctx, refs, func(_ int, emb *Embedding) error {
		cur = append(cur, emb)
		if len(cur) == k {
			inputs <- cur
			cur = make([]*Embedding, 0, k)
		}
		return nil
	})
	close(inputs)
	if derr := <-distErr; err == nil {
		err = derr
	}
	if err != nil {
		return nil, err
	}
	div := summarize(groups, pairs, o)
	div.Pairing = string(o.Pairing)
	div.PairsPerInput = len(idx)
	div.LPIPSNet, div.LPIPSVersion = e.m.Net, e.m.Version
	return div, nil
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
	refs := make([]images.Ref, n)
	for i, f := range files {
		refs[i] = images.Ref{Path: f.Path, Size: size}
	}
	groups := make([][]float64, m)
	var pairs []results.Pair
	for g := 0; g < m; g++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch := make([]images.Ref, 0, 2*p)
		for _, ab := range drawn[g*p : (g+1)*p] {
			batch = append(batch, refs[ab[0]], refs[ab[1]])
		}
		embs, err := e.Embed(batch)
		if err != nil {
			return nil, err
		}
		for j, ab := range drawn[g*p : (g+1)*p] {
			// Keep the hashes Embed computed, so each file is hashed once.
			refs[ab[0]].SHA256, refs[ab[1]].SHA256 = batch[2*j].SHA256, batch[2*j+1].SHA256
			d, _, err := Distance(embs[2*j], embs[2*j+1])
			if err != nil {
				return nil, fmt.Errorf("lpips: %s vs %s: %w", files[ab[0]].Path, files[ab[1]].Path, err)
			}
			groups[g] = append(groups[g], d)
			pairs = append(pairs, results.Pair{Input: g, A: ab[0], B: ab[1], Distance: d})
		}
	}
	div := summarize(groups, pairs, o)
	div.Pairing = "random real pairs"
	div.PairsPerInput = p
	div.LPIPSNet, div.LPIPSVersion = e.m.Net, e.m.Version
	return div, nil
}

// summarize computes the statistics of DESIGN.md §3 over all pairs: mean,
// sample std, standard error of the mean, and the percentile bootstrap
// interval over groups (inputs).
func summarize(groups [][]float64, pairs []results.Pair, o Options) *results.Diversity {
	all := make([]float64, len(pairs))
	for i, p := range pairs {
		all[i] = p.Distance
	}
	div := &results.Diversity{
		Mean:      metrics.Mean(all),
		N:         len(all),
		NumInputs: len(groups),
		Pairs:     pairs,
	}
	if len(all) >= 2 {
		div.Std = metrics.Std(all)
		div.Stderr = metrics.StdErr(all)
	}
	lo, hi, _ := metrics.BootstrapMeanCI(groups, o.Bootstrap, uint64(o.Seed), 0.95)
	div.CI95 = [2]float64{lo, hi}
	div.PerInputMean = make([]float64, len(groups))
	for i, g := range groups {
		div.PerInputMean[i] = metrics.Mean(g)
	}
	return div
}
