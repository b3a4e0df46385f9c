package rewrite_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/onnxbuild"
	"github.com/munit-eval/munit-eval/rewrite"
)

// tolerance is the largest absolute difference allowed between the
// rewritten and the original graph. Both compute the same sums of float32
// products; only the order of the additions differs (the polyphase kernel
// adds up to ⌈k/s⌉² taps before multiplying), which for outputs of order 1
// and a few hundred terms stays around 1e-6.
const tolerance = 1e-4

// chain describes a test graph: x -> Relu -> Resize(nearest, scale) ->
// [Pad(mode, pads)] -> Conv(k×k, convPads) -> y.
type chain struct {
	scale     int
	mode      string // "" for no Pad node
	pads      [4]int64
	value     float32 // constant_value
	kh, kw    int
	convPads  [4]int64
	bias      bool
	torchPads bool   // pads through PyTorch's Constant/Reshape/Slice/Transpose/Cast chain
	resize    string // coordinate_transformation_mode/nearest_mode, default asymmetric/floor
	cin, cout int
}

func (c chain) String() string {
	return fmt.Sprintf("s%d_%s%v_k%dx%d_cp%v_bias%v", c.scale, c.mode, c.pads, c.kh, c.kw, c.convPads, c.bias)
}

// build writes the chain's model with seeded random weights.
func (c chain) build(t testing.TB, seed uint64) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	g := onnxbuild.NewGraph("chain")
	x := g.Relu(g.Input("x", -1, int64(c.cin), -1, -1))
	ctm, nm := "asymmetric", "floor"
	if c.resize != "" {
		parts := strings.Split(c.resize, "/")
		ctm, nm = parts[0], parts[1]
	}
	f := float32(c.scale)
	scales := g.Op("Constant", nil, onnxbuild.Attrs{"value_floats": []float32{1, 1, f, f}})
	u := g.Op("Resize", []string{x, "", scales}, onnxbuild.Attrs{"mode": "nearest", "coordinate_transformation_mode": ctm, "nearest_mode": nm})
	if c.mode != "" {
		p := c.pads
		var pads string
		if c.torchPads {
			// torch.onnx's pad list: [l, r, t, b] padded with zeros, reshaped to
			// pairs, reversed, transposed, flattened and cast, as export/ writes it.
			lst := g.Op("Constant", nil, onnxbuild.Attrs{"value_ints": []int64{p[1], p[3], p[0], p[2]}})
			zeros := g.Op("ConstantOfShape", []string{g.Ints(4)}, nil)
			zeros = g.Op("Cast", []string{zeros}, onnxbuild.Attrs{"to": 7})
			cat := g.Op("Concat", []string{lst, zeros}, onnxbuild.Attrs{"axis": 0})
			pairs := g.Op("Reshape", []string{cat, g.Ints(-1, 2)}, nil)
			rev := g.Op("Slice", []string{pairs, g.Ints(-1), g.Ints(-9223372036854775807), g.Ints(0), g.Ints(-1)}, nil)
			tr := g.Op("Transpose", []string{rev}, onnxbuild.Attrs{"perm": []int64{1, 0}})
			flat := g.Op("Reshape", []string{tr, g.Ints(-1)}, nil)
			pads = g.Op("Cast", []string{flat}, onnxbuild.Attrs{"to": 7})
		} else {
			pads = g.Ints(0, 0, p[0], p[1], 0, 0, p[2], p[3])
		}
		in := []string{u, pads}
		if c.mode == "constant" {
			in = append(in, g.Scalar(c.value))
		}
		u = g.Op("Pad", in, onnxbuild.Attrs{"mode": c.mode})
	}
	std := 0.3 / math.Sqrt(float64(c.cin*c.kh*c.kw))
	w := g.RandConst("", r, std, int64(c.cout), int64(c.cin), int64(c.kh), int64(c.kw))
	in := []string{u, w}
	if c.bias {
		in = append(in, g.Const("", []int64{int64(c.cout)}, onnxbuild.RandUniform(r, -0.2, 0.2, c.cout)))
	}
	cp := c.convPads
	y := g.Op("Conv", in, onnxbuild.Attrs{"kernel_shape": []int64{int64(c.kh), int64(c.kw)}, "strides": []int64{1, 1},
		"pads": []int64{cp[0], cp[1], cp[2], cp[3]}})
	g.Identity(y, "y")
	g.Output("y")
	b, err := onnxbuild.NewModel(g, nil).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compare runs the original and the rewritten model on random inputs of the
