package lpips

import (
	"container/list"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"sync"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/atomicfile"
	"github.com/munit-eval/munit-eval/internal/progress"
)

// Embedder embeds image files through a Model so that no image goes through
// the network twice: a bounded in-memory cache serves this run, and a disk
// cache (CacheDir/<model-sha256>/<key>.emb) serves later runs. Decoding,
// cache reads and cache writes run on goroutines beside the network (see
// stream). An Embedder serves one call at a time.
//
// The disk cache holds every value of the embedding, its zeros as bits:
// about 1 MB per 256x256 image with AlexNet (4 GB for the paper's 100 inputs
// x 38 samples), and writing it costs about a quarter of the network's time
// per image; CacheDir "" turns it off.
type Embedder struct {
	m *Model
	// CacheDir is the disk cache's root ("" disables it).
	CacheDir string
	// Batch is the number of images per network run (default 16).
	Batch int
	// Bar, when not nil, counts embedded images.
	Bar *progress.Bar
	// MemoryBytes bounds the in-memory cache (default 1 GiB), counting
	// each embedding's own values (the images of one batch share their
	// buffers, freed when the last of them is).
	MemoryBytes int64

	// mu guards the memory cache and the counters while a call runs.
	mu    sync.Mutex
	lru   *list.List
	index map[string]*list.Element
	bytes int64
	// Computed and Reused count images embedded by the network and found in
	// a cache. Read them between calls.
	Computed, Reused int
}

type lruEntry struct {
	key string
	emb *Embedding
}

// NewEmbedder returns an Embedder for m with the disk cache under cacheDir.
func NewEmbedder(m *Model, cacheDir string) *Embedder {
	return &Embedder{m: m, CacheDir: cacheDir, Batch: 16, MemoryBytes: 1 << 30,
		lru: list.New(), index: map[string]*list.Element{}}
}

// Model returns the embedder's model.
func (e *Embedder) Model() *Model { return e.m }

