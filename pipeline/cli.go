package pipeline

// What the run command does beyond parsing its flags: choosing between
// emitting jobs, generating a shard and a whole run, and printing the
// tables and writing the report of a finished run.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/munit-eval/munit-eval/reports"
	"github.com/munit-eval/munit-eval/table"
	"github.com/munit-eval/munit-eval/translate"
)

// Args are the run command's settings as given: how to run (Options, whose
// Shard comes from ShardSpec and Shards), the report switched off, the
// jobs of --emit, and the tables' width.
type Args struct {
	Options
	// ShardSpec is --shard I/N, or auto: from Slurm or Kubernetes.
	ShardSpec string
	NoReport  bool
	// Emit, "slurm" or "k8s", prints the jobs of a sharded run (Job: their
	// settings) instead of running.
	Emit string
	Job  Emit
	// Wide prints the tables whole on a terminal narrower than them.
	Wide bool
}

// RunFile is the run command's work on the evaluation file: it emits the
// jobs (a.Emit), generates one shard's samples and prints what it made
// (a sharded a), or runs the whole evaluation and finishes it (Finish).
func RunFile(ctx context.Context, w io.Writer, file string, a Args) error {
	if a.Emit != "" {
		return a.emitJobs(w, file)
	}
	shard, err := translate.ParseShard(a.ShardSpec, a.Shards, os.Getenv)
	if a.ScoreOnly {
		// The scoring step is one process; --shards only names the
		// shards to rerun.
		shard, err = translate.Shard{}, nil
		if a.ShardSpec != "" {
			err = errors.New("--shard generates and --score-only scores: give one of them")
		}
	}
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	if a.Force && (shard.Sharded() || a.ScoreOnly) {
		return errors.New("run: --force discards the store, which shards write together: run one unsharded --force first")
	}
	c, err := Load(file)
	if err != nil {
		return err
	}
	if a.NoReport {
		off := false
		c.Report = &off
	}
	a.Shard = shard
	out, err := Run(ctx, c, a.Options)
	if err != nil {
		return err
	}
	if shard.Sharded() {
		_, err := io.WriteString(w, out.ShardSummary(file, shard))
		return err
	}
	return c.Finish(w, out, a.Log, a.Wide)
}

// Finish writes the report of a run's documents when the file asks for
// it, naming what it wrote on log (nil: nowhere), and prints the comparison tables,
// fitted to the terminal's width unless wide (the report's files keep the
// full tables).
func (c *Config) Finish(w io.Writer, out *Outcome, log io.Writer, wide bool) error {
	topts := reports.TextOptions{Bold: reports.BoldFor(w), Width: table.TermWidth(w, wide)}
	if !c.WantsReport() {
		// One run's documents share its protocol but for counts a store
		// could not meet, which their warnings and notes state.
		tables, err := reports.BuildTables(out.Docs, reports.TableOptions{AllowMixed: true})
		if err != nil {
			return err
		}
		return reports.WriteTextOptions(w, tables, topts)
	}
	var stores []string
	for _, d := range c.Datasets {
		stores = append(stores, c.StoreDir(d.Name))
	}
	sum, err := reports.Write(out.Docs, out.Paths, reports.Options{Out: c.ReportDir(), Stores: stores, Tables: reports.TableOptions{AllowMixed: true}})
	if err != nil {
		return err
	}
	if err := reports.WriteTextOptions(w, sum.Tables, topts); err != nil {
		return err
	}
	if log != nil {
		perSeed := ""
		if n := len(out.SeedPaths); n > 0 {
			perSeed = fmt.Sprintf(" (the means over %d seeds; each seed's %d in %s)", n, len(out.SeedPaths[0]), filepath.Join(c.ResultsDir(), "seed-*"))
		}
		fmt.Fprintf(log, "wrote %d results documents to %s%s and the report to %s\n",
			len(out.Paths), c.ResultsDir(), perSeed, sum.Files[len(sum.Files)-1])
	}
	return nil
}

// emitJobs prints the jobs of a sharded run (run --emit slurm|k8s) instead
// of running it (EmitFor).
func (a Args) emitJobs(w io.Writer, file string) error {
	if a.ShardSpec != "" || a.ScoreOnly || a.Force {
		return errors.New("run --emit: --shard, --score-only and --force belong to the emitted jobs, not to --emit")
	}
	if a.Keep != "" {
		return errors.New("run --emit: the jobs run the file as it is: put keep_samples in it instead of giving --keep-samples")
	}
	if a.Shards < 1 {
		return fmt.Errorf("run --emit %s: give --shards N, the number of shard tasks", a.Emit)
	}
	e := a.Job
	e.File, e.Shards, e.Device = file, a.Shards, a.Device
	if err := EmitFor(w, a.Emit, e); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	return nil
}
