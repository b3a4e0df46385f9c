package amt

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromiumPath is where Debian's chromium package installs the browser
// (`apt-get install chromium`; `make test-deps` does it).
const chromiumPath = "/usr/bin/chromium"

// TestBrowserStudy runs the local study end to end in headless Chromium: a
// scripted participant enters an id, reads the definition of "more
// accurate", passes the practice question (the wrong side first, which the
// page says is wrong and will not let through; nothing is recorded), then
// answers every question with the arrow keys, first choosing the side the
// script does not want and changing it before Enter submits (catch
// questions right, baseline B preferred on every third question), reloads
// the page half way, and finishes; the analysis of local-results.csv must
// give the scripted preference exactly, so only the changed choices were
// recorded.
func TestBrowserStudy(t *testing.T) {
	needChromium(t)
	cfg := smallConfig()
	cfg.Questions = 5
	dir, key := testBatch(t, cfg, fakeMethod{"UNIT", 1}, fakeMethod{"BicycleGAN", 2})
	prefer := func(q Question) bool { return q.ID%3 == 0 }

	base := startStudy(t, dir, ServeOptions{})

	ctx := newBrowser(t)
	const pid = "lab-07"
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.SendKeys("#participant", pid)); err != nil {
		t.Fatalf("start page: %v", err)
	}
	// RunResponse waits until the study page has loaded.
	if resp, err := chromedp.RunResponse(ctx, chromedp.Click("#start")); err != nil || resp.Status != 200 {
		t.Fatalf("submitting the participant id: %v", err)
	}
	// waitAnswered waits until the page shows n answers and returns the
	// current question as "hit/field" ("done" at the end).
	waitAnswered := func(n int) string {
		t.Helper()
		expr := fmt.Sprintf(`document.body && document.body.dataset.answered === "%d" && (document.body.dataset.done === "1" ? "done" : document.body.dataset.hit + "/" + document.body.dataset.field)`, n)
		v, err := chromedp.Run(ctx, chromedp.Poll[string](expr, chromedp.WithPollingTimeout(20*time.Second)))
		if err != nil {
			t.Fatalf("waiting for %d answers: %v", n, err)
		}
		return v
	}
	// The practice question: a catch question, with feedback, never recorded.
	def, err := chromedp.Run(ctx, chromedp.Text("#definition"))
	if err != nil || !strings.Contains(def, "More accurate means") {
		t.Errorf("definition %q (%v)", def, err)
	}
	correct, err := chromedp.Run(ctx, chromedp.Poll[string](`document.body.dataset.practice === "1" && document.body.dataset.answered === "0" && fetch("/api/next?participant=`+pid+`").then(r => r.json()).then(s => s.practice.correct)`, chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("no practice question: %v", err)
	}
	wrong, right := kb.ArrowLeft, kb.ArrowRight
	if correct == AnswerLeft {
		wrong, right = right, wrong
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(wrong), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	if fb, err := chromedp.Run(ctx, chromedp.Poll[string](`document.body.dataset.practice === "1" && !document.getElementById("feedback").hidden && document.getElementById("feedback").textContent`, chromedp.WithPollingTimeout(10*time.Second))); err != nil || !strings.HasPrefix(fb, "Look again") {
		t.Errorf("practice, wrong side: feedback %q (%v)", fb, err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(right)); err != nil {
		t.Fatal(err)
	}
	if fb, err := chromedp.Run(ctx, chromedp.Text("#feedback")); err != nil || !strings.HasPrefix(fb, "Right") {
		t.Errorf("practice, right side: feedback %q (%v)", fb, err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	cur := waitAnswered(0)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.body.dataset.practice === undefined`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("still practising: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, LocalResultsFile)); bytes.Count(b, []byte("\n")) > 1 {
		t.Errorf("the practice question was recorded:\n%s", b)
	}
	// The images load through the page's content security policy.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`["img-input","img-left","img-right"].every(id => document.getElementById(id).naturalWidth === 16)`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("images did not load: %v", err)
	}
	total := len(key.Questions)
	for n := 0; n < total; n++ {
		if n == total/2 {
			if _, err := chromedp.RunResponse(ctx, chromedp.Reload()); err != nil {
				t.Fatalf("reload: %v", err)
			}
			if again := waitAnswered(n); again != cur {
				t.Fatalf("after reload the page shows %s, was %s", again, cur)
			}
		}
		parts := strings.SplitN(cur, "/", 2)
		if len(parts) != 2 {
			t.Fatalf("question %d: page shows %q", n, cur)
		}
		hit, err := strconv.Atoi(parts[0])
		if err != nil {
			t.Fatalf("question %d: page shows %q", n, cur)
		}
		arrow, other := kb.ArrowRight, kb.ArrowLeft
		if scripted(key, questionAt(key, hit, parts[1]), prefer) == AnswerLeft {
			arrow, other = other, arrow
		}
		// A choice is changed before Enter submits it.
		if err := chromedp.Do(ctx, chromedp.KeyEvent(other), chromedp.KeyEvent(arrow)); err != nil {
			t.Fatalf("key: %v", err)
		}
		if got := waitAnswered(n); got != cur {
			t.Fatalf("a choice alone moved the page on to %s", got)
		}
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
			t.Fatalf("key: %v", err)
		}
		cur = waitAnswered(n + 1)
	}
	if cur != "done" {
		t.Fatalf("after %d answers the page shows %q, want the end", total, cur)
	}
	progress, err := chromedp.Run(ctx, chromedp.Text("#progress"))
	if err != nil || !strings.Contains(progress, fmt.Sprintf("%d of %d", total, total)) {
		t.Errorf("progress %q (%v)", progress, err)
	}

	data, err := os.ReadFile(filepath.Join(dir, LocalResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	rows, warns, err := ReadResults(LocalResultsFile, bytes.NewReader(data), key)
	if err != nil || len(warns) > 0 {
		t.Fatalf("ReadResults: %v %v", err, warns)
	}
	a, err := Analyze(key, rows, DefaultAnalyzeOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a.Workers != 1 || a.Duplicates != 0 || a.Missing != 0 || len(a.Excluded) != 0 {
		t.Errorf("workers %d duplicates %d missing %d excluded %d", a.Workers, a.Duplicates, a.Missing, len(a.Excluded))
	}
	for _, b := range a.Baselines {
		if want := expectedPercent(key, b.Name, prefer); b.Percent != want || b.Judgments != cfg.Questions {
			t.Errorf("%s: %.2f%% of %d judgments, scripted %.2f%% of %d", b.Name, b.Percent, b.Judgments, want, cfg.Questions)
		}
	}
}

// needChromium skips in -short mode and where Debian's chromium is missing.
func needChromium(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("headless Chromium not found at %s (install Debian's chromium package: apt-get install -y chromium, or run make test-deps)", chromiumPath)
	}
}

// startStudy serves the batch in dir on a loopback port and returns its URL.
func startStudy(t *testing.T, dir string, opts ServeOptions) string {
	t.Helper()
	s := newTestServer(t, dir, opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// newBrowser starts headless Chromium (a 1000x900 window) for the test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	parent, cancelTimeout := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancelTimeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(parent,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.WindowSize(1000, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	return ctx
}

// TestBrowserOneHITPerParticipant runs the study as amt serve does by
// default (--hits 1): each participant gets one HIT's worth of questions, the
// next participant the next HIT, as MTurk deals HITs; the 16-px test images
// are drawn with nearest-neighbour pixels in their 256-px boxes. With
// MUNIT_EVAL_SCREENSHOTS=DIR set, a screenshot of the study page is written
// to DIR/study.png (otherwise to the test's temporary folder).
func TestBrowserOneHITPerParticipant(t *testing.T) {
	needChromium(t)
	cfg := smallConfig()
	cfg.Questions = 5
	dir, key := testBatch(t, cfg, fakeMethod{"UNIT", 1}, fakeMethod{"BicycleGAN", 2})
	base := startStudy(t, dir, ServeOptions{HITs: 1})
	ctx := newBrowser(t)
	perHIT := len(key.Fields)
	var hits []int
	for pi, pid := range []string{"first", "second"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/study?participant="+pid)); err != nil {
			t.Fatalf("%s: %v", pid, err)
		}
		// The practice question first: the right side, then Next.
		correct, err := chromedp.Run(ctx, chromedp.Poll[string](`document.body.dataset.practice === "1" && fetch("/api/next?participant=`+pid+`").then(r => r.json()).then(s => s.practice.correct)`, chromedp.WithPollingTimeout(20*time.Second)))
		if err != nil {
			t.Fatalf("%s: no practice question: %v", pid, err)
		}
		right := kb.ArrowRight
		if correct == AnswerLeft {
			right = kb.ArrowLeft
		}
		if err := chromedp.Do(ctx, chromedp.KeyEvent(right), chromedp.Click("#next")); err != nil {
			t.Fatal(err)
		}
		hit := -1
		for n := 0; n < perHIT; n++ {
			expr := fmt.Sprintf(`document.body.dataset.answered === "%d" && document.body.dataset.done !== "1" && document.body.dataset.hit`, n)
			v, err := chromedp.Run(ctx, chromedp.Poll[string](expr, chromedp.WithPollingTimeout(20*time.Second)))
			if err != nil {
				t.Fatalf("%s: waiting for question %d: %v", pid, n+1, err)
			}
			h, _ := strconv.Atoi(v)
			if hit >= 0 && h != hit {
				t.Fatalf("%s: question %d is from HIT %d, the first from HIT %d: one participant, one HIT", pid, n+1, h, hit)
			}
			hit = h
			progress, err := chromedp.Run(ctx, chromedp.Text("#progress"))
			if want := fmt.Sprintf("%d of %d answered", n, perHIT); err != nil || progress != want {
				t.Errorf("%s: progress %q, want %q", pid, progress, want)
			}
			if pi == 0 && n == 1 {
				// Nearest-neighbour enlargement of the small images.
				rendering, err := chromedp.Run(ctx, chromedp.Poll[string](`["img-input","img-left","img-right"].every(id => { const i = document.getElementById(id); return i.complete && i.naturalWidth === 16 && getComputedStyle(i).imageRendering === "pixelated"; }) && "pixelated"`, chromedp.WithPollingTimeout(10*time.Second)))
				if err != nil || rendering != "pixelated" {
					t.Errorf("16-px images in 256-px boxes: image-rendering not pixelated (%v)", err)
				}
				png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatalf("screenshot: %v", err)
				}
				out := os.Getenv("MUNIT_EVAL_SCREENSHOTS")
				if out == "" {
					out = t.TempDir()
				}
				if err := os.WriteFile(filepath.Join(out, "study.png"), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowLeft), chromedp.KeyEvent(kb.Enter)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`document.body.dataset.done === "1" && document.body.dataset.answered === "%d"`, perHIT), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			t.Fatalf("%s: not done after one HIT of %d questions (the batch has %d HITs): %v", pid, perHIT, len(key.HITs), err)
		}
		hits = append(hits, hit)
	}
	if hits[0] == hits[1] {
		t.Errorf("both participants got HIT %d; the second should take the next one", hits[0])
	}
	data, _ := os.ReadFile(filepath.Join(dir, LocalResultsFile))
	rows, _, err := ReadResults(LocalResultsFile, bytes.NewReader(data), key)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2*perHIT {
		t.Errorf("%d answers saved, want %d", len(rows), 2*perHIT)
	}
}
