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
	// Width is the terminal's width in columns: wider tables are folded
	// into several tables that repeat the row labels, and footnotes are
	// wrapped. 0 keeps everything on one table (--wide, pipes, files).
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

// fold splits the columns into consecutive runs that each fit width with
// the label column in front (box drawing: one space either side of a cell
// and one rule between cells). A column wider than width alone gets a run
// of its own.
func fold(widths []int, label, width int) [][]int {
	var runs [][]int
	var cur []int
	used := label + 3 + 1
	for j, w := range widths {
		if len(cur) > 0 && used+w+3 > width {
			runs = append(runs, cur)
			cur, used = nil, label+3+1
		}
		cur = append(cur, j)
		used += w + 3
	}
	if len(cur) > 0 {
		runs = append(runs, cur)
	}
	return runs
}

// Text writes t as a terminal table (box drawing), its title above and
// its footnotes and warnings below, each wrapped to opts.Width when set.
// When the table is wider than opts.Width its columns are folded into
// several tables, each repeating the row labels.
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
	runs := [][]int{nil}
	for j := range t.Columns {
		runs[0] = append(runs[0], j)
	}
	if opts.Width > 0 {
		runs = fold(widths, label, opts.Width)
	}
	for _, run := range runs {
		h := []string{header[0]}
		for _, j := range run {
			h = append(h, header[j+1])
		}
		tb := tablewriter.NewTable(w,
			tablewriter.WithRenderer(renderer.NewBlueprint()),
			tablewriter.WithHeaderAutoFormat(tw.Off),
			tablewriter.WithHeaderAutoWrap(tw.WrapNone),
			tablewriter.WithRowAutoWrap(tw.WrapNone),
			tablewriter.WithHeaderAlignment(tw.AlignCenter),
			tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: t.alignments(run)}),
		)
		tb.Header(h)
		for _, r := range rows {
			row := []string{r[0]}
			for _, j := range run {
				row = append(row, r[j+1])
			}
			if err := tb.Append(row); err != nil {
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
