// Package rewrite makes ONNX generators cheaper to run without changing what
// they compute beyond float32 rounding. Its main rewrite is the polyphase
// form of "nearest upsample, then convolve": a Resize (nearest, integer scale s) optionally followed by
// a Pad (reflect, edge or constant) and a stride-1 Conv with a k×k kernel
// multiplies every weight with s² copies of the same pixel. The same interior
// values come from a ⌈(k+s-1)/s⌉-sized convolution on the small map with s²
// times the output channels, followed by DepthToSpace: for k = 5, s = 2 that
// is 9/25 of the multiplications.
//
// The polyphase and space-to-depth rewrites are exact, not approximate:
// only the order of float32 additions changes (the folded weights are
// summed in float64 and rounded once). Where the padding of the upsampled
// map differs from anything the small map can express (reflect padding of
// an upsampled map is not the upsampling of a reflect-padded map), the
// border rows and columns are computed by the original Resize -> Pad -> Conv
// on thin slices of the small map and stitched to the interior with Slice
// and Concat. Every bound is computed from the input's shape at run time,
// so dynamic batch, height and width keep working, down to maps of one
// pixel.
//
// A second rewrite serves the generator's last layer: a stride-1 Conv with
// a large odd kernel and at most four output channels (MUNIT's 7×7, 64->3)
// becomes SpaceToDepth(2) -> Conv with four times the output channels ->
// DepthToSpace(2), the same products laid out so that onnxruntime's blocked
// convolution does not pad 3 output channels to 16.
//
// A third computes wide 3×3 stride-1 convolutions (residual blocks, and the
// polyphase Conv of a 5×5 upsampling layer) by Winograd's F(4×4, 3×3): a
// quarter of the multiplications. It is exact in exact arithmetic; its
// float32 transforms round at about 1e-5 of the output's scale, so
// Options.NoWinograd leaves it out (munit-eval does so for the metric
// networks, whose parity with reference implementations is measured).
//
// The package works on the protobuf: it parses the model with
// onnxbuild, re-encodes only the graph's node list (replacing each
// matched Conv by its polyphase subgraph and dropping the Resize and Pad it
// consumed) and appends the new initializers; every other byte of the model
// is copied as is. A model it does not fully understand (an unknown
// attribute, a non-constant pad or scale, subgraphs, an opset below 12) is
// returned unchanged.
package rewrite

import (
	"fmt"
	"math"
	"strings"

	"github.com/munit-eval/munit-eval/onnxbuild"
)

// minOpset is the lowest default-domain opset the rewrite handles: Pad and
// Resize take their parameters as inputs from 11 on, and Max/Min accept
// int64 (the run-time border arithmetic) from 12 on.
const minOpset = 12

// The kinds of Site.
const (
	// KindPolyphase is nearest upsampling -> [Pad] -> Conv computed on the
	// small map (Conv + DepthToSpace, exact border strips).
	KindPolyphase = "polyphase"
	// KindSpaceToDepth is a stride-1 Conv with a large odd kernel and at most
	// maxS2DOut output channels computed as SpaceToDepth(2) -> Conv with 4×
	// the output channels -> DepthToSpace(2): the same products, laid out so
	// that the output channels fill a vector register (onnxruntime's
	// blocked-layout convolution pads the output channels to 8 or 16, so a
	// 3-channel output wastes most of its multiplications).
	KindSpaceToDepth = "space-to-depth"
)

// maxS2DOut is the most output channels a KindSpaceToDepth site has, and
// minS2DKernel the smallest kernel (measured on a 7×7, 64->3 Conv at
// 256×256, docs/performance.md).
const (
	maxS2DOut    = 4
	minS2DKernel = 5
)

// Site is one rewritten (or rewritable) chain.
type Site struct {
	// Kind is KindPolyphase or KindSpaceToDepth; for the latter Resize, Pad,
	// Scale, PadMode and Pads are empty, and PolyH, PolyW are the kernel on
	// the space-to-depth map.
	Kind string
	// Conv, Resize and Pad name the matched nodes (their names, or their
	// first outputs when unnamed); Pad is "" when the Conv reads the Resize
	// directly.
	Conv, Resize, Pad string
	// Scale is the nearest-upsampling factor s.
	Scale int
	// PadMode is "reflect", "edge" or "constant" ("constant" also when there
	// is no Pad node, for the Conv's own zero padding).
	PadMode string
	// Pads are the Pad node's amounts on the upsampled map: top, left,
	// bottom, right. ConvPads are the Conv's own zero pads, same order.
	Pads, ConvPads [4]int
	// KernelH, KernelW are the Conv's kernel; PolyH, PolyW the polyphase
	// kernel on the small map.
	KernelH, KernelW, PolyH, PolyW int
	// InChannels and OutChannels are the Conv's.
	InChannels, OutChannels int
	// Winograd is set on a KindPolyphase site whose polyphase Conv (3×3)
	// is itself computed by Winograd's F(4×4, 3×3) (see KindWinograd).
	Winograd bool
}

