package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/munit-eval/munit-eval/internal/version"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/table"
)

// outputFlags are shared by every metric command.
type outputFlags struct {
	resultsPath string
	json        bool
}

// register adds the flags every metric command shares: --results, --json,
// --dataset and --no-cache (for the cache of what, e.g. "embeddings").
func (o *outputFlags) register(cmd *cobra.Command, dataset *string, noCache *bool, cached, resultsNote string) {
	fs := cmd.Flags()
	fs.StringVar(&o.resultsPath, "results", "", "also write the results document to `FILE`"+resultsNote)
	fs.BoolVar(&o.json, "json", false, "print the results document instead of the table")
	fs.StringVar(dataset, "dataset", "", "dataset name for the results document")
	fs.BoolVar(noCache, "no-cache", false, "do not cache "+cached+" on disk")
	fs.BoolVar(&wideTables, "wide", false, "print the full table even when it is wider than the terminal")
}

// wideTables is --wide of the metric commands: renderTable then never
// folds. One process runs one command, so one variable serves them all.
var wideTables bool

// emit finishes a metric command: it stamps doc, writes it to
// --results FILE when asked, and prints either the document (--json) or the
// table that printTable writes.
func emit(w io.Writer, o outputFlags, doc *results.Document, ortVersion string, printTable func(io.Writer) error) error {
	if doc.Created == "" {
		doc.Created = time.Now().UTC().Format(time.RFC3339)
	}
	if doc.Versions.MunitEval == "" {
		doc.Versions.MunitEval = version.MunitEval
	}
	if doc.Versions.ONNXRuntime == "" {
		doc.Versions.ONNXRuntime = ortVersion
	}
	if o.resultsPath != "" {
		if err := results.Write(o.resultsPath, doc); err != nil {
			return err
		}
	}
	if o.json {
		b, err := results.Marshal(doc)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	if err := printTable(w); err != nil {
		return err
	}
	width := termWidth(w, wideTables)
	for _, warn := range doc.Warnings {
		fmt.Fprint(w, table.Wrap("warning: "+warn.Detail, "", "  ", width))
	}
	if o.resultsPath != "" && w == os.Stdout {
		fmt.Fprintf(os.Stderr, "wrote %s\n", o.resultsPath)
	}
	return nil
}
