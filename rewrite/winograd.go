package rewrite

import "fmt"

// Winograd's minimal filtering F(4×4, 3×3) (Lavin & Gray, "Fast Algorithms
// for Convolutional Neural Networks", 2016) computes a 4×4 tile of a 3×3
// stride-1 convolution from a 6×6 tile of its input with 36 multiplications
// per input-output channel pair instead of 144:
//
//	Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// summed over input channels. The element-wise products over all tiles and
// channels are 36 independent matrix products [M,C]·[C,tiles], which
// onnxruntime runs as one batched MatMul; the transforms are two small
// MatMuls and a SpaceToDepth/DepthToSpace pair. With the interpolation
// points 0, ±1, ±2 the result differs from the direct convolution by
// float32 rounding in the transforms only: about 1e-5 of the output's scale
// (measured in TestWinogradExactness), within the rewrite's tolerance.
var (
	winoG = [6][3]float64{
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	}
	winoBT = [6][6]float64{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	winoAT = [4][6]float64{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	}
)

// KindWinograd is a 3×3 stride-1 Conv computed by Winograd's F(4×4, 3×3).
const KindWinograd = "winograd"

// The Winograd form pays for its transforms with memory traffic that
// grows with the channels while the multiplications it saves grow with
// their product: measured through onnxruntime on 2 cores (docs/performance.md),
// 64->64 at 128×128 is 1.3× slower, 128->128 at 64×64 breaks even, 128->256
// is 1.3× and 256->256 1.5× faster. Convolutions with fewer channels than
// these bounds keep the direct form.
const (
	minWinoChannels = 128
	minWinoProduct  = 128 * 256
)

// winogradWorthIt reports whether a 3×3 convolution with cin input and cout
// output channels gains from the Winograd form.
func winogradWorthIt(cin, cout int) bool {
	return cin >= minWinoChannels && cout >= minWinoChannels && cin*cout >= minWinoProduct
}

// matchWinograd returns the plan of a KindWinograd site at Conv node ci, or
// nil.
func matchWinograd(g *graphIndex, ci int) *plan {
	p, _ := matchConv(g, ci)
	if p == nil {
		return nil
	}
	s := &p.site
	if s.KernelH != 3 || s.KernelW != 3 || !winogradWorthIt(s.InChannels, s.OutChannels) {
		return nil
	}
	s.Kind = KindWinograd
	s.PolyH, s.PolyW = 3, 3
	p.x = g.mi.Nodes[ci].Inputs[0]
	p.resize = -1
	return p
}

// winogradWeights returns U = G g Gᵀ for every output and input channel,
// laid out [36, M, C] (tile position ab = a·6+b outermost, as the batched
// MatMul reads it), summed in float64 and rounded once.
func winogradWeights(w []float32, cout, cin int) []float32 {
	u := make([]float32, 36*cout*cin)
	for k := 0; k < cout; k++ {
		for c := 0; c < cin; c++ {
			g := w[(k*cin+c)*9 : (k*cin+c)*9+9]
			// t = G g (6×3), then U = t Gᵀ (6×6).
			var t [6][3]float64
			for a := 0; a < 6; a++ {
				for q := 0; q < 3; q++ {
					var s float64
					for p := 0; p < 3; p++ {
						s += winoG[a][p] * float64(g[p*3+q])
					}
					t[a][q] = s
				}
			}
			for a := 0; a < 6; a++ {
				for b := 0; b < 6; b++ {
					var s float64
					for q := 0; q < 3; q++ {
						s += t[a][q] * winoG[b][q]
					}
					u[((a*6+b)*cout+k)*cin+c] = float32(s)
				}
			}
		}
	}
	return u
}

// winoTilePixels is the order in which emitWinograd gathers the 36 pixels
// (i, j) of a 6×6 input tile: the 4×4 block of the tile's own
// SpaceToDepth cell, then rows 4-5 (the first two rows of the cell below),
// columns 4-5 (of the cell to the right), and the corner.
func winoTilePixels() [36][2]int {
	var o [36][2]int
	n := 0
	add := func(i0, ni, j0, nj int) {
		for i := i0; i < i0+ni; i++ {
			for j := j0; j < j0+nj; j++ {
				o[n] = [2]int{i, j}
				n++
			}
		}
	}
	add(0, 4, 0, 4)
	add(4, 2, 0, 4)
	add(0, 4, 4, 2)
	add(4, 2, 4, 2)
	return o
}

// winoInputMatrix is Bᵀ⊗Bᵀ as a [36 (ab), 36 (pixel)] matrix over the
// pixel order of winoTilePixels: V_ab = Σ_ij Bᵀ[a][i] Bᵀ[b][j] d_ij.
func winoInputMatrix() []float32 {
	px := winoTilePixels()
	m := make([]float32, 36*36)
	for ab := 0; ab < 36; ab++ {
		for n, ij := range px {
			m[ab*36+n] = float32(winoBT[ab/6][ij[0]] * winoBT[ab%6][ij[1]])
		}
	}
	return m
}

// winoOutputMatrix is Aᵀ⊗Aᵀ as a [16 (pq), 36 (ab)] matrix:
// y_pq = Σ_ab Aᵀ[p][a] Aᵀ[q][b] m_ab.
func winoOutputMatrix() []float32 {
	m := make([]float32, 16*36)
	for pq := 0; pq < 16; pq++ {
		for ab := 0; ab < 36; ab++ {
			m[pq*36+ab] = float32(winoAT[pq/4][ab/6] * winoAT[pq%4][ab%6])
		}
	}
	return m
}

// emitWinograd appends the Winograd form of Conv(x, w, bias) with a 3×3
// kernel, stride 1 and zero pads (top, left, bottom, right) and returns its
// output, named out (or a fresh name when out is ""). On an axis with input
// length D and padded length P = D + pads, the Conv has L = P - 2 outputs,
// computed as T = ⌊(P+1)/4⌋ = ⌈L/4⌉ tiles of 4:
//
//  1. Pad x with zeros to 4(T+1) (the Conv's own pads first, then enough
//     zeros at the end) and SpaceToDepth(4): cell (t, u) holds the 4×4
//     block at (4t, 4u), so a tile's 6×6 window is its cell plus two rows
//     and columns of the next cells: four Slices of the cells, concatenated
//     to [N, 36, C·T·T'] in winoTilePixels order.
//  2. V = (Bᵀ⊗Bᵀ)·that, reshaped [N, 36, C, T·T'];
//     M = U·V, the batched product over the 36 tile positions, [N, 36, M, T·T'];
//     Y = (Aᵀ⊗Aᵀ)·M, [N, 16, M·T·T'].
//  3. Reshape to [N, 16·M, T, T'] and DepthToSpace(4, DCR) to
//     [N, M, 4T, 4T']; add the bias; Slice to [L, L'].
//
// Every size is computed from x's shape at run time. The Slice's ends come
// through Expand(·, L-1), which fails when L < 1: the rewritten graph
// refuses a map too small for the kernel exactly where the Conv does.
func (b *builder) emitWinograd(x string, w, bias []float32, cout, cin int, pads [4]int, out string) string {
	shape := b.op("Shape", []string{x})
	var extra, lengths [2]string
	one := b.f32([]int64{1}, []float32{1})
	for k, ax := range []int64{2, 3} {
		before, after := int64(pads[k]), int64(pads[k+2])
		d := b.op("Gather", []string{shape, b.i64(ax)}, attr{"axis", 0})
		p := b.op("Add", []string{d, b.i64(before + after)})
		t := b.op("Div", []string{b.op("Add", []string{p, b.i64(1)}), b.i64(4)})
		extra[k] = b.op("Sub", []string{b.op("Add", []string{b.op("Mul", []string{t, b.i64(4)}), b.i64(4 - before)}), d})
		l := b.op("Sub", []string{p, b.i64(2)})
		guard := b.op("Expand", []string{one, b.op("Sub", []string{l, b.i64(1)})})
		lengths[k] = b.op("Add", []string{b.op("Shape", []string{guard}), b.i64(1)})
	}
	padAmounts := b.op("Concat", []string{b.i64(0, 0, int64(pads[0]), int64(pads[1]), 0, 0), extra[0], extra[1]}, attr{"axis", 0})
	xp := b.op("Pad", []string{x, padAmounts}, attr{"mode", "constant"})
	s := b.op("SpaceToDepth", []string{xp}, attr{"blocksize", 4})
	sShape := b.op("Shape", []string{s})
	cells := b.op("Gather", []string{sShape, b.i64(2)}, attr{"axis", 0}) // T+1
	s6 := b.op("Reshape", []string{s, b.op("Concat", []string{b.i64(0, 4, 4, int64(cin)), cells, b.i64(-1)}, attr{"axis", 0})})
	// The four groups of tile pixels, as Slices of [N, 4 (i), 4 (j), C, T+1, T'+1].
	part := func(starts, ends, axes []int64, n int64) string {
		v := b.op("Slice", []string{s6, b.i64(starts...), b.i64(ends...), b.i64(axes...)})
		return b.op("Reshape", []string{v, b.i64(0, n, -1)})
	}
	d := b.op("Concat", []string{
		part([]int64{0, 0}, []int64{-1, -1}, []int64{4, 5}, 16),
		part([]int64{0, 1, 0}, []int64{2, int64Max, -1}, []int64{1, 4, 5}, 8),
		part([]int64{0, 0, 1}, []int64{2, -1, int64Max}, []int64{2, 4, 5}, 8),
		part([]int64{0, 0, 1, 1}, []int64{2, 2, int64Max, int64Max}, []int64{1, 2, 4, 5}, 4),
	}, attr{"axis", 1})
	v := b.op("MatMul", []string{b.f32([]int64{36, 36}, winoInputMatrix()), d})
	v = b.op("Reshape", []string{v, b.i64(0, 36, int64(cin), -1)})
	m := b.op("MatMul", []string{b.f32([]int64{36, int64(cout), int64(cin)}, winogradWeights(w, cout, cin)), v})
	m = b.op("Reshape", []string{m, b.i64(0, 36, -1)})
	y := b.op("MatMul", []string{b.f32([]int64{16, 36}, winoOutputMatrix()), m})
	tiles := b.op("Sub", []string{cells, b.i64(1)})
	y = b.op("Reshape", []string{y, b.op("Concat", []string{b.i64(0, int64(16*cout)), tiles, b.i64(-1)}, attr{"axis", 0})})
	y = b.op("DepthToSpace", []string{y}, attr{"blocksize", 4}, attr{"mode", "DCR"})
	if bias != nil {
		y = b.op("Add", []string{y, b.f32([]int64{int64(cout), 1, 1}, bias)})
	}
	if out == "" {
		out = b.fresh("Slice")
	}
	b.node("Slice", []string{y, b.i64(0, 0), b.op("Concat", []string{lengths[0], lengths[1]}, attr{"axis", 0}), b.i64(2, 3)}, nil, out)
	return out
}

// emitWino builds a KindWinograd site.
func (b *builder) emitWino(p *plan) {
	b.emitWinograd(p.x, p.w, p.b, p.site.OutChannels, p.site.InChannels, p.site.ConvPads, p.out)
}

// winogradRatio is the Winograd form's multiplications per output over the
// direct 3×3 convolution's (transforms excluded): 36/(16·9).
const winogradRatio = 36.0 / (16 * 9)

func winoString(s Site) string {
	return fmt.Sprintf("Conv 3x3 %d->%d (%s) => Winograd F(4x4,3x3): %.0f%% of the multiplications",
		s.InChannels, s.OutChannels, s.Conv, 100*winogradRatio)
}
