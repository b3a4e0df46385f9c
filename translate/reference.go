package translate

// Reference-guided translation: the style code of sample k of input i is
// the style encoder's code of a reference image (docs/models.md, role
// style_encoder), instead of a latent drawn from the seed.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/model"
)

// Reference orders (Config.ReferenceOrder, ReferenceSet.Order).
const (
	// ReferenceRandom gives each input its own seeded shuffle of the
	// references: sample k uses the k-th reference of the shuffle, so the
	// samples of one input use distinct references, and sample k's does
	// not depend on K.
	ReferenceRandom = "random"
	// ReferenceSorted makes sample k of every input use the k-th reference
	// in sorted name order (figures: one column per reference).
	ReferenceSorted = "sorted"
)

// domainReference keeps the reference shuffles apart from the other
// random streams.
const domainReference = 0x726566 // "ref"

// ReferenceSet records the reference folder of a reference-guided run.
type ReferenceSet struct {
	// Dir is the folder (absolute path), DirRel the same relative to the
	// store root (empty where there is none).
	Dir    string `json:"dir"`
	DirRel string `json:"dir_rel,omitempty"`
	// Order is ReferenceRandom or ReferenceSorted.
	Order string `json:"order"`
	// Files are the folder's images in sorted order: name and SHA-256.
	// Sample.Reference names one of them.
	Files []FileRef `json:"files"`
}

