// Command munit-eval evaluates multimodal image-to-image translation models
// the way the MUNIT paper (Huang et al., ECCV 2018, section 5) does: LPIPS
// diversity, Inception Score and Conditional Inception Score, FID and KID,
// human preference studies, reports and a CI regression gate, all from ONNX
// models run through onnxruntime.
//
// This package is the CLI only: flags, wiring and exit codes. Each command
// lives in its own file and registers itself on the root command in init.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/munit-eval/munit-eval/batch"
	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/pipeline"
	"github.com/spf13/cobra"
)

// Exit codes (docs/commands.md).
const (
	exitOK          = 0
	exitRegression  = 1
	exitBadInput    = 2
	exitInterrupted = 130
)

// globalFlags are the flags every command accepts.
type globalFlags struct {
	ortLib  string
	threads int
	device  string
	quiet   bool
	// noRewrite is --no-rewrite (model.SetNoRewrite).
	noRewrite bool
	// verifyCache is --verify-cache's share of cache hits recomputed.
	verifyCache float64
	// memory is --memory as given ("": from /proc/meminfo); memBytes
	// is its value in bytes, set before any command runs.
	memory   string
	memBytes int64
}

var global globalFlags

var rootCmd = &cobra.Command{
	Use:   "munit-eval",
	Short: "Evaluate multimodal image-to-image translation models (LPIPS diversity, IS/CIS, FID/KID, AMT)",
	Long: `munit-eval evaluates image-to-image translation models the way the MUNIT paper
(Huang et al., ECCV 2018, section 5) does: LPIPS diversity, Inception Score and
Conditional Inception Score, FID and KID, and human preference studies, from
ONNX models run through onnxruntime.

Every metric command prints a table; --results FILE also writes the results
document and --json prints the document instead of the table. The metric
commands (lpips, is/cis, fid/kid, prdc) share one set of flags, one per key
of run's evaluation file (docs/run.md), and measure as run does; they
differ in their default --metrics and their table.

Exit codes: 0 success, 1 regression found (check), 2 bad usage or bad input,
130 interrupted.`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

func init() {
	rootCmd.CompletionOptions.HiddenDefaultCmd = true
	// Every command that opens a model, directly or through a package,
	// loads the library the user named.
	rootCmd.PersistentPreRunE = func(*cobra.Command, []string) error {
		model.SetLibraryPath(global.ortLib)
		model.SetNoRewrite(global.noRewrite)
		if v := global.verifyCache; !(v >= 0 && v <= 1) {
			return usageError{fmt.Errorf("--verify-cache %g: want a share from 0 to 1", v)}
		}
		batch.SetVerifyCache(global.verifyCache)
		return global.bound()
	}
	pf := rootCmd.PersistentFlags()
	pf.StringVar(&global.ortLib, "ort-lib", "", "path to the onnxruntime shared library (default: $ONNXRUNTIME_LIB, then the setup cache, then the system library path)")
	pf.IntVar(&global.threads, "threads", 0, "onnxruntime intra-op threads per session (0: all cores; more than the cores is capped); translate shares them among its --streams")
	pf.StringVar(&global.memory, "memory", "", "memory a generator batch may take, e.g. 8G (default: what /proc/meminfo says is available)")
	pf.StringVar(&global.device, "device", "cpu", "execution provider: cpu or cuda")
	pf.BoolVarP(&global.quiet, "quiet", "q", false, "no progress bars, and no step lines in run and demo")
	pf.BoolVar(&global.noRewrite, "no-rewrite", false, "run models exactly as written, without the exact graph rewrites that make upsampling generators faster (see inspect)")
	pf.Float64Var(&global.verifyCache, "verify-cache", 0, "recompute this share of cache hits, drawn at random, and refuse a cache whose record differs (alone: 0.05; see docs/results.md)")
	pf.Lookup("verify-cache").NoOptDefVal = "0.05"
	rootCmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
}

// bound checks the global flags, the one place they are validated:
// --threads negative is refused and above the core count capped with a
// warning (evaluate.Threads); --memory is parsed or read from the machine.
func (g *globalFlags) bound() error {
	n, warn, err := evaluate.Threads(g.threads, runtime.NumCPU())
	if err != nil {
		return usageError{fmt.Errorf("--threads %w", err)}
	}
	if warn != "" {
		fmt.Fprintln(os.Stderr, "munit-eval: warning: "+warn)
	}
	g.threads = n
	if g.memory == "" {
		g.memBytes = evaluate.AvailableMemory()
		return nil
	}
	if g.memBytes, err = evaluate.ParseMemory(g.memory); err != nil {
		return usageError{fmt.Errorf("--memory %w", err)}
	}
	return nil
}

// pipeline is o with the global flags' share: how to run, not what to
// measure, the steps logged on stderr.
func (g *globalFlags) pipeline(o pipeline.Options) pipeline.Options {
	o.Threads, o.Device, o.Quiet, o.Memory, o.Log = g.threads, g.device, g.quiet, g.memBytes, os.Stderr
	return o
}

// run is how the metric commands run networks: the global flags' share,
// quiet also when asked (--json).
func (g *globalFlags) run(quiet bool) evaluate.RunOptions {
	return evaluate.RunOptions{Threads: g.threads, Device: g.device, Quiet: quiet || g.quiet, Memory: g.memBytes}
}

// usageError marks an error as bad usage (exit 2), as opposed to a failure of
// the work itself; both exit 2 today but the message differs.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// errRegression is returned by check when a metric regressed (exit 1).
var errRegression = errors.New("regression found")

// errInterrupted is returned by long commands stopped by SIGINT (exit 130).
var errInterrupted = errors.New("interrupted")

func main() {
	metrics.UseBLAS() // OpenBLAS for FID and KID when it loads; gonum otherwise
	os.Exit(run(os.Args[1:]))
}

// run executes the CLI with args and returns the exit code. Panics in the
// work below are turned into one line and exit 2, never a stack trace.
func run(args []string) (code int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "munit-eval: internal error: %v\n", r)
			code = exitBadInput
		}
	}()
	rootCmd.SetArgs(args)
	err := rootCmd.ExecuteContext(ctx)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errRegression):
		return exitRegression
	case errors.Is(err, errInterrupted) || errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "munit-eval: interrupted")
		return exitInterrupted
	default:
		fmt.Fprintln(os.Stderr, "munit-eval: "+oneLine(err.Error()))
		return exitBadInput
	}
}

// oneLine folds a multi-line error message into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
