package reports

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/results"
)

// htmlTable is a table as the page shows it: its title and the fragment
// rendered by table.Table.HTML (cells, footnotes, warnings).
type htmlTable struct {
	Name, Title string
	Body        template.HTML
}

type htmlImage struct {
	Title, Alt string
	// Src is a data: URI, so that the page needs no other file.
	Src   template.URL
	Link  string // the file next to the page (SVG for plots)
	Notes []string
}

type htmlModel struct {
	Methods, Dataset, Role, File, SHA256, Extra string
}

func sortedRoles(d *results.Document) []string {
	roles := make([]string, 0, len(d.Models))
	for r := range d.Models {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return roles
}

// modelDetails is what a model's reference says beyond its file and hash.
func modelDetails(m results.ModelRef) string {
	var extra []string
	if m.Net != "" {
		extra = append(extra, "net "+m.Net)
	}
	if m.Version != "" {
		extra = append(extra, "version "+m.Version)
	}
	if len(m.Classes) > 0 {
		extra = append(extra, fmt.Sprintf("%d classes", len(m.Classes)))
	}
	if m.Synthetic {
		extra = append(extra, "synthetic")
	}
	return strings.Join(extra, ", ")
}

// modelRows is one row per distinct model of a dataset (by role, file,
// hash and details), naming the methods whose documents used it ("all"
// when every method of the dataset did): per dataset, the shared models
// first, then each method's own, in the documents' order.
func modelRows(order []htmlModel, used map[htmlModel][]string, methods map[string][]string) []htmlModel {
	var datasets []string
	for _, k := range order {
		if !slices.Contains(datasets, k.Dataset) {
			datasets = append(datasets, k.Dataset)
		}
	}
	var out []htmlModel
	for _, ds := range datasets {
		for _, shared := range []bool{true, false} {
			for _, k := range order {
				ms := used[k]
				if k.Dataset != ds || (len(ms) > 1) != shared {
					continue
				}
				row := k
				row.Methods = strings.Join(ms, ", ")
				if len(ms) > 1 && len(ms) == len(methods[ds]) {
					row.Methods = "all"
				}
				out = append(out, row)
			}
		}
	}
	return out
}

type htmlDoc struct {
	Method, Dataset, Created, MunitEval, ONNXRuntime, Protocol, Randomness string
	// Source is the document's path, breakable after each "/" only
	// (pathBreaks), never inside a name.
	Source template.HTML
}

// pathBreaks escapes a path and lets it break only after a "/" (<wbr>),
// each name kept whole (nowrap: not even at its hyphens), so a long path
// wraps at its folders and no name is cut.
func pathBreaks(p string) template.HTML {
	parts := strings.Split(p, "/")
	for i := range parts {
		sep := "/"
		if i == len(parts)-1 {
			sep = ""
		}
		parts[i] = `<span class="seg">` + template.HTMLEscapeString(parts[i]+sep) + `</span>`
	}
	return template.HTML(strings.Join(parts, "<wbr>"))
}

// randomnessText says in words where a method's sample-to-sample variation
// comes from (results.Protocol.Randomness, the sample store's values); ""
// (the real-data row, older documents) stays empty, and a value this
// version does not know is shown as it is.
func randomnessText(r string) string {
	switch r {
	case "style":
		return "style code"
	case "noise":
		return "noise inputs"
	case "style+noise":
		return "style code and noise inputs"
	case "none":
		return "none (deterministic)"
	case "unknown":
		return "unknown (pre-generated samples)"
	}
	return r
}

type htmlPage struct {
	Title     string
	Created   string
	Version   string
	Tables    []htmlTable
	Plots     []htmlImage
	Grids     []htmlImage
	Docs      []htmlDoc
	Models    []htmlModel
	Runtimes  []string
	Warnings  []string
	GridNotes string
	Notes     []string
}

// toHTML renders a table's HTML fragment; html/template escapes its text.
func toHTML(t *Table) (htmlTable, error) {
	var b bytes.Buffer
	if err := t.HTML(&b); err != nil {
		return htmlTable{}, fmt.Errorf("reports: %w", err)
	}
	return htmlTable{Name: t.Name, Title: t.Title, Body: template.HTML(b.String())}, nil
}

// dataURI reads a PNG file and returns it as a data: URI.
func dataURI(path string) (template.URL, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reports: html: %w", err)
	}
	// The bytes are our own PNG files, base64-encoded: safe as a URL.
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b)), nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// protocolText is a one-line summary of a document's protocol.
func protocolText(p results.Protocol) string {
	var parts []string
	if p.NumInputs > 0 {
		parts = append(parts, fmt.Sprintf("%d inputs", p.NumInputs))
	}
	if p.SamplesPerInput > 0 {
		parts = append(parts, fmt.Sprintf("%d samples/input", p.SamplesPerInput))
	}
	if p.PairsPerInput > 0 {
		parts = append(parts, fmt.Sprintf("%d pairs/input (%s)", p.PairsPerInput, orUnknown(p.Pairing)))
	}
	if p.Select != "" {
		parts = append(parts, "select "+p.Select)
	}
	parts = append(parts, fmt.Sprintf("seed %d", p.Seed))
	if p.Bootstrap > 0 {
		parts = append(parts, fmt.Sprintf("%d bootstrap resamples", p.Bootstrap))
	}
	if p.Splits > 0 {
		parts = append(parts, fmt.Sprintf("%d splits", p.Splits))
	}
	if p.ImageSize > 0 {
		parts = append(parts, fmt.Sprintf("size %d", p.ImageSize))
	}
	return strings.Join(parts, ", ")
}

