package onnxbuild

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/munit-eval/munit-eval/internal/atomicfile"
	"github.com/munit-eval/munit-eval/internal/version"
)

// Versions written by Marshal unless a Model overrides them.
const (
	IRVersion = 8  // ONNX IR version 8 (onnx 1.10+), read by every onnxruntime since 1.10
	Opset     = 17 // ai.onnx opset 17
)

// Model is a graph plus the model-level fields of a ModelProto.
type Model struct {
	Graph *Graph
	// Metadata becomes metadata_props, written sorted by key.
	Metadata map[string]string
	// ProducerName defaults to "munit-eval/onnxbuild"; ProducerVersion to
	// munit-eval's version.
	ProducerName    string
	ProducerVersion string
	DocString       string
	// IRVersion and Opset default to the package constants when zero.
	IRVersion int64
	Opset     int64
}

// NewModel wraps g with the given metadata (copied; nil is fine).
func NewModel(g *Graph, metadata map[string]string) *Model {
	md := make(map[string]string, len(metadata))
	for k, v := range metadata {
		md[k] = v
	}
	return &Model{Graph: g, Metadata: md}
}

// Field numbers from onnx/onnx.proto.
const (
	// ModelProto
	fModelIRVersion       = 1
	fModelProducerName    = 2
	fModelProducerVersion = 3
	fModelDocString       = 6
	fModelGraph           = 7
	fModelOpsetImport     = 8
	fModelMetadataProps   = 14
	// OperatorSetIdProto
	fOpsetDomain  = 1
	fOpsetVersion = 2
	// StringStringEntryProto
	fEntryKey   = 1
	fEntryValue = 2
	// GraphProto
	fGraphNode        = 1
	fGraphName        = 2
	fGraphInitializer = 5
	fGraphDocString   = 10
	fGraphInput       = 11
	fGraphOutput      = 12
	// NodeProto
	fNodeInput     = 1
	fNodeOutput    = 2
	fNodeName      = 3
	fNodeOpType    = 4
	fNodeAttribute = 5
	fNodeDomain    = 7
	// AttributeProto
	fAttrName    = 1
	fAttrF       = 2
	fAttrI       = 3
	fAttrS       = 4
	fAttrT       = 5
	fAttrFloats  = 7
	fAttrInts    = 8
	fAttrStrings = 9
	fAttrType    = 20
	// TensorProto
	fTensorDims      = 1
	fTensorDataType  = 2
	fTensorFloatData = 4
	fTensorInt64Data = 7
	fTensorName      = 8
	fTensorRawData   = 9
	// ValueInfoProto
	fValueName = 1
	fValueType = 2
	// TypeProto
	fTypeTensor = 1
	// TypeProto.Tensor
	fTensorTypeElem  = 1
	fTensorTypeShape = 2
	// TensorShapeProto
	fShapeDim = 1
	// TensorShapeProto.Dimension
	fDimValue = 1
	fDimParam = 2
)

// AttributeProto.AttributeType values.
const (
	attrFloat   = 1
	attrInt     = 2
	attrString  = 3
	attrTensor  = 4
	attrFloats  = 6
	attrInts    = 7
	attrStrings = 8
)

