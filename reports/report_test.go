package reports

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/warning"
)

// writeTestReport writes a full report of paperDocs and a three-method
// store into a temporary folder.
func writeTestReport(t *testing.T) (string, *Summary) {
	t.Helper()
	store, _ := makeStore(t, 5, 16, []testMethod{
		{name: "MUNIT", samples: 4, latent: true},
		{name: "CycleGAN", samples: 1},
	})
	out := filepath.Join(t.TempDir(), "report")
	sum, err := Write(paperDocs(), nil, Options{
		Out:     out,
		Stores:  []string{store},
		Grid:    GridOptions{NumInputs: 2, Samples: 3, Seed: 3},
		Now:     time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
		Version: "0.1.0-test",
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, sum
}

func TestWrite(t *testing.T) {
	out, sum := writeTestReport(t)
	for _, name := range []string{TablesMarkdown, TablesLaTeX, IndexHTML} {
		if !slices.Contains(sum.Files, filepath.Join(out, name)) {
			t.Errorf("%s not in %v", name, sum.Files)
		}
	}
	for _, f := range sum.Files {
		st, err := os.Stat(f)
		if err != nil || st.Size() == 0 {
			t.Errorf("%s: missing or empty (%v)", f, err)
		}
	}
	if len(sum.Plots) != 6 || len(sum.Grids) != 1 {
		t.Fatalf("%d plots and %d grids, want 6 and 1", len(sum.Plots), len(sum.Grids))
	}
	// tables.md is exactly what WriteMarkdown gives.
	var md bytes.Buffer
	if err := WriteMarkdown(&md, sum.Tables); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(out, TablesMarkdown))
	if !bytes.Equal(got, md.Bytes()) {
		t.Error("tables.md differs from WriteMarkdown")
	}
	page, err := os.ReadFile(filepath.Join(out, IndexHTML))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	// Self-contained: no resource from the network, every image inline.
	if regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(html) {
		t.Error("index.html refers to the network")
	}
	if n, m := strings.Count(html, "<img "), strings.Count(html, `src="data:image/png;base64,`); n != 7 || m != n {
		t.Errorf("%d images, %d inline; want 7 inline (6 plots, 1 grid)", n, m)
	}
	for _, want := range []string{
		`id="quality_diversity"`, `id="scores"`, `id="distances"`,
		"<strong>56.7</strong>", "ab" + "MUNIT", "1.22.0", "0.1.0-test", "2026-11-25 12:00:00 UTC",
		"LPIPS embeddings computed on 64x64 images", "seed 7",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
}

// TestRandomnessColumn: the provenance table says, per document, where the
// method's samples get their variation (protocol.randomness), in words.
func TestRandomnessColumn(t *testing.T) {
	docs := paperDocs()[:4] // MUNIT w/o L^x_recon, BicycleGAN, MUNIT, CycleGAN
	for i, r := range []string{"", "style", "style+noise", "noise"} {
		docs[i].Protocol.Randomness = r
	}
	real := doc(results.MethodRealData, "edges2shoes")
	real.Metrics.LPIPSDiversity = div(0.293, 0.005, 2000)
	docs = append(docs, real)
	out := filepath.Join(t.TempDir(), "report")
	if _, err := Write(docs, nil, Options{Out: out, Stores: []string{}, Now: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(out, IndexHTML))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	if !strings.Contains(html, "<th>Randomness</th>") {
		t.Error("the documents table has no Randomness column")
	}
	for _, c := range []struct{ method, want string }{
		{"MUNIT w/o L^x_recon", ""}, {"BicycleGAN", "style code"}, {"MUNIT", "style code and noise inputs"},
		{"CycleGAN", "noise inputs"}, {results.MethodRealData, ""},
	} {
		row := regexp.MustCompile(`<tr><td>` + regexp.QuoteMeta(c.method) + `</td><td>edges2shoes</td>.*?</tr>`).FindString(html)
		if !strings.HasSuffix(row, "<td>"+c.want+"</td></tr>") {
			t.Errorf("%s: documents row %q, want the randomness cell %q", c.method, row, c.want)
		}
	}
	for r, want := range map[string]string{"none": "none (deterministic)", "unknown": "unknown (pre-generated samples)", "future": "future"} {
		if got := randomnessText(r); got != want {
			t.Errorf("randomnessText(%q) = %q, want %q", r, got, want)
		}
	}
}

// chromium finds a Chromium or Chrome binary.
func chromium() string {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// pageCheck is what the browser test reads from a loaded page.
type pageCheck struct {
	Images     int      `json:"images"`
	Broken     []string `json:"broken"`
	Tables     []string `json:"tables"`
	Rows       int      `json:"rows"`
	Remote     []string `json:"remote"`
	Provenance int      `json:"provenance"`
}

const pageCheckJS = `(() => {
  const imgs = [...document.images];
  return {
    images: imgs.length,
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt),
    tables: [...document.querySelectorAll("table.results")].map(t => t.id),
    rows: document.querySelectorAll("table.results tbody tr").length,
    remote: performance.getEntriesByType("resource").map(e => e.name).filter(n => !n.startsWith("data:")),
    provenance: document.querySelectorAll("#models tr").length,
  };
})()`

// browser starts headless Chromium (a fresh profile, no network services)
// and returns its context, guarded by a 90-second timeout, and the function
// that stops it.
func browser(t *testing.T, bin string) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	// One guard for the whole browser's life (it stops the browser too).
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	return bctx, func() { bcancel(); acancel(); cancel() }
}

// openInBrowser loads each file in headless Chromium (a fresh profile, no
// network services) and returns what pageCheckJS reads from it.
func openInBrowser(t *testing.T, files ...string) []pageCheck {
	t.Helper()
	bin := chromium()
	if bin == "" {
		t.Skip("no Chromium found (install it, e.g. apt-get install chromium, or set CHROME_PATH): browser test skipped")
	}
	bctx, cancel := browser(t, bin)
	defer cancel()
	var out []pageCheck
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(bctx, chromedp.Navigate("file://"+filepath.ToSlash(abs)), chromedp.WaitReady("body")); err != nil {
			t.Fatalf("chromium: opening %s: %v", abs, err)
		}
		res, err := chromedp.Run(bctx, chromedp.Evaluate[pageCheck](pageCheckJS))
		if err != nil {
			t.Fatalf("chromium: %s: %v", abs, err)
		}
		out = append(out, res)
	}
	return out
}

// TestIndexInBrowser opens index.html from disk in headless Chromium and
// checks that every image decoded and the tables are there. A copy of the
// page with one image's data cut short must be caught as broken, so the
// check itself is known to work.
func TestIndexInBrowser(t *testing.T) {
	if chromium() == "" {
		t.Skip("no Chromium found (install it, e.g. apt-get install chromium, or set CHROME_PATH): browser test skipped")
	}
	out, _ := writeTestReport(t)
	index := filepath.Join(out, IndexHTML)
	page, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(out, "broken.html")
	const marker = `src="data:image/png;base64,`
	i := bytes.Index(page, []byte(marker)) + len(marker)
	bad := append(append(append([]byte{}, page[:i]...), []byte("AAAA")...), page[i+200:]...)
	if err := os.WriteFile(broken, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	res := openInBrowser(t, index, broken)
	good := res[0]
	if good.Images != 7 || len(good.Broken) > 0 {
		t.Errorf("%d images, broken: %v; want 7, none broken", good.Images, good.Broken)
	}
	if want := []string{"quality_diversity", "scores", "distances", "prdc"}; !slices.Equal(good.Tables, want) {
		t.Errorf("tables %v, want %v", good.Tables, want)
	}
	// 7 methods in table 1, 3 in table 2, 2 in table 3, 2 in table 4 (the
	// fixture's FID documents carry PRDC, which the report shows).
	if good.Rows != 14 {
		t.Errorf("%d table rows, want 14", good.Rows)
	}
	if len(good.Remote) > 0 {
		t.Errorf("the page loaded other resources: %v", good.Remote)
	}
	if good.Provenance < 2 {
		t.Errorf("models table has %d rows", good.Provenance)
	}
	if len(res[1].Broken) != 1 {
		t.Errorf("a page with one corrupt image: broken %v, want exactly one", res[1].Broken)
	}
}

// layoutJS reads, from a page laid out at the viewport's width, the texts
// that break across lines where they must not (the page title, the
// provenance tables' headers, file names and hashes), the methods cells
// of the models table, the warnings under Provenance and the figure
// captions.
const layoutJS = `(() => {
  const lines = el => { const r = document.createRange(); r.selectNodeContents(el);
    return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; };
  // A path may wrap, but only after a "/": each character's line top,
  // and a new line must follow a slash.
  const midName = el => {
    const r = document.createRange(), w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let top = null, prev = "", n;
    while ((n = w.nextNode())) {
      for (let i = 0; i < n.length; i++) {
        r.setStart(n, i); r.setEnd(n, i + 1);
        const t = Math.round(r.getBoundingClientRect().top);
        if (top !== null && t > top + 2 && prev !== "/") return true;
        top = t; prev = n.data[i];
      }
    }
    return false;
  };
  const els = [...document.querySelectorAll("h1, table.prov th, table.prov code, td.hash")];
  return {
    broken: els.filter(e => e.closest("td.path") ? midName(e) : lines(e) > 1).map(e => e.textContent),
    models: [...document.querySelectorAll("#models tr td:first-child")].map(e => e.textContent),
    documents: [...document.querySelectorAll("#documents tr td:first-child")].map(e => e.textContent),
    warnings: [...document.querySelectorAll("#provenance ~ ul.warn li")].map(e => e.textContent),
    captions: [...document.querySelectorAll("figcaption")].map(e => e.textContent),
  };
})()`

type layout struct {
	Broken    []string `json:"broken"`
	Models    []string `json:"models"`
	Documents []string `json:"documents"`
	Warnings  []string `json:"warnings"`
	Captions  []string `json:"captions"`
}

// TestIndexLayout lays the page out in headless Chromium at 1,600 px and at
// a laptop's 1,280 px, with long results paths, as a reviewer reads it:
// no title, header, file name or hash breaks mid-word; the models used by
// every method (LPIPS here) are one row; a simulated study's warning is
// the AMT study's, not its reference method's; the box plot says what its
// whiskers are.
func TestIndexLayout(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("no Chromium found (install it, e.g. apt-get install chromium, or set CHROME_PATH): browser test skipped")
	}
	docs := paperDocs()
	docs[2].Warnings = append(docs[2].Warnings, warning.New("simulated", warning.SubjectPreference, "simulated judgments (UNIT): workers are a simulation, not people"))
	var sources []string
	for i, d := range docs {
		sources = append(sources, filepath.Join("/data/experiments/2026-12-07-munit-eval-ablations/edges2shoes-and-cat2dog/results", fmt.Sprintf("%s__%d_%s.json", datasetOf(d), i, fileSafe(d.Method))))
	}
	out := filepath.Join(t.TempDir(), "report")
	if _, err := Write(docs, sources, Options{Out: out, Stores: []string{}, Title: "munit-eval report", Now: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(filepath.Join(out, IndexHTML))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := browser(t, bin)
	defer cancel()
	for _, width := range []int64{1600, 1280} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate("file://"+filepath.ToSlash(abs)),
			chromedp.WaitReady("body")); err != nil {
			t.Fatalf("chromium at %d px: %v", width, err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[layout](layoutJS))
		if err != nil {
			t.Fatalf("chromium at %d px: %v", width, err)
		}
		if len(got.Broken) > 0 {
			t.Errorf("%d px: broken across lines: %q", width, got.Broken)
		}
		// edges2shoes: LPIPS shared by the six methods with models, then
		// six generators; cat2dog: the classifier shared by all three,
		// LPIPS likewise, three generators; cat2dog-fid: LPIPS, two
		// generators.
		if n := strings.Count(strings.Join(got.Models, "|"), "all"); len(got.Models) != 7+5+3 || n != 3 {
			t.Errorf("%d px: models rows %q, want 15 with 3 shared by all", width, got.Models)
		}
		// The documents in the tables' order, not the files'.
		if want := []string{"UNIT", "CycleGAN", "CycleGAN*", "MUNIT w/o L^x_recon", "MUNIT", "BicycleGAN", results.MethodRealData}; len(got.Documents) < 7 || !slices.Equal(got.Documents[:7], want) {
			t.Errorf("%d px: documents %q, want edges2shoes's first, in the order %q", width, got.Documents, want)
		}
		if !slices.ContainsFunc(got.Warnings, func(w string) bool { return strings.HasPrefix(w, StudyName+" (edges2shoes): simulated judgments") }) {
			t.Errorf("%d px: warnings %q, want the simulated workers attributed to the %s", width, got.Warnings, StudyName)
		}
		if !slices.ContainsFunc(got.Captions, func(c string) bool { return strings.Contains(c, "whiskers reach the farthest distances within 1.5") }) {
			t.Errorf("%d px: no caption says what the box plot's whiskers are: %q", width, got.Captions)
		}
	}
}

func TestGridSourcesFromDocuments(t *testing.T) {
	store, _ := makeStore(t, 3, 8, []testMethod{{name: "MUNIT", samples: 2, latent: true}, {name: "CycleGAN", samples: 1}})
	dirs, err := MethodDirs(store)
	if err != nil {
		t.Fatal(err)
	}
	docs := paperDocs()
	docs[2].Protocol.Samples = dirs[0]     // MUNIT, edges2shoes
	docs[3].Protocol.Samples = dirs[1]     // CycleGAN, edges2shoes
	docs[4].Protocol.Samples = t.TempDir() // not a store: ignored
	got, _, err := gridSources(docs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "edges2shoes" || !slices.Equal(got[0].MethodDirs, []string{dirs[0], dirs[1]}) {
		t.Errorf("grid sources %+v, want one for edges2shoes with %v", got, dirs)
	}
	// A run's layout: OUT/results/*.json beside OUT/store/<dataset>/.
	out := t.TempDir()
	if err := os.MkdirAll(filepath.Join(out, "store"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(store, filepath.Join(out, "store", "edges2shoes")); err != nil {
		t.Fatal(err)
	}
	run := paperDocs()
	sources := make([]string, len(run))
	for i := range run {
		sources[i] = filepath.Join(out, "results", fmt.Sprintf("%d.json", i))
	}
	got, notes, err := gridSources(run, sources, nil)
	if err != nil || len(got) != 1 || len(got[0].MethodDirs) != 2 || len(notes) != 0 {
		t.Errorf("run layout: grid sources %+v, notes %q, %v; want MUNIT and CycleGAN of edges2shoes", got, notes, err)
	}
	// Nothing found: said, not silent.
	if got, notes, err := gridSources(paperDocs(), nil, nil); err != nil || len(got) != 0 || len(notes) == 0 || !strings.Contains(notes[len(notes)-1], "--stores") {
		t.Errorf("no stores: %+v, notes %q, %v; want a note naming --stores", got, notes, err)
	}
	// Explicit stores win.
	got, _, err = gridSources(docs, nil, []string{store})
	if err != nil || len(got) != 1 || got[0].Name != "store" || len(got[0].MethodDirs) != 2 {
		t.Errorf("grid sources %+v, %v; want the store", got, err)
	}
}

func BenchmarkBuildTables(b *testing.B) {
	docs := paperDocs()
	for b.Loop() {
		tables, err := BuildTables(docs, TableOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteMarkdown(io.Discard, tables); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	docs := paperDocs()
	out := b.TempDir()
	for b.Loop() {
		if _, err := Write(docs, nil, Options{Out: out}); err != nil {
			b.Fatal(err)
		}
	}
}
