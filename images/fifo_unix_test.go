//go:build unix

package images

import "syscall"

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }
