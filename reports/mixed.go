package reports

import (
	"fmt"
	"strings"

	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
)

// MixedError says that documents of one dataset were measured under
// different protocols, so their numbers do not belong in one table.
type MixedError struct {
	Dataset string
	// A and B name the two documents (method and, where known, file).
	A, B string
	// Fields are the protocol fields that differ, "key: a vs b".
	Fields []string
}

func (e *MixedError) Error() string {
	return fmt.Sprintf("reports: %s: %s and %s were measured under different protocols (%s): their numbers do not belong in one table; measure them alike, or ask for them together (report --allow-mixed)",
		e.Dataset, e.A, e.B, strings.Join(e.Fields, ", "))
}

// protocolFields are the protocol values two methods of one table must
// share: how inputs were chosen and how many, how many samples and pairs,
// the seed, the image size and the features model's resize. A value one
// document does not record (0 or "") is not compared: a document of one
// metric does not record another's counts.
func protocolFields(p results.Protocol) [][2]string {
	return [][2]string{
		{"num_inputs", nz(p.NumInputs)},
		{"samples_per_input", nz(p.SamplesPerInput)},
		{"pairs_per_input", nz(p.PairsPerInput)},
		{"pairing", p.Pairing},
		{"select", p.Select},
		{"seed", fmt.Sprint(p.Seed)},
		{"image_size", nz(p.ImageSize)},
		{"resize", p.Resize},
	}
}

func nz(v int) string {
	if v == 0 {
		return ""
	}
	return fmt.Sprint(v)
}

// checkProtocols returns a *MixedError when two documents of one dataset
// that carry computed metrics (registry entries; a study's preference
// document has its own protocol) differ in a protocol field both record.
// The real-data row is left out: it has no samples.
func checkProtocols(docs []*results.Document, sources []string) error {
	type first struct {
		name   string
		fields [][2]string
	}
	seen := map[string]first{}
	for i, d := range docs {
		if d.Method == results.MethodRealData || !computed(d) {
			continue
		}
		name := d.Method
		if i < len(sources) && sources[i] != "" {
			name += " (" + sources[i] + ")"
		}
		ds := datasetOf(d)
		f := protocolFields(d.Protocol)
		prev, ok := seen[ds]
		if !ok {
			seen[ds] = first{name, f}
			continue
		}
		var diff []string
		for j := range f {
			a, b := prev.fields[j][1], f[j][1]
			if a != "" && b != "" && a != b {
				diff = append(diff, fmt.Sprintf("%s %s vs %s", f[j][0], a, b))
			}
		}
		if len(diff) > 0 {
			return &MixedError{Dataset: ds, A: prev.name, B: name, Fields: diff}
		}
	}
	return nil
}

// computed reports whether a document carries a registered metric.
func computed(d *results.Document) bool {
	for _, e := range registry.All() {
		if e.Present(&d.Metrics) {
			return true
		}
	}
	return false
}
