// Package inception runs a classifier model (DESIGN.md §2: `logits` [N,K],
// optional `features` [N,D]) over images in batches and turns its outputs
// into what the score metrics take: per-sample logits for IS and CIS, pool
// features for FID and KID. Logits and features are cached on disk per
// (classifier SHA-256, image SHA-256), so no image is classified twice.
//
// Softmax and everything after it is float64 math in package metrics.
package inception

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/progress"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/translate"
)

// Classifier is an open classifier model.
type Classifier struct {
	sess *model.Session
	// Classes are the class names (munit_eval.classes), or class0..classK-1.
	Classes []string
	// FeatureDim is D of the `features` output (0 when the model has none).
	FeatureDim int
}

// Open opens a classifier model and checks its contract.
func Open(path string, opts model.Options) (*Classifier, error) {
	opts.Role = model.RoleClassifier
	s, err := model.Open(path, opts)
	if err != nil {
		return nil, fmt.Errorf("inception: %w", err)
	}
	info := s.Info()
	if p := model.Check(info, model.RoleClassifier); len(p) > 0 {
		s.Close()
		return nil, fmt.Errorf("inception: %s does not fit the classifier contract: %s", path, p[0])
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
	return c, nil
}

// Info describes the model file.
func (c *Classifier) Info() *model.Info { return c.sess.Info() }

// SHA256 is the model file's hash, the key of its cache.
func (c *Classifier) SHA256() string { return c.sess.Info().SHA256 }

// HasFeatures reports whether the model has a `features` output.
func (c *Classifier) HasFeatures() bool {
	_, ok := c.sess.Info().Output("features")
	return ok
}

// Close releases the session.
func (c *Classifier) Close() error { return c.sess.Close() }

// Output is the classifier's output for one image.
type Output struct {
	Logits   []float32
	Features []float32
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
	names := []string{"logits"}
	if c.HasFeatures() {
		names = append(names, "features")
	}
	out, err := c.sess.Run(map[string]model.Tensor{c.sess.Info().ImageInput: {
		Shape: []int64{int64(len(imgs)), 3, int64(h), int64(w)}, Data: data}}, names...)
	if err != nil {
		return nil, fmt.Errorf("inception: %w", err)
	}
	logits := out["logits"]
	k := int(logits.Shape[1])
	if c.Classes == nil {
		for i := 0; i < k; i++ {
			c.Classes = append(c.Classes, fmt.Sprintf("class%d", i))
		}
	}
	if k != len(c.Classes) {
		return nil, fmt.Errorf("inception: %s gives %d logits for %d classes", c.sess.Info().Path, k, len(c.Classes))
	}
	res := make([]Output, len(imgs))
	for i := range res {
		res[i].Logits = logits.Data[i*k : (i+1)*k]
	}
	if f, ok := out["features"]; ok {
		d := int(f.Shape[1])
		for i := range res {
			res[i].Features = f.Data[i*d : (i+1)*d]
		}
	}
	for i, o := range res {
		if !finite(o.Logits) || !finite(o.Features) {
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

// Runner classifies image files in batches through a disk cache, one
// append-only file per model (CacheDir/<model-sha256>.outputs, see
// outputLog) holding each image's K logits and D features.
type Runner struct {
	c *Classifier
	// CacheDir is the cache root ("" disables it).
	CacheDir string
	// Batch is the number of images per network run (default 16).
	Batch int
	// Bar, when not nil, counts classified images.
	Bar *progress.Bar
	// Computed and Reused count images run through the network and found in the cache.
	Computed, Reused int
}

// NewRunner returns a Runner for c with the disk cache under cacheDir.
func NewRunner(c *Classifier, cacheDir string) *Runner {
	return &Runner{c: c, CacheDir: cacheDir, Batch: 16}
}

// Classifier returns the runner's model.
func (r *Runner) Classifier() *Classifier { return r.c }

// Run returns the outputs for refs, in order. Images the cache holds are
// read from it; the others are decoded by a loader goroutine (one batch
// ahead, the batch's images decoded in parallel) while the network runs the
// batch before, and the outputs are written to the cache as they come.
func (r *Runner) Run(ctx context.Context, refs []images.Ref) (_ []Output, err error) {
	var cache *outputLog
	if r.CacheDir != "" && len(r.c.Classes) > 0 {
		if cache, err = openLog(r.CacheDir, r.c.SHA256(), len(r.c.Classes), r.c.FeatureDim); err != nil {
			return nil, err
		}
		defer func() {
			if cerr := cache.close(); err == nil {
				err = cerr
			}
		}()
	}
	out := make([]Output, len(refs))
	var todo []int
	for i := range refs {
		if err := refs[i].Hash(); err != nil {
			return nil, fmt.Errorf("inception: %w", err)
		}
		if cache == nil {
			todo = append(todo, i)
			continue
		}
		if o, ok := cache.get(refs[i].CacheKey()); ok {
			out[i] = o
			r.Reused++
			r.Bar.Add(1)
			continue
		}
		todo = append(todo, i)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := r.load(ctx, refs, todo)
	for b := range batches {
		if b.err != nil {
			return nil, b.err
		}
		// One batch is one tensor: a folder of mixed sizes is run image by
		// image (the classifier resizes inside its graph).
		var res []Output
		if sameSize(b.imgs) {
			var err error
			if res, err = r.c.Classify(b.imgs); err != nil {
				return nil, fmt.Errorf("%w (images %s ...)", err, refs[b.idx[0]].Path)
			}
		} else {
			for j, img := range b.imgs {
				one, err := r.c.Classify([]*images.Image{img})
				if err != nil {
					return nil, fmt.Errorf("%w (image %s)", err, refs[b.idx[j]].Path)
				}
				res = append(res, one[0])
			}
		}
		for j, i := range b.idx {
			out[i] = res[j]
			if cache != nil {
				if err := cache.add(refs[i].CacheKey(), res[j]); err != nil {
					return nil, err
				}
			}
		}
		if cache != nil {
			if err := cache.flush(); err != nil {
				return nil, err
			}
		}
		r.Computed += len(b.idx)
		r.Bar.Add(len(b.idx))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// loadedBatch is a batch of decoded images (refs[idx[j]] is imgs[j]) or the
// error that ends the run.
type loadedBatch struct {
	idx  []int
	imgs []*images.Image
	err  error
}

// load decodes refs[todo] in batches of r.Batch on a goroutine, one batch
// ahead of the network, decoding each batch's images on up to GOMAXPROCS
// goroutines. The channel closes after the last batch, the first error, or
// when ctx is done.
func (r *Runner) load(ctx context.Context, refs []images.Ref, todo []int) <-chan loadedBatch {
	ch := make(chan loadedBatch)
	batch := max(r.Batch, 1)
	go func() {
		defer close(ch)
		for start := 0; start < len(todo); start += batch {
			idx := todo[start:min(start+batch, len(todo))]
			b := loadedBatch{idx: idx, imgs: make([]*images.Image, len(idx))}
			errs := make([]error, len(idx))
			var wg sync.WaitGroup
			sem := make(chan struct{}, runtime.GOMAXPROCS(0))
			for j, i := range idx {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer func() { <-sem; wg.Done() }()
					img, err := refs[i].Load()
					if err != nil {
						errs[j] = fmt.Errorf("inception: %w", err)
						return
					}
					b.imgs[j] = img
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					b.err = err
					break
				}
			}
			select {
			case ch <- b:
			case <-ctx.Done():
				return
			}
			if b.err != nil || ctx.Err() != nil {
				return
			}
		}
	}()
	return ch
}

func sameSize(imgs []*images.Image) bool {
	for _, m := range imgs[1:] {
		if m.W != imgs[0].W || m.H != imgs[0].H {
			return false
		}
	}
	return true
}

// StoreOutputs classifies the first m inputs x k samples of a store; the
// result is indexed [input][sample].
func StoreOutputs(ctx context.Context, r *Runner, st *translate.Store, m, k int) ([][]Output, error) {
	if st.SamplesPerInput() < k {
		return nil, fmt.Errorf("inception: %s holds %d samples per input, %d needed", st.Dir(), st.SamplesPerInput(), k)
	}
	if st.NumInputs() < m {
		return nil, fmt.Errorf("inception: %s holds %d inputs, %d needed", st.Dir(), st.NumInputs(), m)
	}
	refs := make([]images.Ref, 0, m*k)
	for i := 0; i < m; i++ {
		for s := 0; s < k; s++ {
			refs = append(refs, images.Ref{Path: st.SamplePath(i, s), SHA256: st.SampleSHA256(i, s)})
		}
	}
	flat, err := r.Run(ctx, refs)
	if err != nil {
		return nil, err
	}
	out := make([][]Output, m)
	for i := range out {
		out[i] = flat[i*k : (i+1)*k]
	}
	return out, nil
}

// Logits flattens outputs [M][K] into the C-order [M, K, C] logits array
// metrics.ProbsFromLogits takes.
func Logits(outs [][]Output) []float32 {
	var v []float32
	for _, row := range outs {
		for _, o := range row {
			v = append(v, o.Logits...)
		}
	}
	return v
}

// Features returns the feature vectors of outputs in float64, for FID and KID.
func Features(outs []Output) ([][]float64, error) {
	f := make([][]float64, len(outs))
	for i, o := range outs {
		if len(o.Features) == 0 {
			return nil, errors.New("inception: the classifier has no features output (FID and KID need one: export it with `features`)")
		}
		f[i] = make([]float64, len(o.Features))
		for j, v := range o.Features {
			f[i][j] = float64(v)
		}
	}
	return f, nil
}

// StoreFeatures returns the pool features of the first m inputs x k samples
// of a store (x, input-major) and of the real images (y, each resized to
// size when size > 0), through r and its cache: what FID and KID compare.
// It finishes r.Bar.
func StoreFeatures(ctx context.Context, r *Runner, st *translate.Store, m, k int, real []images.File, size int) (x, y [][]float64, err error) {
	defer r.Bar.Finish()
	outs, err := StoreOutputs(ctx, r, st, m, k)
	if err != nil {
		return nil, nil, err
	}
	refs := make([]images.Ref, len(real))
	for i, f := range real {
		refs[i] = images.Ref{Path: f.Path, Size: size}
	}
	realOuts, err := r.Run(ctx, refs)
	if err != nil {
		return nil, nil, err
	}
	flat := make([]Output, 0, m*k)
	for _, row := range outs {
		flat = append(flat, row...)
	}
	if x, err = Features(flat); err != nil {
		return nil, nil, err
	}
	if y, err = Features(realOuts); err != nil {
		return nil, nil, err
	}
	return x, y, nil
}
