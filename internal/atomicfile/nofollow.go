package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// OpenNoFollow opens path as os.OpenFile does, but never through a
// symbolic link at its last component, and only a regular file: a link
// planted where a store keeps a lock or a cache would otherwise make the
// writer truncate and write the file it points to, outside the store, and
// a FIFO or device would hang it or feed it without end. The error names
// path and what it is.
func OpenNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	if noFollow == 0 {
		// No O_NOFOLLOW here: look first (a race remains).
		if st, err := os.Lstat(path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
			return nil, linkError(path)
		}
	}
	f, err := os.OpenFile(path, flag|noFollow, perm)
	if err != nil {
		if st, lerr := os.Lstat(path); lerr == nil && st.Mode()&fs.ModeSymlink != 0 {
			return nil, linkError(path)
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file (%s); refusing to use it: remove it", path, kind(st.Mode()))
	}
	return f, nil
}

// ErrSymlink is wrapped by OpenNoFollow's error for a symbolic link.
var ErrSymlink = errors.New("a symbolic link")

func linkError(path string) error {
	return fmt.Errorf("%s is %w; munit-eval does not write through links in a store: remove it", path, ErrSymlink)
}

// kind names a file mode's type for messages.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a plain file"
}
