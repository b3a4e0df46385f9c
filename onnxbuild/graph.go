// Package onnxbuild writes ONNX models from Go: a small graph builder whose
// Marshal produces a ModelProto (IR version 8, opset 17 of the default
// domain) encoded field by field with protowire, and a minimal decoder, Parse,
// that reads back what tests and tools need (metadata, inputs, outputs, nodes,
// initializers).
//
// The builder is deliberately forgiving while a graph is put together and
// strict when it is serialised: methods that add to a graph never return
// errors (so a network reads as a straight list of layers); the first problem
// is recorded and Model.Marshal reports it, together with every structural
// check (undefined inputs, duplicate names, undeclared outputs). It knows the
// ONNX wire format, not operator semantics: shapes and attribute meanings are
// left to onnxruntime, which the tests use to check every helper in ops.go
// against values computed in plain Go.
//
// All graph inputs, outputs and float initializers are float32; int64
// initializers exist for the shape-like inputs of Reshape, Expand, Pad,
// ReduceSum and friends.
package onnxbuild

import (
	"fmt"
	"sort"
)

// Element types of TensorProto.DataType used by this package.
const (
	TypeFloat = 1 // TensorProto.FLOAT
	TypeInt64 = 7 // TensorProto.INT64
)

// Dim is one axis of a declared input or output: a fixed size (Value >= 0),
// or a symbolic one named Param (ONNX dim_param) when Param is not empty.
type Dim struct {
	Value int64
	Param string
}

// valueInfo is a declared graph input or output.
type valueInfo struct {
	name     string
	elemType int32
	dims     []Dim
	hasShape bool
}

// tensor is an initializer.
type tensor struct {
	name     string
	dataType int32
	dims     []int64
	f32      []float32
	i64      []int64
}

// node is one NodeProto.
type node struct {
	name    string
	opType  string
	domain  string
	inputs  []string
	outputs []string
	attrs   Attrs
}

// Graph is an ONNX graph under construction: its inputs, initializers,
// nodes in topological order, and declared outputs. Build it with NewGraph
// and the methods below, then wrap it in a Model to serialise it.
// A Graph is not safe for concurrent use.
type Graph struct {
	name    string
	inputs  []valueInfo
	outputs []valueInfo
	inits   []tensor
	nodes   []node
	// used holds every value name handed out or declared, so that automatic
	// names never collide with explicit ones given earlier.
	used    map[string]bool
	counter map[string]int
	err     error
}

// NewGraph returns an empty graph called name.
func NewGraph(name string) *Graph {
	return &Graph{name: name, used: map[string]bool{}, counter: map[string]int{}}
}

// Name returns the graph's name.
func (g *Graph) Name() string { return g.name }

// Err returns the first problem recorded while the graph was built (a bad
// attribute value, an initializer whose data does not fill its shape), or nil.
// Model.Marshal returns it too.
func (g *Graph) Err() error { return g.err }

func (g *Graph) fail(format string, args ...any) {
	if g.err == nil {
		g.err = fmt.Errorf("onnxbuild: graph %q: "+format, append([]any{g.name}, args...)...)
	}
}

// fresh returns a value name that has not been used yet, derived from base.
func (g *Graph) fresh(base string) string {
	for {
		g.counter[base]++
		name := fmt.Sprintf("%s_%d", base, g.counter[base])
		if !g.used[name] {
			g.used[name] = true
			return name
		}
	}
}

// DynamicDims turns a shape with -1 for dynamic axes into Dims: a dynamic
// first axis is called "N" (the batch), a dynamic axis i > 0 is called "d<i>".
// Inputs declared with the same symbolic name must agree at run time, so all
// dynamic batch axes of a graph are one and the same N.
func DynamicDims(shape []int64) []Dim {
	dims := make([]Dim, len(shape))
	for i, v := range shape {
		switch {
		case v >= 0:
			dims[i] = Dim{Value: v}
		case i == 0:
			dims[i] = Dim{Param: "N"}
		default:
			dims[i] = Dim{Param: fmt.Sprintf("d%d", i)}
		}
	}
	return dims
}

// Input declares a float32 graph input called name with the given shape
// (-1 for a dynamic axis, see DynamicDims) and returns its name.
func (g *Graph) Input(name string, shape ...int64) string {
	return g.InputDims(name, DynamicDims(shape)...)
}

// InputDims declares a float32 graph input with explicit dimensions, for
// symbolic axes named other than DynamicDims names them. It returns name.
func (g *Graph) InputDims(name string, dims ...Dim) string {
	g.define(name, "input")
	g.inputs = append(g.inputs, valueInfo{name: name, elemType: TypeFloat, dims: append([]Dim(nil), dims...), hasShape: true})
	return name
}

// Output declares the float32 graph output called name with the given shape
// (-1 for a dynamic axis, see DynamicDims). Called with no shape at all, the
// output's shape is left undeclared (onnxruntime infers it). Some node (see
// OpNamed, Identity) or input or initializer must produce a value with that
// name; Marshal checks it.
func (g *Graph) Output(name string, shape ...int64) {
	if shape == nil {
		g.outputs = append(g.outputs, valueInfo{name: name, elemType: TypeFloat})
		return
	}
	g.OutputDims(name, DynamicDims(shape)...)
}

// OutputDims declares a float32 graph output with explicit dimensions.
func (g *Graph) OutputDims(name string, dims ...Dim) {
	g.outputs = append(g.outputs, valueInfo{name: name, elemType: TypeFloat, dims: append([]Dim(nil), dims...), hasShape: true})
}

