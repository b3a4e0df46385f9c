package onnxbuild

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// ModelInfo is what Parse reads back from an ONNX ModelProto: enough to
// check a built model's structure and to read any model's metadata. It is
// not a full decoder: sparse initializers, functions, training info,
// value_info and subgraph attributes are skipped.
type ModelInfo struct {
	IRVersion       int64
	Opsets          map[string]int64 // domain ("" for ai.onnx) -> opset version
	ProducerName    string
	ProducerVersion string
	DocString       string
	Metadata        map[string]string // metadata_props
	GraphName       string
	Inputs          []ValueInfo
	Outputs         []ValueInfo
	Nodes           []NodeInfo
	Initializers    []TensorInfo
}

// ValueInfo is a graph input or output.
type ValueInfo struct {
	Name     string
	ElemType int32 // TensorProto.DataType, 0 when the type is not a tensor
	// HasShape is false when the shape is not declared at all.
	HasShape bool
	// Shape has one entry per axis: its size, or -1 for a symbolic or
	// unknown axis.
	Shape []int64
	// DimParams has one entry per axis: the dim_param name, "" for a fixed
	// or unknown axis.
	DimParams []string
}

// NodeInfo is one node of the graph.
type NodeInfo struct {
	Name, OpType, Domain string
	Inputs, Outputs      []string
	// Attrs holds the attributes as int64, float32, string, []int64,
	// []float32, []string or *TensorInfo; other kinds are left out.
	Attrs Attrs
}

// TensorInfo is an initializer (or a tensor attribute). Its data is read on
// demand by Float32s or Int64s; it refers to the parsed bytes, which must not
// change while the TensorInfo is used.
type TensorInfo struct {
	Name     string
	DataType int32
	Dims     []int64
	raw      []byte
	hasRaw   bool
	f32      []float32
	i64      []int64
	external bool
}

// NumElements returns the product of the tensor's dims (1 for a scalar),
// or -1 when it does not fit in an int64.
func (t *TensorInfo) NumElements() int64 {
	n := int64(1)
	for _, d := range t.Dims {
		if d < 0 || (d > 0 && n > math.MaxInt64/d) {
			return -1
		}
		n *= d
	}
	return n
}

// checkSize reports whether n elements of size bytes each match have bytes.
func checkSize(n int64, size, have int) bool {
	return n >= 0 && n <= int64(have)/int64(size) && n*int64(size) == int64(have)
}

// Float32s returns the data of a FLOAT tensor, from raw_data or float_data.
func (t *TensorInfo) Float32s() ([]float32, error) {
	if t.DataType != TypeFloat {
		return nil, fmt.Errorf("onnxbuild: tensor %q has data type %d, not FLOAT", t.Name, t.DataType)
	}
	if t.external {
		return nil, fmt.Errorf("onnxbuild: tensor %q stores its data in an external file", t.Name)
	}
	n := t.NumElements()
	if !t.hasRaw {
		if int64(len(t.f32)) != n {
			return nil, fmt.Errorf("onnxbuild: tensor %q: dims %v need %d values, float_data has %d", t.Name, t.Dims, n, len(t.f32))
		}
		return append([]float32(nil), t.f32...), nil
	}
	if !checkSize(n, 4, len(t.raw)) {
		return nil, fmt.Errorf("onnxbuild: tensor %q: dims %v need %d bytes, raw_data has %d", t.Name, t.Dims, 4*n, len(t.raw))
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.raw[4*i:]))
	}
	return out, nil
}

// Int64s returns the data of an INT64 tensor, from raw_data or int64_data.
func (t *TensorInfo) Int64s() ([]int64, error) {
	if t.DataType != TypeInt64 {
		return nil, fmt.Errorf("onnxbuild: tensor %q has data type %d, not INT64", t.Name, t.DataType)
	}
	if t.external {
		return nil, fmt.Errorf("onnxbuild: tensor %q stores its data in an external file", t.Name)
	}
	n := t.NumElements()
	if !t.hasRaw {
		if int64(len(t.i64)) != n {
			return nil, fmt.Errorf("onnxbuild: tensor %q: dims %v need %d values, int64_data has %d", t.Name, t.Dims, n, len(t.i64))
		}
		return append([]int64(nil), t.i64...), nil
	}
	if !checkSize(n, 8, len(t.raw)) {
		return nil, fmt.Errorf("onnxbuild: tensor %q: dims %v need %d bytes, raw_data has %d", t.Name, t.Dims, 8*n, len(t.raw))
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(t.raw[8*i:]))
	}
	return out, nil
}