// given sizes and returns the largest absolute difference and the largest
// absolute output.
func compare(t *testing.T, data []byte, cin int, sizes [][3]int64, seed uint64) (maxDiff, maxAbs float64) {
	t.Helper()
	orig, err := model.OpenData("orig.onnx", data, model.Options{Threads: 1, NoRewrite: true})
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	fast, err := model.OpenData("fast.onnx", data, model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	if len(fast.Rewrites()) == 0 {
		res, _ := rewrite.Find(data, rewrite.Options{})
		t.Fatalf("nothing rewritten: %v", res.Skipped)
	}
	r := rand.New(rand.NewPCG(seed, 11))
	for _, sz := range sizes {
		shape := []int64{sz[0], int64(cin), sz[1], sz[2]}
		n := int(sz[0]) * cin * int(sz[1]) * int(sz[2])
		in := map[string]model.Tensor{"x": {Shape: shape, Data: onnxbuild.RandUniform(r, -1, 1, n)}}
		want, err := orig.Run(in)
		got, ferr := fast.Run(in)
		if err != nil {
			// Too small for the original (a valid convolution on a map
			// smaller than the kernel): the rewritten graph must fail too.
			if ferr == nil {
				t.Fatalf("input %v: the original fails (%v), the rewritten graph does not", shape, err)
			}
			continue
		}
		if err := ferr; err != nil {
			t.Fatalf("rewritten at %v: %v", shape, err)
		}
		w, g := want["y"], got["y"]
		if fmt.Sprint(w.Shape) != fmt.Sprint(g.Shape) {
			t.Fatalf("input %v: output shape %v, want %v", shape, g.Shape, w.Shape)
		}
		for i := range w.Data {
			maxDiff = max(maxDiff, math.Abs(float64(w.Data[i]-g.Data[i])))
			maxAbs = max(maxAbs, math.Abs(float64(w.Data[i])))
		}
	}
	return maxDiff, maxAbs
}

// checkClose runs compare and fails when the outputs are not of order 1
// (at most maxAmp, at least 0.1: the tolerance is absolute) or the rewritten
// graph differs by more than tolerance.
func checkClose(t *testing.T, data []byte, cin int, sizes [][3]int64, seed uint64, maxAmp float64) {
	t.Helper()
	diff, amp := compare(t, data, cin, sizes, seed)
	if amp > maxAmp || amp < 0.1 {
		t.Fatalf("outputs up to %.3g: the weights do not give outputs of order 1", amp)
	}
	if diff > tolerance {
		t.Fatalf("max |rewritten - original| = %.3g > %.0e", diff, tolerance)
	}
	t.Logf("max |diff| %.2g (outputs up to %.2f)", diff, amp)
}

// TestExactness checks the rewritten graph against the original one for
// every padding mode, kernels 3/5/7, scales 2/4, odd and tiny sizes and a
// batch of 3: the largest difference must stay within float32 summation
// noise (tolerance).
func TestExactness(t *testing.T) {
	var cases []chain
	for _, s := range []int{2, 4} {
		for _, k := range []int{3, 5, 7} {
			p := int64(k / 2)
			for _, mode := range []string{"reflect", "edge", "constant"} {
				cases = append(cases, chain{scale: s, mode: mode, pads: [4]int64{p, p, p, p}, value: 0.25, kh: k, kw: k, bias: true, cin: 3, cout: 4})
			}
			// No Pad node: the Conv's own zero padding.
			cases = append(cases, chain{scale: s, kh: k, kw: k, convPads: [4]int64{p, p, p, p}, cin: 3, cout: 2})
		}
	}
	cases = append(cases,
		// MUNIT's decoder: x2, reflect 2, 5x5, and its PyTorch pad chain.
		chain{scale: 2, mode: "reflect", pads: [4]int64{2, 2, 2, 2}, kh: 5, kw: 5, bias: true, torchPads: true, cin: 4, cout: 3},
		// Uneven pads, a rectangular kernel, Pad and Conv padding together.
		chain{scale: 2, mode: "reflect", pads: [4]int64{1, 3, 2, 0}, kh: 5, kw: 3, convPads: [4]int64{1, 0, 0, 2}, bias: true, cin: 2, cout: 3},
		chain{scale: 3, mode: "edge", pads: [4]int64{0, 2, 4, 1}, kh: 7, kw: 4, cin: 2, cout: 2},
		// No padding at all ("valid" convolution on the upsampled map).
		chain{scale: 2, kh: 5, kw: 5, cin: 2, cout: 2},
		// The half-pixel nearest modes map o to floor(o/s) as well.
		chain{scale: 2, mode: "reflect", pads: [4]int64{1, 1, 1, 1}, kh: 3, kw: 3, resize: "half_pixel/round_prefer_floor", cin: 2, cout: 2},
		chain{scale: 4, mode: "edge", pads: [4]int64{3, 3, 3, 3}, kh: 7, kw: 7, resize: "pytorch_half_pixel/round_prefer_ceil", cin: 2, cout: 2},
	)
	for i, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			data := c.build(t, uint64(i))
			// Sizes (batch, H, W) of the small map: odd, rectangular, and
			// tiny ones where the borders meet and no interior is left.
			sizes := [][3]int64{{3, 7, 5}, {2, 9, 12}, {1, 4, 3}, {2, 2, 6}, {1, 3, 3}}
			if c.mode != "reflect" {
				sizes = append(sizes, [3]int64{2, 1, 1}, [3]int64{1, 1, 5}, [3]int64{1, 2, 1})
			}
			if c.mode == "reflect" && c.scale == 4 {
				sizes = append(sizes, [3]int64{1, 1, 1}, [3]int64{2, 1, 2})
			}
			checkClose(t, data, c.cin, sizes, uint64(100+i), 1)
		})
	}
}

