package model

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/munit-eval/munit-eval/rewrite"
)

// Options configure a session.
type Options struct {
	// Threads is the number of intra-op threads (0: all cores).
	Threads int
	// Device is "cpu" (default) or "cuda".
	Device string
	// Role names the model's role when its metadata has none.
	Role Role
	// NoRewrite runs the model exactly as written. By default a session runs
	// the model after package rewrite's exact graph rewrites (the same
	// outputs up to float32 summation order, computed faster); Info and the
	// recorded SHA-256 always describe the file as written.
	NoRewrite bool
	// Optimization is onnxruntime's graph optimization level: "disable",
	// "basic", "extended" or "all" ("" is the default, "all").
	Optimization string
	// Spinning sets whether idle intra-op threads spin ("on") or sleep
	// ("off"); "" is the measured default (see docs/performance.md).
	Spinning string
	// NoArena turns onnxruntime's CPU memory arena off.
	NoArena bool
	// Profile, when set, makes onnxruntime write a per-node timing profile
	// (Chrome trace JSON) to a file named with this prefix when the session
	// closes: what the figures in docs/performance.md are read from.
	Profile string
}

// Session is an open onnxruntime session, created once and reused for every
// batch. It is safe for concurrent use.
type Session struct {
	info     *Info
	rewrites []rewrite.Site
	sess     *ort.DynamicAdvancedSession
	inNames  []string
	outIdx   map[string]int
	mu       sync.Mutex
	closed   bool
}

// Open loads a model and creates its session. The error names the file and
// what is wrong.
func Open(path string, opts Options) (*Session, error) {
	if err := Init(""); err != nil {
		return nil, err
	}
	data, err := readModelFile(path)
	if err != nil {
		return nil, err
	}
	return OpenData(path, data, opts)
}

// OpenData is Open for a model already in memory; path names it in messages
// and in Info.
func OpenData(path string, data []byte, opts Options) (*Session, error) {
	if err := Init(""); err != nil {
		return nil, err
	}
	// External weights are read from beside the model (not from the
	// working directory, where onnxruntime looks for a model in memory).
	data, ext, err := resolveExternal(path, data)
	if err != nil {
		return nil, err
	}
	info, err := inspectData(path, data, opts.Role)
	if err != nil {
		return nil, err
	}
	info.ExternalData = ext
	so, err := sessionOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer so.Destroy()
	s := &Session{info: info, outIdx: map[string]int{}}
	if !opts.NoRewrite && !rewritesOff() {
		// A model the rewrite cannot parse is run as written: onnxruntime
		// has accepted it above, and the rewrite is only for speed.
		if res, err := rewrite.Apply(data, rewriteOptions(info.Role)); err == nil && len(res.Sites) > 0 {
			data, s.rewrites = res.Model, res.Sites
		}
	}
	for _, t := range info.Inputs {
		s.inNames = append(s.inNames, t.Name)
	}
	outNames := make([]string, len(info.Outputs))
	for i, t := range info.Outputs {
		outNames[i] = t.Name
		s.outIdx[t.Name] = i
	}
	s.sess, err = ort.NewDynamicAdvancedSessionWithONNXData(data, s.inNames, outNames, so)
	if err != nil {
		return nil, fmt.Errorf("%s: creating session: %s", path, firstLine(err.Error()))
	}
	return s, nil
}

func sessionOptions(opts Options) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	if err := so.SetIntraOpNumThreads(threads); err != nil {
		so.Destroy()
		return nil, err
	}
	// Our graphs are chains: parallel node execution buys nothing and would
	// compete with the intra-op pool for the same cores.
	if err := so.SetInterOpNumThreads(1); err != nil {
		so.Destroy()
		return nil, err
	}
	if err := tuneSession(so, opts); err != nil {
		so.Destroy()
		return nil, err
	}
	switch strings.ToLower(opts.Device) {
	case "", "cpu":
	case "cuda":
		cu, err := ort.NewCUDAProviderOptions()
		if err != nil {
			so.Destroy()
			return nil, fmt.Errorf("--device cuda: the CUDA execution provider is not available in this onnxruntime build (%s); use an onnxruntime GPU build via --ort-lib: %s", LibraryPath(), firstLine(err.Error()))
		}
		defer cu.Destroy()
		if err := so.AppendExecutionProviderCUDA(cu); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("--device cuda: the CUDA execution provider is not available in this onnxruntime build (%s); use an onnxruntime GPU build via --ort-lib: %s", LibraryPath(), firstLine(err.Error()))
		}
	default:
		so.Destroy()
		return nil, fmt.Errorf("unknown device %q (want cpu or cuda)", opts.Device)
	}
	return so, nil
}

