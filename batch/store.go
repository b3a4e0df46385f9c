package batch

import (
	"context"
	"runtime"
	"sync"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/translate"
)

// RepairHint ends the error for a store sample that does not match its
// manifest or does not decode.
const RepairHint = "rerun munit-eval translate (same flags) to repair it"

// StoreItems lists the first m inputs x k samples of a store, input-major,
// each with the SHA-256 its manifest records (so the bytes read are
// verified against it) and the repair hint.
func StoreItems(st *translate.Store, m, k int) []Item {
	items := make([]Item, 0, m*k)
	for i := 0; i < m; i++ {
		for s := 0; s < k; s++ {
			items = append(items, Item{Ref: images.Ref{Path: st.SamplePath(i, s), SHA256: st.SampleSHA256(i, s)}, Hint: RepairHint})
		}
	}
	return items
}

// Items wraps refs without a hint.
func Items(refs []images.Ref) []Item {
	items := make([]Item, len(refs))
	for i, r := range refs {
		items[i] = Item{Ref: r}
	}
	return items
}

// Hash reads and hashes every item's file on up to GOMAXPROCS goroutines,
// verifying each against its recorded SHA-256, and returns the hashes. It
// is what a cache keyed by more than one image (LPIPS pair distances) needs
// before it can tell which images to run; pass the hashes on as the items'
// SHA256 so that a file changed in between is refused, not mixed in.
func Hash(ctx context.Context, name string, items []Item) ([]string, error) {
	out := make([]string, len(items))
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				_, sha, err := items[i].Read()
				out[i], errs[i] = sha, err
			}
		}()
	}
	var ctxErr error
	for i := range items {
		if ctxErr = ctx.Err(); ctxErr != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if ctxErr != nil {
		return nil, ctxErr
	}
	s := &stream[struct{}]{e: &Engine[struct{}]{Name: name}}
	for i, err := range errs {
		if err != nil {
			return nil, s.itemErr(items[i], err)
		}
	}
	return out, nil
}
