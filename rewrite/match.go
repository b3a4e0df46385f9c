package rewrite

import (
	"fmt"

	"github.com/munit-eval/munit-eval/onnxbuild"
)

// maxS2DOut is the most output channels a KindSpaceToDepth site has, and
// minS2DKernel the smallest kernel (measured on a 7×7, 64->3 Conv at
// 256×256, docs/performance.md).
const (
	maxS2DOut    = 4
	minS2DKernel = 5
)

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
