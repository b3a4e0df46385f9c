package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/progress"
	"github.com/munit-eval/munit-eval/lpips"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/translate"
	"github.com/spf13/cobra"
)

// lpipsOptions are the flags of munit-eval lpips.
type lpipsOptions struct {
	src       sampleFlags
	out       outputFlags
	lpips     string
	pairs     int
	pairing   string
	perInput  int
	bootstrap int
	real      string
	realSize  int
	dataset   string
	noCache   bool
}

func init() {
	o := lpipsOptions{pairs: 19, pairing: string(lpips.Independent), bootstrap: 2000, perInput: 10}
	cmd := &cobra.Command{
		Use:   "lpips --lpips L.onnx (--generator G.onnx --inputs DIR | --samples STORE/<method>) [--pairs 19] [--real DIR]",
		Short: "measure LPIPS diversity (the MUNIT paper's protocol)",
		Long: `Lpips measures the diversity of a multimodal translation model as the MUNIT
paper does: for each of M inputs (--num-inputs, default 100), P pairs of outputs
(--pairs, default 19: 1,900 pairs), the mean LPIPS distance over all pairs, with
its standard deviation, standard error and a 95% percentile-bootstrap interval
over inputs (--bootstrap resamples, seeded by --seed).

Pairings (--pairing):
	independent  2P independently sampled outputs per input, pairs (2j, 2j+1): the MUNIT protocol
	consecutive  P+1 samples, pairs (j, j+1): the BicycleGAN protocol
	all          K samples (--samples-per-input K), all K(K-1)/2 pairs

With --generator the samples are made through the sample store (--store),
which reuses whatever it already holds; with --samples they are read from an
existing store folder. Deterministic generators get their one output repeated,
so their diversity is 0. --real DIR adds the "real data" row: P x M pairs of
distinct real target images drawn with the seed (alone, it is the only row).

Embeddings are computed once per image and cached in the store under
.cache/lpips/ (about 1 MB per 256x256 image for AlexNet; --no-cache turns
the disk cache off).

The LPIPS version (metadata munit_eval.lpips_version) matters: v0.0 gives
values about half of v0.1. It goes into every result.

	munit-eval lpips --lpips lpips_alex.onnx --generator munit.onnx --inputs edges/testA --pairs 19`,
		Args: exactArgs(0, "no positional arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLPIPS(cmd.Context(), cmd, o)
		},
	}
	o.src.register(cmd)
	fs := cmd.Flags()
	fs.StringVar(&o.lpips, "lpips", "", "LPIPS embedding ONNX model (required)")
	fs.IntVar(&o.pairs, "pairs", o.pairs, "pairs per input P")
	fs.StringVar(&o.pairing, "pairing", o.pairing, "independent, consecutive or all")
	fs.IntVar(&o.perInput, "samples-per-input", o.perInput, "samples per input K for --pairing all")
	fs.IntVar(&o.bootstrap, "bootstrap", o.bootstrap, "bootstrap resamples over inputs for the 95% interval")
	fs.StringVar(&o.real, "real", "", "real target image folder: adds the real-data row")
	fs.IntVar(&o.realSize, "real-size", 0, "resize real images (shorter side, centre crop) before LPIPS (0: --size, else as they are)")
	o.out.register(cmd, &o.dataset, &o.noCache, "embeddings", " (the real row to FILE with .real before .json)")
	cmd.Flags().Lookup("json").Usage = "print the results document (an array of two with --real and samples) instead of the table"
	rootCmd.AddCommand(cmd)
}

