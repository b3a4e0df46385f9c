package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/munit-eval/munit-eval/pipeline"
	"github.com/spf13/cobra"
)

// emitJobs prints the jobs of a sharded run (run --emit slurm|k8s) instead
// of running it. For Slurm the evaluation file is checked here (the submit
// node shares the cluster's filesystem) and named by its absolute path, and
// the binary defaults to this executable; for Kubernetes the file is named
// as given, relative to the working directory inside the volume, and
// checked only when it exists here.
func emitJobs(cmd *cobra.Command, file string, o runOptions) error {
	if o.shard != "" || o.scoreOnly || o.force {
		return usageError{errors.New("run --emit: --shard, --score-only and --force belong to the emitted jobs, not to --emit")}
	}
	if o.shards < 1 {
		return usageError{fmt.Errorf("run --emit %s: give --shards N, the number of shard tasks", o.emit)}
	}
	e := o.job
	e.File, e.Shards, e.Device, e.ORTLib = file, o.shards, global.device, global.ortLib
	switch o.emit {
	case "slurm":
		if _, err := pipeline.Load(file); err != nil {
			return err
		}
		abs, err := filepath.Abs(file)
		if err != nil {
			return err
		}
		e.File = abs
		if e.Workdir == "" {
			if e.Workdir, err = os.Getwd(); err != nil {
				return err
			}
		}
		if e.Binary == "" {
			if exe, err := os.Executable(); err == nil {
				e.Binary = exe
			}
		}
		if e.ORTLib != "" {
			if e.ORTLib, err = filepath.Abs(e.ORTLib); err != nil {
				return err
			}
		}
		return asUsage(pipeline.EmitSlurm(cmd.OutOrStdout(), e))
	case "k8s":
		if _, err := os.Stat(file); err == nil {
			if _, err := pipeline.Load(file); err != nil {
				return err
			}
		}
		return asUsage(pipeline.EmitK8s(cmd.OutOrStdout(), e))
	}
	return usageError{fmt.Errorf("run --emit %q: want slurm or k8s", o.emit)}
}

// asUsage marks an emit error (a bad option) as bad usage.
func asUsage(err error) error {
	if err != nil {
		return usageError{fmt.Errorf("run: %w", err)}
	}
	return nil
}
