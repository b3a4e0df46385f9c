// Package images turns image files into the pixels and tensors the models
// eat, and back: folder datasets in a stable order, PNG/JPEG decoding to
// 8-bit RGB, resizing and centre cropping, uint8 <-> float32 NCHW in
// [-1, 1] (docs/models.md), atomic PNG writing, SHA-256 provenance hashes,
// numpy .npy arrays and image grids.
//
// The package's opinion: the reference pipelines are PyTorch data loaders
// (PIL's Image.open(p).convert("RGB"), torchvision's Resize and
// CenterCrop, x/127.5 - 1), and this package reproduces them bit for bit:
// PNG decoding, JPEG decoding (images/jpegdec: libjpeg-turbo's IDCT,
// upsampling and colour conversion, checked against PIL's output),
// resizing and the tensor conversion are exact. Where PIL's reading loses
// information (16-bit PNGs) Decode reads as PIL does and says so in the
// image's Warnings. Every image is packed 8-bit RGB once decoded; alpha is
// dropped, not composited. Nothing here knows about MUNIT or any model.
package images

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/images/jpegdec"
	"github.com/munit-eval/munit-eval/warning"
)

// MaxPixels is the largest image (width × height) Decode accepts. The check
// happens on the header, before any pixel memory is allocated, so a corrupt
// or hostile header cannot make the decoder allocate gigabytes.
const MaxPixels = 1 << 26

// Image is an 8-bit RGB image: Pix holds W*H pixels, 3 bytes each (R, G, B),
// row-major with no padding, so pixel (x, y) starts at Pix[3*(y*W+x)].
// Functions that return an error check that len(Pix) == 3·W·H; the others
// (RGBA, ResizeCrop, Grid) assume it, as every Image this package makes
// satisfies it.
//
// Warnings, set by Decode, Load and Ref's loaders (nil for most files), say
// what reading the file did that a reader of the scores should know: a
// 16-bit PNG reduced to 8 bits as PIL reduces it, a JPEG whose pixels may
// differ from PIL's. Each names the file; MergeWarnings folds many images'
// warnings into one per kind for a results document. Resizing and the
// other functions that make a new Image do not carry them.
type Image struct {
	W, H     int
	Pix      []uint8
	Warnings []warning.Warning
}

// Codes of the warnings Decode attaches to an Image (Subject
// warning.SubjectSamples).
const (
	// CodeGrey16Clipped: a 16-bit grey PNG, whose values PIL's
	// convert("RGB") clips to 255 rather than scaling.
	CodeGrey16Clipped = "png16-grey-clipped"
	// CodeHighByte16: a 16-bit RGB, RGBA or grey+alpha PNG, which PIL reads
	// by the high byte of each sample.
	CodeHighByte16 = "png16-high-byte"
	// CodeJPEGInexact: a JPEG this package may decode differently from
	// PIL (libjpeg-turbo), with the reason.
	CodeJPEGInexact = "jpeg-inexact"
)

// New returns a black w × h image.
func New(w, h int) *Image {
	return &Image{W: w, H: h, Pix: make([]uint8, 3*w*h)}
}

// File is one image of a folder dataset.
type File struct {
	Path string // the folder joined with Name
	Name string // base name, e.g. "0001.png"
	Stem string // Name without its extension, e.g. "0001"
}

