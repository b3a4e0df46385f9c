package batch

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/munit-eval/munit-eval/images"
)

// fakeNet is a network whose output for an image is the FNV-1a hash of its
// size and pixels: distinct images give distinct outputs, so a value served
// for the wrong image shows.
type fakeNet struct {
	mu      sync.Mutex
	batches []int
	fail    error
}

func pixelHash(m *images.Image) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%dx%d", m.W, m.H)
	h.Write(m.Pix)
	return h.Sum64()
}

func (n *fakeNet) Run(imgs []*images.Image) ([]uint64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail != nil {
		return nil, n.fail
	}
	n.batches = append(n.batches, len(imgs))
	out := make([]uint64, len(imgs))
	for i, m := range imgs {
		if m.W != imgs[0].W || m.H != imgs[0].H {
			return nil, errors.New("fake network: mixed sizes in one run")
		}
		out[i] = pixelHash(m)
	}
	return out, nil
}

// mapCache is a Cache in memory that can be made to fail its writes.
type mapCache struct {
	mu       sync.Mutex
	m        map[string]uint64
	puts     int
	failPuts error
}

func (c *mapCache) Get(key string) (uint64, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok, nil
}

func (c *mapCache) Put(keys []string, vals []uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.puts++
	if c.failPuts != nil {
		return c.failPuts
	}
	for i, k := range keys {
		c.m[k] = vals[i]
	}
	return nil
}

