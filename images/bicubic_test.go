package images

import (
	"bytes"
	"encoding/binary"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

var updateBicubic = flag.Bool("update-bicubic", false, "rewrite testdata/pil/bicubic_* with PIL's output (needs /usr/bin/python3 with PIL)")

// bicubicCases are the PIL parity cases: shrinking (the antialiased,
// widened kernel), enlarging, one axis only, and clean-fid's 299x299.
var bicubicCases = []struct {
	name       string
	src        *Image
	outW, outH int
	pilOnly    bool // no committed golden (1.3 MB): checked only where PIL is installed
}{
	{"noise_37x23_to_17x11", noiseImage(37, 23, 1), 17, 11, false},
	{"scene_40x30_to_61x45", sceneImage(40, 30, 2), 61, 45, false},
	{"scene_64x48_to_29x48", sceneImage(64, 48, 3), 29, 48, false},
	{"noise_50x70_to_50x31", noiseImage(50, 70, 4), 50, 31, false},
	{"scene_128x96_to_299x299", sceneImage(128, 96, 5), 299, 299, true},
}

// pilBicubicScript resizes the raw RGB image in argv[1] (size argv[2] x
// argv[3]) to argv[4] x argv[5] with PIL and writes the 8-bit RGB result
// (Image.resize on the RGB image) to argv[6] and clean-fid's float result
// (each channel as a mode "F" image, resized, clipped to [0, 255]; float32
// little endian, planar) to argv[7].
const pilBicubicScript = `
import sys
import numpy as np
from PIL import Image
src, w, h, ow, oh, out8, outf = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7]
im = Image.frombytes("RGB", (w, h), open(src, "rb").read())
open(out8, "wb").write(im.resize((ow, oh), Image.BICUBIC).tobytes())
a = np.asarray(im)
planes = [np.asarray(Image.fromarray(a[:, :, c].astype(np.float32), mode="F").resize((ow, oh), Image.BICUBIC)).clip(0, 255) for c in range(3)]
open(outf, "wb").write(np.stack(planes).astype("<f4").tobytes())
`

// pilBicubic runs PIL on src when /usr/bin/python3 has PIL and numpy, and
// returns false when it does not.
func runPILBicubic(t *testing.T, src *Image, ow, oh int) (u8 []byte, f32 []float32, ok bool) {
	t.Helper()
	py := "/usr/bin/python3"
	if exec.Command(py, "-c", "import PIL, numpy").Run() != nil {
		return nil, nil, false
	}
	dir := t.TempDir()
	in, o8, of := filepath.Join(dir, "in.rgb"), filepath.Join(dir, "out.u8"), filepath.Join(dir, "out.f32")
	if err := os.WriteFile(in, src.Pix, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", pilBicubicScript, in, strconv.Itoa(src.W), strconv.Itoa(src.H),
		strconv.Itoa(ow), strconv.Itoa(oh), o8, of)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("PIL: %v: %s", err, out)
	}
	u8, err := os.ReadFile(o8)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(of)
	if err != nil {
		t.Fatal(err)
	}
	return u8, decodeF32(raw), true
}

func decodeF32(b []byte) []float32 {
	f := make([]float32, len(b)/4)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return f
}

func encodeF32(f []float32) []byte {
	b := make([]byte, 4*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// TestResizeBicubicMatchesPIL compares ResizeBicubic with PIL's
// Image.resize(BICUBIC) on 8-bit RGB (byte for byte) and
// ResizeBicubicFloat with clean-fid's per-channel mode "F" resize (to 1e-4
// absolute on values in [0, 255]: both accumulate the same float64 products
// in the same order and store float32, so they agree to the last bit in
// practice; the tolerance only allows for a differently compiled libm).
// Expectations come from PIL at test time when /usr/bin/python3 has PIL,
// else from testdata/pil/bicubic_*, which PIL 9.4 wrote for the same images
// (go test ./images -run Bicubic -update-bicubic rewrites them).
func TestResizeBicubicMatchesPIL(t *testing.T) {
	for _, c := range bicubicCases {
		t.Run(c.name, func(t *testing.T) {
			golden := filepath.Join("testdata", "pil", "bicubic_"+c.name)
			want8, wantF, ok := runPILBicubic(t, c.src, c.outW, c.outH)
			if !ok && c.pilOnly {
				t.Skip("needs /usr/bin/python3 with PIL and numpy (no golden for this size)")
			}
			if ok && *updateBicubic && !c.pilOnly {
				if err := os.WriteFile(golden+".u8", want8, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden+".f32", encodeF32(wantF), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if !ok {
				var err error
				if want8, err = os.ReadFile(golden + ".u8"); err != nil {
					t.Fatalf("no PIL on this machine and no golden: %v", err)
				}
				raw, err := os.ReadFile(golden + ".f32")
				if err != nil {
					t.Fatalf("no PIL on this machine and no golden: %v", err)
				}
				wantF = decodeF32(raw)
			}
			got := ResizeBicubic(c.src, c.outW, c.outH)
			if !bytes.Equal(got.Pix, want8) {
				n, worst := 0, 0
				for i := range want8 {
					if d := int(got.Pix[i]) - int(want8[i]); d != 0 {
						n++
						worst = max(worst, d, -d)
					}
				}
				t.Errorf("8-bit: %d of %d bytes differ from PIL (worst by %d)", n, len(want8), worst)
			}
			gotF := ResizeBicubicFloat(c.src, c.outW, c.outH)
			if len(gotF) != len(wantF) {
				t.Fatalf("float: %d values, PIL gave %d", len(gotF), len(wantF))
			}
			worst := 0.0
			for i := range wantF {
				worst = max(worst, math.Abs(float64(gotF[i])-float64(wantF[i])))
			}
			if worst > 1e-4 {
				t.Errorf("float: max |go - PIL| = %g, want <= 1e-4", worst)
			}
		})
	}
}

// BenchmarkResizeBicubicFloat measures clean-fid's resize of a 256x256
// image to 299x299.
func BenchmarkResizeBicubicFloat(b *testing.B) {
	m := sceneImage(256, 256, 1)
	for b.Loop() {
		ResizeBicubicFloat(m, 299, 299)
	}
}