func runLPIPS(ctx context.Context, cmd *cobra.Command, o lpipsOptions) error {
	if o.lpips == "" {
		return usageError{fmt.Errorf("lpips: --lpips L.onnx is required")}
	}
	if err := o.src.validate(cmd); err != nil {
		return err
	}
	if !o.src.given() && o.real == "" {
		return usageError{fmt.Errorf("lpips: give --generator G.onnx --inputs DIR, --samples STORE/<method>, or --real DIR")}
	}
	pairing, err := lpips.ParsePairing(o.pairing)
	if err != nil {
		return usageError{fmt.Errorf("lpips: --pairing: %w", err)}
	}
	opts := lpips.Options{Pairing: pairing, Pairs: o.pairs, SamplesPerInput: o.perInput,
		NumInputs: o.src.numInputs, Bootstrap: o.bootstrap, Seed: o.src.seed}
	if err := opts.Validate(); err != nil {
		return usageError{fmt.Errorf("lpips: %w", err)}
	}
	if err := model.Init(global.ortLib); err != nil {
		return err
	}
	m, err := lpips.Open(o.lpips, model.Options{Threads: global.threads, Device: global.device})
	if err != nil {
		return err
	}
	defer m.Close()
	quiet := global.quiet || o.out.json
	var docs []*results.Document

	cacheRoot := func(root string) string {
		if o.noCache {
			return ""
		}
		return filepath.Join(root, translate.CacheDirName, "lpips")
	}
	if o.src.given() {
		k := lpips.SamplesNeeded(pairing, o.pairs, o.perInput)
		st, numInputs, warnings, err := o.src.open(ctx, cmd, k, quiet)
		if err != nil {
			return err
		}
		opts.NumInputs, opts.Seed = numInputs, o.src.seed
		e := lpips.NewEmbedder(m, cacheRoot(storeRoot(st)))
		e.Bar = progress.New(numInputs*k, "lpips", quiet)
		div, err := lpips.StoreDiversity(ctx, e, st, opts)
		e.Bar.Finish()
		if err != nil {
			return err
		}
		doc := lpipsDoc(st.Method(), o, m, div, warnings)
		doc.Protocol.NumInputs, doc.Protocol.SamplesPerInput = numInputs, k
		doc.Protocol.Samples = st.Dir()
		addStoreModels(doc, st)
		docs = append(docs, doc)
	}
	if o.real != "" {
		files, err := images.ListDir(o.real)
		if err != nil {
			return err
		}
		size := o.realSize
		if size == 0 {
			size = o.src.size
		}
		ropts := opts
		if ropts.NumInputs == 0 || !o.src.given() && !cmd.Flags().Changed("num-inputs") {
			ropts.NumInputs = defaultNumInputs
		}
		root := o.src.store
		if o.src.samples != "" {
			root = filepath.Dir(filepath.Clean(o.src.samples))
		}
		e := lpips.NewEmbedder(m, cacheRoot(root))
		div, err := lpips.RealDiversity(ctx, e, files, size, ropts)
		if err != nil {
			return err
		}
		var warnings []string
		if w := lpips.RealPairsWarning(len(files), div.N); w != "" {
			warnings = append(warnings, w)
		}
		doc := lpipsDoc(results.MethodRealData, o, m, div, warnings)
		doc.Protocol.NumInputs = ropts.NumInputs
		doc.Protocol.Real = o.real
		doc.Protocol.ImageSize = size
		docs = append(docs, doc)
	}
	return emitLPIPS(cmd.OutOrStdout(), o, docs)
}

func lpipsDoc(method string, o lpipsOptions, m *lpips.Model, div *results.Diversity, warnings []string) *results.Document {
	doc := results.New(method, o.dataset)
	doc.Protocol = results.Protocol{PairsPerInput: div.PairsPerInput, Pairing: div.Pairing,
		Seed: o.src.seed, Bootstrap: o.bootstrap, Select: o.src.selection, ImageSize: o.src.size, Inputs: o.src.inputs}
	doc.Models = map[string]results.ModelRef{results.ModelLPIPS: {File: filepath.Base(o.lpips), SHA256: m.SHA256(),
		Net: m.Net, Version: m.Version, Synthetic: m.Synthetic()}}
	doc.Metrics.LPIPSDiversity = div
	doc.Warnings = append(doc.Warnings, warnings...)
	if m.Version == "0.0" {
		doc.Warnings = append(doc.Warnings, "LPIPS version 0.0 (no scaling layer): values are about half of v0.1's and not comparable with the MUNIT paper")
	}
	if m.Synthetic() {
		doc.Warnings = append(doc.Warnings, "the LPIPS model is synthetic: its numbers are comparable within the demo only")
	}
	return doc
}

