package evaluate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/munit-eval/munit-eval/batch"
	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/lpips"
	"github.com/munit-eval/munit-eval/model"
)

// NamedDistance is the LPIPS distance between the two files of one name.
type NamedDistance struct {
	Name     string  `json:"name"`
	Distance float64 `json:"distance"`
}

// Paired is the result of PairedDistances.
type Paired struct {
	Pairs []NamedDistance `json:"pairs"`
	// Mean is the mean distance over Pairs.
	Mean float64 `json:"mean"`
	// OnlyA and OnlyB are the images present in one folder only.
	OnlyA        []string `json:"only_a,omitempty"`
	OnlyB        []string `json:"only_b,omitempty"`
	LPIPSNet     string   `json:"lpips_net"`
	LPIPSVersion string   `json:"lpips_version"`
}

// PairedDistances is the LPIPS distance between the images of folders a
// and b that share a file name (the lpips package's lpips_2dirs.py), in
// name order, and their mean; images present in one folder only are
// listed, and no shared name at all is an error. size > 0 resizes every
// image first (shorter side, centre crop). The pairs go through
// lpips.Embedder.PairDistances, which lets each embedding go once its
// pair is computed.
func PairedDistances(ctx context.Context, e *lpips.Embedder, a, b string, size int) (*Paired, error) {
	fa, err := images.ListDir(a)
	if err != nil {
		return nil, err
	}
	fb, err := images.ListDir(b)
	if err != nil {
		return nil, err
	}
	inB := map[string]images.File{}
	for _, f := range fb {
		inB[f.Name] = f
	}
	out := &Paired{LPIPSNet: e.Model().Net, LPIPSVersion: e.Model().Version}
	var items []batch.Item
	var pairs [][2]int
	var names []string
	for _, f := range fa {
		g, ok := inB[f.Name]
		if !ok {
			out.OnlyA = append(out.OnlyA, f.Name)
			continue
		}
		delete(inB, f.Name)
		pairs = append(pairs, [2]int{len(items), len(items) + 1})
		items = append(items, batch.Item{Ref: images.Ref{Path: f.Path, Size: size}}, batch.Item{Ref: images.Ref{Path: g.Path, Size: size}})
		names = append(names, f.Name)
	}
	for _, f := range fb {
		if _, ok := inB[f.Name]; ok {
			out.OnlyB = append(out.OnlyB, f.Name)
		}
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("%s and %s share no file name: nothing to pair", a, b)
	}
	dist, err := e.PairDistances(ctx, items, pairs)
	if err != nil {
		return nil, err
	}
	var sum float64
	for q, d := range dist {
		out.Pairs = append(out.Pairs, NamedDistance{Name: names[q], Distance: d})
		sum += d
	}
	out.Mean = sum / float64(len(out.Pairs))
	return out, nil
}

// WriteText writes the distances of folders a and b for people: one line
// per name, the mean, then the names found in one folder only (the first
// ten of each; the JSON form lists all).
func (p *Paired) WriteText(w io.Writer, a, b string) {
	for _, d := range p.Pairs {
		fmt.Fprintf(w, "%s: %.6f\n", d.Name, d.Distance)
	}
	fmt.Fprintf(w, "mean over %d pairs: %.6f (LPIPS %s v%s)\n", len(p.Pairs), p.Mean, p.LPIPSNet, p.LPIPSVersion)
	for _, only := range []struct {
		dir   string
		names []string
	}{{a, p.OnlyA}, {b, p.OnlyB}} {
		if n := len(only.names); n > 0 {
			more := ""
			if n > 10 {
				more = fmt.Sprintf(" and %d more (--json lists all)", n-10)
			}
			fmt.Fprintf(w, "only in %s (%d): %s%s\n", only.dir, n, strings.Join(only.names[:min(n, 10)], ", "), more)
		}
	}
}

// DistanceOptions are the distance command's settings: the LPIPS model,
// JSON output, the resize of both images (0: none), and how to run.
type DistanceOptions struct {
	LPIPS string
	JSON  bool
	Size  int
	Run   RunOptions
}

// Distance is the distance command's work: the LPIPS distance between the
// images a and b (checked against the pixel budget and o.Run.Memory from
// their headers first), or between the images of folders a and b paired
// by name (PairedDistances), written to w as text or, with o.JSON, as one
// JSON object.
func Distance(ctx context.Context, w io.Writer, a, b string, o DistanceOptions) error {
	if o.LPIPS == "" {
		return fmt.Errorf("distance: --lpips L.onnx is required")
	}
	if err := CheckSize("size", o.Size); err != nil {
		return fmt.Errorf("distance: %w", err)
	}
	folders := isDir(a) || isDir(b)
	if folders && (!isDir(a) || !isDir(b)) {
		return fmt.Errorf("distance: give two images or two folders, not one of each (%s, %s)", a, b)
	}
	if !folders {
		if err := checkPair(a, b, o.Size, o.Run.Memory); err != nil {
			return err
		}
	}
	if err := model.Init(""); err != nil {
		return err
	}
	m, err := lpips.Open(o.LPIPS, o.Run.ModelOptions())
	if err != nil {
		return err
	}
	defer m.Close()
	e := lpips.NewEmbedder(m, "")
	var out any
	if folders {
		r, err := PairedDistances(ctx, e, a, b, o.Size)
		if err != nil || !o.JSON {
			if err == nil {
				r.WriteText(w, a, b)
			}
			return err
		}
		out = r
	} else {
		embs, err := e.Embed([]images.Ref{{Path: a, Size: o.Size}, {Path: b, Size: o.Size}})
		if err != nil {
			return err
		}
		d, per, err := lpips.Distance(embs[0], embs[1])
		if err != nil || !o.JSON {
			if err == nil {
				fmt.Fprintf(w, "%.6f\n", d)
			}
			return err
		}
		out = map[string]any{"distance": d, "per_layer": per, "lpips_net": m.Net, "lpips_version": m.Version}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// isDir reports whether path is an existing folder.
func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// checkPair checks the two images of distance against the pixel budget
// and the memory avail, from their headers.
func checkPair(a, b string, size int, avail int64) error {
	px, err := ImagePixels([]images.File{{Path: a}, {Path: b}}, size)
	if err != nil {
		return fmt.Errorf("distance: %w", err)
	}
	if err := CheckMemory(2, px, avail); err != nil {
		return fmt.Errorf("distance: %w", err)
	}
	return nil
}