// Validate checks the graph's structure: no error was recorded while
// building; every name is non-empty and defined once (inputs, initializers
// and node outputs share one namespace); every node input is a graph input,
// an initializer, an earlier node's output, or "" (omitted optional input);
// there is at least one output, each declared once and defined.
func (m *Model) Validate() error {
	g := m.Graph
	if g == nil {
		return errors.New("onnxbuild: model has no graph")
	}
	if g.err != nil {
		return g.err
	}
	where := map[string]string{}
	def := func(name, what string) error {
		if name == "" {
			return fmt.Errorf("onnxbuild: graph %q: %s with an empty name", g.name, what)
		}
		if prev, ok := where[name]; ok {
			return fmt.Errorf("onnxbuild: graph %q: duplicate name %q (%s and %s)", g.name, name, prev, what)
		}
		where[name] = what
		return nil
	}
	for _, in := range g.inputs {
		if err := def(in.name, "graph input"); err != nil {
			return err
		}
	}
	for _, t := range g.inits {
		if err := def(t.name, "initializer"); err != nil {
			return err
		}
	}
	for i, n := range g.nodes {
		for _, in := range n.inputs {
			if in == "" {
				continue
			}
			if _, ok := where[in]; !ok {
				return fmt.Errorf("onnxbuild: graph %q: node %d (%s) reads %q, which is not defined before it", g.name, i, n.opType, in)
			}
		}
		for _, out := range n.outputs {
			if err := def(out, fmt.Sprintf("output of node %d (%s)", i, n.opType)); err != nil {
				return err
			}
		}
	}
	if len(g.outputs) == 0 {
		return fmt.Errorf("onnxbuild: graph %q has no outputs", g.name)
	}
	seen := map[string]bool{}
	for _, o := range g.outputs {
		if seen[o.name] {
			return fmt.Errorf("onnxbuild: graph %q: output %q declared twice", g.name, o.name)
		}
		seen[o.name] = true
		if _, ok := where[o.name]; !ok {
			return fmt.Errorf("onnxbuild: graph %q: output %q is not produced by any node, input or initializer", g.name, o.name)
		}
	}
	return nil
}

// Marshal validates the model (see Validate) and encodes it as an ONNX
// ModelProto. The bytes are deterministic: the same model always gives the
// same bytes (metadata and attributes are written sorted by key, everything
// else in the order it was added).
func (m *Model) Marshal() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	ir, opset := m.IRVersion, m.Opset
	if ir == 0 {
		ir = IRVersion
	}
	if opset == 0 {
		opset = Opset
	}
	producer, pversion := m.ProducerName, m.ProducerVersion
	if producer == "" {
		producer = "munit-eval/onnxbuild"
	}
	if pversion == "" {
		pversion = version.MunitEval
	}
	var b []byte
	b = appendVarintField(b, fModelIRVersion, uint64(ir))
	b = appendStringField(b, fModelProducerName, producer)
	b = appendStringField(b, fModelProducerVersion, pversion)
	if m.DocString != "" {
		b = appendStringField(b, fModelDocString, m.DocString)
	}
	b = appendMessage(b, fModelGraph, encodeGraph(m.Graph))
	var opsetID []byte
	opsetID = appendStringField(opsetID, fOpsetDomain, "")
	opsetID = appendVarintField(opsetID, fOpsetVersion, uint64(opset))
	b = appendMessage(b, fModelOpsetImport, opsetID)
	for _, k := range sortedKeys(m.Metadata) {
		var e []byte
		e = appendStringField(e, fEntryKey, k)
		e = appendStringField(e, fEntryValue, m.Metadata[k])
		b = appendMessage(b, fModelMetadataProps, e)
	}
	return b, nil
}

// WriteFile marshals the model and writes it to path atomically.
func (m *Model) WriteFile(path string) error {
	b, err := m.Marshal()
	if err != nil {
		return fmt.Errorf("onnxbuild: %s: %w", path, err)
	}
	if err := atomicfile.Write(path, b, 0o644); err != nil {
		return fmt.Errorf("onnxbuild: writing %s: %w", path, err)
	}
	return nil
}

