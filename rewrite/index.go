package rewrite

import (
	"fmt"

	"github.com/munit-eval/munit-eval/onnxbuild"
)

// minOpset is the lowest default-domain opset the rewrite handles: Pad and
// Resize take their parameters as inputs from 11 on, and Max/Min accept
// int64 (the run-time border arithmetic) from 12 on.
const minOpset = 12

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
