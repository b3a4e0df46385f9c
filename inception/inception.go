// Package inception runs a classifier model (docs/models.md: `logits` [N,K],
// optional `features` [N,D]) over images in batches and turns its outputs
// into what the score metrics take: per-sample logits for IS and CIS, pool
// features for FID and KID. Logits and features are cached on disk per
// (classifier SHA-256, image SHA-256), so no image is classified twice.
//
// Softmax and everything after it is float64 math in package metrics.
package inception

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/munit-eval/munit-eval/batch"
	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/progress"
	"github.com/munit-eval/munit-eval/model"
)

// Classifier is an open classifier model.
type Classifier struct {
	sess *model.Session
	// Classes are the class names (munit_eval.classes), or class0..classK-1.
	Classes []string
	// FeatureDim is D of the `features` output (0 when the model has none),
	// SpatialDim S of sFID's `spatial` output (0 when it has none).
	FeatureDim, SpatialDim int

	// eng is the batch engine of every Runner on this classifier, so that
	// its memory cache serves them all (the IS/CIS logits and the FID/KID
	// features of one sample come from one network run); mu makes their
	// calls take turns.
	mu  sync.Mutex
	eng *batch.Engine[Output]
}

// Open opens a classifier model, or a feature extractor (role features:
// DINOv2, CLIP, which have no logits), and checks its contract.
func Open(path string, opts model.Options) (*Classifier, error) {
	role := model.RoleClassifier
	if info, err := model.Inspect(path); err == nil && info.Role == model.RoleFeatures {
		role = model.RoleFeatures
	}
	opts.Role = role
	s, err := model.Open(path, opts)
	if err != nil {
		return nil, fmt.Errorf("inception: %w", err)
	}
	info := s.Info()
	if p := model.Check(info, role); len(p) > 0 {
		s.Close()
		return nil, fmt.Errorf("inception: %s does not fit the %s contract: %s", path, role, p[0])
	}
	c := &Classifier{sess: s, Classes: info.Classes}
	if l, _ := info.Output("logits"); c.Classes == nil && len(l.Shape) == 2 && l.Shape[1] > 0 {
		for i := 0; i < int(l.Shape[1]); i++ {
			c.Classes = append(c.Classes, fmt.Sprintf("class%d", i))
		}
	}
	if f, ok := info.Output("features"); ok {
		c.FeatureDim = int(f.Shape[1])
	}
	if f, ok := info.Output(OutputSpatial); ok && len(f.Shape) == 2 {
		c.SpatialDim = int(max(f.Shape[1], 0))
	}
	return c, nil
}

// Info describes the model file.
func (c *Classifier) Info() *model.Info { return c.sess.Info() }

// SHA256 is the model file's hash, the key of its cache.
func (c *Classifier) SHA256() string { return c.sess.Info().SHA256 }

// HasLogits reports whether the model has a `logits` output (a feature
// extractor has none: it serves FID, KID, PRDC and CMMD, not IS).
func (c *Classifier) HasLogits() bool {
	_, ok := c.sess.Info().Output("logits")
	return ok
}

// HasFeatures reports whether the model has a `features` output.
func (c *Classifier) HasFeatures() bool {
	_, ok := c.sess.Info().Output("features")
	return ok
}

// HasOutput reports whether the model has the named features output
// (OutputFeatures or OutputSpatial).
func (c *Classifier) HasOutput(name string) bool {
	_, ok := c.sess.Info().Output(name)
	return ok
}

// The feature outputs a metric can read: the pool features of FID, KID,
// PRDC, CMMD and FD, and sFID's spatial features (docs/metrics.md).
const (
	OutputFeatures = "features"
	OutputSpatial  = "spatial"
)

// Close releases the session.
func (c *Classifier) Close() error { return c.sess.Close() }

// Output is the classifier's output for one image.
type Output struct {
	Logits   []float32
	Features []float32
	// Spatial is sFID's spatial output, when the model has one.
	Spatial []float32
}

// Classify runs the model on images of one size in one batch.
func (c *Classifier) Classify(imgs []*images.Image) ([]Output, error) {
	if len(imgs) == 0 {
		return nil, nil
	}
	h, w := imgs[0].H, imgs[0].W
	data := make([]float32, len(imgs)*3*h*w)
	if err := images.ToTensor(imgs, data); err != nil {
		return nil, fmt.Errorf("inception: %w", err)
	}
	var names []string
	if c.HasLogits() {
		names = append(names, "logits")
	}
	if c.HasFeatures() {
		names = append(names, "features")
	}
	if c.HasOutput(OutputSpatial) {
		names = append(names, OutputSpatial)
	}
	out, err := c.sess.Run(map[string]model.Tensor{c.sess.Info().ImageInput: {
		Shape: []int64{int64(len(imgs)), 3, int64(h), int64(w)}, Data: data}}, names...)
	if err != nil {
		return nil, fmt.Errorf("inception: %w", err)
	}
	res := make([]Output, len(imgs))
	if logits, ok := out["logits"]; ok {
		k := int(logits.Shape[1])
		if c.Classes == nil {
			for i := 0; i < k; i++ {
				c.Classes = append(c.Classes, fmt.Sprintf("class%d", i))
			}
		}
		if k != len(c.Classes) {
			return nil, fmt.Errorf("inception: %s gives %d logits for %d classes", c.sess.Info().Path, k, len(c.Classes))
		}
		for i := range res {
			res[i].Logits = logits.Data[i*k : (i+1)*k]
		}
	}
	if f, ok := out["features"]; ok {
		d := int(f.Shape[1])
		for i := range res {
			res[i].Features = f.Data[i*d : (i+1)*d]
		}
	}
	if f, ok := out[OutputSpatial]; ok {
		d := int(f.Shape[1])
		for i := range res {
			res[i].Spatial = f.Data[i*d : (i+1)*d : (i+1)*d]
		}
	}
	for i, o := range res {
		if !finite(o.Logits) || !finite(o.Features) || !finite(o.Spatial) {
			return nil, fmt.Errorf("inception: %s gives a non-finite output for image %d of the batch", c.sess.Info().Path, i)
		}
	}
	return res, nil
}

