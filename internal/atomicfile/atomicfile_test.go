package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	if err := Write(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "new" {
		t.Fatalf("content %q, want new", got)
	}
	assertOnlyFile(t, dir, "a.json")
}

func TestWriteFuncErrorKeepsOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	if err := Write(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFunc(p, 0o644, func(w io.Writer) error {
		w.Write([]byte("partial"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want boom", err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "old" {
		t.Fatalf("content %q, want old", got)
	}
	assertOnlyFile(t, dir, "a.json")
}

func assertOnlyFile(t *testing.T, dir, name string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != name {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("dir holds %v, want only %s", names, name)
	}
}

// TestOpenNoFollow: a symbolic link (to a file, or dangling) or a FIFO is
// refused, naming the path, and the link's target is untouched; a regular
// file opens.
func TestOpenNoFollow(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	os.WriteFile(target, []byte("keep"), 0o644)
	for _, name := range []string{"link", "dangling"} {
		link := filepath.Join(dir, name)
		to := target
		if name == "dangling" {
			to = filepath.Join(dir, "nothing")
		}
		if err := os.Symlink(to, link); err != nil {
			t.Skip("no symbolic links here:", err)
		}
		f, err := OpenNoFollow(link, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err == nil {
			f.Close()
		}
		if !errors.Is(err, ErrSymlink) || !strings.Contains(err.Error(), link) {
			t.Errorf("%s: %v, want a refusal naming the link", name, err)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Fatalf("the link's target was written: %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "nothing")); err == nil {
		t.Fatal("the dangling link's target was created")
	}
	fifo := filepath.Join(dir, "fifo")
	if err := mkfifo(fifo); err == nil {
		done := make(chan error, 1)
		go func() {
			f, err := OpenNoFollow(fifo, os.O_RDONLY, 0)
			if err == nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "a FIFO") {
				t.Errorf("FIFO: %v, want a refusal", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("opening a FIFO hung")
		}
	}
	f, err := OpenNoFollow(filepath.Join(dir, "plain"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}
