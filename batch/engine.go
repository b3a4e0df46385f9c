// Package batch is the one engine that runs image files through a network:
// images -> session -> per-image cache. The LPIPS embedder and the
// classifier runner are both an Engine around their own Network and Cache.
//
// The engine's opinion: a value derived from an image is keyed by the bytes
// that were actually read, never by what a manifest says they should be.
// Every file is read once and hashed as it is read; a file whose hash
// differs from the one recorded for it is refused, naming the file; the
// cache is consulted with the hash of the bytes read; and only on a miss
// are those same bytes decoded. A changed file can therefore never be
// served a stale cached value, and a cache record carries its own key, so a
// moved or swapped record is a miss.
//
// Work overlaps so that the network (the caller's goroutine) never waits
// for files: a loader reads, hashes and looks up in order, decoders
// (resizing included) run on their own goroutines a few batches ahead, and
// a writer stores new values in the cache.
package batch

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/progress"
)

// Network is the model an Engine runs: one output per image of a batch.
// Tests fake it; lpips and inception wrap their onnxruntime sessions.
type Network[T any] interface {
	// Run runs one batch of decoded images, all of one size, and returns
	// one output per image, in order.
	Run(imgs []*images.Image) ([]T, error)
}

// Cache is a per-image store of outputs that outlives a run, keyed by the
// image's content key (images.KeyOf: the SHA-256 of the bytes read, plus
// the resize). Implementations must treat a damaged record, or one whose
// own key is not the key asked for, as a miss.
type Cache[T any] interface {
	// Get returns the output stored under key. An error (the cache could
	// not be read) is reported as a warning and the value recomputed.
	Get(key string) (T, bool, error)
	// Put stores one batch's outputs, from the engine's writer goroutine.
	// An error (a full disk) is reported once as a warning; the run goes
	// on without writing.
	Put(keys []string, vals []T) error
}

// Item is one image file to run: its path, the SHA-256 recorded for it
// (verified against the bytes read; "" when none is recorded) and its
// resize. Hint, when set, ends the error for a file that does not match its
// recorded hash or does not decode: how to repair it (a store's samples say
// to rerun translate).
type Item struct {
	images.Ref
	Hint string
}

// Engine runs Items through Net in batches, behind a memory cache and an
// optional Cache. An Engine serves one Stream at a time; its memory cache
// and counters last across calls.
type Engine[T any] struct {
	// Name prefixes errors and warnings ("lpips", "inception").
	Name string
	// Net is the network.
	Net Network[T]
	// Batch is the number of images per network run (default 16).
	Batch int
	// Workers is the number of goroutines decoding images (default
	// GOMAXPROCS).
	Workers int
	// OneSize, when set, makes a batch of images of different sizes an
	// error naming two of them, ending with this explanation; when empty,
	// such a batch runs as one network run per size.
	OneSize string
	// MemoryBytes bounds the memory cache (0: none), each value counted
	// as Sizer says.
	MemoryBytes int64
	Sizer       func(T) int64
	// Verify is the share of disk cache hits recomputed and compared with
	// the record (0: none; VerifyCache's when 0), chosen at random, and Same
	// the comparison (fresh values may differ from a record in the last
	// bits: the batch around an image differs). A record that differs is an
	// error naming the image and the cache: the cache was changed. Records
	// carry a CRC, which finds accidents, not edits.
	Verify float64
	Same   func(cached, fresh T) bool
	// Trust makes an item whose SHA-256 is recorded (a store's manifest)
	// and whose value a cache holds under that hash a hit without reading
	// the file: the scoring step of a sharded run, whose shards computed
	// the values from those very bytes (verified against the manifest) and
	// whose samples need not be read again). Items without a recorded
	// hash, misses, and every item while cache records are spot-checked
	// (Verify, VerifyCache) are read and verified as ever.
	Trust bool

	mu    sync.Mutex
	lru   *list.List
	index map[string]*list.Element
	bytes int64
	// Computed and Reused count images run through the network and found
	// in a cache, Verified the cache records recomputed and found equal.
	// Read them between calls.
	Computed, Reused, Verified int
	// Warnings collects what a caller should show but that did not stop
	// the run (a cache that could not be written), each once.
	Warnings []string
}

type lruEntry[T any] struct {
	key string
	v   T
}

// Result is the value of one Item, with the SHA-256 of the bytes read.
type Result[T any] struct {
	SHA256 string
	Value  T
}

