package reports

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/translate"
)

// GridOptions controls an image grid.
type GridOptions struct {
	// Inputs is the input folder; empty means the folder recorded in each
	// store's manifest.
	Inputs string
	// NumInputs is the number of rows (inputs), drawn at random with Seed
	// from the inputs every method has (default 4).
	NumInputs int
	// Samples is the number of samples K shown per stochastic method
	// (default 4; fewer when a store has fewer).
	Samples int
	// Seed seeds the selection of inputs.
	Seed int64
	// MinCell is the smallest cell width in pixels (default 128): smaller
	// images are enlarged by an integer factor, nearest neighbour, so the
	// pixels stay as generated and the method names fit above them.
	MinCell int
}

func (o GridOptions) withDefaults() GridOptions {
	if o.NumInputs <= 0 {
		o.NumInputs = 4
	}
	if o.Samples <= 0 {
		o.Samples = 4
	}
	if o.MinCell <= 0 {
		o.MinCell = 128
	}
	return o
}

// GridColumn is one column group of a grid: the input, a deterministic
// method (one column) or a stochastic method (K columns).
type GridColumn struct {
	Name          string
	Columns       int
	Deterministic bool
}

// Grid is a finished image grid and what it shows.
type Grid struct {
	Image  *images.Image
	Header []GridColumn
	// Stems are the inputs shown, one per row, in order; each row is
	// labelled with its stem in a column LabelWidth pixels wide at the left.
	Stems      []string
	LabelWidth int
	// Notes list what could not be shown (an input image not found).
	Notes []string
}

