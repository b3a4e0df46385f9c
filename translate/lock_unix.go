//go:build unix

package translate

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/munit-eval/munit-eval/internal/atomicfile"
)

// fileLock is an advisory flock(2) on a lock file. flock works between
// processes of one machine, and between machines on filesystems that
// support it (NFSv4, NFSv3 with lockd, Lustre mounted with -o flock): Linux
// emulates it there with byte-range locks.
type fileLock struct {
	f         *os.File
	path      string
	exclusive bool
}

// errLocked is returned when another process holds the lock; holder is
// what that process wrote into the lock file ("" for shared holders).
type errLocked struct {
	path, holder string
}

func (e *errLocked) Error() string {
	if e.holder == "" {
		return fmt.Sprintf("%s is locked by another process", e.path)
	}
	return fmt.Sprintf("%s is locked by %s", e.path, e.holder)
}

// lockPath takes the lock on path without waiting: exclusive, or shared.
// An exclusive holder writes info (host, pid, what it does) into the file
// for the message of whoever is refused. The file is removed by the
// exclusive holder on release, so a lock is re-checked after it is taken:
// when the path no longer names the file that was locked (removed or
// replaced meanwhile), it starts over.
func lockPath(path string, exclusive bool, info string) (*fileLock, error) {
	for attempt := 0; ; attempt++ {
		// Never through a link: the holder's text truncates the file.
		f, err := atomicfile.OpenNoFollow(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("lock file: %w", err)
		}
		how := syscall.LOCK_SH
		if exclusive {
			how = syscall.LOCK_EX
		}
		if err := flock(f, how|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, &errLocked{path: path, holder: readHolder(path)}
			}
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if !sameFile(f, path) {
			f.Close()
			if attempt > 100 {
				return nil, fmt.Errorf("locking %s: the lock file keeps changing", path)
			}
			continue
		}
		l := &fileLock{f: f, path: path, exclusive: exclusive}
		if exclusive {
			l.write(info)
		}
		return l, nil
	}
}

// upgrade turns a shared lock into an exclusive one without waiting. flock
// converts by dropping the old lock first, so on failure l holds nothing
// and is released. It reports whether l is now exclusive.
func (l *fileLock) upgrade(info string) bool {
	if err := flock(l.f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil || !sameFile(l.f, l.path) {
		l.f.Close()
		l.f = nil
		return false
	}
	l.exclusive = true
	l.write(info)
	return true
}

func (l *fileLock) write(info string) {
	l.f.Truncate(0)
	l.f.WriteAt([]byte(info+"\n"), 0)
}

// release drops the lock; an exclusive holder first removes the file (no
// one else holds it, and later lockers re-check the path).
func (l *fileLock) release() {
	if l == nil || l.f == nil {
		return
	}
	if l.exclusive && sameFile(l.f, l.path) {
		os.Remove(l.path)
	}
	l.f.Close()
	l.f = nil
}

// flock retries flock(2) on EINTR.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// sameFile reports whether path still names the open file f.
func sameFile(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

func readHolder(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

// holderInfo describes this process for a lock file: host, pid, start
// time and what it does.
func holderInfo(what string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("pid %d on host %s (%s, since %s)", os.Getpid(), host, what, time.Now().UTC().Format(time.RFC3339))
}
