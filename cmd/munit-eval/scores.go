package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/inception"
	"github.com/munit-eval/munit-eval/internal/progress"
	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/translate"
	"github.com/spf13/cobra"
)

// scoreOptions are the flags of munit-eval is and cis.
type scoreOptions struct {
	src        sampleFlags
	out        outputFlags
	classifier string
	logits     string
	classes    string
	perInput   int
	bootstrap  int
	splits     int
	contiguous bool
	dataset    string
	noCache    bool
}

func init() {
	for _, name := range []string{"is", "cis"} {
		o := &scoreOptions{perInput: 100, bootstrap: 2000, splits: metrics.DefaultSplits}
		cmd := &cobra.Command{
			Use:   name + " --classifier C.onnx (--generator G.onnx --inputs DIR | --samples STORE/<method>) | " + name + " --logits LOGITS.npy",
			Short: "measure the Inception Score and Conditional Inception Score (the MUNIT paper's definitions)",
			Long: `Is and cis (one command under two names; both report everything) score a
model's samples with a domain classifier, as the MUNIT paper does. With
p_ik = softmax(logits) of sample k of input i (natural logs, 0 ln 0 = 0):

	q_i = mean_k p_ik,  q = mean_i q_i
	CIS = mean_i mean_k KL(p_ik || q_i)
	IS  = mean_i mean_k KL(p_ik || q)

The paper's tables print these raw means in nats (is, cis); the official
evaluation script prints exp() of them (is_exp, cis_exp). Both are reported,
labelled, with 95% bootstrap intervals over inputs (--bootstrap resamples,
seeded by --seed), and the conventional Inception Score of Salimans et al.
(exp of the mean KL within each of --splits splits; mean and population std).

The paper's protocol is the default: 100 inputs x 100 samples, translated
through the sample store as needed (--generator) or read from it (--samples).
--logits scores a float32 [M, K, C] logits array from anywhere instead.

	munit-eval cis --classifier modes.onnx --generator munit.onnx --inputs cats/testA
	munit-eval is --logits my_logits.npy --json`,
			Args: exactArgs(0, "no positional arguments"),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runScores(cmd.Context(), cmd, *o)
			},
		}
		o.src.register(cmd)
		fs := cmd.Flags()
		fs.StringVar(&o.classifier, "classifier", "", "classifier ONNX model")
		fs.StringVar(&o.logits, "logits", "", "score a float32 [M, K, C] logits .npy file instead")
		fs.StringVar(&o.classes, "classes", "", "class names for --logits, comma separated")
		fs.IntVar(&o.perInput, "samples-per-input", o.perInput, "samples per input K")
		fs.IntVar(&o.bootstrap, "bootstrap", o.bootstrap, "bootstrap resamples over inputs (0: no interval)")
		fs.IntVar(&o.splits, "splits", o.splits, "splits of the conventional Inception Score")
		fs.BoolVar(&o.contiguous, "contiguous-splits", false, "split rows in order instead of torch-fidelity's shuffle (seed 2020)")
		o.out.register(cmd, &o.dataset, &o.noCache, "classifier outputs", "")
		rootCmd.AddCommand(cmd)
	}
}

func runScores(ctx context.Context, cmd *cobra.Command, o scoreOptions) error {
	if err := o.src.validate(cmd); err != nil {
		return err
	}
	if o.bootstrap < 0 || o.splits < 1 || o.perInput < 1 {
		return usageError{fmt.Errorf("%s: --bootstrap must be >= 0, --splits and --samples-per-input >= 1", cmd.CommandPath())}
	}
	sopts := inception.ScoreOptions{Bootstrap: o.bootstrap, Seed: o.src.seed, Splits: o.splits, ContiguousSplits: o.contiguous}
	var doc *results.Document
	if o.logits != "" {
		if o.classifier != "" || o.src.given() {
			return usageError{fmt.Errorf("%s: --logits scores a file: give no --classifier, --generator or --samples", cmd.CommandPath())}
		}
		a, err := images.ReadNPY(o.logits)
		if err != nil {
			return err
		}
		if len(a.Shape) != 3 {
			return fmt.Errorf("%s: logits have shape %v, want rank 3 [M, K, C]", o.logits, a.Shape)
		}
		m, k, c := a.Shape[0], a.Shape[1], a.Shape[2]
		if m == 0 || k == 0 || c == 0 {
			return fmt.Errorf("%s: logits have shape %v: M, K and C must be positive", o.logits, a.Shape)
		}
		classes := classNames(o.classes, c)
		if len(classes) != c {
			return usageError{fmt.Errorf("%s: --classes names %d classes, the logits have %d", cmd.CommandPath(), len(classes), c)}
		}
		doc = results.New(strings.TrimSuffix(filepath.Base(o.logits), filepath.Ext(o.logits)), o.dataset)
		doc.Protocol = results.Protocol{NumInputs: m, SamplesPerInput: k, Seed: o.src.seed, Bootstrap: o.bootstrap, Splits: o.splits}
		sha, err := images.HashFile(o.logits)
		if err != nil {
			return err
		}
		doc.Models = map[string]results.ModelRef{"logits": {File: filepath.Base(o.logits), SHA256: sha, Classes: classes}}
		w, err := inception.Scores(a.Float64(), m, k, classes, sopts, &doc.Metrics)
		if err != nil {
			return fmt.Errorf("%s: %w", o.logits, err)
		}
		doc.Warnings = append(doc.Warnings, w...)
	} else {
		if o.classifier == "" || !o.src.given() {
			return usageError{fmt.Errorf("%s: give --classifier C.onnx with --generator G.onnx --inputs DIR or --samples STORE/<method>, or --logits FILE.npy", cmd.CommandPath())}
		}
		quiet := global.quiet || o.out.json
		st, m, warnings, err := o.src.open(ctx, cmd, o.perInput, quiet)
		if err != nil {
			return err
		}
		sopts.Seed = o.src.seed
		c, err := inception.Open(o.classifier, model.Options{Threads: global.threads, Device: global.device})
		if err != nil {
			return err
		}
		defer c.Close()
		r := inception.NewRunner(c, cacheDir(o.noCache, storeRoot(st), "classifier"))
		r.Bar = progress.New(m*o.perInput, "classify", quiet)
		outs, err := inception.StoreOutputs(ctx, r, st, m, o.perInput)
		r.Bar.Finish()
		if err != nil {
			return err
		}
		doc = results.New(st.Method(), o.dataset)
		doc.Protocol = results.Protocol{NumInputs: m, SamplesPerInput: o.perInput, Seed: o.src.seed, Bootstrap: o.bootstrap,
			Splits: o.splits, Select: o.src.selection, ImageSize: o.src.size, Inputs: o.src.inputs, Samples: st.Dir()}
		doc.Models = map[string]results.ModelRef{results.ModelClassifier: {File: filepath.Base(o.classifier), SHA256: c.SHA256(),
			Classes: c.Classes, Synthetic: c.Info().Synthetic()}}
		addStoreModels(doc, st)
		doc.Warnings = warnings
		w, err := inception.Scores(inception.Logits(outs), m, o.perInput, c.Classes, sopts, &doc.Metrics)
		if err != nil {
			return fmt.Errorf("%s: %w", st.Dir(), err)
		}
		doc.Warnings = append(doc.Warnings, w...)
	}
	return emit(cmd.OutOrStdout(), o.out, doc, model.ORTVersion(), func(w io.Writer) error {
		return scoresTable(w, doc)
	})
}

