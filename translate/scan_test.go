package translate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScanSamples(t *testing.T) {
	dirs := t.TempDir()
	for _, s := range []string{"b", "a"} {
		for _, k := range []string{"0", "1", "2"} {
			touch(t, filepath.Join(dirs, s, k+".png"))
		}
	}
	layout, stems, files, err := ScanSamples(dirs)
	if err != nil {
		t.Fatal(err)
	}
	if layout != LayoutDirs || strings.Join(stems, ",") != "a,b" || len(files[1]) != 3 || files[1][2] != filepath.Join(dirs, "b", "2.png") {
		t.Errorf("dirs: %s %v %v", layout, stems, files)
	}
	suf := t.TempDir()
	for _, n := range []string{"x_y_0.png", "x_y_1.jpg", "z_0.png", "z_1.png"} {
		touch(t, filepath.Join(suf, n))
	}
	layout, stems, files, err = ScanSamples(suf)
	if err != nil {
		t.Fatal(err)
	}
	if layout != LayoutSuffix || strings.Join(stems, ",") != "x_y,z" || files[0][1] != filepath.Join(suf, "x_y_1.jpg") {
		t.Errorf("suffix: %s %v %v", layout, stems, files)
	}
	// A missing sample and an empty folder are errors naming the folder.
	os.Remove(filepath.Join(suf, "z_1.png"))
	if _, _, _, err := ScanSamples(suf); err == nil || !strings.Contains(err.Error(), "z_1.png") {
		t.Errorf("missing sample: %v", err)
	}
	if _, _, _, err := ScanSamples(t.TempDir()); err == nil {
		t.Error("empty folder: no error")
	}
}
