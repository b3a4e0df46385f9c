package translate

// Executing the planned work: batching, the network pipeline, the PNG writers.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/atomicfile"
	"github.com/munit-eval/munit-eval/internal/progress"
	"github.com/munit-eval/munit-eval/model"
)

// unit is one network forward pass: sample(s) ks of input i. A stochastic
// generator (style or noise inputs) has one k per unit; a deterministic one
// computes an input once for all its pending samples (copies, with Repeat).
type unit struct {
	input  int
	ks     []int
	latent []float32
}

// batch is up to Config.batchFor units of the same image size.
type batch struct {
	units []unit
	h, w  int
}

// plan lists the pending work in (input, k) order, cut into batches.
func (r *runner) plan() []batch {
	var units []unit
	for i := range r.inputs {
		if !r.shard.Owns(i) {
			continue
		}
		var ks []int
		for k := 0; k < r.k; k++ {
			if r.done[i*r.k+k] == nil {
				ks = append(ks, k)
			}
		}
		if len(ks) == 0 {
			continue
		}
		if r.man.LatentSource == LatentsNone && len(r.man.Noise) == 0 {
			units = append(units, unit{input: i, ks: ks})
			continue
		}
		for _, k := range ks {
			units = append(units, unit{input: i, ks: []int{k}, latent: r.latentOf(i, k)})
		}
	}
	var out []batch
	for _, u := range units {
		in := r.inputs[u.input]
		if n := len(out); n == 0 || len(out[n-1].units) >= r.cfg.batchFor(in.h, in.w) || out[n-1].h != in.h || out[n-1].w != in.w {
			out = append(out, batch{h: in.h, w: in.w})
		}
		b := &out[len(out)-1]
		b.units = append(b.units, u)
	}
	return out
}

// writeJob turns one output (or one pre-generated file) into sample files.
type writeJob struct {
	u      unit
	chw    []float32
	h, w   int
	src    string // pre-generated: file relative to FromFolder
	srcSHA string
}

// result is a finished writeJob.
type result struct {
	u      unit
	sha    string
	src    string
	srcSHA string
	err    error
}

// generate computes every pending sample.
func (r *runner) generate(ctx context.Context) error {
	done, total := r.countDone()
	pending := total - done
	if pending == 0 {
		return nil
	}
	for i, in := range r.inputs {
		if !r.shard.Owns(i) {
			continue
		}
		if err := os.MkdirAll(filepath.Join(r.dir, in.rec.Stem), 0o755); err != nil {
			return fmt.Errorf("creating the store: %w", err)
		}
	}
	bar := progress.New(pending, "translate "+r.man.Method, r.cfg.Quiet)
	defer bar.Finish()

	ictx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan writeJob, 2*r.cfg.Batch)
	results := make(chan result, 2*r.cfg.Batch)

	var writers sync.WaitGroup
	for w := 0; w < max(runtime.GOMAXPROCS(0), 1); w++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for j := range jobs {
				results <- r.write(j)
			}
		}()
	}
	collected := make(chan error, 1)
	go func() { collected <- r.collect(results, bar, cancel) }()

	var err error
	if r.scan != nil {
		err = r.feedFolder(ictx, jobs)
	} else {
		err = r.feedGenerator(ictx, jobs)
	}
	close(jobs)
	writers.Wait()
	close(results)
	if cerr := <-collected; err == nil {
		err = cerr
	}
	if werr := r.writeManifest(); err == nil {
		err = werr
	}
	if err == nil {
		err = context.Cause(ictx)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
	}
	return err
}