func scoresTable(w io.Writer, doc *results.Document) error {
	m := doc.Metrics
	ci := func(p *[2]float64) string {
		if p == nil {
			return "-"
		}
		return interval(*p)
	}
	split := "-"
	if m.ISSplits != nil {
		split = fmt.Sprintf("%.4f ± %.4f", m.ISSplits.Mean, m.ISSplits.Std)
	}
	rows := [][]string{{doc.Method, strconv.Itoa(*m.NumInputs), strconv.Itoa(*m.SamplesPerInput),
		f4(*m.IS), ci(m.ISCI95), f4(*m.ISExp), f4(*m.CIS), ci(m.CISCI95), f4(*m.CISExp), split}}
	if err := renderTable(w, []string{"method", "inputs", "samples", "IS (nats)", "95% CI", "exp(IS)", "CIS (nats)", "95% CI", "exp(CIS)",
		fmt.Sprintf("IS (%d splits)", splitsOf(m))}, rows); err != nil {
		return err
	}
	if len(m.ClassShare) > 0 {
		var parts []string
		for i, s := range m.ClassShare {
			parts = append(parts, fmt.Sprintf("%s %.1f%%", m.Classes[i], 100*s))
		}
		fmt.Fprintf(w, "samples per class (argmax): %s\n", strings.Join(parts, ", "))
	}
	return nil
}

func splitsOf(m results.Metrics) int {
	if m.ISSplits == nil {
		return 0
	}
	return m.ISSplits.Splits
}

// classNames splits a --classes list, or names C classes class0..class{C-1}.
func classNames(list string, c int) []string {
	if list != "" {
		parts := strings.Split(list, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts
	}
	names := make([]string, c)
	for i := range names {
		names[i] = "class" + strconv.Itoa(i)
	}
	return names
}

// cacheDir is the store's cache folder of kind, or "" when caching is off.
func cacheDir(off bool, root, kind string) string {
	if off {
		return ""
	}
	return filepath.Join(root, translate.CacheDirName, kind)
}

// distOptions are the flags of munit-eval fid and kid.
type distOptions struct {
	src          sampleFlags
	out          outputFlags
	classifier   string
	real         string
	perInput     int
	numReal      int
	fidBootstrap int
	kidSubsets   int
	kidSize      int
	dataset      string
	noCache      bool
}

func init() {
	for _, name := range []string{"fid", "kid"} {
		o := &distOptions{perInput: 0, fidBootstrap: inception.AutoFIDBootstrap, kidSubsets: metrics.DefaultKIDSubsets, kidSize: metrics.DefaultKIDSubsetSize}
		cmd := &cobra.Command{
			Use:   name + " --classifier C.onnx (--samples STORE/<method> | --generator G.onnx --inputs DIR) --real DIR",
			Short: "measure FID and KID between samples and real target images",
			Long: `Fid and kid (one command under two names; both report both) compare the
pool features (the classifier's "features" output, e.g. an ImageNet
Inception-v3 exported with features) of a method's samples with those of
real target images:

	FID = ||mu_s - mu_r||^2 + Tr(S_s + S_r - 2 (S_s^1/2 S_r S_s^1/2)^1/2)

between Gaussian fits (covariance with N-1), with a 95% interval from a
bootstrap over inputs (--fid-bootstrap resamples; each is a full FID, so by
default only for features of up to 256 dimensions), and
KID, the unbiased MMD^2 with the kernel (x.y/d + 1)^3, over --kid-subsets
random subsets of --kid-subset-size (clipped to the data): mean and std.`,
			Args: exactArgs(0, "no positional arguments"),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runDist(cmd.Context(), cmd, *o)
			},
		}
		o.src.register(cmd)
		fs := cmd.Flags()
		fs.StringVar(&o.classifier, "classifier", "", "classifier ONNX model with a features output (required)")
		fs.StringVar(&o.real, "real", "", "real target image folder (required)")
		fs.IntVar(&o.perInput, "samples-per-input", 0, "samples per input (0: all the store holds; 1 with --generator)")
		fs.IntVar(&o.numReal, "num-real", 0, "real images to use (0: all)")
		fs.IntVar(&o.fidBootstrap, "fid-bootstrap", o.fidBootstrap, "bootstrap resamples for the FID interval (0: none; -1: 100 up to 256 feature dimensions, else none)")
		fs.IntVar(&o.kidSubsets, "kid-subsets", o.kidSubsets, "KID subsets")
		fs.IntVar(&o.kidSize, "kid-subset-size", o.kidSize, "KID subset size")
		o.out.register(cmd, &o.dataset, &o.noCache, "classifier outputs", "")
		rootCmd.AddCommand(cmd)
	}
}