// writeImages writes n distinct w x h PNGs (plus a copy of the first under
// another name) and returns their paths.
func writeImages(t *testing.T, dir string, n, w, h int) []string {
	t.Helper()
	var paths []string
	for i := 0; i < n; i++ {
		m := images.New(w, h)
		for p := range m.Pix {
			m.Pix[p] = byte(i*31 + p*7)
		}
		p := filepath.Join(dir, fmt.Sprintf("%d.png", i))
		if err := images.WritePNG(p, m); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(dir, "copy-of-0.png")
	if err := os.WriteFile(cp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return append(paths, cp)
}

// truth decodes path directly: the value the engine must deliver.
func truth(t *testing.T, path string, size int) uint64 {
	t.Helper()
	img, err := images.Ref{Path: path, Size: size}.Load()
	if err != nil {
		t.Fatal(err)
	}
	return pixelHash(img)
}

func collect(t *testing.T, e *Engine[uint64], items []Item, c Cache[uint64]) ([]Result[uint64], error) {
	t.Helper()
	out := make([]Result[uint64], len(items))
	seen := 0
	err := e.Stream(context.Background(), items, c, nil, func(i int, r Result[uint64]) error {
		if i != seen {
			t.Fatalf("value %d delivered after %d of them", i, seen)
		}
		seen++
		out[i] = r
		return nil
	})
	return out, err
}

// TestStream: values arrive in order and equal the network's output on each
// file decoded on its own, for batch sizes that do and do not divide the
// work; every distinct content runs once (a path named again, a byte-equal
// copy under another name, a resized variant counting apart); a second run
// through the cache computes nothing and gives the same values.
func TestStream(t *testing.T) {
	paths := writeImages(t, t.TempDir(), 7, 12, 10)
	var items []Item
	for r := 0; r < 3; r++ {
		for _, p := range paths {
			items = append(items, Item{Ref: images.Ref{Path: p}})
		}
	}
	items = append(items, Item{Ref: images.Ref{Path: paths[2], Size: 8}})
	const distinct = 7 + 1 // the copy repeats image 0; the resize is new
	for _, b := range []int{1, 3, 16} {
		for _, mem := range []int64{0, 1 << 20} {
			net := &fakeNet{}
			e := &Engine[uint64]{Name: "test", Net: net, Batch: b, MemoryBytes: mem, Sizer: func(uint64) int64 { return 8 }}
			cache := &mapCache{m: map[string]uint64{}}
			got, err := collect(t, e, items, cache)
			if err != nil {
				t.Fatalf("batch %d: %v", b, err)
			}
			for i, r := range got {
				if want := truth(t, items[i].Path, items[i].Size); r.Value != want {
					t.Errorf("batch %d item %d (%s): %x, want %x", b, i, items[i].Path, r.Value, want)
				}
				if sha, _ := images.HashFile(items[i].Path); r.SHA256 != sha {
					t.Errorf("batch %d item %d: sha %s, want %s", b, i, r.SHA256, sha)
				}
			}
			// Without a memory cache, an image delivered before it repeats
			// comes again from the disk cache, never from the network.
			if e.Computed != distinct {
				t.Errorf("batch %d memory %d: computed %d, want %d", b, mem, e.Computed, distinct)
			}
			for _, n := range net.batches {
				if n > b {
					t.Errorf("batch %d: a run of %d images", b, n)
				}
			}
			e2 := &Engine[uint64]{Name: "test", Net: &fakeNet{}, Batch: b}
			again, err := collect(t, e2, items, cache)
			if err != nil {
				t.Fatal(err)
			}
			if e2.Computed != 0 || e2.Reused != len(items) {
				t.Errorf("warm cache: computed %d reused %d", e2.Computed, e2.Reused)
			}
			for i := range got {
				if again[i] != got[i] {
					t.Fatalf("warm cache item %d: %+v, cold %+v", i, again[i], got[i])
				}
			}
		}
	}
}

// TestChangedFileNeverStale: a file replaced by another valid image after
// its value was cached gets the new image's value, because the cache is
// keyed by the bytes read; with its old hash recorded, it is refused,
// naming the file and the repair.
func TestChangedFileNeverStale(t *testing.T) {
	dir := t.TempDir()
	paths := writeImages(t, dir, 3, 8, 8)
	oldSHA, _ := images.HashFile(paths[0])
	cache := &mapCache{m: map[string]uint64{}}
	e := &Engine[uint64]{Name: "test", Net: &fakeNet{}, Batch: 2}
	if _, err := collect(t, e, Items([]images.Ref{{Path: paths[0]}, {Path: paths[1]}}), cache); err != nil {
		t.Fatal(err)
	}
	// Replace 0.png by 1.png's bytes... by another valid image.
	other := images.New(8, 8)
	for i := range other.Pix {
		other.Pix[i] = 200
	}
	if err := images.WritePNG(paths[0], other); err != nil {
		t.Fatal(err)
	}
	got, err := collect(t, &Engine[uint64]{Name: "test", Net: &fakeNet{}, Batch: 2}, Items([]images.Ref{{Path: paths[0]}}), cache)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Value != pixelHash(other) {
		t.Fatal("a replaced file was served its old cached value")
	}
	for _, c := range []Cache[uint64]{nil, cache} {
		items := []Item{{Ref: images.Ref{Path: paths[1]}}, {Ref: images.Ref{Path: paths[0], SHA256: oldSHA}, Hint: RepairHint}}
		_, err := collect(t, &Engine[uint64]{Name: "test", Net: &fakeNet{}, Batch: 2}, items, c)
		if err == nil || !strings.Contains(err.Error(), paths[0]) || !strings.Contains(err.Error(), "rerun munit-eval translate") {
			t.Errorf("cache %v: error %v, want a refusal naming %s with the repair", c != nil, err, paths[0])
		}
	}
}

// TestStreamErrors: unreadable, corrupt and mixed-size inputs and network
// failures are errors naming a file; a failed cache write is one warning,
// not an error; a cancelled context stops the stream.
func TestStreamErrors(t *testing.T) {
	dir := t.TempDir()
	paths := writeImages(t, dir, 5, 8, 8)
	corrupt := filepath.Join(dir, "corrupt.png")
	b, _ := os.ReadFile(paths[1])
	os.WriteFile(corrupt, b[:len(b)/2], 0o644)
	big := writeImages(t, t.TempDir(), 1, 9, 8)[0]
	missing := filepath.Join(dir, "gone.png")
	cases := []struct {
		name  string
		items []Item
		one   string
		fail  error
		want  []string
	}{
		{"missing", Items([]images.Ref{{Path: paths[0]}, {Path: missing}}), "", nil, []string{missing}},
		{"corrupt sample", []Item{{Ref: images.Ref{Path: paths[0]}}, {Ref: images.Ref{Path: corrupt}, Hint: RepairHint}}, "", nil, []string{corrupt, "decoding PNG", "rerun munit-eval translate"}},
		{"mixed sizes refused", Items([]images.Ref{{Path: paths[0]}, {Path: big}}), "one size, please", nil, []string{paths[0], big, "9x8", "one size, please"}},
		{"network", Items([]images.Ref{{Path: paths[0]}}), "", errors.New("boom"), []string{"boom", paths[0]}},
	}
	for _, tc := range cases {
		for _, batch := range []int{1, 4} {
			e := &Engine[uint64]{Name: "test", Net: &fakeNet{fail: tc.fail}, Batch: batch, OneSize: tc.one}
			_, err := collect(t, e, tc.items, nil)
			if err == nil {
				t.Errorf("%s batch %d: no error", tc.name, batch)
				continue
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s batch %d: error %q does not say %q", tc.name, batch, err, w)
				}
			}
		}
	}
	// Mixed sizes allowed: one run per size, right values.
	e := &Engine[uint64]{Name: "test", Net: &fakeNet{}, Batch: 4}
	got, err := collect(t, e, Items([]images.Ref{{Path: paths[0]}, {Path: big}, {Path: paths[1]}}), nil)
	if err != nil || got[1].Value != truth(t, big, 0) || got[2].Value != truth(t, paths[1], 0) {
		t.Fatalf("mixed sizes: %v %v", got, err)
	}
	// A full disk: values still right, one warning naming --no-cache.
	full := &mapCache{m: map[string]uint64{}, failPuts: errors.New("no space left on device")}
	e = &Engine[uint64]{Name: "test", Net: &fakeNet{}, Batch: 1}
	got, err = collect(t, e, Items([]images.Ref{{Path: paths[0]}, {Path: paths[1]}, {Path: paths[2]}}), full)
	if err != nil {
		t.Fatalf("a failed cache write stopped the run: %v", err)
	}
	if got[2].Value != truth(t, paths[2], 0) {
		t.Error("wrong value after a failed cache write")
	}
	if len(e.Warnings) != 1 || !strings.Contains(e.Warnings[0], "no space left") || !strings.Contains(e.Warnings[0], "--no-cache") {
		t.Errorf("warnings %q, want one naming the cause and --no-cache", e.Warnings)
	}
	if full.puts != 1 {
		t.Errorf("%d writes tried after the first failure", full.puts-1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Stream(ctx, Items([]images.Ref{{Path: paths[3]}}), nil, nil, func(int, Result[uint64]) error { return nil }); err == nil {
		t.Error("no error from a cancelled context")
	}
}

// TestVerifyCache: records carry a CRC, which an edit keeps valid, so an
// edited record is served as it is (the trust model: a cache is trusted);
// with a spot check every hit drawn is recomputed and compared: an intact
// cache passes (Verified counts the checks, nothing is written again), an
// edited one is refused naming the image and the cache.
func TestVerifyCache(t *testing.T) {
	paths := writeImages(t, t.TempDir(), 4, 8, 8)
	items := make([]Item, len(paths))
	for i, p := range paths {
		items[i] = Item{Ref: images.Ref{Path: p}}
	}
	same := func(a, b uint64) bool { return a == b }
	c := &mapCache{m: map[string]uint64{}}
	if _, err := collect(t, &Engine[uint64]{Name: "t", Net: &fakeNet{}, Same: same}, items, c); err != nil {
		t.Fatal(err)
	}
	puts := c.puts
	e := &Engine[uint64]{Name: "t", Net: &fakeNet{}, Same: same, Verify: 1}
	if _, err := collect(t, e, items, c); err != nil || e.Verified < 4 || c.puts != puts {
		t.Fatalf("intact cache: %v, %d verified, %d writes", err, e.Verified, c.puts-puts)
	}
	// An edit: the record of image 2 now holds image 1's value.
	c.m[items[2].KeyFor(mustHash(t, paths[2]))] = truth(t, paths[1], 0)
	got, err := collect(t, &Engine[uint64]{Name: "t", Net: &fakeNet{}, Same: same}, items, c)
	if err != nil || got[2].Value != truth(t, paths[1], 0) {
		t.Fatalf("without a check the edited record is served: %v", err)
	}
	_, err = collect(t, &Engine[uint64]{Name: "t", Net: &fakeNet{}, Same: same, Verify: 1}, items, c)
	if err == nil || !strings.Contains(err.Error(), paths[2]) || !strings.Contains(err.Error(), "was changed") {
		t.Fatalf("checked: %v, want a refusal naming %s", err, paths[2])
	}
	// The process-wide share applies where an engine sets none.
	SetVerifyCache(1)
	defer SetVerifyCache(0)
	if _, err := collect(t, &Engine[uint64]{Name: "t", Net: &fakeNet{}, Same: same}, items, c); err == nil {
		t.Fatal("SetVerifyCache(1) checked nothing")
	}
}

func mustHash(t *testing.T, path string) string {
	t.Helper()
	h, err := images.HashFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestTrust: with Engine.Trust an item whose SHA-256 is recorded and whose
// value the cache holds under it is served without its file (here
// removed), the network running nothing; an item the cache lacks is read
// and verified against its recorded hash as ever (a file that differs is
// refused); an item with no recorded hash is read. Without Trust the
// removed file is an error.
func TestTrust(t *testing.T) {
	dir := t.TempDir()
	paths := writeImages(t, dir, 3, 8, 8)
	shas := []string{mustHash(t, paths[0]), mustHash(t, paths[1]), mustHash(t, paths[2])}
	want := []uint64{truth(t, paths[0], 0), truth(t, paths[1], 0), truth(t, paths[2], 0)}
	cache := &mapCache{m: map[string]uint64{}}
	items := []Item{{Ref: images.Ref{Path: paths[0], SHA256: shas[0]}}, {Ref: images.Ref{Path: paths[1], SHA256: shas[1]}}}
	if _, err := collect(t, &Engine[uint64]{Name: "test", Net: &fakeNet{}, Batch: 2}, items, cache); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(paths[0]); err != nil {
		t.Fatal(err)
	}
	items = append(items, Item{Ref: images.Ref{Path: paths[2]}})
	net := &fakeNet{}
	e := &Engine[uint64]{Name: "test", Net: net, Batch: 2, Trust: true}
	got, err := collect(t, e, items, cache)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		if r.Value != want[i] || r.SHA256 != shas[i] {
			t.Errorf("item %d: %x %.12s, want %x %.12s", i, r.Value, r.SHA256, want[i], shas[i])
		}
	}
	if e.Computed != 1 || e.Reused != 2 {
		t.Errorf("computed %d, reused %d; want 1 (the item with no recorded hash, not cached) and 2", e.Computed, e.Reused)
	}
	// A miss is verified: a recorded hash the file does not have is refused.
	bad := []Item{{Ref: images.Ref{Path: paths[1], SHA256: shas[2]}, Hint: RepairHint}}
	if _, err := collect(t, &Engine[uint64]{Name: "test", Net: &fakeNet{}, Trust: true}, bad, &mapCache{m: map[string]uint64{}}); err == nil || !strings.Contains(err.Error(), paths[1]) {
		t.Errorf("a trusted miss whose file differs from its record: %v, want a refusal naming %s", err, paths[1])
	}
	if _, err := collect(t, &Engine[uint64]{Name: "test", Net: &fakeNet{}}, items[:1], cache); err == nil || !strings.Contains(err.Error(), paths[0]) {
		t.Errorf("without Trust a removed file: %v, want an error naming %s", err, paths[0])
	}
}
