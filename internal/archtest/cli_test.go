package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cliBudget is the most lines of code cmd/munit-eval may hold outside its
// help texts and comments: the CLI is flags, wiring and exit codes, and a
// command's work lives in the package that owns it (docs/architecture.md).
const cliBudget = 1200

// codeLines counts the lines of a Go file that hold code: not blank, not
// only a comment, and not inside a multi-line raw string (the help texts;
// the string's first and last lines count).
func codeLines(t *testing.T, path string) int {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	skip := map[int]bool{}
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			for l := fset.Position(c.Pos()).Line; l <= fset.Position(c.End()).Line; l++ {
				skip[l] = true
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.Ident:
			skip[fset.Position(x.Pos()).Line] = false // code before a trailing comment
		case *ast.BasicLit:
			s, e := fset.Position(x.Pos()).Line, fset.Position(x.End()).Line
			skip[s] = false
			if x.Kind == token.STRING && strings.HasPrefix(x.Value, "`") {
				for l := s + 1; l < e; l++ {
					skip[l] = true
				}
			}
		}
		return true
	})
	n := 0
	for i, line := range strings.Split(string(src), "\n") {
		if strings.TrimSpace(line) != "" && !skip[i+1] {
			n++
		}
	}
	return n
}

// TestCLIBudget keeps cmd/munit-eval within its budget of code lines.
func TestCLIBudget(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "cmd", "munit-eval", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CLI sources: %v", err)
	}
	total := 0
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			total += codeLines(t, f)
		}
	}
	t.Logf("cmd/munit-eval: %d lines of code outside help texts and comments", total)
	if total > cliBudget {
		t.Errorf("cmd/munit-eval holds %d lines of code, more than %d: move the work into the package that owns it", total, cliBudget)
	}
}
