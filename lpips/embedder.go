package lpips

import (
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

	"github.com/munit-eval/munit-eval/batch"
	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/atomicfile"
	"github.com/munit-eval/munit-eval/internal/progress"
)

// Embedder embeds image files through a Model with the batch engine
// (package batch), so that no image goes through the network twice in a
// run: every file is read once, hashed as it is read (and refused when a
// recorded hash says otherwise), and embedded in batches beside the
// decoders; a bounded memory cache serves images that recur.
//
// Two disk caches serve later runs, both under CacheDir ("" turns them off)
// and keyed by the LPIPS model's SHA-256 and the SHA-256 of the image bytes
// actually read, each record carrying its own key:
//
//   - the pair cache (CacheDir/<model-sha256>.pairs, always on with a
//     CacheDir): each distance StoreDiversity and RealDiversity compute,
//     about 150 bytes per pair. A rerun of the same protocol embeds nothing.
//   - the embedding cache (CacheDir/<model-sha256>/<key>.emb, only with
//     CacheEmbeddings): every value of each image's embedding, about 1 MB
//     per 256x256 image with AlexNet, so that a new pairing of the same
//     samples embeds nothing either. Writing it costs about a quarter of the
//     network's time per image, which is why it is not the default.
//
// An Embedder serves one call at a time.
type Embedder struct {
	m *Model
	// CacheDir is the disk caches' root ("" disables them).
	CacheDir string
	// CacheEmbeddings also keeps full embeddings on disk (the CLI's
	// --cache-embeddings), for re-pairing.
	CacheEmbeddings bool
	// Batch is the number of images per network run (default 16).
	Batch int
	// Bar, when not nil, counts images.
	Bar *progress.Bar
	// MemoryBytes bounds the in-memory cache (default 1 GiB), counting
	// each embedding's own values (the images of one batch share their
	// buffers, freed when the last of them is).
	MemoryBytes int64

	// Trust takes the pair distances (and embeddings) of images whose
	// SHA-256 is recorded (a store's manifest) from the caches under that
	// hash without reading the files (batch.Engine.Trust: the scoring step
	// of a sharded run, whose shards computed them); only the images of
	// pairs the caches lack are read.
	Trust bool

	eng *batch.Engine[*Embedding]
	// Computed and Reused count images embedded by the network and found in
	// a cache. Read them between calls.
	Computed, Reused int
	// Warnings collects, once each, what did not stop a call but should be
	// shown with its result (a cache that could not be written). Read them
	// between calls.
	Warnings []string
}

// NewEmbedder returns an Embedder for m with the disk caches under cacheDir.
func NewEmbedder(m *Model, cacheDir string) *Embedder {
	return &Embedder{m: m, CacheDir: cacheDir, Batch: 16, MemoryBytes: 1 << 30}
}

// Model returns the embedder's model.
func (e *Embedder) Model() *Model { return e.m }