// Ratio is the polyphase interior's multiplications per output over the
// original convolution's, (PolyH·PolyW)/(KernelH·KernelW). For a
// KindSpaceToDepth site it is above 1 (4·PolyH·PolyW/(KernelH·KernelW)
// multiplications per output, none of them spent on padded channels) and
// String does not print it.
func (s Site) Ratio() float64 {
	if s.Kind == KindWinograd {
		return winogradRatio
	}
	r := float64(s.PolyH*s.PolyW) / float64(s.KernelH*s.KernelW)
	if s.Kind == KindSpaceToDepth {
		r *= 4
	}
	if s.Winograd {
		r *= winogradRatio
	}
	return r
}

// String describes the site in one line, as `inspect` prints it.
func (s Site) String() string {
	if s.Kind == KindWinograd {
		return winoString(s)
	}
	if s.Kind == KindSpaceToDepth {
		return fmt.Sprintf("Conv %dx%d %d->%d (%s) => SpaceToDepth 2 -> Conv %dx%d %d->%d -> DepthToSpace 2 (output channels fill the vector width)",
			s.KernelH, s.KernelW, s.InChannels, s.OutChannels, s.Conv, s.PolyH, s.PolyW, 4*s.InChannels, 4*s.OutChannels)
	}
	pad := ""
	if s.Pad != "" {
		pad = fmt.Sprintf(" -> Pad %s %v", s.PadMode, s.Pads)
	}
	wino := ""
	if s.Winograd {
		wino = " (Winograd F(4x4,3x3))"
	}
	return fmt.Sprintf("Resize nearest x%d%s -> Conv %dx%d %d->%d (%s) => Conv %dx%d%s %d->%d + DepthToSpace %d, exact borders; %.0f%% of the multiplications",
		s.Scale, pad, s.KernelH, s.KernelW, s.InChannels, s.OutChannels, s.Conv,
		s.PolyH, s.PolyW, wino, s.InChannels, s.Scale*s.Scale*s.OutChannels, s.Scale, 100*s.Ratio())
}

// Skip is a Resize -> [Pad] -> Conv chain the rewrite left alone, and why.
type Skip struct {
	// Conv names the Conv node; Reason says what the rewrite did not accept.
	Conv   string
	Reason string
}

// String describes the skipped chain in one line.
func (s Skip) String() string { return fmt.Sprintf("%s: not rewritten: %s", s.Conv, s.Reason) }

// Result is what Apply found and produced.
type Result struct {
	// Model is the rewritten model, or the input bytes themselves when no
	// site was rewritten.
	Model []byte
	// Sites are the rewritten chains, in graph order.
	Sites []Site
	// Skipped are nearest-upsample -> conv chains left alone, with reasons.
	Skipped []Skip
}

// Options select rewrites.
type Options struct {
	// NoWinograd leaves 3×3 convolutions in their direct form. The
	// Winograd form rounds its transforms in float32, about 1e-5 of the
	// output's scale, where the other rewrites only reorder additions:
	// munit-eval keeps the metric networks (LPIPS, classifiers), whose
	// parity with the reference implementations is measured, direct.
	NoWinograd bool
}

// Find lists the sites Apply would rewrite and the chains it would skip,
// without building anything.
func Find(model []byte, o Options) (*Result, error) {
	return run(model, o, false)
}

// Apply rewrites every site of the model. The result's Model is the input
// slice itself when nothing was rewritten. An error means the model could not
// be parsed; callers that only want speed may then use the original bytes.
func Apply(model []byte, o Options) (*Result, error) {
	return run(model, o, true)
}

