package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
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
		cmd := o.command(name+" --classifier C.onnx (--generator G.onnx --inputs DIR | --samples STORE/<method>) | "+name+" --logits LOGITS.npy",
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

	munit-eval cis --classifier modes.onnx --generator munit.onnx --inputs cats/testA
	munit-eval is --logits my_logits.npy --json`, "classifier outputs", "",
			func(cmd *cobra.Command) error { return runScores(cmd.Context(), cmd, *o) })
		fs := cmd.Flags()
		fs.StringVar(&o.classifier, "classifier", "", "classifier ONNX model")
		fs.StringVar(&o.logits, "logits", "", "score a float32 [M, K, C] logits .npy file instead")
		fs.StringVar(&o.classes, "classes", "", "class names for --logits, comma separated")
		o.protocolFlags(cmd, "samples_per_input", "bootstrap", "splits")
		rootCmd.AddCommand(cmd)
	}
}

func runScores(ctx context.Context, cmd *cobra.Command, o scoreOptions) error {
	want := evaluate.Metrics{IS: true}
	name := commandName(cmd)
	if err := o.check(cmd, want); err != nil {
		return err
	}
	var doc *results.Document
	if o.logits != "" {
		if o.classifier != "" || o.given() {
			return usageError{fmt.Errorf("%s: --logits scores a file: give no --classifier, --generator or --samples", name)}
		}
		var err error
		if doc, err = evaluate.Logits(o.logits, classNames(o.classes), o.dataset, o.p); err != nil {
			return err
		}
	} else {
		if o.classifier == "" || !o.given() {
			return usageError{fmt.Errorf("%s: give --classifier C.onnx with --generator G.onnx --inputs DIR or --samples STORE/<method>, or --logits FILE.npy", name)}
		}
		s, err := openScorers(evaluate.ModelFiles{Classifier: o.classifier}, want)
		if err != nil {
			return err
		}
		defer s.Close()
		quiet := o.out.json
		smp, err := o.samples(ctx, cmd, o.p.SamplesPerInput, quiet)
		if err != nil {
			return err
		}
		if doc, err = evaluate.Measure(ctx, s, o.job(want, smp, quiet)); err != nil {
			return err
		}
		o.noteStore(cmd, o.src.Generator != "")
	}
	return emit(cmd.OutOrStdout(), o.out, doc, model.ORTVersion(), func(w io.Writer) error {
		if err := scoresTable(w, doc); err != nil {
			return err
		}
		printSyntheticNotes(w, doc)
		return nil
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
		fmt.Fprintln(w, classShares(m.Classes, m.ClassShare, 10))
	}
	return nil
}

func splitsOf(m results.Metrics) int {
	if m.ISSplits == nil {
		return 0
	}
	return m.ISSplits.Splits
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

// distOptions are the flags of munit-eval fid and kid.
type distOptions struct {
	*metricFlags
	classifier string
	real       string
}

func init() {
	for _, name := range []string{"fid", "kid"} {
		o := &distOptions{metricFlags: newMetricFlags()}
		o.p.SamplesPerInput = 0 // all the store holds
		cmd := o.command(name+" --classifier C.onnx (--samples STORE/<method> | --generator G.onnx --inputs DIR) --real DIR",
			"measure FID and KID between samples and real target images",
			`Fid and kid (one command under two names; both report both) compare the
pool features (the classifier's "features" output, e.g. an ImageNet
Inception-v3 exported with features) of a method's samples with those of
real target images:

	FID = ||mu_s - mu_r||^2 + Tr(S_s + S_r - 2 (S_s^1/2 S_r S_s^1/2)^1/2)

between Gaussian fits (covariance with N-1), with a 95% interval from a
bootstrap over inputs (--fid-bootstrap resamples; each is a full FID, so by
default only for features of up to 256 dimensions), and
KID, the unbiased MMD^2 with the kernel (x.y/d + 1)^3, over --kid-subsets
random subsets of --kid-subset-size (clipped to the data): mean and std.
With --generator the samples are made through the sample store (--store,
default ./store).`, "classifier outputs", "",
			func(cmd *cobra.Command) error { return runDist(cmd.Context(), cmd, *o) })
		fs := cmd.Flags()
		fs.StringVar(&o.classifier, "classifier", "", "classifier ONNX model with a features output (required)")
		fs.StringVar(&o.real, "real", "", "real target image folder (required)")
		o.protocolFlags(cmd, "samples_per_input", "num_real", "fid_bootstrap", "kid_subsets", "kid_subset_size")
		fs.Lookup("samples-per-input").Usage = "samples per input (0: all the store holds; 1 with --generator)"
		rootCmd.AddCommand(cmd)
	}
}

func runDist(ctx context.Context, cmd *cobra.Command, o distOptions) error {
	want := evaluate.Metrics{FID: true, KID: true}
	if o.classifier == "" || o.real == "" || !o.given() {
		return usageError{fmt.Errorf("%s: need --classifier C.onnx, --real DIR and --samples STORE/<method> (or --generator G.onnx --inputs DIR)", commandName(cmd))}
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
	smp, err := o.samples(ctx, cmd, o.p.SamplesPerInput, quiet)
	if err != nil {
		return err
	}
	if all {
		o.p.SamplesPerInput = smp.Store.SamplesPerInput()
	}
	j := o.job(want, smp, quiet)
	if j.Real, err = evaluate.RealFiles(o.real, o.p); err != nil {
		return err
	}
	j.RealName = o.real
	doc, err := evaluate.Measure(ctx, s, j)
	if err != nil {
		return err
	}
	o.noteStore(cmd, o.src.Generator != "")
	return emit(cmd.OutOrStdout(), o.out, doc, model.ORTVersion(), func(w io.Writer) error {
		f, kid := doc.Metrics.FID, doc.Metrics.KID
		ci := "-"
		if f.CI95 != nil {
			ci = interval(*f.CI95)
		}
		if err := renderTable(w, []string{"method", "samples", "real", "FID", "95% CI", "KID", "KID std"},
			[][]string{{doc.Method, strconv.Itoa(f.NumSamples), strconv.Itoa(f.NumReal), f4(f.Value), ci,
				fmt.Sprintf("%.5f", kid.Mean), fmt.Sprintf("%.5f", kid.Std)}}); err != nil {
			return err
		}
		printSyntheticNotes(w, doc)
		return nil
	})
}
