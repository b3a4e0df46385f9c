package evaluate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUserStore: XDG_CACHE_HOME/munit-eval when it is absolute, else
// HOME/.cache/munit-eval, else an error that names --store.
func TestUserStore(t *testing.T) {
	for _, tc := range []struct {
		xdg, home, want, err string
	}{
		{"/c", "/h", "/c/munit-eval", ""},
		{"", "/h", "/h/.cache/munit-eval", ""},
		{"rel/cache", "/h", "/h/.cache/munit-eval", ""},
		{"", "", "", "give --store DIR"},
		{"", "rel", "", "give --store DIR"},
	} {
		env := map[string]string{"XDG_CACHE_HOME": tc.xdg, "HOME": tc.home}
		got, err := UserStore(func(k string) string { return env[k] })
		if got != filepath.FromSlash(tc.want) || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("XDG_CACHE_HOME %q HOME %q: %q, %v; want %q, %q", tc.xdg, tc.home, got, err, tc.want, tc.err)
		}
	}
}

// TestStoreNotice: the notice is given by the command that makes the
// store, never by one that finds it (or leaves it unmade).
func TestStoreNotice(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "munit-eval")
	var w bytes.Buffer
	StoreNotice(dir)(&w) // nothing made
	if w.Len() > 0 {
		t.Errorf("notice without a store: %q", w.String())
	}
	say := StoreNotice(dir)
	if err := os.MkdirAll(filepath.Join(dir, ".cache"), 0o755); err != nil {
		t.Fatal(err)
	}
	say(&w)
	if !strings.Contains(w.String(), "made the per-user store "+dir) {
		t.Errorf("notice %q", w.String())
	}
	w.Reset()
	StoreNotice(dir)(&w)
	if w.Len() > 0 {
		t.Errorf("notice for an existing store: %q", w.String())
	}
}
