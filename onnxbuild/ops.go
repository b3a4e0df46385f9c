package onnxbuild

// Thin helpers for the operators real image-translation exports use. Each
// appends one node (opset 17 semantics) and returns its output's name; they
// add nothing Op could not do, they only spell out inputs and attributes.

// Conv is a 2-D convolution of x [N,C,H,W] with weights w [M,C/group,kH,kW]
// and bias b [M] ("" for none), the same stride on both axes and pad zeros
// on every side.
func (g *Graph) Conv(x, w, b string, stride, pad int) string {
	return g.Op("Conv", optional(x, w, b), Attrs{
		"strides": []int64{int64(stride), int64(stride)},
		"pads":    []int64{int64(pad), int64(pad), int64(pad), int64(pad)},
	})
}

// ConvTranspose is a 2-D transposed convolution of x [N,C,H,W] with weights
// w [C,M,kH,kW] and bias b [M] ("" for none). The output size per axis is
// stride*(in-1) + outputPad + k - 2*pad.
func (g *Graph) ConvTranspose(x, w, b string, stride, pad, outputPad int) string {
	attrs := Attrs{
		"strides": []int64{int64(stride), int64(stride)},
		"pads":    []int64{int64(pad), int64(pad), int64(pad), int64(pad)},
	}
	if outputPad != 0 {
		attrs["output_padding"] = []int64{int64(outputPad), int64(outputPad)}
	}
	return g.Op("ConvTranspose", optional(x, w, b), attrs)
}

// InstanceNorm is InstanceNormalization: y = scale*(x-mean)/sqrt(var+eps)+bias
// per sample and channel over the spatial axes, with the biased variance.
func (g *Graph) InstanceNorm(x, scale, bias string, eps float32) string {
	return g.Op("InstanceNormalization", []string{x, scale, bias}, Attrs{"epsilon": eps})
}

// BatchNorm is BatchNormalization in inference mode:
// y = scale*(x-mean)/sqrt(var+eps)+bias per channel (axis 1).
func (g *Graph) BatchNorm(x, scale, bias, mean, variance string, eps float32) string {
	return g.Op("BatchNormalization", []string{x, scale, bias, mean, variance}, Attrs{"epsilon": eps})
}

// Relu is max(x, 0).
func (g *Graph) Relu(x string) string { return g.Op("Relu", []string{x}, nil) }

// LeakyRelu is x for x >= 0, alpha*x otherwise.
func (g *Graph) LeakyRelu(x string, alpha float32) string {
	return g.Op("LeakyRelu", []string{x}, Attrs{"alpha": alpha})
}

// Tanh is the hyperbolic tangent.
func (g *Graph) Tanh(x string) string { return g.Op("Tanh", []string{x}, nil) }

// Sigmoid is 1/(1+exp(-x)).
func (g *Graph) Sigmoid(x string) string { return g.Op("Sigmoid", []string{x}, nil) }

// Sqrt is the element-wise square root.
func (g *Graph) Sqrt(x string) string { return g.Op("Sqrt", []string{x}, nil) }

// Add is a+b with numpy broadcasting.
func (g *Graph) Add(a, b string) string { return g.Op("Add", []string{a, b}, nil) }

// Sub is a-b with numpy broadcasting.
func (g *Graph) Sub(a, b string) string { return g.Op("Sub", []string{a, b}, nil) }

// Mul is a*b with numpy broadcasting.
func (g *Graph) Mul(a, b string) string { return g.Op("Mul", []string{a, b}, nil) }

// Div is a/b with numpy broadcasting.
func (g *Graph) Div(a, b string) string { return g.Op("Div", []string{a, b}, nil) }

// Pow is a**b with numpy broadcasting.
func (g *Graph) Pow(a, b string) string { return g.Op("Pow", []string{a, b}, nil) }

// MatMul is the numpy matrix product of a and b.
func (g *Graph) MatMul(a, b string) string { return g.Op("MatMul", []string{a, b}, nil) }

// Gemm is alpha*A'*B' + beta*C with A [M,K], B [K,N] (or [N,K] when transB,
// as a PyTorch Linear layer's weight is stored), alpha = beta = 1, and c ""
// for no bias.
func (g *Graph) Gemm(a, b, c string, transB bool) string {
	attrs := Attrs{}
	if transB {
		attrs["transB"] = 1
	}
	return g.Op("Gemm", optional(a, b, c), attrs)
}