// rewriteOptions chooses the rewrites for a model of the given role: the
// metric networks (LPIPS, classifiers) keep their 3×3 convolutions direct,
// so that their measured parity with the reference implementations holds
// as measured; generators also get the Winograd form (package rewrite).
func rewriteOptions(role Role) rewrite.Options {
	return rewrite.Options{NoWinograd: role == RoleLPIPS || role == RoleClassifier || role == RoleFeatures}
}

// RewritePlan describes, one line each, the graph rewrites a session would
// run the model at path (of the given role, as in Options.Role, when its
// metadata names none) with, then the upsample-convolution chains it would
// leave alone and why (for `inspect`). It says so in one line when rewrites
// are turned off.
func RewritePlan(path string, role Role) ([]string, error) {
	if rewritesOff() {
		return []string{"off (--no-rewrite)"}, nil
	}
	data, err := readModelFile(path)
	if err != nil {
		return nil, err
	}
	if data, _, err = resolveExternal(path, data); err != nil {
		return nil, err
	}
	info, err := inspectData(path, data, role)
	if err != nil {
		return nil, err
	}
	res, err := rewrite.Find(data, rewriteOptions(info.Role))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var lines []string
	for _, s := range res.Sites {
		lines = append(lines, s.String())
	}
	for _, s := range res.Skipped {
		lines = append(lines, s.String())
	}
	return lines, nil
}

// tuneSession applies the tuning options. The defaults are the measured
// winners for munit-eval's networks on CPU (docs/performance.md).
func tuneSession(so *ort.SessionOptions, opts Options) error {
	levels := map[string]ort.GraphOptimizationLevel{
		"": ort.GraphOptimizationLevelEnableAll, "all": ort.GraphOptimizationLevelEnableAll,
		"extended": ort.GraphOptimizationLevelEnableExtended, "basic": ort.GraphOptimizationLevelEnableBasic,
		"disable": ort.GraphOptimizationLevelDisableAll,
	}
	level, ok := levels[opts.Optimization]
	if !ok {
		return fmt.Errorf("unknown graph optimization level %q (want disable, basic, extended or all)", opts.Optimization)
	}
	if err := so.SetGraphOptimizationLevel(level); err != nil {
		return err
	}
	spin := map[string]string{"": defaultSpinning, "on": "1", "off": "0"}
	v, ok := spin[opts.Spinning]
	if !ok {
		return fmt.Errorf("unknown spinning mode %q (want on or off)", opts.Spinning)
	}
	if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", v); err != nil {
		return err
	}
	if opts.Profile != "" {
		if err := so.EnableProfiling(opts.Profile); err != nil {
			return err
		}
	}
	return so.SetCpuMemArena(!opts.NoArena)
}

// defaultSpinning is the allow_spinning value used unless Options.Spinning
// says otherwise: off. Spinning threads burned a third more CPU per
// decoded sample for no wall-time gain that survived the noise of a shared
// machine, and in munit-eval the network shares the cores with PNG
// decoding, encoding and hashing goroutines (docs/performance.md).
const defaultSpinning = "0"

// Info describes the session's model.
func (s *Session) Info() *Info { return s.info }

// Rewrites lists the graph rewrites the session runs with (none when
// Options.NoRewrite was set or nothing matched).
func (s *Session) Rewrites() []rewrite.Site { return s.rewrites }

// Close releases the session. It is safe to call more than once.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.sess.Destroy()
}

