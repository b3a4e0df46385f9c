package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/munit-eval/munit-eval/warning"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/munit-eval/munit-eval/amt"
	"github.com/munit-eval/munit-eval/internal/atomicfile"
	"github.com/munit-eval/munit-eval/translate"
	"github.com/spf13/cobra"
)

// amtMakeOptions are the flags of munit-eval amt make.
type amtMakeOptions struct {
	methods []string
	cfg     amt.MakeConfig
}

// amtAnalyzeOptions are the flags of munit-eval amt analyze.
type amtAnalyzeOptions struct {
	key     string
	dataset string
	opts    amt.AnalyzeOptions
	out     outputFlags
}

// amtServeOptions are the flags of munit-eval amt serve.
type amtServeOptions struct {
	addr string
	hits int
}

// amtSimulateOptions are the flags of munit-eval amt simulate.
type amtSimulateOptions struct {
	key      string
	prefer   []string
	careless int
	seed     uint64
	out      string
}

func init() {
	parent := &cobra.Command{
		Use:   "amt",
		Short: "human preference studies: make AMT batches, run a local study, analyse answers",
		Long: `Amt runs the MUNIT paper's human preference study (the "Quality" column):
two-alternative forced choices between the reference method's output and a
baseline's, for the same input, answered on Amazon Mechanical Turk or in a
local web page, and analysed into the percentage of judgments preferring each
baseline over the reference.

	munit-eval amt make    --method MUNIT=STORE/MUNIT --method UNIT=STORE/UNIT --out BATCH
	munit-eval amt serve   BATCH                     # local study at http://127.0.0.1:8080
	munit-eval amt analyze --key BATCH/key.json RESULTS.csv BATCH/local-results.csv
	munit-eval amt simulate --key BATCH/key.json --prefer UNIT=0.37 --out sim.csv`,
	}
	parent.AddCommand(amtMakeCommand(), amtAnalyzeCommand(), amtServeCommand(), amtSimulateCommand())
	rootCmd.AddCommand(parent)
}

