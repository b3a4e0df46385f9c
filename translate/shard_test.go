package translate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseShard(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for j := 0; j+1 < len(kv); j += 2 {
				if kv[j] == k {
					return kv[j+1]
				}
			}
			return ""
		}
	}
	cases := []struct {
		name   string
		flag   string
		shards int
		env    func(string) string
		want   Shard
		err    string
	}{
		{"none", "", 0, env(), Shard{}, ""},
		{"flag", "2/4", 0, env(), Shard{2, 4}, ""},
		{"flag wins over env", "1/3", 0, env(EnvSlurmTaskID, "0", EnvSlurmTaskCount, "8"), Shard{1, 3}, ""},
		{"one shard is all", "0/1", 0, env(), Shard{}, ""},
		{"flag and shards agree", "1/2", 2, env(), Shard{1, 2}, ""},
		{"flag and shards disagree", "1/2", 3, env(), Shard{}, "disagree"},
		{"bad flag", "2-4", 0, env(), Shard{}, "want I/N"},
		{"index too big", "4/4", 0, env(), Shard{}, "0 <= I < N"},
		{"negative", "-1/4", 0, env(), Shard{}, "0 <= I < N"},
		{"slurm", "auto", 0, env(EnvSlurmTaskID, "3", EnvSlurmTaskCount, "4"), Shard{3, 4}, ""},
		{"slurm with shards", "", 4, env(EnvSlurmTaskID, "3", EnvSlurmTaskCount, "4"), Shard{3, 4}, ""},
		{"slurm from 1", "auto", 0, env(EnvSlurmTaskID, "4", EnvSlurmTaskMin, "1", EnvSlurmTaskCount, "4"), Shard{3, 4}, ""},
		{"slurm no count", "auto", 0, env(EnvSlurmTaskID, "3"), Shard{}, EnvSlurmTaskCount},
		{"slurm outside", "auto", 0, env(EnvSlurmTaskID, "9", EnvSlurmTaskCount, "4"), Shard{}, "contiguous array"},
		{"slurm below min", "auto", 0, env(EnvSlurmTaskID, "0", EnvSlurmTaskMin, "1", EnvSlurmTaskCount, "4"), Shard{}, "contiguous array"},
		{"slurm vs shards", "", 2, env(EnvSlurmTaskID, "1", EnvSlurmTaskCount, "4"), Shard{}, "--shards 2"},
		{"k8s", "", 5, env(EnvK8sIndex, "4"), Shard{4, 5}, ""},
		{"k8s auto", "auto", 5, env(EnvK8sIndex, "4"), Shard{4, 5}, ""},
		{"k8s without shards", "auto", 0, env(EnvK8sIndex, "4"), Shard{}, "give --shards N"},
		{"k8s outside", "", 4, env(EnvK8sIndex, "4"), Shard{}, "outside 0..3"},
		{"shards alone", "", 4, env(), Shard{}, "without a shard index"},
		{"auto alone", "auto", 0, env(), Shard{}, "neither a Slurm array task"},
		// Sharding only when asked: an array task's environment alone
		// leaves the command whole (a metric command in a Slurm array task
		// once became shard I/N silently and wrote no results).
		{"slurm env not asked", "", 0, env(EnvSlurmTaskID, "3", EnvSlurmTaskCount, "4"), Shard{}, ""},
		{"k8s env not asked", "", 0, env(EnvK8sIndex, "4"), Shard{}, ""},
		// Bounds: N is at most MaxShards wherever it comes from.
		{"huge slurm count", "auto", 0, env(EnvSlurmTaskID, "3", EnvSlurmTaskCount, "9223372036854775807"), Shard{}, "at most 100000"},
		{"huge shards", "", 4000000000000, env(), Shard{}, "at most 100000"},
		{"huge flag", "0/4000000000000", 0, env(), Shard{}, "at most 100000"},
		{"negative min", "auto", 0, env(EnvSlurmTaskID, "3", EnvSlurmTaskMin, "-9223372036854775808", EnvSlurmTaskCount, "4"), Shard{}, "non-negative"},
	}
	for _, c := range cases {
		got, err := ParseShard(c.flag, c.shards, c.env)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want one containing %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
	s := Shard{1, 3}
	var owned []int
	for u := 0; u < 8; u++ {
		if s.Owns(u) {
			owned = append(owned, u)
		}
	}
	if fmt.Sprint(owned) != "[1 4 7]" || s.String() != "1/3" || (Shard{}).String() != "all" || !(Shard{}).Owns(5) {
		t.Fatalf("owned %v, %s", owned, s)
	}
}