// isImageExt reports whether name ends in .png, .jpg or .jpeg, ignoring case.
func isImageExt(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// ListDir lists the images of a folder dataset: the files ending in .png,
// .jpg or .jpeg (any case), sorted by name in byte order so that every run
// sees the same order. Names starting with "." are skipped (editor and OS
// droppings such as .DS_Store), subfolders are ignored, and so are other
// files (a README.txt beside the images): ScanDir returns the note naming
// them. A symbolic link is followed. It is an error when dir is missing or
// not a folder, when it holds no image, or when an image-named entry is not
// a readable regular file, which the error names.
func ListDir(dir string) ([]File, error) {
	files, _, err := ScanDir(dir)
	return files, err
}

// ScanDir is ListDir that also returns a note naming the non-image files it
// skipped ("" when none), for the caller to show: a stray file in a dataset
// folder is worth a word, not a refusal.
func ScanDir(dir string) (files []File, note string, err error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, "", fmt.Errorf("images: %w", err)
	}
	if !st.IsDir() {
		return nil, "", fmt.Errorf("images: %s: not a folder", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, "", fmt.Errorf("images: %w", err)
	}
	var skipped []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		mode := e.Type()
		if mode&os.ModeSymlink != 0 {
			fi, err := os.Stat(path)
			if err != nil {
				return nil, "", fmt.Errorf("images: %s: broken link: %w", path, err)
			}
			mode = fi.Mode().Type()
		}
		if mode.IsDir() {
			continue
		}
		if !isImageExt(name) {
			skipped = append(skipped, name)
			continue
		}
		if !mode.IsRegular() {
			return nil, "", fmt.Errorf("images: %s: not a regular file", path)
		}
		files = append(files, File{Path: path, Name: name, Stem: strings.TrimSuffix(name, filepath.Ext(name))})
	}
	if len(files) == 0 {
		if len(skipped) > 0 {
			return nil, "", fmt.Errorf("images: %s: no .png, .jpg or .jpeg files (only %s)", dir, nameList(skipped))
		}
		return nil, "", fmt.Errorf("images: %s: no .png, .jpg or .jpeg files", dir)
	}
	// os.ReadDir sorts by name already; sort again so the order is part of
	// this function's contract, not an implementation detail of os.
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	if len(skipped) > 0 {
		note = fmt.Sprintf("%s: skipped %d file(s) that are not PNG or JPEG images: %s", dir, len(skipped), nameList(skipped))
	}
	return files, note, nil
}

// nameList joins up to five names, then says how many more there are.
func nameList(names []string) string {
	const show = 5
	if len(names) <= show {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:show], ", "), len(names)-show)
}

// Load reads and decodes a PNG or JPEG file (see Decode). Errors name the file.
func Load(path string) (*Image, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("images: %s: is a folder, not an image", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	return decodeBytes(b, path)
}

var (
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
	jpegMagic = []byte{0xff, 0xd8, 0xff}
)

// Decode decodes a PNG or JPEG image (recognised by its content, not by any
// extension) to 8-bit RGB; name is used in error messages only.
//
// Conversion to RGB follows PIL's Image.open(f).convert("RGB") (Pillow
// 9.4); 8-bit PNGs of every colour type decode exactly as PIL decodes them:
//   - grey: R = G = B = the grey value;
//   - alpha (RGBA, grey+alpha, tRNS): the alpha channel is dropped, keeping
//     the straight (un-premultiplied) colour, not composited on any background;
//   - paletted: the palette entry's colour;
//   - 16-bit RGB, RGBA and grey+alpha PNGs: the high byte of each sample
//     (v >> 8), as PIL reads them; warning CodeHighByte16;
//   - 16-bit grey PNGs: min(v, 255), as PIL does (it opens them in mode
//     "I", whose convert("RGB") clips), so any value above 255 is white;
//     warning CodeGrey16Clipped with the share of pixels clipped;
//   - JPEG: decoded by jpegdec, bit for bit as libjpeg-turbo decodes for
//     PIL (islow IDCT, fancy upsampling, its YCbCr tables); a CMYK JPEG is
//     read as PIL reads it (Adobe-inverted) and converted with PIL's
//     R = (255-K) - (255-K)·C/255 and its rounding, likewise G and B. A
//     JPEG that jpegdec knows it decodes differently gets CodeJPEGInexact.
//
// Like PIL's Image.open, Decode ignores EXIF orientation, gamma and colour
// profiles.
// Empty, truncated and corrupt data give an error; so does an image larger
// than MaxPixels.
func Decode(r io.Reader, name string) (*Image, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("images: reading %s: %w", name, err)
	}
	return decodeBytes(b, name)
}

