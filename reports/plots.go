package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/munit-eval/munit-eval/internal/atomicfile"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/table"
)

// Plot sizes in CSS pixels: wide enough for the report and for a README,
// with 12 pt text that stays readable at this width. The PNG files hold
// PlotScale times as many pixels each way, sharp on high-density screens
// and in papers; the SVG files are 600 x 375 pt.
const (
	PlotWidthPx  = 800
	PlotHeightPx = 500
	// PlotScale is the PNG's pixels per CSS pixel.
	PlotScale = 2
	// plotDPI is the resolution at which PlotWidthPx is laid out
	// (vgimg.DefaultDPI); the PNG is drawn at PlotScale times it.
	plotDPI = 96
)

// PlotFile is one plot written as PNG and SVG.
type PlotFile struct {
	// Kind is "diversity", "scores", "lpips_pairs", "fid", "kid" or
	// "preference".
	Kind    string
	Dataset string
	Title   string
	// Note says how to read the plot where its title cannot (what a box
	// plot's whiskers are); the report shows it under the plot.
	Note string
	// PNG and SVG are the paths of the files written.
	PNG, SVG string
}

// WritePlots draws, for each dataset, the plots its documents support and
// writes each as PNG and SVG into dir:
//
//   - diversity_<dataset>: mean LPIPS diversity per method as bars with the
//     95% interval as whiskers;
//   - scores_<dataset>: CIS and IS per method as grouped bars (form as in
//     opts.Scores) with their 95% intervals where documents have them;
//   - lpips_pairs_<dataset>: box plots of the pairwise LPIPS distances
//     (Diversity.Pairs) per method (Tukey's: PairsNote);
//   - fid_<dataset> and kid_<dataset>: FID per method as bars with its 95%
//     interval, KID with ± one standard deviation over subsets;
//   - preference_<dataset>: the percentage of judgments preferring each
//     baseline over the reference method, with the 95% interval and a line
//     at 50%.
//
// The numbers are read from the documents as they are.
func WritePlots(dir string, docs []*results.Document, opts TableOptions) ([]PlotFile, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("reports: plots: %w", err)
	}
	c := collect(docs)
	var out []PlotFile
	for _, ds := range c.datasets {
		for _, mk := range []func(*collection, string, TableOptions) (*plot.Plot, string, error){diversityPlot, scoresPlot, pairsPlot, fidPlot, kidPlot, preferencePlot} {
			p, kind, err := mk(c, ds, opts)
			if err != nil {
				return nil, err
			}
			if p == nil {
				continue
			}
			base := filepath.Join(dir, kind+"_"+fileSafe(ds))
			f := PlotFile{Kind: kind, Dataset: ds, Title: p.Title.Text, Note: plotNotes[kind], PNG: base + ".png", SVG: base + ".svg"}
			if err := savePlot(p, f.PNG, "png"); err != nil {
				return nil, err
			}
			if err := savePlot(p, f.SVG, "svg"); err != nil {
				return nil, err
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// PairsNote says what the box plot of pair distances draws (gonum's
// plotter.BoxPlot: Tukey's definition).
const PairsNote = "Boxes span the quartiles, with the median inside; whiskers reach the farthest distances within 1.5 × the interquartile range of the box; circles are the distances beyond."

var plotNotes = map[string]string{
	"lpips_pairs": PairsNote,
	"kid":         "Whiskers: ± one standard deviation of KID over the subsets (not an interval).",
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileSafe turns a dataset or method name into a file name component.
func fileSafe(s string) string {
	s = strings.Trim(unsafeChars.ReplaceAllString(s, "_"), "_")
	if s == "" {
		return "x"
	}
	return s
}

func savePlot(p *plot.Plot, path, format string) error {
	w := vg.Length(PlotWidthPx) * vg.Inch / plotDPI
	h := vg.Length(PlotHeightPx) * vg.Inch / plotDPI
	var wt io.WriterTo
	if format == "png" {
		c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(PlotScale*plotDPI))
		p.Draw(draw.New(c))
		wt = vgimg.PngCanvas{Canvas: c}
	} else {
		var err error
		if wt, err = p.WriterTo(w, h, format); err != nil {
			return fmt.Errorf("reports: plot %s: %w", path, err)
		}
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return fmt.Errorf("reports: plot %s: %w", path, err)
	}
	return atomicfile.Write(path, buf.Bytes(), 0o644)
}

// newPlot returns a plot with the report's fonts and a nominal X axis of
// method names, slanted when they would not fit side by side.
func newPlot(title, ylabel string, names []string) *plot.Plot {
	p := plot.New()
	// The page's sans-serif, not gonum's default Liberation Serif.
	for _, f := range []*font.Font{&p.Title.TextStyle.Font, &p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font,
		&p.X.Tick.Label.Font, &p.Y.Tick.Label.Font, &p.Legend.TextStyle.Font} {
		f.Variant = "Sans"
	}
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.Y.Label.Text = ylabel
	p.X.Label.Text = "Method"
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font.Size = vg.Points(12)
		ax.Tick.Label.Font.Size = vg.Points(11)
	}
	p.NominalX(names...)
	// About 7 px per character at 11 pt over about 700 px of axis: slant
	// the names when the longest would overlap its neighbours.
	longest := 0
	for _, n := range names {
		longest = max(longest, len([]rune(n)))
	}
	if len(names) > 0 && longest*7 > 650/len(names) {
		p.X.Tick.Label.Rotation = math.Pi / 8
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	p.X.Min, p.X.Max = -0.6, float64(len(names))-0.4
	p.Y.Tick.Marker = niceTicks{}
	p.Title.Padding = vg.Points(8)
	p.X.Label.Padding = vg.Points(4)
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	// Legends sit inside the frame, clear of it.
	p.Legend.XOffs = -vg.Points(10)
	p.Legend.YOffs = -vg.Points(8)
	p.Legend.Padding = vg.Points(3)
	return p
}

// headroom raises the top of the Y axis by frac of its range, so that the
// highest whisker or box does not touch the frame.
func headroom(p *plot.Plot, frac float64) {
	p.Y.Max += frac * (p.Y.Max - p.Y.Min)
}

// barWidth is the width of one bar when n groups of k bars share the axis.
func barWidth(n, k int) vg.Length {
	px := 0.6 * 680 / float64(n*k)
	if px > 70 {
		px = 70
	}
	return vg.Length(px) * vg.Inch / plotDPI
}

// errPoints are bar tops with asymmetric errors, for plotter.YErrorBars.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// whiskers returns error bars at (x_i, y_i) reaching [lo_i, hi_i], or nil
// when no point has an interval.
func whiskers(xs, ys []float64, ci []*[2]float64) (*plotter.YErrorBars, error) {
	var pts errPoints
	for i := range xs {
		if ci[i] == nil {
			continue
		}
		pts.XYs = append(pts.XYs, plotter.XY{X: xs[i], Y: ys[i]})
		pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{ys[i] - ci[i][0], ci[i][1] - ys[i]})
	}
	if len(pts.XYs) == 0 {
		return nil, nil
	}
	eb, err := plotter.NewYErrorBars(pts)
	if err != nil {
		return nil, err
	}
	eb.LineStyle.Width = vg.Points(1.5)
	eb.CapWidth = vg.Points(10)
	return eb, nil
}

var realDataColor = color.Gray{Y: 160}

// diversity returns the LPIPS diversity of (ds, m), nil when none.
func (c *collection) diversity(ds, m string) (*results.Diversity, error) {
	d, err := c.doc(ds, m, registry.Lookup(registry.KeyLPIPS))
	if err != nil || d == nil {
		return nil, err
	}
	return d.Metrics.LPIPSDiversity, nil
}

func diversityPlot(c *collection, ds string, _ TableOptions) (*plot.Plot, string, error) {
	const kind = "diversity"
	ms := append([]string(nil), c.methods[ds]...)
	SortMethods(ms)
	var names []string
	var vals plotter.Values
	var ci []*[2]float64
	nets := map[string]bool{}
	for _, m := range ms {
		dv, err := c.diversity(ds, m)
		if err != nil {
			return nil, "", err
		}
		if dv == nil {
			continue
		}
		names = append(names, m)
		vals = append(vals, dv.Mean)
		x := dv.CI95
		ci = append(ci, &x)
		nets[registry.LPIPSName(dv)] = true
	}
	if len(names) == 0 {
		return nil, "", nil
	}
	net := "LPIPS, mixed models"
	if len(nets) == 1 {
		for n := range nets {
			net = n
		}
	}
	p := newPlot(fmt.Sprintf("%s: diversity (mean pairwise LPIPS, 95%% interval)", ds), "Mean LPIPS distance ("+net+", unitless)", names)
	for i := range names {
		bar, err := plotter.NewBarChart(plotter.Values{vals[i]}, barWidth(len(names), 1))
		if err != nil {
			return nil, "", fmt.Errorf("reports: diversity plot %s: %w", ds, err)
		}
		bar.XMin = float64(i)
		bar.Color = plotutil.Color(0)
		if names[i] == results.MethodRealData {
			bar.Color = realDataColor
		}
		bar.LineStyle.Width = 0
		p.Add(bar)
	}
	xs := make([]float64, len(names))
	for i := range xs {
		xs[i] = float64(i)
	}
	eb, err := whiskers(xs, vals, ci)
	if err != nil {
		return nil, "", fmt.Errorf("reports: diversity plot %s: %w", ds, err)
	}
	if eb != nil {
		p.Add(eb)
	}
	headroom(p, 0.08)
	return p, kind, nil
}

func scoresPlot(c *collection, ds string, opts TableOptions) (*plot.Plot, string, error) {
	const kind = "scores"
	ms := append([]string(nil), c.methods[ds]...)
	SortMethods(ms)
	type series struct {
		name string
		vals plotter.Values
		ci   []*[2]float64
	}
	// One series per column of the IS entry (CIS, then IS), as in the
	// scores table.
	e := registry.Lookup(registry.KeyIS)
	ss := make([]series, len(e.Columns))
	for k, col := range e.Columns {
		ss[k].name = col.Header
	}
	var names []string
	for _, m := range ms {
		d, err := c.doc(ds, m, e)
		if err != nil {
			return nil, "", err
		}
		if d == nil {
			continue
		}
		cells := make([]Cell, len(e.Columns))
		any := false
		for k, col := range e.Columns {
			cells[k] = col.Cell(d, opts.view())
			any = any || cells[k].Kind != CellNA
		}
		if !any {
			continue
		}
		names = append(names, m)
		// A missing score is drawn as no bar (height 0) and named in the legend.
		for k, cell := range cells {
			ss[k].vals = append(ss[k].vals, cell.Value)
			ss[k].ci = append(ss[k].ci, cell.CI)
		}
	}
	if len(names) == 0 {
		return nil, "", nil
	}
	unit := "nats: mean KL divergence"
	if opts.Scores == ScoresExp {
		unit = "exp of the mean KL divergence"
	}
	p := newPlot(fmt.Sprintf("%s: CIS and IS (95%% interval)", ds), "Score ("+unit+")", names)
	w := barWidth(len(names), len(ss))
	for k, s := range ss {
		bar, err := plotter.NewBarChart(s.vals, w)
		if err != nil {
			return nil, "", fmt.Errorf("reports: scores plot %s: %w", ds, err)
		}
		bar.Color = plotutil.Color(k)
		bar.LineStyle.Width = 0
		// The two bars of a group sit at i-0.2 and i+0.2 in data units,
		// so the whiskers can be placed exactly.
		dx := 0.4*float64(k) - 0.2
		bar.XMin = dx
		p.Add(bar)
		p.Legend.Add(s.name, bar)
		xs := make([]float64, len(names))
		for i := range xs {
			xs[i] = float64(i) + dx
		}
		eb, err := whiskers(xs, s.vals, s.ci)
		if err != nil {
			return nil, "", fmt.Errorf("reports: scores plot %s: %w", ds, err)
		}
		if eb != nil {
			p.Add(eb)
		}
	}
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(11)
	// Headroom above the tallest whisker for the legend.
	p.Y.Max *= 1.2
	return p, kind, nil
}

func pairsPlot(c *collection, ds string, _ TableOptions) (*plot.Plot, string, error) {
	const kind = "lpips_pairs"
	ms := append([]string(nil), c.methods[ds]...)
	SortMethods(ms)
	var names []string
	var boxes []plotter.Values
	net := map[string]bool{}
	for _, m := range ms {
		dv, err := c.diversity(ds, m)
		if err != nil {
			return nil, "", err
		}
		if dv == nil || len(dv.Pairs) == 0 {
			continue
		}
		v := make(plotter.Values, len(dv.Pairs))
		for i, pr := range dv.Pairs {
			v[i] = pr.Distance
		}
		names = append(names, m)
		boxes = append(boxes, v)
		net[registry.LPIPSName(dv)] = true
	}
	if len(names) == 0 {
		return nil, "", nil
	}
	label := "LPIPS, mixed models"
	if len(net) == 1 {
		for n := range net {
			label = n
		}
	}
	p := newPlot(fmt.Sprintf("%s: distribution of pairwise LPIPS distances", ds), "Pairwise LPIPS distance ("+label+", unitless)", names)
	w := barWidth(len(names), 1)
	for i, v := range boxes {
		b, err := plotter.NewBoxPlot(w, float64(i), v)
		if err != nil {
			return nil, "", fmt.Errorf("reports: pairs plot %s/%s: %w", ds, names[i], err)
		}
		b.FillColor = plotutil.Color(0)
		if names[i] == results.MethodRealData {
			b.FillColor = realDataColor
		}
		b.GlyphStyle.Radius = vg.Points(1.5)
		p.Add(b)
	}
	headroom(p, 0.08)
	return p, kind, nil
}

func fidPlot(c *collection, ds string, opts TableOptions) (*plot.Plot, string, error) {
	return metricPlot(c, ds, opts, registry.KeyFID, "fid", "%s: FID (95%% interval)", "FID (lower is better)")
}

func kidPlot(c *collection, ds string, opts TableOptions) (*plot.Plot, string, error) {
	return metricPlot(c, ds, opts, registry.KeyKID, "kid", "%s: KID (± 1 sd over subsets)", "KID (lower is better)")
}

// metricPlot draws the first column of registry entry key per method as
// bars, with the cell's 95% interval as whiskers or, for a cell carrying a
// standard deviation instead, ± one sd; the real-data row in grey.
func metricPlot(c *collection, ds string, opts TableOptions, key, kind, title, ylabel string) (*plot.Plot, string, error) {
	e := registry.Lookup(key)
	if e == nil || len(e.Columns) == 0 {
		return nil, "", nil
	}
	ms := append([]string(nil), c.methods[ds]...)
	SortMethods(ms)
	var names []string
	var vals plotter.Values
	var ci []*[2]float64
	for _, m := range ms {
		d, err := c.doc(ds, m, e)
		if err != nil {
			return nil, "", err
		}
		if d == nil {
			continue
		}
		cell := e.Columns[0].Cell(d, opts.view())
		if cell.Kind != CellValue {
			continue
		}
		names = append(names, m)
		vals = append(vals, cell.Value)
		switch {
		case cell.CI != nil:
			x := *cell.CI
			ci = append(ci, &x)
		case cell.SD != nil:
			ci = append(ci, &[2]float64{cell.Value - *cell.SD, cell.Value + *cell.SD})
		default:
			ci = append(ci, nil)
		}
	}
	if len(names) == 0 {
		return nil, "", nil
	}
	p := newPlot(fmt.Sprintf(title, ds), ylabel, names)
	lo := 0.0
	for i := range names {
		bar, err := plotter.NewBarChart(plotter.Values{vals[i]}, barWidth(len(names), 1))
		if err != nil {
			return nil, "", fmt.Errorf("reports: %s plot %s: %w", kind, ds, err)
		}
		bar.XMin = float64(i)
		bar.Color = plotutil.Color(1)
		if names[i] == results.MethodRealData {
			bar.Color = realDataColor
		}
		bar.LineStyle.Width = 0
		p.Add(bar)
		lo = min(lo, vals[i])
		if ci[i] != nil {
			lo = min(lo, ci[i][0])
		}
	}
	xs := make([]float64, len(names))
	for i := range xs {
		xs[i] = float64(i)
	}
	eb, err := whiskers(xs, vals, ci)
	if err != nil {
		return nil, "", fmt.Errorf("reports: %s plot %s: %w", kind, ds, err)
	}
	if eb != nil {
		p.Add(eb)
	}
	// KID is unbiased and may be below 0 (real against real): the axis
	// then reaches below 0 instead of cutting the bar.
	p.Y.Min = lo
	if lo < 0 {
		p.Y.Min = lo - 0.05*(p.Y.Max-lo)
	}
	headroom(p, 0.08)
	return p, kind, nil
}

func preferencePlot(c *collection, ds string, opts TableOptions) (*plot.Plot, string, error) {
	const kind = "preference"
	ref, pref, simulated, err := c.reference(ds)
	if err != nil || ref == "" {
		return nil, "", err
	}
	names := make([]string, 0, len(pref))
	for b := range pref {
		names = append(names, b)
	}
	sort.Strings(names)
	SortMethods(names)
	vals := make(plotter.Values, len(names))
	ci := make([]*[2]float64, len(names))
	xs := make([]float64, len(names))
	for i, b := range names {
		pr := pref[b]
		vals[i] = pr.Percent
		x := pr.Wilson
		if opts.Pref == PrefBootstrap {
			x = pr.Bootstrap
		}
		ci[i] = &x
		xs[i] = float64(i)
	}
	title := fmt.Sprintf("%s: human preference over %s (95%% interval)", ds, ref)
	if simulated {
		title = fmt.Sprintf("%s: preference over %s, simulated workers (95%% interval)", ds, ref)
	}
	p := newPlot(title, "Judgments preferring the method over "+ref+" (%)", names)
	p.X.Label.Text = "Baseline"
	p.Y.Max = 100
	bar, err := plotter.NewBarChart(vals, barWidth(len(names), 1))
	if err != nil {
		return nil, "", fmt.Errorf("reports: preference plot %s: %w", ds, err)
	}
	bar.Color = plotutil.Color(2)
	bar.LineStyle.Width = 0
	p.Add(bar)
	eb, err := whiskers(xs, vals, ci)
	if err != nil {
		return nil, "", fmt.Errorf("reports: preference plot %s: %w", ds, err)
	}
	if eb != nil {
		p.Add(eb)
	}
	half := plotter.NewFunction(func(float64) float64 { return 50 })
	half.LineStyle.Width = vg.Points(1.5)
	half.LineStyle.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	half.LineStyle.Color = color.Black
	p.Add(half)
	p.Legend.Add("50%: no preference", half)
	// Room above 100% for the legend and a whisker reaching 100%.
	p.Y.Max = max(p.Y.Max, 100) * 1.12
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(11)
	return p, kind, nil
}

// niceTicks labels the Y axis every 1, 2 or 5 times a power of ten, about
// six labels over the range, with unlabelled ticks halfway between.
type niceTicks struct{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	raw := (hi - lo) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	prec := max(0, -int(math.Floor(math.Log10(step))))
	var ticks []plot.Tick
	for i := math.Ceil(lo / step * 2); i*step/2 <= hi+step*1e-9; i++ {
		v := i * step / 2
		t := plot.Tick{Value: v}
		if math.Mod(i, 2) == 0 {
			// table.Num: a tick at -0 (from a tiny negative lower bound)
			// reads 0, never -0.0.
			t.Label = table.Num(v, prec)
		}
		ticks = append(ticks, t)
	}
	return ticks
}