// define marks name as used; duplicates are reported by Marshal's checks, so
// here it only records the name and rejects the empty one.
func (g *Graph) define(name, what string) {
	if name == "" {
		g.fail("%s with an empty name", what)
	}
	g.used[name] = true
}

func numElements(shape []int64) (int64, bool) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// Const adds a float32 initializer with the given shape and row-major data
// and returns its name; name "" picks a fresh one ("const_<k>"). The data is
// copied. len(data) must equal the product of shape (1 for a scalar, shape
// empty).
func (g *Graph) Const(name string, shape []int64, data []float32) string {
	if name == "" {
		name = g.fresh("const")
	}
	g.define(name, "initializer")
	if n, ok := numElements(shape); !ok || n != int64(len(data)) {
		g.fail("initializer %q: shape %v needs %d values, got %d", name, shape, n, len(data))
	}
	g.inits = append(g.inits, tensor{name: name, dataType: TypeFloat, dims: append([]int64(nil), shape...), f32: append([]float32(nil), data...)})
	return name
}

// ConstInt64 adds an int64 initializer (shapes, axes, pads) with the given
// shape and data and returns its name; name "" picks a fresh one.
func (g *Graph) ConstInt64(name string, shape []int64, data []int64) string {
	if name == "" {
		name = g.fresh("const")
	}
	g.define(name, "initializer")
	if n, ok := numElements(shape); !ok || n != int64(len(data)) {
		g.fail("initializer %q: shape %v needs %d values, got %d", name, shape, n, len(data))
	}
	g.inits = append(g.inits, tensor{name: name, dataType: TypeInt64, dims: append([]int64(nil), shape...), i64: append([]int64(nil), data...)})
	return name
}

// Scalar adds a float32 scalar initializer (shape []) and returns its name.
func (g *Graph) Scalar(v float32) string { return g.Const("", nil, []float32{v}) }

// Vector adds a one-dimensional float32 initializer and returns its name.
func (g *Graph) Vector(data ...float32) string {
	return g.Const("", []int64{int64(len(data))}, data)
}

// Ints adds a one-dimensional int64 initializer (axes, shapes, pads) and
// returns its name.
func (g *Graph) Ints(data ...int64) string {
	return g.ConstInt64("", []int64{int64(len(data))}, data)
}

// Attrs holds a node's attributes by name. Values may be int, int64 (INT),
// float32 or float64 (FLOAT, stored as float32), string (STRING), []int or
// []int64 (INTS), []float32 or []float64 (FLOATS), []string (STRINGS).
// Any other type is recorded as an error that Marshal returns.
type Attrs map[string]any

// Op appends a node of type opType (default domain) reading inputs and
// producing one output with a fresh name, which it returns. An empty string
// among inputs stands for an omitted optional input.
func (g *Graph) Op(opType string, inputs []string, attrs Attrs) string {
	return g.OpN(opType, inputs, attrs, 1)[0]
}

// OpN is Op for a node with nOut outputs; it returns their fresh names.
func (g *Graph) OpN(opType string, inputs []string, attrs Attrs, nOut int) []string {
	if nOut < 1 {
		g.fail("%s node with %d outputs", opType, nOut)
		nOut = 1
	}
	outs := make([]string, nOut)
	for i := range outs {
		outs[i] = g.fresh(opType)
	}
	g.addNode(opType, inputs, attrs, outs)
	return outs
}

// OpNamed appends a node whose outputs carry the given names, typically the
// names of graph outputs.
func (g *Graph) OpNamed(opType string, inputs []string, attrs Attrs, outputs ...string) {
	if len(outputs) == 0 {
		g.fail("%s node with no outputs", opType)
	}
	for _, o := range outputs {
		g.define(o, opType+" output")
	}
	g.addNode(opType, inputs, attrs, append([]string(nil), outputs...))
}

// Identity appends an Identity node copying value in to a value named out,
// the usual way to give a computed value a graph output's name.
func (g *Graph) Identity(in, out string) { g.OpNamed("Identity", []string{in}, nil, out) }

// Rename is another name for Identity: it gives value in the name out.
func (g *Graph) Rename(in, out string) { g.Identity(in, out) }

func (g *Graph) addNode(opType string, inputs []string, attrs Attrs, outputs []string) {
	if opType == "" {
		g.fail("node with an empty op type")
	}
	var a Attrs
	if len(attrs) > 0 {
		a = make(Attrs, len(attrs))
		for _, k := range sortedKeys(attrs) {
			v, err := normaliseAttr(attrs[k])
			if err != nil {
				g.fail("%s node attribute %q: %v", opType, k, err)
				continue
			}
			a[k] = v
		}
	}
	g.counter["node:"+opType]++
	g.nodes = append(g.nodes, node{
		name:    fmt.Sprintf("%s_node_%d", opType, g.counter["node:"+opType]),
		opType:  opType,
		inputs:  append([]string(nil), inputs...),
		outputs: outputs,
		attrs:   a,
	})
}

// normaliseAttr converts an attribute value to one of int64, float32, string,
// []int64, []float32, []string.
func normaliseAttr(v any) (any, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case float32:
		return x, nil
	case float64:
		return float32(x), nil
	case string:
		return x, nil
	case []int64:
		return append([]int64(nil), x...), nil
	case []int:
		out := make([]int64, len(x))
		for i, e := range x {
			out[i] = int64(e)
		}
		return out, nil
	case []float32:
		return append([]float32(nil), x...), nil
	case []float64:
		out := make([]float32, len(x))
		for i, e := range x {
			out[i] = float32(e)
		}
		return out, nil
	case []string:
		return append([]string(nil), x...), nil
	default:
		return nil, fmt.Errorf("unsupported type %T", v)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