// helper starts this test binary as a translate child (see TestMain) with
// the given extra environment.
func helper(t *testing.T, in, out string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killHelperEnv+"=1", "MUNIT_TRANSLATE_IN="+in, "MUNIT_TRANSLATE_OUT="+out)
	cmd.Env = append(cmd.Env, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// TestShardsTogether starts four shard processes at once into one store:
// the store they leave (samples and manifest.json, folded by the last
// shard) is byte-identical to one unsharded run's. Then it kills shard 2/4
// of a second sharded run part-way: OpenStore names the inputs and the
// shard that are missing, and rerunning shard 2/4 alone computes only its
// missing samples and completes the store, byte-identical again.
func TestShardsTogether(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	in := writeInputs(t, 6, 8, 8, 40)
	ref := t.TempDir()
	mustRun(t, killConfig(in, ref, 0))

	out := t.TempDir()
	var cmds []*exec.Cmd
	for i := 0; i < 4; i++ {
		cmds = append(cmds, helper(t, in, out, fmt.Sprintf("MUNIT_TRANSLATE_SHARD=%d/4", i), "MUNIT_TRANSLATE_DELAY=20ms"))
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("shard %d/4: %v: %s", i, err, c.Stderr)
		}
	}
	sameTree(t, ref, out)

	out = t.TempDir()
	cmds = cmds[:0]
	for i := 0; i < 4; i++ {
		cmds = append(cmds, helper(t, in, out, fmt.Sprintf("MUNIT_TRANSLATE_SHARD=%d/4", i), "MUNIT_TRANSLATE_DELAY=60ms"))
	}
	// Shard 2/4 owns input 2 (in_02) only: kill it once its first sample
	// file is there.
	deadline := time.Now().Add(20 * time.Second)
	for countPNG(filepath.Join(out, "Fake_star", "in_02")) < 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cmds[2].Process.Kill()
	cmds[2].Wait()
	for i, c := range cmds {
		if i != 2 {
			if err := c.Wait(); err != nil {
				t.Fatalf("shard %d/4: %v: %s", i, err, c.Stderr)
			}
		}
	}
	_, err := OpenStore(filepath.Join(out, "Fake_star"))
	var inc *IncompleteError
	if !errors.As(err, &inc) || fmt.Sprint(inc.Missing) != "[2]" {
		t.Fatalf("OpenStore: %v, want the missing input 2", err)
	}
	errContains(t, err, "1 of 6 inputs lack samples (in_02.png)", "--shard 2/4")
	cfg := killConfig(in, out, 0)
	cfg.Shard = Shard{2, 4}
	s := mustRun(t, cfg)
	if s.Computed+s.Reused != 4 || s.Computed == 0 || !s.Complete {
		t.Fatalf("rerun of shard 2/4: %+v, want only its 4 samples and a complete store", s)
	}
	sameTree(t, ref, out)
}

// TestStoreLock runs a slow translation in a child process and checks that
// a second one on the same store is refused with the child's pid in the
// message: unsharded against unsharded, a shard against the same shard, and
// unsharded against shards (naming them); another shard of the same
// sharded run may write beside it.
func TestStoreLock(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	in := writeInputs(t, 6, 8, 8, 41)
	for _, tc := range []struct {
		name        string
		child, mine string // shards ("" for none)
		want        string
	}{
		{"unsharded", "", "", "is being written by another munit-eval translate (pid %[1]d on host"},
		{"same shard", "1/4", "1/4", "shard 1/4 of %[2]s is already being written by pid %[1]d on host"},
		{"unsharded against a shard", "1/4", "", "sharded writers: pid %[1]d on host"},
		{"shard against unsharded", "", "3/4", "is being written by another munit-eval translate (pid %[1]d on host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			env := []string{"MUNIT_TRANSLATE_DELAY=500ms"}
			// The child has taken every lock once its manifest is written.
			lock := filepath.Join(out, "Fake_star", lockName)
			manifest := filepath.Join(out, "Fake_star", ManifestName)
			if tc.child != "" {
				env = append(env, "MUNIT_TRANSLATE_SHARD="+tc.child)
				sh, _ := ParseShard(tc.child, 0, func(string) string { return "" })
				lock = filepath.Join(out, "Fake_star", shardLockName(sh))
				manifest = filepath.Join(out, "Fake_star", fragmentName(sh))
			}
			cmd := helper(t, in, out, env...)
			defer func() { cmd.Process.Kill(); cmd.Wait() }()
			pid := fmt.Sprintf("pid %d ", cmd.Process.Pid)
			waitFor(t, func() bool {
				_, err := os.Stat(manifest)
				return err == nil && strings.Contains(readHolder(lock), pid)
			})
			cfg := killConfig(in, out, 0)
			if tc.mine != "" {
				cfg.Shard, _ = ParseShard(tc.mine, 0, func(string) string { return "" })
			}
			_, err := Run(context.Background(), cfg)
			errContains(t, err, fmt.Sprintf(tc.want, cmd.Process.Pid, filepath.Join(out, "Fake_star")))
		})
	}
	// A run of another seed does not wait for the writer of the first: it
	// goes to its own folder.
	{
		out := t.TempDir()
		cmd := helper(t, in, out, "MUNIT_TRANSLATE_DELAY=300ms")
		waitFor(t, func() bool {
			_, err := os.Stat(filepath.Join(out, "Fake_star", ManifestName))
			return err == nil && strings.Contains(readHolder(filepath.Join(out, "Fake_star", lockName)), fmt.Sprintf("pid %d ", cmd.Process.Pid))
		})
		cfg := killConfig(in, out, 0)
		cfg.Seed = 12
		s, err := Run(context.Background(), cfg)
		cmd.Process.Kill()
		cmd.Wait()
		if err != nil || !strings.Contains(s.Store, RunKeySep) {
			t.Fatalf("seed 12 beside a running seed 11: %v", err)
		}
	}
	// Two shards of one run write side by side.
	out := t.TempDir()
	cmd := helper(t, in, out, "MUNIT_TRANSLATE_SHARD=0/2", "MUNIT_TRANSLATE_DELAY=100ms")
	cfg := killConfig(in, out, 0)
	cfg.Shard = Shard{1, 2}
	var wg sync.WaitGroup
	wg.Add(1)
	var err error
	go func() { defer wg.Done(); _, err = Run(context.Background(), cfg) }()
	if werr := cmd.Wait(); werr != nil {
		t.Fatalf("shard 0/2: %v: %s", werr, cmd.Stderr)
	}
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(filepath.Join(out, "Fake_star")); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds, failing the test after 20 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the child process")
		}
	}
}
