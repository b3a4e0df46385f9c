package evaluate

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/version"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
)

// EmbeddingsModel is the FeatureModel a document scored from .npy
// embeddings names (no network ran; the files are in its models).
const EmbeddingsModel = "embeddings"

// CheckEmbeddings checks a command that scores embeddings files
// (--features X.npy --real-features real, nargs folder arguments): the
// two files and nothing that runs a network, and its protocol.
func (c Command) CheckEmbeddings(real string, nargs int) error {
	x, src := c.Plan.Models.Features, c.Source
	if !strings.HasSuffix(strings.ToLower(x), ".npy") || real == "" || nargs > 0 || src.Generator+src.Samples+src.Folder+c.Plan.Models.Classifier != "" {
		return errors.New("embeddings are scored with --features X.npy --real-features Y.npy alone (no folders, --generator, --samples or --classifier)")
	}
	es, err := c.Plan.Entries()
	if err == nil {
		err = c.Plan.Protocol.Validate(es)
	}
	return FlagError(err)
}

// FeatureFiles scores embeddings given as .npy files (float32 or float64)
// with the registry entry key, which must read a features model's pool
// features and real features (cmmd, fd, kid, prdc): samples [N, D], or
// [M, K, D] for K samples of each of M inputs (the groups of the
// jackknife intervals), against real [R, D]. The embeddings are used as
// given: no normalisation. The document names the two files under the
// models "embeddings" and "real_embeddings".
func FeatureFiles(key, samples, real, dataset string, p Protocol) (*results.Document, error) {
	e := registry.Lookup(key)
	if e == nil || !e.Needs.Has(registry.NeedFeatures|registry.NeedReal) || e.Output != "" {
		return nil, fmt.Errorf("%s does not score embeddings files", key)
	}
	x, m, k, err := readEmbeddings(samples, true)
	if err != nil {
		return nil, err
	}
	y, _, _, err := readEmbeddings(real, false)
	if err != nil {
		return nil, err
	}
	if len(x[0]) != len(y[0]) {
		return nil, fmt.Errorf("%s holds %d-dimensional embeddings, %s %d-dimensional: they must come from one features model", samples, len(x[0]), real, len(y[0]))
	}
	doc := results.New(strings.TrimSuffix(filepath.Base(samples), filepath.Ext(samples)), dataset)
	doc.Protocol = results.Protocol{NumInputs: m, SamplesPerInput: k, Seed: p.Seed, Real: filepath.Base(real)}
	doc.Versions = results.Versions{MunitEval: version.MunitEval, ONNXRuntime: model.ORTVersion()}
	doc.Models = map[string]results.ModelRef{}
	for role, path := range map[string]string{"embeddings": samples, "real_embeddings": real} {
		sha, err := images.HashFile(path)
		if err != nil {
			return nil, err
		}
		doc.Models[role] = results.ModelRef{File: filepath.Base(path), SHA256: sha}
	}
	in := &registry.Inputs{Params: p.Params(), M: m, K: k, Grouped: k > 1, Features: x, RealFeatures: y, FeatureModel: EmbeddingsModel}
	ws, err := e.Compute(in, &doc.Metrics)
	if err != nil {
		return nil, fmt.Errorf("%s and %s: %s: %w", samples, real, e.Title, err)
	}
	doc.Warnings = append(doc.Warnings, ws...)
	return doc, nil
}

// readEmbeddings reads a .npy of embeddings: [N, D], or, where grouped
// is allowed, [M, K, D]; the rows, M and K (N and 1 for [N, D]). Every
// value must be finite and there must be at least 2 rows.
func readEmbeddings(path string, grouped bool) (rows [][]float64, m, k int, err error) {
	a, err := images.ReadNPY(path)
	if err != nil {
		return nil, 0, 0, err
	}
	want := "[N, D]"
	if grouped {
		want = "[N, D] or [M, K, D]"
	}
	switch {
	case len(a.Shape) == 2:
		m, k = a.Shape[0], 1
	case len(a.Shape) == 3 && grouped:
		m, k = a.Shape[0], a.Shape[1]
	default:
		return nil, 0, 0, fmt.Errorf("%s: embeddings of shape %v, want %s", path, a.Shape, want)
	}
	d := a.Shape[len(a.Shape)-1]
	if m*k < 2 || d == 0 {
		return nil, 0, 0, fmt.Errorf("%s: embeddings of shape %v: need at least 2 rows of at least 1 dimension", path, a.Shape)
	}
	v := a.Float64()
	rows = make([][]float64, m*k)
	for i := range rows {
		rows[i] = v[i*d : (i+1)*d : (i+1)*d]
		for j, x := range rows[i] {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, 0, 0, fmt.Errorf("%s: row %d, dimension %d is %v: embeddings must be finite", path, i, j, x)
			}
		}
	}
	return rows, m, k, nil
}