// collect records finished samples, advances the bar and rewrites the
// manifest at most every Config.manifestEvery. A failed write cancels the
// run through cancel.
func (r *runner) collect(results <-chan result, bar *progress.Bar, cancel context.CancelCauseFunc) error {
	var first error
	last := time.Now()
	for res := range results {
		if res.err != nil {
			if first == nil {
				first = res.err
				cancel(res.err)
			}
			continue
		}
		for _, k := range res.u.ks {
			r.done[res.u.input*r.k+k] = &Sample{Input: res.u.input, K: k, Latent: res.u.latent, SHA256: res.sha, Source: res.src, SourceSHA256: res.srcSHA, Reference: r.referenceOf(res.u.input, k)}
			r.unsynced = append(r.unsynced, samplePath(r.dir, r.inputs[res.u.input].rec.Stem, k))
		}
		r.computed += len(res.u.ks)
		bar.Add(len(res.u.ks))
		if time.Since(last) >= r.cfg.manifestEvery {
			if err := r.writeManifest(); err != nil && first == nil {
				first = err
				cancel(err)
			}
			last = time.Now()
		}
	}
	return first
}

// write encodes one output (or re-encodes one pre-generated file) as PNG,
// hashes it and writes it atomically to every sample path of its unit.
func (r *runner) write(j writeJob) result {
	res := result{u: j.u, src: j.src}
	in := r.inputs[j.u.input]
	var img *images.Image
	if j.src != "" {
		path := filepath.Join(r.cfg.FromFolder, filepath.FromSlash(j.src))
		b, err := os.ReadFile(path)
		if err != nil {
			res.err = fmt.Errorf("pre-generated sample: %w", err)
			return res
		}
		res.srcSHA = images.HashBytes(b)
		if img, err = images.Decode(bytes.NewReader(b), path); err != nil {
			res.err = fmt.Errorf("pre-generated sample: %w", err)
			return res
		}
	} else {
		var err error
		if img, err = images.FromTensor(j.chw, j.h, j.w); err != nil {
			res.err = fmt.Errorf("input %s, sample %d: %w", in.rec.File, j.u.ks[0], err)
			return res
		}
	}
	var buf bytes.Buffer
	if err := images.EncodePNG(&buf, img); err != nil {
		res.err = fmt.Errorf("input %s, sample %d: encoding PNG: %w", in.rec.File, j.u.ks[0], err)
		return res
	}
	res.sha = images.HashBytes(buf.Bytes())
	for _, k := range j.u.ks {
		// Atomic, flushed later by writeManifest.
		err := atomicfile.WriteCacheFunc(samplePath(r.dir, in.rec.Stem, k), 0o644, func(w io.Writer) error {
			_, err := w.Write(buf.Bytes())
			return err
		})
		if err != nil {
			res.err = err
			return res
		}
	}
	return res
}

// feedFolder queues every pending pre-generated sample.
func (r *runner) feedFolder(ctx context.Context, jobs chan<- writeJob) error {
	for i := range r.inputs {
		if !r.shard.Owns(i) {
			continue
		}
		for k := 0; k < r.k; k++ {
			if r.done[i*r.k+k] != nil {
				continue
			}
			select {
			case <-ctx.Done():
				return nil
			case jobs <- writeJob{u: unit{input: i, ks: []int{k}}, src: r.scan.sources[i][k]}:
			}
		}
	}
	return nil
}

// prepared is a batch ready for the network.
type prepared struct {
	b *batch
	// uniq are the batch's distinct inputs in order, imgs their images
	// [len(uniq),3,h,w].
	uniq []int
	imgs model.Tensor
	// latents are the units' codes, row-major [n,S] (nil: deterministic).
	latents []float32
	// noise holds the noise inputs by name, [n,C,h/S,w/S] each, every row
	// drawn from its own sample's stream (nil: none).
	noise map[string]model.Tensor
	err   error
}

