package inception

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
)

// outputLog is the classifier's disk cache: one append-only file per model,
// CacheDir/<model-sha256>.outputs, with one record per image holding its K
// logits and D features. One file instead of one per image keeps the cache
// out of the hot path: a batch costs one write, not a file creation and a
// rename per image (which took longer than a small classifier's network).
//
// Format, little-endian: the header "MEVCLS01" + uint32 K + uint32 D, then
// records of uint8 key length, the key (the image's cache key), K+D float32
// values and a CRC-32 (IEEE) of the key and values. Reading stops at the
// first truncated or damaged record, and the file is cut back there, so a
// run killed mid-write loses at most the batch in flight and never trusts
// a torn record. A header of another K or D starts the file afresh.
type outputLog struct {
	path  string
	k, d  int
	index map[string][]float32
	f     *os.File
	buf   bytes.Buffer
}

var logMagic = [8]byte{'M', 'E', 'V', 'C', 'L', 'S', '0', '1'}

const logHeader = 16

func openLog(dir, modelSHA string, k, d int) (*outputLog, error) {
	l := &outputLog{path: filepath.Join(dir, modelSHA+".outputs"), k: k, d: d, index: map[string][]float32{}}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("inception: cache: %w", err)
	}
	b, err := os.ReadFile(l.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("inception: cache: %w", err)
	}
	good := l.parse(b)
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("inception: cache: %w", err)
	}
	if good == 0 {
		var h [logHeader]byte
		copy(h[:], logMagic[:])
		binary.LittleEndian.PutUint32(h[8:], uint32(k))
		binary.LittleEndian.PutUint32(h[12:], uint32(d))
		if err = f.Truncate(0); err == nil {
			_, err = f.WriteAt(h[:], 0)
		}
	} else if good < len(b) {
		err = f.Truncate(int64(good))
	}
	if err == nil {
		// Reopen for appending, so that two processes sharing a store add
		// records after each other instead of over each other.
		f.Close()
		f, err = os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND, 0o644)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("inception: cache %s: %w", l.path, err)
	}
	l.f = f
	return l, nil
}

// parse indexes the records of b and returns the length of its valid
// prefix (0 when the header is missing or of another shape).
func (l *outputLog) parse(b []byte) int {
	if len(b) < logHeader || [8]byte(b[:8]) != logMagic ||
		binary.LittleEndian.Uint32(b[8:]) != uint32(l.k) || binary.LittleEndian.Uint32(b[12:]) != uint32(l.d) {
		return 0
	}
	n := l.k + l.d
	off := logHeader
	for off < len(b) {
		kl := int(b[off])
		end := off + 1 + kl + 4*n + 4
		if kl == 0 || end > len(b) {
			break
		}
		body := b[off+1 : end-4]
		if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(b[end-4:]) {
			break
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[kl+4*i:]))
		}
		l.index[string(body[:kl])] = v
		off = end
	}
	return off
}

func (l *outputLog) get(key string) (Output, bool) {
	v, ok := l.index[key]
	if !ok {
		return Output{}, false
	}
	o := Output{Logits: v[:l.k]}
	if l.d > 0 {
		o.Features = v[l.k:]
	}
	return o, true
}

// add appends a record to the pending buffer; flush writes it.
func (l *outputLog) add(key string, o Output) error {
	if len(key) == 0 || len(key) > 255 {
		return fmt.Errorf("inception: cache key %q: length must be 1 to 255", key)
	}
	if len(o.Logits) != l.k || len(o.Features) != l.d {
		return fmt.Errorf("inception: cache: output of %d logits and %d features, want %d and %d", len(o.Logits), len(o.Features), l.k, l.d)
	}
	start := l.buf.Len()
	l.buf.WriteByte(byte(len(key)))
	l.buf.WriteString(key)
	var w [4]byte
	for _, v := range append(o.Logits[:l.k:l.k], o.Features...) {
		binary.LittleEndian.PutUint32(w[:], math.Float32bits(v))
		l.buf.Write(w[:])
	}
	binary.LittleEndian.PutUint32(w[:], crc32.ChecksumIEEE(l.buf.Bytes()[start+1:]))
	l.buf.Write(w[:])
	l.index[key] = append(append([]float32(nil), o.Logits...), o.Features...)
	return nil
}

func (l *outputLog) flush() error {
	if l.buf.Len() == 0 {
		return nil
	}
	_, err := l.f.Write(l.buf.Bytes())
	l.buf.Reset()
	if err != nil {
		return fmt.Errorf("inception: cache %s: %w", l.path, err)
	}
	return nil
}

func (l *outputLog) close() error {
	err := l.flush()
	if cerr := l.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("inception: cache %s: %w", l.path, cerr)
	}
	return err
}
