package reports

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/images"
)

// pixel returns the RGB value at (x, y).
func pixel(m *images.Image, x, y int) [3]uint8 {
	i := 3 * (y*m.W + x)
	return [3]uint8{m.Pix[i], m.Pix[i+1], m.Pix[i+2]}
}

func TestMakeGrid(t *testing.T) {
	const size, n = 32, 6
	methods := []testMethod{
		{name: "MUNIT", samples: 5, latent: true},
		{name: "BicycleGAN", samples: 3, latent: true},
		{name: "CycleGAN*", samples: 1},
	}
	store, inputs := makeStore(t, n, size, methods)
	dirs, err := MethodDirs(store)
	if err != nil {
		t.Fatal(err)
	}
	opts := GridOptions{NumInputs: 3, Samples: 4, Seed: 11, MinCell: 64}
	g, err := MakeGrid(dirs, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Column groups: the input, the deterministic method, then the
	// stochastic ones in the paper's order, K capped by what a store has.
	var got []string
	for _, c := range g.Header {
		got = append(got, fmt.Sprintf("%s:%d", c.Name, c.Columns))
	}
	if want := []string{"Input:1", "CycleGAN*:1", "MUNIT:4", "BicycleGAN:3"}; !slices.Equal(got, want) {
		t.Fatalf("header %v, want %v", got, want)
	}
	if len(g.Stems) != 3 || !slices.IsSorted(g.Stems) || len(slices.Compact(slices.Clone(g.Stems))) != 3 {
		t.Fatalf("stems %v: want 3 distinct sorted inputs", g.Stems)
	}
	const pad, cell = 4, 64 // 32 px enlarged by 2 to reach MinCell
	cols := 1 + 1 + 4 + 3
	lw := g.LabelWidth // the row labels' column, at the left
	if lw <= 2*pad || lw > cell+2*pad || g.Image.W != lw+pad+cols*(cell+pad) {
		t.Fatalf("grid width %d with labels %d px, want %d + labels of 1 to %d px", g.Image.W, lw, pad+cols*(cell+pad), cell)
	}
	header := g.Image.H - (pad + 3*(cell+pad))
	if header < 14 {
		t.Fatalf("header %d px high: no room for names", header)
	}
	// Every cell shows the solid colour makeStore wrote for it.
	methodIndex := map[string]int{"MUNIT": 0, "BicycleGAN": 1, "CycleGAN*": 2}
	for r, stem := range g.Stems {
		in, _ := strconv.Atoi(strings.TrimPrefix(stem, "in"))
		y := header + pad + r*(cell+pad) + cell/2
		col := 0
		for _, h := range g.Header {
			for k := 0; k < h.Columns; k++ {
				x := lw + pad + col*(cell+pad) + cell/2
				want := [3]uint8{uint8(20 * in), 200, 50}
				if h.Name != "Input" {
					want = [3]uint8{uint8(40 * methodIndex[h.Name]), uint8(30 * k), uint8(10 * in)}
				}
				if p := pixel(g.Image, x, y); p != want {
					t.Errorf("row %d (%s), %s sample %d: pixel %v, want %v", r, stem, h.Name, k, p, want)
				}
				col++
			}
		}
	}
	// The header has dark text above every column group.
	col := 0
	for _, h := range g.Header {
		x0, x1 := lw+pad+col*(cell+pad), lw+pad+(col+h.Columns)*(cell+pad)-pad
		dark := false
		for y := 0; y < header && !dark; y++ {
			for x := x0; x < x1; x++ {
				if p := pixel(g.Image, x, y); p[0] < 100 && p[1] < 100 && p[2] < 100 {
					dark = true
					break
				}
			}
		}
		if !dark {
			t.Errorf("no text above %s", h.Name)
		}
		col += h.Columns
	}
	// Each row's label column has dark text (its input id) within the row,
	// and none in the header's rows.
	for r := range g.Stems {
		y0 := header + pad + r*(cell+pad)
		if !hasDark(g.Image, 0, y0, lw, y0+cell) {
			t.Errorf("row %d (%s): no input id at its left", r, g.Stems[r])
		}
	}
	if hasDark(g.Image, 0, 0, lw, header) {
		t.Error("text in the label column above the rows")
	}

	// The selection is a function of the seed, and --inputs overrides the
	// manifest's input folder.
	g2, err := MakeGrid(dirs, GridOptions{NumInputs: 3, Samples: 4, Seed: 11, MinCell: 64, Inputs: inputs})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.Stems, g2.Stems) || !slices.Equal(g.Image.Pix, g2.Image.Pix) {
		t.Error("same seed, different grid")
	}
	differs := false
	for seed := int64(12); seed < 20 && !differs; seed++ {
		g3, err := MakeGrid(dirs, GridOptions{NumInputs: 3, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		differs = !slices.Equal(g.Stems, g3.Stems)
	}
	if !differs {
		t.Error("eight other seeds all select the same inputs")
	}
}

// hasDark reports whether a pixel of m in [x0, x1) × [y0, y1) is dark.
func hasDark(m *images.Image, x0, y0, x1, y1 int) bool {
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			if p := pixel(m, x, y); p[0] < 100 && p[1] < 100 && p[2] < 100 {
				return true
			}
		}
	}
	return false
}