// feedGenerator runs the network over the planned batches: a goroutine
// prepares the next batch (decode, resize, tensor) while r.streams workers
// run the network on the batches before it; outputs are checked (shape,
// NaN/Inf) and queued for the writers. It stops before the next batch when
// ctx is done or a batch failed.
func (r *runner) feedGenerator(ctx context.Context, jobs chan<- writeJob) error {
	batches := r.plan()
	prep := make(chan prepared, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(prep)
		cache := map[int]*images.Image{}
		for bi := range batches {
			p := r.prepare(&batches[bi], cache)
			select {
			case prep <- p:
			case <-stop:
				return
			}
			if p.err != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
	}()

	// Streams of generator runs at once (Config.Streams): onnxruntime runs
	// some operators on one thread, so two runs keep both cores busy where
	// one leaves a core idle. Each sample depends only on its own inputs,
	// so the order in which batches finish changes nothing.
	wctx, stopWork := context.WithCancelCause(ctx)
	defer stopWork(nil)
	work := make(chan netJob)
	var workers sync.WaitGroup
	for range r.streams {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range work {
				if err := r.runBatch(j, jobs); err != nil {
					stopWork(err)
					for range work { // drain: the feeder stops at its next send
					}
					return
				}
			}
		}()
	}
	workersDone := false
	wait := func() error {
		if !workersDone {
			close(work)
			workers.Wait()
			workersDone = true
		}
		if err := context.Cause(wctx); err != nil && ctx.Err() == nil {
			return err
		}
		return nil
	}
	defer wait()

	// contents caches the conditioning rows (content codes, or images) of
	// inputs whose samples span several batches.
	contents := map[int][]float32{}
	var rowShape []int64
	for p := range prep {
		if p.err != nil {
			return p.err // the deferred wait lets the batches in flight finish
		}
		if wctx.Err() != nil {
			return wait()
		}
		b := p.b
		first := b.units[0].input
		for i := range contents {
			if i < first {
				delete(contents, i)
			}
		}
		// Condition the inputs not cached yet.
		var need []int
		for j, i := range p.uniq {
			if _, ok := contents[i]; !ok {
				need = append(need, j)
			}
		}
		if len(need) > 0 {
			per := len(p.imgs.Data) / len(p.uniq)
			sub := model.Tensor{Shape: append([]int64{int64(len(need))}, p.imgs.Shape[1:]...), Data: make([]float32, 0, per*len(need))}
			for _, j := range need {
				sub.Data = append(sub.Data, p.imgs.Data[j*per:(j+1)*per]...)
			}
			cond, err := r.gen.condition(sub)
			if err != nil {
				return fmt.Errorf("conditioning %s: %w%s", r.inputs[p.uniq[need[0]]].rec.File, err, sizeHint(err))
			}
			cper := len(cond.Data) / len(need)
			for n, j := range need {
				contents[p.uniq[j]] = cond.Data[n*cper : (n+1)*cper]
			}
			rowShape = cond.Shape[1:]
		}
		n := len(b.units)
		cond := model.Tensor{Shape: append([]int64{int64(n)}, rowShape...)}
		for _, u := range b.units {
			cond.Data = append(cond.Data, contents[u.input]...)
		}
		select {
		case work <- netJob{p: p, cond: cond}:
		case <-wctx.Done():
			return wait()
		}
	}
	return wait()
}

// netJob is one batch ready for the generator: its conditioning rows.
type netJob struct {
	p    prepared
	cond model.Tensor
}

// runBatch runs the generator on one batch, checks its outputs and queues
// them for the writers.
func (r *runner) runBatch(j netJob, jobs chan<- writeJob) error {
	b := j.p.b
	out, err := r.gen.translate(j.cond, j.p.latents, j.p.noise)
	if err != nil {
		return fmt.Errorf("running the generator on %s: %w%s", r.inputs[b.units[0].input].rec.File, err, sizeHint(err))
	}
	if err := r.checkOutput(b, out); err != nil {
		return err
	}
	h, w := int(out.Shape[2]), int(out.Shape[3])
	per := 3 * h * w
	for i, u := range b.units {
		chw := out.Data[i*per : (i+1)*per]
		if r.cfg.observe != nil {
			r.observeMu.Lock()
			for _, k := range u.ks {
				r.cfg.observe(u.input, k, chw, h, w)
			}
			r.observeMu.Unlock()
		}
		jobs <- writeJob{u: u, chw: chw, h: h, w: w}
	}
	return nil
}

// sizeHint is the remedy for an image too small for the network.
func sizeHint(err error) string {
	var ts *model.TooSmallError
	if errors.As(err, &ts) && ts.Min > 0 {
		return fmt.Sprintf("; resize the inputs with --size %d or larger", ts.Min)
	}
	return ""
}

