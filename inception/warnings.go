package inception

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// neverPredicted matches metrics.ScoreMUNIT's warning, which knows
// indices only: "classifier never predicts (top-1) class 3, 7 and 990
// more of 1000".
var neverPredicted = regexp.MustCompile(`^classifier never predicts \(top-1\) class ([0-9]+(?:, [0-9]+)*)(?: and ([0-9]+) more)? of ([0-9]+)$`)

// nameNeverPredicted rewrites the never-predicted warning of warnings to
// name the classes, count first ("classifier never predicts (top-1) 992 of
// 1000 classes: tench (0), goldfish (1), … and 982 more"), so that a reader
// of a 1,000-class classifier's results need not look indices up. Other
// warnings pass unchanged.
func nameNeverPredicted(warnings []string, classes []string) []string {
	for i, w := range warnings {
		m := neverPredicted.FindStringSubmatch(w)
		if m == nil {
			continue
		}
		idx := strings.Split(m[1], ", ")
		more, _ := strconv.Atoi(m[2])
		names := make([]string, len(idx))
		for j, s := range idx {
			k, _ := strconv.Atoi(s)
			names[j] = "class " + s
			if k >= 0 && k < len(classes) && classes[k] != "" {
				names[j] = fmt.Sprintf("%s (%s)", classes[k], s)
			}
		}
		s := fmt.Sprintf("classifier never predicts (top-1) %d of %s classes: %s", len(idx)+more, m[3], strings.Join(names, ", "))
		if more > 0 {
			s += fmt.Sprintf(", … and %d more", more)
		}
		warnings[i] = s
	}
	return warnings
}
