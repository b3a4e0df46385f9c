package images

import "math"

// ResizeCrop scales m so that its shorter side is size pixels, then cuts the
// centred size × size square out of it, the geometry of torchvision's
// Resize(size) followed by CenterCrop(size):
//
//	short side -> size, long side -> floor(size · long / short)
//	crop offset = round((long' - size) / 2), halves rounding to even (Python's round)
//
// The filter is bilinear, because torchvision's Resize defaults to it, and
// the resampling reproduces Pillow's Image.resize(..., Image.BILINEAR)
// (which torchvision's Resize calls on PIL images) bit for bit: a triangle
// kernel whose support widens with the scale factor when shrinking (so it
// antialiases), 22-bit fixed-point weights, a horizontal pass rounded to
// 8 bits and then a vertical pass (see resizePIL). The package tests check
// it against Pillow 9.4's output byte for byte. (golang.org/x/image/draw's
// BiLinear uses the same kernel in floating point and differs from Pillow
// by one level on 10 to 40% of values; exactness is worth the 100 lines.)
//
// When m is already size × size it is returned unchanged (the same pointer,
// no copy); when only cropping is needed no resampling happens. A size below
// 1 or an empty m gives an empty (0 × 0) image.
func ResizeCrop(m *Image, size int) *Image {
	if size < 1 || m == nil || m.W < 1 || m.H < 1 {
		return &Image{}
	}
	if m.W == size && m.H == size {
		return m
	}
	w, h := resizedSize(m.W, m.H, size)
	src := m
	if w != m.W || h != m.H {
		src = resizePIL(m, w, h, pilBilinear)
	}
	return crop(src, int(math.RoundToEven(float64(w-size)/2)), int(math.RoundToEven(float64(h-size)/2)), size, size)
}

// resizedSize is torchvision's output size for Resize(size) with an int size:
// the shorter side becomes size and the longer int(size*long/short).
func resizedSize(w, h, size int) (int, int) {
	if w <= h {
		return size, int(float64(size) * float64(h) / float64(w))
	}
	return int(float64(size) * float64(w) / float64(h)), size
}

// crop copies the w × h rectangle at (x0, y0) of m.
func crop(m *Image, x0, y0, w, h int) *Image {
	if x0 == 0 && y0 == 0 && w == m.W && h == m.H {
		return m
	}
	out := New(w, h)
	for y := 0; y < h; y++ {
		copy(out.Pix[3*w*y:3*w*(y+1)], m.Pix[3*((y0+y)*m.W+x0):])
	}
	return out
}

// Grid lays cells out in rows, as in a report's figure: row r, column c of
// the grid shows cells[r][c], with pad pixels of colour bg around and
// between cells. Rows may have different lengths (the grid has as many
// columns as the longest row); a nil cell, or a missing one at the end of a
// short row, is left blank (bg). Every cell slot is as large as the largest
// cell; a smaller cell is centred in its slot. With no non-nil cell the
// result is an empty (0 × 0) image.
func Grid(cells [][]*Image, pad int, bg [3]uint8) *Image {
	if pad < 0 {
		pad = 0
	}
	cw, ch, cols := 0, 0, 0
	for _, row := range cells {
		cols = max(cols, len(row))
		for _, c := range row {
			if c != nil {
				cw, ch = max(cw, c.W), max(ch, c.H)
			}
		}
	}
	rows := len(cells)
	if cw == 0 || ch == 0 {
		return &Image{}
	}
	W, H := cols*cw+(cols+1)*pad, rows*ch+(rows+1)*pad
	out := New(W, H)
	for i := 0; i < len(out.Pix); i += 3 {
		out.Pix[i], out.Pix[i+1], out.Pix[i+2] = bg[0], bg[1], bg[2]
	}
	for r, row := range cells {
		for c, cell := range row {
			if cell == nil || cell.W == 0 || cell.H == 0 {
				continue
			}
			x0 := pad + c*(cw+pad) + (cw-cell.W)/2
			y0 := pad + r*(ch+pad) + (ch-cell.H)/2
			for y := 0; y < cell.H; y++ {
				o := 3 * ((y0+y)*W + x0)
				copy(out.Pix[o:o+3*cell.W], cell.Pix[3*cell.W*y:])
			}
		}
	}
	return out
}
