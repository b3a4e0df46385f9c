package reports

import (
	"fmt"
	"io"

	"github.com/munit-eval/munit-eval/table"
)

// Bold is how the terminal table marks the best value of a column.
type Bold int

// Terminal bold styles.
const (
	// BoldStar appends a marker character to the best value (for logs and
	// pipes): the first of †, ‡, §, ... that no method name contains (see
	// table.Table.Marker), so that "CycleGAN*" is never read as marked.
	BoldStar Bold = iota
	// BoldANSI uses the terminal's bold attribute (for a TTY only).
	BoldANSI
)

// TextOptions controls the terminal tables of WriteTextOptions.
type TextOptions struct {
	Bold Bold
	// Width writes wider tables vertically and wraps footnotes (0: the full table,
	// for --wide, pipes and files).
	Width int
}

// WriteText writes every table to w as terminal tables at full width,
// separated by a blank line.
func WriteText(w io.Writer, tables []*Table, bold Bold) error {
	return WriteTextOptions(w, tables, TextOptions{Bold: bold})
}

// WriteTextOptions writes every table to w as terminal tables, separated by
// a blank line, vertical where wider than opts.Width when it is set.
func WriteTextOptions(w io.Writer, tables []*Table, opts TextOptions) error {
	for i, t := range tables {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := t.Text(w, table.TextOptions{Width: opts.Width, ANSI: opts.Bold == BoldANSI}); err != nil {
			return fmt.Errorf("reports: %w", err)
		}
	}
	return nil
}

// WriteMarkdown writes every table to w as Markdown, separated by a blank line.
func WriteMarkdown(w io.Writer, tables []*Table) error {
	for i, t := range tables {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := t.Markdown(w); err != nil {
			return fmt.Errorf("reports: %w", err)
		}
	}
	return nil
}

// WriteLaTeX writes every table to w as LaTeX, separated by a blank line,
// each float followed by its notes and warnings as LaTeX comments.
func WriteLaTeX(w io.Writer, tables []*Table) error {
	return WriteLaTeXOptions(w, tables, table.LaTeXOptions{})
}

// WriteLaTeXOptions writes every table to w as LaTeX, separated by a blank
// line (opts.NoNotes: without the notes and warnings).
func WriteLaTeXOptions(w io.Writer, tables []*Table, opts table.LaTeXOptions) error {
	for i, t := range tables {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := t.LaTeXWith(w, opts); err != nil {
			return fmt.Errorf("reports: %w", err)
		}
	}
	return nil
}