func amtMakeCommand() *cobra.Command {
	o := amtMakeOptions{cfg: amt.DefaultMakeConfig()}
	cmd := &cobra.Command{
		Use:   "make --method NAME=STORE/<method>... [--reference MUNIT] --out BATCH [flags]",
		Short: "make an AMT batch: opaque images, batch.csv, hit.html and the answer key",
		Long: `Make builds a batch of two-alternative forced-choice questions from sample
stores (made by munit-eval translate). For each baseline, --questions questions
compare the reference's output with the baseline's on a random input (random
samples of stochastic methods), sides in random order. Each HIT of --per-hit
questions holds a --catch share of catch questions: the reference's output
against a block-scrambled copy of it, which attentive workers never choose.

BATCH/images/ holds the images under opaque names (HMAC-SHA256 under a secret
derived from --seed): upload its files so that they are served at --base-url.
BATCH/batch.csv is the MTurk batch input, BATCH/hit.html the HIT layout
(crowd-html-elements; paste it into the requester's layout editor), and
BATCH/key.json the answer key: keep it, and the seed, to yourself. Set the
HIT's assignments to --workers.

The same flags give the same batch, byte for byte.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAmtMake(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.methods, "method", nil, "a compared method as NAME=STORE/<method> (repeat; the reference too); a bare STORE/<method> takes the manifest's name")
	f.StringVar(&o.cfg.Reference, "reference", o.cfg.Reference, "the method every other one is compared with")
	f.StringVar(&o.cfg.Inputs, "inputs", "", "folder of the input images, matched by stem (default: each store's input folder)")
	f.IntVar(&o.cfg.Questions, "questions", o.cfg.Questions, "questions per baseline")
	f.IntVar(&o.cfg.PerHIT, "per-hit", o.cfg.PerHIT, "questions per HIT, catch questions included")
	f.IntVar(&o.cfg.Workers, "workers", o.cfg.Workers, "workers (assignments) per HIT")
	f.Float64Var(&o.cfg.Catch, "catch", o.cfg.Catch, "share of each HIT's questions that are catch questions (0 for none)")
	f.Int64Var(&o.cfg.Seed, "seed", 0, "seed of the questions and of the image-naming secret")
	f.StringVar(&o.cfg.BaseURL, "base-url", "", "URL where BATCH/images/ will be served (default: relative URLs images/NAME)")
	f.StringVar(&o.cfg.Out, "out", "", "the batch folder to create (required)")
	f.BoolVar(&o.cfg.Force, "force", false, "replace a batch already in --out (refused when it has local results)")
	cmd.MarkFlagRequired("out")
	return cmd
}

func runAmtMake(ctx context.Context, w io.Writer, o amtMakeOptions) error {
	if len(o.methods) == 0 {
		return usageError{errors.New("no --method given")}
	}
	for _, m := range o.methods {
		name, dir, ok := strings.Cut(m, "=")
		if !ok {
			s, err := translate.OpenStore(m)
			if err != nil {
				return err
			}
			name, dir = s.Method(), m
		}
		if name == "" || dir == "" {
			return usageError{fmt.Errorf("--method %q: want NAME=STORE/<method>", m)}
		}
		o.cfg.Methods = append(o.cfg.Methods, amt.Method{Name: name, Store: dir})
	}
	design, err := amt.DesignBatch(o.cfg)
	if err != nil {
		return err
	}
	key, err := design.Write(ctx)
	if err != nil {
		return err
	}
	catch := 0
	for _, q := range key.Questions {
		if q.Catch {
			catch++
		}
	}
	fmt.Fprintf(w, "wrote %s: %d HITs of %d questions (%d comparisons with %s, %d catch), %d images\n",
		o.cfg.Out, len(key.HITs), key.Params.PerHIT, len(key.Questions)-catch, key.Reference, catch, len(key.Images))
	for _, warn := range design.Warnings {
		fmt.Fprintf(w, "  note: %s\n", warn)
	}
	fmt.Fprint(w, amtMakeNextSteps(o.cfg.Out, key))
	return nil
}

// amtMakeNextSteps says what to do with the batch in dir: where its images
// must be served from (relative URLs work for amt serve only) and what to
// publish and keep private.
func amtMakeNextSteps(dir string, key *amt.Key) string {
	var b strings.Builder
	images := filepath.Join(dir, amt.ImagesDir) + string(filepath.Separator)
	if key.Params.BaseURL == "" {
		fmt.Fprintf(&b, "  local study: munit-eval amt serve %s (batch.csv points at the images by the relative URLs %s/NAME)\n", dir, amt.ImagesDir)
		fmt.Fprintf(&b, "  for MTurk: put the files of %s on a web server and make the batch again with --base-url set to their URL\n", images)
	} else {
		fmt.Fprintf(&b, "  for MTurk: upload the files of %s so that each is served at %s/NAME\n", images, strings.TrimRight(key.Params.BaseURL, "/"))
	}
	fmt.Fprintf(&b, "  publish %s with the layout %s, %d assignments per HIT; keep %s private\n",
		filepath.Join(dir, amt.BatchCSVFile), filepath.Join(dir, amt.HITFile), key.Params.Workers, filepath.Join(dir, amt.KeyFile))
	return b.String()
}

func amtAnalyzeCommand() *cobra.Command {
	o := amtAnalyzeOptions{opts: amt.DefaultAnalyzeOptions()}
	cmd := &cobra.Command{
		Use:   "analyze --key BATCH/key.json RESULTS.csv... [--results FILE] [--json]",
		Short: "analyse AMT or local-study results into preference percentages",
		Long: `Analyze reads the batch results downloaded from MTurk (columns HITId,
WorkerId, AssignmentStatus, WorkTimeInSeconds, Input.*, Answer.*; others are
ignored) and the local study's local-results.csv, matches rows to HITs by their
Input.* values, and reports for each baseline the percentage of judgments
preferring it over the reference (the reference itself is 50% by
construction), with a 95% Wilson interval on judgments and a 95% bootstrap
interval resampling questions and workers.

Rejected assignments are dropped. Workers answering less than
--catch-threshold of their catch questions correctly are excluded, with all
their judgments. A worker answering a question twice keeps the first answer;
duplicates and unanswered questions are counted and reported, never merged.
A malformed file (missing column, unknown HIT, an answer other than left or
right) is an error naming the file and line.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAmtAnalyze(cmd.OutOrStdout(), args, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.key, "key", "", "the batch's answer key, BATCH/key.json (required)")
	f.Float64Var(&o.opts.CatchThreshold, "catch-threshold", o.opts.CatchThreshold, "exclude workers with a smaller share of correct catch answers (0 keeps everyone)")
	f.IntVar(&o.opts.Resamples, "bootstrap", o.opts.Resamples, "bootstrap resamples")
	f.Uint64Var(&o.opts.Seed, "seed", 0, "bootstrap seed")
	f.StringVar(&o.dataset, "dataset", "", "dataset name for the results document")
	f.StringVar(&o.out.resultsPath, "results", "", "also write the results document to FILE")
	f.BoolVar(&o.out.json, "json", false, "print the results document instead of the table")
	cmd.MarkFlagRequired("key")
	return cmd
}

func runAmtAnalyze(w io.Writer, files []string, o amtAnalyzeOptions) error {
	key, err := amt.ReadKey(o.key)
	if err != nil {
		return err
	}
	var rows []amt.Row
	var warns []warning.Warning
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		r, wr, err := amt.ReadResults(p, f, key)
		f.Close()
		if err != nil {
			return err
		}
		rows = append(rows, r...)
		warns = append(warns, wr...)
	}
	a, err := amt.Analyze(key, rows, o.opts)
	if err != nil {
		return err
	}
	doc := a.Document(key, o.dataset)
	doc.Warnings = append(warns, doc.Warnings...)
	return emit(w, o.out, doc, "", func(w io.Writer) error { return amtTable(w, a) })
}

