// Package synth builds munit-eval's synthetic world: two small image domains
// and a set of ONNX models whose behaviour is planted, so that every metric
// has a known right answer (docs/demo.md).
//
// Domain A holds black outlines of shapes (circle, square, triangle, star;
// position, size and rotation varying) on a white background. Domain B holds
// the same kind of outlines drawn in one of four colour modes (red, green,
// blue, yellow). The planted generators translate A to B: "MUNIT" picks each
// of the four modes with probability 1/4 from its style code, "BicycleGAN"
// one of two, "CycleGAN", "CycleGAN*" and "UNIT" one mode decided by the
// input, which their noise (test-time dropout, encoder noise, noise
// concatenated to the input) occasionally moves to the next. A hand-wired
// mode classifier tells the four colours apart with large logit margins,
// and a seeded AlexNet-shaped LPIPS network measures diversity. Everything
// is deterministic: the same seed gives the same images and byte-identical
// model files.
//
// The package knows nothing of the metrics; its tests run the models through
// package model and check that the planted values come back.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/munit-eval/munit-eval/images"
)

// Size is the width and height of every image of the world, in pixels.
const Size = 64

// Shape is the kind of outline drawn in an image.
type Shape int

// The four shapes of the world.
const (
	Circle Shape = iota
	Square
	Triangle
	Star
)

// ShapeNames are the names of the shapes, indexed by Shape.
var ShapeNames = []string{"circle", "square", "triangle", "star"}

// Mode is one of domain B's four colour modes.
type Mode int

// The four colour modes of domain B, in the classifier's class order.
const (
	Red Mode = iota
	Green
	Blue
	Yellow
)

// NumModes is the number of colour modes of domain B.
const NumModes = 4

// ModeNames are the classifier's class names, indexed by Mode.
var ModeNames = []string{"red", "green", "blue", "yellow"}

// modeRGB is each mode's colour as RGB in [-1, 1] (the tensor range of
// docs/models.md): pure red, green, blue and yellow.
var modeRGB = [NumModes][3]float64{
	Red:    {1, -1, -1},
	Green:  {-1, 1, -1},
	Blue:   {-1, -1, 1},
	Yellow: {1, 1, -1},
}

// ModeColor returns mode m's colour as 8-bit RGB.
func ModeColor(m Mode) [3]uint8 {
	var c [3]uint8
	for k, v := range modeRGB[m] {
		c[k] = uint8((v + 1) * 127.5)
	}
	return c
}

// Drawing constants. The background is white and outlines are 2 px wide,
// antialiased by pixel coverage.
const (
	lineHalfWidth = 1.0
	minRadius     = 10.0
	maxRadius     = 22.0
	margin        = 3.0 // pixels kept free between a shape and the border
	starInner     = 0.45
	colourJitter  = 20 // domain B: each channel of the ink moves by up to this many levels
)

// ShapeSpec describes one drawn outline.
type ShapeSpec struct {
	Shape    Shape
	CX, CY   float64 // centre, in pixels from the top-left corner
	Radius   float64 // circumradius, in pixels
	Rotation float64 // radians
}

// Random streams: each domain draws from its own PCG stream so that changing
// the number of images in one never changes the other.
const (
	streamA uint64 = 0x41_6f75746c696e65 // "Aoutline"
	streamB uint64 = 0x42_636f6c6f757273 // "Bcolours"
)

func randomSpec(r *rand.Rand) ShapeSpec {
	s := ShapeSpec{
		Shape:    Shape(r.IntN(4)),
		Radius:   minRadius + (maxRadius-minRadius)*r.Float64(),
		Rotation: 2 * math.Pi * r.Float64(),
	}
	lo, hi := s.Radius+margin, Size-s.Radius-margin
	s.CX = lo + (hi-lo)*r.Float64()
	s.CY = lo + (hi-lo)*r.Float64()
	return s
}

// DomainA returns n images of domain A (black outlines on white) drawn with
// the given seed, and the shapes drawn. Image i depends only on seed and i's
// position in the stream, so DomainA(seed, n) is a prefix of DomainA(seed, n+1).
func DomainA(seed uint64, n int) ([]*images.Image, []ShapeSpec) {
	r := rand.New(rand.NewPCG(seed, streamA))
	imgs := make([]*images.Image, n)
	specs := make([]ShapeSpec, n)
	for i := range n {
		specs[i] = randomSpec(r)
		imgs[i] = Draw(specs[i], [3]uint8{0, 0, 0})
	}
	return imgs, specs
}