func run(model []byte, o Options, build bool) (*Result, error) {
	mi, err := onnxbuild.Parse(model)
	if err != nil {
		return nil, fmt.Errorf("rewrite: %w", err)
	}
	res := &Result{Model: model}
	g := newGraphIndex(mi)
	if reason := g.unsupported(); reason != "" {
		// Say so only when there is something to skip.
		for i := range mi.Nodes {
			if isConv(&mi.Nodes[i]) && g.upsampleBefore(i) {
				res.Skipped = append(res.Skipped, Skip{Conv: g.nodeName(i), Reason: reason})
			}
		}
		return res, nil
	}
	ce := &constEval{g: g, memo: map[string]*ctensor{}}
	var plans []*plan
	for i := range mi.Nodes {
		if !isConv(&mi.Nodes[i]) {
			continue
		}
		if !g.upsampleBefore(i) {
			p := matchS2D(g, i)
			if p == nil && !o.NoWinograd {
				p = matchWinograd(g, i)
			}
			if p != nil {
				plans = append(plans, p)
				res.Sites = append(res.Sites, p.site)
			}
			continue
		}
		p, reason := match(g, ce, i)
		if p == nil {
			res.Skipped = append(res.Skipped, Skip{Conv: g.nodeName(i), Reason: reason})
			continue
		}
		s := &p.site
		s.Winograd = !o.NoWinograd && s.PolyH == 3 && s.PolyW == 3 && winogradWorthIt(s.InChannels, s.Scale*s.Scale*s.OutChannels)
		plans = append(plans, p)
		res.Sites = append(res.Sites, p.site)
	}
	if !build || len(plans) == 0 {
		return res, nil
	}
	out, err := encode(model, g, plans)
	if err != nil {
		return nil, fmt.Errorf("rewrite: %w", err)
	}
	res.Model = out
	return res, nil
}

func isConv(n *onnxbuild.NodeInfo) bool {
	return n.OpType == "Conv" && (n.Domain == "" || n.Domain == "ai.onnx")
}

// graphIndex answers who produces and who reads each value.
type graphIndex struct {
	mi           *onnxbuild.ModelInfo
	producer     map[string]int // value -> node index
	consumers    map[string]int // value -> number of node inputs reading it
	isGraphOut   map[string]bool
	isGraphInput map[string]bool
	names        map[string]bool // every name in use
}

func newGraphIndex(mi *onnxbuild.ModelInfo) *graphIndex {
	g := &graphIndex{mi: mi, producer: map[string]int{}, consumers: map[string]int{},
		isGraphOut: map[string]bool{}, isGraphInput: map[string]bool{}, names: map[string]bool{}}
	for i, n := range mi.Nodes {
		for _, o := range n.Outputs {
			g.producer[o] = i
			g.names[o] = true
		}
		for _, in := range n.Inputs {
			g.consumers[in]++
			g.names[in] = true
		}
		g.names[n.Name] = true
	}
	for _, v := range mi.Outputs {
		g.isGraphOut[v.Name] = true
		g.names[v.Name] = true
	}
	for _, v := range mi.Inputs {
		g.isGraphInput[v.Name] = true
		g.names[v.Name] = true
	}
	for _, t := range mi.Initializers {
		g.names[t.Name] = true
	}
	return g
}

// unsupported says why the whole model is out of scope, or "".
func (g *graphIndex) unsupported() string {
	if v, ok := g.mi.Opsets[""]; !ok || v < minOpset {
		if v2, ok2 := g.mi.Opsets["ai.onnx"]; !ok2 || v2 < minOpset {
			return fmt.Sprintf("opset %d is below %d", v, minOpset)
		}
	}
	for _, n := range g.mi.Nodes {
		switch n.OpType {
		case "If", "Loop", "Scan", "SequenceMap":
			// Subgraphs may read any value of the main graph; Parse does not
			// decode them, so removing a node could break one.
			return "the model has subgraphs (" + n.OpType + ")"
		}
	}
	return ""
}

func (g *graphIndex) nodeName(i int) string {
	n := &g.mi.Nodes[i]
	if n.Name != "" {
		return n.Name
	}
	if len(n.Outputs) > 0 {
		return n.Outputs[0]
	}
	return fmt.Sprintf("node %d", i)
}

