//go:build !linux

package translate

import (
	"os"
	"path/filepath"
)

// syncSamples makes the sample files written since the last manifest
// durable before the manifest that lists them is written: elsewhere than
// Linux, an fsync of every such file and of the folders holding them.
func syncSamples(_ string, paths []string) error {
	dirs := map[string]bool{}
	for _, p := range paths {
		if err := fsyncPath(p); err != nil {
			return err
		}
		dirs[filepath.Dir(p)] = true
	}
	for d := range dirs {
		fsyncPath(d) // not every system can sync a folder
	}
	return nil
}

func fsyncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
