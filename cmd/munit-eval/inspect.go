package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/munit-eval/munit-eval/model"
	"github.com/spf13/cobra"
)

// inspectOptions are the flags of munit-eval inspect.
type inspectOptions struct {
	json bool
	role string
	full bool
}

// inspectReport is what inspect --json prints.
type inspectReport struct {
	File       string             `json:"file"`
	Role       model.Role         `json:"role"`
	Method     string             `json:"method"`
	LatentDim  int                `json:"latent_dim"`
	Noise      []model.NoiseInput `json:"noise,omitempty"`
	Inputs     []model.TensorInfo `json:"inputs"`
	Outputs    []model.TensorInfo `json:"outputs"`
	Metadata   map[string]string  `json:"metadata"`
	SHA256     string             `json:"sha256"`
	External   []string           `json:"external_data,omitempty"`
	ContractOK bool               `json:"contract_ok"`
	Problems   []string           `json:"problems"`
	Rewrites   []string           `json:"rewrites"`
}

func init() {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect [--json] [--full] [--role ROLE] MODEL.onnx",
		Short: "show a model's role, inputs, outputs and metadata, and check its contract",
		Long: `Inspect prints what munit-eval reads from an ONNX model: its role, method,
latent size and noise inputs (from the munit_eval.* metadata), its inputs and outputs with their
shapes (-1 for dynamic axes), all metadata, the file's SHA-256, and whether the
model satisfies the contract of its role (docs/models.md); if not, why.

The role comes from the munit_eval.role metadata; --role names it for a model
that has none. --json prints one JSON object instead of the text.

Long values (the 1,000 class names of an ImageNet classifier, in the
classes line and in the metadata) are summarised as their first few items
and a count; --full prints them whole, as --json always does.

Inspect exits 0 when the model satisfies its contract, and 2 when it does
not (after printing the report), or when the file is missing or not a valid
ONNX model.`,
		Args: exactArgs(1, "MODEL.onnx"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(cmd.OutOrStdout(), args[0], o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print a JSON object")
	cmd.Flags().BoolVar(&o.full, "full", false, "print long values (class lists, metadata) whole instead of summarised")
	cmd.Flags().StringVar(&o.role, "role", "", "the model's role when its metadata names none: generator, content_encoder, decoder, lpips or classifier")
	rootCmd.AddCommand(cmd)
}

func runInspect(w io.Writer, path string, o inspectOptions) error {
	role, err := roleFlag(o.role)
	if err != nil {
		return err
	}
	if err := model.Init(global.ortLib); err != nil {
		return err
	}
	info, err := model.Inspect(path)
	if err != nil {
		return err
	}
	if info.Role == "" {
		info.Role = role
	}
	problems := model.Check(info, role)
	rep := inspectReport{
		File: path, Role: info.Role, Method: info.Method, LatentDim: info.LatentDim, Noise: info.Noise,
		Inputs: info.Inputs, Outputs: info.Outputs, Metadata: info.Metadata, SHA256: info.SHA256, External: info.ExternalData,
		ContractOK: len(problems) == 0, Problems: problems,
	}
	if rep.Problems == nil {
		rep.Problems = []string{}
	}
	if rep.Rewrites, err = model.RewritePlan(path, info.Role); err != nil || rep.Rewrites == nil {
		rep.Rewrites = []string{} // the model parsed above; a rewrite parse failure only means none
	}
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
		return contractError(path, role, info, problems)
	}
	fmt.Fprintf(w, "file:       %s\n", path)
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
		fmt.Fprintf(w, "classes:    %s\n", summariseList(info.Classes, o.full))
	}
	fmt.Fprintln(w, "inputs:")
	for _, t := range info.Inputs {
		fmt.Fprintf(w, "  %-12s %-8s %s\n", t.Name, t.Type, model.ShapeString(t.Shape))
	}
	fmt.Fprintln(w, "outputs:")
	for _, t := range info.Outputs {
		fmt.Fprintf(w, "  %-12s %-8s %s\n", t.Name, t.Type, model.ShapeString(t.Shape))
	}
	if len(info.Metadata) > 0 {
		fmt.Fprintln(w, "metadata:")
		for _, k := range info.SortedMetadataKeys() {
			fmt.Fprintf(w, "  %s = %s\n", k, summariseValue(info.Metadata[k], o.full))
		}
	}
	fmt.Fprintln(w, "rewrites:   "+orDash(strings.Join(rep.Rewrites, "\n  ")))
	if len(problems) == 0 {
		fmt.Fprintf(w, "contract:   ok (%s)\n", info.Role)
	} else {
		fmt.Fprintf(w, "contract:   NOT satisfied\n")
		for _, p := range problems {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
	return contractError(path, role, info, problems)
}

// Long values are summarised so that no line of inspect's text exceeds
// about 200 characters however many classes a model has: a value's text
// keeps at most maxValue characters, and a count follows.
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

// contractError is the one-line error for a model that breaks its contract.
func contractError(path string, checked model.Role, info *model.Info, problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	role := string(checked)
	if role == "" {
		role = string(info.Role)
	}
	if role == "" {
		role = "any"
	}
	return fmt.Errorf("%s: does not satisfy the %s contract: %s", path, role, strings.Join(problems, "; "))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// exactArgs is cobra.ExactArgs with a message that names what is missing,
// reported as bad usage.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s: want %s, got %d argument(s) (see '%s --help')", commandName(cmd), what, len(args), cmd.CommandPath())}
		}
		return nil
	}
}

// roleFlag parses a --role flag ("" for none).
func roleFlag(s string) (model.Role, error) {
	if s == "" {
		return "", nil
	}
	r, err := model.ParseRole(s)
	if err != nil {
		return "", usageError{fmt.Errorf("--role: %w", err)}
	}
	return r, nil
}
