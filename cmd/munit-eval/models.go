package main

import (
	"fmt"
	"io"

	"github.com/munit-eval/munit-eval/internal/version"
	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/model"
	"github.com/spf13/cobra"
)

// inspectOptions are the flags of munit-eval inspect.
type inspectOptions struct {
	json, full bool
	role       string
}

func init() {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect [--json] [--full] [--role ROLE] MODEL.onnx",
		Short: "show a model's role, inputs, outputs and metadata, and check its contract",
		Long: `Inspect prints what munit-eval reads from an ONNX model: its role, method,
latent size and noise inputs (from the munit_eval.* metadata), its inputs and outputs with their
shapes (-1 for dynamic axes), all metadata, the file's SHA-256, and whether the
model satisfies the contract of its role (docs/models.md); if not, why.

The role comes from the munit_eval.role metadata; --role names it for a model
that has none. --json prints one JSON object instead of the text.

Long values (the 1,000 class names of an ImageNet classifier, in the
classes line and in the metadata) are summarised as their first few items
and a count; --full prints them whole, as --json always does.

Inspect exits 0 when the model satisfies its contract, and 2 when it does
not (after printing the report), or when the file is missing or not a valid
ONNX model.`,
		Args: exactArgs(1, "MODEL.onnx"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(cmd.OutOrStdout(), args[0], o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print a JSON object")
	cmd.Flags().BoolVar(&o.full, "full", false, "print long values (class lists, metadata) whole instead of summarised")
	cmd.Flags().StringVar(&o.role, "role", "", "the model's role when its metadata names none: generator, content_encoder, decoder, lpips or classifier")
	rootCmd.AddCommand(cmd)
}

func runInspect(w io.Writer, path string, o inspectOptions) error {
	role, err := roleFlag(o.role)
	if err != nil {
		return err
	}
	if err := model.Init(global.ortLib); err != nil {
		return err
	}
	r, err := model.NewReport(path, role)
	if err != nil {
		return err
	}
	if o.json {
		if err := r.WriteJSON(w); err != nil {
			return err
		}
	} else {
		r.WriteText(w, o.full)
	}
	return r.Err()
}

// exactArgs is cobra.ExactArgs with a message that names what is missing,
// reported as bad usage.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s: want %s, got %d argument(s) (see '%s --help')", commandName(cmd), what, len(args), cmd.CommandPath())}
		}
		return nil
	}
}

// roleFlag parses a --role flag ("" for none).
func roleFlag(s string) (model.Role, error) {
	if s == "" {
		return "", nil
	}
	r, err := model.ParseRole(s)
	if err != nil {
		return "", usageError{fmt.Errorf("--role: %w", err)}
	}
	return r, nil
}

// forwardOptions are the flags of munit-eval forward.
type forwardOptions struct {
	inputs []string
	out    string
	role   string
}

func init() {
	var o forwardOptions
	cmd := &cobra.Command{
		Use:   "forward MODEL.onnx --input NAME=FILE.npy [--input ...] --out DIR",
		Short: "run a model once on .npy inputs and write its outputs as .npy",
		Long: `Forward runs an ONNX model through munit-eval's onnxruntime on float32 inputs
read from .npy files and writes every output to DIR/<output-name>.npy.

It exists so that the exporters (export/) and users can compare an exported
model with PyTorch on the same inputs without a Python onnxruntime package:

	munit-eval forward munit_a2b.onnx --input image=x.npy --input style=s.npy --out out/

Each --input names a model input and a float32 (or float64) .npy file of the
shape the model expects; noise inputs (munit_eval.noise, for example exported
dropout masks) are given the same way, so a comparison can use the masks
PyTorch used:

	munit-eval forward cyclegan.onnx --input image=x.npy --input dropout_0=u.npy --out out/

Every model input must be given; outputs containing NaN or Inf are reported.`,
		Args: exactArgs(1, "MODEL.onnx"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runForward(cmd, args[0], o)
		},
	}
	cmd.Flags().StringArrayVar(&o.inputs, "input", nil, "NAME=FILE.npy: the value of one model input (repeat for each input)")
	cmd.Flags().StringVar(&o.out, "out", "", "folder for the output .npy files")
	cmd.Flags().StringVar(&o.role, "role", "", "the model's role when its metadata names none")
	rootCmd.AddCommand(cmd)
}

func runForward(cmd *cobra.Command, path string, o forwardOptions) error {
	if o.out == "" || len(o.inputs) == 0 {
		return usageError{fmt.Errorf("forward: give --out DIR and each model input with --input NAME=FILE.npy")}
	}
	role, err := roleFlag(o.role)
	if err != nil {
		return err
	}
	if err := model.Init(global.ortLib); err != nil {
		return err
	}
	return model.Forward(path, o.inputs, o.out, model.Options{Threads: global.threads, Device: global.device, Role: role},
		func(name string, shape []int64, file string) {
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s -> %s\n", name, model.ShapeString(shape), file)
		})
}

func init() {
	rootCmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "print munit-eval's and onnxruntime's versions",
		Long: `Version prints munit-eval's version, the BLAS that FID and KID compute
with (OpenBLAS when it loads, else gonum's pure-Go kernels; the
environment variable MUNIT_EVAL_BLAS=gonum forces the latter), and the
version and path of the onnxruntime shared library it loads (see --ort-lib).`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "munit-eval %s\n", version.MunitEval)
			fmt.Fprintf(w, "blas %s\n", metrics.BLASBackend())
			if err := model.Init(global.ortLib); err != nil {
				return err
			}
			fmt.Fprintf(w, "onnxruntime %s (%s)\n", model.ORTVersion(), model.LibraryPath())
			return nil
		},
	})
}
