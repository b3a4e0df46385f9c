// Package model runs ONNX models through onnxruntime: it finds the shared
// library, opens sessions once and reuses them, reads a model's inputs,
// outputs and metadata, checks a model against munit-eval's contracts
// (docs/models.md) and runs float32 batches.
//
// It is the only package that imports onnxruntime_go, and it knows nothing of
// MUNIT: the rest of munit-eval talks to it through Tensor, Info and Session.
package model

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// LibraryEnv is the environment variable naming the onnxruntime shared library.
const LibraryEnv = "ONNXRUNTIME_LIB"

// libName is the file the setup script installs into the cache folder.
const libName = "libonnxruntime.so.1"

// cacheRel is the cache folder, relative to the repository root, that
// scripts/setup-ort.sh fills.
var cacheRel = filepath.Join(".cache", "onnxruntime")

var (
	initMu    sync.Mutex
	initPath  string
	userPath  string
	noRewrite bool
)

// SetNoRewrite turns package rewrite's graph rewrites off (true) or on for
// every session opened afterwards, and for RewritePlan (the --no-rewrite
// flag); Options.NoRewrite turns them off for one session.
func SetNoRewrite(off bool) {
	initMu.Lock()
	defer initMu.Unlock()
	noRewrite = off
}

func rewritesOff() bool {
	initMu.Lock()
	defer initMu.Unlock()
	return noRewrite
}

// SetLibraryPath records the library the user named (the --ort-lib flag)
// without loading it, so that every later Init("") uses it; the CLI sets it
// once for all commands.
func SetLibraryPath(path string) {
	initMu.Lock()
	defer initMu.Unlock()
	userPath = path
}

// Init loads the onnxruntime shared library and creates the environment. It
// is idempotent: after the first success later calls return nil. The library
// is looked for, in order: libPath (the --ort-lib flag), $ONNXRUNTIME_LIB,
// the cache folder .cache/onnxruntime/ of the repository (searched upwards
// from the working directory and from the executable's folder), then the
// system library path. When none has it the error says how to get it.
func Init(libPath string) error {
	initMu.Lock()
	defer initMu.Unlock()
	if ort.IsInitialized() {
		return nil
	}
	if libPath == "" {
		libPath = userPath
	}
	candidates, err := libraryCandidates(libPath)
	if err != nil {
		return err
	}
	var tried []string
	// Fatal only: errors reach the user through returned statuses, in one
	// line, not through onnxruntime's own coloured log.
	for _, c := range candidates {
		ort.SetSharedLibraryPath(c.path)
		err := ort.InitializeEnvironment(ort.WithLogLevelFatal())
		if err == nil {
			initPath = c.path
			return nil
		}
		if c.explicit {
			return fmt.Errorf("onnxruntime: cannot load %s (from %s): %v", c.path, c.source, err)
		}
		tried = append(tried, c.path)
	}
	return fmt.Errorf("onnxruntime: shared library not found (tried %s); run `make setup` "+
		"(or scripts/setup-ort.sh) in the munit-eval repository, or pass --ort-lib PATH or set %s "+
		"to a libonnxruntime.so of version 1.30 (e.g. from `npm pack onnxruntime-node@1.30.0`, "+
		"package/bin/napi-v6/linux/x64/libonnxruntime.so.1)", strings.Join(tried, ", "), LibraryEnv)
}

type libCandidate struct {
	path, source string
	explicit     bool // named by the user: a failure to load it is final
}

func libraryCandidates(flag string) ([]libCandidate, error) {
	if flag != "" {
		if _, err := os.Stat(flag); err != nil {
			return nil, fmt.Errorf("onnxruntime: --ort-lib %s: %w", flag, errors.Unwrap(err))
		}
		return []libCandidate{{flag, "--ort-lib", true}}, nil
	}
	if env := os.Getenv(LibraryEnv); env != "" {
		if _, err := os.Stat(env); err != nil {
			return nil, fmt.Errorf("onnxruntime: $%s=%s: %w", LibraryEnv, env, errors.Unwrap(err))
		}
		return []libCandidate{{env, "$" + LibraryEnv, true}}, nil
	}
	var out []libCandidate
	seen := map[string]bool{}
	add := func(start string) {
		for dir := start; ; {
			p := filepath.Join(dir, cacheRel, libName)
			if !seen[p] {
				seen[p] = true
				if _, err := os.Stat(p); err == nil {
					out = append(out, libCandidate{p, "cache", false})
				}
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				return
			}
			dir = parent
		}
	}
	if wd, err := os.Getwd(); err == nil {
		add(wd)
	}
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		add(filepath.Dir(exe))
	}
	if dir, err := os.UserCacheDir(); err == nil {
		p := filepath.Join(dir, "munit-eval", "onnxruntime", libName)
		if _, err := os.Stat(p); err == nil {
			out = append(out, libCandidate{p, "user cache", false})
		}
	}
	// Bare names: dlopen searches the system library path.
	out = append(out, libCandidate{"libonnxruntime.so.1", "system", false},
		libCandidate{"libonnxruntime.so", "system", false})
	return out, nil
}

// LibraryPath returns the path of the loaded library ("" before Init).
func LibraryPath() string {
	initMu.Lock()
	defer initMu.Unlock()
	return initPath
}

// ORTVersion returns the loaded onnxruntime's version ("" before Init).
func ORTVersion() string {
	if !ort.IsInitialized() {
		return ""
	}
	return ort.GetVersion()
}
