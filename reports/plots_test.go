package reports

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/results"
)

// distinctColours counts the distinct colours of an image, stopping at limit.
func distinctColours(m image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	b := m.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := m.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func TestWritePlots(t *testing.T) {
	dir := t.TempDir()
	plots, err := WritePlots(dir, paperDocs(), TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, p := range plots {
		kinds = append(kinds, p.Kind+"_"+p.Dataset)
	}
	sort.Strings(kinds)
	want := []string{"diversity_edges2shoes", "fid_cat2dog-fid", "kid_cat2dog-fid", "lpips_pairs_edges2shoes", "preference_edges2shoes", "scores_cat2dog"}
	if len(kinds) != len(want) {
		t.Fatalf("plots %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("plots %v, want %v", kinds, want)
		}
	}
	svgSize := regexp.MustCompile(`<svg[^>]*width="([0-9.]+)pt"[^>]*height="([0-9.]+)pt"`)
	for _, p := range plots {
		m := decodePNG(t, p.PNG)
		if b := m.Bounds(); b.Dx() != PlotScale*PlotWidthPx || b.Dy() != PlotScale*PlotHeightPx {
			t.Errorf("%s: %dx%d px, want %dx%d", p.PNG, b.Dx(), b.Dy(), PlotScale*PlotWidthPx, PlotScale*PlotHeightPx)
		}
		// Axes, text, bars and whiskers: a blank or single-colour image
		// has 1 colour; a drawn plot many (anti-aliased text alone gives dozens).
		if n := distinctColours(m, 20); n < 20 {
			t.Errorf("%s: only %d colours: blank plot?", p.PNG, n)
		}
		b, err := os.ReadFile(p.SVG)
		if err != nil {
			t.Fatal(err)
		}
		sz := svgSize.FindSubmatch(b)
		// 800 px at 96 dpi is 600 pt.
		if sz == nil || string(sz[1]) != "600" || string(sz[2]) != "375" {
			t.Errorf("%s: svg size %q, want 600pt x 375pt", p.SVG, sz)
		}
		if !bytes.Contains(b, []byte("<text")) && !bytes.Contains(b, []byte("<path")) {
			t.Errorf("%s: svg draws nothing", p.SVG)
		}
		// The page's sans-serif everywhere (gonum's default is a serif).
		if bytes.Contains(b, []byte("Serif")) || !bytes.Contains(b, []byte("font-family:Liberation Sans")) {
			t.Errorf("%s: text not set in Liberation Sans", p.SVG)
		}
		if (p.Kind == "lpips_pairs") != (p.Note == PairsNote) {
			t.Errorf("%s: note %q", p.SVG, p.Note)
		}
		if filepath.Dir(p.PNG) != dir {
			t.Errorf("%s not in %s", p.PNG, dir)
		}
	}
}

// TestMetricPlotNegative: a KID below 0 (real against real) stays
// inside the axis, with its whisker.
func TestMetricPlotNegative(t *testing.T) {
	docs := paperDocs()
	real := doc(results.MethodRealData, "cat2dog-fid")
	real.Metrics.KID = &results.KID{Mean: -0.002, Std: 0.004, Subsets: 10, SubsetSize: 50}
	c := collect(append(docs, real))
	p, kind, err := kidPlot(c, "cat2dog-fid", TableOptions{})
	if err != nil || p == nil || kind != "kid" {
		t.Fatalf("kid plot: %v, %v", kind, err)
	}
	if p.Y.Min > -0.006 || p.Y.Max < 0.0123+0.0011 {
		t.Errorf("Y axis [%g, %g], want it to hold -0.006 (KID - sd) and 0.0134", p.Y.Min, p.Y.Max)
	}
}

// TestNiceTicks: labels at 1, 2 or 5 times a power of ten, and never "-0"
// (a CIS range starting a hair below zero gave a -0.0 tick).
func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []string
	}{
		{-1e-9, 1.2, []string{"0.0", "0.5", "1.0"}},
		{-0.04, 0.3, []string{"0.0", "0.1", "0.2", "0.3"}},
		{0, 112, []string{"0", "20", "40", "60", "80", "100"}},
	} {
		var got []string
		for _, tk := range (niceTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("Ticks(%g, %g) labels %q, want %q", tc.lo, tc.hi, got, tc.want)
		}
	}
}

// TestPlotHeadroom: the top whisker of the diversity plot (Real data's)
// stays below the frame.
func TestPlotHeadroom(t *testing.T) {
	c := collect(paperDocs())
	p, _, err := diversityPlot(c, "edges2shoes", TableOptions{})
	if err != nil || p == nil {
		t.Fatalf("diversity plot: %v", err)
	}
	top := 0.0
	for _, d := range paperDocs() {
		if dv := d.Metrics.LPIPSDiversity; dv != nil {
			top = max(top, dv.CI95[1])
		}
	}
	if p.Y.Max < top*1.05 {
		t.Errorf("Y axis ends at %g, the top whisker at %g: no headroom", p.Y.Max, top)
	}
}