func decodeBytes(b []byte, name string) (*Image, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("images: %s: empty file", name)
	}
	switch {
	case bytes.HasPrefix(b, pngMagic):
		return decodePNG(b, name)
	case bytes.HasPrefix(b, jpegMagic):
		return decodeJPEG(b, name)
	}
	return nil, fmt.Errorf("images: %s: not a PNG or JPEG image", name)
}

// checkSize refuses empty images and those over MaxPixels, from the header.
func checkSize(name, format string, w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("images: %s: %s has an empty size %dx%d", name, format, w, h)
	}
	if int64(w)*int64(h) > MaxPixels {
		return fmt.Errorf("images: %s: %s is %dx%d, more than the %d pixels this package accepts", name, format, w, h, MaxPixels)
	}
	return nil
}

func decodePNG(b []byte, name string) (*Image, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("images: %s: decoding PNG: %w", name, describe(err))
	}
	if err := checkSize(name, "PNG", cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("images: %s: decoding PNG: %w", name, describe(err))
	}
	// IHDR, which png.Decode has checked, holds the bit depth at byte 24
	// and the colour type at byte 25.
	if b[24] != 16 {
		return FromImage(img), nil
	}
	if b[25] == 0 { // grey
		m, clipped := clipGrey16(img)
		m.Warnings = []warning.Warning{warning.New(CodeGrey16Clipped, warning.SubjectSamples,
			"%s: 16-bit grey PNG read as PIL reads it: values above 255 become 255 rather than being scaled to 8 bits (%.1f%% of pixels here), so scores match only pipelines that read it with PIL",
			name, 100*float64(clipped)/float64(m.W*m.H))}
		return m, nil
	}
	m := FromImage(img)
	m.Warnings = []warning.Warning{warning.New(CodeHighByte16, warning.SubjectSamples,
		"%s: 16-bit PNG reduced to 8 bits by the high byte of each sample, as PIL reads it", name)}
	return m, nil
}

// clipGrey16 converts a decoded 16-bit grey PNG (image/png gives *Gray16,
// or *NRGBA64 when it has a tRNS chunk) as PIL's mode "I" convert("RGB")
// does, min(v, 255), and counts the pixels above 255.
func clipGrey16(img image.Image) (*Image, int) {
	b := img.Bounds()
	m := New(b.Dx(), b.Dy())
	clipped := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			var v uint16
			switch s := img.(type) {
			case *image.Gray16:
				v = s.Gray16At(x, y).Y
			case *image.NRGBA64:
				v = s.NRGBA64At(x, y).R
			default:
				v = color.Gray16Model.Convert(img.At(x, y)).(color.Gray16).Y
			}
			if v > 255 {
				v, clipped = 255, clipped+1
			}
			o := 3 * ((y-b.Min.Y)*m.W + x - b.Min.X)
			m.Pix[o], m.Pix[o+1], m.Pix[o+2] = uint8(v), uint8(v), uint8(v)
		}
	}
	return m, clipped
}

func decodeJPEG(b []byte, name string) (*Image, error) {
	cfg, err := jpegdec.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("images: %s: decoding JPEG: %w", name, describe(err))
	}
	if err := checkSize(name, "JPEG", cfg.W, cfg.H); err != nil {
		return nil, err
	}
	j, err := jpegdec.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("images: %s: decoding JPEG: %w", name, describe(err))
	}
	m := &Image{W: j.W, H: j.H, Pix: j.Pix}
	n := j.W * j.H
	switch j.Channels {
	case 1:
		m = New(j.W, j.H)
		for i, v := range j.Pix[:n] {
			m.Pix[3*i], m.Pix[3*i+1], m.Pix[3*i+2] = v, v, v
		}
	case 4:
		// PIL reads libjpeg's CMYK as Adobe-inverted ("CMYK;I"), then
		// converts to RGB.
		m = New(j.W, j.H)
		for i := range n {
			p := j.Pix[4*i : 4*i+4 : 4*i+4]
			m.Pix[3*i], m.Pix[3*i+1], m.Pix[3*i+2] = cmykToRGB(255-p[0], 255-p[1], 255-p[2], 255-p[3])
		}
	}
	if j.Inexact != "" {
		m.Warnings = []warning.Warning{warning.New(CodeJPEGInexact, warning.SubjectSamples, "%s: %s", name, j.Inexact)}
	}
	return m, nil
}