// OpTypes returns the op type of every node, in graph order.
func (mi *ModelInfo) OpTypes() []string {
	out := make([]string, len(mi.Nodes))
	for i, n := range mi.Nodes {
		out[i] = n.OpType
	}
	return out
}

// Initializer returns the initializer called name, or nil.
func (mi *ModelInfo) Initializer(name string) *TensorInfo {
	for i := range mi.Initializers {
		if mi.Initializers[i].Name == name {
			return &mi.Initializers[i]
		}
	}
	return nil
}

// Parse decodes an ONNX ModelProto. It never panics on bad input; it fails
// on malformed protobuf, a field with the wrong wire type, a missing
// ir_version or a missing graph.
func Parse(b []byte) (*ModelInfo, error) {
	mi := &ModelInfo{Opsets: map[string]int64{}, Metadata: map[string]string{}}
	hasGraph := false
	err := fields(b, func(f field) error {
		var err error
		switch f.num {
		case fModelIRVersion:
			var v uint64
			v, err = f.varint()
			mi.IRVersion = int64(v)
		case fModelProducerName:
			mi.ProducerName, err = f.str()
		case fModelProducerVersion:
			mi.ProducerVersion, err = f.str()
		case fModelDocString:
			mi.DocString, err = f.str()
		case fModelGraph:
			hasGraph = true
			var msg []byte
			if msg, err = f.bytes(); err == nil {
				err = parseGraph(msg, mi)
			}
		case fModelOpsetImport:
			var msg []byte
			if msg, err = f.bytes(); err == nil {
				err = parseOpset(msg, mi)
			}
		case fModelMetadataProps:
			var msg []byte
			if msg, err = f.bytes(); err == nil {
				var k, v string
				k, v, err = parseEntry(msg)
				if _, dup := mi.Metadata[k]; dup && err == nil {
					err = fmt.Errorf("metadata key %q appears twice", k)
				}
				mi.Metadata[k] = v
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("onnxbuild: parsing ONNX model: %w", err)
	}
	if mi.IRVersion <= 0 {
		return nil, errors.New("onnxbuild: parsing ONNX model: no ir_version (not an ONNX model?)")
	}
	if !hasGraph {
		return nil, errors.New("onnxbuild: parsing ONNX model: no graph")
	}
	return mi, nil
}

// field is one decoded protobuf field: for the bytes wire type, val holds
// the payload; for varint and fixed types, x holds the value.
type field struct {
	num protowire.Number
	typ protowire.Type
	val []byte
	x   uint64
}

func (f field) wrong(want string) error {
	return fmt.Errorf("field %d has wire type %d, want %s", f.num, f.typ, want)
}

func (f field) varint() (uint64, error) {
	if f.typ != protowire.VarintType {
		return 0, f.wrong("varint")
	}
	return f.x, nil
}

func (f field) bytes() ([]byte, error) {
	if f.typ != protowire.BytesType {
		return nil, f.wrong("bytes")
	}
	return f.val, nil
}

func (f field) str() (string, error) {
	b, err := f.bytes()
	return string(b), err
}

// fields calls fn for each field of the message b, skipping groups.
func fields(b []byte, fn func(field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("bad tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.x = uint64(v)
		case protowire.Fixed64Type:
			f.x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.val, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n >= 0 {
				b = b[n:]
				continue
			}
		}
		if n < 0 {
			return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// varints appends the values of a repeated int64 field, packed or not.
func varints(dst []int64, f field) ([]int64, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, int64(f.x)), nil
	case protowire.BytesType:
		b := f.val
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return dst, fmt.Errorf("field %d: %w", f.num, protowire.ParseError(n))
			}
			dst = append(dst, int64(v))
			b = b[n:]
		}
		return dst, nil
	}
	return dst, f.wrong("varint or packed varints")
}

// floats appends the values of a repeated float field, packed or not.
func floats(dst []float32, f field) ([]float32, error) {
	switch f.typ {
	case protowire.Fixed32Type:
		return append(dst, math.Float32frombits(uint32(f.x))), nil
	case protowire.BytesType:
		if len(f.val)%4 != 0 {
			return dst, fmt.Errorf("field %d: packed floats of %d bytes", f.num, len(f.val))
		}
		for i := 0; i < len(f.val); i += 4 {
			dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(f.val[i:])))
		}
		return dst, nil
	}
	return dst, f.wrong("fixed32 or packed fixed32")
}

