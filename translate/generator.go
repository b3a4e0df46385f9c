package translate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/munit-eval/munit-eval/model"
)

// generator is what Run needs from a network, the single graph or the
// two-stage form; tests substitute a fake.
type generator interface {
	// spec describes the generator.
	spec() genSpec
	// condition turns a batch of distinct input images [n,3,h,w] into their
	// conditioning [n,...]: the images themselves for a single graph, the
	// content codes for the two-stage form.
	condition(imgs model.Tensor) (model.Tensor, error)
	// translate runs the generator on conditionings [N,...] and, for a
	// stochastic generator, latent codes (N*S values, row-major) and the
	// noise inputs by name ([N,C,H/S,W/S] each); it returns the translated
	// images [N,3,H',W'].
	translate(cond model.Tensor, latents []float32, noise map[string]model.Tensor) (model.Tensor, error)
	close() error
}

// genSpec is what Run needs to know about a generator.
type genSpec struct {
	method    string
	models    map[string]FileRef
	latentDim int // 0: no style input
	// noise are the generator's (or decoder's) noise inputs.
	noise []model.NoiseInput
	// fixedH, fixedW are the image sizes the model requires (0: any).
	fixedH, fixedW int
	// hwMultiple, when > 1, is the munit_eval.hw_multiple metadata: image
	// sides must be multiples of it.
	hwMultiple int
	// rewrites counts the exact graph rewrites (package rewrite) applied to
	// the generator's sessions: rewritten and unrewritten graphs may round
	// a pixel differently, so it is part of a run's identity.
	rewrites   int
	ortVersion string
}

// onnxGenerator runs ONNX models through package model.
type onnxGenerator struct {
	s genSpec
	// enc is the content encoder (two-stage form) or nil; gen the generator
	// or the decoder.
	enc, gen          *model.Session
	encImage, encOut  string
	condInput, latent string
	latentRank4       bool
	translatedOut     string
	// mapping turns the drawn latents into style codes (StarGAN v2), with
	// the one-hot target domain when it has a domain input.
	mapping           *model.Session
	mapLatent, mapOut string
	mapDomain         []float32
	mapDomainName     string
	styleDim          int
}

// openGenerator opens the generator (or content encoder and decoder) of
// cfg and checks them against the contracts of docs/models.md.
func openGenerator(cfg *Config) (*onnxGenerator, error) {
	_, threads := cfg.parallelism()
	opts := model.Options{Threads: threads, Device: cfg.Device}
	g := &onnxGenerator{s: genSpec{models: map[string]FileRef{}}}
	if cfg.Decoder == "" {
		opts.Role = model.RoleGenerator
		s, err := openChecked(cfg.Generator, opts)
		if err != nil {
			return nil, err
		}
		g.gen = s
		info := s.Info()
		g.condInput = info.ImageInput
		g.s.models[ModelGenerator] = FileRef{File: cfg.Generator, SHA256: info.SHA256}
	} else {
		// Both at once: opening parses, rewrites and optimises each graph
		// on one core (about a second for the paper-config MUNIT).
		encOpts, decOpts := opts, opts
		encOpts.Role, decOpts.Role = model.RoleContentEncoder, model.RoleDecoder
		var enc *model.Session
		var encErr error
		opened := make(chan struct{})
		go func() {
			defer close(opened)
			enc, encErr = openChecked(cfg.Generator, encOpts)
		}()
		dec, err := openChecked(cfg.Decoder, decOpts)
		<-opened
		if encErr != nil {
			err = encErr // the encoder's problem first, as the inputs meet it first
		}
		if err != nil {
			for _, s := range []*model.Session{enc, dec} {
				if s != nil {
					s.Close()
				}
			}
			return nil, err
		}
		g.enc, g.gen = enc, dec
		ei := enc.Info()
		g.encImage = ei.ImageInput
		g.encOut = "content"
		if _, ok := ei.Output("content"); !ok {
			g.encOut = ei.Outputs[0].Name
		}
		g.condInput = "content"
		g.s.models[ModelContentEncoder] = FileRef{File: cfg.Generator, SHA256: ei.SHA256}
		g.s.models[ModelDecoder] = FileRef{File: cfg.Decoder, SHA256: dec.Info().SHA256}
	}
	info := g.gen.Info()
	g.latent, g.latentRank4 = info.LatentInput, info.LatentRank4
	g.translatedOut = "translated"
	if _, ok := info.Output("translated"); !ok {
		g.translatedOut = info.Outputs[0].Name
	}
	g.s.method = info.Method
	g.s.noise = info.Noise
	imgInfo := info
	if g.enc != nil {
		imgInfo = g.enc.Info()
		if g.s.method == "" {
			g.s.method = imgInfo.Method
		}
	}
	if g.latent != "" {
		g.s.latentDim = info.LatentDim
		if g.s.latentDim <= 0 {
			g.close()
			return nil, fmt.Errorf("%s: latent input %q has no fixed size and no %s metadata", info.Path, g.latent, model.MetaLatentDim)
		}
	}
	if t, ok := imgInfo.Input(imgInfo.ImageInput); ok && len(t.Shape) == 4 {
		g.s.fixedH, g.s.fixedW = int(max(t.Shape[2], 0)), int(max(t.Shape[3], 0))
	}
	for _, in := range []*model.Info{imgInfo, info} {
		if v, err := strconv.Atoi(in.Metadata[model.MetaHWMultiple]); err == nil && v > g.s.hwMultiple {
			g.s.hwMultiple = v
		}
	}
	g.s.rewrites = len(g.gen.Rewrites())
	if g.enc != nil {
		g.s.rewrites += len(g.enc.Rewrites())
	}
	g.s.ortVersion = model.ORTVersion()
	if cfg.Mapping != "" {
		if err := g.openMapping(cfg, opts); err != nil {
			g.close()
			return nil, err
		}
	}
	return g, nil
}

