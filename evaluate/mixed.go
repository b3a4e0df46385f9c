package evaluate

// A plain folder whose images come in several sizes or colour modes is
// read as it is (every image converted to RGB, resized as the protocol
// says), but
// a researcher should know: a stray thumbnail or grayscale scan among the
// samples changes the numbers without an error.

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"os"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/warning"
)

// CodeMixedImages: a plain folder's images come in more than one size or
// colour mode.
const CodeMixedImages = "mixed-images"

// imageConfig reads an image's size and colour model from its header.
func imageConfig(path string) (image.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return image.Config{}, err
	}
	defer f.Close()
	c, _, err := image.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return image.Config{}, fmt.Errorf("%s: reading the image header: %w", path, err)
	}
	return c, nil
}

// modeName names a header's colour model as the image's mode: grayscale,
// RGB (PNG truecolour and JPEG's YCbCr, which decode to the same RGB), RGB
// with alpha (non-premultiplied: a PNG with an alpha channel), palette,
// CMYK.
func modeName(m color.Model) string {
	switch m {
	case color.GrayModel, color.Gray16Model:
		return "grayscale"
	case color.RGBAModel, color.RGBA64Model, color.YCbCrModel:
		return "RGB"
	case color.NRGBAModel, color.NRGBA64Model:
		return "RGB with alpha"
	case color.CMYKModel:
		return "CMYK"
	}
	if _, ok := m.(color.Palette); ok {
		return "palette"
	}
	return "other"
}

// imageMix tallies the sizes and modes of the images at paths (from their
// headers) and returns a warning naming how many of each there are when
// there is more than one size or mode, nil otherwise; name is the folder.
func imageMix(name string, paths []string) (*warning.Warning, error) {
	sizes, modes := map[string]int{}, map[string]int{}
	for _, p := range paths {
		c, err := imageConfig(p)
		if err != nil {
			return nil, err
		}
		sizes[fmt.Sprintf("%dx%d", c.Width, c.Height)]++
		modes[modeName(c.ColorModel)]++
	}
	if len(sizes) < 2 && len(modes) < 2 {
		return nil, nil
	}
	var parts []string
	if len(sizes) > 1 {
		parts = append(parts, fmt.Sprintf("%d sizes (%s)", len(sizes), tally(sizes)))
	}
	if len(modes) > 1 {
		parts = append(parts, fmt.Sprintf("%d colour modes (%s)", len(modes), tally(modes)))
	}
	w := warning.New(CodeMixedImages, warning.SubjectSamples, "%s: its %d images come in %s; all are read as RGB all the same, so check that no stray image is among them",
		name, len(paths), strings.Join(parts, " and "))
	return &w, nil
}

// tally lists the most common values first ("64x64: 30, 32x32: 2"), at
// most four, then how many more.
func tally(n map[string]int) string {
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if n[keys[i]] != n[keys[j]] {
			return n[keys[i]] > n[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var out []string
	for i, k := range keys {
		if i == 4 {
			out = append(out, fmt.Sprintf("%d more", len(keys)-4))
			break
		}
		out = append(out, fmt.Sprintf("%s: %d", k, n[k]))
	}
	return strings.Join(out, ", ")
}
