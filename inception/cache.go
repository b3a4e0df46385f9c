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
// sizes ("classifier <sha256> K=<K> D=<D>", then " S=<S>" for a model with
// sFID's spatial output, so that the logs of models without one keep their
// name) and whose records hold, under the image's content key, its K logits,
// D features and S spatial features as float32. A
// record carries its key and (through its check) the model, so a record
// moved or swapped is a miss; a log of another K or D starts afresh.
type outputCache struct {
	log     *batch.Log
	k, d, s int
}

func openOutputCache(dir, modelSHA string, k, d, s int) (*outputCache, error) {
	id := fmt.Sprintf("classifier %s K=%d D=%d", modelSHA, k, d)
	if s > 0 {
		id += fmt.Sprintf(" S=%d", s)
	}
	l, err := batch.OpenLog(filepath.Join(dir, modelSHA+".outputs"), id, 4*(k+d+s))
	if err != nil {
		return nil, err
	}
	return &outputCache{log: l, k: k, d: d, s: s}, nil
}

// Get returns the output stored under key.
func (c *outputCache) Get(key string) (Output, bool, error) {
	b, ok := c.log.Get(key)
	if !ok {
		return Output{}, false, nil
	}
	v := make([]float32, c.k+c.d+c.s)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	o := Output{Logits: v[:c.k:c.k]}
	if c.d > 0 {
		o.Features = v[c.k : c.k+c.d : c.k+c.d]
	}
	if c.s > 0 {
		o.Spatial = v[c.k+c.d:]
	}
	return o, true, nil
}

// Put appends one batch's outputs in one write.
func (c *outputCache) Put(keys []string, outs []Output) error {
	for i, key := range keys {
		o := outs[i]
		if len(o.Logits) != c.k || len(o.Features) != c.d || len(o.Spatial) != c.s {
			return fmt.Errorf("an output of %d logits, %d features and %d spatial features, want %d, %d and %d", len(o.Logits), len(o.Features), len(o.Spatial), c.k, c.d, c.s)
		}
		b := make([]byte, 0, 4*(c.k+c.d+c.s))
		for _, v := range o.Logits {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		for _, part := range [][]float32{o.Features, o.Spatial} {
			for _, v := range part {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
			}
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
