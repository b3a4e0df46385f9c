package inception

import (
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"

	"github.com/munit-eval/munit-eval/batch"
)

// outputCache is the classifier's disk cache: a batch.Log per model,
// CacheDir/<model-sha256>.outputs, whose id names the model and the output
// sizes ("classifier <sha256> K=<K> D=<D>") and whose records hold, under
// the image's content key, its K logits and D features as float32. A
// record carries its key and (through its check) the model, so a record
// moved or swapped is a miss; a log of another K or D starts afresh.
type outputCache struct {
	log  *batch.Log
	k, d int
}

func openOutputCache(dir, modelSHA string, k, d int) (*outputCache, error) {
	l, err := batch.OpenLog(filepath.Join(dir, modelSHA+".outputs"), fmt.Sprintf("classifier %s K=%d D=%d", modelSHA, k, d), 4*(k+d))
	if err != nil {
		return nil, err
	}
	return &outputCache{log: l, k: k, d: d}, nil
}

// Get returns the output stored under key.
func (c *outputCache) Get(key string) (Output, bool, error) {
	b, ok := c.log.Get(key)
	if !ok {
		return Output{}, false, nil
	}
	v := make([]float32, c.k+c.d)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	o := Output{Logits: v[:c.k:c.k]}
	if c.d > 0 {
		o.Features = v[c.k:]
	}
	return o, true, nil
}

// Put appends one batch's outputs in one write.
func (c *outputCache) Put(keys []string, outs []Output) error {
	for i, key := range keys {
		o := outs[i]
		if len(o.Logits) != c.k || len(o.Features) != c.d {
			return fmt.Errorf("an output of %d logits and %d features, want %d and %d", len(o.Logits), len(o.Features), c.k, c.d)
		}
		b := make([]byte, 0, 4*(c.k+c.d))
		for _, v := range o.Logits {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		for _, v := range o.Features {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		if err := c.log.Add(key, b); err != nil {
			return err
		}
	}
	return c.log.Flush()
}

func (c *outputCache) close() error { return c.log.Close() }

// Path is the cache's file, for messages.
func (c *outputCache) Path() string { return c.log.Path() }
