package pipeline

// A sharded evaluation: shard tasks that only generate their share of every
// method's samples, and a scoring step that scores the assembled store,
// refusing while a shard has not finished.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/translate"
)

// Generated is what one shard task did for one method of one dataset.
type Generated struct {
	Dataset string
	translate.Summary
}

// generate is a shard task: every method of every dataset translates the
// inputs o.Shard owns, with the samples per input the unsharded run would
// ask for, so the shards together write exactly the unsharded store. Then
// it computes every per-sample value the metrics need of those inputs'
// samples (LPIPS pair distances, classifier outputs, features), and of
// the real images and real-row pairs it owns, into its partials
// (evaluate.Plan.Shard). It writes no results.
func (c *Config) generate(ctx context.Context, pl evaluate.Plan, o Options, out *Outcome) error {
	k := c.Protocol.SamplesNeeded(c.Entries())
	for _, d := range pl.Datasets {
		for i, src := range d.Methods {
			if err := ctx.Err(); err != nil {
				return err
			}
			if src.Samples != "" {
				continue // read as they are: nothing to generate
			}
			if o.Log != nil && !o.Quiet {
				fmt.Fprintf(o.Log, "%s / %s: samples of shard %s\n", d.Name, src.Method, o.Shard)
			}
			src.Shard = o.Shard
			sum, err := evaluate.Generate(ctx, src, c.Protocol, k, pl.Run)
			if err != nil {
				return fmt.Errorf("%s / %s: shard %s: %w", d.Name, src.Method, o.Shard, c.Damaged(err))
			}
			out.Generated = append(out.Generated, Generated{Dataset: d.Name, Summary: *sum})
			if d.Methods[i].Set, err = evaluate.ShardSet(sum.Store, o.Shard); err != nil {
				return fmt.Errorf("%s / %s: shard %s: %w", d.Name, src.Method, o.Shard, err)
			}
		}
	}
	pl.Shard, pl.ResultsDir = o.Shard, "" // partials only: no results folder
	if _, err := evaluate.Run(ctx, pl); err != nil {
		return fmt.Errorf("shard %s: partials: %w", o.Shard, err)
	}
	return nil
}

// checkComplete is the scoring step's first pass: every method's store must
// hold all its samples (nothing is translated). It hands each method's
// samples to the plan, so the scoring pass does not look again, or returns
// an *IncompleteError naming every method that lacks some.
func (c *Config) checkComplete(ctx context.Context, pl *evaluate.Plan, o Options) error {
	if o.Shards < 0 || o.Shards > translate.MaxShards {
		return fmt.Errorf("%s: --shards %d: want 1 to %d", c.file, o.Shards, translate.MaxShards)
	}
	inc := &IncompleteError{File: c.file, Shards: o.Shards}
	for _, d := range pl.Datasets {
		for i, src := range d.Methods {
			if err := ctx.Err(); err != nil {
				return err
			}
			check := src
			check.CheckOnly = true
			p := c.Protocol
			set, err := evaluate.Acquire(ctx, check, &p, p.SamplesNeeded(c.Entries()), pl.Run)
			var ie *translate.IncompleteError
			switch {
			case errors.As(err, &ie):
				inc.Units = append(inc.Units, Unit{Dataset: d.Name, Method: src.Method, Missing: ie})
			case err != nil:
				return fmt.Errorf("%s / %s: %w", d.Name, src.Method, c.Damaged(err))
			default:
				d.Methods[i].Set = set
			}
		}
	}
	if len(inc.Units) > 0 {
		return inc
	}
	return nil
}

// Damaged turns translate's advice for a store whose manifest or shard
// fragment cannot be read (rerun with --repair or --force, flags run does
// not have) into what repairs it under run: the file, its shard, and the
// commands. Other errors pass unchanged.
func (c *Config) Damaged(err error) error {
	var de *translate.DamagedError
	if !errors.As(err, &de) {
		return err
	}
	rerun, what := "munit-eval run "+c.file, "its samples"
	if de.Shard != nil {
		rerun += " --shard " + de.Shard.String()
		what = "that shard's samples"
	}
	return fmt.Errorf("%v; delete it and rerun %s to compute %s again, or keep the intact samples with munit-eval translate --repair (the method's models, inputs and seed, --out %s)",
		de, rerun, what, filepath.Dir(filepath.Dir(de.Path)))
}

