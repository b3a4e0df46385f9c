package inception

import (
	"fmt"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/results"
)

func TestNameNeverPredicted(t *testing.T) {
	cases := []struct {
		in      string
		classes []string
		want    string
	}{
		{"classifier never predicts (top-1) class 1, 2 of 4", []string{"red", "green", "blue", "grey"},
			"classifier never predicts (top-1) 2 of 4 classes: green (1), blue (2)"},
		{"classifier never predicts (top-1) class 0, 1 and 990 more of 1000", []string{"tench", "goldfish"},
			"classifier never predicts (top-1) 992 of 1000 classes: tench (0), goldfish (1), … and 990 more"},
		{"classifier never predicts (top-1) class 3 of 4", nil, "classifier never predicts (top-1) 1 of 4 classes: class 3"},
		{"one sample per input: CIS is 0 by definition", []string{"a"}, "one sample per input: CIS is 0 by definition"},
	}
	for _, c := range cases {
		if got := nameNeverPredicted([]string{c.in}, c.classes)[0]; got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}

// TestScoresWarningNamesClasses: a 1,000-class classifier whose samples
// all land in class 7 gets one short warning naming classes.
func TestScoresWarningNamesClasses(t *testing.T) {
	const m, k, c = 2, 3, 1000
	classes := make([]string, c)
	for i := range classes {
		classes[i] = fmt.Sprintf("n%08d", i)
	}
	logits := make([]float32, m*k*c)
	for r := range m * k {
		logits[r*c+7] = 10
	}
	var met results.Metrics
	warns, err := Scores(logits, m, k, classes, ScoreOptions{Splits: 1}, &met)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for _, w := range warns {
		if strings.HasPrefix(w, "classifier never predicts") {
			got = w
		}
	}
	if !strings.HasPrefix(got, "classifier never predicts (top-1) 999 of 1000 classes: n00000000 (0), n00000001 (1)") ||
		!strings.HasSuffix(got, "… and 989 more") || len(got) > 300 {
		t.Fatalf("warning %q", got)
	}
}
