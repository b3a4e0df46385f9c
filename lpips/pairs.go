package lpips

import (
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"

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
	v, ok := c.log.Get(pairKey(a, b))
	if !ok {
		return 0, false
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(v)), true
}

func (c *pairCache) add(a, b string, d float64) {
	if c == nil || c.err != nil {
		return
	}
	// Keys of two SHA-256s with resize suffixes stay far below MaxKey.
	c.log.Add(pairKey(a, b), binary.LittleEndian.AppendUint64(nil, math.Float64bits(d)))
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
