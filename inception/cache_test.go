package inception

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOutputLogRoundTrip writes entries, reopens the log and reads them back.
func TestOutputLogRoundTrip(t *testing.T) {
	dir := t.TempDir()
	l, err := openLog(dir, "m", 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, key := range []string{"a", "b-s64"} {
		if err := l.add(key, Output{Logits: []float32{float32(i), 1}, Features: []float32{-2}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.add("c", Output{Logits: []float32{1}}); err == nil {
		t.Fatal("an output of the wrong size was accepted")
	}
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	l2, err := openLog(dir, "m", 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.close()
	o, ok := l2.get("b-s64")
	if !ok || o.Logits[0] != 1 || o.Features[0] != -2 {
		t.Fatalf("got %+v, %v", o, ok)
	}
	// A log of another shape starts afresh.
	l3, err := openLog(dir, "m", 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer l3.close()
	if _, ok := l3.get("a"); ok {
		t.Fatal("an entry of another shape was served")
	}
	if st, _ := os.Stat(filepath.Join(dir, "m.outputs")); st.Size() != logHeader {
		t.Fatalf("restarted log has %d bytes", st.Size())
	}
}

// FuzzOutputLog: any file content is parsed into a valid prefix, never a panic.
func FuzzOutputLog(f *testing.F) {
	dir := f.TempDir()
	l, _ := openLog(dir, "seed", 2, 0)
	l.add("k", Output{Logits: []float32{1, 2}})
	l.close()
	b, _ := os.ReadFile(filepath.Join(dir, "seed.outputs"))
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		l := &outputLog{k: 2, index: map[string][]float32{}}
		if n := l.parse(b); n < 0 || n > len(b) && n != 0 {
			t.Fatalf("valid prefix %d of %d bytes", n, len(b))
		}
		for k, v := range l.index {
			if len(v) != 2 || k == "" {
				t.Fatalf("entry %q has %d values", k, len(v))
			}
		}
	})
}
