package pipeline

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/translate"
)

const seedsEval = `out: OUT
SEEDS
metrics: [lpips, is, fid]
protocol: {num_inputs: 3, samples_per_input: 4, pairs: 2}
models: {lpips: models/lpips.onnx, classifier: models/classifier.onnx}
datasets:
  - name: shapes
    inputs: world/testA
    real: world/testB
    methods:
      - {name: MUNIT, content_encoder: models/munit_content.onnx, decoder: models/munit_decoder.onnx}
      - {name: UNIT, generator: models/unit.onnx}
`

// TestSeeds: a file with seeds runs once per seed, each seed's documents
// in results/seed-<S>/ equal to those of a file with that seed alone (so
// each repetition is a plain run), and writes per (dataset, method) the
// mean over seeds of every quantity with the sample standard deviation,
// recomputed here from the per-seed documents; the samples of the seeds
// live side by side in one store and a rerun makes none.
func TestSeeds(t *testing.T) {
	dir := smallWorld(t)
	load := func(name, out, seeds string) *Config {
		p := filepath.Join(dir, name)
		y := strings.NewReplacer("OUT", out, "SEEDS", seeds).Replace(seedsEval)
		if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := load("seeds.yaml", "out", "seeds: [5, 9]")
	out, err := Run(context.Background(), c, Options{Threads: 1, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Docs) != 2 || len(out.SeedDocs) != 2 || len(out.SeedDocs[0]) != 3 {
		t.Fatalf("%d mean documents, %d seeds: %v", len(out.Docs), len(out.SeedDocs), out.Paths)
	}
	top, _ := filepath.Glob(filepath.Join(dir, "out", "results", "*.json"))
	if len(top) != 2 {
		t.Fatalf("results/ holds %v, want the two means", top)
	}
	perSeed := map[int64]map[string]*results.Document{}
	for i, s := range []int64{5, 9} {
		docs, _, err := results.ReadAll(filepath.Join(dir, "out", "results", SeedDir(s)))
		if err != nil || len(docs) != 3 {
			t.Fatalf("seed %d: %d documents, %v", s, len(docs), err)
		}
		perSeed[s] = map[string]*results.Document{}
		for _, d := range docs {
			if d.Protocol.Seed != s {
				t.Fatalf("seed %d's folder holds a document of seed %d", s, d.Protocol.Seed)
			}
			perSeed[s][d.Method] = d
		}
		if len(out.SeedDocs[i]) != 3 {
			t.Fatalf("outcome of seed %d: %d documents", s, len(out.SeedDocs[i]))
		}
	}
	// One seed alone gives the same numbers as its repetition.
	alone := load("alone.yaml", "alone", "seed: 9")
	if _, err := Run(context.Background(), alone, Options{Threads: 1, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"MUNIT", "UNIT"} {
		d, err := results.Read(filepath.Join(dir, "alone", "results", "shapes__"+m+".json"))
		if err != nil {
			t.Fatal(err)
		}
		a, _ := results.Marshal(&results.Document{Metrics: d.Metrics})
		b, _ := results.Marshal(&results.Document{Metrics: perSeed[9][m].Metrics})
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: seed 9 of the repetition differs from a run with seed 9", m)
		}
	}
	if a, b := perSeed[5]["MUNIT"].Metrics.LPIPSDiversity.Mean, perSeed[9]["MUNIT"].Metrics.LPIPSDiversity.Mean; a == b {
		t.Fatalf("MUNIT's LPIPS %v under both seeds: the samples were not redrawn", a)
	}
	for _, mean := range out.Docs {
		r := mean.Metrics.Seeds
		if r == nil || mean.Metrics.LPIPSDiversity != nil || mean.Metrics.FID != nil {
			t.Fatalf("%s: not a mean over seeds: %+v", mean.Method, mean.Metrics)
		}
		names := map[string]bool{}
		for _, q := range r.Quantities {
			names[q.Name] = true
		}
		for _, want := range []string{"lpips_diversity", "is", "fid"} {
			if !names[want] {
				t.Fatalf("%s: no %s among %+v", mean.Method, want, r.Quantities)
			}
		}
		for _, x := range []struct {
			name string
			get  func(*results.Document) float64
		}{{"lpips_diversity", func(d *results.Document) float64 { return d.Metrics.LPIPSDiversity.Mean }},
			{"fid", func(d *results.Document) float64 { return d.Metrics.FID.Value }},
			{"is", func(d *results.Document) float64 { return *d.Metrics.IS }}} {
			a, b := x.get(perSeed[5][mean.Method]), x.get(perSeed[9][mean.Method])
			q := r.Quantity(x.name)
			// sd of two values is |a-b|/sqrt(2).
			if q.Values[0] != a || q.Values[1] != b || math.Abs(q.Mean-(a+b)/2) > 1e-12 ||
				q.SD == nil || math.Abs(*q.SD-math.Abs(a-b)/math.Sqrt2) > 1e-12 {
				t.Fatalf("%s %s: %+v from %v and %v", mean.Method, x.name, q, a, b)
			}
		}
	}
	// One store: the second seed's MUNIT samples in a keyed folder beside
	// the first's; a rerun reuses every sample.
	keyed, _ := filepath.Glob(filepath.Join(dir, "out", "store", "shapes", "MUNIT@*"))
	if len(keyed) != 1 {
		t.Fatalf("keyed MUNIT folders %v, want one", keyed)
	}
	// Sharded (two shards, then the scoring step), the seeds give the same
	// documents.
	sh := load("sharded.yaml", "sharded", "seeds: [5, 9]")
	for i := range 2 {
		if _, err := Run(context.Background(), sh, Options{Threads: 1, Quiet: true, Shard: translate.Shard{Index: i, Count: 2}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Run(context.Background(), sh, Options{Threads: 1, Quiet: true, ScoreOnly: true}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"shapes__MUNIT.json", "shapes__UNIT.json", "seed-9/shapes__MUNIT.json", "seed-5/shapes__Real_data.json"} {
		a, errA := results.Read(filepath.Join(dir, "out", "results", f))
		b, errB := results.Read(filepath.Join(dir, "sharded", "results", f))
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		a.Created, b.Created = "", ""
		ja, _ := results.Marshal(a)
		jb, _ := results.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Fatalf("%s: the sharded run's document differs", f)
		}
	}
	stamps := func() map[string]int64 {
		m := map[string]int64{}
		filepath.WalkDir(filepath.Join(dir, "out", "store"), func(p string, e os.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, ".png") {
				fi, _ := e.Info()
				m[p] = fi.ModTime().UnixNano()
			}
			return nil
		})
		return m
	}
	before := stamps()
	if _, err := Run(context.Background(), load("seeds.yaml", "out", "seeds: [5, 9]"), Options{Threads: 1, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	after := stamps()
	if len(before) != 2*2*3*4 || len(after) != len(before) {
		t.Fatalf("%d sample files, then %d (want 48: two seeds of MUNIT and of UNIT, whose noise the seed draws)", len(before), len(after))
	}
	for p, ts := range before {
		if after[p] != ts {
			t.Fatalf("the rerun rewrote %s", p)
		}
	}
}

// TestSeedMeansOverTasks: for a domains dataset, the mean over seeds of
// its mean over tasks: the per-task FID and LPIPS averaged over seeds, and
// each seed's means over tasks as the quantities fid and lpips_diversity.
func TestSeedMeansOverTasks(t *testing.T) {
	dir := writeTree(t)
	sgTree(t, dir, "cat", "dog")
	c, err := Parse(filepath.Join(dir, "eval.yaml"), []byte(strings.Replace(sgEval, "out: out", "out: out\nseeds: [777, 1, 2]", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Seed != 777 || len(c.Seeds) != 3 {
		t.Fatalf("seed %d, seeds %v", c.Seed, c.Seeds)
	}
	mean := func(fids, lps []float64) *results.Document {
		d := results.New("StarGANv2", "afhq")
		d.Metrics.TaskMean = &results.TaskMean{Tasks: []string{"dog2cat", "cat2dog"}, FID: fids, FIDMean: results.Float((fids[0] + fids[1]) / 2),
			LPIPS: lps, LPIPSMean: results.Float((lps[0] + lps[1]) / 2)}
		return d
	}
	task := results.New("StarGANv2", "afhq.dog2cat")
	task.Metrics.FID = &results.FID{Value: 1}
	per := [][]*results.Document{
		{task, mean([]float64{10, 20}, []float64{0.1, 0.3})},
		{task, mean([]float64{12, 26}, []float64{0.2, 0.2})},
		{task, mean([]float64{14, 20}, []float64{0.3, 0.1})},
	}
	docs, paths, err := c.seedMeans(per)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || paths[0] != filepath.Join(dir, "out", "results", "afhq__StarGANv2.json") {
		t.Fatalf("%d documents at %v (the task's document takes no part)", len(docs), paths)
	}
	tm, r := docs[0].Metrics.TaskMean, docs[0].Metrics.Seeds
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	if !near(tm.FID[0], 12) || !near(tm.FID[1], 22) || !near(*tm.FIDMean, 17) || !near(tm.LPIPS[0], 0.2) || !near(*tm.LPIPSMean, 0.2) {
		t.Fatalf("per-task means %+v", tm)
	}
	fid, lp := r.Quantity("fid"), r.Quantity("lpips_diversity")
	// Seeds' FID means 15, 19, 17: mean 17, sd 2; LPIPS means all 0.2: sd 0.
	if fid.Better != -1 || !near(fid.Mean, 17) || !near(*fid.SD, 2) || lp.Better != 1 || !near(lp.Mean, 0.2) || !near(*lp.SD, 0) {
		t.Fatalf("quantities %+v %+v", fid, lp)
	}
	// The schema's checks refuse a mean or sd that its values do not give.
	b, _ := results.Marshal(docs[0])
	if _, err := results.Parse("m.json", b); err != nil {
		t.Fatal(err)
	}
	fid.SD = results.Float(3)
	if err := results.Validate("x", docs[0]); err == nil || !strings.Contains(err.Error(), "seeds.quantities[0] (fid).sd") {
		t.Fatalf("a wrong sd: %v", err)
	}
	fid.SD, fid.Values = results.Float(2), fid.Values[:2]
	if err := results.Validate("x", docs[0]); err == nil || !strings.Contains(err.Error(), "has 2 values for 3 seeds") {
		t.Fatalf("a missing value: %v", err)
	}
}