// MergeWarnings folds the decode warnings of many images into one per
// code, in order of first appearance: the first image's warning, with how
// many more images had the same one. Other warnings pass through as they
// are.
func MergeWarnings(ws []warning.Warning) []warning.Warning {
	var out []warning.Warning
	first := map[string]int{} // code -> index in out
	more := map[string]int{}
	for _, w := range ws {
		switch w.Code {
		case CodeGrey16Clipped, CodeHighByte16, CodeJPEGInexact:
			if _, ok := first[w.Code]; ok {
				more[w.Code]++
				continue
			}
			first[w.Code] = len(out)
		}
		out = append(out, w)
	}
	for code, n := range more {
		out[first[code]].Detail += fmt.Sprintf(" (and %d more images like it)", n)
	}
	return out
}

// describe turns the decoders' bare EOF errors into words.
func describe(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("truncated data (%w)", err)
	}
	return err
}

// FromImage converts any image.Image to packed RGB as Decode describes:
// alpha dropped keeping the straight colour, 16-bit values reduced to their
// high byte (grey included: Decode's clipping of 16-bit grey follows what
// PIL does with a PNG file, which an image in memory need not come from).
// YCbCr is upsampled and converted as libjpeg does (an *image.YCbCr from
// image/jpeg still differs from PIL's decoding through its IDCT). The
// common concrete types (NRGBA, RGBA, NRGBA64, RGBA64, Gray, Gray16,
// Paletted, YCbCr, CMYK) take fast paths; any other goes through
// color.NRGBA64Model.
func FromImage(img image.Image) *Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	m := New(w, h)
	if w == 0 || h == 0 {
		return m
	}
	dst := m.Pix
	switch s := img.(type) {
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			out := dst[3*w*y : 3*w*(y+1)]
			for x, o := 0, 0; x < w; x, o = x+1, o+3 {
				out[o], out[o+1], out[o+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			out := dst[3*w*y : 3*w*(y+1)]
			for x, o := 0, 0; x < w; x, o = x+1, o+3 {
				p := row[4*x : 4*x+4 : 4*x+4]
				if a := p[3]; a == 0xff {
					out[o], out[o+1], out[o+2] = p[0], p[1], p[2]
				} else {
					c := color.NRGBAModel.Convert(color.RGBA{p[0], p[1], p[2], a}).(color.NRGBA)
					out[o], out[o+1], out[o+2] = c.R, c.G, c.B
				}
			}
		}
	case *image.NRGBA64:
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			out := dst[3*w*y : 3*w*(y+1)]
			for x, o := 0, 0; x < w; x, o = x+1, o+3 {
				out[o], out[o+1], out[o+2] = row[8*x], row[8*x+2], row[8*x+4]
			}
		}
	case *image.RGBA64:
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			out := dst[3*w*y : 3*w*(y+1)]
			for x, o := 0, 0; x < w; x, o = x+1, o+3 {
				p := row[8*x : 8*x+8 : 8*x+8]
				if p[6] == 0xff && p[7] == 0xff {
					out[o], out[o+1], out[o+2] = p[0], p[2], p[4]
				} else {
					c := rgbOf(color.RGBA64{
						uint16(p[0])<<8 | uint16(p[1]), uint16(p[2])<<8 | uint16(p[3]),
						uint16(p[4])<<8 | uint16(p[5]), uint16(p[6])<<8 | uint16(p[7])})
					out[o], out[o+1], out[o+2] = c[0], c[1], c[2]
				}
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			out := dst[3*w*y : 3*w*(y+1)]
			for x, o := 0, 0; x < w; x, o = x+1, o+3 {
				v := row[x]
				out[o], out[o+1], out[o+2] = v, v, v
			}
		}
	case *image.Gray16:
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			out := dst[3*w*y : 3*w*(y+1)]
			for x, o := 0, 0; x < w; x, o = x+1, o+3 {
				v := row[2*x]
				out[o], out[o+1], out[o+2] = v, v, v
			}
		}
	case *image.Paletted:
		var lut [256][3]uint8
		for i, c := range s.Palette {
			if i == len(lut) {
				break
			}
			lut[i] = rgbOf(c)
		}
		// Indices beyond the palette (possible in hand-built images) read
		// as black, as image.Paletted.At treats them as transparent black.
		for i := len(s.Palette); i < len(lut); i++ {
			lut[i] = [3]uint8{}
		}
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			out := dst[3*w*y : 3*w*(y+1)]
			for x, o := 0, 0; x < w; x, o = x+1, o+3 {
				c := &lut[row[x]]
				out[o], out[o+1], out[o+2] = c[0], c[1], c[2]
			}
		}
	case *image.YCbCr:
		fromYCbCr(s, m)
	case *image.CMYK:
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			out := dst[3*w*y : 3*w*(y+1)]
			for x, o := 0, 0; x < w; x, o = x+1, o+3 {
				p := row[4*x : 4*x+4 : 4*x+4]
				out[o], out[o+1], out[o+2] = cmykToRGB(p[0], p[1], p[2], p[3])
			}
		}
	default:
		for y := 0; y < h; y++ {
			out := dst[3*w*y : 3*w*(y+1)]
			for x, o := 0, 0; x < w; x, o = x+1, o+3 {
				c := rgbOf(img.At(b.Min.X+x, b.Min.Y+y))
				out[o], out[o+1], out[o+2] = c[0], c[1], c[2]
			}
		}
	}
	return m
}

