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

	"github.com/munit-eval/munit-eval/onnxbuild"
)

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
