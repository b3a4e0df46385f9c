package rewrite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/munit-eval/munit-eval/onnxbuild"
)

// Field numbers from onnx/onnx.proto.
const (
	fModelGraph      = 7
	fGraphNode       = 1
	fGraphInit       = 5
	fGraphValueInfo  = 13
	fNodeInput       = 1
	fNodeOutput      = 2
	fNodeName        = 3
	fNodeOpType      = 4
	fNodeAttribute   = 5
	fAttrName        = 1
	fAttrI           = 3
	fAttrS           = 4
	fAttrInts        = 8
	fAttrType        = 20
	typeInt          = 2
	typeString       = 3
	typeInts         = 7
	fTensorDims      = 1
	fTensorDataType  = 2
	fTensorName      = 8
	fTensorRawData   = 9
	fValueInfoName   = 1
	dataTypeFloat    = onnxbuild.TypeFloat
	dataTypeInt64    = onnxbuild.TypeInt64
	maxNewNameTrials = 1000
)

const int64Max = math.MaxInt64

// attr is one node attribute: an int64, []int64 or string.
type attr struct {
	name string
	v    any
}

// builder collects the nodes and initializers that replace one site.
type builder struct {
	g      *graphIndex
	prefix string
	nodes  [][]byte
	inits  [][]byte
	count  int
}

// fresh returns an unused value name under the builder's prefix.
func (b *builder) fresh(base string) string {
	for range maxNewNameTrials {
		b.count++
		name := fmt.Sprintf("%s/%s_%d", b.prefix, base, b.count)
		if !b.g.names[name] {
			b.g.names[name] = true
			return name
		}
	}
	panic("rewrite: no free value name") // unreachable: names are finite
}

// sanitize turns a value name into a prefix for new names.
func sanitize(s string) string {
	s = strings.TrimLeft(s, "/")
	if len(s) > 80 {
		s = s[len(s)-80:]
	}
	return s
}

func (b *builder) node(op string, inputs []string, attrs []attr, outputs ...string) {
	var n []byte
	for _, in := range inputs {
		n = protowire.AppendTag(n, fNodeInput, protowire.BytesType)
		n = protowire.AppendString(n, in)
	}
	for _, o := range outputs {
		n = protowire.AppendTag(n, fNodeOutput, protowire.BytesType)
		n = protowire.AppendString(n, o)
	}
	n = protowire.AppendTag(n, fNodeName, protowire.BytesType)
	n = protowire.AppendString(n, b.fresh(op+"_node"))
	n = protowire.AppendTag(n, fNodeOpType, protowire.BytesType)
	n = protowire.AppendString(n, op)
	for _, a := range attrs {
		n = protowire.AppendTag(n, fNodeAttribute, protowire.BytesType)
		n = protowire.AppendBytes(n, encodeAttr(a))
	}
	b.nodes = append(b.nodes, n)
}

// op appends a one-output node and returns its output's name.
func (b *builder) op(op string, inputs []string, attrs ...attr) string {
	out := b.fresh(op)
	b.node(op, inputs, attrs, out)
	return out
}

