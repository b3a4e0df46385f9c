package batch

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLog writes records, reopens the log and reads them back; a record
// whose value was swapped with another's, a record copied into the log of
// another id, a torn tail and a header of another id are never served.
func TestLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	l, err := OpenLog(path, "model A", 4)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string][]byte{"k1": []byte("1111"), "k2": []byte("2222"), "k3-s64": []byte("3333")}
	for _, k := range []string{"k1", "k2", "k3-s64"} {
		if err := l.Add(k, vals[k]); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Add("bad", []byte("12345")); err == nil {
		t.Fatal("a value of the wrong size was accepted")
	}
	if err := l.Add("", []byte("1234")); err == nil {
		t.Fatal("an empty key was accepted")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	reopen := func(id string) *Log {
		l, err := OpenLog(path, id, 4)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
	l2 := reopen("model A")
	for k, v := range vals {
		if got, ok := l2.Get(k); !ok || !bytes.Equal(got, v) {
			t.Fatalf("%s: %q %v", k, got, ok)
		}
	}
	l2.Close()

	orig, _ := os.ReadFile(path)
	// Swap the values of records 1 and 2: both fail their checks.
	swapped := append([]byte(nil), orig...)
	i1, i2 := bytes.Index(swapped, []byte("1111")), bytes.Index(swapped, []byte("2222"))
	copy(swapped[i1:], "2222")
	copy(swapped[i2:], "1111")
	os.WriteFile(path, swapped, 0o644)
	l3 := reopen("model A")
	if v, ok := l3.Get("k1"); ok {
		t.Fatalf("a swapped record was served: %q", v)
	}
	if _, ok := l3.Get("k2"); ok {
		t.Fatal("a record after a damaged one was served")
	}
	l3.Close()
	if st, _ := os.Stat(path); st.Size() != int64(len(l3.header())) {
		t.Errorf("the damaged tail was not cut: %d bytes", st.Size())
	}

	// The records of model A's log, under model B's header: all misses.
	os.WriteFile(path, orig, 0o644)
	hb := newLog("", "model B", 4).header()
	moved := append(append([]byte(nil), hb...), orig[len(l3.header()):]...)
	os.WriteFile(path, moved, 0o644)
	lb := reopen("model B")
	if _, ok := lb.Get("k1"); ok {
		t.Fatal("a record moved from another model's log was served")
	}
	lb.Close()

	// Another id starts afresh.
	os.WriteFile(path, orig, 0o644)
	if _, ok := reopen("model C").Get("k1"); ok {
		t.Fatal("a record of another id was served")
	}
}

// FuzzLog: any file content parses into a valid prefix of checked records,
// never a panic.
func FuzzLog(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "seed.log")
	l, _ := OpenLog(path, "id", 2)
	l.Add("k", []byte{1, 2})
	l.Add("key-2", []byte{3, 4})
	l.Close()
	b, _ := os.ReadFile(path)
	f.Add(b)
	f.Add(b[:len(b)-1])
	f.Add([]byte("MEVLOG02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l := newLog("", "id", 2)
		n := l.parse(b)
		if n < 0 || n > len(b) {
			t.Fatalf("valid prefix %d of %d bytes", n, len(b))
		}
		for k, v := range l.index {
			if len(v) != 2 || k == "" {
				t.Fatalf("entry %q has %d bytes", k, len(v))
			}
		}
	})
}

// TestLogRefusesLink: a symbolic link planted as a cache log (a shared
// store's .cache/classifier/<sha>.outputs, say) is refused, naming it, and
// the file it points to is not truncated (OpenLog once wrote its header
// there).
func TestLogRefusesLink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	os.WriteFile(target, []byte("keep"), 0o644)
	path := filepath.Join(dir, "cache", "m.outputs")
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.Symlink(target, path); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	l, err := OpenLog(path, "model A", 4)
	if err == nil {
		l.Close()
	}
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("%v, want a refusal naming the link", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Fatalf("the link's target was written: %q", b)
	}
}

