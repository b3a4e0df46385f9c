package rewrite

import (
	"fmt"

	"github.com/munit-eval/munit-eval/onnxbuild"
)

// maxConstElems bounds the tensors the constant evaluator handles: pads,
// scales and shapes are a few numbers, never a weight.
const maxConstElems = 64

// ctensor is a small constant tensor: integers in i, or floats (as float64)
// in f when isFloat.
type ctensor struct {
	dims    []int64
	i       []int64
	f       []float64
	isFloat bool
}

func (t *ctensor) len() int {
	if t.isFloat {
		return len(t.f)
	}
	return len(t.i)
}

// ints returns the values as int64 (floats must be integral).
func (t *ctensor) ints() ([]int64, bool) {
	if !t.isFloat {
		return t.i, true
	}
	out := make([]int64, len(t.f))
	for k, v := range t.f {
		if v != float64(int64(v)) {
			return nil, false
		}
		out[k] = int64(v)
	}
	return out, true
}

// floats returns the values as float64.
func (t *ctensor) floats() []float64 {
	if t.isFloat {
		return t.f
	}
	out := make([]float64, len(t.i))
	for k, v := range t.i {
		out[k] = float64(v)
	}
	return out
}

// constEval folds the small constant subgraphs exporters put in front of
// Pad and Resize (PyTorch writes a pad list as Constant -> Concat ->
// Reshape -> Slice(step -1) -> Transpose -> Reshape -> Cast). It evaluates
// only the few shape operators such chains use, on tensors of at most
// maxConstElems elements; anything else is "not constant", and the rewrite
// then leaves the site alone.
type constEval struct {
	g     *graphIndex
	memo  map[string]*ctensor
	depth int
}

// value returns the constant value called name, or nil.
func (c *constEval) value(name string) *ctensor {
	if name == "" {
		return nil
	}
	if t, ok := c.memo[name]; ok {
		return t
	}
	c.memo[name] = nil // cycles and failures both end as nil
	if c.depth > 64 {
		return nil
	}
	c.depth++
	t := c.compute(name)
	c.depth--
	if t != nil && t.len() > maxConstElems {
		t = nil
	}
	c.memo[name] = t
	return t
}

func fromTensorInfo(ti *onnxbuild.TensorInfo) *ctensor {
	if ti.NumElements() < 0 || ti.NumElements() > maxConstElems {
		return nil
	}
	switch ti.DataType {
	case onnxbuild.TypeInt64:
		v, err := ti.Int64s()
		if err != nil {
			return nil
		}
		return &ctensor{dims: append([]int64{}, ti.Dims...), i: v}
	case onnxbuild.TypeFloat:
		v, err := ti.Float32s()
		if err != nil {
			return nil
		}
		f := make([]float64, len(v))
		for k, x := range v {
			f[k] = float64(x)
		}
		return &ctensor{dims: append([]int64{}, ti.Dims...), f: f, isFloat: true}
	}
	return nil
}