// prepare decodes (and resizes) the batch's inputs and builds its tensors.
// cache keeps decoded inputs whose samples continue into the next batch.
func (r *runner) prepare(b *batch, cache map[int]*images.Image) prepared {
	p := prepared{b: b}
	first := b.units[0].input
	for i := range cache {
		if i < first {
			delete(cache, i)
		}
	}
	var imgs []*images.Image
	for _, u := range b.units {
		if n := len(p.uniq); n > 0 && p.uniq[n-1] == u.input {
			continue
		}
		img, ok := cache[u.input]
		if !ok {
			in := r.inputs[u.input]
			var err error
			img, err = images.Load(in.path)
			if err != nil {
				p.err = fmt.Errorf("input %w", err)
				return p
			}
			if r.cfg.Size > 0 {
				img = images.ResizeCrop(img, r.cfg.Size)
			}
			if img.W != in.w || img.H != in.h {
				p.err = fmt.Errorf("input %s: decoded as %dx%d, expected %dx%d (changed during the run?)", in.path, img.W, img.H, in.w, in.h)
				return p
			}
			cache[u.input] = img
		}
		p.uniq = append(p.uniq, u.input)
		imgs = append(imgs, img)
	}
	p.imgs = model.Tensor{Shape: []int64{int64(len(imgs)), 3, int64(b.h), int64(b.w)}, Data: make([]float32, len(imgs)*3*b.h*b.w)}
	if err := images.ToTensor(imgs, p.imgs.Data); err != nil {
		p.err = fmt.Errorf("input %s: %w", r.inputs[first].rec.File, err)
		return p
	}
	for _, nz := range r.man.Noise {
		shape, err := nz.Shape(len(b.units), b.h, b.w)
		if err != nil {
			p.err = fmt.Errorf("input %s: %w", r.inputs[first].rec.File, err)
			return p
		}
		t := model.Tensor{Shape: shape, Data: make([]float32, shape[0]*shape[1]*shape[2]*shape[3])}
		per := len(t.Data) / len(b.units)
		for j, u := range b.units {
			fillNoise(t.Data[j*per:(j+1)*per], r.cfg.Seed, u.input, u.ks[0], nz)
		}
		if p.noise == nil {
			p.noise = map[string]model.Tensor{}
		}
		p.noise[nz.Input] = t
	}
	if r.man.LatentSource != LatentsNone {
		p.latents = make([]float32, 0, len(b.units)*r.man.LatentDim)
		for _, u := range b.units {
			p.latents = append(p.latents, u.latent...)
		}
	}
	return p
}

// checkOutput checks a batch output against the contract ([N,3,H,W]) and
// for NaN or Inf, naming the input file and sample.
func (r *runner) checkOutput(b *batch, out model.Tensor) error {
	n := len(b.units)
	s := out.Shape
	if len(s) != 4 || s[0] != int64(n) || s[1] != 3 || s[2] <= 0 || s[3] <= 0 || int64(len(out.Data)) != s[0]*s[1]*s[2]*s[3] {
		return fmt.Errorf("the generator's output for %s has shape %v (%d values) for a batch of %d, want [%d,3,H,W]",
			r.inputs[b.units[0].input].rec.File, s, len(out.Data), n, n)
	}
	per := len(out.Data) / n
	for j, u := range b.units {
		for x, v := range out.Data[j*per : (j+1)*per] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				c, h, w := unravel(x, int(s[2]), int(s[3]))
				return fmt.Errorf("the generator's output for input %s, sample %d is %v at channel %d, pixel (%d, %d)",
					r.inputs[u.input].path, u.ks[0], v, c, w, h)
			}
		}
	}
	return nil
}

func unravel(x, h, w int) (c, y, xx int) {
	return x / (h * w), (x / w) % h, x % w
}

// parallel calls f(0..n-1) on GOMAXPROCS goroutines and returns the first
// error.
func parallel(n int, f func(i int) error) error {
	workers := min(max(runtime.GOMAXPROCS(0), 1), n)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  int
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= n || first != nil {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return first
}