// Run feeds every model input from inputs (float32, by name) and returns the
// named outputs (all outputs when none are named). All inputs share the
// batch axis 0. When the model fixes its batch size, Run splits the batch
// into chunks of that size, padding the last chunk by repeating its final
// row and dropping the padded outputs. Run does not look at output values:
// callers check for NaN where it matters to them.
func (s *Session) Run(inputs map[string]Tensor, outputs ...string) (map[string]Tensor, error) {
	if len(outputs) == 0 {
		for _, t := range s.info.Outputs {
			outputs = append(outputs, t.Name)
		}
	}
	for _, name := range outputs {
		if _, ok := s.outIdx[name]; !ok {
			return nil, fmt.Errorf("%s: no output named %q (outputs: %s)", s.info.Path, name, describe(s.info.Outputs))
		}
	}
	batch := int64(-1)
	for _, name := range s.inNames {
		t, ok := inputs[name]
		if !ok {
			return nil, fmt.Errorf("%s: input %q not given", s.info.Path, name)
		}
		want, _ := s.info.Input(name)
		if err := checkShape(t, want); err != nil {
			return nil, fmt.Errorf("%s: input %q: %w", s.info.Path, name, err)
		}
		if batch < 0 {
			batch = t.Shape[0]
		} else if t.Shape[0] != batch {
			return nil, fmt.Errorf("%s: input %q has batch %d, other inputs %d", s.info.Path, name, t.Shape[0], batch)
		}
	}
	for name := range inputs {
		if _, ok := s.info.Input(name); !ok {
			return nil, fmt.Errorf("%s: model has no input named %q (inputs: %s)", s.info.Path, name, describe(s.info.Inputs))
		}
	}
	fixed := int64(s.info.FixedBatch)
	if fixed <= 0 || batch == fixed {
		out, err := s.run(inputs, outputs)
		return out, s.tooSmall(inputs, err)
	}
	var parts []map[string]Tensor
	for start := int64(0); start < batch; start += fixed {
		n := min(fixed, batch-start)
		chunk := map[string]Tensor{}
		for name, t := range inputs {
			chunk[name] = sliceRows(t, start, n, fixed)
		}
		out, err := s.run(chunk, outputs)
		if err != nil {
			return nil, s.tooSmall(chunk, err)
		}
		for name, t := range out {
			out[name] = sliceRows(t, 0, n, n)
		}
		parts = append(parts, out)
	}
	return concatRows(parts, outputs), nil
}

func checkShape(t Tensor, want TensorInfo) error {
	if len(t.Shape) != len(want.Shape) {
		return fmt.Errorf("shape %s, model wants rank %d %s", shapeString(t.Shape), len(want.Shape), shapeString(want.Shape))
	}
	n := int64(1)
	for i, d := range t.Shape {
		if d <= 0 {
			return fmt.Errorf("shape %s has an empty axis", shapeString(t.Shape))
		}
		if i > 0 && want.Shape[i] > 0 && want.Shape[i] != d {
			return fmt.Errorf("shape %s, model wants %s", shapeString(t.Shape), shapeString(want.Shape))
		}
		n *= d
	}
	if int64(len(t.Data)) != n {
		return fmt.Errorf("shape %s needs %d values, got %d", shapeString(t.Shape), n, len(t.Data))
	}
	return nil
}

// sliceRows returns rows [start, start+n) of t, padded to size rows by
// repeating the last row.
func sliceRows(t Tensor, start, n, size int64) Tensor {
	row := int64(len(t.Data)) / t.Shape[0]
	shape := append([]int64{size}, t.Shape[1:]...)
	if n == size {
		return Tensor{Shape: shape, Data: t.Data[start*row : (start+n)*row]}
	}
	data := make([]float32, size*row)
	copy(data, t.Data[start*row:(start+n)*row])
	last := t.Data[(start+n-1)*row : (start+n)*row]
	for i := n; i < size; i++ {
		copy(data[i*row:], last)
	}
	return Tensor{Shape: shape, Data: data}
}

func concatRows(parts []map[string]Tensor, names []string) map[string]Tensor {
	out := map[string]Tensor{}
	for _, name := range names {
		var total int64
		var data []float32
		for _, p := range parts {
			total += p[name].Shape[0]
			data = append(data, p[name].Data...)
		}
		shape := append([]int64{total}, parts[0][name].Shape[1:]...)
		out[name] = Tensor{Shape: shape, Data: data}
	}
	return out
}

func (s *Session) run(inputs map[string]Tensor, outputs []string) (map[string]Tensor, error) {
	ins := make([]ort.Value, len(s.inNames))
	defer func() {
		for _, v := range ins {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, name := range s.inNames {
		t := inputs[name]
		v, err := ort.NewTensor(ort.NewShape(t.Shape...), t.Data)
		if err != nil {
			return nil, fmt.Errorf("%s: input %q: %w", s.info.Path, name, err)
		}
		ins[i] = v
	}
	outs := make([]ort.Value, len(s.info.Outputs))
	defer func() {
		for _, v := range outs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("%s: session is closed", s.info.Path)
	}
	if err := s.sess.Run(ins, outs); err != nil {
		return nil, fmt.Errorf("%s: running: %s", s.info.Path, firstLine(err.Error()))
	}
	res := make(map[string]Tensor, len(outputs))
	for _, name := range outputs {
		v := outs[s.outIdx[name]]
		t, ok := v.(*ort.Tensor[float32])
		if !ok {
			return nil, fmt.Errorf("%s: output %q is not a float32 tensor", s.info.Path, name)
		}
		src := t.GetData()
		data := make([]float32, len(src))
		copy(data, src)
		res[name] = Tensor{Shape: []int64(t.GetShape().Clone()), Data: data}
	}
	return res, nil
}
