package batch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/munit-eval/munit-eval/internal/atomicfile"
)

// Log is an append-only file of keyed, fixed-size records: the disk cache of
// values that are small per image (classifier logits and features) or per
// pair (LPIPS distances). One file instead of one per key keeps the cache
// out of the hot path: a batch costs one write, not a file creation and a
// rename per image.
//
// Format, little-endian: the magic "MEVLOG02", uint32 value size, uint8
// length of the id, the id (what the file caches, with the model's SHA-256,
// e.g. "classifier <sha256> K=4 D=16"); then records of uint8 key length,
// the key, the value, and a CRC-32 (IEEE) of the id, the key and the
// value. A record therefore carries its own key and the model it belongs
// to: a record moved into another file, or a value swapped into another
// record, fails its check and is a miss. Reading stops at the first
// truncated or damaged record and the file is cut back there, so a run
// killed mid-write loses at most the batch in flight. A header of another
// id or value size starts the file afresh. Two processes may append to one
// log: each batch is one write to a file opened for appending.
type Log struct {
	path string
	id   string
	size int
	seed uint32 // CRC-32 of the id, the start of every record's check

	mu    sync.Mutex
	index map[string][]byte
	f     *os.File
	buf   bytes.Buffer
}

var logMagic = [8]byte{'M', 'E', 'V', 'L', 'O', 'G', '0', '2'}

// MaxKey is the longest key a Log record holds.
const MaxKey = 255

// OpenLog opens (creating it and its folder if needed) the log at path for
// values of size bytes under the given id, keeping the valid records of an
// existing file that has the same id and size.
func OpenLog(path, id string, size int) (*Log, error) {
	if len(id) > 255 || size < 0 {
		return nil, fmt.Errorf("cache %s: bad id or value size", path)
	}
	l := newLog(path, id, size)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	// Never through a link or into a FIFO: the log is truncated and
	// appended to, so a planted link would overwrite its target.
	f, err := atomicfile.OpenNoFollow(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	good := l.parse(b)
	if good == 0 {
		if err = f.Truncate(0); err == nil {
			_, err = f.WriteAt(l.header(), 0)
		}
	} else if good < len(b) {
		err = f.Truncate(int64(good))
	}
	if err == nil {
		// Reopen for appending, so that two processes sharing a store add
		// records after each other instead of over each other; the same
		// file, not whatever the path names by now.
		var app *os.File
		if app, err = atomicfile.OpenNoFollow(path, os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			a, err1 := f.Stat()
			b, err2 := app.Stat()
			if err1 != nil || err2 != nil || !os.SameFile(a, b) {
				app.Close()
				err = errors.New("the file was replaced while it was opened")
			}
		}
		f.Close()
		f = app
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	l.f = f
	return l, nil
}

func newLog(path, id string, size int) *Log {
	return &Log{path: path, id: id, size: size, seed: crc32.ChecksumIEEE([]byte(id)), index: map[string][]byte{}}
}

func (l *Log) header() []byte {
	h := append([]byte(nil), logMagic[:]...)
	h = binary.LittleEndian.AppendUint32(h, uint32(l.size))
	h = append(h, byte(len(l.id)))
	return append(h, l.id...)
}

// parse indexes the records of b and returns the length of its valid
// prefix (0 when the header is missing or of another id or size).
func (l *Log) parse(b []byte) int {
	h := l.header()
	if !bytes.HasPrefix(b, h) {
		return 0
	}
	off := len(h)
	for off < len(b) {
		kl := int(b[off])
		end := off + 1 + kl + l.size + 4
		if kl == 0 || end > len(b) {
			break
		}
		body := b[off+1 : end-4]
		if crc32.Update(l.seed, crc32.IEEETable, body) != binary.LittleEndian.Uint32(b[end-4:]) {
			break
		}
		l.index[string(body[:kl])] = body[kl:]
		off = end
	}
	return off
}

// Get returns the value stored under key (shared: do not modify it).
func (l *Log) Get(key string) ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.index[key]
	return v, ok
}

// Add stores value under key in memory and in the pending buffer; Flush
// writes the buffer.
func (l *Log) Add(key string, value []byte) error {
	if len(key) == 0 || len(key) > MaxKey {
		return fmt.Errorf("cache key %q: length must be 1 to %d", key, MaxKey)
	}
	if len(value) != l.size {
		return fmt.Errorf("cache %s: a value of %d bytes, want %d", l.path, len(value), l.size)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	start := l.buf.Len()
	l.buf.WriteByte(byte(len(key)))
	l.buf.WriteString(key)
	l.buf.Write(value)
	l.buf.Write(binary.LittleEndian.AppendUint32(nil, crc32.Update(l.seed, crc32.IEEETable, l.buf.Bytes()[start+1:])))
	l.index[key] = append([]byte(nil), value...)
	return nil
}

// Flush appends the pending records to the file in one write.
func (l *Log) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() == 0 {
		return nil
	}
	_, err := l.f.Write(l.buf.Bytes())
	l.buf.Reset()
	if err != nil {
		return fmt.Errorf("cache %s: %w", l.path, err)
	}
	return nil
}

// Close flushes and closes the file.
func (l *Log) Close() error {
	err := l.Flush()
	if cerr := l.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("cache %s: %w", l.path, cerr)
	}
	return err
}

// Path returns the log's file.
func (l *Log) Path() string { return l.path }

// MergeLogs adds to the log at dst the valid records of the logs at srcs
// that dst lacks, each source's in key order, the sources in the order
// given; dst is opened once (created with the first readable source's id
// and value size when it does not exist, started afresh when it has
// another). It returns how many records it added. A source that is not a
// log, or one of another id or value size than dst's, is skipped and
// returned in bad as an error naming it; its damaged tail is skipped, as
// OpenLog would. It is how the scoring step of a sharded run folds the
// shards' partials (logs each shard wrote alone) into the store's cache.
func MergeLogs(dst string, srcs []string) (added int, bad []error, err error) {
	var out *Log
	defer func() {
		if out != nil {
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
	}()
	for _, src := range srcs {
		in, err := readLog(src)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		if out == nil {
			if out, err = OpenLog(dst, in.id, in.size); err != nil {
				return added, bad, err
			}
		}
		if in.id != out.id || in.size != out.size {
			bad = append(bad, fmt.Errorf("cache %s: holds %q records of %d bytes, %s %q of %d", src, in.id, in.size, dst, out.id, out.size))
			continue
		}
		keys := make([]string, 0, len(in.index))
		for k := range in.index {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if _, ok := out.Get(k); ok {
				continue
			}
			if err := out.Add(k, in.index[k]); err != nil {
				return added, bad, err
			}
			added++
		}
		if err := out.Flush(); err != nil {
			return added, bad, err
		}
	}
	return added, bad, nil
}

// readLog reads the log at path, whatever its id and value size, keeping
// the records of its valid prefix.
func readLog(path string) (*Log, error) {
	f, err := atomicfile.OpenNoFollow(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	h := len(logMagic) + 4 + 1
	if len(b) < h || !bytes.Equal(b[:len(logMagic)], logMagic[:]) || len(b) < h+int(b[h-1]) {
		return nil, fmt.Errorf("cache %s: not a cache log (no %s header)", path, logMagic[:])
	}
	l := newLog(path, string(b[h:h+int(b[h-1])]), int(binary.LittleEndian.Uint32(b[len(logMagic):])))
	l.parse(b)
	return l, nil
}
