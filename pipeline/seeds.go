package pipeline

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/translate"
)

// SeedDir is the folder of seed s's documents inside the results folder
// of a file with seeds.
func SeedDir(s int64) string { return fmt.Sprintf("seed-%d", s) }

// forSeed is the file run with seed s alone: its documents go to
// results/seed-<s>/. The store stays shared: a run of another seed keeps
// its samples in a keyed folder beside the others (translate's run
// identity holds the seed), and the real images' features, keyed by
// content, are computed once for all seeds.
func (c *Config) forSeed(s int64) *Config {
	cs := *c
	cs.Seed, cs.Protocol.Seed, cs.Seeds, cs.seedDir = s, s, nil, SeedDir(s)
	return &cs
}

// runSeeds runs the evaluation once per seed of the file, in its order,
// then writes the mean over seeds of every (dataset, method) (seedMeans).
// --force discards only what the first seed's run does not match: the
// later seeds' samples go beside it, not over it.
func (c *Config) runSeeds(ctx context.Context, o Options) (*Outcome, error) {
	all := &Outcome{}
	for i, s := range c.Seeds {
		if o.Log != nil && !o.Quiet {
			fmt.Fprintf(o.Log, "seed %d (%d of %d)\n", s, i+1, len(c.Seeds))
		}
		so := o
		so.Force = o.Force && i == 0
		out, err := c.forSeed(s).runOnce(ctx, so)
		if out != nil {
			all.Generated = append(all.Generated, out.Generated...)
			all.SeedDocs = append(all.SeedDocs, out.Docs)
			all.SeedPaths = append(all.SeedPaths, out.Paths)
		}
		if err != nil {
			return all, fmt.Errorf("seed %d: %w", s, err)
		}
	}
	if o.Shard.Sharded() {
		return all, nil
	}
	docs, paths, err := c.seedMeans(all.SeedDocs)
	if err != nil {
		return all, err
	}
	for i, d := range docs {
		if err := results.Write(paths[i], d); err != nil {
			return all, err
		}
	}
	all.Docs, all.Paths = docs, paths
	return all, nil
}

// seedMeans makes, for every (dataset, method) of the first seed's
// documents, the document of its mean over seeds: the value of every
// quantity the regression gate knows (registry Compare) that each seed's
// document holds, per seed, with their mean and sample standard
// deviation. A domains dataset's mean over tasks (TaskMean) counts as its
// FID and LPIPS, and the document also holds the per-task values averaged
// over seeds; the tasks' own documents and the real-data rows take no part
// (the per-seed folders keep them).
func (c *Config) seedMeans(perSeed [][]*results.Document) ([]*results.Document, []string, error) {
	inGroup := map[string]bool{}
	for _, d := range c.Datasets {
		if d.Group != "" {
			inGroup[d.Name] = true
		}
	}
	key := func(d *results.Document) string { return d.Dataset + "\x00" + d.Method }
	var out []*results.Document
	var paths []string
	for _, first := range perSeed[0] {
		if first.Method == results.MethodRealData || inGroup[first.Dataset] {
			continue
		}
		var docs []*results.Document
		for _, ds := range perSeed {
			for _, d := range ds {
				if key(d) == key(first) {
					docs = append(docs, d)
					break
				}
			}
		}
		if len(docs) != len(perSeed) {
			return nil, nil, fmt.Errorf("dataset %q, method %q: %d of %d seeds have a document", first.Dataset, first.Method, len(docs), len(perSeed))
		}
		mean := results.New(first.Method, first.Dataset)
		mean.Created, mean.Protocol, mean.Models, mean.Versions = first.Created, first.Protocol, first.Models, first.Versions
		runs := &results.SeedRuns{Seeds: c.Seeds}
		if first.Metrics.TaskMean != nil {
			mean.Metrics.TaskMean = tasksOverSeeds(docs)
			runs.Quantities = taskQuantities(docs)
		} else {
			runs.Quantities = quantitiesOverSeeds(docs)
		}
		mean.Metrics.Seeds = runs
		if err := results.Validate(first.Dataset+"/"+first.Method, mean); err != nil {
			return nil, nil, err
		}
		dir, err := translate.MethodDir(first.Method)
		if err != nil {
			return nil, nil, fmt.Errorf("method %q: %w", first.Method, err)
		}
		out = append(out, mean)
		paths = append(paths, filepath.Join(c.ResultsDir(), first.Dataset+"__"+dir+".json"))
	}
	return out, paths, nil
}

// seedQuantity is q over the seeds' values.
func seedQuantity(name string, better int, vals []float64) results.SeedQuantity {
	q := results.SeedQuantity{Name: name, Better: better, Values: vals, Mean: metrics.Mean(vals)}
	if len(vals) > 1 {
		q.SD = results.Float(metrics.Std(vals))
	}
	return q
}

// quantitiesOverSeeds are the registry's quantities that every document
// holds (those that follow another, is_exp, left out), in the registry's
// order.
func quantitiesOverSeeds(docs []*results.Document) []results.SeedQuantity {
	var qs []results.SeedQuantity
	for _, e := range registry.All() {
		for _, q := range e.Compare {
			if q.Follows != "" {
				continue
			}
			var vals []float64
			for _, d := range docs {
				v, ok := q.Get(d)
				if !ok {
					break
				}
				vals = append(vals, v.V)
			}
			if len(vals) == len(docs) {
				qs = append(qs, seedQuantity(q.Name, q.Better, vals))
			}
		}
	}
	return qs
}

// taskQuantities are a domains dataset's FID and LPIPS means over tasks,
// per seed, under the gate's names for FID and LPIPS diversity.
func taskQuantities(docs []*results.Document) []results.SeedQuantity {
	var qs []results.SeedQuantity
	for _, x := range []struct {
		name   string
		better int
		get    func(*results.TaskMean) *float64
	}{{results.KeyFID, -1, func(t *results.TaskMean) *float64 { return t.FIDMean }},
		{results.KeyLPIPSDiversity, 1, func(t *results.TaskMean) *float64 { return t.LPIPSMean }}} {
		var vals []float64
		for _, d := range docs {
			if v := x.get(d.Metrics.TaskMean); v != nil {
				vals = append(vals, *v)
			}
		}
		if len(vals) == len(docs) {
			qs = append(qs, seedQuantity(x.name, x.better, vals))
		}
	}
	return qs
}

// tasksOverSeeds is the per-task FID and LPIPS averaged over seeds, and
// their means over tasks (equal to the mean over seeds of each seed's
// mean over tasks).
func tasksOverSeeds(docs []*results.Document) *results.TaskMean {
	first := docs[0].Metrics.TaskMean
	tm := &results.TaskMean{Tasks: first.Tasks}
	avg := func(get func(*results.TaskMean) []float64) ([]float64, *float64) {
		if len(get(first)) == 0 {
			return nil, nil
		}
		out := make([]float64, len(get(first)))
		for _, d := range docs {
			for i, v := range get(d.Metrics.TaskMean) {
				out[i] += v
			}
		}
		var m float64
		for i := range out {
			out[i] /= float64(len(docs))
			m += out[i]
		}
		return out, results.Float(m / float64(len(out)))
	}
	tm.FID, tm.FIDMean = avg(func(t *results.TaskMean) []float64 { return t.FID })
	tm.LPIPS, tm.LPIPSMean = avg(func(t *results.TaskMean) []float64 { return t.LPIPS })
	return tm
}
