package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/reports"
	"github.com/munit-eval/munit-eval/results"
	"github.com/spf13/cobra"
)

func init() {
	for _, name := range []string{"is", "cis"} {
		var logits, classes string
		cmd, f := metricCommand(name+" --classifier C.onnx (--generator G.onnx --inputs DIR | --samples STORE/<method> | DIR) | "+name+" --logits LOGITS.npy",
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
through the sample store (--store, default the per-user store) as needed (--generator)
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
	munit-eval is --logits my_logits.npy --json`, []string{"is"}, 1, reports.Output.Documents)
		run := cmd.RunE
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			if logits == "" {
				return run(cmd, args)
			}
			// Scoring a file runs no network: the protocol is all there is.
			if f.Plan.Models.Classifier != "" || f.Source.Generator != "" || f.Source.Samples != "" || len(args) > 0 {
				return usageError{fmt.Errorf("%s: --logits scores a file: give no --classifier, --generator or --samples", name)}
			}
			p := f.Plan.Protocol
			if err := p.Validate(entries(f.Plan)); err != nil {
				return usageError{fmt.Errorf("%s: %w", name, evaluate.FlagError(err))}
			}
			doc, err := evaluate.Logits(logits, evaluate.ClassNames(classes), f.Dataset.Name, p)
			if err != nil {
				return err
			}
			return show(cmd.OutOrStdout(), f.out, []*results.Document{doc}, reports.Output.Documents)
		}
		cmd.Flags().StringVar(&logits, "logits", "", "score a float32 [M, K, C] logits .npy file instead")
		cmd.Flags().StringVar(&classes, "classes", "", "class names for --logits, comma separated")
	}
}

const distLong = `Fid and kid (one command under two names; both report both) compare the
pool features (the classifier's "features" output, e.g. an Inception-v3
exported with features) of a method's samples with those of real target
images:

	FID = ||mu_s - mu_r||^2 + Tr(S_s + S_r - 2 (S_s^1/2 S_r S_s^1/2)^1/2)

between Gaussian fits (covariance with N-1), with a 95% interval from a
jackknife over input groups (--fid-interval on, off or auto; each
leave-one-out value is a full FID, so auto computes it only for features of
up to 256 dimensions; --fid-bootstrap is its deprecated form), and
KID, the unbiased MMD^2 with the kernel (x.y/d + 1)^3, over --kid-subsets
random subsets of --kid-subset-size (clipped to the data): mean and std.
--prdc adds precision and recall (Kynkaanniemi et al. 2019, --pr-k 3
neighbours, as torch-fidelity) and density and coverage (Naeem et al.
2020, --dc-k 5); prdc reports those four alone.

The samples: a store folder (--samples STORE/<method>), a generator run
through the store (--generator, --inputs; --store, default the per-user store), or a
plain folder given as the first argument (or --samples DIR without a
manifest): samples grouped by input (DIR/<stem>/<k>.png or
DIR/<stem>_<k>.png), of which the first --samples-per-input of each input
are used, or a flat folder of images, all used. The real images: --real DIR
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
	for _, name := range []string{"fid", "kid", "prdc", "cmmd", "fd"} {
		long, short, metrics := distLong, "measure FID and KID between samples and real target images", []string{"fid", "kid"}
		if name == "cmmd" {
			short, metrics = "measure CMMD (CLIP maximum mean discrepancy) of samples against real target images", []string{"cmmd"}
			long = `Cmmd reports CMMD (Jayasumana et al., "Rethinking FID", CVPR 2024): the
squared maximum mean discrepancy between the samples' and the real images'
embeddings from the features model (--features, a CLIP export of
python3 -m export.clip, which normalises them), with a Gaussian RBF kernel of
sigma 10, the biased estimator, times 1000, as cmmd-pytorch's distance.py.
The 95% interval is a jackknife over input groups. Sources, folders and
--resize as for fid (munit-eval help fid).

	munit-eval cmmd --features clip_vit_l14.onnx generated/ real/`
		}
		if name == "fd" {
			short, metrics = "measure the Fréchet distance in any features model's space (FD_DINOv2)", []string{"fd"}
			long = `Fd reports the Fréchet distance of FID in the space of any features model
(--classifier or --features M.onnx: FD_DINOv2 with a DINOv2 export of
python3 -m export.dinov2), recorded under its own key with the model's name,
so it is never mistaken for FID. Interval (--fid-interval), --real-stats
(from fid-stats with the same model: a .npz of another model is refused),
sources, folders and --resize as for fid (munit-eval help fid).

	munit-eval fd --classifier dinov2_vitl14.onnx generated/ real/`
		}
		if name == "cmmd" || name == "fd" {
			long += `
	munit-eval ` + name + ` --features samples.npy --real-features real.npy

--features X.npy --real-features Y.npy score embeddings as given ([N, D] or
[M, K, D] for the samples, [N, D] for the real images; same D).`
		}
		if name == "prdc" {
			short, metrics = "measure precision, recall, density and coverage of samples against real target images", []string{"prdc"}
			long = `Prdc reports improved precision and recall (Kynkaanniemi et al. 2019, as
torch-fidelity computes them: k = --pr-k 3 nearest neighbours, a sample is
inside the real manifold when within some real image's k-th neighbour
distance) and density and coverage (Naeem et al. 2020, as their prdc
package: k = --dc-k 5) between the features of the samples and of the real
images. Sources, folders and --resize as for fid (munit-eval help fid).

	munit-eval prdc --classifier fid_inception.onnx generated/ real/`
		}
		real := "(--real DIR | --real-stats STATS.npz | REAL_DIR)"
		if name != "fid" && name != "fd" {
			real = "(--real DIR | REAL_DIR)" // a .npz holds mu and sigma: FID and FD only
		}
		cmd, f := metricCommand(name+" --classifier C.onnx (--samples STORE/<method> | --generator G.onnx --inputs DIR | SAMPLES_DIR) "+real,
			short, long, metrics, 2, reports.Output.Documents)
		f.Named = name
		if name == "prdc" {
			cmd.Flags().MarkHidden("real-stats")
		}
		if name == "cmmd" || name == "fd" {
			embeddingsFlags(cmd, f, name)
		}
	}
}

func init() {
	f := &planFlags{Command: evaluate.Command{Plan: evaluate.Plan{Protocol: evaluate.DefaultProtocol()}}}
	var out string
	cmd := &cobra.Command{
		Use:   "fid-stats DIR --classifier C.onnx --out STATS.npz",
		Short: "write the FID statistics (mu, sigma) of a folder of images in pytorch-fid's .npz format",
		Long: `Fid-stats runs the features model over every image of a folder and writes
the mean mu [D] and the covariance sigma [D, D] (N-1 normalization, as
np.cov) of the features, float64, to a .npz as pytorch-fid's --save-stats
does. fid --real-stats reads it back (and files pytorch-fid wrote), so the
real images of a dataset are processed once. --resize and --size apply as
for fid; the features are cached in the store (--store, --no-cache).

	munit-eval fid-stats real/ --classifier fid_inception.onnx --out real_stats.npz`,
		Args: exactArgs(1, "one image folder DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			pl := f.Plan
			if pl.Models.Classifier+pl.Models.Features == "" || out == "" {
				return usageError{fmt.Errorf("fid-stats: need --classifier C.onnx and --out STATS.npz")}
			}
			if err := pl.Protocol.Validate(nil); err != nil {
				return usageError{fmt.Errorf("fid-stats: %w", evaluate.FlagError(err))}
			}
			pl.Warn, pl.Run = warnStderr, global.run(false)
			notice, err := userStore(&f.Store)
			if err != nil {
				return usageError{fmt.Errorf("fid-stats: %w", err)}
			}
			if err := model.Init(global.ortLib); err != nil {
				return err
			}
			g, err := evaluate.Stats(cmd.Context(), pl, args[0], f.Store)
			notice(os.Stderr)
			if err == nil {
				err = evaluate.WriteStats(out, g)
			}
			if err == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: mu [%d] and sigma [%d, %d] of %d images of %s\n", out, len(g.Mean), len(g.Mean), len(g.Mean), g.N, args[0])
			}
			return err
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the .npz to write (required)")
	cmd.Flags().StringVar(&f.Store, "store", "", "the store folder whose .cache/ keeps the features (default: $XDG_CACHE_HOME/munit-eval, else ~/.cache/munit-eval)")
	f.register(cmd, "models.classifier", "models.features", "cache", "protocol.size", "protocol.resize", "protocol.batch")
	rootCmd.AddCommand(cmd)
}

// embeddingsFlags give cmd (cmmd, fd) --real-features and, with
// --features X.npy, the scoring of embeddings files (no network runs).
func embeddingsFlags(cmd *cobra.Command, f *planFlags, name string) {
	var real string
	cmd.Flags().StringVar(&real, "real-features", "", "with --features X.npy: the real images' embeddings, float [N, D] .npy")
	run := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		x := f.Plan.Models.Features
		if !strings.HasSuffix(strings.ToLower(x), ".npy") && real == "" {
			return run(cmd, args)
		}
		if err := f.CheckEmbeddings(real, len(args)); err != nil {
			return usageError{fmt.Errorf("%s: %w", name, err)}
		}
		doc, err := evaluate.FeatureFiles(name, x, real, f.Dataset.Name, f.Plan.Protocol)
		if err != nil {
			return err
		}
		return show(cmd.OutOrStdout(), f.out, []*results.Document{doc}, reports.Output.Documents)
	}
}
