package reports

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestScreenshot renders a report page with headless Chromium into a
// full-page PNG, for people to look at (make screenshots does it for the
// demo's report): SCREENSHOT_HTML names the page (default: a report of the
// test fixtures), SCREENSHOT_OUT the PNG to write (default: a file in a
// temporary folder), SCREENSHOT_WIDTH the viewport's width in pixels
// (default 1,280, a laptop's; 1,600 for a desktop). The test checks that
// the PNG is the page at the viewport's width, taller than the viewport
// and not blank.
func TestScreenshot(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("no Chromium found (install it, e.g. apt-get install chromium, or set CHROME_PATH): screenshot skipped")
	}
	page := os.Getenv("SCREENSHOT_HTML")
	if page == "" {
		out, _ := writeTestReport(t)
		page = filepath.Join(out, IndexHTML)
	}
	dst := os.Getenv("SCREENSHOT_OUT")
	if dst == "" {
		dst = filepath.Join(t.TempDir(), "report.png")
	}
	abs, err := filepath.Abs(page)
	if err != nil {
		t.Fatal(err)
	}
	width := int64(1280)
	if v := os.Getenv("SCREENSHOT_WIDTH"); v != "" {
		w, err := strconv.ParseInt(v, 10, 64)
		if err != nil || w < 320 || w > 7680 {
			t.Fatalf("SCREENSHOT_WIDTH %q: want a width in pixels from 320 to 7680", v)
		}
		width = w
	}
	ctx, cancel := browser(t, bin)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(width, 900),
		chromedp.Navigate("file://"+filepath.ToSlash(abs)),
		chromedp.WaitReady("body"),
	); err != nil {
		t.Fatalf("chromium: %s: %v", abs, err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		t.Fatalf("chromium: screenshot of %s: %v", abs, err)
	}
	m, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot of %s is not a PNG: %v", abs, err)
	}
	if b := m.Bounds(); int64(b.Dx()) != width || b.Dy() <= 900 {
		t.Errorf("screenshot %dx%d, want %d wide and taller than 900", b.Dx(), b.Dy(), width)
	}
	if n := distinctColours(m, 20); n < 20 {
		t.Errorf("screenshot has %d colours: blank page?", n)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of %s: %s (%dx%d)", abs, dst, m.Bounds().Dx(), m.Bounds().Dy())
}
