//go:build unix

package atomicfile

import "syscall"

// noFollow makes open fail on a symbolic link; O_NONBLOCK keeps opening a
// FIFO from waiting for a writer (it changes nothing for regular files).
const noFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
