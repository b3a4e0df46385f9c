// Package progress shows a progress bar with rate and ETA on a terminal and
// stays silent elsewhere (CI, pipes, --json), so logs are never littered.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// minWindow is the shortest stretch of time a rate is measured over. The
// first ticks often finish cached work in microseconds; a rate over them
// would read millions of images per second.
const minWindow = time.Second

// Bar counts finished units of work. A nil *Bar is valid and does nothing,
// so library code can take one without checking.
type Bar struct {
	pb    *progressbar.ProgressBar
	label string
	now   func() time.Time

	mu      sync.Mutex
	started bool      // true after the first Add
	n       int       // units finished
	t0      time.Time // start of the current rate window
	n0      int       // units finished at t0
	rate    float64   // units per second over the last full window; 0 until one
	shown   string    // the description last set
	window  time.Duration
}

// Enabled reports whether bars should be drawn: stderr is a terminal and the
// CI environment variable is not set.
func Enabled() bool {
	if os.Getenv("CI") != "" {
		return false
	}
	return term.IsTerminal(int(os.Stderr.Fd()))
}

// New returns a bar for total units described by label, drawn on stderr, or
// nil when quiet is true or bars are not Enabled.
func New(total int, label string, quiet bool) *Bar {
	if quiet || !Enabled() || total <= 0 {
		return nil
	}
	return newBar(os.Stderr, total, label, time.Now)
}

func newBar(w io.Writer, total int, label string, now func() time.Time) *Bar {
	b := &Bar{label: label, now: now, window: minWindow}
	b.pb = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(label),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
	b.shown = label
	return b
}

// Add records n more finished units. The rate shown is measured from the
// first tick on, over windows of at least a second, so a first burst of
// cached work cannot make it absurd; none is shown before a window closes.
func (b *Bar) Add(n int) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.n += n
	t := b.now()
	if !b.started {
		// The first tick closes the warm-up (opening files, cached
		// results): the rate is measured from here.
		b.started = true
		b.t0, b.n0 = t, b.n
	} else if dt := t.Sub(b.t0); dt >= b.window {
		b.rate = float64(b.n-b.n0) / dt.Seconds()
		b.t0, b.n0 = t, b.n
	}
	desc := b.description()
	changed := desc != b.shown
	b.shown = desc
	b.mu.Unlock()
	if changed {
		b.pb.Describe(desc)
	}
	b.pb.Add(n)
}

// description is the label followed by the measured rate, once there is one.
func (b *Bar) description() string {
	switch {
	case b.rate <= 0:
		return b.label
	case b.rate < 10:
		return fmt.Sprintf("%s (%.1f img/s)", b.label, b.rate)
	}
	return fmt.Sprintf("%s (%.0f img/s)", b.label, b.rate)
}

// Finish clears the bar.
func (b *Bar) Finish() {
	if b == nil {
		return
	}
	b.pb.Finish()
}
