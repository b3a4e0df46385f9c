package main

import (
	"fmt"

	"github.com/munit-eval/munit-eval/internal/version"
	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/model"
	"github.com/spf13/cobra"
)

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