// Embed returns the embeddings of refs, in order, embedding in batches only
// the images no cache holds. It fills in the SHA-256 of refs that have none.
func (e *Embedder) Embed(refs []images.Ref) ([]*Embedding, error) {
	for i := range refs {
		if err := refs[i].Hash(); err != nil {
			return nil, fmt.Errorf("lpips: %w", err)
		}
	}
	out := make([]*Embedding, len(refs))
	err := e.stream(context.Background(), refs, func(i int, emb *Embedding) error {
		out[i] = emb
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// stream embeds refs (whose SHA256 must be set) and calls fn(i, emb) for
// every ref in index order, from the calling goroutine, as soon as the
// embeddings up to i are known. fn must not keep the calling goroutine
// long: the network waits for it.
//
// The work is a pipeline of three goroutines, so that onnxruntime (the
// calling goroutine) never waits for files:
//
//   - a loader walks refs in order: an embedding in the memory or disk cache
//     is passed on as it is; any other image is decoded and added to the
//     next batch, which is sent once it holds Batch images (batches run
//     across the boundaries of whatever groups the caller has in refs). An
//     image already waiting for the network is not decoded twice.
//   - the calling goroutine runs each batch through the network, then hands
//     the results to fn in index order.
//   - a writer stores new embeddings in the disk cache.
//
// The first error stops every stage.
func (e *Embedder) stream(ctx context.Context, refs []images.Ref, fn func(i int, emb *Embedding) error) error {
	ctx, cancel := context.WithCancel(ctx)
	msgs := make(chan loaderMsg, 2*max(e.Batch, 1))
	pending := map[string]*slot{} // images waiting for the network, by cache key; guarded by e.mu
	loaderDone := make(chan struct{})
	go func() {
		e.load(ctx, refs, pending, msgs)
		close(loaderDone)
	}()
	// On any return, stop the loader and wait for it, so that nothing runs
	// on after the call.
	defer func() {
		cancel()
		<-loaderDone
	}()

	writes := make(chan cacheWrite, 2*max(e.Batch, 1))
	writeErr := make(chan error, 1)
	go func(writes <-chan cacheWrite) {
		var first error
		for w := range writes {
			if first == nil {
				first = e.toDisk(w.key, w.emb)
			}
		}
		writeErr <- first
	}(writes)
	finishWrites := func() error {
		if writes == nil {
			return nil
		}
		close(writes)
		writes = nil
		return <-writeErr
	}
	defer finishWrites()

	ready := map[int]*Embedding{}
	next := 0
	emit := func() error {
		for {
			emb, ok := ready[next]
			if !ok {
				return nil
			}
			delete(ready, next)
			if err := fn(next, emb); err != nil {
				return err
			}
			next++
		}
	}
	for msg := range msgs {
		if msg.err != nil {
			return msg.err
		}
		if msg.emb != nil {
			ready[msg.index] = msg.emb
		} else {
			embs, err := e.m.Embed(msg.imgs)
			if err != nil {
				return fmt.Errorf("%w (images %s ...)", err, refs[msg.batch[0].idx[0]].Path)
			}
			for j, s := range msg.batch {
				e.mu.Lock()
				e.remember(s.key, embs[j])
				delete(pending, s.key)
				idx := s.idx
				e.mu.Unlock()
				for _, i := range idx {
					ready[i] = embs[j]
				}
				if e.CacheDir != "" {
					writes <- cacheWrite{s.key, embs[j]}
				}
			}
			e.mu.Lock()
			e.Computed += len(msg.batch)
			e.mu.Unlock()
			e.Bar.Add(len(msg.batch))
		}
		if err := emit(); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if next != len(refs) {
		return fmt.Errorf("lpips: internal error: %d of %d embeddings produced", next, len(refs))
	}
	return finishWrites()
}

// A slot is an image waiting for the network, with the indices of every ref
// that names it.
type slot struct {
	key string
	idx []int
}

// loaderMsg is a cached embedding (emb, index) or a batch of decoded images
// (imgs, one slot each), or an error that ends the stream.
type loaderMsg struct {
	index int
	emb   *Embedding
	imgs  []*images.Image
	batch []*slot
	err   error
}

type cacheWrite struct {
	key string
	emb *Embedding
}

// load is the stream's loader goroutine; it closes msgs when done.
func (e *Embedder) load(ctx context.Context, refs []images.Ref, pending map[string]*slot, msgs chan<- loaderMsg) {
	defer close(msgs)
	send := func(m loaderMsg) bool {
		select {
		case msgs <- m:
			return m.err == nil
		case <-ctx.Done():
			return false
		}
	}
	batch := max(e.Batch, 1)
	var cur loaderMsg
	for i, r := range refs {
		if ctx.Err() != nil {
			return
		}
		key := r.CacheKey()
		e.mu.Lock()
		if s, ok := pending[key]; ok {
			// Already waiting for the network: embedded once.
			s.idx = append(s.idx, i)
			e.mu.Unlock()
			continue
		}
		emb := e.fromMemory(key)
		if emb != nil {
			e.Reused++
		}
		e.mu.Unlock()
		if emb == nil {
			var err error
			if emb, err = e.fromDisk(key); err != nil {
				send(loaderMsg{err: err})
				return
			}
			if emb != nil {
				e.mu.Lock()
				e.remember(key, emb)
				e.Reused++
				e.mu.Unlock()
				e.Bar.Add(1)
			}
		}
		if emb != nil {
			if !send(loaderMsg{index: i, emb: emb}) {
				return
			}
			continue
		}
		img, err := loadRef(r)
		if err == nil && len(cur.imgs) > 0 && (img.W != cur.imgs[0].W || img.H != cur.imgs[0].H) {
			// LPIPS compares images of one size; a store or folder that mixes
			// sizes is an input error, not something to paper over.
			err = fmt.Errorf("lpips: %s is %dx%d but %s is %dx%d: LPIPS compares images of one size (use --size)",
				r.Path, img.W, img.H, refs[cur.batch[0].idx[0]].Path, cur.imgs[0].W, cur.imgs[0].H)
		}
		if err != nil {
			send(loaderMsg{err: err})
			return
		}
		s := &slot{key: key, idx: []int{i}}
		e.mu.Lock()
		pending[key] = s
		e.mu.Unlock()
		cur.imgs = append(cur.imgs, img)
		cur.batch = append(cur.batch, s)
		if len(cur.imgs) == batch {
			if !send(cur) {
				return
			}
			cur = loaderMsg{}
		}
	}
	if len(cur.imgs) > 0 {
		send(cur)
	}
}

func loadRef(r images.Ref) (*images.Image, error) {
	img, err := r.Load()
	if err != nil {
		return nil, fmt.Errorf("lpips: %w", err)
	}
	return img, nil
}

func (e *Embedder) fromMemory(key string) *Embedding {
	if el, ok := e.index[key]; ok {
		e.lru.MoveToFront(el)
		return el.Value.(*lruEntry).emb
	}
	return nil
}

func (e *Embedder) remember(key string, emb *Embedding) {
	if _, ok := e.index[key]; ok {
		return
	}
	e.index[key] = e.lru.PushFront(&lruEntry{key, emb})
	e.bytes += emb.bytes()
	for e.bytes > e.MemoryBytes && e.lru.Len() > 1 {
		last := e.lru.Back()
		ent := last.Value.(*lruEntry)
		e.lru.Remove(last)
		delete(e.index, ent.key)
		e.bytes -= ent.emb.bytes()
	}
}

func (emb *Embedding) bytes() int64 {
	n := int64(0)
	for _, l := range emb.Layers {
		n += int64(len(l)) * 4
	}
	return n
}

func (e *Embedder) diskPath(key string) string {
	return filepath.Join(e.CacheDir, e.m.SHA256(), key+".emb")
}

// The disk format, little-endian: magic, the number of layers, each layer's
// C, H, W as uint32; then for each layer a bitmap of its nonzero values (bit
// i of byte i/8) followed by those values as float32; then a CRC-32 (IEEE)
// of everything before it. The taps follow ReLUs, so most values are zero
// (about 60% for AlexNet): the bitmap form takes about 40% of the plain
// float32 size and restores every value bit for bit.
var embMagic = [8]byte{'M', 'E', 'L', 'P', 'I', 'P', 'S', '2'}

func (e *Embedder) toDisk(key string, emb *Embedding) error {
	if e.CacheDir == "" {
		return nil
	}
	p := e.diskPath(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("lpips: embedding cache: %w", err)
	}
	return atomicfile.WriteCacheFunc(p, 0o644, func(w io.Writer) error {
		_, err := w.Write(encodeEmbedding(emb))
		return err
	})
}

// encodeEmbedding lays emb out in the disk format, in one buffer (one write).
func encodeEmbedding(emb *Embedding) []byte {
	b := make([]byte, 0, 16+12*len(emb.Shapes)+int(emb.bytes())/2)
	b = append(b, embMagic[:]...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(emb.Layers)))
	for _, s := range emb.Shapes {
		for _, d := range s {
			b = binary.LittleEndian.AppendUint32(b, uint32(d))
		}
	}
	for _, l := range emb.Layers {
		mask := len(b)
		b = append(b, make([]byte, (len(l)+7)/8)...)
		for i, v := range l {
			if u := math.Float32bits(v); u != 0 {
				b[mask+i/8] |= 1 << (i % 8)
				b = binary.LittleEndian.AppendUint32(b, u)
			}
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

func (e *Embedder) fromDisk(key string) (*Embedding, error) {
	if e.CacheDir == "" {
		return nil, nil
	}
	p := e.diskPath(key)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("lpips: embedding cache: %w", err)
	}
	emb, err := decodeEmbedding(b)
	if err != nil || len(emb.Layers) != e.m.Layers {
		// A damaged cache entry is recomputed, never trusted.
		os.Remove(p)
		return nil, nil
	}
	return emb, nil
}

func decodeEmbedding(b []byte) (*Embedding, error) {
	if len(b) < 16 || [8]byte(b[:8]) != embMagic {
		return nil, errors.New("bad magic")
	}
	body := b[:len(b)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, errors.New("checksum mismatch")
	}
	n := int(binary.LittleEndian.Uint32(body[8:]))
	off := 12
	if n <= 0 || n > 64 || len(body) < off+12*n {
		return nil, errors.New("bad header")
	}
	emb := &Embedding{Shapes: make([][3]int, n), Layers: make([][]float32, n)}
	for l := 0; l < n; l++ {
		for j := 0; j < 3; j++ {
			emb.Shapes[l][j] = int(binary.LittleEndian.Uint32(body[off:]))
			off += 4
		}
	}
	for l := 0; l < n; l++ {
		size := emb.Shapes[l][0] * emb.Shapes[l][1] * emb.Shapes[l][2]
		if size <= 0 || size > len(body)*8 || off+(size+7)/8 > len(body) {
			return nil, errors.New("truncated")
		}
		mask := body[off : off+(size+7)/8]
		off += len(mask)
		d := make([]float32, size)
		for j, m := range mask {
			// Runs of zeros after ReLU leave whole mask bytes empty.
			for ; m != 0; m &= m - 1 {
				i := 8*j + bits.TrailingZeros8(m)
				if i >= size || off+4 > len(body) {
					return nil, errors.New("truncated")
				}
				d[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[off:]))
				off += 4
			}
		}
		emb.Layers[l] = d
	}
	if off != len(body) {
		return nil, errors.New("trailing bytes")
	}
	return emb, nil
}