func finite(x []float32) bool {
	for _, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}

// Runner classifies image files with the batch engine (package batch):
// every file is read once and hashed as it is read (a store sample whose
// bytes differ from its manifest's SHA-256 is refused, naming the file),
// decoded and resized beside the network, and classified once per content:
// a memory cache serves images that recur across the calls of every Runner
// on one Classifier (the IS/CIS logits and the FID/KID features of one
// sample come from one network run), and a disk
// cache serves later runs, one append-only file per model
// (CacheDir/<model-sha256>.outputs, see outputCache) holding each image's K
// logits and D features under the hash of its bytes.
type Runner struct {
	c *Classifier
	// CacheDir is the cache root ("" disables it).
	CacheDir string
	// Batch is the number of images per network run (default 16).
	Batch int
	// Bar, when not nil, counts classified images.
	Bar *progress.Bar
	// MemoryBytes bounds the memory cache (default 256 MiB, about 30,000
	// images' outputs for an Inception-v3 with features).
	MemoryBytes int64
	// Computed and Reused count images run through the network and found in
	// a cache.
	Computed, Reused int
	// Trust serves an item with a recorded SHA-256 from the cache without
	// reading its file (batch.Engine.Trust: the scoring step of a sharded
	// run).
	Trust bool
	// Warnings collects, once each, what did not stop a run but should be
	// shown with its result (a cache that could not be written). Read them
	// between calls.
	Warnings []string
}

// NewRunner returns a Runner for c with the disk cache under cacheDir.
func NewRunner(c *Classifier, cacheDir string) *Runner {
	return &Runner{c: c, CacheDir: cacheDir, Batch: 16, MemoryBytes: 256 << 20}
}

// Classifier returns the runner's model.
func (r *Runner) Classifier() *Classifier { return r.c }

// network adapts a Classifier to the batch engine.
type network struct{ c *Classifier }

func (n network) Run(imgs []*images.Image) ([]Output, error) { return n.c.Classify(imgs) }

// Run returns the outputs for refs, in order. A ref's SHA256, when set, is
// verified against the file's bytes. Images the caches hold are read from
// them; the others are decoded and resized on other goroutines, a few
// batches ahead of the network, and their outputs written to the cache as
// they come. A batch of mixed sizes runs as one network run per size (the
// classifier resizes inside its graph).
func (r *Runner) Run(ctx context.Context, refs []images.Ref) ([]Output, error) {
	return r.RunItems(ctx, batch.Items(refs))
}

// RunItems is Run on batch items, whose Hint ends the error for a file
// that fails its check (a store's samples: rerun translate).
func (r *Runner) RunItems(ctx context.Context, items []batch.Item) (_ []Output, err error) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if r.c.eng == nil {
		r.c.eng = &batch.Engine[Output]{Name: "inception", Net: network{r.c},
			Sizer: func(o Output) int64 { return int64(4 * (len(o.Logits) + len(o.Features) + len(o.Spatial))) },
			Same: func(c, f Output) bool {
				return batch.SameFloats(c.Logits, f.Logits) && batch.SameFloats(c.Features, f.Features) && batch.SameFloats(c.Spatial, f.Spatial)
			}}
	}
	eng := r.c.eng
	eng.Batch, eng.MemoryBytes, eng.Trust = r.Batch, r.MemoryBytes, r.Trust
	eng.Computed, eng.Reused, eng.Warnings = r.Computed, r.Reused, nil
	var cache *outputCache
	if r.CacheDir != "" && len(r.c.Classes) > 0 {
		cache, err = openOutputCache(r.CacheDir, r.c.SHA256(), len(r.c.Classes), r.c.FeatureDim, r.c.SpatialDim)
		if err != nil {
			r.warn(fmt.Sprintf("inception: opening the cache failed (%v): continuing without it; use --no-cache to skip the cache", err))
			cache = nil
		} else {
			defer cache.close()
		}
	}
	var c batch.Cache[Output]
	if cache != nil {
		c = cache
	}
	out := make([]Output, len(items))
	err = eng.Stream(ctx, items, c, r.Bar, func(i int, res batch.Result[Output]) error {
		out[i] = res.Value
		return nil
	})
	r.Computed, r.Reused = eng.Computed, eng.Reused
	for _, w := range eng.Warnings {
		r.warn(w)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// warn records a warning once.
func (r *Runner) warn(w string) {
	for _, old := range r.Warnings {
		if old == w {
			return
		}
	}
	r.Warnings = append(r.Warnings, w)
}

// Features returns the feature vectors of outputs in float64, for FID and KID.
func Features(outs []Output) ([][]float64, error) { return OutputRows(outs, OutputFeatures) }

// OutputRows returns the named feature output (OutputFeatures or
// OutputSpatial) of outputs in float64.
func OutputRows(outs []Output, name string) ([][]float64, error) {
	f := make([][]float64, len(outs))
	for i, o := range outs {
		x := o.Features
		if name == OutputSpatial {
			x = o.Spatial
		}
		if len(x) == 0 {
			return nil, fmt.Errorf("inception: the model has no %q output (export it with %s)", name, name)
		}
		f[i] = make([]float64, len(x))
		for j, v := range x {
			f[i][j] = float64(v)
		}
	}
	return f, nil
}