func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendStringField(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendMessage(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

func encodeGraph(g *Graph) []byte {
	var b []byte
	for _, n := range g.nodes {
		b = appendMessage(b, fGraphNode, encodeNode(n))
	}
	b = appendStringField(b, fGraphName, g.name)
	for _, t := range g.inits {
		b = appendMessage(b, fGraphInitializer, encodeTensor(t))
	}
	for _, v := range g.inputs {
		b = appendMessage(b, fGraphInput, encodeValueInfo(v))
	}
	for _, v := range g.outputs {
		b = appendMessage(b, fGraphOutput, encodeValueInfo(v))
	}
	return b
}

func encodeNode(n node) []byte {
	var b []byte
	for _, in := range n.inputs {
		b = appendStringField(b, fNodeInput, in)
	}
	for _, out := range n.outputs {
		b = appendStringField(b, fNodeOutput, out)
	}
	b = appendStringField(b, fNodeName, n.name)
	b = appendStringField(b, fNodeOpType, n.opType)
	for _, k := range sortedKeys(n.attrs) {
		b = appendMessage(b, fNodeAttribute, encodeAttr(k, n.attrs[k]))
	}
	if n.domain != "" {
		b = appendStringField(b, fNodeDomain, n.domain)
	}
	return b
}

// encodeAttr encodes a value already normalised by normaliseAttr.
func encodeAttr(name string, v any) []byte {
	var b []byte
	b = appendStringField(b, fAttrName, name)
	switch x := v.(type) {
	case int64:
		b = appendVarintField(b, fAttrType, attrInt)
		b = appendVarintField(b, fAttrI, uint64(x))
	case float32:
		b = appendVarintField(b, fAttrType, attrFloat)
		b = protowire.AppendTag(b, fAttrF, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(x))
	case string:
		b = appendVarintField(b, fAttrType, attrString)
		b = appendStringField(b, fAttrS, x)
	case []int64:
		b = appendVarintField(b, fAttrType, attrInts)
		if len(x) > 0 {
			var p []byte
			for _, e := range x {
				p = protowire.AppendVarint(p, uint64(e))
			}
			b = appendMessage(b, fAttrInts, p)
		}
	case []float32:
		b = appendVarintField(b, fAttrType, attrFloats)
		if len(x) > 0 {
			p := make([]byte, 0, 4*len(x))
			for _, e := range x {
				p = protowire.AppendFixed32(p, math.Float32bits(e))
			}
			b = appendMessage(b, fAttrFloats, p)
		}
	case []string:
		b = appendVarintField(b, fAttrType, attrStrings)
		for _, s := range x {
			b = appendStringField(b, fAttrStrings, s)
		}
	}
	return b
}

// encodeTensor writes an initializer with its data in raw_data
// (little-endian, as TensorProto requires).
func encodeTensor(t tensor) []byte {
	var b []byte
	if len(t.dims) > 0 {
		var p []byte
		for _, d := range t.dims {
			p = protowire.AppendVarint(p, uint64(d))
		}
		b = appendMessage(b, fTensorDims, p)
	}
	b = appendVarintField(b, fTensorDataType, uint64(t.dataType))
	b = appendStringField(b, fTensorName, t.name)
	b = protowire.AppendTag(b, fTensorRawData, protowire.BytesType)
	switch t.dataType {
	case TypeFloat:
		b = protowire.AppendVarint(b, uint64(4*len(t.f32)))
		b = slices.Grow(b, 4*len(t.f32))
		for _, v := range t.f32 {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	case TypeInt64:
		b = protowire.AppendVarint(b, uint64(8*len(t.i64)))
		b = slices.Grow(b, 8*len(t.i64))
		for _, v := range t.i64 {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	}
	return b
}

func encodeValueInfo(v valueInfo) []byte {
	var tt []byte
	tt = appendVarintField(tt, fTensorTypeElem, uint64(v.elemType))
	if v.hasShape {
		var shape []byte
		for _, d := range v.dims {
			var dim []byte
			switch {
			case d.Param != "":
				dim = appendStringField(dim, fDimParam, d.Param)
			case d.Value >= 0:
				dim = appendVarintField(dim, fDimValue, uint64(d.Value))
			default:
				// Neither value nor name: an unknown axis (an empty Dimension).
			}
			shape = appendMessage(shape, fShapeDim, dim)
		}
		// An empty TensorShapeProto (a scalar) must still be present.
		tt = appendMessage(tt, fTensorTypeShape, shape)
	}
	var typ []byte
	typ = appendMessage(typ, fTypeTensor, tt)
	var b []byte
	b = appendStringField(b, fValueName, v.name)
	b = appendMessage(b, fValueType, typ)
	return b
}