// TestLeftAlone checks that chains the rewrite does not understand are
// reported and the model bytes returned unchanged.
func TestLeftAlone(t *testing.T) {
	base := chain{scale: 2, mode: "reflect", pads: [4]int64{1, 1, 1, 1}, kh: 3, kw: 3, cin: 2, cout: 2}
	cases := []struct {
		name   string
		edit   func(g *onnxbuild.Graph, x string) string // builds the chain on x, returns y
		reason string
	}{
		{"bilinear", func(g *onnxbuild.Graph, x string) string {
			u := g.ResizeLinear(x, 2)
			return g.Conv(u, g.Const("", []int64{2, 2, 3, 3}, onnxbuild.Filled(36, 0.1)), "", 1, 1)
		}, "Resize mode linear"},
		{"stride2", func(g *onnxbuild.Graph, x string) string {
			u := g.ResizeNearest(x, 2)
			return g.Conv(u, g.Const("", []int64{2, 2, 3, 3}, onnxbuild.Filled(36, 0.1)), "", 2, 1)
		}, "Conv strides"},
		{"shared", func(g *onnxbuild.Graph, x string) string {
			u := g.ResizeNearest(x, 2)
			c := g.Conv(u, g.Const("", []int64{2, 2, 3, 3}, onnxbuild.Filled(36, 0.1)), "", 1, 1)
			return g.Add(c, u)
		}, "used elsewhere"},
		{"fractional", func(g *onnxbuild.Graph, x string) string {
			u := g.Op("Resize", []string{x, "", g.Vector(1, 1, 2.5, 2.5)}, onnxbuild.Attrs{"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"})
			return g.Conv(u, g.Const("", []int64{2, 2, 3, 3}, onnxbuild.Filled(36, 0.1)), "", 1, 1)
		}, "Resize scales"},
		{"round_asymmetric", func(g *onnxbuild.Graph, x string) string {
			u := g.Op("Resize", []string{x, "", g.Vector(1, 1, 2, 2)}, onnxbuild.Attrs{"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "round_prefer_floor"})
			return g.Conv(u, g.Const("", []int64{2, 2, 3, 3}, onnxbuild.Filled(36, 0.1)), "", 1, 1)
		}, "does not map"},
		{"weights_input", func(g *onnxbuild.Graph, x string) string {
			u := g.ResizeNearest(x, 2)
			return g.Conv(u, g.Input("w", 2, 2, 3, 3), "", 1, 1)
		}, "initializer"},
		{"1x1", func(g *onnxbuild.Graph, x string) string {
			u := g.ResizeNearest(x, 2)
			return g.Conv(u, g.Const("", []int64{2, 2, 1, 1}, onnxbuild.Filled(4, 0.1)), "", 1, 0)
		}, "gains nothing"},
	}
	_ = base
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := onnxbuild.NewGraph("skip")
			x := g.Input("x", -1, 2, -1, -1)
			g.Identity(c.edit(g, x), "y")
			g.Output("y")
			data, err := onnxbuild.NewModel(g, nil).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			res, err := rewrite.Apply(data, rewrite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Sites) != 0 || !bytes.Equal(res.Model, data) {
				t.Fatalf("rewrote %v", res.Sites)
			}
			if len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, c.reason) {
				t.Fatalf("skipped %v, want one saying %q", res.Skipped, c.reason)
			}
		})
	}
}

