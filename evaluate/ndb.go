package evaluate

// The ndb command: NDB and JSD (registry entry ndb) of a folder of samples
// against a folder of real images, on pixels, on a features model's
// features or on feature arrays, with ndb.py's bins cache as a .npz, and a
// real-vs-real row.

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/progress"
	"github.com/munit-eval/munit-eval/internal/version"
	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
)

// DefaultNDBSize is the side the ndb command resizes images to for NDB on
// pixels: 32 × 32 × 3 = 3,072 dimensions in [0, 1].
const DefaultNDBSize = 32

// NDBRequest is an ndb command: the samples and real images as folders
// (Samples, Real) or as float [N, D] .npy feature arrays (Features,
// RealFeatures); the features model (Model, its "features" output; ""
// scores pixels resized to PixelSize); the bins read from BinsFile instead
// of made from the real set, and written to BinsOut.
type NDBRequest struct {
	Protocol               Protocol
	Dataset, Method        string
	Samples, Real          string
	Features, RealFeatures string
	Model                  string
	PixelSize              int
	BinsFile, BinsOut      string
	// Cache is the store folder whose .cache/ keeps the features ("" or
	// NoCache: none).
	Cache   string
	NoCache bool
	Run     RunOptions
}

// Folders returns r with the command's folder arguments, [REAL_DIR]
// GEN_DIR: the last names the samples, the first of two the real images.
func (r NDBRequest) Folders(args []string) NDBRequest {
	switch len(args) {
	case 2:
		r.Real, r.Samples = args[0], args[1]
	case 1:
		r.Samples = args[0]
	}
	return r
}

// NDB measures r: the method's document and, when real samples are given,
// the real-data row (bins from a seeded half of the real set, the other
// half scored against them: NDB's floor at these counts).
func NDB(ctx context.Context, r NDBRequest) ([]*results.Document, error) {
	p := r.Protocol
	if err := p.Validate(nil); err != nil {
		return nil, err
	}
	var x, y [][]float64 // samples, real
	var err error
	source := ""
	switch {
	case r.Features != "":
		if r.Model != "" || r.Samples != "" {
			return nil, fmt.Errorf("--features %s gives the samples' features: give no folders and no model", r.Features)
		}
		if x, err = readFeatures(r.Features); err == nil && r.RealFeatures != "" {
			y, err = readFeatures(r.RealFeatures)
		}
		source = "features " + filepath.Base(r.Features)
	case r.Samples == "":
		return nil, fmt.Errorf("give the samples: GEN_DIR or --features Q.npy")
	case r.Model != "":
		x, y, err = r.modelFeatures(ctx, p)
		source = "features of " + filepath.Base(r.Model)
	default:
		size := r.PixelSize
		if size == 0 {
			size = DefaultNDBSize
		}
		if err = CheckSize("ndb-size", size); err == nil {
			if x, err = r.pixels(r.Samples, size, p, false); err == nil && r.Real != "" {
				y, err = r.pixels(r.Real, size, p, true)
			}
		}
		source = fmt.Sprintf("pixels %dx%d", size, size)
	}
	if err != nil {
		return nil, err
	}
	in := &registry.Inputs{Params: p.Params(), M: len(x), K: 1, Features: x, RealFeatures: y}
	realName := orName(r.Real, r.RealFeatures)
	switch {
	case r.BinsFile != "":
		if in.NDBBins, err = ReadNDBBins(r.BinsFile); err != nil {
			return nil, err
		}
		in.NDBBinsFile = filepath.Base(r.BinsFile)
	case y == nil:
		return nil, fmt.Errorf("give the real samples (REAL_DIR or --real-features R.npy) or --bins-file B.npz")
	default:
		if in.NDBBins, err = metrics.NewNDBBins(y, ndbOptions(p)); err != nil {
			return nil, fmt.Errorf("%s: %w", realName, err)
		}
	}
	if r.BinsOut != "" {
		if err := WriteNDBBins(r.BinsOut, in.NDBBins); err != nil {
			return nil, err
		}
	}
	method := orName(r.Method, strings.TrimSuffix(filepath.Base(orName(r.Samples, r.Features)), ".npy"))
	doc, err := ndbDoc(in, method, r, p, source, realName)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", orName(r.Samples, r.Features), err)
	}
	docs := []*results.Document{doc}
	if y != nil {
		// The real-data row: one seeded half of the real set scored
		// against bins from the other, as run's (RealHalves).
		a, b := RealHalves(p.Seed, len(y))
		in := &registry.Inputs{Params: p.Params(), M: len(a), K: 1, Features: rows(y, a), RealFeatures: rows(y, b), RealRow: true}
		row, err := ndbDoc(in, results.MethodRealData, r, p, source, realName)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", realName, err)
		}
		docs = append(docs, row)
	}
	return docs, nil
}

