package reports

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/munit-eval/munit-eval/internal/atomicfile"
	"github.com/munit-eval/munit-eval/internal/version"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/table"
	"github.com/munit-eval/munit-eval/translate"
)

// Options controls a whole report.
type Options struct {
	// Out is the report folder; it is created when missing.
	Out    string
	Tables TableOptions
	Grid   GridOptions
	// Stores are sample stores (folders of method folders), one grid each.
	// When empty, the grids come from the method folders the documents
	// name in protocol.samples, one grid per dataset, where they exist.
	Stores []string
	// Title heads index.html (default "munit-eval report").
	Title string
	// NoNotes leaves the notes and warnings out of tables.tex (they follow
	// each float there as LaTeX comments otherwise); the other outputs
	// keep them.
	NoNotes bool
	// Now is the report's creation time (default time.Now()); Version the
	// munit-eval version printed (default version.MunitEval).
	Now     time.Time
	Version string
}

// Summary lists what a report holds and where it was written.
type Summary struct {
	Tables []*Table
	Plots  []PlotFile
	Grids  []GridFile
	// Files are every file written, index.html last.
	Files []string
	// Notes say what the report could not show and why (no sample store
	// for the grids); the HTML page shows them too.
	Notes []string
}

// File names inside the report folder.
const (
	TablesMarkdown = "tables.md"
	TablesLaTeX    = "tables.tex"
	IndexHTML      = "index.html"
	PlotsDir       = "plots"
	GridsDir       = "grids"
)

