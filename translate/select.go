package translate

// Selecting the inputs, reading --latents, checking sizes, latent codes.

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig of input sizes
	_ "image/png"
	"math"
	"os"
	"slices"

	"github.com/munit-eval/munit-eval/images"
)

// selectInputs lists the input folder, picks the M inputs and hashes them.
// With first-M selection, a previous manifest of more inputs (prev, nil when
// none) raises M to its count, so a store never shrinks.
func (r *runner) selectInputs(prev *Manifest) error {
	cfg := &r.cfg
	files, err := images.ListDir(cfg.Inputs)
	if err != nil {
		return fmt.Errorf("inputs: %w", err)
	}
	r.allStems = map[string]bool{}
	for _, f := range files {
		r.allStems[f.Stem] = true
	}
	m := cfg.NumInputs
	if m == 0 {
		m = len(files)
	}
	if m > len(files) {
		return fmt.Errorf("--num-inputs %d: the input folder %s holds only %d images", m, cfg.Inputs, len(files))
	}
	if prev != nil && prev.Select == SelectFirst && cfg.Select == SelectFirst && cfg.FromFolder == "" && len(prev.Inputs) <= len(files) {
		m = max(m, len(prev.Inputs))
	}
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	if cfg.Select == SelectRandom {
		idx = selectRandom(cfg.Seed, len(files), m)
	}
	r.inputs = make([]inputFile, m)
	seen := map[string]string{}
	for i, j := range idx {
		f := files[j]
		if err := checkStem(f.Stem); err != nil {
			return fmt.Errorf("input %s: %w", f.Path, err)
		}
		if prev, dup := seen[f.Stem]; dup {
			return fmt.Errorf("inputs %s and %s share the stem %q, so their samples would share a folder; rename one", prev, f.Name, f.Stem)
		}
		seen[f.Stem] = f.Name
		r.inputs[i] = inputFile{path: f.Path, rec: Input{Index: i, Stem: f.Stem, File: f.Name}}
	}
	return parallel(len(r.inputs), func(i int) error {
		in := &r.inputs[i]
		b, err := os.ReadFile(in.path)
		if err != nil {
			return fmt.Errorf("input %w", err)
		}
		c, _, err := image.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("input %s: %w", in.path, err)
		}
		in.rec.SHA256 = images.HashBytes(b)
		in.rec.Width, in.rec.Height = c.Width, c.Height
		in.w, in.h = c.Width, c.Height
		if cfg.Size > 0 {
			in.w, in.h = cfg.Size, cfg.Size
		}
		return nil
	})
}

// readLatents reads and checks the latents file: [M,K,S], or [M,S] for K=1.
func (r *runner) readLatents() error {
	cfg := &r.cfg
	a, err := images.ReadNPY(cfg.Latents)
	if err != nil {
		return fmt.Errorf("--latents: %w", err)
	}
	m, s := len(r.inputs), r.spec.latentDim
	switch len(a.Shape) {
	case 2:
		a.Shape = []int{a.Shape[0], 1, a.Shape[1]}
	case 3:
	default:
		return fmt.Errorf("--latents %s: shape %v, want [M, K, S] = [%d, K, %d] (or [M, S] for one sample per input)", cfg.Latents, a.Shape, m, s)
	}
	switch {
	case a.Shape[0] != m:
		return fmt.Errorf("--latents %s: shape %v has %d rows, but there are %d inputs (want [%d, K, %d])", cfg.Latents, a.Shape, a.Shape[0], m, m, s)
	case a.Shape[2] != s:
		return fmt.Errorf("--latents %s: shape %v has latent size %d, but the generator's latent size is %d", cfg.Latents, a.Shape, a.Shape[2], s)
	case a.Shape[1] < 1:
		return fmt.Errorf("--latents %s: shape %v has no samples", cfg.Latents, a.Shape)
	case cfg.Samples != 0 && a.Shape[1] != cfg.Samples:
		return fmt.Errorf("--latents %s: shape %v holds %d samples per input, but --samples-per-input %d was asked", cfg.Latents, a.Shape, a.Shape[1], cfg.Samples)
	}
	for j, v := range a.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("--latents %s: value %d is %v", cfg.Latents, j, v)
		}
	}
	r.latents = a
	r.k = a.Shape[1]
	return nil
}

// checkSizes checks the inputs' sizes against what the generator accepts.
func (r *runner) checkSizes() error {
	sp := r.spec
	var bad []string
	for _, in := range r.inputs {
		switch {
		case sp.fixedH > 0 && in.h != sp.fixedH, sp.fixedW > 0 && in.w != sp.fixedW:
			bad = append(bad, fmt.Sprintf("%s is %dx%d", in.rec.File, in.w, in.h))
		case sp.hwMultiple > 1 && (in.h%sp.hwMultiple != 0 || in.w%sp.hwMultiple != 0):
			bad = append(bad, fmt.Sprintf("%s is %dx%d", in.rec.File, in.w, in.h))
		}
		for _, n := range sp.noise {
			if _, err := n.Shape(1, in.h, in.w); err != nil {
				return fmt.Errorf("input %s: %w; resize the inputs with --size N (N a multiple of %d)", in.rec.File, err, n.Stride)
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	resized := ""
	if r.cfg.Size > 0 {
		resized = fmt.Sprintf(" after --size %d", r.cfg.Size)
	}
	if sp.fixedH > 0 || sp.fixedW > 0 {
		hint := ""
		if sp.fixedH == sp.fixedW && r.cfg.Size == 0 {
			hint = fmt.Sprintf("; resize the inputs with --size %d", sp.fixedH)
		}
		return fmt.Errorf("the generator takes %s x %s images, but%s %s%s",
			dimText(sp.fixedW), dimText(sp.fixedH), resized, listSome(bad, 5), hint)
	}
	return fmt.Errorf("the generator takes images whose sides are multiples of %d (munit_eval.hw_multiple), but%s %s; resize the inputs with --size N (N a multiple of %d)",
		sp.hwMultiple, resized, listSome(bad, 5), sp.hwMultiple)
}

func dimText(d int) string {
	if d <= 0 {
		return "any"
	}
	return fmt.Sprint(d)
}

// latentOf returns the latent code of sample k of input i (nil when the
// generator is deterministic).
func (r *runner) latentOf(i, k int) []float32 {
	switch r.man.LatentSource {
	case LatentsSeed:
		return Latent(r.cfg.Seed, i, k, r.man.LatentDim)
	case LatentsFile:
		s := r.man.LatentDim
		off := (i*r.k + k) * s
		return slices.Clone(r.latents.Data[off : off+s])
	case LatentsReference:
		return slices.Clone(r.refs.styles[r.refs.assign[i*r.k+k]])
	}
	return nil
}
