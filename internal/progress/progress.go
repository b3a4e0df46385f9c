// Package progress shows a progress bar with rate and ETA on a terminal and
// stays silent elsewhere (CI, pipes, --json), so logs are never littered.
package progress

import (
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Bar counts finished units of work. A nil *Bar is valid and does nothing,
// so library code can take one without checking.
type Bar struct {
	pb *progressbar.ProgressBar
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
	return newBar(os.Stderr, total, label)
}

func newBar(w io.Writer, total int, label string) *Bar {
	return &Bar{pb: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(label),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("img"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)}
}

// Add records n more finished units.
func (b *Bar) Add(n int) {
	if b == nil {
		return
	}
	b.pb.Add(n)
}

// Finish clears the bar.
func (b *Bar) Finish() {
	if b == nil {
		return
	}
	b.pb.Finish()
}