func ndbOptions(p Protocol) metrics.NDBOptions {
	return metrics.NDBOptions{Bins: p.NDBBins, Whiten: p.NDBWhiten, Seed: uint64(p.Seed)}
}

// ndbDoc computes the ndb entry into a document.
func ndbDoc(in *registry.Inputs, method string, r NDBRequest, p Protocol, source, real string) (*results.Document, error) {
	doc := results.New(method, r.Dataset)
	doc.Protocol = results.Protocol{NumInputs: in.M, SamplesPerInput: 1, Seed: p.Seed, Samples: orName(r.Samples, r.Features), Real: real}
	if method == results.MethodRealData {
		doc.Protocol.Samples = ""
	}
	doc.Versions = results.Versions{MunitEval: version.MunitEval, ONNXRuntime: model.ORTVersion()}
	doc.Models = map[string]results.ModelRef{}
	if r.Model != "" {
		sha, err := images.HashFile(r.Model)
		if err != nil {
			return nil, err
		}
		doc.Models[results.ModelFeatures] = results.ModelRef{File: filepath.Base(r.Model), SHA256: sha}
	}
	ws, err := registry.Lookup(registry.KeyNDB).Compute(in, &doc.Metrics)
	if err != nil {
		return nil, err
	}
	doc.Warnings = append(doc.Warnings, ws...)
	var n registry.NDB
	if ok, err := doc.Metrics.GetExtra(registry.KeyNDB, &n); err != nil || !ok {
		return doc, err // a warning says why there is no NDB
	}
	n.Source = source
	return doc, doc.Metrics.SetExtra(registry.KeyNDB, n)
}

// rows returns the rows idx of x.
func rows(x [][]float64, idx []int) [][]float64 {
	out := make([][]float64, len(idx))
	for i, k := range idx {
		out[i] = x[k]
	}
	return out
}

// readFeatures reads a float32 or float64 [N, D] .npy array.
func readFeatures(path string) ([][]float64, error) {
	a, err := images.ReadNPY(path)
	if err != nil {
		return nil, err
	}
	if len(a.Shape) != 2 || a.Shape[0] == 0 || a.Shape[1] == 0 {
		return nil, fmt.Errorf("%s: features have shape %v, want [N, D] with N, D > 0", path, a.Shape)
	}
	n, d := a.Shape[0], a.Shape[1]
	v := a.Float64()
	x := make([][]float64, n)
	for i := range x {
		x[i] = v[i*d : (i+1)*d]
	}
	return x, nil
}

// pixels loads every image of dir (a real folder flat; a samples folder
// by OpenSet's layouts, all its samples), resized (shorter side, centre
// crop, as the protocol's size) to size × size, as rows of RGB values in
// [0, 1], height, width, channel order.
func (r NDBRequest) pixels(dir string, size int, p Protocol, real bool) ([][]float64, error) {
	var paths []string
	if real {
		files, err := RealFiles(dir, p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			paths = append(paths, f.Path)
		}
	} else {
		set, err := OpenSet(dir, "", &p)
		if err != nil {
			return nil, err
		}
		for _, it := range set.items(set.K(), 0) {
			paths = append(paths, it.Path)
		}
	}
	bar := progress.New(len(paths), "pixels", r.Run.Quiet)
	defer bar.Finish()
	x := make([][]float64, len(paths))
	for i, path := range paths {
		m, err := images.Load(path)
		if err != nil {
			return nil, err
		}
		m = images.ResizeCrop(m, size)
		row := make([]float64, len(m.Pix))
		for j, v := range m.Pix {
			row[j] = float64(v) / 255
		}
		x[i] = row
		bar.Add(1)
	}
	return x, nil
}

