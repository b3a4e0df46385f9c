package lpips

import (
	"bufio"
	"container/list"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/atomicfile"
	"github.com/munit-eval/munit-eval/internal/progress"
)

// ImageRef names an image file and the key its embedding is cached under:
// the file's SHA-256, plus the resize when one is applied before embedding.
type ImageRef struct {
	Path   string
	SHA256 string
	// Size, when > 0, resizes the image (shorter side, centre crop) first.
	Size int
}

func (r ImageRef) key() string {
	if r.Size > 0 {
		return fmt.Sprintf("%s-s%d", r.SHA256, r.Size)
	}
	return r.SHA256
}

// Embedder embeds image files through a Model so that no image goes through
// the network twice: a bounded in-memory cache serves this run, and a disk
// cache (CacheDir/<model-sha256>/<key>.emb) serves later runs.
type Embedder struct {
	m *Model
	// CacheDir is the disk cache's root ("" disables it).
	CacheDir string
	// Batch is the number of images per network run (default 16).
	Batch int
	// Bar, when not nil, counts embedded images.
	Bar *progress.Bar
	// MemoryBytes bounds the in-memory cache (default 1 GiB).
	MemoryBytes int64

	lru   *list.List
	index map[string]*list.Element
	bytes int64
	// Computed and Reused count images embedded by the network and found in a cache.
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
// the images no cache holds.
func (e *Embedder) Embed(refs []ImageRef) ([]*Embedding, error) {
	out := make([]*Embedding, len(refs))
	var missing []int
	for i, r := range refs {
		if r.SHA256 == "" {
			h, err := images.HashFile(r.Path)
			if err != nil {
				return nil, fmt.Errorf("lpips: %w", err)
			}
			refs[i].SHA256 = h
			r = refs[i]
		}
		if emb := e.fromMemory(r.key()); emb != nil {
			out[i] = emb
			e.Reused++
			continue
		}
		if emb, err := e.fromDisk(r.key()); err != nil {
			return nil, err
		} else if emb != nil {
			out[i] = emb
			e.remember(r.key(), emb)
			e.Reused++
			e.Bar.Add(1)
			continue
		}
		missing = append(missing, i)
	}
	// Images already in this call's batch list are embedded once.
	first := map[string]int{}
	var todo []int
	for _, i := range missing {
		if _, dup := first[refs[i].key()]; !dup {
			first[refs[i].key()] = i
			todo = append(todo, i)
		}
	}
	batch := max(e.Batch, 1)
	for start := 0; start < len(todo); start += batch {
		idx := todo[start:min(start+batch, len(todo))]
		imgs := make([]*images.Image, len(idx))
		for j, i := range idx {
			img, err := loadRef(refs[i])
			if err != nil {
				return nil, err
			}
			if j > 0 && (img.W != imgs[0].W || img.H != imgs[0].H) {
				// LPIPS compares images of one size; a store or folder that mixes
				// sizes is an input error, not something to paper over.
				return nil, fmt.Errorf("lpips: %s is %dx%d but %s is %dx%d: LPIPS compares images of one size (use --size)",
					refs[i].Path, img.W, img.H, refs[idx[0]].Path, imgs[0].W, imgs[0].H)
			}
			imgs[j] = img
		}
		embs, err := e.m.Embed(imgs)
		if err != nil {
			return nil, fmt.Errorf("%w (images %s ...)", err, refs[idx[0]].Path)
		}
		for j, i := range idx {
			out[i] = embs[j]
			e.remember(refs[i].key(), embs[j])
			if err := e.toDisk(refs[i].key(), embs[j]); err != nil {
				return nil, err
			}
		}
		e.Computed += len(idx)
		e.Bar.Add(len(idx))
	}
	for _, i := range missing {
		if out[i] == nil {
			out[i] = out[first[refs[i].key()]]
		}
	}
	return out, nil
}

func loadRef(r ImageRef) (*images.Image, error) {
	img, err := images.Load(r.Path)
	if err != nil {
		return nil, fmt.Errorf("lpips: %w", err)
	}
	if r.Size > 0 {
		img = images.ResizeCrop(img, r.Size)
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

// The disk format: magic, the number of layers, each layer's C, H, W as
// uint32, then every layer's float32 values, all little-endian.
var embMagic = [8]byte{'M', 'E', 'L', 'P', 'I', 'P', 'S', '1'}

func (e *Embedder) toDisk(key string, emb *Embedding) error {
	if e.CacheDir == "" {
		return nil
	}
	p := e.diskPath(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("lpips: embedding cache: %w", err)
	}
	return atomicfile.WriteCacheFunc(p, 0o644, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<16)
		bw.Write(embMagic[:])
		binary.Write(bw, binary.LittleEndian, uint32(len(emb.Layers)))
		for _, s := range emb.Shapes {
			for _, d := range s {
				binary.Write(bw, binary.LittleEndian, uint32(d))
			}
		}
		buf := make([]byte, 4)
		for _, l := range emb.Layers {
			for _, v := range l {
				binary.LittleEndian.PutUint32(buf, math.Float32bits(v))
				bw.Write(buf)
			}
		}
		return bw.Flush()
	})
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
	if len(b) < 12 || [8]byte(b[:8]) != embMagic {
		return nil, errors.New("bad magic")
	}
	n := int(binary.LittleEndian.Uint32(b[8:]))
	off := 12
	if n <= 0 || n > 64 || len(b) < off+12*n {
		return nil, errors.New("bad header")
	}
	emb := &Embedding{Shapes: make([][3]int, n), Layers: make([][]float32, n)}
	total := 0
	for l := 0; l < n; l++ {
		for j := 0; j < 3; j++ {
			emb.Shapes[l][j] = int(binary.LittleEndian.Uint32(b[off:]))
			off += 4
		}
		total += emb.Shapes[l][0] * emb.Shapes[l][1] * emb.Shapes[l][2]
	}
	if len(b) != off+4*total {
		return nil, errors.New("truncated")
	}
	for l := 0; l < n; l++ {
		size := emb.Shapes[l][0] * emb.Shapes[l][1] * emb.Shapes[l][2]
		d := make([]float32, size)
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[off:]))
			off += 4
		}
		emb.Layers[l] = d
	}
	return emb, nil
}