func parseOpset(b []byte, mi *ModelInfo) error {
	var domain string
	var ver uint64
	err := fields(b, func(f field) error {
		var err error
		switch f.num {
		case fOpsetDomain:
			domain, err = f.str()
		case fOpsetVersion:
			ver, err = f.varint()
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("opset_import: %w", err)
	}
	mi.Opsets[domain] = int64(ver)
	return nil
}

func parseEntry(b []byte) (k, v string, err error) {
	err = fields(b, func(f field) error {
		var err error
		switch f.num {
		case fEntryKey:
			k, err = f.str()
		case fEntryValue:
			v, err = f.str()
		}
		return err
	})
	if err != nil {
		err = fmt.Errorf("metadata_props: %w", err)
	}
	return k, v, err
}

func parseGraph(b []byte, mi *ModelInfo) error {
	err := fields(b, func(f field) error {
		var err error
		if f.num == fGraphName {
			mi.GraphName, err = f.str()
			return err
		}
		switch f.num {
		case fGraphNode, fGraphInitializer, fGraphInput, fGraphOutput:
		default:
			return nil
		}
		msg, err := f.bytes()
		if err != nil {
			return err
		}
		switch f.num {
		case fGraphNode:
			var n NodeInfo
			n, err = parseNode(msg)
			mi.Nodes = append(mi.Nodes, n)
		case fGraphInitializer:
			var t TensorInfo
			t, err = parseTensor(msg)
			mi.Initializers = append(mi.Initializers, t)
		case fGraphInput:
			var v ValueInfo
			v, err = parseValueInfo(msg)
			mi.Inputs = append(mi.Inputs, v)
		case fGraphOutput:
			var v ValueInfo
			v, err = parseValueInfo(msg)
			mi.Outputs = append(mi.Outputs, v)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("graph: %w", err)
	}
	return nil
}

func parseNode(b []byte) (NodeInfo, error) {
	var n NodeInfo
	err := fields(b, func(f field) error {
		var err error
		var s string
		switch f.num {
		case fNodeInput:
			s, err = f.str()
			n.Inputs = append(n.Inputs, s)
		case fNodeOutput:
			s, err = f.str()
			n.Outputs = append(n.Outputs, s)
		case fNodeName:
			n.Name, err = f.str()
		case fNodeOpType:
			n.OpType, err = f.str()
		case fNodeDomain:
			n.Domain, err = f.str()
		case fNodeAttribute:
			var msg []byte
			if msg, err = f.bytes(); err != nil {
				return err
			}
			var name string
			var v any
			if name, v, err = parseAttr(msg); err == nil && v != nil {
				if n.Attrs == nil {
					n.Attrs = Attrs{}
				}
				n.Attrs[name] = v
			}
		}
		return err
	})
	if err != nil {
		return n, fmt.Errorf("node %q (%s): %w", n.Name, n.OpType, err)
	}
	return n, nil
}

func parseAttr(b []byte) (string, any, error) {
	var (
		name    string
		typ     uint64
		fv      float32
		iv      int64
		sv      string
		tv      *TensorInfo
		fs      []float32
		is      []int64
		ss      []string
		present = map[protowire.Number]bool{}
	)
	err := fields(b, func(f field) error {
		var err error
		present[f.num] = true
		switch f.num {
		case fAttrName:
			name, err = f.str()
		case fAttrType:
			typ, err = f.varint()
		case fAttrF:
			if f.typ != protowire.Fixed32Type {
				return f.wrong("fixed32")
			}
			fv = math.Float32frombits(uint32(f.x))
		case fAttrI:
			var v uint64
			v, err = f.varint()
			iv = int64(v)
		case fAttrS:
			sv, err = f.str()
		case fAttrT:
			var msg []byte
			if msg, err = f.bytes(); err == nil {
				var t TensorInfo
				t, err = parseTensor(msg)
				tv = &t
			}
		case fAttrFloats:
			fs, err = floats(fs, f)
		case fAttrInts:
			is, err = varints(is, f)
		case fAttrStrings:
			var s string
			s, err = f.str()
			ss = append(ss, s)
		}
		return err
	})
	if err != nil {
		return name, nil, fmt.Errorf("attribute %q: %w", name, err)
	}
	if typ == 0 { // IR version 1: infer the kind from the field present
		kinds := []struct {
			num  protowire.Number
			kind uint64
		}{{fAttrF, attrFloat}, {fAttrI, attrInt}, {fAttrS, attrString}, {fAttrT, attrTensor}, {fAttrFloats, attrFloats}, {fAttrInts, attrInts}, {fAttrStrings, attrStrings}}
		for _, k := range kinds {
			if present[k.num] {
				typ = k.kind
				break
			}
		}
	}
	switch typ {
	case attrFloat:
		return name, fv, nil
	case attrInt:
		return name, iv, nil
	case attrString:
		return name, sv, nil
	case attrTensor:
		if tv == nil {
			return name, nil, nil
		}
		return name, tv, nil
	case attrFloats:
		if fs == nil {
			fs = []float32{}
		}
		return name, fs, nil
	case attrInts:
		if is == nil {
			is = []int64{}
		}
		return name, is, nil
	case attrStrings:
		if ss == nil {
			ss = []string{}
		}
		return name, ss, nil
	}
	return name, nil, nil
}

const (
	fTensorDataLocation = 14
	dataLocationExtern  = 1
)

func parseTensor(b []byte) (TensorInfo, error) {
	var t TensorInfo
	err := fields(b, func(f field) error {
		var err error
		switch f.num {
		case fTensorDims:
			t.Dims, err = varints(t.Dims, f)
		case fTensorDataType:
			var v uint64
			v, err = f.varint()
			t.DataType = int32(v)
		case fTensorName:
			t.Name, err = f.str()
		case fTensorRawData:
			t.raw, err = f.bytes()
			t.hasRaw = true
		case fTensorFloatData:
			t.f32, err = floats(t.f32, f)
		case fTensorInt64Data:
			t.i64, err = varints(t.i64, f)
		case fTensorDataLocation:
			var v uint64
			v, err = f.varint()
			t.external = v == dataLocationExtern
		}
		return err
	})
	if err != nil {
		return t, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	for _, d := range t.Dims {
		if d < 0 {
			return t, fmt.Errorf("tensor %q: negative dimension in %v", t.Name, t.Dims)
		}
	}
	return t, nil
}

func parseValueInfo(b []byte) (ValueInfo, error) {
	var v ValueInfo
	err := fields(b, func(f field) error {
		var err error
		switch f.num {
		case fValueName:
			v.Name, err = f.str()
		case fValueType:
			var msg []byte
			if msg, err = f.bytes(); err == nil {
				err = parseType(msg, &v)
			}
		}
		return err
	})
	if err != nil {
		return v, fmt.Errorf("value %q: %w", v.Name, err)
	}
	return v, nil
}

func parseType(b []byte, v *ValueInfo) error {
	return fields(b, func(f field) error {
		if f.num != fTypeTensor {
			return nil
		}
		msg, err := f.bytes()
		if err != nil {
			return err
		}
		return fields(msg, func(f field) error {
			var err error
			switch f.num {
			case fTensorTypeElem:
				var e uint64
				e, err = f.varint()
				v.ElemType = int32(e)
			case fTensorTypeShape:
				var shape []byte
				if shape, err = f.bytes(); err != nil {
					return err
				}
				v.HasShape = true
				err = fields(shape, func(f field) error {
					if f.num != fShapeDim {
						return nil
					}
					dim, err := f.bytes()
					if err != nil {
						return err
					}
					size, param := int64(-1), ""
					err = fields(dim, func(f field) error {
						var err error
						switch f.num {
						case fDimValue:
							var x uint64
							x, err = f.varint()
							size = int64(x)
						case fDimParam:
							param, err = f.str()
						}
						return err
					})
					v.Shape = append(v.Shape, size)
					v.DimParams = append(v.DimParams, param)
					return err
				})
			}
			return err
		})
	})
}
