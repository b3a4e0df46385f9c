package reports

import (
	"testing"

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