// upsampleBefore reports whether node i's first input comes from a Resize
// or Upsample, directly or through one Pad: the chains worth reporting.
func (g *graphIndex) upsampleBefore(i int) bool {
	n := &g.mi.Nodes[i]
	if len(n.Inputs) == 0 {
		return false
	}
	p, ok := g.producer[n.Inputs[0]]
	if !ok {
		return false
	}
	if g.mi.Nodes[p].OpType == "Pad" && len(g.mi.Nodes[p].Inputs) > 0 {
		if p, ok = g.producer[g.mi.Nodes[p].Inputs[0]]; !ok {
			return false
		}
	}
	op := g.mi.Nodes[p].OpType
	return op == "Resize" || op == "Upsample"
}

// plan is one matched site with everything encode needs.
type plan struct {
	site       Site
	conv       int // node indices
	resize     int // -1 for a KindSpaceToDepth site
	pad        int // -1 without a Pad
	x          string
	out        string
	w          []float32 // [Cout, Cin, kh, kw]
	b          []float32 // nil without bias
	wName      string
	bName      string
	padValue   float32
	removedOut []string // values that disappear with the removed nodes
}

// onlyAttrs reports the first attribute of n not in allowed, or "".
func onlyAttrs(n *onnxbuild.NodeInfo, allowed ...string) string {
	for k := range n.Attrs {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
			}
		}
		if !ok {
			return k
		}
	}
	return ""
}

func attrString(n *onnxbuild.NodeInfo, name, def string) string {
	if v, ok := n.Attrs[name].(string); ok {
		return v
	}
	return def
}

func attrInt(n *onnxbuild.NodeInfo, name string, def int64) int64 {
	if v, ok := n.Attrs[name].(int64); ok {
		return v
	}
	return def
}

func allEqual(v []int64, want int64) bool {
	for _, x := range v {
		if x != want {
			return false
		}
	}
	return true
}

// match checks the chain ending at Conv node ci and returns its plan, or
// nil and the reason it is left alone.
func match(g *graphIndex, ce *constEval, ci int) (*plan, string) {
	p, reason := matchConv(g, ci)
	if p == nil {
		return nil, reason
	}
	return matchUpsample(g, ce, p)
}

// matchS2D returns the plan of a KindSpaceToDepth site at Conv node ci, or
// nil.
func matchS2D(g *graphIndex, ci int) *plan {
	p, _ := matchConv(g, ci)
	if p == nil {
		return nil
	}
	s := &p.site
	if s.OutChannels > maxS2DOut || s.KernelH < minS2DKernel || s.KernelW < minS2DKernel || s.KernelH%2 == 0 || s.KernelW%2 == 0 {
		return nil
	}
	s.Kind = KindSpaceToDepth
	s.PolyH, s.PolyW = s.KernelH/2+1, s.KernelW/2+1
	p.x = g.mi.Nodes[ci].Inputs[0]
	p.resize = -1
	return p
}

// matchConv checks Conv node ci (stride 1, dilation 1, group 1, constant
// weights) and returns a plan with its weights, bias, padding, kernel and
// channels filled in, or nil and the reason.
func matchConv(g *graphIndex, ci int) (*plan, string) {
	conv := &g.mi.Nodes[ci]
	p := &plan{conv: ci, pad: -1}
	if a := onlyAttrs(conv, "kernel_shape", "strides", "dilations", "pads", "group", "auto_pad"); a != "" {
		return nil, "Conv has attribute " + a
	}
	if len(conv.Inputs) < 2 || len(conv.Outputs) != 1 {
		return nil, "Conv without weights or with several outputs"
	}
	if attrInt(conv, "group", 1) != 1 {
		return nil, "grouped Conv"
	}
	if s, ok := conv.Attrs["strides"].([]int64); ok && !allEqual(s, 1) {
		return nil, fmt.Sprintf("Conv strides %v", s)
	}
	if d, ok := conv.Attrs["dilations"].([]int64); ok && !allEqual(d, 1) {
		return nil, fmt.Sprintf("Conv dilations %v", d)
	}
	var cpads [4]int
	switch ap := attrString(conv, "auto_pad", "NOTSET"); ap {
	case "NOTSET":
		if v, ok := conv.Attrs["pads"].([]int64); ok {
			if len(v) != 4 {
				return nil, fmt.Sprintf("Conv pads %v", v)
			}
			for k, x := range v {
				if x < 0 || x > 64 {
					return nil, fmt.Sprintf("Conv pads %v", v)
				}
				cpads[k] = int(x)
			}
		}
	case "VALID":
	default:
		return nil, "Conv auto_pad " + ap
	}
	wt := g.initializer(conv.Inputs[1])
	if wt == nil || wt.DataType != onnxbuild.TypeFloat || len(wt.Dims) != 4 {
		return nil, "Conv weights are not a float32 [M,C,kH,kW] initializer"
	}
	if ks, ok := conv.Attrs["kernel_shape"].([]int64); ok && (len(ks) != 2 || ks[0] != wt.Dims[2] || ks[1] != wt.Dims[3]) {
		return nil, fmt.Sprintf("Conv kernel_shape %v disagrees with the weights %v", ks, wt.Dims)
	}
	w, err := wt.Float32s()
	if err != nil {
		return nil, "Conv weights: " + err.Error()
	}
	p.w, p.wName = w, conv.Inputs[1]
	cout, cin, kh, kw := int(wt.Dims[0]), int(wt.Dims[1]), int(wt.Dims[2]), int(wt.Dims[3])
	if len(conv.Inputs) > 2 && conv.Inputs[2] != "" {
		bt := g.initializer(conv.Inputs[2])
		if bt == nil || bt.DataType != onnxbuild.TypeFloat || len(bt.Dims) != 1 || int(bt.Dims[0]) != cout {
			return nil, "Conv bias is not a float32 [M] initializer"
		}
		if p.b, err = bt.Float32s(); err != nil {
			return nil, "Conv bias: " + err.Error()
		}
		p.bName = conv.Inputs[2]
	}
	p.out = conv.Outputs[0]
	p.site = Site{Conv: g.nodeName(ci), ConvPads: cpads, KernelH: kh, KernelW: kw, InChannels: cin, OutChannels: cout}
	return p, ""
}

