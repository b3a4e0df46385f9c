package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/results"
	"github.com/spf13/cobra"
)

// scoreOptions are the flags of munit-eval is and cis.
type scoreOptions struct {
	*metricFlags
	classifier string
	logits     string
	classes    string
}

func init() {
	for _, name := range []string{"is", "cis"} {
		o := &scoreOptions{metricFlags: newMetricFlags()}
		cmd := o.command(name+" --classifier C.onnx (--generator G.onnx --inputs DIR | --samples STORE/<method> | DIR) | "+name+" --logits LOGITS.npy",
			"measure the Inception Score and Conditional Inception Score (the MUNIT paper's definitions)",
			`Is and cis (one command under two names; both report everything) score a
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
through the sample store (--store, default ./store) as needed (--generator)
or read from it (--samples). --logits scores a float32 [M, K, C] logits array
from anywhere instead.

A plain folder DIR (or --samples DIR without a manifest) is read where it
is. A folder of images has no inputs, so IS and CIS as the paper defines
them do not exist there: it gets the conventional split Inception Score over
all its images (is_splits, as torch-fidelity and the papers that cite
Salimans et al. print it) and a warning saying so. A folder of
sub-folders, <stem>/<k>.png, is grouped by input and gets everything.

	munit-eval cis --classifier modes.onnx --generator munit.onnx --inputs cats/testA
	munit-eval is --classifier inception.onnx generated/
	munit-eval is --logits my_logits.npy --json`, "classifier outputs", "", 1, "one sample folder DIR",
			func(cmd *cobra.Command, args []string) error { return runScores(cmd.Context(), cmd, args, *o) })
		fs := cmd.Flags()
		fs.StringVar(&o.classifier, "classifier", "", "classifier ONNX model")
		fs.StringVar(&o.logits, "logits", "", "score a float32 [M, K, C] logits .npy file instead")
		fs.StringVar(&o.classes, "classes", "", "class names for --logits, comma separated")
		o.protocolFlags(cmd, "samples_per_input", "bootstrap", "splits")
		cmd.Flags().BoolVar(&o.p.ContiguousSplits, "contiguous-splits", false, "split rows in order for is_splits instead of torch-fidelity's shuffle (seed 2020)")
		rootCmd.AddCommand(cmd)
	}
}

func runScores(ctx context.Context, cmd *cobra.Command, args []string, o scoreOptions) error {
	want := evaluate.Metrics{IS: true}
	name := commandName(cmd)
	if err := o.check(cmd, want); err != nil {
		return err
	}
	var doc *results.Document
	if o.logits != "" {
		if o.classifier != "" || o.given(args) {
			return usageError{fmt.Errorf("%s: --logits scores a file: give no --classifier, --generator or --samples", name)}
		}
		var err error
		if doc, err = evaluate.Logits(o.logits, classNames(o.classes), o.dataset, o.p); err != nil {
			return err
		}
	} else {
		if o.classifier == "" || !o.given(args) {
			return usageError{fmt.Errorf("%s: give --classifier C.onnx with --generator G.onnx --inputs DIR, --samples STORE/<method> or a folder DIR, or --logits FILE.npy", name)}
		}
		s, err := openScorers(evaluate.ModelFiles{Classifier: o.classifier}, want)
		if err != nil {
			return err
		}
		defer s.Close()
		quiet := o.out.json
		smp, err := o.samples(ctx, cmd, args, o.p.SamplesPerInput, o.grouped(args), quiet)
		if err != nil {
			return err
		}
		if doc, err = evaluate.Measure(ctx, s, o.job(want, smp, quiet)); err != nil {
			return err
		}
		o.noteStore(cmd, o.src.Generator != "" || smp.Folder != nil && !o.noCache)
	}
	return emitWithNotes(cmd.OutOrStdout(), o.out, doc, metricTable)
}

