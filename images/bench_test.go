package images

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func FuzzDecode(f *testing.F) {
	var b bytes.Buffer
	EncodePNG(&b, noiseImage(5, 4, 1))
	f.Add(b.Bytes())
	f.Add(rawPNG(3, 1, 2, 3, [][]byte{{0b01100000}}, pngChunk{"PLTE", []byte{0, 0, 0, 10, 20, 30, 40, 50, 60}}))
	f.Add(rawPNG(1, 1, 16, 4, [][]byte{{1, 2, 3, 4}}))
	b.Reset()
	jpeg.Encode(&b, noiseImage(9, 9, 2).RGBA(), nil)
	f.Add(b.Bytes())
	f.Add([]byte{})
	jpgs, _ := filepath.Glob(filepath.Join("testdata", "pil", "*.jpg"))
	for _, p := range jpgs {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		if m.W < 1 || m.H < 1 || len(m.Pix) != 3*m.W*m.H {
			t.Fatalf("decoded %dx%d with %d bytes", m.W, m.H, len(m.Pix))
		}
	})
}

// BenchmarkLoadToTensor measures the metric pipeline's per-image input cost:
// read a PNG written by WritePNG, decode it and convert it to float32.
func BenchmarkLoadToTensor(b *testing.B) {
	for _, size := range []int{64, 256} {
		b.Run(fmt.Sprintf("%dx%d", size, size), func(b *testing.B) {
			p := filepath.Join(b.TempDir(), "x.png")
			if err := WritePNG(p, sceneImage(size, size, 1)); err != nil {
				b.Fatal(err)
			}
			dst := make([]float32, 3*size*size)
			b.ReportAllocs()
			for b.Loop() {
				m, err := Load(p)
				if err != nil {
					b.Fatal(err)
				}
				if err := ToTensor([]*Image{m}, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodePNG compares image/png (BestSpeed and default levels,
// adaptive per-row filters) with this package's encoder under each fixed
// filter and zlib levels 1 and 6, on generator-like images, and reports the
// file size; EncodePNG is own-Up-z1.
func BenchmarkEncodePNG(b *testing.B) {
	for _, size := range []int{64, 256} {
		m := sceneImage(size, size, 2)
		for _, lvl := range []struct {
			name  string
			level png.CompressionLevel
		}{{"BestSpeed", png.BestSpeed}, {"Default", png.DefaultCompression}} {
			b.Run(fmt.Sprintf("%dx%d/%s", size, size, lvl.name), func(b *testing.B) {
				enc := png.Encoder{CompressionLevel: lvl.level, BufferPool: &stdPool{}}
				var buf bytes.Buffer
				enc.Encode(&buf, m.RGBA())
				b.ReportAllocs()
				for b.Loop() {
					if err := enc.Encode(io.Discard, m.RGBA()); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(buf.Len()), "bytes/img")
			})
		}
		for _, f := range []struct {
			name   string
			filter byte
		}{{"None", filterNone}, {"Sub", filterSub}, {"Up", filterUp}, {"Paeth", filterPaeth}} {
			for _, level := range []int{1, 6} {
				b.Run(fmt.Sprintf("%dx%d/own-%s-z%d", size, size, f.name, level), func(b *testing.B) {
					var buf bytes.Buffer
					encodeRGB(&buf, m, f.filter, level)
					b.ReportAllocs()
					for b.Loop() {
						if err := encodeRGB(io.Discard, m, f.filter, level); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(buf.Len()), "bytes/img")
				})
			}
		}
		b.Run(fmt.Sprintf("%dx%d/EncodePNG", size, size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := EncodePNG(io.Discard, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// stdPool lets image/png reuse its buffers, as a fair comparison.
type stdPool struct{ e *png.EncoderBuffer }

func (p *stdPool) Get() *png.EncoderBuffer  { return p.e }
func (p *stdPool) Put(e *png.EncoderBuffer) { p.e = e }

// BenchmarkLoadParity decodes the parity fixtures' real 256x256 scenes,
// when present.
func BenchmarkLoadParity(b *testing.B) {
	dir := parityDir(b)
	p := filepath.Join(dir, "images", "s256_00_scene.png")
	if _, err := os.Stat(p); err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, err := Load(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeJPEG compares Decode (jpegdec: libjpeg-turbo's IDCT,
// upsampling and colour conversion) with image/jpeg's decoder alone and
// with the decode it replaced (image/jpeg, then FromImage's libjpeg-style
// upsampling), on 4:2:0 JPEGs of quality 90 written by image/jpeg.
func BenchmarkDecodeJPEG(b *testing.B) {
	for _, size := range []int{256, 1024} {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, sceneImage(size, size, 3).RGBA(), &jpeg.Options{Quality: 90}); err != nil {
			b.Fatal(err)
		}
		data := buf.Bytes()
		b.Run(fmt.Sprintf("%dx%d/image-jpeg", size, size), func(b *testing.B) {
			for b.Loop() {
				if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("%dx%d/image-jpeg+FromImage", size, size), func(b *testing.B) {
			for b.Loop() {
				img, err := jpeg.Decode(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				FromImage(img)
			}
		})
		b.Run(fmt.Sprintf("%dx%d/Decode", size, size), func(b *testing.B) {
			for b.Loop() {
				if _, err := Decode(bytes.NewReader(data), "bench.jpg"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