// amtTable prints the analysis: one row per baseline, the reference at 50%.
func amtTable(w io.Writer, a *amt.Analysis) error {
	header := []string{"method", "preferred over " + a.Reference + " %", "Wilson 95%", "bootstrap 95%", "judgments", "questions", "workers", "excluded"}
	rows := [][]string{{a.Reference, "50.0 (reference)", "", "", "", "", "", ""}}
	for _, b := range a.Baselines {
		name := b.Name
		if b.Simulated {
			name += " (simulated)"
		}
		if b.Judgments == 0 {
			rows = append(rows, []string{name, "-", "", "", "0", "0", "0", strconv.Itoa(b.ExcludedWorkers)})
			continue
		}
		rows = append(rows, []string{name, fmt.Sprintf("%.1f", b.Percent),
			fmt.Sprintf("[%.1f, %.1f]", b.Wilson[0], b.Wilson[1]), fmt.Sprintf("[%.1f, %.1f]", b.Bootstrap[0], b.Bootstrap[1]),
			strconv.Itoa(b.Judgments), strconv.Itoa(b.Questions), strconv.Itoa(b.Workers), strconv.Itoa(b.ExcludedWorkers)})
	}
	if err := renderTable(w, header, rows); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d rows (%d rejected), %d workers, %d excluded for failing catch questions; %d duplicate answers (%d conflicting), %d missing, %d in progress\n",
		a.Rows, a.Rejected, a.Workers, len(a.Excluded), a.Duplicates, a.Conflicts, a.Missing, a.InProgress)
	for _, e := range a.Excluded {
		fmt.Fprintf(w, "  excluded %s: %d of %d catch questions right\n", e.Worker, e.Correct, e.Catch)
	}
	return nil
}

