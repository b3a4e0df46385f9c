package lpips

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sync"

	"github.com/munit-eval/munit-eval/batch"
)

// pairCache is the default LPIPS disk cache: one distance per pair of
// images, in a batch.Log (CacheDir/<model-sha256>.pairs) whose id names the
// model and whose records carry the pair's key, the two images' content
// keys in order. About 150 bytes per pair instead of about 1 MB per image
// for full embeddings, so that writing it costs a first run next to nothing.
type pairCache struct {
	log *batch.Log
	err error // the first failed write; close warns
	// expect holds the records drawn for a spot check (batch.VerifyCache):
	// get reports them missing, add compares the recomputed distance;
	// bad is the first that differed.
	mu     sync.Mutex
	expect map[string]float64
	bad    error
}

// openPairs opens the pair cache, or returns nil when there is no CacheDir
// or it cannot be opened (a warning: the run goes on without it).
func (e *Embedder) openPairs() *pairCache {
	if e.CacheDir == "" {
		return nil
	}
	sha := e.m.SHA256()
	l, err := batch.OpenLog(filepath.Join(e.CacheDir, sha+".pairs"), "lpips-pairs "+sha, 8)
	if err != nil {
		e.warn(fmt.Sprintf("lpips: opening the pair cache failed (%v): continuing without it; use --no-cache to skip the cache", err))
		return nil
	}
	return &pairCache{log: l}
}

// pairKey is the cache key of the pair of images with content keys a and b.
// The distance is symmetric (each squared difference is exactly the same
// float either way), so the key names the two in sorted order.
func pairKey(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return a + " " + b
}

func (c *pairCache) get(a, b string) (float64, bool) {
	if c == nil {
		return 0, false
	}
	key := pairKey(a, b)
	v, ok := c.log.Get(key)
	if !ok {
		return 0, false
	}
	d := math.Float64frombits(binary.LittleEndian.Uint64(v))
	if f := batch.VerifyCache(); f > 0 && (f >= 1 || rand.Float64() < f) {
		c.mu.Lock()
		if c.expect == nil {
			c.expect = map[string]float64{}
		}
		c.expect[key] = d
		c.mu.Unlock()
		return 0, false
	}
	return d, true
}

func (c *pairCache) add(a, b string, d float64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	want, checked := c.expect[pairKey(a, b)]
	if checked && !(math.Abs(want-d) <= 1e-4*max(math.Abs(d), 1e-6)) && c.bad == nil {
		c.bad = fmt.Errorf("lpips: the cached distance of %s holds %g, recomputing gives %g: %s was changed after it was written (records carry a CRC against accidents, not edits); delete it, or run with --no-cache",
			pairKey(a, b), want, d, c.log.Path())
	}
	c.mu.Unlock()
	if checked || c.err != nil {
		return
	}
	// Keys of two SHA-256s with resize suffixes stay far below MaxKey.
	c.log.Add(pairKey(a, b), binary.LittleEndian.AppendUint64(nil, math.Float64bits(d)))
}

// check returns the error of a spot-checked record that differed.
func (c *pairCache) check() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bad
}

// flush writes the added pairs; after a failure the cache stops writing,
// and close turns the failure into one warning.
func (c *pairCache) flush() {
	if c == nil || c.err != nil {
		return
	}
	c.err = c.log.Flush()
}

// close flushes and closes the log, and warns of a failed write.
func (c *pairCache) close(e *Embedder) {
	if c == nil {
		return
	}
	c.flush()
	c.log.Close()
	if c.err != nil {
		e.warn(fmt.Sprintf("lpips: writing the pair cache failed (%v): continuing without it; use --no-cache to skip the cache", c.err))
	}
}