// addStoreModels records the store's generator models in the document.
func addStoreModels(doc *results.Document, st *translate.Store) {
	if doc.Models == nil {
		doc.Models = map[string]results.ModelRef{}
	}
	man := st.Manifest()
	for role, ref := range man.Models {
		doc.Models[role] = results.ModelRef{File: filepath.Base(ref.File), SHA256: ref.SHA256, Method: man.Method}
	}
	if man.FromFolder != "" {
		doc.Protocol.Samples = man.FromFolder
	}
}

func emitLPIPS(w io.Writer, o lpipsOptions, docs []*results.Document) error {
	ortVersion := model.ORTVersion()
	for i, doc := range docs {
		out := o.out
		if i > 0 && out.resultsPath != "" {
			out.resultsPath = strings.TrimSuffix(out.resultsPath, ".json") + ".real.json"
		}
		out.json = false
		noTable := func(io.Writer) error { return nil }
		if err := emit(io.Discard, out, doc, ortVersion, noTable); err != nil {
			return err
		}
		if out.resultsPath != "" && !o.out.json {
			fmt.Fprintf(os.Stderr, "wrote %s\n", out.resultsPath)
		}
	}
	if o.out.json {
		// One document prints as itself; a method and its real-data row
		// print as a JSON array of the two.
		var v any = docs[0]
		if len(docs) > 1 {
			v = docs
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	var rows [][]string
	for _, doc := range docs {
		d := doc.Metrics.LPIPSDiversity
		rows = append(rows, []string{doc.Method, d.LPIPSNet + " v" + d.LPIPSVersion, strconv.Itoa(d.NumInputs),
			strconv.Itoa(d.N), f4(d.Mean), f4(d.Std), f4(d.Stderr), interval(d.CI95)})
	}
	if err := renderTable(w, []string{"method", "LPIPS", "inputs", "pairs", "diversity", "std", "stderr", "95% CI"}, rows); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, doc := range docs {
		for _, warn := range doc.Warnings {
			if !seen[warn] {
				seen[warn] = true
				fmt.Fprintf(w, "warning: %s\n", warn)
			}
		}
	}
	return nil
}

// distanceOptions are the flags of munit-eval distance.
type distanceOptions struct {
	lpips string
	json  bool
	size  int
}

func init() {
	var o distanceOptions
	cmd := &cobra.Command{
		Use:   "distance --lpips L.onnx A.png B.png",
		Short: "print the LPIPS distance between two images",
		Long: `Distance prints the LPIPS distance between two images of the same size,

	LPIPS(x, y) = sum_l mean_{h,w} sum_c (e_l(x) - e_l(y))^2,

from the embeddings e_l of an LPIPS model (DESIGN.md §2), which equals the
reference lpips.LPIPS(net=..., version=...)(x, y) up to float32 rounding.
--json prints {"distance", "per_layer", "lpips_net", "lpips_version"}.`,
		Args: exactArgs(2, "two images A.png B.png"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDistance(cmd.OutOrStdout(), args[0], args[1], o)
		},
	}
	cmd.Flags().StringVar(&o.lpips, "lpips", "", "LPIPS embedding ONNX model (required)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print a JSON object")
	cmd.Flags().IntVar(&o.size, "size", 0, "resize both images first (shorter side, centre crop)")
	rootCmd.AddCommand(cmd)
}

func runDistance(w io.Writer, a, b string, o distanceOptions) error {
	if o.lpips == "" {
		return usageError{fmt.Errorf("distance: --lpips L.onnx is required")}
	}
	if err := model.Init(global.ortLib); err != nil {
		return err
	}
	m, err := lpips.Open(o.lpips, model.Options{Threads: global.threads, Device: global.device})
	if err != nil {
		return err
	}
	defer m.Close()
	e := lpips.NewEmbedder(m, "")
	embs, err := e.Embed([]images.Ref{{Path: a, Size: o.size}, {Path: b, Size: o.size}})
	if err != nil {
		return err
	}
	d, per, err := lpips.Distance(embs[0], embs[1])
	if err != nil {
		return fmt.Errorf("%s vs %s: %w", a, b, err)
	}
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"distance": d, "per_layer": per, "lpips_net": m.Net, "lpips_version": m.Version})
	}
	fmt.Fprintf(w, "%.6f\n", d)
	return nil
}