// ReduceMean averages x over axes (opset 17: an attribute), keeping the
// reduced axes as size 1 when keepDims.
func (g *Graph) ReduceMean(x string, axes []int64, keepDims bool) string {
	return g.Op("ReduceMean", []string{x}, Attrs{"axes": axes, "keepdims": boolInt(keepDims)})
}

// ReduceSum sums x over axes (opset 13+: an int64 input), keeping the
// reduced axes as size 1 when keepDims.
func (g *Graph) ReduceSum(x string, axes []int64, keepDims bool) string {
	return g.Op("ReduceSum", []string{x, g.Ints(axes...)}, Attrs{"keepdims": boolInt(keepDims)})
}

// ReflectPad pads the two spatial axes of x [N,C,H,W] by pad on every side,
// mirroring without repeating the edge (PyTorch's ReflectionPad2d).
func (g *Graph) ReflectPad(x string, pad int) string {
	p := int64(pad)
	return g.Op("Pad", []string{x, g.Ints(0, 0, p, p, 0, 0, p, p)}, Attrs{"mode": "reflect"})
}

// ResizeNearest upsamples x [N,C,H,W] by an integer factor on both spatial
// axes with nearest-neighbour sampling (PyTorch's Upsample(mode='nearest'):
// asymmetric coordinates, floor rounding).
func (g *Graph) ResizeNearest(x string, factor int) string {
	f := float32(factor)
	return g.Op("Resize", []string{x, "", g.Vector(1, 1, f, f)}, Attrs{
		"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor",
	})
}

// ResizeLinear resamples x [N,C,H,W] by scale on both spatial axes with
// bilinear interpolation and half-pixel centres (PyTorch's
// interpolate(mode='bilinear', align_corners=False) without antialiasing).
func (g *Graph) ResizeLinear(x string, scale float32) string {
	return g.Op("Resize", []string{x, "", g.Vector(1, 1, scale, scale)}, Attrs{
		"mode": "linear", "coordinate_transformation_mode": "half_pixel",
	})
}

// Concat joins xs along axis.
func (g *Graph) Concat(axis int, xs ...string) string {
	return g.Op("Concat", xs, Attrs{"axis": axis})
}

// Reshape reshapes x to shape (0 copies the input's axis, -1 is inferred).
func (g *Graph) Reshape(x string, shape ...int64) string {
	return g.Op("Reshape", []string{x, g.Ints(shape...)}, nil)
}

// Expand broadcasts x to shape (numpy rules; 1 keeps the input's size).
func (g *Graph) Expand(x string, shape ...int64) string {
	return g.Op("Expand", []string{x, g.Ints(shape...)}, nil)
}

// Softmax is exp(x)/sum(exp(x)) along axis.
func (g *Graph) Softmax(x string, axis int) string {
	return g.Op("Softmax", []string{x}, Attrs{"axis": axis})
}

// GlobalAveragePool averages x [N,C,H,W] over H and W, giving [N,C,1,1].
func (g *Graph) GlobalAveragePool(x string) string {
	return g.Op("GlobalAveragePool", []string{x}, nil)
}

// MaxPool is 2-D max pooling with a k×k window, the same stride on both
// axes and pad cells of padding on every side (padding never wins the max);
// the output size per axis is (in+2*pad-k)/stride+1, rounded down.
func (g *Graph) MaxPool(x string, k, stride, pad int) string {
	return g.Op("MaxPool", []string{x}, Attrs{
		"kernel_shape": []int64{int64(k), int64(k)},
		"strides":      []int64{int64(stride), int64(stride)},
		"pads":         []int64{int64(pad), int64(pad), int64(pad), int64(pad)},
	})
}

// Flatten reshapes x to 2-D [prod(shape[:axis]), prod(shape[axis:])].
func (g *Graph) Flatten(x string, axis int) string {
	return g.Op("Flatten", []string{x}, Attrs{"axis": axis})
}

// Clip limits x to [lo, hi] (opset 11+: bounds as inputs).
func (g *Graph) Clip(x string, lo, hi float32) string {
	return g.Op("Clip", []string{x, g.Scalar(lo), g.Scalar(hi)}, nil)
}

// optional drops trailing empty inputs (an omitted bias), keeping inner ones.
func optional(inputs ...string) []string {
	for len(inputs) > 0 && inputs[len(inputs)-1] == "" {
		inputs = inputs[:len(inputs)-1]
	}
	return inputs
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
