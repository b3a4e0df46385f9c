package amt

import (
	"math/rand/v2"

	"github.com/munit-eval/munit-eval/images"
)

// ScrambleGrid is the number of blocks per side of a catch question's
// scrambled image.
const ScrambleGrid = 8

// Scramble returns a copy of m whose grid×grid blocks are permuted by a
// seeded cyclic permutation (Sattolo's algorithm), so no block stays in
// place. Blocks are floor(W/grid) × floor(H/grid) pixels; a remainder strip at
// the right and bottom stays in place. The grid shrinks for images smaller
// than 2 pixels per block, and an image too small to scramble is returned
// inverted instead, which is just as obviously wrong.
func Scramble(m *images.Image, grid int, seed uint64) *images.Image {
	out := images.New(m.W, m.H)
	copy(out.Pix, m.Pix)
	for grid > 1 && (m.W/grid < 2 || m.H/grid < 2) {
		grid--
	}
	if grid < 2 {
		for i := range out.Pix {
			out.Pix[i] = 255 - out.Pix[i]
		}
		return out
	}
	bw, bh := m.W/grid, m.H/grid
	n := grid * grid
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	rng := rand.New(rand.NewPCG(seed, 0x736372616d626c65)) // "scramble"
	for i := n - 1; i > 0; i-- {
		j := rng.IntN(i)
		perm[i], perm[j] = perm[j], perm[i]
	}
	for dst, src := range perm {
		dx, dy := (dst%grid)*bw, (dst/grid)*bh
		sx, sy := (src%grid)*bw, (src/grid)*bh
		for y := 0; y < bh; y++ {
			d := 3 * ((dy+y)*m.W + dx)
			s := 3 * ((sy+y)*m.W + sx)
			copy(out.Pix[d:d+3*bw], m.Pix[s:s+3*bw])
		}
	}
	return out
}
