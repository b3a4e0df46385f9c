package reports

import (
	"math"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/results"
)

// TestTaskMeanTable: StarGAN v2's table shape from the mean-over-tasks
// documents: a row per method, FID and LPIPS per (dataset, mode), the
// lowest FID and highest LPIPS marked, N/A where a method lacks a mode,
// and nothing from documents without a mean.
func TestTaskMeanTable(t *testing.T) {
	doc := func(method, ds, preset string, fid, lp float64) *results.Document {
		d := results.New(method, ds)
		d.Protocol.Preset = preset
		if method == "StarGANv2 ref" {
			d.Models = map[string]results.ModelRef{"style_encoder": {File: "sg.style_encoder.onnx"}}
		}
		d.Metrics.TaskMean = &results.TaskMean{Tasks: []string{"cat2dog"}, FID: []float64{fid}, FIDMean: results.Float(fid),
			LPIPS: []float64{lp}, LPIPSMean: results.Float(lp)}
		return d
	}
	plain := results.New("StarGANv2", "afhq.cat2dog")
	plain.Metrics.FID = &results.FID{Value: 99}
	docs := []*results.Document{
		doc("StarGANv2 ref", "afhq", "stargan-v2-latent", 19.78, 0.431), doc("StarGANv2", "afhq", "stargan-v2-latent", 16.18, 0.450),
		doc("MUNIT", "afhq", "stargan-v2-latent", 223.9, 0.199), plain,
	}
	if taskMeanTable(docs[3:]) != nil {
		t.Fatal("a table without means")
	}
	tb := taskMeanTable(docs)
	var heads []string
	for _, c := range tb.Columns {
		heads = append(heads, c.Group+" "+c.Header)
	}
	if want := "afhq latent FID,afhq latent LPIPS,afhq reference FID,afhq reference LPIPS"; join(heads) != want {
		t.Fatalf("columns %s, want %s", join(heads), want)
	}
	// The reference-guided method (its samples' style encoder) lands in
	// the reference columns though the file's preset was the latent one.
	if len(tb.Rows) != 3 || tb.Rows[0].Label != "MUNIT" || tb.Rows[1].Label != "StarGANv2" || tb.Rows[2].Label != "StarGANv2 ref" {
		t.Fatalf("rows %+v", tb.Rows)
	}
	mu, sg, ref := tb.Rows[0].Cells, tb.Rows[1].Cells, tb.Rows[2].Cells
	if mu[0].Value != 223.9 || mu[0].Best || mu[2].Kind != CellNA || sg[0].Value != 16.18 || !sg[0].Best || !sg[1].Best || sg[2].Kind != CellNA ||
		ref[0].Kind != CellNA || ref[2].Value != 19.78 || ref[3].Value != 0.431 || !ref[2].Best {
		t.Fatalf("cells %+v / %+v / %+v", mu, sg, ref)
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

// TestSeedTables: means over seeds show their standard deviation over
// seeds (never an interval) in the task-mean table of a domains dataset
// and in the seeds table of a plain one, with notes naming the seeds; the
// seeds table marks the best mean by the quantity's direction.
func TestSeedTables(t *testing.T) {
	runs := func(qs ...results.SeedQuantity) *results.SeedRuns {
		return &results.SeedRuns{Seeds: []int64{777, 778}, Quantities: qs}
	}
	q := func(name string, better int, a, b float64) results.SeedQuantity {
		return results.SeedQuantity{Name: name, Better: better, Values: []float64{a, b}, Mean: (a + b) / 2, SD: results.Float(metrics.Std([]float64{a, b}))}
	}
	sg := results.New("StarGANv2", "afhq")
	sg.Models = map[string]results.ModelRef{"mapping": {File: "sg.mapping.onnx"}}
	sg.Metrics.TaskMean = &results.TaskMean{Tasks: []string{"cat2dog"}, FID: []float64{15}, FIDMean: results.Float(15), LPIPS: []float64{0.4}, LPIPSMean: results.Float(0.4)}
	sg.Metrics.Seeds = runs(q("fid", -1, 14, 16), q("lpips_diversity", 1, 0.3, 0.5))
	a, b := results.New("MUNIT", "shapes"), results.New("UNIT", "shapes")
	a.Metrics.Seeds = runs(q("lpips_diversity", 1, 0.1, 0.3), q("fid", -1, 4, 6))
	b.Metrics.Seeds = runs(q("lpips_diversity", 1, 0.0, 0.0), q("fid", -1, 2, 2))
	docs := []*results.Document{sg, a, b}

	tm := taskMeanTable(docs)
	if tm == nil || tm.Title != "Mean over tasks and seeds (StarGAN v2 protocol)" || !strings.Contains(strings.Join(tm.Notes, " "), "seeds 777, 778") {
		t.Fatalf("task-mean table %+v", tm)
	}
	c := tm.Rows[0].Cells
	if c[0].Value != 15 || c[0].SD == nil || math.Abs(*c[0].SD-math.Sqrt2) > 1e-12 || c[1].SD == nil || c[0].CI != nil {
		t.Fatalf("task-mean cells %+v", c)
	}
	st := seedsTable(docs)
	if st == nil || len(st.Rows) != 2 || len(st.Columns) != 2 || st.Columns[0].Header != "lpips_diversity" || st.Columns[1].Group != "shapes" {
		t.Fatalf("seeds table %+v", st)
	}
	mu, un := st.Rows[0].Cells, st.Rows[1].Cells
	if mu[0].Value != 0.2 || !mu[0].Best || *mu[0].SD == 0 || un[1].Value != 2 || !un[1].Best || mu[1].Best || *un[0].SD != 0 {
		t.Fatalf("seeds cells %+v / %+v", mu, un)
	}
	if seedsTable(docs[:1]) != nil {
		t.Fatal("a seeds table from a domains dataset's mean alone")
	}
}
