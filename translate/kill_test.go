package translate

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// killHelperEnv makes the test binary, re-executed by TestRunSurvivesSIGKILL,
// run one translation into $MUNIT_TRANSLATE_OUT and exit.
const killHelperEnv = "MUNIT_TRANSLATE_KILL_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(killHelperEnv) != "" {
		cfg := killConfig(os.Getenv("MUNIT_TRANSLATE_IN"), os.Getenv("MUNIT_TRANSLATE_OUT"), 10*time.Millisecond)
		if d, err := time.ParseDuration(os.Getenv("MUNIT_TRANSLATE_DELAY")); err == nil {
			cfg.gen.(*fakeGen).delay = d
		}
		if sh := os.Getenv("MUNIT_TRANSLATE_SHARD"); sh != "" {
			var err error
			if cfg.Shard, err = ParseShard(sh, 0, os.Getenv); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(3)
			}
		}
		if gen := os.Getenv("MUNIT_TRANSLATE_GENERATOR"); gen != "" {
			var err error
			if cfg, err = onnxKillConfig(gen, os.Getenv("MUNIT_TRANSLATE_IN"), os.Getenv("MUNIT_TRANSLATE_OUT")); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(3)
			}
		}
		if _, err := Run(context.Background(), cfg); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func killConfig(in, out string, delay time.Duration) Config {
	cfg := fakeConfig(&fakeGen{latentDim: 3, delay: delay}, in, out)
	cfg.Samples, cfg.Batch, cfg.Seed = 4, 3, 11
	return cfg
}

// countPNG counts finished sample files (not temporary ones) under dir.
func countPNG(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".png") && !strings.HasPrefix(d.Name(), ".") {
			n++
		}
		return nil
	})
	return n
}

// TestRunSurvivesSIGKILL runs a translation in a child process (this test
// binary, re-executed), kills it with SIGKILL once it has written n sample
// files, for several n, resumes in this process, and checks that the store
// then holds exactly the bytes of an uninterrupted run, manifest included.
func TestRunSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	in := writeInputs(t, 6, 8, 8, 20)
	// Stores side by side, so the inputs' path relative to each (in the
	// manifest) is the same.
	base := t.TempDir()
	ref := filepath.Join(base, "ref")
	mustRun(t, killConfig(in, ref, 0))
	for _, n := range []int{0, 1, 4, 10, 17, 23} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			out := filepath.Join(base, fmt.Sprint(n))
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), killHelperEnv+"=1", "MUNIT_TRANSLATE_IN="+in, "MUNIT_TRANSLATE_OUT="+out)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			deadline := time.Now().Add(20 * time.Second)
		wait:
			for countPNG(out) < n {
				select {
				case err := <-exited:
					t.Fatalf("helper exited before writing %d samples: %v", n, err)
				default:
				}
				if time.Now().After(deadline) {
					break wait
				}
				time.Sleep(200 * time.Microsecond)
			}
			cmd.Process.Kill() // SIGKILL
			<-exited
			written := countPNG(out)
			s := mustRun(t, killConfig(in, out, 0))
			t.Logf("killed with %d sample files written; resumed: %d reused, %d computed", written, s.Reused, s.Computed)
			if s.Reused+s.Computed != 24 || s.Reused > written {
				t.Fatalf("resume %+v after %d files", s, written)
			}
			sameTree(t, ref, out)
		})
	}
}