// buildPage gathers everything index.html shows.
func buildPage(s *Summary, docs []*results.Document, sources []string, opts Options) (*htmlPage, error) {
	p := &htmlPage{Title: opts.Title, Created: opts.Now.UTC().Format("2006-01-02 15:04:05 UTC"), Version: opts.Version, Notes: s.Notes}
	for _, t := range s.Tables {
		h, err := toHTML(t)
		if err != nil {
			return nil, err
		}
		p.Tables = append(p.Tables, h)
	}
	for _, pf := range s.Plots {
		src, err := dataURI(pf.PNG)
		if err != nil {
			return nil, err
		}
		im := htmlImage{Title: pf.Title, Alt: pf.Title, Src: src, Link: relTo(opts.Out, pf.SVG)}
		if pf.Note != "" {
			im.Notes, im.Alt = []string{pf.Note}, pf.Title+". "+pf.Note
		}
		p.Plots = append(p.Plots, im)
	}
	for _, g := range s.Grids {
		src, err := dataURI(g.PNG)
		if err != nil {
			return nil, err
		}
		var cols []string
		for _, c := range g.Grid.Header {
			cols = append(cols, c.Name)
		}
		title := fmt.Sprintf("Samples: %s", g.Name)
		p.Grids = append(p.Grids, htmlImage{Title: title, Alt: title + " (columns: " + strings.Join(cols, ", ") + ")",
			Src: src, Link: relTo(opts.Out, g.PNG), Notes: append([]string{"Inputs: " + strings.Join(g.Grid.Stems, ", ")}, g.Grid.Notes...)})
	}
	p.GridNotes = fmt.Sprintf("Rows: %d inputs drawn with seed %d, each labelled with its input's id; columns: the input, sample 0 of each deterministic method, then up to %d samples of each stochastic method.",
		opts.Grid.withDefaults().NumInputs, opts.Grid.Seed, opts.Grid.withDefaults().Samples)
	runtimes := map[string]bool{}
	// A model shared by several documents (the classifier, LPIPS) is one
	// row naming its methods, not one row per method.
	models, methods := map[htmlModel][]string{}, map[string][]string{}
	var order []htmlModel
	for i, d := range docs {
		src := ""
		if i < len(sources) {
			src = relTo(opts.Out, sources[i])
		}
		p.Docs = append(p.Docs, htmlDoc{Source: pathBreaks(src), Method: d.Method, Dataset: datasetOf(d), Created: d.Created,
			MunitEval: d.Versions.MunitEval, ONNXRuntime: d.Versions.ONNXRuntime, Protocol: protocolText(d.Protocol),
			Randomness: randomnessText(d.Protocol.Randomness)})
		runtimes["munit-eval "+orUnknown(d.Versions.MunitEval)+", onnxruntime "+orUnknown(d.Versions.ONNXRuntime)] = true
		for _, r := range sortedRoles(d) {
			m := d.Models[r]
			k := htmlModel{Dataset: datasetOf(d), Role: r, File: m.File, SHA256: m.SHA256, Extra: modelDetails(m)}
			if _, ok := models[k]; !ok {
				order = append(order, k)
			}
			models[k] = append(models[k], d.Method)
		}
		if !slices.Contains(methods[datasetOf(d)], d.Method) {
			methods[datasetOf(d)] = append(methods[datasetOf(d)], d.Method)
		}
	}
	p.Models = modelRows(order, models, methods)
	// The documents in the tables' order: by dataset, then the paper's
	// method order (the files' order is their names').
	var dsOrder []string
	for _, d := range p.Docs {
		if !slices.Contains(dsOrder, d.Dataset) {
			dsOrder = append(dsOrder, d.Dataset)
		}
	}
	sort.SliceStable(p.Docs, func(i, j int) bool {
		a, b := p.Docs[i], p.Docs[j]
		if a.Dataset != b.Dataset {
			return slices.Index(dsOrder, a.Dataset) < slices.Index(dsOrder, b.Dataset)
		}
		return methodLess(a.Method, b.Method)
	})
	c := collect(docs)
	p.Warnings = allWarnings(c)
	for r := range runtimes {
		p.Runtimes = append(p.Runtimes, r)
	}
	sort.Strings(p.Runtimes)
	return p, nil
}

var pageTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; } h3 { font-size: 1.1rem; }
table { border-collapse: collapse; margin: 0.8rem 0; font-variant-numeric: tabular-nums; }
table.results { border-top: 2px solid #000; border-bottom: 2px solid #000; }
table.results th, table.results td { padding: 0.25rem 0.8rem; }
table.results thead tr.metrics th { border-bottom: 1px solid #000; }
table.results thead tr.groups th { border-bottom: 1px solid #999; }
table.results td.num { text-align: right; white-space: nowrap; }
table.results td.na { text-align: right; color: #777; }
table.results tr.real td { border-top: 1px solid #000; }
table.prov th, table.prov td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; font-size: 0.85rem; text-align: left; vertical-align: top; }
table.prov th { white-space: nowrap; }
h1, table.prov th { hyphens: none; overflow-wrap: normal; word-break: keep-all; }
code, .hash { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.8rem; word-break: break-all; }
td.hash { white-space: nowrap; word-break: normal; font-size: 0.72rem; }
div.scroll { overflow-x: auto; }
td.nowrap { white-space: nowrap; }
table.prov code { word-break: normal; overflow-wrap: normal; }
table.prov td.file { white-space: nowrap; }
table.prov td.path { min-width: 14rem; } span.seg { white-space: nowrap; }
table.results td.text { text-align: left; }
.interval { color: #555; }
ul.notes { font-size: 0.85rem; color: #333; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #444; }
.warn { color: #8a4b00; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>Created {{.Created}} by munit-eval {{.Version}}. Every number below is read from the results documents listed under Provenance; none is recomputed here.</p>

<h2 id="tables">Tables</h2>
{{range .Tables}}
<h3 id="table-{{.Name}}">{{.Title}}</h3>
{{.Body}}{{end}}

{{if .Plots}}<h2 id="plots">Plots</h2>
{{range .Plots}}<figure><img src="{{.Src}}" alt="{{.Alt}}" width="800" height="500"><figcaption>{{.Title}}{{if .Link}} (<a href="{{.Link}}">SVG</a>){{end}}{{range .Notes}}<br>{{.}}{{end}}</figcaption></figure>
{{end}}{{end}}

{{if .Notes}}<ul class="warn">{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Grids}}<h2 id="grids">Samples</h2>
<p>{{.GridNotes}}</p>
{{range .Grids}}<figure><img src="{{.Src}}" alt="{{.Alt}}"><figcaption>{{.Title}}{{range .Notes}}<br>{{.}}{{end}}</figcaption></figure>
{{end}}{{end}}

<h2 id="provenance">Provenance</h2>
{{$versions := gt (len .Runtimes) 1}}
<p>Software: {{range $i, $r := .Runtimes}}{{if $i}}; {{end}}{{$r}}{{end}}.</p>
{{if .Warnings}}<h3>Warnings</h3><ul class="warn">{{range .Warnings}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h3>Results documents</h3>
<div class="scroll"><table class="prov" id="documents">
<tr><th>Method</th><th>Dataset</th><th>File</th><th>Created</th>{{if $versions}}<th>munit-eval</th><th>onnxruntime</th>{{end}}<th>Protocol</th><th>Randomness</th></tr>
{{range .Docs}}<tr><td>{{.Method}}</td><td>{{.Dataset}}</td><td class="path"><code>{{.Source}}</code></td><td class="nowrap">{{.Created}}</td>{{if $versions}}<td>{{.MunitEval}}</td><td>{{.ONNXRuntime}}</td>{{end}}<td>{{.Protocol}}</td><td>{{.Randomness}}</td></tr>
{{end}}</table></div>
<h3>Models</h3>
<div class="scroll"><table class="prov" id="models">
<tr><th>Methods</th><th>Dataset</th><th>Role</th><th>File</th><th>SHA-256</th><th>Details</th></tr>
{{range .Models}}<tr><td>{{.Methods}}</td><td>{{.Dataset}}</td><td>{{.Role}}</td><td class="file"><code>{{.File}}</code></td><td class="hash">{{.SHA256}}</td><td>{{.Extra}}</td></tr>
{{end}}</table></div>
</body>
</html>
`))

// renderPage executes the page template.
func renderPage(p *htmlPage) ([]byte, error) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		return nil, fmt.Errorf("reports: html: %w", err)
	}
	return buf.Bytes(), nil
}
