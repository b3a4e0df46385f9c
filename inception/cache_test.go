package inception

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOutputCacheRoundTrip writes outputs, reopens the cache and reads them
// back; a cache of another shape starts afresh.
func TestOutputCacheRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c, err := openOutputCache(dir, "m", 2, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put([]string{"a", "b-s64"}, []Output{{Logits: []float32{0, 1}, Features: []float32{-2}}, {Logits: []float32{1, 1}, Features: []float32{-3}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Put([]string{"c"}, []Output{{Logits: []float32{1}}}); err == nil {
		t.Fatal("an output of the wrong size was accepted")
	}
	if err := c.close(); err != nil {
		t.Fatal(err)
	}
	c2, err := openOutputCache(dir, "m", 2, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.close()
	o, ok, err := c2.Get("b-s64")
	if err != nil || !ok || o.Logits[0] != 1 || o.Features[0] != -3 || len(o.Logits) != 2 || len(o.Features) != 1 {
		t.Fatalf("got %+v, %v, %v", o, ok, err)
	}
	c3, err := openOutputCache(dir, "m", 3, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.close()
	if _, ok, _ := c3.Get("a"); ok {
		t.Fatal("an entry of another shape was served")
	}
	if st, err := os.Stat(filepath.Join(dir, "m.outputs")); err != nil || st.Size() > 64 {
		t.Fatalf("restarted log: %v", err)
	}
}