func (c *constEval) compute(name string) *ctensor {
	if ti := c.g.mi.Initializer(name); ti != nil {
		if c.g.isGraphInput[name] {
			return nil // an initializer that is also an input can be overridden
		}
		return fromTensorInfo(ti)
	}
	ni, ok := c.g.producer[name]
	if !ok {
		return nil
	}
	n := &c.g.mi.Nodes[ni]
	if n.Domain != "" && n.Domain != "ai.onnx" || len(n.Outputs) != 1 {
		return nil
	}
	in := func(k int) *ctensor {
		if k >= len(n.Inputs) {
			return nil
		}
		return c.value(n.Inputs[k])
	}
	switch n.OpType {
	case "Constant":
		switch v := n.Attrs["value"].(type) {
		case *onnxbuild.TensorInfo:
			return fromTensorInfo(v)
		}
		if v, ok := n.Attrs["value_ints"].([]int64); ok {
			return &ctensor{dims: []int64{int64(len(v))}, i: v}
		}
		if v, ok := n.Attrs["value_int"].(int64); ok {
			return &ctensor{i: []int64{v}}
		}
		if v, ok := n.Attrs["value_float"].(float32); ok {
			return &ctensor{f: []float64{float64(v)}, isFloat: true}
		}
		if v, ok := n.Attrs["value_floats"].([]float32); ok {
			f := make([]float64, len(v))
			for k, x := range v {
				f[k] = float64(x)
			}
			return &ctensor{dims: []int64{int64(len(v))}, f: f, isFloat: true}
		}
		return nil
	case "Identity":
		return in(0)
	case "Cast":
		x := in(0)
		to, _ := n.Attrs["to"].(int64)
		if x == nil {
			return nil
		}
		switch to {
		case 6, 7: // INT32, INT64
			if x.isFloat {
				out := &ctensor{dims: x.dims, i: make([]int64, len(x.f))}
				for k, v := range x.f {
					out.i[k] = int64(v) // truncation toward zero, as Cast does
				}
				return out
			}
			return x
		case 1, 11: // FLOAT, DOUBLE
			return &ctensor{dims: x.dims, f: x.floats(), isFloat: true}
		}
		return nil
	case "ConstantOfShape":
		shape := in(0)
		if shape == nil || shape.isFloat {
			return nil
		}
		total := int64(1)
		for _, d := range shape.i {
			if d < 0 || d > maxConstElems {
				return nil
			}
			total *= d
		}
		if total > maxConstElems {
			return nil
		}
		val := &ctensor{f: []float64{0}, isFloat: true}
		if v, ok := n.Attrs["value"].(*onnxbuild.TensorInfo); ok {
			if val = fromTensorInfo(v); val == nil || val.len() != 1 {
				return nil
			}
		}
		out := &ctensor{dims: append([]int64{}, shape.i...), isFloat: val.isFloat}
		for k := int64(0); k < total; k++ {
			if val.isFloat {
				out.f = append(out.f, val.f[0])
			} else {
				out.i = append(out.i, val.i[0])
			}
		}
		if out.f == nil && out.isFloat {
			out.f = []float64{}
		}
		return out
	case "Concat":
		axis, _ := n.Attrs["axis"].(int64)
		var out *ctensor
		for k := range n.Inputs {
			x := in(k)
			if x == nil || len(x.dims) != 1 || (axis != 0 && axis != -1) {
				return nil
			}
			if out == nil {
				out = &ctensor{isFloat: x.isFloat, dims: []int64{0}}
			}
			if x.isFloat != out.isFloat {
				return nil
			}
			out.i = append(out.i, x.i...)
			out.f = append(out.f, x.f...)
			out.dims[0] += x.dims[0]
		}
		return out
	case "Reshape":
		x, shape := in(0), in(1)
		if x == nil || shape == nil || shape.isFloat {
			return nil
		}
		dims := append([]int64{}, shape.i...)
		known, infer := int64(1), -1
		for k, d := range dims {
			switch {
			case d == 0:
				if k >= len(x.dims) {
					return nil
				}
				dims[k] = x.dims[k]
			case d == -1:
				if infer >= 0 {
					return nil
				}
				infer = k
				continue
			case d < 0:
				return nil
			}
			known *= dims[k]
		}
		if infer >= 0 {
			if known == 0 || int64(x.len())%known != 0 {
				return nil
			}
			dims[infer] = int64(x.len()) / known
			known *= dims[infer]
		}
		if known != int64(x.len()) {
			return nil
		}
		return &ctensor{dims: dims, i: x.i, f: x.f, isFloat: x.isFloat}
	case "Squeeze", "Unsqueeze":
		x := in(0)
		if x == nil {
			return nil
		}
		var axes []int64
		if a := in(1); a != nil {
			axes, _ = a.ints()
		} else if v, ok := n.Attrs["axes"].([]int64); ok {
			axes = v
		}
		var dims []int64
		if n.OpType == "Squeeze" {
			drop := map[int64]bool{}
			for _, a := range axes {
				if a < 0 {
					a += int64(len(x.dims))
				}
				drop[a] = true
			}
			for k, d := range x.dims {
				if (len(axes) == 0 && d == 1) || drop[int64(k)] {
					if d != 1 {
						return nil
					}
					continue
				}
				dims = append(dims, d)
			}
		} else {
			rank := int64(len(x.dims) + len(axes))
			add := map[int64]bool{}
			for _, a := range axes {
				if a < 0 {
					a += rank
				}
				add[a] = true
			}
			src := 0
			for k := int64(0); k < rank; k++ {
				if add[k] {
					dims = append(dims, 1)
				} else if src < len(x.dims) {
					dims = append(dims, x.dims[src])
					src++
				} else {
					return nil
				}
			}
		}
		return &ctensor{dims: dims, i: x.i, f: x.f, isFloat: x.isFloat}
	case "Transpose":
		x := in(0)
		if x == nil {
			return nil
		}
		rank := len(x.dims)
		perm, ok := n.Attrs["perm"].([]int64)
		if !ok {
			perm = make([]int64, rank)
			for k := range perm {
				perm[k] = int64(rank - 1 - k)
			}
		}
		if len(perm) != rank {
			return nil
		}
		dims := make([]int64, rank)
		for k, p := range perm {
			if p < 0 || int(p) >= rank {
				return nil
			}
			dims[k] = x.dims[p]
		}
		return gatherND(x, dims, func(idx []int64) []int64 {
			src := make([]int64, rank)
			for k, p := range perm {
				src[p] = idx[k]
			}
			return src
		})
	case "Slice":
		x, starts, ends := in(0), in(1), in(2)
		if x == nil || starts == nil || ends == nil || starts.isFloat || ends.isFloat || len(starts.i) != len(ends.i) {
			return nil
		}
		rank := len(x.dims)
		axes := make([]int64, len(starts.i))
		for k := range axes {
			axes[k] = int64(k)
		}
		if len(n.Inputs) > 3 && n.Inputs[3] != "" {
			a := in(3)
			if a == nil || a.isFloat || len(a.i) != len(axes) {
				return nil
			}
			axes = a.i
		}
		steps := make([]int64, len(axes))
		for k := range steps {
			steps[k] = 1
		}
		if len(n.Inputs) > 4 && n.Inputs[4] != "" {
			s := in(4)
			if s == nil || s.isFloat || len(s.i) != len(axes) {
				return nil
			}
			steps = s.i
		}
		begin := make([]int64, rank)
		step := make([]int64, rank)
		dims := append([]int64{}, x.dims...)
		for k := range step {
			step[k] = 1
		}
		for k, a := range axes {
			if a < 0 {
				a += int64(rank)
			}
			if a < 0 || int(a) >= rank || steps[k] == 0 {
				return nil
			}
			b, cnt := sliceRange(starts.i[k], ends.i[k], steps[k], x.dims[a])
			begin[a], step[a], dims[a] = b, steps[k], cnt
		}
		return gatherND(x, dims, func(idx []int64) []int64 {
			src := make([]int64, rank)
			for k := range idx {
				src[k] = begin[k] + idx[k]*step[k]
			}
			return src
		})
	}
	return nil
}

