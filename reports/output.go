package reports

// How a command shows the results documents it made: written to a file,
// printed as JSON, or printed as the metric tables with their warnings and
// notes (the metric commands and amt analyze).

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/munit-eval/munit-eval/internal/version"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/table"
)

// BoldFor is how the tables written to w mark best values: the terminal's
// bold attribute on a terminal, a marker character on pipes and files.
func BoldFor(w io.Writer) Bold {
	if table.IsTerminal(w) {
		return BoldANSI
	}
	return BoldStar
}

// Output says how a command shows a results document.
type Output struct {
	// Results, when set, is the file the document is also written to.
	Results string
	// JSON prints the document instead of its table.
	JSON bool
	// Wide prints tables whole on a terminal narrower than them.
	Wide bool
	// ORTVersion stamps documents that lack onnxruntime's version.
	ORTVersion string
	// Log, when set, is told each file written ("wrote FILE").
	Log io.Writer
}

// Document finishes a command's document: it stamps doc, writes it to
// o.Results when set, and prints either the document (o.JSON) or the table
// that printTable writes with the document's warnings under it, wrapped to
// the terminal's width.
func (o Output) Document(w io.Writer, doc *results.Document, printTable func(io.Writer) error) error {
	if doc.Created == "" {
		doc.Created = time.Now().UTC().Format(time.RFC3339)
	}
	if doc.Versions.MunitEval == "" {
		doc.Versions.MunitEval = version.MunitEval
	}
	if doc.Versions.ONNXRuntime == "" {
		doc.Versions.ONNXRuntime = o.ORTVersion
	}
	if o.Results != "" {
		if err := results.Write(o.Results, doc); err != nil {
			return err
		}
	}
	if o.JSON {
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
	width := table.TermWidth(w, o.Wide)
	for _, warn := range doc.Warnings {
		fmt.Fprint(w, table.Wrap("warning: "+warn.Detail, "", "  ", width))
	}
	if o.Results != "" && o.Log != nil {
		fmt.Fprintf(o.Log, "wrote %s\n", o.Results)
	}
	return nil
}

// Documents shows each document with its metric table (WriteMetrics) and
// the notes on synthetic models; a real-data row (a command asked for
// lpips among its metrics) is shown as LPIPS shows it and written to
// FILE.real.json.
func (o Output) Documents(w io.Writer, docs []*results.Document) error {
	for _, doc := range docs {
		if doc.Method == results.MethodRealData && !o.JSON {
			real := o
			if o.Results != "" {
				real.Results = strings.TrimSuffix(o.Results, ".json") + ".real.json"
			}
			if err := real.LPIPS(w, []*results.Document{doc}); err != nil {
				return err
			}
			continue
		}
		err := o.Document(w, doc, func(w io.Writer) error {
			if err := WriteMetrics(w, table.TermWidth(w, o.Wide), doc); err != nil {
				return err
			}
			SyntheticNotes(w, doc)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// LPIPS shows the documents of the lpips command, the method's then the
// real-data row's: it writes each (the real-data row to FILE.real.json)
// and prints one table of them, or with o.JSON one JSON array of the
// documents.
func (o Output) LPIPS(w io.Writer, docs []*results.Document) error {
	for i, doc := range docs {
		out := o
		if i > 0 && out.Results != "" {
			out.Results = strings.TrimSuffix(out.Results, ".json") + ".real.json"
		}
		out.JSON, out.Log = false, nil
		noTable := func(io.Writer) error { return nil }
		if err := out.Document(io.Discard, doc, noTable); err != nil {
			return err
		}
		if out.Results != "" && !o.JSON && o.Log != nil {
			fmt.Fprintf(o.Log, "wrote %s\n", out.Results)
		}
	}
	if o.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(docs)
	}
	if err := WriteMetrics(w, table.TermWidth(w, o.Wide), docs...); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, doc := range docs {
		for _, warn := range doc.Warnings {
			if !seen[warn.Detail] {
				seen[warn.Detail] = true
				fmt.Fprintf(w, "warning: %s\n", warn)
			}
		}
	}
	SyntheticNotes(w, docs...)
	return nil
}

// WriteMetrics prints the metric commands' tables of docs (one row per
// document, the registry's detail columns of the metrics they carry;
// MetricTables), vertical when wider than width (0: whole).
func WriteMetrics(w io.Writer, width int, docs ...*results.Document) error {
	for _, t := range MetricTables(docs) {
		if err := t.Text(w, table.TextOptions{Width: width, NoTitle: true}); err != nil {
			return err
		}
	}
	return nil
}

// SyntheticNotes tells the reader of a table that a scoring model is
// synthetic (the document records it in its models' synthetic field).
func SyntheticNotes(w io.Writer, docs ...*results.Document) {
	seen := map[string]bool{}
	for _, doc := range docs {
		for _, role := range []string{results.ModelLPIPS, results.ModelClassifier, results.ModelFeatures} {
			if ref, ok := doc.Models[role]; ok && ref.Synthetic && !seen[role] {
				seen[role] = true
				fmt.Fprintf(w, "note: the %s model %s is synthetic: its numbers are comparable within munit-eval's synthetic world only\n", role, ref.File)
			}
		}
	}
}