// openMapping opens the mapping network of cfg: the run's latents become
// its latent input, its style output the generator's style input.
func (g *onnxGenerator) openMapping(cfg *Config, opts model.Options) error {
	if g.latent == "" {
		return fmt.Errorf("--mapping %s: the generator %s has no style input to take its codes", cfg.Mapping, cfg.Generator)
	}
	opts.Role = model.RoleMapping
	s, err := openChecked(cfg.Mapping, opts)
	if err != nil {
		return err
	}
	g.mapping = s
	info := s.Info()
	g.mapLatent, g.mapOut = info.LatentInput, "style"
	if _, ok := info.Output("style"); !ok {
		g.mapOut = info.Outputs[0].Name
	}
	if out, _ := info.Output(g.mapOut); len(out.Shape) == 2 && out.Shape[1] > 0 && int(out.Shape[1]) != g.s.latentDim {
		return fmt.Errorf("--mapping %s gives style codes of %d values, but the generator takes %s", cfg.Mapping, out.Shape[1], dimText(g.s.latentDim))
	}
	if info.LatentDim <= 0 {
		return fmt.Errorf("%s: latent input %q has no fixed size and no %s metadata", cfg.Mapping, g.mapLatent, model.MetaLatentDim)
	}
	if _, ok := info.Input(model.DomainInput); ok {
		names := model.Domains(info)
		idx, err := ResolveDomain(names, cfg.TargetDomain, cfg.Mapping)
		if err != nil {
			return err
		}
		g.mapDomain = make([]float32, len(names))
		g.mapDomain[idx] = 1
		g.mapDomainName = names[idx]
	} else if cfg.TargetDomain != "" {
		return fmt.Errorf("--target-domain %s: the mapping network %s has one domain (no %q input)", cfg.TargetDomain, cfg.Mapping, model.DomainInput)
	}
	g.styleDim = g.s.latentDim
	g.s.latentDim = info.LatentDim
	g.s.models[ModelMapping] = FileRef{File: cfg.Mapping, SHA256: info.SHA256}
	return nil
}

// mapLatents runs the mapping network on n latent codes.
func (g *onnxGenerator) mapLatents(latents []float32, n int64) ([]float32, error) {
	in := map[string]model.Tensor{g.mapLatent: {Shape: []int64{n, int64(g.s.latentDim)}, Data: latents}}
	if g.mapDomain != nil {
		d := make([]float32, 0, int(n)*len(g.mapDomain))
		for range n {
			d = append(d, g.mapDomain...)
		}
		in[model.DomainInput] = model.Tensor{Shape: []int64{n, int64(len(g.mapDomain))}, Data: d}
	}
	out, err := g.mapping.Run(in, g.mapOut)
	if err != nil {
		return nil, err
	}
	if s := out[g.mapOut].Data; len(s) == int(n)*g.styleDim {
		return s, nil
	}
	return nil, fmt.Errorf("mapping output %q has shape %v for %d codes, want [%d,%d]", g.mapOut, out[g.mapOut].Shape, n, n, g.styleDim)
}

// openChecked opens a model and refuses it when it breaks the contract of
// opts.Role.
func openChecked(path string, opts model.Options) (*model.Session, error) {
	s, err := model.Open(path, opts)
	if err != nil {
		return nil, err
	}
	if p := model.Check(s.Info(), opts.Role); len(p) > 0 {
		s.Close()
		return nil, fmt.Errorf("%s does not fit the %s contract (see docs/models.md): %s", path, opts.Role, strings.Join(p, "; "))
	}
	return s, nil
}

func (g *onnxGenerator) spec() genSpec { return g.s }

func (g *onnxGenerator) condition(imgs model.Tensor) (model.Tensor, error) {
	if g.enc == nil {
		return imgs, nil
	}
	out, err := g.enc.Run(map[string]model.Tensor{g.encImage: imgs}, g.encOut)
	if err != nil {
		return model.Tensor{}, err
	}
	c := out[g.encOut]
	if len(c.Shape) == 0 || c.Shape[0] != imgs.Shape[0] {
		return model.Tensor{}, fmt.Errorf("content encoder output %q has shape %v for a batch of %d", g.encOut, c.Shape, imgs.Shape[0])
	}
	return c, nil
}

func (g *onnxGenerator) translate(cond model.Tensor, latents []float32, noise map[string]model.Tensor) (model.Tensor, error) {
	in := map[string]model.Tensor{g.condInput: cond}
	for name, t := range noise {
		in[name] = t
	}
	if g.latent != "" {
		n := cond.Shape[0]
		dim := g.s.latentDim
		if g.mapping != nil {
			var err error
			if latents, err = g.mapLatents(latents, n); err != nil {
				return model.Tensor{}, err
			}
			dim = g.styleDim
		}
		shape := []int64{n, int64(dim)}
		if g.latentRank4 {
			shape = append(shape, 1, 1)
		}
		in[g.latent] = model.Tensor{Shape: shape, Data: latents}
	}
	out, err := g.gen.Run(in, g.translatedOut)
	if err != nil {
		return model.Tensor{}, err
	}
	return out[g.translatedOut], nil
}

func (g *onnxGenerator) close() error {
	var err error
	if g.enc != nil {
		err = g.enc.Close()
	}
	for _, s := range []*model.Session{g.gen, g.mapping} {
		if s != nil {
			if e := s.Close(); err == nil {
				err = e
			}
		}
	}
	return err
}