// matchUpsample checks the Resize -> [Pad] chain in front of p's Conv and
// completes p as a KindPolyphase site, or returns nil and the reason.
func matchUpsample(g *graphIndex, ce *constEval, p *plan) (*plan, string) {
	conv := &g.mi.Nodes[p.conv]
	ci := p.conv
	kh, kw := p.site.KernelH, p.site.KernelW
	cpads := p.site.ConvPads
	cin, cout := p.site.InChannels, p.site.OutChannels
	// An optional Pad between the Resize and the Conv.
	src := conv.Inputs[0]
	ri, ok := g.producer[src]
	if !ok {
		return nil, "the Conv's input is not computed by a node"
	}
	mode := "constant"
	var pads [4]int
	if g.mi.Nodes[ri].OpType == "Pad" {
		pn := &g.mi.Nodes[ri]
		if !g.private(src) {
			return nil, "the Pad's output is used elsewhere too"
		}
		if a := onlyAttrs(pn, "mode"); a != "" {
			return nil, "Pad has attribute " + a
		}
		mode = attrString(pn, "mode", "constant")
		if mode != "reflect" && mode != "edge" && mode != "constant" {
			return nil, "Pad mode " + mode
		}
		if len(pn.Inputs) < 2 || len(pn.Inputs) > 4 || (len(pn.Inputs) == 4 && pn.Inputs[3] != "") {
			return nil, "Pad with axes or without pads"
		}
		pv := ce.value(pn.Inputs[1])
		if pv == nil {
			return nil, "Pad amounts are not constant"
		}
		pi, ok := pv.ints()
		if !ok || len(pi) != 8 || pi[0] != 0 || pi[1] != 0 || pi[4] != 0 || pi[5] != 0 {
			return nil, fmt.Sprintf("Pad amounts %v are not spatial-only", pv.i)
		}
		for k, v := range []int64{pi[2], pi[3], pi[6], pi[7]} {
			if v < 0 || v > 64 {
				return nil, fmt.Sprintf("Pad amounts %v", pi)
			}
			pads[k] = int(v)
		}
		if len(pn.Inputs) > 2 && pn.Inputs[2] != "" {
			cv := ce.value(pn.Inputs[2])
			if cv == nil || cv.len() != 1 || !cv.isFloat {
				return nil, "Pad constant_value is not a constant float"
			}
			p.padValue = float32(cv.f[0])
		}
		p.pad = ri
		p.removedOut = append(p.removedOut, src)
		src = pn.Inputs[0]
		if ri, ok = g.producer[src]; !ok {
			return nil, "the Pad's input is not computed by a node"
		}
	}

	rn := &g.mi.Nodes[ri]
	if rn.OpType != "Resize" {
		return nil, rn.OpType + " (only Resize, opset 11+, is rewritten)"
	}
	if !g.private(src) {
		return nil, "the Resize's output is used elsewhere too"
	}
	if a := onlyAttrs(rn, "mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside", "extrapolation_value", "antialias"); a != "" {
		return nil, "Resize has attribute " + a
	}
	if attrString(rn, "mode", "nearest") != "nearest" {
		return nil, "Resize mode " + attrString(rn, "mode", "nearest")
	}
	if attrInt(rn, "antialias", 0) != 0 {
		return nil, "Resize with antialias"
	}
	ctm := attrString(rn, "coordinate_transformation_mode", "half_pixel")
	nm := attrString(rn, "nearest_mode", "round_prefer_floor")
	// With an integer scale, output index o maps to input floor(o/s) in
	// exactly these modes: asymmetric with floor (x = o/s), and the half-pixel
	// modes with rounding (x = (o+0.5)/s - 0.5 = floor(o/s) + r with
	// |r| < 1/2, so no tie ever arises).
	switch {
	case ctm == "asymmetric" && nm == "floor":
	case (ctm == "half_pixel" || ctm == "pytorch_half_pixel") && (nm == "round_prefer_floor" || nm == "round_prefer_ceil"):
	default:
		return nil, fmt.Sprintf("Resize nearest with %s/%s does not map o to floor(o/s)", ctm, nm)
	}
	if len(rn.Inputs) < 3 || len(rn.Inputs) > 4 || rn.Inputs[2] == "" || (len(rn.Inputs) == 4 && rn.Inputs[3] != "") {
		return nil, "Resize by sizes (only constant scales are rewritten)"
	}
	sv := ce.value(rn.Inputs[2])
	if sv == nil || sv.len() != 4 {
		return nil, "Resize scales are not constant"
	}
	sc := sv.floats()
	s := int(sc[2])
	if sc[0] != 1 || sc[1] != 1 || sc[2] != sc[3] || float64(s) != sc[2] || s < 2 || s > 16 {
		return nil, fmt.Sprintf("Resize scales %v (want [1, 1, s, s], integer s >= 2)", sc)
	}
	p.resize = ri
	p.x = rn.Inputs[0]
	p.removedOut = append(p.removedOut, src)

	site := Site{Kind: KindPolyphase, Conv: g.nodeName(ci), Resize: g.nodeName(ri), Scale: s, PadMode: mode,
		Pads: pads, ConvPads: cpads, KernelH: kh, KernelW: kw,
		PolyH: (kh+s-2)/s + 1, PolyW: (kw+s-2)/s + 1, InChannels: cin, OutChannels: cout}
	if p.pad >= 0 {
		site.Pad = g.nodeName(p.pad)
	} else {
		site.PadMode = "constant"
	}
	if site.PolyH*site.PolyW >= kh*kw {
		return nil, fmt.Sprintf("a %dx%d kernel at scale %d gains nothing", kh, kw, s)
	}
	p.site = site
	return p, ""
}