// TestGridLongInputID: an input id longer than a cell is cut to the
// cell's width, so the label column never outgrows one cell.
func TestGridLongInputID(t *testing.T) {
	img, err := drawRowLabels([]string{"a very long input file name indeed", "x"}, 40, 4, 100, 14)
	if err != nil {
		t.Fatal(err)
	}
	if w := img.Bounds().Dx(); w > 40+8 || w < 20 {
		t.Errorf("label column %d px wide, want at most a 40-px cell plus padding", w)
	}
}

func TestMakeGridErrors(t *testing.T) {
	store, _ := makeStore(t, 2, 8, []testMethod{{name: "MUNIT", samples: 2, latent: true}})
	for _, tc := range []struct {
		name string
		dirs []string
		want string
	}{
		{"none", nil, "no method folders"},
		{"not a store", []string{t.TempDir()}, "not a sample store"},
		{"missing", []string{store + "/nope"}, "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MakeGrid(tc.dirs, GridOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := MethodDirs(t.TempDir()); err == nil {
		t.Error("MethodDirs of an empty folder: no error")
	}
}

// TestHeaderPx: names on a 1,984-px grid, shown in the page's 1,000-px
// column, still read at 14 px or more; narrow grids keep 14 px.
func TestHeaderPx(t *testing.T) {
	for _, tc := range []struct {
		width int
		min   float64
	}{{400, 14}, {1000, 14}, {1984, 14 * 1984 / 1000.0}} {
		if got := headerPx(tc.width); got < tc.min {
			t.Errorf("headerPx(%d) = %g, want at least %g", tc.width, got, tc.min)
		}
	}
}

// TestGridNoiseIsStochastic: a generator whose randomness comes from noise
// inputs (no latent code) gets its samples shown, like a style-code one; a
// generator with neither shows its one output.
func TestGridNoiseIsStochastic(t *testing.T) {
	store, _ := makeStore(t, 3, 32, []testMethod{{name: "UNIT", samples: 3, noise: true}, {name: "CycleGAN", samples: 3}})
	dirs, err := MethodDirs(store)
	if err != nil {
		t.Fatal(err)
	}
	g, err := MakeGrid(dirs, GridOptions{NumInputs: 2, Samples: 4, Seed: 1, MinCell: 32})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range g.Header {
		got = append(got, fmt.Sprintf("%s:%d", c.Name, c.Columns))
	}
	if want := []string{"Input:1", "CycleGAN:1", "UNIT:3"}; !slices.Equal(got, want) {
		t.Fatalf("header %v, want %v", got, want)
	}
}