// TestFindMatchesApply checks that Find reports what Apply rewrites, that a
// rewritten model parses, and that rewriting is deterministic.
func TestFindMatchesApply(t *testing.T) {
	c := chain{scale: 2, mode: "reflect", pads: [4]int64{2, 2, 2, 2}, kh: 5, kw: 5, bias: true, torchPads: true, cin: 4, cout: 3}
	data := c.build(t, 1)
	found, err := rewrite.Find(data, rewrite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := rewrite.Apply(data, rewrite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := rewrite.Apply(data, rewrite.Options{})
	if len(found.Sites) != 1 || fmt.Sprint(found.Sites) != fmt.Sprint(a.Sites) {
		t.Fatalf("Find %v, Apply %v", found.Sites, a.Sites)
	}
	if !bytes.Equal(a.Model, b.Model) {
		t.Fatal("two rewrites of one model differ")
	}
	s := a.Sites[0]
	if s.PolyH != 3 || s.PolyW != 3 || s.Scale != 2 || s.PadMode != "reflect" || s.Pads != [4]int{2, 2, 2, 2} {
		t.Fatalf("site %+v", s)
	}
	if r := s.Ratio(); math.Abs(r-9.0/25) > 1e-12 {
		t.Fatalf("ratio %v, want 9/25", r)
	}
	mi, err := onnxbuild.Parse(a.Model)
	if err != nil {
		t.Fatal(err)
	}
	ops := strings.Join(mi.OpTypes(), " ")
	if strings.Contains(ops, "Resize Pad Conv") || !strings.Contains(ops, "DepthToSpace") {
		t.Fatalf("rewritten ops: %s", ops)
	}
	if _, err := rewrite.Apply([]byte("not a model"), rewrite.Options{}); err == nil {
		t.Fatal("garbage parsed")
	}
}

// TestSessionSwitches checks how model/ applies the rewrite: on by default,
// off per session (Options.NoRewrite) and for the process (SetNoRewrite, the
// --no-rewrite flag), described by RewritePlan, and that the session's Info
// keeps the file's own SHA-256.
func TestSessionSwitches(t *testing.T) {
	c := chain{scale: 2, mode: "edge", pads: [4]int64{1, 1, 1, 1}, kh: 3, kw: 3, cin: 2, cout: 2}
	data := c.build(t, 3)
	path := t.TempDir() + "/chain.onnx"
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	open := func(o model.Options) int {
		t.Helper()
		s, err := model.Open(path, o)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if s.Info().SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("Info().SHA256 %s is not the file's", s.Info().SHA256)
		}
		return len(s.Rewrites())
	}
	if n := open(model.Options{Threads: 1}); n != 1 {
		t.Fatalf("default: %d rewrites, want 1", n)
	}
	if n := open(model.Options{Threads: 1, NoRewrite: true}); n != 0 {
		t.Fatalf("NoRewrite: %d rewrites", n)
	}
	plan, err := model.RewritePlan(path, "")
	if err != nil || len(plan) != 1 || !strings.Contains(plan[0], "DepthToSpace 2") {
		t.Fatalf("RewritePlan: %q, %v", plan, err)
	}
	model.SetNoRewrite(true)
	defer model.SetNoRewrite(false)
	if n := open(model.Options{Threads: 1}); n != 0 {
		t.Fatalf("SetNoRewrite(true): %d rewrites", n)
	}
	if plan, _ := model.RewritePlan(path, ""); len(plan) != 1 || !strings.Contains(plan[0], "off") {
		t.Fatalf("RewritePlan with rewrites off: %q", plan)
	}
	for _, o := range []model.Options{{Optimization: "max"}, {Spinning: "sometimes"}} {
		if _, err := model.Open(path, o); err == nil {
			t.Fatalf("options %+v accepted", o)
		}
	}
}

// convSpec describes a test graph x -> Relu -> [reflect Pad] -> Conv(k×k,
// convPads) [-> Tanh] -> y, with seeded weights of standard deviation
// gain/sqrt(cin·k²).
type convSpec struct {
	seed         uint64
	k, cin, cout int
	reflect      int64 // 0: no Pad
	convPads     [4]int64
	bias, tanh   bool
	gain         float64
}

func convModel(t *testing.T, c convSpec) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(c.seed, 5))
	g := onnxbuild.NewGraph("conv")
	x := g.Relu(g.Input("x", -1, int64(c.cin), -1, -1))
	if c.reflect > 0 {
		x = g.ReflectPad(x, int(c.reflect))
	}
	k := int64(c.k)
	in := []string{x, g.RandConst("", r, c.gain/math.Sqrt(float64(c.cin*c.k*c.k)), int64(c.cout), int64(c.cin), k, k)}
	if c.bias {
		in = append(in, g.Const("", []int64{int64(c.cout)}, onnxbuild.RandUniform(r, -0.2, 0.2, c.cout)))
	}
	cp := c.convPads
	y := g.Op("Conv", in, onnxbuild.Attrs{"kernel_shape": []int64{k, k}, "pads": []int64{cp[0], cp[1], cp[2], cp[3]}})
	if c.tanh {
		y = g.Tanh(y)
	}
	g.Identity(y, "y")
	g.Output("y")
	data, err := onnxbuild.NewModel(g, nil).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestSpaceToDepthExactness checks the space-to-depth form of convolutions
