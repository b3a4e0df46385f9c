package evaluate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/translate"
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

// TestRerunHint: a store too small for the metrics says where more
// samples come from: rerunning translate for a generator's store, the
// folder its files were copied from for a --from-folder store (which no
// translate rerun can grow), nothing for a plain folder.
func TestRerunHint(t *testing.T) {
	refs := make([][]images.Ref, 4)
	for i := range refs {
		refs[i] = make([]images.Ref, 3)
	}
	for _, tc := range []struct {
		layout, from, metric string
		want, not            string
	}{
		{LayoutStore, "", "is", "(rerun translate with --samples-per-input 5)", "copied"},
		{LayoutStore, "/data/pregen", "is", "(its samples were copied from /data/pregen: copy again, with translate --from-folder, from a folder holding at least 5 samples per input)", "rerun translate"},
		{LayoutStore, "/data/pregen", "lpips", "from a folder holding at least 38 samples per input", "rerun translate"},
		{translate.LayoutDirs, "", "is", "asked for (samples_per_input)", "translate"},
	} {
		p := DefaultProtocol()
		p.SamplesPerInput, p.Given = 5, map[string]bool{"samples_per_input": true}
		set := &SampleSet{Name: "s", Layout: tc.layout, FromFolder: tc.from, Refs: refs}
		_, _, _, err := (&Job{Protocol: p, Metrics: entries(t, tc.metric), Set: set}).samplesUsed()
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tc.not) {
			t.Errorf("%s from %q, %s: %v; want %q without %q", tc.layout, tc.from, tc.metric, err, tc.want, tc.not)
		}
	}
}
