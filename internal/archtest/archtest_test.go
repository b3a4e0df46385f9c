package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/munit-eval/munit-eval/"

// row is one line of the README's package table.
type row struct {
	layer   int
	imports []string
}

// readTable parses README.md's "Package layout" table:
// | `pkg` | layer | holds | imports (comma separated, or —) |.
func readTable(t *testing.T, root string) map[string]row {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "## Package layout")
	if !ok {
		t.Fatal("README.md has no \"## Package layout\" section")
	}
	if i := strings.Index(sec, "\n## "); i >= 0 {
		sec = sec[:i]
	}
	out := map[string]row{}
	for _, line := range strings.Split(sec, "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) != 4 || !strings.HasPrefix(strings.TrimSpace(cells[0]), "`") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[0]), "`/")
		layer, err := strconv.Atoi(strings.TrimSpace(cells[1]))
		if err != nil {
			t.Fatalf("README package %s: layer %q is not a number", name, cells[1])
		}
		var imps []string
		if s := strings.TrimSpace(cells[3]); s != "—" {
			for _, p := range strings.Split(s, ",") {
				imps = append(imps, strings.TrimSpace(p))
			}
		}
		slices.Sort(imps)
		out[name] = row{layer, imps}
	}
	return out
}

// packageImports returns, for every Go package of the module (test files
// left out), the module packages it imports.
func packageImports(t *testing.T, root string) map[string][]string {
	t.Helper()
	pkgs := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "export" || n == "bench") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		if pkgs[rel] == nil {
			pkgs[rel] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if after, ok := strings.CutPrefix(p, module); ok {
				pkgs[rel][after] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for p, set := range pkgs {
		var l []string
		for i := range set {
			l = append(l, i)
		}
		slices.Sort(l)
		out[p] = l
	}
	return out
}

// problems lists where table and code disagree: packages missing on either
// side, import lists that differ, and imports that do not go to a lower
// layer.
func problems(table map[string]row, code map[string][]string) []string {
	var out []string
	for p, imps := range code {
		r, ok := table[p]
		if !ok {
			out = append(out, "package "+p+" is missing from README.md's package table")
			continue
		}
		if !slices.Equal(r.imports, imps) {
			out = append(out, "package "+p+": README lists imports ["+strings.Join(r.imports, ", ")+"], the code imports ["+strings.Join(imps, ", ")+"]")
		}
		for _, imp := range imps {
			if ri, ok := table[imp]; ok && ri.layer >= r.layer {
				out = append(out, "package "+p+" (layer "+strconv.Itoa(r.layer)+") imports "+imp+" (layer "+strconv.Itoa(ri.layer)+"): imports must go to a lower layer")
			}
		}
	}
	for p := range table {
		if _, ok := code[p]; !ok {
			out = append(out, "README.md's package table lists "+p+", which has no Go code")
		}
	}
	slices.Sort(out)
	return out
}

// TestPackageTable keeps the README's package map true: every package is
// listed with exactly the module packages it imports, and every import
// goes down to a lower layer (data flows one way; nothing reaches back up).
func TestPackageTable(t *testing.T) {
	root := filepath.Join("..", "..")
	code := packageImports(t, root)
	if len(code) < 10 {
		t.Fatalf("found only %d packages under %s", len(code), root)
	}
	for _, p := range problems(readTable(t, root), code) {
		t.Error(p)
	}
}

// TestProblemsCatch shows the check can fail: an upward import, an
// import the table does not list, an unlisted package and a listed
// package without code.
func TestProblemsCatch(t *testing.T) {
	table := map[string]row{"low": {0, []string{"high"}}, "high": {1, nil}, "gone": {2, nil}}
	code := map[string][]string{"low": {"high"}, "high": {"low"}, "new": nil}
	got := problems(table, code)
	want := []string{
		"README.md's package table lists gone, which has no Go code",
		"package high: README lists imports [], the code imports [low]",
		"package low (layer 0) imports high (layer 1): imports must go to a lower layer",
		"package new is missing from README.md's package table",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("problems %q, want %q", got, want)
	}
}

// TestDesignOfRecord: the design of record lives in docs/ (architecture.md
// and the reference pages); code comments cite those pages, never a
// design file outside the repository.
func TestDesignOfRecord(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "docs", "architecture.md")); err != nil {
		t.Fatalf("docs/architecture.md: %v", err)
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && strings.HasPrefix(n, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "DESIGN"+".md") {
			t.Errorf("%s cites a design file outside the repository: cite docs/ instead", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
