// Package jpegdec decodes JPEG images to the pixels libjpeg-turbo gives PIL,
// bit for bit: Image.open(f) decodes with libjpeg-turbo's defaults (the
// islow integer IDCT, "fancy" chroma upsampling, its fixed-point YCbCr
// conversion), and published FIDs read their images that way.
//
// The marker parsing and entropy decoding (baseline, extended and
// progressive Huffman-coded JPEGs, restart intervals) are the Go standard
// library's image/jpeg, whose licence is in LICENSE; the IDCT, upsampling
// and colour conversion follow libjpeg-turbo (jidctint.c, jdsample.c,
// jdcolor.c) and so are based in part on the work of the Independent JPEG
// Group. images.Decode is the caller: it turns the grey, RGB or CMYK
// output into RGB as PIL's convert("RGB") does.
//
// Not decoded (an error, as image/jpeg): arithmetic coding, lossless and
// hierarchical JPEGs, 12-bit samples, 2-component images, scans that lack
// Huffman tables (libjpeg-turbo would use the standard ones). Decoded but
// not bit-exact (Image.Inexact says so): progressive JPEGs whose scans
// leave some of the first AC coefficients unrefined, which libjpeg smooths
// across blocks.
package jpegdec

import (
	"io"
)

// Config is what a JPEG's header says.
type Config struct {
	W, H       int
	Components int // 1, 3 or 4
}

// Image is a decoded JPEG in the colour space PIL asks libjpeg for:
// Channels is 1 (grey), 3 (RGB, from YCbCr or stored RGB) or 4 (CMYK as
// libjpeg outputs it, from CMYK or YCCK: Adobe JPEGs store inverted ink,
// and PIL reads it as such). Pix holds W·H pixels, Channels bytes each,
// row-major with no padding.
type Image struct {
	W, H     int
	Channels int
	Pix      []byte
	// Inexact is empty when the pixels are libjpeg-turbo's; otherwise it
	// says why they may differ.
	Inexact string
}

// DecodeConfig reads a JPEG's header up to its frame header.
func DecodeConfig(r io.Reader) (Config, error) {
	var d decoder
	if err := d.decode(r, true); err != nil {
		return Config{}, err
	}
	return Config{W: d.width, H: d.height, Components: d.nComp}, nil
}

// Decode decodes a JPEG as libjpeg-turbo does under PIL's settings (see
// the package comment).
func Decode(r io.Reader) (*Image, error) {
	var d decoder
	if err := d.decode(r, false); err != nil {
		return nil, err
	}
	return d.output(), nil
}

// colour spaces of the coded data (libjpeg's jpeg_color_space).
const (
	spaceGrey = iota
	spaceYCbCr
	spaceRGB
	spaceCMYK
	spaceYCCK
)

// colourSpace guesses the coded colour space as libjpeg-turbo's
// default_decompress_parms (jdapimin.c) does: a JFIF marker means YCbCr, an
// Adobe marker's transform says RGB/CMYK (0) or YCbCr/YCCK (other values),
// and without either a 3-component image is RGB only when its component
// identifiers are 'R', 'G', 'B'; 4 components without an Adobe marker are
// CMYK.
func (d *decoder) colourSpace() int {
	switch d.nComp {
	case 1:
		return spaceGrey
	case 3:
		switch {
		case d.jfif:
			return spaceYCbCr
		case d.adobeTransformValid:
			if d.adobeTransform == adobeTransformUnknown {
				return spaceRGB
			}
			return spaceYCbCr
		case d.comp[0].c == 'R' && d.comp[1].c == 'G' && d.comp[2].c == 'B':
			return spaceRGB
		}
		return spaceYCbCr
	}
	if d.adobeTransformValid && d.adobeTransform != adobeTransformUnknown {
		return spaceYCCK
	}
	return spaceCMYK
}

// output upsamples every component to the image's size and converts the
// colour, row by row, into packed pixels.
func (d *decoder) output() *Image {
	w, h, n := d.width, d.height, d.nComp
	m := &Image{W: w, H: h, Channels: n, Pix: make([]byte, w*h*n), Inexact: d.inexact()}
	var ups [maxComponents]*upsampler
	for i := range n {
		ups[i] = newUpsampler(&d.comp[i], d.maxH/d.comp[i].h, d.maxV/d.comp[i].v, w)
	}
	space := d.colourSpace()
	for y := range h {
		out := m.Pix[y*w*n : (y+1)*w*n]
		switch space {
		case spaceGrey:
			copy(out, ups[0].row(y))
		case spaceYCbCr:
			YCbCrToRGB(out, ups[0].row(y), ups[1].row(y), ups[2].row(y))
		case spaceRGB:
			r, g, b := ups[0].row(y), ups[1].row(y), ups[2].row(y)
			for x := range w {
				out[3*x], out[3*x+1], out[3*x+2] = r[x], g[x], b[x]
			}
		case spaceCMYK:
			c, mg, ye, k := ups[0].row(y), ups[1].row(y), ups[2].row(y), ups[3].row(y)
			for x := range w {
				out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = c[x], mg[x], ye[x], k[x]
			}
		case spaceYCCK:
			ycckToCMYK(out, ups[0].row(y), ups[1].row(y), ups[2].row(y), ups[3].row(y))
		}
	}
	return m
}

// inexact says why the output may differ from libjpeg-turbo's, or "".
// libjpeg (jdcoefct.c, smoothing_ok) smooths the blocks of a progressive
// image across block edges when, once every scan is in, all components'
// DC coefficients are known and some of the first nine AC coefficients (in
// zig-zag order) were never sent or not refined to their last bit.
func (d *decoder) inexact() string {
	if !d.progressive {
		return ""
	}
	partial := false
	for _, c := range d.comp[:d.nComp] {
		if c.coefBits[0] < 0 {
			return ""
		}
		for _, b := range c.coefBits[1:] {
			partial = partial || b != 0
		}
	}
	if partial {
		return "progressive JPEG whose scans leave low-frequency coefficients unrefined: libjpeg-turbo smooths its blocks, this decoder does not"
	}
	return ""
}