// sliceRange applies ONNX Slice's clamping rules to one axis of length dim
// and returns the first index and the number of elements taken.
func sliceRange(start, end, step, dim int64) (first, count int64) {
	clamp := func(v, lo, hi int64) int64 { return max(lo, min(v, hi)) }
	if start < 0 {
		start += dim
	}
	if end < 0 && end > -(1<<62) {
		end += dim
	}
	if step > 0 {
		start, end = clamp(start, 0, dim), clamp(end, 0, dim)
		if end <= start {
			return 0, 0
		}
		return start, (end - start + step - 1) / step
	}
	start, end = clamp(start, 0, dim-1), clamp(end, -1, dim-1)
	if end >= start {
		return 0, 0
	}
	return start, (start - end - step - 1) / -step
}

// gatherND builds a tensor of shape dims whose element at idx is x's
// element at src(idx).
func gatherND(x *ctensor, dims []int64, src func(idx []int64) []int64) *ctensor {
	total := int64(1)
	for _, d := range dims {
		total *= d
	}
	if total > maxConstElems {
		return nil
	}
	out := &ctensor{dims: dims, isFloat: x.isFloat}
	idx := make([]int64, len(dims))
	for k := int64(0); k < total; k++ {
		rem := k
		for a := len(dims) - 1; a >= 0; a-- {
			idx[a] = rem % dims[a]
			rem /= dims[a]
		}
		s := src(idx)
		flat := int64(0)
		for a, v := range s {
			if v < 0 || v >= x.dims[a] {
				return nil
			}
			flat = flat*x.dims[a] + v
		}
		if x.isFloat {
			out.f = append(out.f, x.f[flat])
		} else {
			out.i = append(out.i, x.i[flat])
		}
	}
	return out
}

func (t *ctensor) String() string {
	if t.isFloat {
		return fmt.Sprint(t.dims, t.f)
	}
	return fmt.Sprint(t.dims, t.i)
}
