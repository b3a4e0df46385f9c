package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestRateNotAbsurdOnFirstTick: 5,000 cached units done in a microsecond
// show no rate; after two seconds of 10 units per second the rate shown is
// that of the last full window (10 img/s), not of the cached burst.
func TestRateNotAbsurdOnFirstTick(t *testing.T) {
	clock := time.Unix(0, 0)
	now := func() time.Time { return clock }
	var buf bytes.Buffer
	b := newBar(&buf, 10000, "samples", now)
	clock = clock.Add(time.Microsecond)
	b.Add(5000)
	if d := b.description(); d != "samples" {
		t.Errorf("after a cached burst: %q, want no rate", d)
	}
	for i := range 20 {
		clock = clock.Add(100 * time.Millisecond)
		b.Add(1)
		if d := b.description(); i >= 10 && d != "samples (10 img/s)" {
			t.Fatalf("after %d steady ticks: %q, want samples (10 img/s)", i+1, d)
		}
	}
	if d := b.description(); d != "samples (10 img/s)" {
		t.Errorf("after 2 s at 10 img/s: %q, want samples (10 img/s)", d)
	}
	b.Finish()
	if strings.Contains(buf.String(), "5000 img/s") || strings.Contains(buf.String(), "e+") {
		t.Errorf("absurd rate drawn: %q", buf.String())
	}
	var nilBar *Bar
	nilBar.Add(1)
	nilBar.Finish()
}
