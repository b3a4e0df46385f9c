package table

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/mattn/go-runewidth"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// TextOptions controls the terminal rendering.
type TextOptions struct {
	// Width is the terminal's width in columns: wider tables are written
	// vertically (one block per row), and footnotes are wrapped. 0 keeps
	// everything on one table (--wide, pipes, files).
	Width int
	// ANSI marks the best values with the terminal's bold attribute
	// instead of a marker character (for a TTY only).
	ANSI bool
	// NoTitle leaves out the title line.
	NoTitle bool
}

// markers are the candidate best-value markers, in order of preference.
// Marker picks the first that appears nowhere in the table's text, so that
// a method named "CycleGAN*" or "MUNIT†" is never read as marked.
var markers = []string{"†", "‡", "§", "¤", "#"}

// Marker returns the character the terminal rendering appends to best
// values: the first of †, ‡, §, ¤, # that occurs in no label, header or
// text cell of t.
func (t *Table) Marker() string {
	var b strings.Builder
	b.WriteString(t.Title)
	for _, c := range t.Columns {
		b.WriteString(c.Group + "\x00" + c.Header + "\x00")
	}
	for _, r := range t.Rows {
		b.WriteString(r.Label + "\x00")
		for _, c := range r.Cells {
			b.WriteString(c.Text + "\x00")
		}
	}
	all := b.String()
	for _, m := range markers {
		if !strings.Contains(all, m) {
			return m
		}
	}
	return "(best)"
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// displayWidth is the width of s on a terminal: the widest of its lines,
// ANSI escapes not counted.
func displayWidth(s string) int {
	w := 0
	for _, l := range strings.Split(ansi.ReplaceAllString(s, ""), "\n") {
		w = max(w, runewidth.StringWidth(l))
	}
	return w
}

// textCells returns the header and body of t for the terminal.
func (t *Table) textCells(opts TextOptions) (header []string, rows [][]string) {
	marker := t.Marker()
	groups := t.hasGroups()
	header = []string{t.stub()}
	for _, c := range t.Columns {
		h := c.Header
		if groups {
			h = c.Group + "\n" + c.Header
		}
		header = append(header, h)
	}
	for _, r := range t.Rows {
		row := []string{r.Label}
		for j, c := range r.Cells {
			v, rest := t.parts(c, t.Columns[j], " ± ")
			if c.Best && c.numeric() {
				if opts.ANSI {
					v = "\x1b[1m" + v + "\x1b[0m"
				} else {
					v += marker
				}
			}
			row = append(row, v+rest)
		}
		rows = append(rows, row)
	}
	return header, rows
}

func (t *Table) alignments(cols []int) []tw.Align {
	al := []tw.Align{tw.AlignLeft}
	for _, j := range cols {
		c := t.Columns[j]
		switch {
		case c.Align == AlignLeft:
			al = append(al, tw.AlignLeft)
		case c.Align == AlignRight:
			al = append(al, tw.AlignRight)
		default:
			text := false
			for _, r := range t.Rows {
				text = text || r.Cells[j].Kind == CellText
			}
			if text {
				al = append(al, tw.AlignLeft)
			} else {
				al = append(al, tw.AlignRight)
			}
		}
	}
	return al
}

// boxWidth is the width of a box-drawn table of these column widths with
// the label column in front: one space either side of a cell and one rule
// between and around cells.
func boxWidth(widths []int, label int) int {
	n := label + 3 + 1
	for _, w := range widths {
		n += w + 3
	}
	return n
}

// Text writes t as a terminal table (box drawing), its title above and
// its footnotes and warnings below, each wrapped to opts.Width when set.
// When the table is wider than opts.Width it is written vertically
// instead: one block per row ("label:", then "column = value" lines), each value
// with its interval as in the table's cell.
func (t *Table) Text(w io.Writer, opts TextOptions) error {
	if !opts.NoTitle && t.Title != "" {
		if _, err := fmt.Fprintln(w, t.Title); err != nil {
			return err
		}
	}
	header, rows := t.textCells(opts)
	widths := make([]int, len(t.Columns))
	label := displayWidth(header[0])
	for j := range t.Columns {
		widths[j] = displayWidth(header[j+1])
	}
	for _, r := range rows {
		label = max(label, displayWidth(r[0]))
		for j := range t.Columns {
			widths[j] = max(widths[j], displayWidth(r[j+1]))
		}
	}
	if opts.Width > 0 && boxWidth(widths, label) > opts.Width {
		// Folded into several box tables, a value would land in one block
		// and its neighbours (its dataset's other metric, a verdict) in
		// another, read by matching row labels across blocks: one block
		// per row reads better.
		t.vertical(w, header, rows)
	} else {
		run := make([]int, len(t.Columns))
		for j := range run {
			run[j] = j
		}
		tb := tablewriter.NewTable(w,
			tablewriter.WithRenderer(renderer.NewBlueprint()),
			tablewriter.WithHeaderAutoFormat(tw.Off),
			tablewriter.WithHeaderAutoWrap(tw.WrapNone),
			tablewriter.WithRowAutoWrap(tw.WrapNone),
			tablewriter.WithHeaderAlignment(tw.AlignCenter),
			tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: t.alignments(run)}),
		)
		tb.Header(header)
		for _, r := range rows {
			if err := tb.Append(r); err != nil {
				return fmt.Errorf("table %s: %w", t.Name, err)
			}
		}
		if err := tb.Render(); err != nil {
			return fmt.Errorf("table %s: %w", t.Name, err)
		}
	}
	marker := t.Marker() + " marks"
	if opts.ANSI {
		marker = "Bold marks"
	}
	lines := append(append(t.notation(marker), t.Notes...), t.warningLines()...)
	for _, n := range lines {
		if _, err := fmt.Fprint(w, Wrap(n, "  ", "    ", opts.Width)); err != nil {
			return err
		}
	}
	return nil
}

// vertical writes the rows as blocks, one per row: "label:", then one
// "  column = value" line per column, the column names (with their group,
// "cat2dog FID") padded to one width; a blank line separates the blocks.
func (t *Table) vertical(w io.Writer, header []string, rows [][]string) {
	names := make([]string, len(t.Columns))
	pad := 0
	for j := range t.Columns {
		names[j] = strings.Join(strings.Fields(strings.ReplaceAll(header[j+1], "\n", " ")), " ")
		pad = max(pad, runewidth.StringWidth(names[j]))
	}
	for i, r := range rows {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s:\n", r[0])
		for j := range t.Columns {
			fmt.Fprintf(w, "  %s = %s\n", runewidth.FillRight(names[j], pad), r[j+1])
		}
	}
}

// Wrap returns s as lines of at most width columns (0: one line), the
// first indented by first, the rest by rest, each ending in a newline.
// Words longer than a line are not broken.
func Wrap(s, first, rest string, width int) string {
	if width <= 0 {
		return first + s + "\n"
	}
	var b strings.Builder
	line, indent := "", first
	for _, word := range strings.Fields(s) {
		if line != "" && runewidth.StringWidth(indent+line+" "+word) > width {
			b.WriteString(indent + line + "\n")
			line, indent = "", rest
		}
		if line == "" {
			line = word
		} else {
			line += " " + word
		}
	}
	b.WriteString(indent + line + "\n")
	return b.String()
}
