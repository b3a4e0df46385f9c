package metrics

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/munit-eval/munit-eval/warning"
)

// Subjects of the warnings metrics makes: the metric registry's keys of the
// numbers they qualify.
const (
	SubjectIS  = "is"
	SubjectKID = "kid"
	SubjectFID = "fid"
)

// Codes of the warnings metrics makes.
const (
	// CodeOneSample: one sample per input, so CIS is 0 by definition.
	CodeOneSample = "one-sample"
	// CodeNeverPredicted: the classifier never predicts some classes
	// (Warning.Classes lists them).
	CodeNeverPredicted = "never-predicted"
	// CodeFewRows: fewer than 10 rows per split of the split IS.
	CodeFewRows = "few-rows-per-split"
	// CodeClipped: a KID subset size clipped to the smaller set.
	CodeClipped = "clipped"
	// CodeNoVariation: KID subsets that cannot vary (the whole sets).
	CodeNoVariation = "no-variation"
)

// neverShown is how many never-predicted classes a warning's detail names.
const neverShown = 10

// NeverPredicted is the warning that a c-class classifier never predicts
// (top-1) the classes never (indices, ascending). names, when given, are the
// class names: the detail then names classes, count first ("classifier
// never predicts (top-1) 992 of 1000 classes: tench (0), goldfish (1), … and
// 982 more"); without them it lists indices.
func NeverPredicted(never []int, c int, names []string) warning.Warning {
	shown := never[:min(len(never), neverShown)]
	parts := make([]string, len(shown))
	for i, k := range shown {
		parts[i] = strconv.Itoa(k)
		if names != nil {
			parts[i] = "class " + parts[i]
			if k < len(names) && names[k] != "" {
				parts[i] = fmt.Sprintf("%s (%d)", names[k], k)
			}
		}
	}
	var d string
	if names != nil {
		d = fmt.Sprintf("classifier never predicts (top-1) %d of %d classes: %s", len(never), c, strings.Join(parts, ", "))
		if len(never) > len(shown) {
			d += fmt.Sprintf(", … and %d more", len(never)-len(shown))
		}
	} else {
		d = "classifier never predicts (top-1) class " + strings.Join(parts, ", ")
		if len(never) > len(shown) {
			d += fmt.Sprintf(" and %d more", len(never)-len(shown))
		}
		d += fmt.Sprintf(" of %d", c)
	}
	return warning.Warning{Code: CodeNeverPredicted, Subject: SubjectIS, Detail: d, Classes: append([]int(nil), never...)}
}
