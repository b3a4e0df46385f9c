package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/model"
	"github.com/spf13/cobra"
)

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
	if o.out == "" {
		return usageError{fmt.Errorf("forward: --out DIR is required")}
	}
	if len(o.inputs) == 0 {
		return usageError{fmt.Errorf("forward: give each model input with --input NAME=FILE.npy")}
	}
	role, err := roleFlag(o.role)
	if err != nil {
		return err
	}
	if err := model.Init(global.ortLib); err != nil {
		return err
	}
	feeds := map[string]model.Tensor{}
	for _, spec := range o.inputs {
		name, file, ok := strings.Cut(spec, "=")
		if !ok || name == "" || file == "" {
			return usageError{fmt.Errorf("forward: --input %q: want NAME=FILE.npy", spec)}
		}
		a, err := images.ReadNPY(file)
		if err != nil {
			return err
		}
		shape := make([]int64, len(a.Shape))
		for i, d := range a.Shape {
			shape[i] = int64(d)
		}
		feeds[name] = model.Tensor{Shape: shape, Data: a.Data}
	}
	s, err := model.Open(path, model.Options{Threads: global.threads, Device: global.device, Role: role})
	if err != nil {
		return err
	}
	defer s.Close()
	outs, err := s.Run(feeds)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(outs))
	for name := range outs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t := outs[name]
		for i, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%s: output %q has a non-finite value (%v) at flat index %d", path, name, v, i)
			}
		}
		shape := make([]int, len(t.Shape))
		for i, d := range t.Shape {
			shape[i] = int(d)
		}
		p := filepath.Join(o.out, name+".npy")
		if err := images.WriteNPY(p, &images.Array{Shape: shape, Data: t.Data}); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s %s -> %s\n", name, model.ShapeString(t.Shape), p)
	}
	return nil
}