// modelFeatures runs the features model over the samples (all of the
// set) and the real images.
func (r NDBRequest) modelFeatures(ctx context.Context, p Protocol) (x, y [][]float64, err error) {
	s, err := OpenScorers(ModelFiles{Features: r.Model}, registry.NeedFeatures, r.Run.ModelOptions())
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	j := Job{Protocol: p, Quiet: r.Run.Quiet}
	if !r.NoCache {
		j.Cache = r.Cache
	}
	set, err := OpenSet(r.Samples, "", &j.Protocol)
	if err != nil {
		return nil, nil, err
	}
	run := j.runner(s.Features)
	if x, err = features(ctx, run, set.items(set.K(), 0)); err != nil || r.Real == "" {
		return x, nil, err
	}
	files, err := RealFiles(r.Real, p)
	if err != nil {
		return nil, nil, err
	}
	y, err = features(ctx, run, realSet(r.Real, files, p.Size).items(1, 0))
	return x, y, err
}

// The members of an NDB bins .npz: ndb.py's bins cache fields.
var ndbFields = []string{"proportions", "centers", "n", "mean", "std", "d_indices"}

// WriteNDBBins writes b as a .npz with ndb.py's bins cache fields
// (proportions [K], centers [K, D], n [], mean [D], std [D], d_indices
// [d]), float64; d_indices hold exact integers (ndb.py indexes with
// them: .astype(int)).
func WriteNDBBins(path string, b *metrics.NDBBins) error {
	k, d := len(b.Centers), len(b.Centers[0])
	c := make([]float64, 0, k*d)
	for _, r := range b.Centers {
		c = append(c, r...)
	}
	idx := make([]float64, len(b.DIndices))
	for i, j := range b.DIndices {
		idx[i] = float64(j)
	}
	return images.WriteNPZ(path, map[string]*images.Array64{
		"proportions": {Shape: []int{k}, Data: b.Proportions},
		"centers":     {Shape: []int{k, d}, Data: c},
		"n":           {Shape: []int{}, Data: []float64{float64(b.N)}},
		"mean":        {Shape: []int{d}, Data: b.Mean},
		"std":         {Shape: []int{d}, Data: b.Std},
		"d_indices":   {Shape: []int{len(idx)}, Data: idx},
	})
}

// ReadNDBBins reads bins WriteNDBBins wrote (or ndb.py's cache fields
// saved with np.savez; mean and std may be scalars, as ndb.py keeps them
// without whitening), checking every field.
func ReadNDBBins(path string) (*metrics.NDBBins, error) {
	z, err := images.ReadNPZ(path)
	if err != nil {
		return nil, err
	}
	for _, f := range ndbFields {
		if z[f] == nil {
			return nil, fmt.Errorf("%s: no %q array: an NDB bins file holds %s", path, f, strings.Join(ndbFields, ", "))
		}
	}
	c := z["centers"]
	if len(c.Shape) != 2 || c.Shape[0] < 1 || c.Shape[1] < 1 {
		return nil, fmt.Errorf("%s: centers have shape %v, want [K, D]", path, c.Shape)
	}
	k, d := c.Shape[0], c.Shape[1]
	b := &metrics.NDBBins{Proportions: z["proportions"].Data, Centers: make([][]float64, k)}
	for i := range b.Centers {
		b.Centers[i] = c.Data[i*d : (i+1)*d]
	}
	vec := func(name string) ([]float64, error) {
		a := z[name]
		switch len(a.Data) {
		case d:
			return a.Data, nil
		case 1:
			v := make([]float64, d)
			for i := range v {
				v[i] = a.Data[0]
			}
			return v, nil
		}
		return nil, fmt.Errorf("%s: %s has %d values, want 1 or D = %d", path, name, len(a.Data), d)
	}
	if b.Mean, err = vec("mean"); err != nil {
		return nil, err
	}
	if b.Std, err = vec("std"); err != nil {
		return nil, err
	}
	if n := z["n"].Data; len(n) != 1 || n[0] != float64(int(n[0])) {
		return nil, fmt.Errorf("%s: n is %v, want one integer", path, n)
	}
	b.N = int(z["n"].Data[0])
	for _, v := range z["d_indices"].Data {
		if v != float64(int(v)) {
			return nil, fmt.Errorf("%s: d_indices holds %v, want integers", path, v)
		}
		b.DIndices = append(b.DIndices, int(v))
	}
	if err := b.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}
