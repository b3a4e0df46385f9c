package reports

import (
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/warning"
)

// div builds a diversity result whose interval is mean ± h.
func div(mean, h float64, n int) *results.Diversity {
	return &results.Diversity{Mean: mean, Std: 0.05, Stderr: h / 1.96, CI95: [2]float64{mean - h, mean + h},
		N: n, NumInputs: n / 19, PairsPerInput: 19, Pairing: "independent", LPIPSNet: "alex", LPIPSVersion: "0.1"}
}

func doc(method, dataset string) *results.Document {
	d := results.New(method, dataset)
	d.Created = "2026-11-25T12:00:00Z"
	d.Protocol = results.Protocol{NumInputs: 100, SamplesPerInput: 38, PairsPerInput: 19, Pairing: "independent", Seed: 7, Bootstrap: 2000}
	d.Versions = results.Versions{MunitEval: "0.1.0-test", ONNXRuntime: "1.22.0"}
	d.Models = map[string]results.ModelRef{
		results.ModelGenerator: {File: method + ".onnx", SHA256: "ab" + method},
		results.ModelLPIPS:     {File: "lpips_alex.onnx", SHA256: "cd01", Net: "alex", Version: "0.1"},
	}
	return d
}

// paperDocs mirrors the MUNIT paper's Table 1 (edges2shoes) and Table 2
// (one animal task), with intervals made up for the test.
func paperDocs() []*results.Document {
	var docs []*results.Document
	add := func(method string, dv *results.Diversity) *results.Document {
		d := doc(method, "edges2shoes")
		d.Metrics.LPIPSDiversity = dv
		docs = append(docs, d)
		return d
	}
	add("MUNIT w/o L^x_recon", div(0.213, 0.004, 1900))
	add("BicycleGAN", div(0.104, 0.002, 1900))
	munit := add("MUNIT", div(0.109, 0.002, 1900))
	add("CycleGAN", div(0.0, 0, 1900))
	add("UNIT", div(0.0, 0, 1900))
	add("CycleGAN*", div(0.0, 0, 1900))
	real := add(results.MethodRealData, div(0.293, 0.005, 2000))
	real.Models = nil
	// Pairwise distances for the box plots: a spread for MUNIT, a few
	// for BicycleGAN and the real data.
	for i := 0; i < 40; i++ {
		munit.Metrics.LPIPSDiversity.Pairs = append(munit.Metrics.LPIPSDiversity.Pairs, results.Pair{Input: i / 2, A: 2 * (i % 2), B: 2*(i%2) + 1, Distance: 0.05 + 0.003*float64(i)})
	}
	docs[1].Metrics.LPIPSDiversity.Pairs = []results.Pair{{Input: 0, A: 0, B: 1, Distance: 0.08}, {Input: 1, A: 0, B: 1, Distance: 0.12}, {Input: 2, A: 0, B: 1, Distance: 0.1}}
	real.Metrics.LPIPSDiversity.Pairs = []results.Pair{{Input: 0, A: 0, B: 1, Distance: 0.25}, {Input: 0, A: 2, B: 3, Distance: 0.33}, {Input: 1, A: 4, B: 5, Distance: 0.3}}
	munit.Warnings = []warning.Warning{{Code: "size", Subject: "lpips", Detail: "LPIPS embeddings computed on 64x64 images"}}
	munit.Metrics.Preference = map[string]results.Preference{
		"UNIT":                {Percent: 37.4, Wilson: [2]float64{35.5, 39.3}, Bootstrap: [2]float64{34.9, 40.0}, Judgments: 2500, Preferred: 935, Questions: 500, Workers: 40, ExcludedWorkers: 2},
		"CycleGAN":            {Percent: 36.0, Wilson: [2]float64{34.1, 37.9}, Bootstrap: [2]float64{33.8, 38.3}, Judgments: 2500, Preferred: 900, Questions: 500, Workers: 40},
		"CycleGAN*":           {Percent: 29.5, Wilson: [2]float64{27.7, 31.3}, Bootstrap: [2]float64{27.0, 32.1}, Judgments: 2500, Preferred: 737, Questions: 500, Workers: 40},
		"MUNIT w/o L^x_recon": {Percent: 6.0, Wilson: [2]float64{5.1, 7.0}, Bootstrap: [2]float64{4.9, 7.2}, Judgments: 2500, Preferred: 150, Questions: 500, Workers: 40},
		"BicycleGAN":          {Percent: 56.7, Wilson: [2]float64{54.8, 58.6}, Bootstrap: [2]float64{54.0, 59.3}, Judgments: 2500, Preferred: 1417, Questions: 500, Workers: 40},
	}
	scores := func(method string, cis, is float64) {
		d := doc(method, "cat2dog")
		d.Protocol.PairsPerInput, d.Protocol.Pairing, d.Protocol.SamplesPerInput = 0, "", 100
		d.Metrics.CIS, d.Metrics.IS = results.Float(cis), results.Float(is)
		d.Metrics.CISExp, d.Metrics.ISExp = results.Float(mathExp(cis)), results.Float(mathExp(is))
		d.Metrics.CISCI95 = &[2]float64{cis - 0.02, cis + 0.03}
		d.Metrics.ISCI95 = &[2]float64{is - 0.03, is + 0.02}
		d.Models[results.ModelClassifier] = results.ModelRef{File: "cls.onnx", SHA256: "ef02", Classes: []string{"a", "b", "c", "d"}}
		docs = append(docs, d)
	}
	scores("MUNIT", 1.039, 1.056)
	scores("CycleGAN", 0.078, 0.795)
	scores("UNIT", 0.096, 0.808)
	dist := doc("MUNIT", "cat2dog-fid")
	dist.Metrics.FID = &results.FID{Value: 21.456, CI95: &[2]float64{20.1, 23.0}, NumSamples: 1000, NumReal: 1000, FeatureDim: 2048}
	dist.Metrics.KID = &results.KID{Mean: 0.0123, Std: 0.0011, Subsets: 100, SubsetSize: 1000}
	dist.Metrics.PRDC = &results.PRDC{Precision: 0.712, Recall: 0.523, FScore: 0.603, Density: 0.934, Coverage: 0.815, PRK: 3, DCK: 5, NumSamples: 1000, NumReal: 1000}
	docs = append(docs, dist)
	d2 := doc("CycleGAN", "cat2dog-fid")
	d2.Metrics.FID = &results.FID{Value: 35.2, NumSamples: 1000, NumReal: 1000, FeatureDim: 2048}
	d2.Metrics.PRDC = &results.PRDC{Precision: 0.651, Recall: 0.312, FScore: 0.422, Density: 0.801, Coverage: 0.603, PRK: 3, DCK: 5, NumSamples: 1000, NumReal: 1000}
	docs = append(docs, d2)
	return docs
}