func runDist(ctx context.Context, cmd *cobra.Command, o distOptions) error {
	if err := o.src.validate(cmd); err != nil {
		return err
	}
	if o.classifier == "" || o.real == "" || !o.src.given() {
		return usageError{fmt.Errorf("%s: need --classifier C.onnx, --real DIR and --samples STORE/<method> (or --generator G.onnx --inputs DIR)", cmd.CommandPath())}
	}
	if o.perInput < 0 || o.numReal < 0 || o.kidSubsets < 0 || o.kidSize < 0 || o.fidBootstrap < inception.AutoFIDBootstrap {
		return usageError{fmt.Errorf("%s: --samples-per-input, --num-real, --kid-subsets, --kid-subset-size and --fid-bootstrap must not be negative", cmd.CommandPath())}
	}
	quiet := global.quiet || o.out.json
	k := o.perInput
	if k == 0 && o.src.samples == "" {
		k = 1
	}
	st, m, warnings, err := o.src.open(ctx, cmd, max(k, 1), quiet)
	if err != nil {
		return err
	}
	if k == 0 {
		k = st.SamplesPerInput()
	}
	c, err := inception.Open(o.classifier, model.Options{Threads: global.threads, Device: global.device})
	if err != nil {
		return err
	}
	defer c.Close()
	if !c.HasFeatures() {
		return fmt.Errorf("%s: the classifier has no \"features\" output; FID and KID need pool features (export it with features)", o.classifier)
	}
	realFiles, err := images.ListDir(o.real)
	if err != nil {
		return err
	}
	if o.numReal > 0 && o.numReal < len(realFiles) {
		realFiles = realFiles[:o.numReal]
	}
	r := inception.NewRunner(c, cacheDir(o.noCache, storeRoot(st), "classifier"))
	r.Bar = progress.New(m*k+len(realFiles), "features", quiet)
	x, y, err := inception.StoreFeatures(ctx, r, st, m, k, realFiles, o.src.size)
	if err != nil {
		return err
	}
	doc := results.New(st.Method(), o.dataset)
	doc.Protocol = results.Protocol{NumInputs: m, SamplesPerInput: k, Seed: o.src.seed, Bootstrap: o.fidBootstrap,
		Select: o.src.selection, ImageSize: o.src.size, Inputs: o.src.inputs, Real: o.real, Samples: st.Dir()}
	doc.Models = map[string]results.ModelRef{results.ModelClassifier: {File: filepath.Base(o.classifier), SHA256: c.SHA256(),
		Classes: c.Classes, Synthetic: c.Info().Synthetic()}}
	addStoreModels(doc, st)
	doc.Warnings = warnings
	w, err := inception.FIDKID(x, y, inception.DistanceOptions{FIDBootstrap: o.fidBootstrap, GroupSize: k,
		KID: metrics.KIDOptions{Subsets: o.kidSubsets, SubsetSize: o.kidSize, Seed: uint64(o.src.seed)}, Seed: o.src.seed,
		WantFID: true, WantKID: true}, &doc.Metrics)
	if err != nil {
		return err
	}
	doc.Warnings = append(doc.Warnings, w...)
	return emit(cmd.OutOrStdout(), o.out, doc, model.ORTVersion(), func(w io.Writer) error {
		f, kid := doc.Metrics.FID, doc.Metrics.KID
		ci := "-"
		if f.CI95 != nil {
			ci = interval(*f.CI95)
		}
		return renderTable(w, []string{"method", "samples", "real", "FID", "95% CI", "KID", "KID std"},
			[][]string{{doc.Method, strconv.Itoa(f.NumSamples), strconv.Itoa(f.NumReal), f4(f.Value), ci,
				fmt.Sprintf("%.5f", kid.Mean), fmt.Sprintf("%.5f", kid.Std)}})
	})
}
