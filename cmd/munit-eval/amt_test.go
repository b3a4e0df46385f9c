package main

import (
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/amt"
)

// TestAmtMakeNextSteps: the note after amt make says where the images go in
// words; it read "upload batchA/images/* to (relative URLs: set --base-url
// for MTurk)".
func TestAmtMakeNextSteps(t *testing.T) {
	for _, tc := range []struct {
		base      string
		want, not []string
	}{
		{"", []string{"munit-eval amt serve batchA", "relative URLs images/NAME", "--base-url", "keep batchA/key.json private"}, []string{"to (", "upload"}},
		{"https://example.org/s1/", []string{"upload the files of batchA/images/ so that each is served at https://example.org/s1/NAME", "5 assignments per HIT"}, []string{"relative", "s1//"}},
	} {
		key := &amt.Key{Params: amt.Params{BaseURL: tc.base, Workers: 5}}
		got := amt.NextSteps("batchA", key)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("base %q: note %q lacks %q", tc.base, got, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(got, w) {
				t.Errorf("base %q: note %q contains %q", tc.base, got, w)
			}
		}
	}
}

// TestAmtServeDefaultOneHIT: amt serve gives each participant one HIT's
// worth of questions by default (it handed everyone the whole batch).
func TestAmtServeDefaultOneHIT(t *testing.T) {
	if f := amtServeCommand().Flags().Lookup("hits"); f == nil || f.DefValue != "1" {
		t.Errorf("amt serve --hits default %v, want 1", f)
	}
}
