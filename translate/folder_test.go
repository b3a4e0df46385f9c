package translate

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// makeFolder creates the named files (paths with '/' make sub-folders).
func makeFolder(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestScanFolder(t *testing.T) {
	all := map[string]bool{"a": true, "b": true, "c_1": true, "z": true}
	sel := []string{"a", "b", "c_1"}
	for _, tc := range []struct {
		name    string
		files   []string
		k       int
		layout  string
		wantK   int
		sources [][]string
		errs    []string
	}{
		{name: "dirs", files: []string{"a/0.png", "a/1.jpg", "b/0.png", "b/1.png", "c_1/0.png", "c_1/1.png", "z/0.png", ".DS_Store", "a/.x"},
			layout: LayoutDirs, wantK: 2, sources: [][]string{{"a/0.png", "a/1.jpg"}, {"b/0.png", "b/1.png"}, {"c_1/0.png", "c_1/1.png"}}},
		{name: "suffix", files: []string{"a_0.png", "a_1.png", "b_0.png", "b_1.png", "c_1_0.png", "c_1_1.png", "z_0.png"},
			layout: LayoutSuffix, wantK: 2, sources: [][]string{{"a_0.png", "a_1.png"}, {"b_0.png", "b_1.png"}, {"c_1_0.png", "c_1_1.png"}}},
		{name: "single", files: []string{"a.png", "b.jpeg", "c_1.png", "z.png"},
			layout: LayoutSingle, wantK: 1, sources: [][]string{{"a.png"}, {"b.jpeg"}, {"c_1.png"}}},
		{name: "dirs missing and extra", files: []string{"a/0.png", "a/1.png", "b/0.png", "b/2.png", "c_1/0.png", "c_1/1.png", "notes.txt", "q/0.png", "a/01.png"},
			errs: []string{"missing 1: b/1.png", "extra 4: a/01.png, b/2.png, notes.txt, q"}},
		{name: "dirs no folder", files: []string{"a/0.png", "b/0.png"},
			errs: []string{"missing 1: c_1/0.png"}},
		{name: "suffix missing", files: []string{"a_0.png", "a_1.png", "b_0.png", "c_1_0.png", "c_1_1.png", "q_0.png"},
			errs: []string{"layout <stem>_<k>.png", "missing 1: b_1.png", "extra 1: q_0.png"}},
		{name: "K asked", files: []string{"a_0.png", "a_1.png", "b_0.png", "b_1.png", "c_1_0.png", "c_1_1.png"}, k: 3,
			errs: []string{"missing 3: a_2.png, b_2.png, c_1_2.png"}},
		{name: "K fewer than there", files: []string{"a_0.png", "a_1.png", "b_0.png", "b_1.png", "c_1_0.png", "c_1_1.png"}, k: 1,
			errs: []string{"extra 3: a_1.png, b_1.png, c_1_1.png"}},
		{name: "single K", files: []string{"a.png", "b.png", "c_1.png"}, k: 2, errs: []string{"one sample per input"}},
		{name: "duplicate", files: []string{"a/0.png", "a/0.jpg", "b/0.png", "c_1/0.png"}, errs: []string{"is also"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := makeFolder(t, tc.files...)
			s, err := scanFolder(dir, sel, all, tc.k)
			if tc.errs != nil {
				errContains(t, err, tc.errs...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.layout != tc.layout || s.k != tc.wantK {
				t.Fatalf("layout %s K %d, want %s K %d", s.layout, s.k, tc.layout, tc.wantK)
			}
			for i := range tc.sources {
				if !slices.Equal(s.sources[i], tc.sources[i]) {
					t.Errorf("input %d sources %v, want %v", i, s.sources[i], tc.sources[i])
				}
			}
		})
	}
}