// Embed returns the embeddings of refs, in order, embedding in batches only
// the images no cache holds. A ref's SHA256, when set, is verified against
// the file's bytes; Embed fills in the SHA-256 of refs that have none.
func (e *Embedder) Embed(refs []images.Ref) ([]*Embedding, error) {
	out := make([]*Embedding, len(refs))
	err := e.stream(context.Background(), batch.Items(refs), func(i int, r batch.Result[*Embedding]) error {
		out[i] = r.Value
		refs[i].SHA256 = r.SHA256
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// oneSize explains the refusal of images of different sizes.
const oneSize = "LPIPS compares images of one size (use --size)"

// network adapts a Model to the batch engine.
type network struct{ m *Model }

func (n network) Run(imgs []*images.Image) ([]*Embedding, error) { return n.m.Embed(imgs) }

// stream embeds items through the batch engine and calls fn for each, in
// index order, from the calling goroutine (see batch.Engine.Stream).
func (e *Embedder) stream(ctx context.Context, items []batch.Item, fn func(i int, r batch.Result[*Embedding]) error) error {
	if e.eng == nil {
		e.eng = &batch.Engine[*Embedding]{Name: "lpips", Net: network{e.m}, OneSize: oneSize,
			Sizer: func(emb *Embedding) int64 { return emb.bytes() }, Same: sameEmbedding}
	}
	e.eng.Batch, e.eng.MemoryBytes, e.eng.Trust = e.Batch, e.MemoryBytes, e.Trust
	e.eng.Computed, e.eng.Reused = e.Computed, e.Reused
	var cache batch.Cache[*Embedding]
	if e.CacheDir != "" && e.CacheEmbeddings {
		cache = &embCache{dir: filepath.Join(e.CacheDir, e.m.SHA256()), model: e.m.SHA256(), layers: e.m.Layers}
	}
	err := e.eng.Stream(ctx, items, cache, e.Bar, fn)
	e.Computed, e.Reused = e.eng.Computed, e.eng.Reused
	for _, w := range e.eng.Warnings {
		e.warn(w)
	}
	return err
}

// warn records a warning once.
func (e *Embedder) warn(w string) {
	for _, old := range e.Warnings {
		if old == w {
			return
		}
	}
	e.Warnings = append(e.Warnings, w)
}

// sameEmbedding compares a cached embedding with a recomputed one.
func sameEmbedding(c, f *Embedding) bool {
	if len(c.Layers) != len(f.Layers) {
		return false
	}
	for l := range f.Layers {
		if !batch.SameFloats(c.Layers[l], f.Layers[l]) {
			return false
		}
	}
	return true
}

func (emb *Embedding) bytes() int64 {
	n := int64(0)
	for _, l := range emb.Layers {
		n += int64(len(l)) * 4
	}
	return n
}

// embCache is the embedding cache: one file per image,
// <dir>/<key>.emb, dir being CacheDir/<model-sha256>.
type embCache struct {
	dir, model string
	layers     int
}

func (c *embCache) path(key string) string { return filepath.Join(c.dir, key+".emb") }

// The disk format, little-endian: magic, the model's SHA-256 and the image's
// cache key (each a uint8 length and the bytes: the record's own key, so a
// file moved or swapped under another name is a miss), the number of layers,
// each layer's C, H, W as uint32; then for each layer a bitmap of its
// nonzero values (bit i of byte i/8) followed by those values as float32;
// then a CRC-32 (IEEE) of everything before it. The taps follow ReLUs, so
// most values are zero (about 60% for AlexNet): the bitmap form takes about
// 40% of the plain float32 size and restores every value bit for bit.
var embMagic = [8]byte{'M', 'E', 'L', 'P', 'I', 'P', 'S', '3'}

// Put writes one file per embedding, atomically.
func (c *embCache) Put(keys []string, embs []*Embedding) error {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return fmt.Errorf("embedding cache: %w", err)
	}
	for i, key := range keys {
		err := atomicfile.WriteCacheFunc(c.path(key), 0o644, func(w io.Writer) error {
			_, err := w.Write(encodeEmbedding(c.model, key, embs[i]))
			return err
		})
		if err != nil {
			return fmt.Errorf("embedding cache: %w", err)
		}
	}
	return nil
}

// encodeEmbedding lays emb out in the disk format, in one buffer (one write).
func encodeEmbedding(model, key string, emb *Embedding) []byte {
	b := make([]byte, 0, 16+len(model)+len(key)+12*len(emb.Shapes)+int(emb.bytes())/2)
	b = append(b, embMagic[:]...)
	b = append(b, byte(len(model)))
	b = append(b, model...)
	b = append(b, byte(len(key)))
	b = append(b, key...)
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

// Get reads key's file; a damaged file, or one holding another model's or
// another image's embedding, is a miss (and a damaged one is removed).
func (c *embCache) Get(key string) (*Embedding, bool, error) {
	p := c.path(key)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("embedding cache: %w", err)
	}
	model, k, emb, err := decodeEmbedding(b)
	if err != nil || len(emb.Layers) != c.layers {
		// A damaged cache entry is recomputed, never trusted.
		os.Remove(p)
		return nil, false, nil
	}
	if model != c.model || k != key {
		return nil, false, nil
	}
	return emb, true, nil
}

// decodeEmbedding reads the disk format: the model hash and key the record
// carries, and the embedding.
func decodeEmbedding(b []byte) (model, key string, emb *Embedding, err error) {
	if len(b) < 14 || [8]byte(b[:8]) != embMagic {
		return "", "", nil, errors.New("bad magic")
	}
	body := b[:len(b)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return "", "", nil, errors.New("checksum mismatch")
	}
	off := 8
	str := func() (string, bool) {
		if off >= len(body) {
			return "", false
		}
		n := int(body[off])
		if off+1+n > len(body) {
			return "", false
		}
		s := string(body[off+1 : off+1+n])
		off += 1 + n
		return s, true
	}
	var ok1, ok2 bool
	model, ok1 = str()
	key, ok2 = str()
	if !ok1 || !ok2 || off+4 > len(body) {
		return "", "", nil, errors.New("bad header")
	}
	n := int(binary.LittleEndian.Uint32(body[off:]))
	off += 4
	if n <= 0 || n > 64 || len(body) < off+12*n {
		return "", "", nil, errors.New("bad header")
	}
	emb = &Embedding{Shapes: make([][3]int, n), Layers: make([][]float32, n)}
	for l := 0; l < n; l++ {
		for j := 0; j < 3; j++ {
			emb.Shapes[l][j] = int(binary.LittleEndian.Uint32(body[off:]))
			off += 4
		}
	}
	for l := 0; l < n; l++ {
		// Every value takes at least a bit of the file: a larger shape is
		// damage (checked factor by factor, so the product cannot overflow).
		limit, size := len(body)*8, 1
		for _, d := range emb.Shapes[l] {
			if d <= 0 || size > limit/d {
				return "", "", nil, errors.New("bad shape")
			}
			size *= d
		}
		if off+(size+7)/8 > len(body) {
			return "", "", nil, errors.New("truncated")
		}
		mask := body[off : off+(size+7)/8]
		off += len(mask)
		d := make([]float32, size)
		for j, m := range mask {
			// Runs of zeros after ReLU leave whole mask bytes empty.
			for ; m != 0; m &= m - 1 {
				i := 8*j + bits.TrailingZeros8(m)
				if i >= size || off+4 > len(body) {
					return "", "", nil, errors.New("truncated")
				}
				d[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[off:]))
				off += 4
			}
		}
		emb.Layers[l] = d
	}
	if off != len(body) {
		return "", "", nil, errors.New("trailing bytes")
	}
	return model, key, emb, nil
}
