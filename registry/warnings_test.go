package registry

import (
	"fmt"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/metrics"

	"github.com/munit-eval/munit-eval/results"
)

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
		if w.Code == metrics.CodeNeverPredicted {
			got = w.Detail
			if len(w.Classes) != 999 || w.Subject != metrics.SubjectIS {
				t.Fatalf("warning %+v: want 999 classes about is", w)
			}
		}
	}
	if !strings.HasPrefix(got, "classifier never predicts (top-1) 999 of 1000 classes: n00000000 (0), n00000001 (1)") ||
		!strings.HasSuffix(got, "… and 989 more") || len(got) > 300 {
		t.Fatalf("warning %q", got)
	}
}