// Stream runs items and calls fn(i, r) for every item in index order, from
// the calling goroutine, as soon as the values up to i are known. Images
// that repeat (the same content and resize, in this call or in the memory
// cache) run once. fn must return quickly: the network waits for it. The
// first error (a file that cannot be read or decoded, a hash mismatch, a
// network error, ctx) stops every stage; cache problems are warnings. bar,
// when not nil, counts every item as it is delivered.
func (e *Engine[T]) Stream(ctx context.Context, items []Item, cache Cache[T], bar *progress.Bar, fn func(i int, r Result[T]) error) error {
	if e.Net == nil {
		return fmt.Errorf("%s: no network", e.Name)
	}
	batch := max(e.Batch, 1)
	ctx, cancel := context.WithCancel(ctx)
	s := &stream[T]{
		e: e, items: items, cache: cache, batch: batch,
		msgs:      make(chan msg[T], 2*batch),
		pending:   map[string]*slot[T]{},
		unwritten: map[string]T{},
		inflight:  make(chan struct{}, 3*batch),
	}
	workers := e.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	s.decode = make(chan struct{}, workers)
	loaderDone := make(chan struct{})
	go func() {
		s.load(ctx)
		close(loaderDone)
	}()
	// On any return, stop the loader and the decoders and wait for them,
	// so that nothing runs on after the call.
	defer func() {
		cancel()
		<-loaderDone
		s.decoders.Wait()
	}()

	var writes chan write[T]
	writeDone := make(chan struct{})
	if cache != nil {
		writes = make(chan write[T], 4)
		go func(writes <-chan write[T]) {
			defer close(writeDone)
			failed := false
			for w := range writes {
				if failed {
					continue
				}
				if err := cache.Put(w.keys, w.vals); err != nil {
					failed = true
					e.warn(fmt.Sprintf("%s: writing the cache failed (%v): continuing without it; use --no-cache to skip the cache", e.Name, err))
				}
				e.mu.Lock()
				for _, k := range w.keys {
					delete(s.unwritten, k)
				}
				e.mu.Unlock()
			}
		}(writes)
	} else {
		close(writeDone)
	}
	finishWrites := func() {
		if writes != nil {
			close(writes)
			writes = nil
		}
		<-writeDone
	}
	defer finishWrites()

	ready := map[int]Result[T]{}
	next := 0
	emit := func() error {
		for {
			r, ok := ready[next]
			if !ok {
				return nil
			}
			delete(ready, next)
			if err := fn(next, r); err != nil {
				return err
			}
			bar.Add(1)
			next++
		}
	}
	for m := range s.msgs {
		if m.err != nil {
			return m.err
		}
		if m.batch == nil {
			ready[m.index] = m.res
		} else {
			vals, err := s.run(ctx, m.batch)
			if err != nil {
				return err
			}
			var keys []string
			var fresh []T
			for j, sl := range m.batch {
				if sl.verify {
					if e.Same != nil && !e.Same(sl.cached, vals[j]) {
						return s.tampered(sl)
					}
					e.mu.Lock()
					e.Verified++
					e.mu.Unlock()
				} else {
					keys, fresh = append(keys, sl.key), append(fresh, vals[j])
				}
				e.mu.Lock()
				e.remember(sl.key, vals[j])
				delete(s.pending, sl.key)
				idx := sl.idx
				e.Computed++
				e.mu.Unlock()
				for _, i := range idx {
					ready[i] = Result[T]{SHA256: sl.sha, Value: vals[j]}
				}
			}
			for range m.batch {
				<-s.inflight
			}
			if writes != nil && len(keys) > 0 {
				e.mu.Lock()
				for j, k := range keys {
					s.unwritten[k] = fresh[j]
				}
				e.mu.Unlock()
				writes <- write[T]{keys, fresh}
			}
		}
		if err := emit(); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if next != len(items) {
		return fmt.Errorf("%s: internal error: %d of %d values produced", e.Name, next, len(items))
	}
	finishWrites()
	return nil
}

// warn records a warning once.
func (e *Engine[T]) warn(w string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, old := range e.Warnings {
		if old == w {
			return
		}
	}
	e.Warnings = append(e.Warnings, w)
}

// stream is the state of one Stream call.
type stream[T any] struct {
	e     *Engine[T]
	items []Item
	cache Cache[T]
	batch int
	msgs  chan msg[T]
	// pending holds the images waiting for the network, by key; guarded
	// by e.mu.
	pending map[string]*slot[T]
	// unwritten holds the values on their way to the cache, so that an
	// image repeated meanwhile is not run again; guarded by e.mu.
	unwritten map[string]T
	// first is the index and size of the first image run, for OneSize.
	first     int
	firstSize [2]int
	// inflight bounds the slots decoded or decoding and not yet run (3
	// batches: the loader can always fill the batch it holds).
	inflight chan struct{}
	// decode bounds the decoders running at once.
	decode   chan struct{}
	decoders sync.WaitGroup
}

// A slot is one image waiting for the network, with every index that names
// it (first is the first of them, for messages); done closes when img (or
// err) is set.
type slot[T any] struct {
	key, sha string
	first    int
	idx      []int
	done     chan struct{}
	img      *images.Image
	err      error
	// verify is set when the slot recomputes a cache record, cached.
	verify bool
	cached T
}

// msg is a known value (res for index), a batch of slots, or the error that
// ends the stream.
type msg[T any] struct {
	index int
	res   Result[T]
	batch []*slot[T]
	err   error
}

type write[T any] struct {
	keys []string
	vals []T
}

// load is the loader goroutine: it walks the items in order and closes
// s.msgs when done.
func (s *stream[T]) load(ctx context.Context) {
	defer close(s.msgs)
	e := s.e
	send := func(m msg[T]) bool {
		select {
		case s.msgs <- m:
			return m.err == nil
		case <-ctx.Done():
			return false
		}
	}
	// seen maps a path and resize already read in this call to its SHA-256,
	// so a file named twice is read once.
	type pathSize struct {
		path string
		size int
	}
	seen := map[pathSize]string{}
	var cur []*slot[T]
	for i, it := range s.items {
		if ctx.Err() != nil {
			return
		}
		if e.Trust && it.SHA256 != "" && e.Verify == 0 && VerifyCache() == 0 {
			if v, ok := s.trusted(it); ok {
				if !send(msg[T]{index: i, res: Result[T]{SHA256: it.SHA256, Value: v}}) {
					return
				}
				continue
			}
		}
		var data []byte
		sha, ok := seen[pathSize{it.Path, it.Size}]
		if ok && it.SHA256 != "" && it.SHA256 != sha {
			send(msg[T]{err: s.itemErr(it, &images.MismatchError{Path: it.Path, Want: it.SHA256, Got: sha})})
			return
		}
		if !ok {
			var err error
			if data, sha, err = it.Read(); err != nil {
				send(msg[T]{err: s.itemErr(it, err)})
				return
			}
			seen[pathSize{it.Path, it.Size}] = sha
		}
		key := it.KeyFor(sha)
		e.mu.Lock()
		if sl, ok := s.pending[key]; ok {
			// Already waiting for the network: run once.
			sl.idx = append(sl.idx, i)
			e.mu.Unlock()
			continue
		}
		v, hit := e.recall(key)
		if !hit {
			v, hit = s.unwritten[key]
		}
		if hit {
			e.Reused++
		}
		e.mu.Unlock()
		var verify bool
		var cached T
		if !hit && s.cache != nil {
			got, ok, err := s.cache.Get(key)
			switch {
			case err != nil:
				e.warn(fmt.Sprintf("%s: reading the cache failed (%v): recomputing", e.Name, err))
			case ok && e.spotCheck():
				verify, cached = true, got
			case ok:
				v, hit = got, true
				e.mu.Lock()
				e.remember(key, v)
				e.Reused++
				e.mu.Unlock()
			}
		}
		if hit {
			if !send(msg[T]{index: i, res: Result[T]{SHA256: sha, Value: v}}) {
				return
			}
			continue
		}
		if data == nil {
			// Read earlier in this call, since evicted: read again, and
			// make sure it is still the same content.
			r := it.Ref
			r.SHA256 = sha
			var err error
			if data, _, err = r.Read(); err != nil {
				send(msg[T]{err: s.itemErr(it, err)})
				return
			}
		}
		select {
		case s.inflight <- struct{}{}:
		case <-ctx.Done():
			return
		}
		sl := &slot[T]{key: key, sha: sha, first: i, idx: []int{i}, done: make(chan struct{}), verify: verify, cached: cached}
		e.mu.Lock()
		s.pending[key] = sl
		e.mu.Unlock()
		s.decoders.Add(1)
		go func(it Item, data []byte) {
			defer s.decoders.Done()
			defer close(sl.done)
			select {
			case s.decode <- struct{}{}:
			case <-ctx.Done():
				sl.err = ctx.Err()
				return
			}
			defer func() { <-s.decode }()
			img, err := it.Decoded(data)
			if err != nil {
				sl.err = s.itemErr(it, err)
				return
			}
			sl.img = img
		}(it, data)
		cur = append(cur, sl)
		if len(cur) == s.batch {
			if !send(msg[T]{batch: cur}) {
				return
			}
			cur = nil
		}
	}
	if len(cur) > 0 {
		send(msg[T]{batch: cur})
	}
}

// trusted looks up an item by its recorded SHA-256 (Engine.Trust) in the
// memory cache, then the disk cache, without reading its file.
func (s *stream[T]) trusted(it Item) (T, bool) {
	e, key := s.e, it.KeyFor(it.SHA256)
	e.mu.Lock()
	v, hit := e.recall(key)
	if hit {
		e.Reused++
	}
	e.mu.Unlock()
	if hit || s.cache == nil {
		return v, hit
	}
	got, ok, err := s.cache.Get(key)
	if err != nil || !ok {
		return v, false
	}
	e.mu.Lock()
	e.remember(key, got)
	e.Reused++
	e.mu.Unlock()
	return got, true
}

// spotCheck draws whether a cache hit is recomputed (Verify, or the
// process-wide VerifyCache).
func (e *Engine[T]) spotCheck() bool {
	f := e.Verify
	if f == 0 {
		f = VerifyCache()
	}
	return f > 0 && (f >= 1 || rand.Float64() < f)
}

// tampered is the error for a cache record that the network's value
// contradicts.
func (s *stream[T]) tampered(sl *slot[T]) error {
	where := "the cache"
	if p, ok := s.cache.(interface{ Path() string }); ok {
		where = p.Path()
	}
	return fmt.Errorf("%s: the cached value of %s differs from the one recomputed from the image: %s was changed after it was written (records carry a CRC against accidents, not edits); delete it, or run with --no-cache",
		s.e.Name, s.items[sl.first].Path, where)
}

// itemErr wraps an item's read or decode error with the engine's name and
// the item's repair hint; a hash mismatch is said in words.
func (s *stream[T]) itemErr(it Item, err error) error {
	var mm *images.MismatchError
	if errors.As(err, &mm) {
		err = fmt.Errorf("%s was changed after its hash was recorded: it has sha256 %s, the record says %s", mm.Path, mm.Got, mm.Want)
	}
	if it.Hint != "" {
		return fmt.Errorf("%s: %w; %s", s.e.Name, err, it.Hint)
	}
	return fmt.Errorf("%s: %w", s.e.Name, err)
}

// run waits for a batch's images and runs them through the network, one
// run per size when sizes are mixed and allowed.
func (s *stream[T]) run(ctx context.Context, b []*slot[T]) ([]T, error) {
	imgs := make([]*images.Image, len(b))
	for j, sl := range b {
		select {
		case <-sl.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if sl.err != nil {
			return nil, sl.err
		}
		imgs[j] = sl.img
	}
	e := s.e
	type size struct{ w, h int }
	groups := map[size][]int{}
	var order []size
	for j, m := range imgs {
		k := size{m.W, m.H}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], j)
	}
	if e.OneSize != "" {
		if s.firstSize == [2]int{} {
			s.first, s.firstSize = b[0].first, [2]int{imgs[0].W, imgs[0].H}
		}
		for j, m := range imgs {
			if [2]int{m.W, m.H} != s.firstSize {
				return nil, fmt.Errorf("%s: %s is %dx%d but %s is %dx%d: %s", e.Name,
					s.items[b[j].first].Path, m.W, m.H, s.items[s.first].Path, s.firstSize[0], s.firstSize[1], e.OneSize)
			}
		}
	}
	out := make([]T, len(imgs))
	for _, k := range order {
		idx := groups[k]
		sub := make([]*images.Image, len(idx))
		for j, i := range idx {
			sub[j] = imgs[i]
		}
		vals, err := e.Net.Run(sub)
		if err != nil {
			return nil, fmt.Errorf("%w (images %s ...)", err, s.items[b[idx[0]].first].Path)
		}
		if len(vals) != len(sub) {
			return nil, fmt.Errorf("%s: the network gave %d outputs for %d images (images %s ...)", e.Name, len(vals), len(sub), s.items[b[idx[0]].first].Path)
		}
		for j, i := range idx {
			out[i] = vals[j]
		}
	}
	return out, nil
}

// recall returns the memory cache's value for key; e.mu must be held.
func (e *Engine[T]) recall(key string) (T, bool) {
	if el, ok := e.index[key]; ok {
		e.lru.MoveToFront(el)
		return el.Value.(*lruEntry[T]).v, true
	}
	var zero T
	return zero, false
}

// remember puts a value in the memory cache, evicting the least recently
// used beyond MemoryBytes; e.mu must be held.
func (e *Engine[T]) remember(key string, v T) {
	if e.MemoryBytes <= 0 || e.Sizer == nil {
		return
	}
	if e.lru == nil {
		e.lru, e.index = list.New(), map[string]*list.Element{}
	}
	if _, ok := e.index[key]; ok {
		return
	}
	e.index[key] = e.lru.PushFront(&lruEntry[T]{key, v})
	e.bytes += e.Sizer(v)
	for e.bytes > e.MemoryBytes && e.lru.Len() > 1 {
		last := e.lru.Back()
		ent := last.Value.(*lruEntry[T])
		e.lru.Remove(last)
		delete(e.index, ent.key)
		e.bytes -= e.Sizer(ent.v)
	}
}
