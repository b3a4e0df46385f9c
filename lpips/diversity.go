package lpips

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/munit-eval/munit-eval/batch"
)

// Pairing is how the samples of one input are paired (docs/metrics.md).
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
	// Random draws P distinct pairs among the K(K-1)/2 pairs of K samples,
	// seeded, the same pairs for every input (MSGAN's 50 random pairs of
	// 50 outputs; docs/protocols.md).
	Random Pairing = "random"
)

// ParsePairing checks a pairing name.
func ParsePairing(s string) (Pairing, error) {
	switch p := Pairing(s); p {
	case Independent, Consecutive, All, Random:
		return p, nil
	}
	return "", fmt.Errorf("unknown pairing %q (want independent, consecutive, all or random)", s)
}

// SamplesNeeded is the number of samples per input a pairing needs for P
// pairs per input; for All and Random it is k, the samples the user asked
// for.
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
// Independent, (j, j+1) for Consecutive (j < pairs), every (a, b) with
// a < b < k for All, and for Random min(pairs, k(k-1)/2) distinct pairs
// a < b < k drawn without replacement with the seed (the others ignore it).
func PairIndices(p Pairing, pairs, k int, seed int64) [][2]int {
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
	case Random:
		out = randomDistinctPairs(pairs, k, seed)
	}
	return out
}

// randomDistinctPairs draws n of the k(k-1)/2 pairs a < b < k without
// replacement (a partial Fisher-Yates shuffle of the pairs' ranks, in
// the order drawn), from a stream of its own seeded by seed.
func randomDistinctPairs(n, k int, seed int64) [][2]int {
	total := k * (k - 1) / 2
	n = min(n, total)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x4c5049505352414e)) // "LPIPSRAN"
	swapped := map[int]int{}                                       // the partial shuffle's moved ranks
	at := func(i int) int {
		if v, ok := swapped[i]; ok {
			return v
		}
		return i
	}
	out := make([][2]int, 0, n)
	for i := range n {
		j := i + rng.IntN(total-i)
		r := at(j)
		swapped[j] = at(i)
		// rank r -> (a, b): rows a hold k-1-a pairs each.
		a, left := 0, r
		for left >= k-1-a {
			left -= k - 1 - a
			a++
		}
		out = append(out, [2]int{a, a + 1 + left})
	}
	return out
}

// GroupPairs lists the pairing's pairs of each of m groups of k items laid
// out group after group (sample s of input i is item i*k+s): pair j of
// group i is entry i*len(PairIndices(p, pairs, k))+j.
func GroupPairs(p Pairing, pairs, k, m int, seed int64) [][2]int {
	idx := PairIndices(p, pairs, k, seed)
	out := make([][2]int, 0, m*len(idx))
	for i := range m {
		for _, ab := range idx {
			out = append(out, [2]int{i*k + ab[0], i*k + ab[1]})
		}
	}
	return out
}

// RandomPairs draws n pairs of two distinct indices below count with the
// seed: the real-data row's pairs of real images. The draw depends on the
// seed alone, never on what a cache holds.
func RandomPairs(seed int64, count, n int) [][2]int {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x4c50495053524541)) // "LPIPSREA"
	out := make([][2]int, 0, n)
	for range n {
		a := rng.IntN(count)
		b := rng.IntN(count - 1)
		if b >= a {
			b++
		}
		out = append(out, [2]int{a, b})
	}
	return out
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

