package images

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"github.com/munit-eval/munit-eval/internal/paritytest"
	"hash/crc32"
	"testing"
)

// parityDir returns the parity fixtures folder or skips the test.
func parityDir(t testing.TB) string { return paritytest.Dir(t) }

// pngChunk is one chunk of a hand-made PNG.
type pngChunk struct {
	typ  string
	data []byte
}

// rawPNG builds a PNG file byte by byte, independently of image/png's
// encoder: IHDR(w, h, depth, colour type, no interlace), the extra chunks
// (PLTE, tRNS...), one IDAT holding rows each prefixed by filter type 0, IEND.
func rawPNG(w, h int, depth, colourType byte, rows [][]byte, extra ...pngChunk) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	put := func(typ string, data []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(data)))
		out.Write(n[:])
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		out.WriteString(typ)
		out.Write(data)
		binary.BigEndian.PutUint32(n[:], c.Sum32())
		out.Write(n[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = depth, colourType
	put("IHDR", ihdr)
	for _, c := range extra {
		put(c.typ, c.data)
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	for _, r := range rows {
		zw.Write([]byte{0})
		zw.Write(r)
	}
	zw.Close()
	put("IDAT", z.Bytes())
	put("IEND", nil)
	return out.Bytes()
}

// rgb builds a packed RGB image from pixels given as [3]uint8, row-major.
func rgb(w, h int, px ...[3]uint8) *Image {
	m := New(w, h)
	for i, p := range px {
		copy(m.Pix[3*i:], p[:])
	}
	return m
}

// noiseImage returns a deterministic w × h image: a smooth gradient plus
// pseudo-random noise, roughly the statistics of a generated sample.
func noiseImage(w, h int, seed uint32) *Image {
	m := New(w, h)
	s := seed*2654435761 + 1
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				s ^= s << 13
				s ^= s >> 17
				s ^= s << 5
				v := (x*255/max(w-1, 1)+y*255/max(h-1, 1)*(c+1))/(c+2) + int(s%32) - 16
				m.Pix[3*(y*w+x)+c] = uint8(min(max(v, 0), 255))
			}
		}
	}
	return m
}

// sceneImage returns a deterministic w × h picture with the statistics of
// a generated sample: smooth gradients, flat discs with hard edges, and
// mild noise (±3 levels).
func sceneImage(w, h int, seed uint32) *Image {
	m := New(w, h)
	s := seed*2654435761 + 1
	discs := [][5]int{{w / 3, h / 3, w / 5, 200, 40}, {2 * w / 3, h / 2, w / 4, 30, 160}, {w / 2, 4 * h / 5, w / 6, 250, 220}}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			px := [3]int{x * 255 / w, y * 255 / h, (x + y) * 127 / (w + h)}
			for _, d := range discs {
				if (x-d[0])*(x-d[0])+(y-d[1])*(y-d[1]) < d[2]*d[2] {
					px = [3]int{d[3], d[4], (d[3] + d[4]) / 2}
				}
			}
			for c := 0; c < 3; c++ {
				s ^= s << 13
				s ^= s >> 17
				s ^= s << 5
				m.Pix[3*(y*w+x)+c] = uint8(min(max(px[c]+int(s%7)-3, 0), 255))
			}
		}
	}
	return m
}
