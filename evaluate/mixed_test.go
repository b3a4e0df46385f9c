package evaluate

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTestPNG(t *testing.T, path string, m image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, m); err != nil {
		t.Fatal(err)
	}
}

// TestMixedImages: a plain sample folder whose images come in several
// sizes or colour modes is read, with a warning that counts them (planted:
// four 8x8 RGB, one 4x4 RGB, one 8x8 grayscale, one 8x8 with alpha); a
// uniform folder gets none; an unreadable header is an error naming the
// file.
func TestMixedImages(t *testing.T) {
	dir := t.TempDir()
	opaque := func(w int) image.Image {
		m := image.NewRGBA(image.Rect(0, 0, w, w))
		for i := range m.Pix {
			m.Pix[i] = 255 // opaque: PNG writes truecolour without alpha
		}
		return m
	}
	for i := range 4 {
		writeTestPNG(t, filepath.Join(dir, "a"+string(rune('0'+i))+".png"), opaque(8))
	}
	uniform := t.TempDir()
	for i := range 3 {
		writeTestPNG(t, filepath.Join(uniform, string(rune('0'+i))+".png"), opaque(8))
	}
	writeTestPNG(t, filepath.Join(dir, "b.png"), opaque(4))
	writeTestPNG(t, filepath.Join(dir, "c.png"), image.NewGray(image.Rect(0, 0, 8, 8)))
	alpha := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	alpha.Set(1, 1, color.NRGBA{1, 2, 3, 4})
	writeTestPNG(t, filepath.Join(dir, "d.png"), alpha)

	p := DefaultProtocol()
	set, err := OpenSet(dir, "", &p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range set.Warnings {
		if w.Code == CodeMixedImages {
			got = append(got, w.Detail)
		}
	}
	want := dir + ": its 7 images come in 2 sizes (8x8: 6, 4x4: 1) and 3 colour modes (RGB: 5, RGB with alpha: 1, grayscale: 1)"
	if len(got) != 1 || !strings.HasPrefix(got[0], want) {
		t.Errorf("warnings %q, want one starting %q", got, want)
	}
	if set, err = OpenSet(uniform, "", &p); err != nil || len(set.Warnings) > 0 {
		t.Errorf("uniform folder: %v, warnings %v", err, set.Warnings)
	}
	os.WriteFile(filepath.Join(uniform, "9.png"), []byte("not a png"), 0o644)
	if _, err = OpenSet(uniform, "", &p); err == nil || !strings.Contains(err.Error(), "9.png") {
		t.Errorf("broken header: %v", err)
	}
}