func (b *builder) f32(dims []int64, data []float32) string {
	name := b.fresh("const")
	raw := make([]byte, 0, 4*len(data))
	for _, v := range data {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	b.inits = append(b.inits, encodeTensor(name, dataTypeFloat, dims, raw))
	return name
}

func (b *builder) i64(data ...int64) string {
	name := b.fresh("const")
	raw := make([]byte, 0, 8*len(data))
	for _, v := range data {
		raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
	}
	b.inits = append(b.inits, encodeTensor(name, dataTypeInt64, []int64{int64(len(data))}, raw))
	return name
}

func encodeAttr(a attr) []byte {
	var b []byte
	b = protowire.AppendTag(b, fAttrName, protowire.BytesType)
	b = protowire.AppendString(b, a.name)
	switch v := a.v.(type) {
	case int:
		b = protowire.AppendTag(b, fAttrType, protowire.VarintType)
		b = protowire.AppendVarint(b, typeInt)
		b = protowire.AppendTag(b, fAttrI, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(int64(v)))
	case []int64:
		b = protowire.AppendTag(b, fAttrType, protowire.VarintType)
		b = protowire.AppendVarint(b, typeInts)
		var p []byte
		for _, x := range v {
			p = protowire.AppendVarint(p, uint64(x))
		}
		b = protowire.AppendTag(b, fAttrInts, protowire.BytesType)
		b = protowire.AppendBytes(b, p)
	case string:
		b = protowire.AppendTag(b, fAttrType, protowire.VarintType)
		b = protowire.AppendVarint(b, typeString)
		b = protowire.AppendTag(b, fAttrS, protowire.BytesType)
		b = protowire.AppendString(b, v)
	default:
		panic(fmt.Sprintf("rewrite: attribute %s of type %T", a.name, a.v)) // a bug in this package
	}
	return b
}

func encodeTensor(name string, dtype int, dims []int64, raw []byte) []byte {
	var b []byte
	if len(dims) > 0 {
		var p []byte
		for _, d := range dims {
			p = protowire.AppendVarint(p, uint64(d))
		}
		b = protowire.AppendTag(b, fTensorDims, protowire.BytesType)
		b = protowire.AppendBytes(b, p)
	}
	b = protowire.AppendTag(b, fTensorDataType, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(dtype))
	b = protowire.AppendTag(b, fTensorName, protowire.BytesType)
	b = protowire.AppendString(b, name)
	b = protowire.AppendTag(b, fTensorRawData, protowire.BytesType)
	b = protowire.AppendBytes(b, raw)
	return b
}

// axisPlan holds one spatial axis's sizes. On the upsampled map (length s·D)
// the Pad adds p0 before and p1 after, the Conv's zero padding c0 and c1
// more; e = p0+c0 and er = p1+c1 are the rows (columns) of output whose
// kernel window overlaps the padding at the start and at the end.
type axisPlan struct {
	axis           int64 // 2 (height) or 3 (width)
	k, poly        int
	p0, p1, c0, c1 int
	e, er          int
	// m is the thickness of the small-map slice each border strip is
	// computed from: s·m >= k-1 keeps a strip's wanted outputs off its own
	// far padding, and s·m > max(p0, p1) keeps reflection inside the slice.
	m int
	// Run-time values (int64 [1] tensors): zEnd is the interior's length in
	// the DepthToSpace output; mEnd, r and bStart are set when the axis has
	// an end strip or when the other axis needs the middle band's bounds.
	zEnd, mEnd, bStart string
}

// polyPad is the polyphase Conv's zero padding at the end of the axis. The
// interior needs D2S length s·(D+pad-poly+1) >= s·D-k+1, so pad >=
// poly-1-⌊(k-1)/s⌋; then the polyphase Conv has an output exactly when the
// original has one (s·D >= k), and fails where the original fails. With
// border strips the original also works on maps smaller than that, which
// the strips cover alone: the padding is then poly-1, so that the polyphase
// Conv has an output even for a one-pixel map.
func (a axisPlan) polyPad(s int) int {
	if a.e == 0 && a.er == 0 {
		return a.poly - 1 - (a.k-1)/s
	}
	return a.poly - 1
}

func newAxis(axis int64, s, k, p0, p1, c0, c1 int) axisPlan {
	a := axisPlan{axis: axis, k: k, poly: (k+s-2)/s + 1, p0: p0, p1: p1, c0: c0, c1: c1, e: p0 + c0, er: p1 + c1}
	a.m = max(1, (k-1+s-1)/s, max(p0, p1)/s+1)
	return a
}

// emit builds the replacement of plan p. With D the small map's length on
// an axis and Lout = s·D + e + er - k + 1 the Conv's output length, output
// index o is:
//
//   - o < e: the start strip, from the original chain on the first m rows;
//   - e <= o < Lout-er: the interior, from the polyphase Conv (tap v+d of the
//     upsampled map, v = o-e = s·a+b, is small-map row a+⌊(b+d)/s⌋), at
//     DepthToSpace index o-e;
//   - o >= Lout-er: the end strip, from the original chain on the last m rows.
//
// The bounds are computed at run time, clamped so that maps too small for
// an interior (s·D < k-1, where the strips already cover everything) give
// exactly Lout outputs too:
//
//	r = min(er, max(Lout-e, 0)),  mEnd = Lout - r,  zEnd = max(mEnd-e, 0),
//	bStart = min(er, Lout) - r  (the end strip holds the last min(er, Lout) outputs).
func (b *builder) emit(p *plan) {
	s := p.site.Scale
	h := newAxis(2, s, p.site.KernelH, p.site.Pads[0], p.site.Pads[2], p.site.ConvPads[0], p.site.ConvPads[2])
	w := newAxis(3, s, p.site.KernelW, p.site.Pads[1], p.site.Pads[3], p.site.ConvPads[1], p.site.ConvPads[3])
	x := p.x

	roi := b.f32([]int64{0}, nil)
	scales := b.f32([]int64{4}, []float32{1, 1, float32(s), float32(s)})
	var modePads, convPads, cval string
	if p.pad >= 0 && (h.p0|h.p1|w.p0|w.p1) != 0 {
		modePads = b.i64(0, 0, int64(h.p0), int64(w.p0), 0, 0, int64(h.p1), int64(w.p1))
		if p.site.PadMode == "constant" && p.padValue != 0 {
			cval = b.f32(nil, []float32{p.padValue})
		}
	}
	if (h.c0 | h.c1 | w.c0 | w.c1) != 0 {
		convPads = b.i64(0, 0, int64(h.c0), int64(w.c0), 0, 0, int64(h.c1), int64(w.c1))
	}
	convIn := []string{p.wName}
	if p.bName != "" {
		convIn = append(convIn, p.bName)
	}
	kernel := []int64{int64(h.k), int64(w.k)}

	// strip runs the original chain on a slice of the small map along ax,
	// at the start (first m, outputs [0, e)) or the end (last m, outputs
	// [Lout-er, Lout)), keeping only the padded rows those outputs read.
	strip := func(ax axisPlan, atEnd bool) string {
		var xs, q string
		if atEnd {
			xs = b.op("Slice", []string{x, b.i64(int64(-ax.m)), b.i64(int64Max), b.i64(ax.axis)})
		} else {
			xs = b.op("Slice", []string{x, b.i64(0), b.i64(int64(ax.m)), b.i64(ax.axis)})
		}
		q = b.op("Resize", []string{xs, roi, scales},
			attr{"coordinate_transformation_mode", "asymmetric"}, attr{"mode", "nearest"}, attr{"nearest_mode", "floor"})
		if modePads != "" {
			in := []string{q, modePads}
			if cval != "" {
				in = append(in, cval)
			}
			q = b.op("Pad", in, attr{"mode", p.site.PadMode})
		}
		if convPads != "" {
			q = b.op("Pad", []string{q, convPads}, attr{"mode", "constant"})
		}
		if atEnd {
			q = b.op("Slice", []string{q, b.i64(int64(-(ax.er + ax.k - 1))), b.i64(int64Max), b.i64(ax.axis)})
		} else {
			q = b.op("Slice", []string{q, b.i64(0), b.i64(int64(ax.e + ax.k - 1)), b.i64(ax.axis)})
		}
		return b.op("Conv", append([]string{q}, convIn...), attr{"dilations", []int64{1, 1}}, attr{"group", 1},
			attr{"kernel_shape", kernel}, attr{"pads", []int64{0, 0, 0, 0}}, attr{"strides", []int64{1, 1}})
	}

	// Run-time bounds.
	shape := b.op("Shape", []string{x})
	bounds := func(a *axisPlan) {
		d := b.op("Gather", []string{shape, b.i64(a.axis)}, attr{"axis", 0})
		lout := b.op("Add", []string{b.op("Mul", []string{d, b.i64(int64(s))}), b.i64(int64(a.e + a.er - a.k + 1))})
		r := b.i64(0)
		if a.er > 0 {
			r = b.op("Min", []string{b.op("Max", []string{b.op("Sub", []string{lout, b.i64(int64(a.e))}), b.i64(0)}), b.i64(int64(a.er))})
			a.bStart = b.op("Sub", []string{b.op("Min", []string{lout, b.i64(int64(a.er))}), r})
		}
		a.mEnd = b.op("Sub", []string{lout, r})
		a.zEnd = b.op("Max", []string{b.op("Sub", []string{a.mEnd, b.i64(int64(a.e))}), b.i64(0)})
	}
	bounds(&h)
	bounds(&w)

	// Interior: the polyphase Conv, zero-padded at the end (the padded taps
	// carry zero weight for every output that is kept).
	pw := polyphaseWeights(p.w, p.site.OutChannels, p.site.InChannels, h.k, w.k, s, h.poly, w.poly)
	pb := repeatBias(p.b, s*s)
	polyPads := [4]int{0, 0, h.polyPad(s), w.polyPad(s)}
	var poly string
	if p.site.Winograd {
		poly = b.emitWinograd(x, pw, pb, s*s*p.site.OutChannels, p.site.InChannels, polyPads, "")
	} else {
		polyIn := []string{x, b.f32([]int64{int64(s * s * p.site.OutChannels), int64(p.site.InChannels), int64(h.poly), int64(w.poly)}, pw)}
		if pb != nil {
			polyIn = append(polyIn, b.f32([]int64{int64(len(pb))}, pb))
		}
		poly = b.op("Conv", polyIn, attr{"dilations", []int64{1, 1}}, attr{"group", 1},
			attr{"kernel_shape", []int64{int64(h.poly), int64(w.poly)}},
			attr{"pads", []int64{0, 0, int64(polyPads[2]), int64(polyPads[3])}}, attr{"strides", []int64{1, 1}})
	}
	d2s := b.op("DepthToSpace", []string{poly}, attr{"blocksize", s}, attr{"mode", "DCR"})
	interior := b.op("Slice", []string{d2s, b.i64(0, 0), b.op("Concat", []string{h.zEnd, w.zEnd}, attr{"axis", 0}), b.i64(2, 3)})

	// The middle band: rows [e, mEnd) of the column strips beside the interior.
	band := []string{}
	if w.e > 0 {
		band = append(band, b.op("Slice", []string{strip(w, false), b.i64(int64(h.e)), h.mEnd, b.i64(2)}))
	}
	band = append(band, interior)
	if w.er > 0 {
		starts := b.op("Concat", []string{b.i64(int64(h.e)), w.bStart}, attr{"axis", 0})
		ends := b.op("Concat", []string{h.mEnd, b.i64(int64Max)}, attr{"axis", 0})
		band = append(band, b.op("Slice", []string{strip(w, true), starts, ends, b.i64(2, 3)}))
	}
	middle := band[0]
	if len(band) > 1 {
		middle = b.op("Concat", band, attr{"axis", 3})
	}
	rows := []string{}
	if h.e > 0 {
		rows = append(rows, strip(h, false))
	}
	rows = append(rows, middle)
	if h.er > 0 {
		rows = append(rows, b.op("Slice", []string{strip(h, true), h.bStart, b.i64(int64Max), b.i64(2)}))
	}
	if len(rows) > 1 {
		b.node("Concat", rows, []attr{{"axis", 2}}, p.out)
	} else {
		b.node("Identity", rows, nil, p.out)
	}
}

// polyphaseWeights folds the k×k kernel into the s²·M polyphase kernel.
// Output channel (bh·s+bw)·M + c (DepthToSpace's DCR order) computes phase
// (bh, bw) of channel c: tap (jh, jw) of the small map carries
//
//	W'[(bh·s+bw)·M+c, ci, jh, jw] = Σ_{dh: ⌊(bh+dh)/s⌋=jh} Σ_{dw: ⌊(bw+dw)/s⌋=jw} W[c, ci, dh, dw],
//
// summed in float64 and rounded once.
func polyphaseWeights(w []float32, cout, cin, kh, kw, s, ph, pw int) []float32 {
	acc := make([]float64, s*s*cout*cin*ph*pw)
	for bh := 0; bh < s; bh++ {
		for bw := 0; bw < s; bw++ {
			for c := 0; c < cout; c++ {
				oc := (bh*s+bw)*cout + c
				for ci := 0; ci < cin; ci++ {
					for dh := 0; dh < kh; dh++ {
						jh := (bh + dh) / s
						for dw := 0; dw < kw; dw++ {
							jw := (bw + dw) / s
							acc[((oc*cin+ci)*ph+jh)*pw+jw] += float64(w[((c*cin+ci)*kh+dh)*kw+dw])
						}
					}
				}
			}
		}
	}
	out := make([]float32, len(acc))
	for k, v := range acc {
		out[k] = float32(v)
	}
	return out
}

// repeatBias is the bias of a Conv whose output channels are n blocks of
// the original ones (DepthToSpace's DCR order), or nil without a bias.
func repeatBias(bias []float32, n int) []float32 {
	if bias == nil {
		return nil
	}
	out := make([]float32, 0, n*len(bias))
	for range n {
		out = append(out, bias...)
	}
	return out
}

// s2dWeights lays the k×k kernel out for the space-to-depth map. Output
// o = 2a+q (phase q) reads input o+d = 2(a+j)+u for taps d = 2j+u-q, so
//
//	W'[(qh·2+qw)·M+c, (uh·2+uw)·C+ci, jh, jw] = W[c, ci, 2jh+uh-qh, 2jw+uw-qw]
//
// where that tap exists and 0 elsewhere (SpaceToDepth and DepthToSpace DCR
// both order channels block-major).
func s2dWeights(w []float32, cout, cin, kh, kw, ph, pw int) []float32 {
	out := make([]float32, 4*cout*4*cin*ph*pw)
	for qh := 0; qh < 2; qh++ {
		for qw := 0; qw < 2; qw++ {
			for c := 0; c < cout; c++ {
				oc := (qh*2+qw)*cout + c
				for uh := 0; uh < 2; uh++ {
					for uw := 0; uw < 2; uw++ {
						for ci := 0; ci < cin; ci++ {
							ic := (uh*2+uw)*cin + ci
							for jh := 0; jh < ph; jh++ {
								dh := 2*jh + uh - qh
								if dh < 0 || dh >= kh {
									continue
								}
								for jw := 0; jw < pw; jw++ {
									dw := 2*jw + uw - qw
									if dw < 0 || dw >= kw {
										continue
									}
									out[((oc*4*cin+ic)*ph+jh)*pw+jw] = w[((c*cin+ci)*kh+dh)*kw+dw]
								}
							}
						}
					}
				}
			}
		}
	}
	return out
}

// emitS2D builds a KindSpaceToDepth site: the Conv's input, zero-padded by
// the Conv's own pads plus one row (column) when the padded length L is odd,
// goes through SpaceToDepth(2), the rearranged Conv and DepthToSpace(2),
// which gives L-k+1 outputs (L even) or one more (L odd, cut by a Slice to
// the Conv's L-k+1). The weights are copied, not summed: every product is
// the original one.
func (b *builder) emitS2D(p *plan) {
	s := p.site
	x := p.x
	shape := b.op("Shape", []string{x})
	var ends [2]string
	var tails [2]string
	for k, ax := range []int64{2, 3} {
		before, after, kern := s.ConvPads[k], s.ConvPads[k+2], s.KernelH
		if ax == 3 {
			kern = s.KernelW
		}
		l := b.op("Add", []string{b.op("Gather", []string{shape, b.i64(ax)}, attr{"axis", 0}), b.i64(int64(before + after))})
		tails[k] = b.op("Add", []string{b.op("Mod", []string{l, b.i64(2)}), b.i64(int64(after))})
		ends[k] = b.op("Sub", []string{l, b.i64(int64(kern - 1))})
	}
	pads := b.op("Concat", []string{b.i64(0, 0, int64(s.ConvPads[0]), int64(s.ConvPads[1]), 0, 0), tails[0], tails[1]}, attr{"axis", 0})
	padded := b.op("Pad", []string{x, pads}, attr{"mode", "constant"})
	s2d := b.op("SpaceToDepth", []string{padded}, attr{"blocksize", 2})
	w := s2dWeights(p.w, s.OutChannels, s.InChannels, s.KernelH, s.KernelW, s.PolyH, s.PolyW)
	in := []string{s2d, b.f32([]int64{int64(4 * s.OutChannels), int64(4 * s.InChannels), int64(s.PolyH), int64(s.PolyW)}, w)}
	if pb := repeatBias(p.b, 4); pb != nil {
		in = append(in, b.f32([]int64{int64(len(pb))}, pb))
	}
	y := b.op("Conv", in, attr{"dilations", []int64{1, 1}}, attr{"group", 1},
		attr{"kernel_shape", []int64{int64(s.PolyH), int64(s.PolyW)}}, attr{"pads", []int64{0, 0, 0, 0}}, attr{"strides", []int64{1, 1}})
	d2s := b.op("DepthToSpace", []string{y}, attr{"blocksize", 2}, attr{"mode", "DCR"})
	b.node("Slice", []string{d2s, b.i64(0, 0), b.op("Concat", []string{ends[0], ends[1]}, attr{"axis", 0}), b.i64(2, 3)}, nil, p.out)
}

// encode copies the model, replacing each plan's Conv node by its polyphase
// subgraph, dropping the Resize and Pad nodes it consumed (and any
// value_info about their outputs), and appending the new initializers.
func encode(model []byte, g *graphIndex, plans []*plan) ([]byte, error) {
	drop := map[int]bool{}
	at := map[int]*plan{}
	gone := map[string]bool{}
	for _, p := range plans {
		if p.resize >= 0 {
			drop[p.resize] = true
		}
		if p.pad >= 0 {
			drop[p.pad] = true
		}
		at[p.conv] = p
		for _, v := range p.removedOut {
			gone[v] = true
		}
	}
	var out []byte
	found := false
	err := walk(model, func(num protowire.Number, typ protowire.Type, raw, val []byte) error {
		if num != fModelGraph || typ != protowire.BytesType {
			out = append(out, raw...)
			return nil
		}
		if found {
			return errors.New("model has two graphs")
		}
		found = true
		graph, err := encodeGraph(val, g, drop, at, gone)
		if err != nil {
			return err
		}
		out = slices.Grow(out, len(graph)+len(model)+2*binary.MaxVarintLen64)
		out = protowire.AppendTag(out, fModelGraph, protowire.BytesType)
		out = protowire.AppendBytes(out, graph)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func encodeGraph(graph []byte, g *graphIndex, drop map[int]bool, at map[int]*plan, gone map[string]bool) ([]byte, error) {
	// Build every replacement first, so that the output is allocated once:
	// the new initializers (Winograd weights are 4× the originals) run to
	// hundreds of MB, and growing a slice that size costs seconds of copying.
	built := map[int]*builder{}
	size := len(graph)
	for i := range len(g.mi.Nodes) { // graph order: the new names do not depend on map order
		p, ok := at[i]
		if !ok {
			continue
		}
		b := &builder{g: g, prefix: sanitize(p.out) + "/" + p.site.Kind}
		switch p.site.Kind {
		case KindSpaceToDepth:
			b.emitS2D(p)
		case KindWinograd:
			b.emitWino(p)
		default:
			b.emit(p)
		}
		for _, n := range b.nodes {
			size += len(n) + 2*binary.MaxVarintLen64
		}
		for _, t := range b.inits {
			size += len(t) + 2*binary.MaxVarintLen64
		}
		built[i] = b
	}
	out := make([]byte, 0, size)
	nodeIdx := 0
	err := walk(graph, func(num protowire.Number, typ protowire.Type, raw, val []byte) error {
		switch {
		case num == fGraphNode && typ == protowire.BytesType:
			i := nodeIdx
			nodeIdx++
			if drop[i] {
				return nil
			}
			b, ok := built[i]
			if !ok {
				out = append(out, raw...)
				return nil
			}
			for _, n := range b.nodes {
				out = protowire.AppendTag(out, fGraphNode, protowire.BytesType)
				out = protowire.AppendBytes(out, n)
			}
		case num == fGraphValueInfo && typ == protowire.BytesType:
			if gone[valueInfoName(val)] {
				return nil
			}
			out = append(out, raw...)
		default:
			out = append(out, raw...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if nodeIdx != len(g.mi.Nodes) {
		return nil, fmt.Errorf("graph has %d nodes, parsed %d", nodeIdx, len(g.mi.Nodes))
	}
	// Initializers may come in any order among a graph's fields.
	for i := range len(g.mi.Nodes) {
		if b, ok := built[i]; ok {
			for _, t := range b.inits {
				out = protowire.AppendTag(out, fGraphInit, protowire.BytesType)
				out = protowire.AppendBytes(out, t)
			}
		}
	}
	return out, nil
}

func valueInfoName(b []byte) string {
	name := ""
	_ = walk(b, func(num protowire.Number, typ protowire.Type, _, val []byte) error {
		if num == fValueInfoName && typ == protowire.BytesType {
			name = string(val)
		}
		return nil
	})
	return name
}

// walk calls fn for each field of message b with the field's raw bytes (tag
// included) and, for the bytes wire type, its payload.
func walk(b []byte, fn func(num protowire.Number, typ protowire.Type, raw, val []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return protowire.ParseError(m)
		}
		var val []byte
		if typ == protowire.BytesType {
			v, k := protowire.ConsumeBytes(b[n:])
			if k < 0 {
				return protowire.ParseError(k)
			}
			val = v
		}
		if err := fn(num, typ, b[:n+m], val); err != nil {
			return err
		}
		b = b[n+m:]
	}
	return nil
}
