package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestREADMECommands keeps the README and the reference pages in docs/
// honest: every `munit-eval ...` line in their code blocks must name commands
// that exist and flags those commands accept (synopsis alternatives such as
// `is|cis` and `(A | B)` included).
func TestREADMECommands(t *testing.T) {
	docs, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := append([]string{filepath.Join("..", "..", "README.md")}, docs...)
	if len(files) < 5 {
		t.Fatalf("only %d documentation files found: %v", len(files), files)
	}
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range readmeCommandLines(string(b)) {
			checked++
			for _, p := range checkCommandLine(line) {
				t.Errorf("%s: %s", filepath.Base(f), p)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d munit-eval command lines found in the documentation's code blocks", checked)
	}
}

// readmeCommandLines returns the munit-eval invocations of the README's
// code blocks, continuation lines joined and comments dropped.
func readmeCommandLines(readme string) []string {
	var out []string
	inBlock := false
	var cur string
	for _, raw := range strings.Split(readme, "\n") {
		if strings.HasPrefix(strings.TrimSpace(raw), "```") {
			inBlock = !inBlock
			continue
		}
		if !inBlock {
			continue
		}
		line := strings.TrimSpace(raw)
		if i := strings.Index(line, " #"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if cur != "" {
			cur += " " + strings.TrimSuffix(line, "\\")
			if !strings.HasSuffix(line, "\\") {
				out = append(out, cur)
				cur = ""
			}
			continue
		}
		line = strings.TrimPrefix(line, "$ ")
		if !strings.HasPrefix(line, "munit-eval ") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur = strings.TrimSuffix(line, "\\")
			continue
		}
		out = append(out, line)
	}
	return out
}

// checkCommandLine lists what is wrong with one README command line.
func checkCommandLine(line string) []string {
	var problems []string
	fields := strings.Fields(line)[1:]
	// The command path: leading words that are not flags or arguments.
	var path []string
	i := 0
	for ; i < len(fields); i++ {
		f := fields[i]
		if strings.HasPrefix(f, "-") || strings.HasPrefix(f, "(") || strings.ContainsAny(f, "./'=") || f == "..." {
			break
		}
		path = append(path, f)
	}
	var cmds []*cobra.Command
	for _, alt := range expand(path) {
		c, rest, err := rootCmd.Find(alt)
		if err != nil || len(rest) > 0 && c == rootCmd {
			problems = append(problems, fmt.Sprintf("%q: no command %q", line, strings.Join(alt, " ")))
			continue
		}
		cmds = append(cmds, c)
	}
	for _, f := range fields[i:] {
		f = strings.Trim(f, "()[]|")
		if !strings.HasPrefix(f, "--") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		for _, c := range cmds {
			fl := c.Flags().Lookup(name)
			if fl == nil {
				fl = c.InheritedFlags().Lookup(name)
			}
			switch {
			case fl == nil:
				problems = append(problems, fmt.Sprintf("%q: %s has no flag --%s", line, c.CommandPath(), name))
			case fl.Deprecated != "":
				problems = append(problems, fmt.Sprintf("%q: %s --%s is deprecated: %s", line, c.CommandPath(), name, fl.Deprecated))
			}
		}
	}
	return problems
}

// TestCheckCommandLineCatches shows the README check can fail.
func TestCheckCommandLineCatches(t *testing.T) {
	for line, want := range map[string]int{
		"munit-eval lpips --pairs 19 --lpips L.onnx":          0,
		"munit-eval lpips --pears 19":                         1,
		"munit-eval is|cis --classifier C.onnx --nope":        2,
		"munit-eval frobnicate --json":                        1,
		"munit-eval amt make|serve --out B":                   1,
		"munit-eval check --baseline a.json --results b.json": 0,
		"munit-eval translate --inputs D --out S --samples 3": 1, // deprecated: --samples-per-input
		"munit-eval translate --samples-per-input 3":          0,
	} {
		if got := checkCommandLine(line); len(got) != want {
			t.Errorf("%q: %d problems %v, want %d", line, len(got), got, want)
		}
	}
}

// expand turns ["amt", "make|serve"] into [["amt","make"], ["amt","serve"]].
func expand(path []string) [][]string {
	out := [][]string{nil}
	for _, w := range path {
		var next [][]string
		for _, alt := range strings.Split(w, "|") {
			for _, p := range out {
				next = append(next, append(append([]string(nil), p...), alt))
			}
		}
		out = next
	}
	return out
}

// TestREADMESize keeps the README what a newcomer reads first: at most
// 16,500 bytes, the reference material in docs/.
func TestREADMESize(t *testing.T) {
	st, err := os.Stat(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 16500 {
		t.Errorf("README.md is %d bytes: keep it at most 16,500 and move reference material to docs/", st.Size())
	}
}
