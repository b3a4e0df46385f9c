// Package paritytest finds the reference fixtures in ../shared/parity
// (relative to the repository root) for tests, and skips the test with a
// clear message when they are absent.
package paritytest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the parity fixture folder, or skips t when it is absent.
func Dir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "..", "shared", "parity")
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				return p
			}
			t.Skipf("parity fixtures not found at %s: skipping the reference comparison", p)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root (go.mod) not found: skipping the reference comparison")
		}
		dir = parent
	}
}

// Path returns a file inside the parity folder, skipping t when the folder is absent.
func Path(t testing.TB, rel string) string {
	t.Helper()
	return filepath.Join(Dir(t), rel)
}

// JSON decodes the parity file rel into v.
func JSON(t testing.TB, rel string, v any) {
	t.Helper()
	b, err := os.ReadFile(Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}