// with few output channels (the last layer of most generators) against the
// original on odd and even sizes, with the Conv's own padding or a Pad
// before it, and a batch of 3.
func TestSpaceToDepthExactness(t *testing.T) {
	cases := []struct {
		k, cin, cout int
		reflect      int64    // a reflect Pad before the Conv, 0 for none
		convPads     [4]int64 // the Conv's own pads
		bias         bool
	}{
		{7, 6, 3, 3, [4]int64{}, true}, // MUNIT's last layer
		{5, 4, 1, 0, [4]int64{2, 2, 2, 2}, false},
		{5, 3, 4, 1, [4]int64{0, 1, 2, 3}, true},
		{7, 2, 2, 0, [4]int64{}, true},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("k%d_%d-%d_reflect%d_cp%v", c.k, c.cin, c.cout, c.reflect, c.convPads), func(t *testing.T) {
			data := convModel(t, convSpec{seed: uint64(i), k: c.k, cin: c.cin, cout: c.cout, reflect: c.reflect, convPads: c.convPads, bias: c.bias, gain: 0.3, tanh: true})
			res, err := rewrite.Find(data, rewrite.Options{})
			if err != nil || len(res.Sites) != 1 || res.Sites[0].Kind != rewrite.KindSpaceToDepth {
				t.Fatalf("sites %v, %v", res.Sites, err)
			}
			sizes := [][3]int64{{3, 9, 8}, {2, 16, 17}, {1, 7, 7}, {1, 8, 11}, {2, 4, 5}, {1, 3, 3}}
			checkClose(t, data, c.cin, sizes, uint64(200+i), 1)
		})
	}
}