func amtServeCommand() *cobra.Command {
	o := amtServeOptions{addr: "127.0.0.1:8080"}
	cmd := &cobra.Command{
		Use:   "serve BATCH [--addr 127.0.0.1:8080] [--hits 1]",
		Short: "run the batch as a local study in the browser",
		Long: `Serve runs the batch as a web page for a lab study without MTurk. A
participant enters an id and answers one question at a time, with the mouse
or the left and right arrow keys; progress is shown, and a participant who
reloads the page or comes back with the same id resumes where they were.
Every answer is validated and appended, synced, to BATCH/local-results.csv in
MTurk's results layout, so amt analyze reads it like MTurk's file.

Serve listens on the loopback interface unless --addr names another one. It
serves the study page and the batch's images only (never key.json). Each
participant answers --hits HITs (default 1: one HIT's worth of questions, as
on MTurk; 0 gives everyone the whole batch), each new one the HIT the fewest
participants have started, so the next participant takes the next HIT. Small
images are enlarged with nearest-neighbour pixels, never blurred. Stop it with
Ctrl-C.`,
		Args: exactArgs(1, "BATCH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAmtServe(cmd.Context(), cmd.ErrOrStderr(), args[0], o)
		},
	}
	cmd.Flags().StringVar(&o.addr, "addr", o.addr, "address to listen on (host:port)")
	cmd.Flags().IntVar(&o.hits, "hits", 1, "HITs per participant (0: all of the batch)")
	return cmd
}

func runAmtServe(ctx context.Context, log io.Writer, dir string, o amtServeOptions) error {
	s, err := amt.NewServer(dir, amt.ServeOptions{HITs: o.hits, Log: log})
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		fmt.Fprintf(log, "warning: listening on %s, reachable from other machines\n", ln.Addr())
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute}
	fmt.Fprintf(log, "local study of %s at http://%s/ (answers in %s/%s); Ctrl-C stops\n", dir, ln.Addr(), dir, amt.LocalResultsFile)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		return errInterrupted
	}
}

func amtSimulateCommand() *cobra.Command {
	var o amtSimulateOptions
	cmd := &cobra.Command{
		Use:   "simulate --key BATCH/key.json --prefer NAME=P... [--careless N] [--out FILE]",
		Short: "write MTurk-format results from simulated workers (demo, tests)",
		Long: `Simulate answers the batch with simulated workers and writes the results in
MTurk's batch-results layout: attentive workers prefer baseline NAME over the
reference with probability P and answer catch questions right; --careless
workers answer at random. Worker ids start with SIMULATED-, and amt analyze
labels such results simulated.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAmtSimulate(cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.key, "key", "", "the batch's answer key (required)")
	f.StringArrayVar(&o.prefer, "prefer", nil, "NAME=P: probability that attentive workers prefer baseline NAME (repeat for each baseline)")
	f.IntVar(&o.careless, "careless", 0, "number of careless workers")
	f.Uint64Var(&o.seed, "seed", 0, "simulation seed")
	f.StringVar(&o.out, "out", "", "output file (default: standard output)")
	cmd.MarkFlagRequired("key")
	return cmd
}

func runAmtSimulate(w io.Writer, o amtSimulateOptions) error {
	key, err := amt.ReadKey(o.key)
	if err != nil {
		return err
	}
	prefs := map[string]float64{}
	for _, p := range o.prefer {
		name, v, ok := strings.Cut(p, "=")
		x, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return usageError{fmt.Errorf("--prefer %q: want NAME=PROBABILITY", p)}
		}
		prefs[name] = x
	}
	if len(prefs) == 0 {
		names := append([]string(nil), key.Params.Baselines...)
		sort.Strings(names)
		return usageError{fmt.Errorf("no --prefer given (baselines: %s)", strings.Join(names, ", "))}
	}
	data, err := amt.Simulate(key, prefs, o.careless, o.seed)
	if err != nil {
		return err
	}
	if o.out == "" {
		_, err = w.Write(data)
		return err
	}
	return atomicfile.Write(o.out, data, 0o644)
}
