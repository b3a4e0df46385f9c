package synth

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/munit-eval/munit-eval/images"
)

func TestWorldDeterministic(t *testing.T) {
	a1, b1, m1 := World(3, 12)
	a2, b2, m2 := World(3, 12)
	a3, _, _ := World(4, 12)
	aLong, bLong, mLong := World(3, 20)
	for i := range a1 {
		if !bytes.Equal(a1[i].Pix, a2[i].Pix) || !bytes.Equal(b1[i].Pix, b2[i].Pix) || m1[i] != m2[i] {
			t.Fatalf("image %d differs between two calls with the same seed", i)
		}
		if !bytes.Equal(a1[i].Pix, aLong[i].Pix) || !bytes.Equal(b1[i].Pix, bLong[i].Pix) || m1[i] != mLong[i] {
			t.Fatalf("image %d: World(3, 12) is not a prefix of World(3, 20)", i)
		}
	}
	same := 0
	for i := range a1 {
		if bytes.Equal(a1[i].Pix, a3[i].Pix) {
			same++
		}
	}
	if same == len(a1) {
		t.Fatal("seeds 3 and 4 give the same domain A")
	}
}

// TestDraw checks the rasteriser against geometry computed here: a circle of
// radius r drawn with a 2 px line covers about 2*pi*r*2 pixels, its centre
// and corners stay white, and its rim is fully inked.
func TestDraw(t *testing.T) {
	for _, r := range []float64{10, 16, 22} {
		s := ShapeSpec{Shape: Circle, CX: 32, CY: 32, Radius: r}
		m := Draw(s, [3]uint8{0, 0, 0})
		want := 2 * math.Pi * r * 2 / (Size * Size)
		if got := InkFraction(m); math.Abs(got-want) > 0.03*want {
			t.Errorf("circle r=%v: ink fraction %.5f, want %.5f within 3%%", r, got, want)
		}
		px := func(x, y int) uint8 { return m.Pix[3*(y*Size+x)] }
		if px(32, 32) != 255 || px(0, 0) != 255 {
			t.Errorf("circle r=%v: centre or corner is not white", r)
		}
		// Pixel (31 + r, 31) has its centre at distance 0.5 from the rim
		// horizontally and ~0.5 - r + sqrt(r^2 + 0.25) in total, so coverage 1.
		if v := px(31+int(r), 31); v != 0 {
			t.Errorf("circle r=%v: rim pixel is %d, want 0", r, v)
		}
	}
	// A square of circumradius r has side r*sqrt(2): perimeter 4*sqrt(2)*r.
	s := ShapeSpec{Shape: Square, CX: 32, CY: 32, Radius: 20, Rotation: math.Pi / 4}
	want := 4 * math.Sqrt2 * 20 * 2 / (Size * Size)
	if got := InkFraction(Draw(s, [3]uint8{})); math.Abs(got-want) > 0.03*want {
		t.Errorf("square: ink fraction %.5f, want %.5f within 3%%", got, want)
	}
}

// TestDomainB checks each domain-B image's ink: its most saturated pixel is
// within the jitter of its mode's colour, and the modes are about uniform.
func TestDomainB(t *testing.T) {
	const n = 400
	imgs, modes := DomainB(11, n)
	count := make([]int, NumModes)
	for i, m := range imgs {
		count[modes[i]]++
		want := ModeColor(Mode(modes[i]))
		best, bestDist := [3]int{}, math.Inf(1)
		for p := 0; p < len(m.Pix); p += 3 {
			c := [3]int{int(m.Pix[p]), int(m.Pix[p+1]), int(m.Pix[p+2])}
			d := 0.0
			for k := range 3 {
				d += math.Abs(float64(c[k]) - float64(want[k]))
			}
			if d < bestDist {
				best, bestDist = c, d
			}
		}
		for k := range 3 {
			if math.Abs(float64(best[k])-float64(want[k])) > colourJitter {
				t.Fatalf("image %d (mode %s): closest ink %v is more than %d levels from %v", i, ModeNames[modes[i]], best, colourJitter, want)
			}
		}
	}
	// Binomial(400, 1/4): mean 100, sd 8.66; 5 sd either side.
	for j, c := range count {
		if c < 57 || c > 143 {
			t.Errorf("mode %s drawn %d times out of %d, want 100 +- 43", ModeNames[j], c, n)
		}
	}
}

func TestWriteWorld(t *testing.T) {
	dir := t.TempDir()
	if err := WriteWorld(dir, 5, 3, 4); err != nil {
		t.Fatal(err)
	}
	a, b, _ := World(5, 4)
	for _, d := range []struct {
		sub  string
		want []*images.Image
	}{{"testA", a[:3]}, {"testB", b}} {
		files, err := images.ListDir(filepath.Join(dir, d.sub))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != len(d.want) {
			t.Fatalf("%s: %d files, want %d", d.sub, len(files), len(d.want))
		}
		for i, f := range files {
			m, err := images.Load(f.Path)
			if err != nil {
				t.Fatal(err)
			}
			if m.W != Size || m.H != Size || !bytes.Equal(m.Pix, d.want[i].Pix) {
				t.Errorf("%s: %s does not hold image %d", d.sub, f.Name, i)
			}
		}
	}
	// A file where a folder should go is an error naming it.
	bad := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(bad, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteWorld(bad, 5, 1, 1); err == nil {
		t.Error("WriteWorld into a file: no error")
	}
}