// classNames splits a --classes list (nil when empty: the classes are
// then named class0..class{C-1}).
func classNames(list string) []string {
	if list == "" {
		return nil
	}
	parts := strings.Split(list, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// distOptions are the flags of munit-eval fid, kid and prdc.
type distOptions struct {
	*metricFlags
	classifier string
	real       string
	realStats  string
	prdc       bool
}

const distLong = `Fid and kid (one command under two names; both report both) compare the
pool features (the classifier's "features" output, e.g. an Inception-v3
exported with features) of a method's samples with those of real target
images:

	FID = ||mu_s - mu_r||^2 + Tr(S_s + S_r - 2 (S_s^1/2 S_r S_s^1/2)^1/2)

between Gaussian fits (covariance with N-1), with a 95% interval from a
bootstrap over inputs (--fid-bootstrap resamples; each is a full FID, so by
default only for features of up to 256 dimensions), and
KID, the unbiased MMD^2 with the kernel (x.y/d + 1)^3, over --kid-subsets
random subsets of --kid-subset-size (clipped to the data): mean and std.
--prdc adds precision and recall (Kynkaanniemi et al. 2019, --pr-k 3
neighbours, as torch-fidelity) and density and coverage (Naeem et al.
2020, --dc-k 5); prdc reports those four alone.

The samples: a store folder (--samples STORE/<method>), a generator run
through the store (--generator, --inputs; --store, default ./store), or a
plain folder given as the first argument (or --samples DIR without a
manifest): images, or sub-folders of samples DIR/<stem>/<k>.png; every
image of it is used. The real images: --real DIR
(or the second argument), or --real-stats STATS.npz, real statistics in
pytorch-fid's format (float64 mu and sigma, from munit-eval fid-stats or
pytorch-fid --save-stats); FID alone is then computed (KID and PRDC need
features), without interval.

--resize clean resizes every image to 299x299 in Go with clean-fid's
antialiased bicubic before the network; legacy (the default) hands the
network the images as they are (pytorch-fid: its own bilinear resize).
See docs/metrics.md for which published numbers each setting matches.

	munit-eval fid --classifier fid_inception.onnx generated/ real/
	munit-eval fid --classifier fid_inception.onnx generated/ --real-stats real_stats.npz`

func init() {
	for _, name := range []string{"fid", "kid", "prdc"} {
		o := &distOptions{metricFlags: newMetricFlags()}
		o.p.SamplesPerInput = 0 // all the store holds
		long, short := distLong, "measure FID and KID between samples and real target images"
		if name == "prdc" {
			short = "measure precision, recall, density and coverage of samples against real target images"
			long = `Prdc reports improved precision and recall (Kynkaanniemi et al. 2019, as
torch-fidelity computes them: k = --pr-k 3 nearest neighbours, a sample is
inside the real manifold when within some real image's k-th neighbour
distance) and density and coverage (Naeem et al. 2020, as their prdc
package: k = --dc-k 5) between the features of the samples and of the real
images. Sources, folders and --resize as for fid (munit-eval help fid).

	munit-eval prdc --classifier fid_inception.onnx generated/ real/`
		}
		cmd := o.command(name+" --classifier C.onnx (--samples STORE/<method> | --generator G.onnx --inputs DIR | SAMPLES_DIR) (--real DIR | --real-stats STATS.npz | REAL_DIR)",
			short, long, "classifier outputs", "", 2, "a sample folder and a real folder",
			func(cmd *cobra.Command, args []string) error { return runDist(cmd.Context(), cmd, args, *o) })
		fs := cmd.Flags()
		fs.StringVar(&o.classifier, "classifier", "", "classifier ONNX model with a features output (required)")
		fs.StringVar(&o.real, "real", "", "real target image folder")
		if name != "prdc" {
			fs.StringVar(&o.realStats, "real-stats", "", "real statistics .npz (pytorch-fid's mu and sigma) instead of --real: FID only")
			fs.BoolVar(&o.prdc, "prdc", false, "also report precision, recall, density and coverage")
		}
		o.protocolFlags(cmd, "samples_per_input", "num_real", "fid_bootstrap", "kid_subsets", "kid_subset_size", "pr_k", "dc_k")
		o.resizeFlag(cmd)
		fs.Lookup("samples-per-input").Usage = "samples per input (0: all the store holds; 1 with --generator)"
		rootCmd.AddCommand(cmd)
	}
}

func runDist(ctx context.Context, cmd *cobra.Command, args []string, o distOptions) error {
	name := commandName(cmd)
	want := evaluate.Metrics{FID: true, KID: true, PRDC: o.prdc}
	if name == "prdc" {
		want = evaluate.Metrics{PRDC: true}
	}
	if len(args) == 2 {
		if o.real != "" || o.realStats != "" {
			return usageError{fmt.Errorf("%s: the second argument %s is the real folder: give no --real or --real-stats", name, args[1])}
		}
		o.real, args = args[1], args[:1]
	}
	if o.real != "" && o.realStats != "" {
		return usageError{fmt.Errorf("%s: give --real DIR or --real-stats STATS.npz, not both", name)}
	}
	if o.classifier == "" || (o.real == "" && o.realStats == "") || !o.given(args) {
		return usageError{fmt.Errorf("%s: need --classifier C.onnx, real images (--real DIR, --real-stats STATS.npz or a second folder) and samples (a folder, --samples STORE/<method> or --generator G.onnx --inputs DIR)", name)}
	}
	all := o.p.SamplesPerInput == 0 // all the store holds; 1 with --generator
	if all {
		o.p.SamplesPerInput = 1
	}
	if err := o.check(cmd, want); err != nil {
		return err
	}
	s, err := openScorers(evaluate.ModelFiles{Features: o.classifier}, want)
	if err != nil {
		return err
	}
	defer s.Close()
	quiet := o.out.json
	smp, err := o.samples(ctx, cmd, args, o.p.SamplesPerInput, o.grouped(args), quiet)
	if err != nil {
		return err
	}
	if all && smp.Store != nil {
		o.p.SamplesPerInput = smp.Store.SamplesPerInput()
	}
	j := o.job(want, smp, quiet)
	if o.realStats != "" {
		if j.RealStats, err = evaluate.ReadStats(o.realStats); err != nil {
			return err
		}
		j.RealStatsName = o.realStats
	} else {
		if j.Real, err = evaluate.RealFiles(o.real, o.p); err != nil {
			return err
		}
		j.RealName = o.real
	}
	doc, err := evaluate.Measure(ctx, s, j)
	if err != nil {
		return err
	}
	o.noteStore(cmd, o.src.Generator != "" || smp.Folder != nil && !o.noCache)
	return emitWithNotes(cmd.OutOrStdout(), o.out, doc, metricTable)
}

// emitWithNotes writes doc as the output flags ask, its table printed by
// table followed by the notes on synthetic models.
func emitWithNotes(w io.Writer, out outputFlags, doc *results.Document, table func(io.Writer, *results.Document) error) error {
	return emit(w, out, doc, model.ORTVersion(), func(w io.Writer) error {
		if err := table(w, doc); err != nil {
			return err
		}
		printSyntheticNotes(w, doc)
		return nil
	})
}
