package onnxbuild

// ONNX external data: tensors whose bytes live in a file beside the model
// (TensorProto.data_location = EXTERNAL, external_data "location",
// "offset", "length"). InlineExternalData puts them back into the model, so
// that what is hashed and run is one self-contained ModelProto;
// ExternalizeInitializers does the opposite, as onnx's
// save_model(..., save_as_external_data=True) does (tests use it).

import (
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers beyond those model.go writes.
const (
	fGraphSparseInit    = 15
	fAttrG              = 6
	fAttrTensors        = 10
	fAttrGraphs         = 11
	fAttrSparseTensor   = 22
	fAttrSparseTensors  = 23
	fSparseValues       = 1
	fSparseIndices      = 2
	fTensorExternalData = 13
)

// ExternalData is one tensor whose data lives outside the model file.
type ExternalData struct {
	// Tensor is the tensor's name.
	Tensor string
	// Location is the file, relative to the model's folder, as written.
	Location string
	// Offset and Length are the byte range in the file (Length -1: to the
	// end of the file).
	Offset, Length int64
	// Size is the number of bytes the tensor's type and dims need (-1:
	// not known, e.g. a string tensor).
	Size int64
}

// InlineExternalData returns the model b with the data of every external
// tensor (graph initializers, sparse initializers and tensor attributes,
// in subgraphs too) read by load and stored inline as raw_data, and
// whether there were any. Without external tensors b itself is returned.
// Fields it does not rewrite are copied byte for byte, so the result
// depends only on b and the data.
func InlineExternalData(b []byte, load func(ExternalData) ([]byte, error)) ([]byte, bool, error) {
	w := &inliner{load: load}
	out, changed, err := w.model(b)
	if err != nil {
		return nil, false, fmt.Errorf("onnxbuild: external data: %w", err)
	}
	return out, changed, nil
}

type inliner struct {
	load func(ExternalData) ([]byte, error)
}

// edit is a rewrite of a submessage: its new bytes and whether it changed.
type edit func([]byte) ([]byte, bool, error)

func (w *inliner) model(b []byte) ([]byte, bool, error) {
	return editMessage(b, map[protowire.Number]edit{fModelGraph: w.graph})
}

func (w *inliner) graph(b []byte) ([]byte, bool, error) {
	return editMessage(b, map[protowire.Number]edit{fGraphNode: w.node, fGraphInitializer: w.tensor, fGraphSparseInit: w.sparse})
}

func (w *inliner) node(b []byte) ([]byte, bool, error) {
	return editMessage(b, map[protowire.Number]edit{fNodeAttribute: w.attr})
}

func (w *inliner) attr(b []byte) ([]byte, bool, error) {
	return editMessage(b, map[protowire.Number]edit{fAttrT: w.tensor, fAttrTensors: w.tensor, fAttrG: w.graph, fAttrGraphs: w.graph,
		fAttrSparseTensor: w.sparse, fAttrSparseTensors: w.sparse})
}

func (w *inliner) sparse(b []byte) ([]byte, bool, error) {
	return editMessage(b, map[protowire.Number]edit{fSparseValues: w.tensor, fSparseIndices: w.tensor})
}

// tensor inlines one TensorProto's external data.
func (w *inliner) tensor(b []byte) ([]byte, bool, error) {
	ss, err := spans(b)
	if err != nil {
		return nil, false, err
	}
	x := ExternalData{Length: -1}
	var dims []int64
	var dtype int32
	external := false
	for _, s := range ss {
		f := field{num: s.num, typ: s.typ, val: s.val, x: s.x}
		switch s.num {
		case fTensorName:
			x.Tensor, err = f.str()
		case fTensorDims:
			dims, err = varints(dims, f)
		case fTensorDataType:
			var v uint64
			v, err = f.varint()
			dtype = int32(v)
		case fTensorDataLocation:
			var v uint64
			v, err = f.varint()
			external = v == dataLocationExtern
		}
		if err != nil {
			return nil, false, fmt.Errorf("tensor %q: %w", x.Tensor, err)
		}
	}
	if !external {
		return b, false, nil
	}
	for _, s := range ss {
		if s.num != fTensorExternalData {
			continue
		}
		if s.typ != protowire.BytesType {
			return nil, false, fmt.Errorf("tensor %q: external_data has wire type %d", x.Tensor, s.typ)
		}
		k, v, err := parseEntry(s.val)
		if err != nil {
			return nil, false, fmt.Errorf("tensor %q: external_data: %w", x.Tensor, err)
		}
		switch k {
		case "location":
			x.Location = v
		case "offset", "length":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, false, fmt.Errorf("tensor %q: external_data %s %q is not a byte count", x.Tensor, k, v)
			}
			if k == "offset" {
				x.Offset = n
			} else {
				x.Length = n
			}
		}
	}
	if x.Location == "" {
		return nil, false, fmt.Errorf("tensor %q: external data without a location", x.Tensor)
	}
	x.Size = -1
	if es := elemBits(dtype); es > 0 {
		n := (&TensorInfo{Dims: dims}).NumElements()
		if n >= 0 && n <= (1<<62)/es {
			x.Size = (n*es + 7) / 8
		}
	}
	data, err := w.load(x)
	if err != nil {
		return nil, false, err
	}
	out := make([]byte, 0, len(b)+len(data)+16)
	for _, s := range ss {
		if s.num != fTensorExternalData && s.num != fTensorDataLocation && s.num != fTensorRawData {
			out = append(out, s.raw...)
		}
	}
	out = protowire.AppendTag(out, fTensorRawData, protowire.BytesType)
	out = protowire.AppendBytes(out, data)
	return out, true, nil
}