// Unit is one method of one dataset whose samples are incomplete.
type Unit struct {
	Dataset, Method string
	Missing         *translate.IncompleteError
}

// IncompleteError refuses to score an evaluation whose store lacks samples:
// a shard has not finished (or never ran). It names, per method, the
// inputs that lack samples, and the shards to rerun.
type IncompleteError struct {
	// File is the evaluation file.
	File string
	// Units are the incomplete methods, in the file's order.
	Units []Unit
	// Shards is N as the scoring step was told (--shards; 0: unknown); the
	// stores' fragments name it otherwise.
	Shards int
}

// Error lists what is missing and how to finish it, on one line.
func (e *IncompleteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: not scored: the store lacks samples of %d method(s), so a shard has not finished:", e.File, len(e.Units))
	for j, u := range e.Units {
		if j > 0 {
			b.WriteString(";")
		}
		m := u.Missing
		fmt.Fprintf(&b, " %s / %s: %d of %d inputs lack samples (%s)", u.Dataset, u.Method, len(m.Missing), m.Inputs, listSome(m.MissingFiles, 3))
		if m.OtherRun != "" {
			fmt.Fprintf(&b, ", and %s", m.OtherRun)
		}
	}
	if sh := e.RerunShards(); len(sh) > 0 {
		var cmds []string
		for _, s := range sh {
			cmds = append(cmds, "--shard "+s.String())
		}
		fmt.Fprintf(&b, "; rerun munit-eval run %s with %s, then score again", e.File, strings.Join(cmds, ", "))
	} else {
		fmt.Fprintf(&b, "; rerun the unfinished shards (munit-eval run %s --shard I/N), or munit-eval run %s without --score-only to generate what is missing here", e.File, e.File)
	}
	return b.String()
}

// RerunShards are the shards that own the missing inputs, in order: with N
// from the stores' fragments (when they agree) or from Shards. Nil when N
// is unknown.
func (e *IncompleteError) RerunShards() []translate.Shard {
	n := e.Shards
	for _, u := range e.Units {
		for _, s := range u.Missing.Shards {
			if n == 0 {
				n = s.Count
			}
			if s.Count != n {
				return nil // fragments of different splits: no one answer
			}
		}
	}
	if n < 2 || n > translate.MaxShards {
		return nil
	}
	// From the missing inputs, not from 0..N-1: the work is bounded by the
	// inputs whatever N a flag or a fragment's name says.
	seen := map[int]bool{}
	var out []translate.Shard
	for _, u := range e.Units {
		for _, i := range u.Missing.Missing {
			if !seen[i%n] {
				seen[i%n] = true
				out = append(out, translate.Shard{Index: i % n, Count: n})
			}
		}
	}
	slices.SortFunc(out, func(a, b translate.Shard) int { return a.Index - b.Index })
	return slices.Clip(out)
}

// ShardSummary says what a shard task generated, one line per method, and
// when to score file.
func (o *Outcome) ShardSummary(file string, shard translate.Shard) string {
	var b strings.Builder
	done := len(o.Generated) > 0
	for _, g := range o.Generated {
		state := "other shards still to finish"
		if g.Complete {
			state = "store complete"
		}
		done = done && g.Complete
		fmt.Fprintf(&b, "%s / %s shard %s: %d inputs x %d samples in %s (this shard: %s, %d reused; %s)\n",
			g.Dataset, g.Method, shard, g.Inputs, g.SamplesPerInput, g.Store, g.Made(), g.Reused, state)
	}
	next := "when every shard has finished"
	if done {
		next = "now (every store is complete)"
	}
	fmt.Fprintf(&b, "shard %s generated its samples and computed their per-sample values (partials); nothing scored. Score %s: munit-eval run %s --score-only\n", shard, next, file)
	return b.String()
}

// listSome lists at most n names, then how many more.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}