// Write builds the whole report from documents (sources are their paths,
// for provenance; may be nil) into opts.Out: tables.md, tables.tex,
// plots/*.png and *.svg, grids/*.png and index.html, which embeds every
// image as a data: URI so that it works opened from disk, offline.
func Write(docs []*results.Document, sources []string, opts Options) (*Summary, error) {
	if len(docs) == 0 {
		return nil, fmt.Errorf("reports: no results documents")
	}
	if opts.Out == "" {
		return nil, fmt.Errorf("reports: no report folder")
	}
	if opts.Title == "" {
		opts.Title = "munit-eval report"
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Version == "" {
		opts.Version = version.MunitEval
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	s := &Summary{}
	var err error
	if opts.Tables.Sources == nil {
		opts.Tables.Sources = sources
	}
	if s.Tables, err = BuildTables(docs, opts.Tables); err != nil {
		return nil, err
	}
	var md, tex bytes.Buffer
	if err := WriteMarkdown(&md, s.Tables); err != nil {
		return nil, err
	}
	if err := WriteLaTeXOptions(&tex, s.Tables, table.LaTeXOptions{NoNotes: opts.NoNotes}); err != nil {
		return nil, err
	}
	for name, b := range map[string][]byte{TablesMarkdown: md.Bytes(), TablesLaTeX: tex.Bytes()} {
		path := filepath.Join(opts.Out, name)
		if err := atomicfile.Write(path, b, 0o644); err != nil {
			return nil, fmt.Errorf("reports: %w", err)
		}
	}
	s.Files = append(s.Files, filepath.Join(opts.Out, TablesMarkdown), filepath.Join(opts.Out, TablesLaTeX))

	if s.Plots, err = WritePlots(filepath.Join(opts.Out, PlotsDir), docs, opts.Tables); err != nil {
		return nil, err
	}
	for _, p := range s.Plots {
		s.Files = append(s.Files, p.PNG, p.SVG)
	}

	sourcesOfGrids, notes, err := gridSources(docs, sources, opts.Stores)
	if err != nil {
		return nil, err
	}
	s.Notes = append(s.Notes, notes...)
	if s.Grids, err = WriteGrids(filepath.Join(opts.Out, GridsDir), sourcesOfGrids, opts.Grid); err != nil {
		return nil, err
	}
	for _, g := range s.Grids {
		s.Files = append(s.Files, g.PNG)
	}

	page, err := buildPage(s, docs, sources, opts)
	if err != nil {
		return nil, err
	}
	b, err := renderPage(page)
	if err != nil {
		return nil, err
	}
	index := filepath.Join(opts.Out, IndexHTML)
	if err := atomicfile.Write(index, b, 0o644); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	s.Files = append(s.Files, index)
	return s, nil
}

// GridSource is a set of method folders drawn as one grid.
type GridSource struct {
	Name       string
	MethodDirs []string
}

// seedDirName is the name of one seed's folder inside a run's results
// folder when the file has seeds (pipeline.SeedDir).
var seedDirName = regexp.MustCompile(`^seed-[0-9]+$`)

// runStore is the store folder of method folder md of dataset ds for the
// run document at path src: OUT/store/<ds>/<md> for OUT/results/*.json
// and OUT/results/seed-<S>/*.json. Runs of several seeds keep their
// samples side by side (STORE/<md>@<key>): the folder whose manifest
// holds the document's seed, else the plain one (a method whose samples do
// not depend on the seed has one folder).
func runStore(src, ds, md string, seed int64) string {
	dir := filepath.Dir(src)
	if seedDirName.MatchString(filepath.Base(dir)) {
		dir = filepath.Dir(dir)
	}
	plain := filepath.Join(filepath.Dir(dir), "store", ds, md)
	keyed, _ := filepath.Glob(plain + translate.RunKeySep + "*")
	for _, c := range append([]string{plain}, keyed...) {
		if m, err := translate.ReadManifest(c); err == nil && m.Seed == seed {
			return c
		}
	}
	return plain
}

// gridSources returns one grid source per store, or, with no store, one
// per dataset from the method folders the documents lead to: the folder a
// document names in protocol.samples (read relative to the working folder,
// then to the document's folder), or, for a document in the results/
// folder of a run, the run's sample store ../store/<dataset>/<method>. The
// notes say why documents led to no grid, so that grids never vanish
// silently. sources are the documents' paths (may be nil).
func gridSources(docs []*results.Document, sources []string, stores []string) ([]GridSource, []string, error) {
	var out []GridSource
	if len(stores) > 0 {
		for _, st := range stores {
			mds, err := MethodDirs(st)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, GridSource{Name: filepath.Base(filepath.Clean(st)), MethodDirs: mds})
		}
		return out, nil, nil
	}
	isStore := func(dir string) bool {
		_, err := os.Stat(filepath.Join(dir, translate.ManifestName))
		return err == nil
	}
	byDS := map[string][]string{}
	var order, notes, missing []string
	seen := map[string]bool{}
	for i, d := range docs {
		src := ""
		if i < len(sources) {
			src = sources[i]
		}
		var candidates []string
		if dir := d.Protocol.Samples; dir != "" {
			candidates = append(candidates, dir)
			if src != "" && !filepath.IsAbs(dir) {
				candidates = append(candidates, filepath.Join(filepath.Dir(src), dir))
			}
		}
		if md, err := translate.MethodDir(d.Method); err == nil && src != "" && d.Method != results.MethodRealData {
			// A run writes OUT/results/*.json and OUT/store/<dataset>/<method>/.
			candidates = append(candidates, runStore(src, datasetOf(d), md, d.Protocol.Seed))
		}
		found := ""
		for _, c := range candidates {
			if isStore(c) {
				found = c
				break
			}
		}
		if found == "" {
			if d.Method != results.MethodRealData && len(candidates) > 0 && d.Protocol.Samples != "" {
				missing = append(missing, fmt.Sprintf("%s (%s)", d.Method, d.Protocol.Samples))
			}
			continue
		}
		if seen[found] {
			continue
		}
		seen[found] = true
		ds := datasetOf(d)
		if _, ok := byDS[ds]; !ok {
			order = append(order, ds)
		}
		byDS[ds] = append(byDS[ds], found)
	}
	for _, ds := range order {
		out = append(out, GridSource{Name: ds, MethodDirs: byDS[ds]})
	}
	if len(missing) > 0 {
		notes = append(notes, fmt.Sprintf("no sample folder found for %s: give the stores with --stores", strings.Join(missing, ", ")))
	}
	if len(out) == 0 {
		notes = append(notes, "no image grids: the results documents lead to no sample store (protocol.samples, or a run's store/ folder beside results/); give the stores with --stores")
	}
	return out, notes, nil
}

// relTo returns path relative to dir when possible, else path.
func relTo(dir, path string) string {
	ad, err1 := filepath.Abs(dir)
	ap, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return path
	}
	r, err := filepath.Rel(ad, ap)
	if err != nil {
		return path
	}
	return filepath.ToSlash(r)
}