// elemBits is the size in bits of one element of TensorProto.DataType t
// (0: variable or unknown, e.g. strings).
func elemBits(t int32) int64 {
	switch t {
	case 2, 3, 9, 17, 18, 19, 20: // uint8, int8, bool, the float8s
		return 8
	case 4, 5, 10, 16: // uint16, int16, float16, bfloat16
		return 16
	case 1, 6, 12: // float, int32, uint32
		return 32
	case 7, 11, 13, 14: // int64, double, uint64, complex64
		return 64
	case 15: // complex128
		return 128
	case 21, 22, 23: // uint4, int4, float4e2m1, two per byte
		return 4
	}
	return 0
}

// span is one encoded field of a message: the whole field (tag included)
// and, for the bytes wire type, its payload.
type span struct {
	num protowire.Number
	typ protowire.Type
	raw []byte
	val []byte
	x   uint64
}

func spans(b []byte) ([]span, error) {
	var out []span
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("bad tag: %w", protowire.ParseError(n))
		}
		s := span{num: num, typ: typ}
		body := b[n:]
		var m int
		switch typ {
		case protowire.VarintType:
			s.x, m = protowire.ConsumeVarint(body)
		case protowire.BytesType:
			s.val, m = protowire.ConsumeBytes(body)
		default:
			m = protowire.ConsumeFieldValue(num, typ, body)
		}
		if m < 0 {
			return nil, fmt.Errorf("field %d: %w", num, protowire.ParseError(m))
		}
		s.raw = b[:n+m]
		out = append(out, s)
		b = b[n+m:]
	}
	return out, nil
}

// editMessage applies edits to the bytes fields of message b they name and
// re-encodes b only when one of them changed something.
func editMessage(b []byte, edits map[protowire.Number]edit) ([]byte, bool, error) {
	ss, err := spans(b)
	if err != nil {
		return nil, false, err
	}
	var repl map[int][]byte
	for i, s := range ss {
		e := edits[s.num]
		if e == nil || s.typ != protowire.BytesType {
			continue
		}
		nb, changed, err := e(s.val)
		if err != nil {
			return nil, false, err
		}
		if changed {
			if repl == nil {
				repl = map[int][]byte{}
			}
			repl[i] = nb
		}
	}
	if repl == nil {
		return b, false, nil
	}
	var out []byte
	for i, s := range ss {
		nb, ok := repl[i]
		if !ok {
			out = append(out, s.raw...)
			continue
		}
		out = protowire.AppendTag(out, s.num, protowire.BytesType)
		out = protowire.AppendBytes(out, nb)
	}
	return out, true, nil
}

// ExternalizeInitializers moves the raw data of every graph initializer of
// at least minBytes into one external file named location (relative to the
// model's folder), one after the other, and returns the model and the
// file's bytes: what onnx.save_model(..., save_as_external_data=True,
// all_tensors_to_one_file=True, location=location) writes.
func ExternalizeInitializers(b []byte, location string, minBytes int) (model, data []byte, err error) {
	var file []byte
	tensor := func(t []byte) ([]byte, bool, error) {
		ss, err := spans(t)
		if err != nil {
			return nil, false, err
		}
		var raw []byte
		has := false
		for _, s := range ss {
			if s.num == fTensorRawData {
				raw, has = s.val, true
			}
		}
		if !has || len(raw) < minBytes {
			return t, false, nil
		}
		var out []byte
		for _, s := range ss {
			if s.num != fTensorRawData {
				out = append(out, s.raw...)
			}
		}
		for _, kv := range [][2]string{{"location", location}, {"offset", strconv.Itoa(len(file))}, {"length", strconv.Itoa(len(raw))}} {
			e := appendStringField(nil, fEntryKey, kv[0])
			e = appendStringField(e, fEntryValue, kv[1])
			out = appendMessage(out, fTensorExternalData, e)
		}
		out = appendVarintField(out, fTensorDataLocation, dataLocationExtern)
		file = append(file, raw...)
		return out, true, nil
	}
	graph := func(g []byte) ([]byte, bool, error) {
		return editMessage(g, map[protowire.Number]edit{fGraphInitializer: tensor})
	}
	m, changed, err := editMessage(b, map[protowire.Number]edit{fModelGraph: graph})
	if err != nil {
		return nil, nil, fmt.Errorf("onnxbuild: externalizing: %w", err)
	}
	if !changed {
		return nil, nil, errors.New("onnxbuild: externalizing: no initializer holds that much raw data")
	}
	return m, file, nil
}