// rgbOf returns the straight (un-premultiplied) colour of c, 8 bits per
// channel (the high byte of the 16-bit value); fully transparent colours
// whose premultiplied form has lost the colour read as black.
func rgbOf(c color.Color) [3]uint8 {
	switch c := c.(type) {
	case color.NRGBA:
		return [3]uint8{c.R, c.G, c.B}
	case color.CMYK:
		r, g, b := cmykToRGB(c.C, c.M, c.Y, c.K)
		return [3]uint8{r, g, b}
	}
	n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
	return [3]uint8{uint8(n.R >> 8), uint8(n.G >> 8), uint8(n.B >> 8)}
}

// cmykToRGB converts as PIL's cmyk2rgb (Convert.c) does, with its rounding:
// R = (255-K) - MULDIV255(C, 255-K), where MULDIV255(a, b) =
// ((a·b+128) + ((a·b+128) >> 8)) >> 8; likewise G from M and B from Y.
func cmykToRGB(c, m, y, k uint8) (uint8, uint8, uint8) {
	nk := 255 - uint32(k)
	md := func(a uint32) uint8 {
		t := a*nk + 128
		return uint8(nk - ((t>>8)+t)>>8)
	}
	return md(uint32(c)), md(uint32(m)), md(uint32(y))
}

// RGBA returns the image as an opaque *image.RGBA (alpha 255), for drawing
// and for the standard library's encoders.
func (m *Image) RGBA() *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	n := m.W * m.H
	for i := 0; i < n; i++ {
		out.Pix[4*i], out.Pix[4*i+1], out.Pix[4*i+2], out.Pix[4*i+3] = m.Pix[3*i], m.Pix[3*i+1], m.Pix[3*i+2], 0xff
	}
	return out
}