// PairDistances returns the LPIPS distance of every pair (a, b) of items
// (indices into items), in order: the one computation behind the diversity
// of a method's samples (GroupPairs) and the real-data row (RandomPairs),
// whatever holds the images (a store, a folder). Every file is read once
// and hashed as it is read, and refused when an item's recorded SHA-256
// (a store's manifest) says otherwise. With a CacheDir every pair is first
// looked up in the pair cache, keyed by the two images' content keys (so
// every item is read and hashed before any lookup, but with Trust those
// whose hash is recorded); only the images of the
// pairs it lacks are embedded, each once, in one stream in the order the
// pairs first need them, and each embedding is let go once its last pair
// is computed (for the pairs of one input: when the input is done). The
// distances are computed on another goroutine while the network embeds
// the next images.
func (e *Embedder) PairDistances(ctx context.Context, items []batch.Item, pairs [][2]int) ([]float64, error) {
	dist := make([]float64, len(pairs))
	pc := e.openPairs()
	defer pc.close(e)
	if pc != nil {
		// With Trust, a recorded hash is the key as it stands: the files
		// of pairs the cache holds are never read.
		var idx []int
		var read []batch.Item
		for i, it := range items {
			if !e.Trust || it.SHA256 == "" {
				idx, read = append(idx, i), append(read, it)
			}
		}
		keys, err := batch.Hash(ctx, "lpips", read)
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			items[i].SHA256 = keys[j]
		}
	}
	// todo lists the pairs the cache lacks; order the images to embed, in
	// the order the pairs first need them; uses[x] the pairs of todo still
	// to compute with image x, whose embedding is let go at 0.
	var todo []int
	var order []int
	uses := map[int]int{}
	for q, ab := range pairs {
		a, b := items[ab[0]], items[ab[1]]
		if d, ok := pc.get(a.KeyFor(a.SHA256), b.KeyFor(b.SHA256)); ok {
			dist[q] = d
			continue
		}
		for _, x := range ab {
			if uses[x] == 0 {
				order = append(order, x)
			}
			uses[x]++
		}
		todo = append(todo, q)
	}
	e.Bar.Add(len(items) - len(order))
	// ready[n] lists the pairs of todo whose images are all embedded once
	// the n-th image of order is.
	pos := make(map[int]int, len(order))
	for n, x := range order {
		pos[x] = n
	}
	ready := make([][]int, len(order))
	for t, q := range todo {
		n := max(pos[pairs[q][0]], pos[pairs[q][1]])
		ready[n] = append(ready[n], t)
	}
	type job struct {
		q    int
		a, b batch.Result[*Embedding]
	}
	jobs := make(chan []job, 4)
	distErr := make(chan error, 1)
	go func() {
		var first error
		for js := range jobs {
			if first != nil {
				continue
			}
			for _, j := range js {
				d, _, err := Distance(j.a.Value, j.b.Value)
				if err != nil {
					ab := pairs[j.q]
					first = fmt.Errorf("lpips: %s vs %s: %w", items[ab[0]].Path, items[ab[1]].Path, err)
					break
				}
				dist[j.q] = d
				pc.add(items[pairs[j.q][0]].KeyFor(j.a.SHA256), items[pairs[j.q][1]].KeyFor(j.b.SHA256), d)
			}
			if len(jobs) == 0 {
				pc.flush() // one write for what has come in since the last
			}
		}
		distErr <- first
	}()
	runItems := make([]batch.Item, len(order))
	for n, x := range order {
		runItems[n] = items[x]
	}
	live := map[int]batch.Result[*Embedding]{}
	err := e.stream(ctx, runItems, func(n int, r batch.Result[*Embedding]) error {
		live[order[n]] = r
		if len(ready[n]) == 0 {
			return nil
		}
		js := make([]job, len(ready[n]))
		for i, t := range ready[n] {
			q := todo[t]
			a, b := pairs[q][0], pairs[q][1]
			js[i] = job{q: q, a: live[a], b: live[b]}
			for _, x := range [2]int{a, b} {
				if uses[x]--; uses[x] == 0 {
					delete(live, x)
				}
			}
		}
		jobs <- js
		return nil
	})
	close(jobs)
	if derr := <-distErr; err == nil {
		err = derr
	}
	if err == nil {
		err = pc.check() // a spot-checked cache record that differs (--verify-cache)
	}
	if err != nil {
		return nil, err
	}
	return dist, nil
}
