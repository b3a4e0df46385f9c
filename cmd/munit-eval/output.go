package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/reports"
	"github.com/munit-eval/munit-eval/results"
)

// registerOutput adds the flags every metric command shares: --results,
// --json, --wide, --dataset and --no-cache (for the cache of what, e.g.
// "embeddings").
func registerOutput(cmd *cobra.Command, o *reports.Output, dataset *string, noCache *bool, cached, resultsNote string) {
	fs := cmd.Flags()
	fs.StringVar(&o.Results, "results", "", "also write the results document to `FILE`"+resultsNote)
	fs.BoolVar(&o.JSON, "json", false, "print the results document instead of the table")
	fs.StringVar(dataset, "dataset", "", "dataset name for the results document")
	fs.BoolVar(noCache, "no-cache", false, "do not cache "+cached+" on disk")
	fs.BoolVar(&o.Wide, "wide", false, "print the full table even when it is wider than the terminal")
}

// show prints docs as print (a reports.Output method) does, stamped with
// the loaded onnxruntime's version, naming the files written on stderr.
func show(w io.Writer, o reports.Output, docs []*results.Document, print func(reports.Output, io.Writer, []*results.Document) error) error {
	o.ORTVersion, o.Log = model.ORTVersion(), os.Stderr
	return print(o, w, docs)
}
