package images

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"io"
	"sync"
)

// PNG filter types (PNG specification, section 9.2).
const (
	filterNone  = 0
	filterSub   = 1
	filterUp    = 2
	filterPaeth = 4
)

// pngState is the reusable memory of one encoding: the zlib writer and the
// row buffers.
type pngState struct {
	zw        *zlib.Writer // at level pngLevel
	bw        *bufio.Writer
	idat      chunkWriter
	prev, out []byte
}

// pngLevel is the zlib level EncodePNG uses.
const pngLevel = zlib.BestSpeed

var pngStates = sync.Pool{New: func() any { return new(pngState) }}

// chunkWriter buffers IDAT data and writes it out as chunks of at most
// 64 KiB, each with its length and CRC.
type chunkWriter struct {
	w   *bufio.Writer
	buf []byte
	err error
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && c.err == nil {
		k := min(len(p), cap(c.buf)-len(c.buf))
		c.buf = append(c.buf, p[:k]...)
		p = p[k:]
		if len(c.buf) == cap(c.buf) {
			c.flush()
		}
	}
	return n, c.err
}

func (c *chunkWriter) flush() {
	if len(c.buf) > 0 && c.err == nil {
		c.err = writeChunk(c.w, "IDAT", c.buf)
	}
	c.buf = c.buf[:0]
}

func writeChunk(w *bufio.Writer, typ string, data []byte) error {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
	copy(hdr[4:], typ)
	w.Write(hdr[:])
	w.Write(data)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:])
	crc.Write(data)
	binary.BigEndian.PutUint32(hdr[:4], crc.Sum32())
	_, err := w.Write(hdr[:4])
	return err
}

// encodeRGB writes m as an 8-bit RGB, non-interlaced PNG, every row with
// the same filter, compressed at the given zlib level. m must be valid.
func encodeRGB(w io.Writer, m *Image, filter byte, level int) error {
	st := pngStates.Get().(*pngState)
	defer pngStates.Put(st)
	if st.bw == nil {
		st.bw = bufio.NewWriterSize(w, 32<<10)
	}
	bw := st.bw
	bw.Reset(w)
	defer bw.Reset(nil) // drop the caller's writer before pooling
	bw.WriteString("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(m.W))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(m.H))
	ihdr[8], ihdr[9] = 8, 2 // bit depth 8, colour type 2 (RGB); compression, filter, interlace 0
	if err := writeChunk(bw, "IHDR", ihdr[:]); err != nil {
		return err
	}
	if cap(st.idat.buf) == 0 {
		st.idat.buf = make([]byte, 0, 64<<10)
	}
	st.idat.w, st.idat.buf, st.idat.err = bw, st.idat.buf[:0], nil
	zw := st.zw
	if zw != nil && level == pngLevel {
		zw.Reset(&st.idat)
	} else {
		var err error
		if zw, err = zlib.NewWriterLevel(&st.idat, level); err != nil {
			return err
		}
		if level == pngLevel {
			st.zw = zw
		}
	}
	stride := 3 * m.W
	if cap(st.prev) < stride {
		st.prev, st.out = make([]byte, stride), make([]byte, stride+1)
	}
	prev, out := st.prev[:stride], st.out[:stride+1]
	clear(prev)
	for y := 0; y < m.H; y++ {
		row := m.Pix[y*stride : (y+1)*stride]
		out[0] = filter
		f := out[1:]
		switch filter {
		case filterNone:
			copy(f, row)
		case filterSub:
			copy(f[:3], row[:3])
			for i := 3; i < stride; i++ {
				f[i] = row[i] - row[i-3]
			}
		case filterUp:
			for i := range f {
				f[i] = row[i] - prev[i]
			}
		case filterPaeth:
			for i := 0; i < 3; i++ {
				f[i] = row[i] - prev[i]
			}
			for i := 3; i < stride; i++ {
				f[i] = row[i] - paeth(row[i-3], prev[i], prev[i-3])
			}
		}
		if _, err := zw.Write(out); err != nil {
			return err
		}
		prev = row
	}
	if err := zw.Close(); err != nil {
		return err
	}
	st.idat.flush()
	if st.idat.err != nil {
		return st.idat.err
	}
	if err := writeChunk(bw, "IEND", nil); err != nil {
		return err
	}
	return bw.Flush()
}

// paeth is the Paeth predictor (PNG specification, section 9.4).
func paeth(a, b, c uint8) uint8 {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
