// Package atomicfile writes files so that a reader, or a run killed at any
// moment, sees either the old content or the new, never a torn file: the data
// goes to a temporary file in the same folder, is synced, and is renamed over
// the target.
package atomicfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write writes data to path atomically with the given permissions.
func Write(path string, data []byte, perm os.FileMode) error {
	return WriteFunc(path, perm, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(data))
		return err
	})
}

// WriteFunc calls fill with a writer on a temporary file beside path and, when
// fill succeeds, syncs the file and renames it to path. On any error the
// temporary file is removed and path is left untouched.
func WriteFunc(path string, perm os.FileMode, fill func(w io.Writer) error) error {
	return write(path, perm, true, fill)
}

// WriteCacheFunc is WriteFunc without the fsync, for derived caches whose
// readers validate what they read and recompute a damaged entry: a crash may
// lose the entry, never show a torn one as whole, and the metric pipeline is
// spared a disk flush per image.
func WriteCacheFunc(path string, perm os.FileMode, fill func(w io.Writer) error) error {
	return write(path, perm, false, fill)
}

func write(path string, perm os.FileMode, sync bool, fill func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = fill(f); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if sync {
		if err = f.Sync(); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