// digest is the SHA-256 of the order and the files' names and hashes: the
// part of the run identity that the references decide (the folder's path
// is not, so a moved folder keeps its identity).
func (s *ReferenceSet) digest() string {
	b, _ := json.Marshal(struct {
		Order string    `json:"order"`
		Files []FileRef `json:"files"`
	}{s.Order, s.Files})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// styleEncoder computes the style code of one reference image tensor
// [1,3,H,W]; tests substitute a fake.
type styleEncoder interface {
	encode(img model.Tensor) ([]float32, error)
	close() error
}

// onnxStyleEncoder runs a style_encoder model, with the one-hot target
// domain for a multi-domain model.
type onnxStyleEncoder struct {
	s          *model.Session
	image, out string
	domain     []float32 // one-hot [D], nil without a domain input
	dim        int
	domainName string
	// fixedH, fixedW are the image size the model requires (0: any).
	fixedH, fixedW int64
	path           string
}

// openStyleEncoder opens cfg.StyleEncoder, checks it against the
// contract and against the generator's style size, and resolves
// cfg.TargetDomain.
func openStyleEncoder(cfg *Config, latentDim int) (*onnxStyleEncoder, FileRef, error) {
	// One thread: the codes are recorded in the manifest and compared bit
	// for bit when a store is reused, so they must not depend on --threads.
	s, err := openChecked(cfg.StyleEncoder, model.Options{Threads: 1, Device: cfg.Device, Role: model.RoleStyleEncoder})
	if err != nil {
		return nil, FileRef{}, err
	}
	info := s.Info()
	e := &onnxStyleEncoder{s: s, image: info.ImageInput, out: "style", path: cfg.StyleEncoder}
	if t, ok := info.Input(info.ImageInput); ok && len(t.Shape) == 4 {
		e.fixedH, e.fixedW = max(t.Shape[2], 0), max(t.Shape[3], 0)
	}
	if _, ok := info.Output("style"); !ok {
		e.out = info.Outputs[0].Name
	}
	t, _ := info.Output(e.out)
	e.dim = int(t.Shape[1])
	if v, err := strconv.Atoi(info.Metadata[model.MetaLatentDim]); err == nil && v > 0 {
		e.dim = v
	}
	fail := func(err error) (*onnxStyleEncoder, FileRef, error) {
		s.Close()
		return nil, FileRef{}, err
	}
	if e.dim != latentDim {
		return fail(fmt.Errorf("--style-encoder %s gives style codes of %s values, but the generator takes %s", cfg.StyleEncoder, dimText(e.dim), dimText(latentDim)))
	}
	if _, ok := info.Input(model.DomainInput); ok {
		idx, err := ResolveDomain(model.Domains(info), cfg.TargetDomain, cfg.StyleEncoder)
		if err != nil {
			return fail(err)
		}
		e.domain = make([]float32, len(model.Domains(info)))
		e.domain[idx] = 1
		e.domainName = model.Domains(info)[idx]
	} else if cfg.TargetDomain != "" {
		return fail(fmt.Errorf("--target-domain %s: the style encoder %s has one domain (no %q input)", cfg.TargetDomain, cfg.StyleEncoder, model.DomainInput))
	}
	return e, FileRef{File: cfg.StyleEncoder, SHA256: info.SHA256}, nil
}

// ResolveDomain returns the index of the target domain target (a name
// of domains, or an index into them) for the multi-domain model path.
func ResolveDomain(domains []string, target, path string) (int, error) {
	list := strings.Join(domains, ", ")
	if target == "" {
		return 0, fmt.Errorf("%s is a multi-domain model (domains: %s): name the target with --target-domain NAME|INDEX", path, list)
	}
	if i := slices.Index(domains, target); i >= 0 {
		return i, nil
	}
	if i, err := strconv.Atoi(target); err == nil {
		if i >= 0 && i < len(domains) {
			return i, nil
		}
		return 0, fmt.Errorf("--target-domain %d: %s has %d domains (indices 0 to %d: %s)", i, path, len(domains), len(domains)-1, list)
	}
	return 0, fmt.Errorf("--target-domain %q: not a domain of %s (domains: %s)", target, path, list)
}

func (e *onnxStyleEncoder) encode(img model.Tensor) ([]float32, error) {
	if h, w := img.Shape[2], img.Shape[3]; (e.fixedH > 0 && h != e.fixedH) || (e.fixedW > 0 && w != e.fixedW) {
		return nil, fmt.Errorf("the image is %dx%d, but %s takes %dx%d images (resize with --size %d)", w, h, e.path, e.fixedW, e.fixedH, e.fixedH)
	}
	in := map[string]model.Tensor{e.image: img}
	if e.domain != nil {
		in[model.DomainInput] = model.Tensor{Shape: []int64{1, int64(len(e.domain))}, Data: e.domain}
	}
	out, err := e.s.Run(in, e.out)
	if err != nil {
		return nil, err
	}
	code := out[e.out].Data
	if len(code) != e.dim {
		return nil, fmt.Errorf("style encoder output %q has %d values, want %d", e.out, len(code), e.dim)
	}
	return code, nil
}

func (e *onnxStyleEncoder) close() error { return e.s.Close() }

// references is the state of a reference-guided run.
type references struct {
	files []images.File
	set   ReferenceSet
	enc   styleEncoder
	// assign[i*K+k] is the reference of sample k of input i; styles the
	// codes of the references used, by index into files.
	assign []int
	styles map[int][]float32
}

// listReferences lists and hashes the reference folder.
func listReferences(cfg *Config) (*references, error) {
	files, err := images.ListDir(cfg.References)
	if err != nil {
		return nil, fmt.Errorf("--references: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("--references %s holds no images", cfg.References)
	}
	abs, _ := filepath.Abs(cfg.References)
	refs := &references{files: files, styles: map[int][]float32{},
		set: ReferenceSet{Dir: abs, DirRel: relTo(cfg.Out, abs), Order: cfg.ReferenceOrder, Files: make([]FileRef, len(files))}}
	err = parallel(len(files), func(j int) error {
		sha, err := images.HashFile(files[j].Path)
		if err != nil {
			return fmt.Errorf("reference %w", err)
		}
		refs.set.Files[j] = FileRef{File: files[j].Name, SHA256: sha}
		return nil
	})
	return refs, err
}

// assignReferences picks the reference of every (input, k) of an m x k
// store and computes the style codes of those used.
func (r *runner) assignReferences() error {
	refs, m, k := r.refs, len(r.inputs), r.k
	n := len(refs.files)
	if n < k {
		return fmt.Errorf("--references %s holds %d images, but %d samples per input need %d distinct references per input (one per sample); add references or lower --samples-per-input to at most %d",
			r.cfg.References, n, k, k, n)
	}
	refs.assign = make([]int, m*k)
	for i := range m {
		if refs.set.Order == ReferenceSorted {
			for j := range k {
				refs.assign[i*k+j] = j
			}
			continue
		}
		copy(refs.assign[i*k:(i+1)*k], referencePicks(r.cfg.Seed, i, n, k))
	}
	var need []int
	for _, j := range refs.assign {
		if _, ok := refs.styles[j]; !ok && !slices.Contains(need, j) {
			need = append(need, j)
		}
	}
	slices.Sort(need)
	codes := make([][]float32, len(need))
	err := parallel(len(need), func(q int) error {
		f := refs.files[need[q]]
		img, err := images.Load(f.Path)
		if err != nil {
			return fmt.Errorf("reference %w", err)
		}
		if r.cfg.Size > 0 {
			img = images.ResizeCrop(img, r.cfg.Size)
		}
		t := model.Tensor{Shape: []int64{1, 3, int64(img.H), int64(img.W)}, Data: make([]float32, 3*img.H*img.W)}
		if err := images.ToTensor([]*images.Image{img}, t.Data); err != nil {
			return fmt.Errorf("reference %s: %w", f.Path, err)
		}
		code, err := refs.enc.encode(t)
		if err != nil {
			return fmt.Errorf("style encoder on reference %s: %w", f.Path, err)
		}
		for _, v := range code {
			if v != v || v > 3.4e38 || v < -3.4e38 {
				return fmt.Errorf("style encoder on reference %s: non-finite style code", f.Path)
			}
		}
		codes[q] = slices.Clone(code)
		return nil
	})
	if err != nil {
		return err
	}
	for q, j := range need {
		refs.styles[j] = codes[q]
	}
	return nil
}

// referencePicks returns the references of samples 0..k-1 of input i out
// of n: the first k positions of a forward Fisher-Yates shuffle of 0..n-1
// drawn from the (seed, i, n) "ref" stream. Position j is fixed once j
// swaps are made, so sample k's reference does not depend on K.
func referencePicks(seed int64, i, n, k int) []int {
	g := streamFor(domainReference, seed, uint64(i), uint64(n))
	perm := make([]int, n)
	for j := range perm {
		perm[j] = j
	}
	for j := 0; j < k; j++ {
		s := j + boundedUint(g, uint64(n-j))
		perm[j], perm[s] = perm[s], perm[j]
	}
	return perm[:k]
}

// referenceOf is the name of sample k of input i's reference ("" when the
// run is not reference-guided).
func (r *runner) referenceOf(i, k int) string {
	if r.refs == nil || r.refs.assign == nil {
		return ""
	}
	return r.refs.files[r.refs.assign[i*r.k+k]].Name
}

// checkReferenceConfig validates the reference flags of c.
func (c *Config) checkReferenceConfig() error {
	if c.ReferenceOrder == "" {
		c.ReferenceOrder = ReferenceRandom
	}
	switch {
	case c.Mapping != "" && (c.Generator == "" || c.StyleEncoder != ""):
		return errors.New("--mapping needs --generator and excludes --style-encoder (the style code comes from one or the other)")
	case c.TargetDomain != "" && c.Mapping == "" && c.StyleEncoder == "":
		return errors.New("--target-domain applies to multi-domain models: give --mapping or --style-encoder")
	case c.StyleEncoder == "" && c.References == "" && c.ReferenceOrder == ReferenceRandom:
		return nil
	case c.StyleEncoder == "" && c.References == "":
		return errors.New("--reference-order applies to reference-guided runs (--style-encoder and --references)")
	case c.StyleEncoder == "" || c.References == "":
		return errors.New("reference-guided translation needs both --style-encoder and --references")
	case c.Generator == "" && c.gen == nil:
		return errors.New("--style-encoder needs --generator (or --generator and --decoder)")
	case c.Latents != "":
		return errors.New("--latents and --references exclude each other: the style codes come from the references")
	case c.ReferenceOrder != ReferenceRandom && c.ReferenceOrder != ReferenceSorted:
		return fmt.Errorf("--reference-order %q: want random or sorted", c.ReferenceOrder)
	}
	return nil
}

// openReferences opens the style encoder and lists the references of a
// reference-guided run (r.refs stays nil otherwise).
func (r *runner) openReferences() error {
	cfg := &r.cfg
	if cfg.StyleEncoder == "" {
		return nil
	}
	refs, err := listReferences(cfg)
	if err != nil {
		return err
	}
	if cfg.styleEnc != nil {
		refs.enc = cfg.styleEnc
	} else {
		if r.spec.latentDim == 0 {
			return fmt.Errorf("--style-encoder %s: the generator %s has no style input to take its codes", cfg.StyleEncoder, cfg.Generator)
		}
		e, ref, err := openStyleEncoder(cfg, r.spec.latentDim)
		if err != nil {
			return err
		}
		refs.enc, r.domainName = e, e.domainName
		r.spec.models[ModelStyleEncoder] = ref
	}
	r.refs = refs
	return nil
}

// targetDomain is the resolved target domain of a multi-domain run ("" for
// single-domain models).
func (r *runner) targetDomain() string { return r.domainName }
