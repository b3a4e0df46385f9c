//go:build !unix

package translate

import (
	"fmt"
	"os"
	"time"
)

// fileLock is a no-op where flock(2) does not exist: two translate
// processes on one store are not detected there.
type fileLock struct{}

type errLocked struct{ path, holder string }

func (e *errLocked) Error() string { return fmt.Sprintf("%s is locked by %s", e.path, e.holder) }

func lockPath(string, bool, string) (*fileLock, error) { return &fileLock{}, nil }

func (l *fileLock) upgrade(string) bool { return true }

func (l *fileLock) release() {}

func readHolder(string) string { return "" }

func holderInfo(what string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("pid %d on host %s (%s, since %s)", os.Getpid(), host, what, time.Now().UTC().Format(time.RFC3339))
}