// private reports whether value v is read by exactly one node and is not a
// graph output.
func (g *graphIndex) private(v string) bool {
	return g.consumers[v] == 1 && !g.isGraphOut[v]
}

// initializer returns the initializer called name (not overridable by an
// input), or a Constant node's tensor, or nil.
func (g *graphIndex) initializer(name string) *onnxbuild.TensorInfo {
	// Identity chains: torch.onnx shares equal initializers through them.
	for range 8 {
		if g.isGraphInput[name] {
			return nil
		}
		if t := g.mi.Initializer(name); t != nil {
			return t
		}
		i, ok := g.producer[name]
		if !ok {
			return nil
		}
		n := &g.mi.Nodes[i]
		switch {
		case n.OpType == "Constant" && len(n.Attrs) == 1:
			t, _ := n.Attrs["value"].(*onnxbuild.TensorInfo)
			return t
		case n.OpType == "Identity" && len(n.Inputs) == 1 && (n.Domain == "" || n.Domain == "ai.onnx"):
			name = n.Inputs[0]
		default:
			return nil
		}
	}
	return nil
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

// sanitize turns a value name into a prefix for new names.
func sanitize(s string) string {
	s = strings.TrimLeft(s, "/")
	if len(s) > 80 {
		s = s[len(s)-80:]
	}
	return s
}

const int64Max = math.MaxInt64