// DomainB returns n images of domain B (outlines in one of the four colour
// modes, each mode with probability 1/4, on white) drawn with the given seed,
// and each image's mode. The ink of each image is its mode's pure colour with
// every channel moved towards the middle by up to 20 levels, so the domain is
// not four exact colours. Like DomainA, the result for n is a prefix of the
// result for n+1.
func DomainB(seed uint64, n int) ([]*images.Image, []int) {
	r := rand.New(rand.NewPCG(seed, streamB))
	imgs := make([]*images.Image, n)
	modes := make([]int, n)
	for i := range n {
		spec := randomSpec(r)
		m := r.IntN(NumModes)
		ink := ModeColor(Mode(m))
		for k := range ink {
			j := uint8(r.IntN(colourJitter + 1))
			if ink[k] == 255 {
				ink[k] -= j
			} else {
				ink[k] += j
			}
		}
		modes[i] = m
		imgs[i] = Draw(spec, ink)
	}
	return imgs, modes
}

// World returns n images of each domain for the given seed, and the colour
// mode of each domain-B image (an index into ModeNames).
func World(seed uint64, n int) (a, b []*images.Image, bModes []int) {
	a, _ = DomainA(seed, n)
	b, bModes = DomainB(seed, n)
	return a, b, bModes
}

// WriteWorld writes nA domain-A images to dir/testA and nB domain-B images to
// dir/testB as PNG files named 0000.png, 0001.png, ... (sorted order is
// generation order), creating the folders.
func WriteWorld(dir string, seed uint64, nA, nB int) error {
	a, _ := DomainA(seed, nA)
	b, _ := DomainB(seed, nB)
	for _, d := range []struct {
		name string
		imgs []*images.Image
	}{{"testA", a}, {"testB", b}} {
		sub := filepath.Join(dir, d.name)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return fmt.Errorf("synth: world: %w", err)
		}
		for i, m := range d.imgs {
			p := filepath.Join(sub, fmt.Sprintf("%04d.png", i))
			if err := images.WritePNG(p, m); err != nil {
				return fmt.Errorf("synth: world: %w", err)
			}
		}
	}
	return nil
}

// vertices returns the polygon of a square, triangle or star outline.
func (s ShapeSpec) vertices() [][2]float64 {
	var n int
	var radius func(i int) float64
	switch s.Shape {
	case Square:
		n, radius = 4, func(int) float64 { return s.Radius }
	case Triangle:
		n, radius = 3, func(int) float64 { return s.Radius }
	case Star:
		n = 10
		radius = func(i int) float64 {
			if i%2 == 1 {
				return s.Radius * starInner
			}
			return s.Radius
		}
	default:
		return nil
	}
	v := make([][2]float64, n)
	for i := range n {
		a := s.Rotation + 2*math.Pi*float64(i)/float64(n)
		r := radius(i)
		v[i] = [2]float64{s.CX + r*math.Cos(a), s.CY + r*math.Sin(a)}
	}
	return v
}

// distance returns the distance from (x, y) to the outline.
func (s ShapeSpec) distance(x, y float64, poly [][2]float64) float64 {
	if s.Shape == Circle {
		return math.Abs(math.Hypot(x-s.CX, y-s.CY) - s.Radius)
	}
	d := math.Inf(1)
	for i := range poly {
		p, q := poly[i], poly[(i+1)%len(poly)]
		d = math.Min(d, segmentDistance(x, y, p, q))
	}
	return d
}

// segmentDistance returns the distance from (x, y) to the segment pq.
func segmentDistance(x, y float64, p, q [2]float64) float64 {
	dx, dy := q[0]-p[0], q[1]-p[1]
	t := ((x-p[0])*dx + (y-p[1])*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	return math.Hypot(x-(p[0]+t*dx), y-(p[1]+t*dy))
}

// Draw renders one outline in the given ink on a white Size x Size image.
// A pixel's ink coverage is clamp(w + 1/2 - d, 0, 1), d being the distance
// from the pixel's centre to the outline and w the line's half width (1 px):
// a cheap box-filter antialiasing. Each channel is then
// round(255 + coverage*(ink - 255)).
func Draw(s ShapeSpec, ink [3]uint8) *images.Image {
	m := &images.Image{W: Size, H: Size, Pix: make([]uint8, 3*Size*Size)}
	for i := range m.Pix {
		m.Pix[i] = 255
	}
	poly := s.vertices()
	// Only pixels within the circumcircle plus the line's reach can be inked.
	reach := s.Radius + lineHalfWidth + 1
	x0, x1 := clampInt(int(s.CX-reach), 0, Size), clampInt(int(s.CX+reach)+1, 0, Size)
	y0, y1 := clampInt(int(s.CY-reach), 0, Size), clampInt(int(s.CY+reach)+1, 0, Size)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			d := s.distance(float64(x)+0.5, float64(y)+0.5, poly)
			c := math.Max(0, math.Min(1, lineHalfWidth+0.5-d))
			o := 3 * (y*Size + x)
			for k := range 3 {
				m.Pix[o+k] = uint8(math.Round(255 + c*(float64(ink[k])-255)))
			}
		}
	}
	return m
}

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }
