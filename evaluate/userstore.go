package evaluate

// Where the metric commands keep samples and caches when no --store is
// given: one folder per user, not a ./store in whatever folder the command
// happens to run in.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// UserStore returns the per-user store of the metric commands:
// $XDG_CACHE_HOME/munit-eval, else $HOME/.cache/munit-eval (the XDG Base
// Directory specification's cache folder; a relative XDG_CACHE_HOME is
// ignored, as the specification says). getenv reads the environment
// (os.Getenv).
func UserStore(getenv func(string) string) (string, error) {
	if x := getenv("XDG_CACHE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "munit-eval"), nil
	}
	if h := getenv("HOME"); filepath.IsAbs(h) {
		return filepath.Join(h, ".cache", "munit-eval"), nil
	}
	return "", errors.New("no per-user cache folder: neither XDG_CACHE_HOME nor HOME is an absolute path; give --store DIR")
}

// StoreNotice prepares the one notice about the per-user store dir: the
// returned function says on w where samples and caches are kept when dir
// did not exist before StoreNotice and does now (this command made it),
// and nothing otherwise, so the notice is given once, not on every
// command.
func StoreNotice(dir string) func(w io.Writer) {
	if _, err := os.Stat(dir); err == nil {
		return func(io.Writer) {}
	}
	return func(w io.Writer) {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			fmt.Fprintf(w, "munit-eval: made the per-user store %s: the samples and caches of commands without --store are kept there (choose another with --store)\n", dir)
		}
	}
}