// MethodDirs returns the method folders of a sample store (the
// subfolders holding a manifest.json), skipping the derived caches.
func MethodDirs(store string) ([]string, error) {
	ents, err := os.ReadDir(store)
	if err != nil {
		return nil, fmt.Errorf("reports: sample store: %w", err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(store, e.Name())
		if _, err := os.Stat(filepath.Join(dir, translate.ManifestName)); err == nil {
			out = append(out, dir)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("reports: %s holds no method folder with a %s (create them with munit-eval translate)", store, translate.ManifestName)
	}
	return out, nil
}

// deterministic reports whether a store's method gives one output per
// input: one sample per input, a repeated single output, or a generator
// with no latent code. (A pre-generated folder without latent codes but
// with several samples per input is stochastic.)
func deterministic(s *translate.Store) bool {
	m := s.Manifest()
	return s.SamplesPerInput() == 1 || m.Repeat || (m.LatentSource == translate.LatentsNone && len(m.Noise) == 0 && m.FromFolder == "")
}

// MakeGrid draws the grid of a set of method folders: one row per selected
// input holding the input image, sample 0 of each deterministic method, then
// K samples of each stochastic method; methods in the paper's order and a
// header row of names above. Inputs are drawn without replacement with a
// PCG generator seeded by opts.Seed from the stems all methods share, then
// shown in sorted order.
func MakeGrid(methodDirs []string, opts GridOptions) (*Grid, error) {
	opts = opts.withDefaults()
	if len(methodDirs) == 0 {
		return nil, fmt.Errorf("reports: grid: no method folders")
	}
	stores := make([]*translate.Store, 0, len(methodDirs))
	for _, d := range methodDirs {
		s, err := translate.OpenStore(d)
		if err != nil {
			return nil, fmt.Errorf("reports: grid: %w", err)
		}
		stores = append(stores, s)
	}
	sort.SliceStable(stores, func(i, j int) bool {
		di, dj := deterministic(stores[i]), deterministic(stores[j])
		if di != dj {
			return di
		}
		return methodLess(stores[i].Method(), stores[j].Method())
	})

	// Stems every store has, with each store's input index.
	index := make([]map[string]int, len(stores))
	for si, s := range stores {
		index[si] = map[string]int{}
		for i, in := range s.Manifest().Inputs {
			index[si][in.Stem] = i
		}
	}
	var common []string
	for _, in := range stores[0].Manifest().Inputs {
		ok := true
		for si := range stores {
			if _, has := index[si][in.Stem]; !has {
				ok = false
				break
			}
		}
		if ok {
			common = append(common, in.Stem)
		}
	}
	if len(common) == 0 {
		return nil, fmt.Errorf("reports: grid: the method folders (%s) share no input", strings.Join(methodDirs, ", "))
	}
	sort.Strings(common)
	rng := rand.New(rand.NewPCG(uint64(opts.Seed), 0x6d756e6974))
	perm := rng.Perm(len(common))
	n := min(opts.NumInputs, len(common))
	stems := make([]string, n)
	for i := range n {
		stems[i] = common[perm[i]]
	}
	sort.Strings(stems)

	g := &Grid{Stems: stems, Header: []GridColumn{{Name: "Input", Columns: 1}}}
	for _, s := range stores {
		k := 1
		if !deterministic(s) {
			k = min(opts.Samples, s.SamplesPerInput())
		}
		g.Header = append(g.Header, GridColumn{Name: s.Method(), Columns: k, Deterministic: deterministic(s)})
	}

	// Load every cell; the cell size is that of the first sample.
	rows := make([][]*images.Image, n)
	size := 0
	for r, stem := range stems {
		for si, s := range stores {
			i := index[si][stem]
			for k := 0; k < g.Header[si+1].Columns; k++ {
				m, err := images.Load(s.SamplePath(i, k))
				if err != nil {
					return nil, fmt.Errorf("reports: grid: %w", err)
				}
				if size == 0 {
					size = max(m.W, m.H)
				}
				rows[r] = append(rows[r], m)
			}
		}
		in, err := inputImage(stores[0], index[0][stem], opts.Inputs)
		if err != nil {
			g.Notes = append(g.Notes, fmt.Sprintf("input %s not shown: %v", stem, err))
		}
		rows[r] = append([]*images.Image{in}, rows[r]...)
	}
	for r := range rows {
		for c, m := range rows[r] {
			if m != nil && (m.W != size || m.H != size) {
				rows[r][c] = images.ResizeCrop(m, size)
			}
		}
	}
	factor := 1
	for size*factor < opts.MinCell {
		factor++
	}
	for r := range rows {
		for c, m := range rows[r] {
			if m != nil {
				rows[r][c] = enlarge(m, factor)
			}
		}
	}
	cell := size * factor
	const pad = 4
	body := images.Grid(rows, pad, [3]uint8{255, 255, 255})
	head, err := drawHeader(g.Header, cell, pad, body.W)
	if err != nil {
		return nil, err
	}
	// Each row is labelled with its input's id at the left, so that a
	// reader can name the input a row shows (and find it in the folder).
	labels, err := drawRowLabels(stems, cell, pad, body.H, headerPx(body.W))
	if err != nil {
		return nil, err
	}
	g.LabelWidth = labels.Bounds().Dx()
	hh, lw := head.Bounds().Dy(), g.LabelWidth
	out := image.NewRGBA(image.Rect(0, 0, lw+body.W, hh+body.H))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(out, image.Rect(lw, 0, lw+body.W, hh), head, image.Point{}, draw.Src)
	draw.Draw(out, image.Rect(0, hh, lw, hh+body.H), labels, image.Point{}, draw.Src)
	draw.Draw(out, image.Rect(lw, hh, lw+body.W, hh+body.H), body.RGBA(), image.Point{}, draw.Src)
	g.Image = images.FromImage(out)
	return g, nil
}

// drawRowLabels draws each row's input id, right-aligned and vertically
// centred on its row, at size px (the header's); the column is as wide as
// the longest id, at most one cell (a longer id is cut and ends with "…").
func drawRowLabels(stems []string, cell, pad, height int, size float64) (*image.RGBA, error) {
	face, err := headerFace(size)
	if err != nil {
		return nil, err
	}
	defer face.Close()
	lines := make([]string, len(stems))
	w := 0
	for i, s := range stems {
		// No-break spaces: an id is one line, cut rather than wrapped.
		if l := wrapText(face, strings.ReplaceAll(s, " ", "\u00a0"), cell); len(l) > 0 {
			lines[i] = l[0]
		}
		w = max(w, font.MeasureString(face, lines[i]).Ceil())
	}
	img := image.NewRGBA(image.Rect(0, 0, w+2*pad, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: face}
	m := face.Metrics()
	for r, l := range lines {
		mid := pad + r*(cell+pad) + cell/2
		d.Dot = fixed.P(w+pad-d.MeasureString(l).Ceil(), mid+(m.Ascent.Ceil()-m.Descent.Ceil())/2)
		d.DrawString(l)
	}
	return img, nil
}

// inputImage loads input i of a store from dir (when given) or from the
// folder its manifest records.
func inputImage(s *translate.Store, i int, dir string) (*images.Image, error) {
	path := s.InputPath(i)
	if dir != "" {
		path = filepath.Join(dir, s.Manifest().Inputs[i].File)
	}
	return images.Load(path)
}

// enlarge scales m by an integer factor, nearest neighbour.
func enlarge(m *images.Image, f int) *images.Image {
	if f == 1 {
		return m
	}
	out := images.New(m.W*f, m.H*f)
	for y := 0; y < out.H; y++ {
		for x := 0; x < out.W; x++ {
			copy(out.Pix[3*(y*out.W+x):3*(y*out.W+x)+3], m.Pix[3*((y/f)*m.W+x/f):])
		}
	}
	return out
}

// headerPx is the height in pixels of the grid's method names for a grid
// width px wide: 14 px, or a 70th of the width when that is more, so that
// the names still read at about 14 px when the report page scales a wide
// grid (1,984 px) down to its 1,000-px column.
func headerPx(width int) float64 {
	return max(14, float64(width)/70)
}

// headerFace is Go Regular at size px.
func headerFace(size float64) (font.Face, error) {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, fmt.Errorf("reports: grid font: %w", err)
	}
	return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
}

// fits reports whether every word of every name fits the columns it spans
// when set in face.
func fits(face font.Face, cols []GridColumn, cell, pad int) bool {
	for _, c := range cols {
		span := c.Columns*(cell+pad) - pad
		for _, w := range strings.Fields(c.Name) {
			if font.MeasureString(face, w).Ceil() > span {
				return false
			}
		}
	}
	return true
}

// drawHeader draws the method names, each centred over the columns it
// spans and wrapped at spaces to fit them, at headerPx of the grid's width
// or, when a word would not fit its columns, the largest size down to
// 11 px at which every word does (only then are words cut).
func drawHeader(cols []GridColumn, cell, pad, width int) (*image.RGBA, error) {
	var face font.Face
	for size := headerPx(width); ; size-- {
		f, err := headerFace(size)
		if err != nil {
			return nil, err
		}
		if size <= 11 || fits(f, cols, cell, pad) {
			face = f
			break
		}
		f.Close()
	}
	defer face.Close()
	lineH := face.Metrics().Height.Ceil()
	type block struct {
		x0, x1 int
		lines  []string
	}
	var blocks []block
	maxLines := 1
	col := 0
	for _, c := range cols {
		x0 := pad + col*(cell+pad)
		x1 := pad + (col+c.Columns)*(cell+pad) - pad
		lines := wrapText(face, c.Name, x1-x0)
		maxLines = max(maxLines, len(lines))
		blocks = append(blocks, block{x0, x1, lines})
		col += c.Columns
	}
	h := pad + maxLines*lineH + pad
	img := image.NewRGBA(image.Rect(0, 0, width, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: face}
	ascent := face.Metrics().Ascent.Ceil()
	for _, b := range blocks {
		// Bottom-align the lines so that names sit right above their images.
		y0 := h - pad - len(b.lines)*lineH
		for li, line := range b.lines {
			w := d.MeasureString(line).Ceil()
			x := b.x0 + (b.x1-b.x0-w)/2
			d.Dot = fixed.P(max(x, b.x0), y0+li*lineH+ascent)
			d.DrawString(line)
		}
		if b.x1-b.x0 > cell {
			// A rule under a multi-column name shows its span.
			for x := b.x0; x < b.x1; x++ {
				img.Set(x, h-2, color.Gray{Y: 120})
			}
		}
	}
	return img, nil
}

// wrapText splits s at spaces into lines no wider than w pixels; a word
// wider than w is cut and ends with "…".
func wrapText(face font.Face, s string, w int) []string {
	var lines []string
	cur := ""
	for _, word := range strings.Fields(s) {
		try := word
		if cur != "" {
			try = cur + " " + word
		}
		if font.MeasureString(face, try).Ceil() <= w || cur == "" {
			cur = try
			continue
		}
		lines = append(lines, cur)
		cur = word
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	for i, l := range lines {
		for font.MeasureString(face, l).Ceil() > w && len([]rune(l)) > 1 {
			r := []rune(strings.TrimSuffix(l, "…"))
			l = string(r[:len(r)-1]) + "…"
		}
		lines[i] = l
	}
	return lines
}

// GridFile is one grid written as PNG.
type GridFile struct {
	// Name is the grid's source name (a store's folder name or a dataset).
	Name string
	PNG  string
	Grid *Grid
}

// WriteGrids draws one grid per source and writes it into dir as
// grid_<name>.png.
func WriteGrids(dir string, sources []GridSource, opts GridOptions) ([]GridFile, error) {
	if len(sources) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("reports: grids: %w", err)
	}
	var out []GridFile
	for _, src := range sources {
		g, err := MakeGrid(src.MethodDirs, opts)
		if err != nil {
			return nil, fmt.Errorf("%w (grid %s)", err, src.Name)
		}
		path := filepath.Join(dir, "grid_"+fileSafe(src.Name)+".png")
		if err := images.WritePNG(path, g.Image); err != nil {
			return nil, fmt.Errorf("reports: grid %s: %w", path, err)
		}
		out = append(out, GridFile{Name: src.Name, PNG: path, Grid: g})
	}
	return out, nil
}
