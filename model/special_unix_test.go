//go:build unix

package model_test

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/munit-eval/munit-eval/model"
)

// TestInspectSpecialFiles: inspect reads regular files only: a FIFO hung it
// (waiting for a writer) and /dev/zero ran it out of memory.
func TestInspectSpecialFiles(t *testing.T) {
	initORT(t)
	fifo := filepath.Join(t.TempDir(), "m.onnx")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFO:", err)
	}
	for path, want := range map[string]string{fifo: "a FIFO", "/dev/zero": "a device"} {
		done := make(chan error, 1)
		go func() {
			_, err := model.Inspect(path)
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want a refusal naming it as %s", path, err, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("inspecting %s did not return", path)
		}
	}
}