// TestWinogradExactness checks the Winograd F(4×4, 3×3) form of 3×3
// convolutions with enough channels to be rewritten, alone (after a reflect
// Pad, with the Conv's own padding, uneven or none) and as the polyphase
// Conv of an upsampling chain, on odd, even and tiny sizes and batches up
// to 3; maps too small for the kernel must fail as the original does.
func TestWinogradExactness(t *testing.T) {
	cases := []struct {
		cin, cout int
		reflect   int64    // a reflect Pad before the Conv, 0 for none
		convPads  [4]int64 // the Conv's own pads
		bias      bool
	}{
		{128, 256, 1, [4]int64{}, true}, // MUNIT's residual blocks (256->256)
		{256, 128, 0, [4]int64{1, 1, 1, 1}, false},
		{128, 256, 0, [4]int64{0, 2, 1, 0}, true},
		{256, 128, 0, [4]int64{}, true}, // valid: fails on maps under 3×3
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%d-%d_reflect%d_cp%v_bias%v", c.cin, c.cout, c.reflect, c.convPads, c.bias), func(t *testing.T) {
			data := convModel(t, convSpec{seed: 100 + uint64(i), k: 3, cin: c.cin, cout: c.cout, reflect: c.reflect, convPads: c.convPads, bias: c.bias, gain: 0.6})
			res, err := rewrite.Find(data, rewrite.Options{})
			if err != nil || len(res.Sites) != 1 || res.Sites[0].Kind != rewrite.KindWinograd {
				t.Fatalf("sites %v, %v", res.Sites, err)
			}
			sizes := [][3]int64{{3, 9, 8}, {2, 16, 17}, {1, 7, 7}, {1, 4, 5}, {1, 3, 3}, {2, 2, 1}, {1, 1, 1}, {1, 12, 13}}
			if c.reflect > 0 {
				sizes = sizes[:5] // reflection needs 2 pixels
			}
			checkClose(t, data, c.cin, sizes, uint64(300+i), 1.5)
		})
	}
	// The polyphase Conv of an upsampling chain, when it has the channels.
	chains := []chain{
		{scale: 2, mode: "reflect", pads: [4]int64{2, 2, 2, 2}, kh: 5, kw: 5, bias: true, torchPads: true, cin: 128, cout: 64},
		{scale: 2, mode: "edge", pads: [4]int64{1, 2, 2, 1}, kh: 5, kw: 5, cin: 128, cout: 64},
		{scale: 3, mode: "constant", pads: [4]int64{3, 3, 3, 3}, value: 0.5, kh: 7, kw: 7, bias: true, cin: 128, cout: 32},
	}
	for i, c := range chains {
		t.Run("polyphase_"+c.String(), func(t *testing.T) {
			data := c.build(t, uint64(50+i))
			res, err := rewrite.Find(data, rewrite.Options{})
			if err != nil || len(res.Sites) != 1 || !res.Sites[0].Winograd {
				t.Fatalf("sites %v, %v", res.Sites, err)
			}
			sizes := [][3]int64{{3, 7, 5}, {2, 9, 12}, {1, 4, 3}, {1, 3, 3}, {1, 16, 16}}
			if c.mode != "reflect" {
				sizes = append(sizes, [3]int64{2, 1, 1}, [3]int64{1, 2, 1})
			}
			checkClose(t, data, c.cin, sizes, uint64(400+i), 1.5)
		})
	}
}

// TestWinogradOption checks that Options.NoWinograd keeps 3×3 convolutions
// direct (alone and as a polyphase Conv) and that sessions of the metric
// roles (LPIPS, classifier) run without the Winograd form while others get it.
func TestWinogradOption(t *testing.T) {
	c := chain{scale: 2, mode: "reflect", pads: [4]int64{2, 2, 2, 2}, kh: 5, kw: 5, cin: 128, cout: 64}
	poly := c.build(t, 1)
	res, err := rewrite.Find(poly, rewrite.Options{NoWinograd: true})
	if err != nil || len(res.Sites) != 1 || res.Sites[0].Winograd || strings.Contains(res.Sites[0].String(), "Winograd") {
		t.Fatalf("NoWinograd, polyphase: %v, %v", res.Sites, err)
	}
	g := onnxbuild.NewGraph("w")
	x := g.Input("x", -1, 128, -1, -1)
	y := g.Op("Conv", []string{x, g.Const("", []int64{256, 128, 3, 3}, make([]float32, 256*128*9))}, onnxbuild.Attrs{"kernel_shape": []int64{3, 3}, "pads": []int64{1, 1, 1, 1}})
	g.Identity(y, "y")
	g.Output("y")
	plain, err := onnxbuild.NewModel(g, nil).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if res, err := rewrite.Find(plain, rewrite.Options{NoWinograd: true}); err != nil || len(res.Sites) != 0 {
		t.Fatalf("NoWinograd, 3x3: %v, %v", res.Sites, err)
	}
	for _, tc := range []struct {
		role model.Role
		want bool
	}{{model.RoleLPIPS, false}, {model.RoleClassifier, false}, {model.RoleDecoder, true}, {"", true}} {
		s, err := model.OpenData("w.onnx", plain, model.Options{Threads: 1, Role: tc.role})
		if err != nil {
			t.Fatal(err)
		}
		got := len(s.Rewrites()) == 1 && s.Rewrites()[0].Kind == rewrite.KindWinograd
		s.Close()
		if got != tc.want {
			t.Errorf("role %q: Winograd %v, want %v (%v)", tc.role, got, tc.want, s.Rewrites())
		}
	}
}
