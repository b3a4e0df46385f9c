package model

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Report is what `munit-eval inspect` shows of a model file: its role,
// method, latent size, noise, inputs, outputs, metadata, SHA-256, whether it
// satisfies its role's contract and why not, and the graph rewrites a
// session would apply. The JSON form is inspect --json's.
type Report struct {
	File       string            `json:"file"`
	Role       Role              `json:"role"`
	Method     string            `json:"method"`
	LatentDim  int               `json:"latent_dim"`
	Noise      []NoiseInput      `json:"noise,omitempty"`
	Inputs     []TensorInfo      `json:"inputs"`
	Outputs    []TensorInfo      `json:"outputs"`
	Metadata   map[string]string `json:"metadata"`
	SHA256     string            `json:"sha256"`
	External   []string          `json:"external_data,omitempty"`
	ContractOK bool              `json:"contract_ok"`
	Problems   []string          `json:"problems"`
	Rewrites   []string          `json:"rewrites"`

	info    *Info
	checked Role
}

// NewReport inspects the model at path and checks it against role (""
// for the role its metadata names; a model without one gets role).
func NewReport(path string, role Role) (*Report, error) {
	info, err := Inspect(path)
	if err != nil {
		return nil, err
	}
	if info.Role == "" {
		info.Role = role
	}
	problems := Check(info, role)
	r := &Report{File: path, Role: info.Role, Method: info.Method, LatentDim: info.LatentDim, Noise: info.Noise,
		Inputs: info.Inputs, Outputs: info.Outputs, Metadata: info.Metadata, SHA256: info.SHA256, External: info.ExternalData,
		ContractOK: len(problems) == 0, Problems: append([]string{}, problems...), info: info, checked: role}
	if r.Rewrites, err = RewritePlan(path, info.Role); err != nil || r.Rewrites == nil {
		r.Rewrites = []string{} // the model parsed above; a rewrite parse failure only means none
	}
	return r, nil
}

// Err is the one-line error of a model that breaks its contract (nil when
// it satisfies it).
func (r *Report) Err() error {
	if r.ContractOK {
		return nil
	}
	role := string(r.checked)
	if role == "" {
		role = string(r.Role)
	}
	if role == "" {
		role = "any"
	}
	return fmt.Errorf("%s: does not satisfy the %s contract: %s", r.File, role, strings.Join(r.Problems, "; "))
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for people, long values (a 1,000-class
// classifier's class names) summarised unless full.
func (r *Report) WriteText(w io.Writer, full bool) {
	info := r.info
	fmt.Fprintf(w, "file:       %s\n", r.File)
	fmt.Fprintf(w, "sha256:     %s\n", info.SHA256)
	if len(info.ExternalData) > 0 {
		fmt.Fprintf(w, "data:       %s (external data, in the sha256)\n", strings.Join(info.ExternalData, ", "))
	}
	fmt.Fprintf(w, "role:       %s\n", orDash(string(info.Role)))
	fmt.Fprintf(w, "method:     %s\n", orDash(info.Method))
	fmt.Fprintf(w, "latent dim: %d\n", info.LatentDim)
	for _, n := range info.Noise {
		fmt.Fprintf(w, "noise:      %s (%s, %d channels, stride %d: [N,%d,H/%d,W/%d])\n", n.Input, n.Dist, n.Channels, n.Stride, n.Channels, n.Stride, n.Stride)
	}
	if len(info.Classes) > 0 {
		fmt.Fprintf(w, "classes:    %s\n", summariseList(info.Classes, full))
	}
	// The name and type columns are as wide as their longest entry, so
	// long tensor names (exported graphs') keep the shapes aligned.
	nameW, typeW := 12, 8
	for _, t := range append(append([]TensorInfo(nil), info.Inputs...), info.Outputs...) {
		nameW, typeW = max(nameW, len(t.Name)), max(typeW, len(t.Type))
	}
	for _, part := range []struct {
		name string
		ts   []TensorInfo
	}{{"inputs", info.Inputs}, {"outputs", info.Outputs}} {
		fmt.Fprintln(w, part.name+":")
		for _, t := range part.ts {
			fmt.Fprintf(w, "  %-*s %-*s %s\n", nameW, t.Name, typeW, t.Type, ShapeString(t.Shape))
		}
	}
	if len(info.Metadata) > 0 {
		fmt.Fprintln(w, "metadata:")
		for _, k := range info.SortedMetadataKeys() {
			fmt.Fprintf(w, "  %s = %s\n", k, summariseValue(info.Metadata[k], full))
		}
	}
	fmt.Fprintln(w, "rewrites:   "+orDash(strings.Join(r.Rewrites, "\n  ")))
	if r.ContractOK {
		fmt.Fprintf(w, "contract:   ok (%s)\n", info.Role)
		return
	}
	fmt.Fprintf(w, "contract:   NOT satisfied\n")
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  - %s\n", p)
	}
}

// Long values are summarised so that no line of the text exceeds about 200
// characters however many classes a model has: a value's text keeps at
// most maxValue characters, and a count follows.
const maxValue = 120

// summariseList writes a list of names: whole when short (or full), else
// its count, the first names that fit in maxValue characters (at least
// one, cut if need be) and how many more there are.
func summariseList(names []string, full bool) string {
	all := strings.Join(names, ", ")
	if full || len(all) <= maxValue {
		return all
	}
	n, width := 0, 0
	for n < len(names) && (n == 0 || width+2+len(names[n]) <= maxValue) {
		width += 2 + len(names[n])
		n++
	}
	shown := strings.Join(names[:n], ", ")
	if r := []rune(shown); len(r) > maxValue {
		shown = string(r[:maxValue]) + "…"
	}
	return fmt.Sprintf("%d: %s, … (%d more; --full or --json lists them)", len(names), shown, len(names)-n)
}

// summariseValue summarises a long metadata value: a comma-separated list
// as a list (summariseList), anything else cut with its length said.
func summariseValue(v string, full bool) string {
	if full || len(v) <= maxValue {
		return v
	}
	if parts := strings.Split(v, ","); len(parts) > 4 {
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return summariseList(parts, false)
	}
	cut := []rune(v)
	if len(cut) > maxValue {
		cut = cut[:maxValue]
	}
	return fmt.Sprintf("%s… (%d characters; --full or --json prints it whole)", string(cut), len(v))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
