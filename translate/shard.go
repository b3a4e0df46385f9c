package translate

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is one part of a run split over several processes: the work units
// (input images) whose index u has u mod Count == Index. Count <= 1 (the
// zero value) is the whole run. The split is round-robin so that every
// shard gets an equal share of a first-M input set, also after it grows.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Environment variables read by ParseShard.
const (
	EnvSlurmTaskID    = "SLURM_ARRAY_TASK_ID"
	EnvSlurmTaskMin   = "SLURM_ARRAY_TASK_MIN"
	EnvSlurmTaskCount = "SLURM_ARRAY_TASK_COUNT"
	EnvK8sIndex       = "JOB_COMPLETION_INDEX"
)

// ParseShard works out which shard this process runs, in one place for every
// command that splits work (translate today; run and the metric commands
// later). flag is the --shard value "I/N" (0 <= I < N; "" when not given);
// shards is --shards N (0 when not given); getenv reads the environment
// (os.Getenv). In order:
//
//   - --shard I/N wins (and --shards, if given, must equal N);
//   - a Slurm array job: I = SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN
//     (MIN 0 when unset), N = SLURM_ARRAY_TASK_COUNT (and --shards, if
//     given, must agree), so "--array=1-4" and "--array=0-3" both work;
//   - a Kubernetes Indexed Job: I = JOB_COMPLETION_INDEX with N = --shards
//     (required: the Job's completions are not in the environment);
//   - otherwise the whole run (Shard{}), and --shards alone is an error.
func ParseShard(flag string, shards int, getenv func(string) string) (Shard, error) {
	if shards < 0 {
		return Shard{}, fmt.Errorf("--shards %d: want a positive number", shards)
	}
	if flag != "" {
		i, n, ok := strings.Cut(flag, "/")
		idx, err1 := strconv.Atoi(strings.TrimSpace(i))
		cnt, err2 := strconv.Atoi(strings.TrimSpace(n))
		switch {
		case !ok || err1 != nil || err2 != nil:
			return Shard{}, fmt.Errorf("--shard %q: want I/N, for example 0/4 (I counts from 0)", flag)
		case cnt < 1 || idx < 0 || idx >= cnt:
			return Shard{}, fmt.Errorf("--shard %q: want 0 <= I < N", flag)
		case shards != 0 && shards != cnt:
			return Shard{}, fmt.Errorf("--shard %s and --shards %d disagree", flag, shards)
		}
		return Shard{Index: idx, Count: cnt}.norm(), nil
	}
	if id := getenv(EnvSlurmTaskID); id != "" {
		v, err := strconv.Atoi(id)
		if err != nil {
			return Shard{}, fmt.Errorf("%s=%q is not an integer", EnvSlurmTaskID, id)
		}
		lo := 0
		if s := getenv(EnvSlurmTaskMin); s != "" {
			if lo, err = strconv.Atoi(s); err != nil {
				return Shard{}, fmt.Errorf("%s=%q is not an integer", EnvSlurmTaskMin, s)
			}
		}
		n, err := strconv.Atoi(getenv(EnvSlurmTaskCount))
		switch {
		case err != nil || n < 1:
			return Shard{}, fmt.Errorf("%s=%s but %s=%q is not a positive integer", EnvSlurmTaskID, id, EnvSlurmTaskCount, getenv(EnvSlurmTaskCount))
		case shards != 0 && shards != n:
			return Shard{}, fmt.Errorf("--shards %d, but the Slurm array has %s=%d tasks", shards, EnvSlurmTaskCount, n)
		case v-lo < 0 || v-lo >= n:
			return Shard{}, fmt.Errorf("%s=%d with %s=%d and %s=%d: not a task of a contiguous array (use --array=0-%d, or --shard I/N)", EnvSlurmTaskID, v, EnvSlurmTaskMin, lo, EnvSlurmTaskCount, n, n-1)
		}
		return Shard{Index: v - lo, Count: n}.norm(), nil
	}
	if id := getenv(EnvK8sIndex); id != "" {
		v, err := strconv.Atoi(id)
		switch {
		case err != nil:
			return Shard{}, fmt.Errorf("%s=%q is not an integer", EnvK8sIndex, id)
		case shards == 0:
			return Shard{}, fmt.Errorf("%s=%d (a Kubernetes Indexed Job): give --shards N, the Job's completions", EnvK8sIndex, v)
		case v < 0 || v >= shards:
			return Shard{}, fmt.Errorf("%s=%d is outside 0..%d (--shards %d)", EnvK8sIndex, v, shards-1, shards)
		}
		return Shard{Index: v, Count: shards}.norm(), nil
	}
	if shards > 1 {
		return Shard{}, fmt.Errorf("--shards %d without a shard index: give --shard I/%d, or run as a Slurm array or Kubernetes Indexed Job", shards, shards)
	}
	return Shard{}, nil
}

// norm maps every one-shard split to the zero value (the whole run).
func (s Shard) norm() Shard {
	if s.Count <= 1 {
		return Shard{}
	}
	return s
}

// Sharded reports whether s is a proper part of a run (Count > 1).
func (s Shard) Sharded() bool { return s.Count > 1 }

// Owns reports whether work unit u belongs to s.
func (s Shard) Owns(u int) bool { return !s.Sharded() || u%s.Count == s.Index }

// String returns "I/N", or "all" for the whole run.
func (s Shard) String() string {
	if !s.Sharded() {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}
