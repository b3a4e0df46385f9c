// Package warning holds the one warning type of munit-eval: a value made
// where something goes wrong without stopping the evaluation (too few
// samples for an interval, a classifier that never predicts a class, LPIPS
// version 0.0) and carried, as it is, into the results document, the tables
// and the report. Readers group warnings by their fields (Subject, Code),
// never by parsing Detail: docs/architecture.md, "Typed warnings".
package warning

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Subjects a warning can be about, besides a metric's registry key ("lpips",
// "is", "fid", "kid", "prdc", ...): what the reader looks at when it shows.
const (
	// SubjectSamples: the samples or inputs themselves (fewer inputs than
	// asked, a default count that left some unused, mixed sizes).
	SubjectSamples = "samples"
	// SubjectModels: a scoring or generating model (synthetic, method
	// mismatch).
	SubjectModels = "models"
	// SubjectPreference: the human study (catch trials, short questions,
	// simulated workers).
	SubjectPreference = "preference"
	// SubjectRun: how the run went, not a number (a cache not written).
	SubjectRun = "run"
)

// CodeText is the code of a warning read from a document written before
// warnings were typed (a bare string): its subject is unknown.
const CodeText = "text"

// Warning is one thing the reader of a result must know that did not stop
// the evaluation. Code names the kind of warning (stable, for programs:
// "never-predicted", "no-interval", "fewer-inputs"...), Subject what it is
// about (a metric key or one of the Subject constants), Method and Dataset
// the evaluation it belongs to (set when it enters a results document), and
// Detail the sentence a person reads. Classes, when set, are the class
// indices the warning is about (never-predicted), so that a reader can name
// them from the classifier's class list.
type Warning struct {
	Code    string `json:"code"`
	Subject string `json:"subject,omitempty"`
	Method  string `json:"method,omitempty"`
	Dataset string `json:"dataset,omitempty"`
	Detail  string `json:"detail"`
	Classes []int  `json:"classes,omitempty"`
}

// New returns a warning about subject with a formatted detail.
func New(code, subject, format string, args ...any) Warning {
	return Warning{Code: code, Subject: subject, Detail: fmt.Sprintf(format, args...)}
}

// String is the warning as a person reads it: its detail.
func (w Warning) String() string { return w.Detail }

// About reports whether the warning's subject is one of subjects.
func (w Warning) About(subjects ...string) bool {
	for _, s := range subjects {
		if w.Subject == s {
			return true
		}
	}
	return false
}

// UnmarshalJSON reads a warning object, or a bare string (documents written
// before warnings were typed) as a warning of code CodeText.
func (w *Warning) UnmarshalJSON(b []byte) error {
	if s := strings.TrimSpace(string(b)); strings.HasPrefix(s, `"`) {
		var text string
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
		*w = Warning{Code: CodeText, Detail: text}
		return nil
	}
	type plain Warning
	var p plain
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	if p.Code == "" || p.Detail == "" {
		return fmt.Errorf("warning without code or detail: %s", b)
	}
	*w = Warning(p)
	return nil
}

// Stamp sets the method and dataset of every warning that has none.
func Stamp(ws []Warning, method, dataset string) []Warning {
	for i := range ws {
		if ws[i].Method == "" {
			ws[i].Method = method
		}
		if ws[i].Dataset == "" {
			ws[i].Dataset = dataset
		}
	}
	return ws
}

// Details are the warnings' sentences, in order.
func Details(ws []Warning) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Detail
	}
	return out
}
