package images

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestListDir(t *testing.T) {
	mk := func(t *testing.T, names ...string) string {
		dir := t.TempDir()
		for _, n := range names {
			p := filepath.Join(dir, n)
			if strings.HasSuffix(n, "/") {
				os.MkdirAll(p, 0o755)
				continue
			}
			if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	t.Run("order and filtering", func(t *testing.T) {
		dir := mk(t, "b.png", "a.JPG", "B.jpeg", "10.png", "2.png", ".DS_Store", ".hidden.txt", "sub/", "sub/c.txt", "z.PnG")
		os.Symlink(filepath.Join(dir, "2.png"), filepath.Join(dir, "link.png"))
		os.Symlink(filepath.Join(dir, "sub"), filepath.Join(dir, "linkdir"))
		files, err := ListDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range files {
			got = append(got, f.Name+"|"+f.Stem)
			if f.Path != filepath.Join(dir, f.Name) {
				t.Errorf("Path %q for %q", f.Path, f.Name)
			}
		}
		want := "10.png|10 2.png|2 B.jpeg|B a.JPG|a b.png|b link.png|link z.PnG|z"
		if strings.Join(got, " ") != want {
			t.Errorf("got %v\nwant %s", got, want)
		}
	})
	errCases := []struct {
		name  string
		setup func(t *testing.T) string
		want  string
	}{
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, "no such file"},
		{"a file", func(t *testing.T) string { return filepath.Join(mk(t, "a.png"), "a.png") }, "not a folder"},
		{"empty", func(t *testing.T) string { return mk(t) }, "no .png, .jpg or .jpeg files"},
		{"only hidden and folders", func(t *testing.T) string { return mk(t, ".a.png", "sub/") }, "no .png"},
		{"only text files", func(t *testing.T) string { return mk(t, "README.txt", "notes") }, "no .png, .jpg or .jpeg files (only README.txt, notes)"},
		{"broken link", func(t *testing.T) string {
			d := mk(t, "a.png")
			os.Symlink(filepath.Join(d, "gone.png"), filepath.Join(d, "b.png"))
			return d
		}, "b.png: broken link"},
	}
	t.Run("stray files skipped with a note", func(t *testing.T) {
		dir := mk(t, "b.png", "README.txt", "a.png", "notes", "c.txt", "d.csv", "e.json", "f.md")
		files, note, err := ScanDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 2 || files[0].Name != "a.png" || files[1].Name != "b.png" {
			t.Fatalf("files %v", files)
		}
		want := dir + ": skipped 6 file(s) that are not PNG or JPEG images: README.txt, c.txt, d.csv, e.json, f.md and 1 more"
		if note != want {
			t.Errorf("note %q\nwant %q", note, want)
		}
		if plain, err := ListDir(dir); err != nil || len(plain) != 2 {
			t.Errorf("ListDir: %v, %v", plain, err)
		}
		if _, note, _ := ScanDir(mk(t, "a.png")); note != "" {
			t.Errorf("note %q for a clean folder", note)
		}
	})
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.setup(t)
			files, err := ListDir(dir)
			if err == nil {
				t.Fatalf("ListDir = %v, want an error", files)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q: want it to name %s and say %q", err, dir, tc.want)
			}
		})
	}
}
