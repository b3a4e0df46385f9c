package reports

// What the report command does beyond parsing its flags: checking its
// settings, reading the documents, writing the report and printing its
// tables in one call.

import (
	"fmt"
	"io"

	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/table"
)

// Args are the report command's settings as given; DefaultArgs holds the
// defaults.
type Args struct {
	// Results are the documents: files, folders and glob patterns.
	Results []string
	Out     string
	Stores  []string
	// Inputs overrides the input folder of the stores' manifests.
	Inputs string
	// CI, Scores and Pref are the tables' notation (TableOptions).
	CI, Scores, Pref        string
	GridInputs, GridSamples int
	Seed                    int64
	Title                   string
	// Wide prints the tables whole on a terminal narrower than them.
	Wide bool
	// AllowMixed puts documents of one dataset measured under different
	// protocols in one table (TableOptions.AllowMixed).
	AllowMixed bool
	// NoNotes leaves the notes and warnings out of tables.tex.
	NoNotes bool
}

// DefaultArgs holds the defaults of the report command in one place.
func DefaultArgs() Args {
	return Args{CI: string(CIPlusMinus), Scores: string(ScoresNats), Pref: string(PrefBootstrap),
		GridInputs: 4, GridSamples: 4, Title: "munit-eval report"}
}

// Options checks the settings and turns them into Options.
func (a Args) Options() (Options, error) {
	topts := TableOptions{CI: CIStyle(a.CI), Scores: ScoreForm(a.Scores), Pref: PrefInterval(a.Pref), AllowMixed: a.AllowMixed}
	switch {
	case len(a.Results) == 0:
		return Options{}, fmt.Errorf("report: give the results documents with --results 'DIR/*.json'")
	case a.Out == "":
		return Options{}, fmt.Errorf("report: --out REPORT is required")
	case topts.CI != CIPlusMinus && topts.CI != CIBrackets:
		return Options{}, fmt.Errorf("report: --ci %q: want pm or brackets", a.CI)
	case topts.Scores != ScoresNats && topts.Scores != ScoresExp:
		return Options{}, fmt.Errorf("report: --scores %q: want nats or exp", a.Scores)
	case topts.Pref != PrefWilson && topts.Pref != PrefBootstrap:
		return Options{}, fmt.Errorf("report: --pref-interval %q: want wilson or bootstrap", a.Pref)
	case a.GridInputs < 1 || a.GridSamples < 1:
		return Options{}, fmt.Errorf("report: --grid-inputs and --grid-samples must be at least 1")
	}
	return Options{
		Out:     a.Out,
		Tables:  topts,
		Grid:    GridOptions{Inputs: a.Inputs, NumInputs: a.GridInputs, Samples: a.GridSamples, Seed: a.Seed},
		Stores:  a.Stores,
		Title:   a.Title,
		NoNotes: a.NoNotes,
	}, nil
}

// Run is the report command's work: it reads the documents a names,
// writes the report into a.Out (Write) and prints its tables to w, fitted
// to w's terminal.
func Run(w io.Writer, a Args) (*Summary, error) {
	opts, err := a.Options()
	if err != nil {
		return nil, err
	}
	docs, sources, err := results.ReadAll(a.Results...)
	if err != nil {
		return nil, err
	}
	sum, err := Write(docs, sources, opts)
	if err != nil {
		return nil, err
	}
	return sum, WriteTextOptions(w, sum.Tables, TextOptions{Bold: BoldFor(w), Width: table.TermWidth(w, a.Wide)})
}