// TestMergeLogs folds two logs written apart into a third: every valid
// record once, a record dst holds kept as it is, a torn tail of a source
// skipped, and a file that is not a log, or a log of another id, skipped
// and named.
func TestMergeLogs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, id string, recs map[string]string) string {
		p := filepath.Join(dir, name)
		l, err := OpenLog(p, id, 4)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range recs {
			if err := l.Add(k, []byte(v)); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.log", "model A", map[string]string{"k1": "1111", "k2": "2222"})
	b := write("b.log", "model A", map[string]string{"k3": "3333"})
	other := write("other.log", "model B", map[string]string{"k5": "5555"})
	dst := write("dst.log", "model A", map[string]string{"k2": "2222"})
	// A torn last record in b: the valid prefix still merges.
	f, err := os.OpenFile(b, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{2, 'k', '4', '4'})
	f.Close()
	garbled := filepath.Join(dir, "bad.log")
	os.WriteFile(garbled, []byte("garbled"), 0o644)
	added, bad, err := MergeLogs(dst, []string{garbled, a, other, b})
	if err != nil || added != 2 {
		t.Errorf("merging: %d added, %v; want 2", added, err)
	}
	if len(bad) != 2 || !strings.Contains(bad[0].Error(), garbled) || !strings.Contains(bad[0].Error(), "not a cache log") ||
		!strings.Contains(bad[1].Error(), other) {
		t.Errorf("skipped %v, want %s (not a log) and %s (another id)", bad, garbled, other)
	}
	l, err := OpenLog(dst, "model A", 4)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for k, v := range map[string]string{"k1": "1111", "k2": "2222", "k3": "3333"} {
		if got, ok := l.Get(k); !ok || string(got) != v {
			t.Errorf("%s: %q %v, want %q", k, got, ok, v)
		}
	}
	for _, k := range []string{"k4", "k5"} {
		if _, ok := l.Get(k); ok {
			t.Errorf("%s (torn, or of another log) was merged", k)
		}
	}
	// A dst that does not exist takes the first readable source's id.
	fresh := filepath.Join(dir, "fresh", "new.log")
	if added, bad, err := MergeLogs(fresh, []string{garbled, b}); err != nil || added != 1 || len(bad) != 1 {
		t.Errorf("into a new log: %d added, %v, %v", added, bad, err)
	}
}

// BenchmarkMergeLogs folds the partials of one (method, dataset) of the
// paper protocol: 10,000 classifier outputs of 4 logits and 2,048 features
// (8,208 bytes each, 82 MB), written by 4 shards, into an empty cache, as
// the scoring step of a sharded run does (docs/scale.md). Reports MB/s of
// partials folded.
func BenchmarkMergeLogs(b *testing.B) {
	dir := b.TempDir()
	const n, shards, size = 10_000, 4, 4 * (4 + 2048)
	val := make([]byte, size)
	var srcs []string
	for s := range shards {
		p := filepath.Join(dir, fmt.Sprintf("shard-%d.outputs", s))
		l, err := OpenLog(p, "classifier bench", size)
		if err != nil {
			b.Fatal(err)
		}
		for i := s; i < n; i += shards {
			val[0], val[1] = byte(i), byte(i>>8)
			if err := l.Add(fmt.Sprintf("%064x-s299", i), val); err != nil {
				b.Fatal(err)
			}
		}
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
		srcs = append(srcs, p)
	}
	b.SetBytes(n * size)
	i := 0
	for b.Loop() {
		dst := filepath.Join(dir, fmt.Sprintf("cache-%d.outputs", i))
		i++
		if added, bad, err := MergeLogs(dst, srcs); err != nil || len(bad) > 0 || added != n {
			b.Fatalf("%d added, %v, %v", added, bad, err)
		}
		os.Remove(dst)
	}
}
