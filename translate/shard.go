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

// MaxShards bounds N, the shards of one run: far beyond any evaluation's
// inputs, and within what the schedulers take (a Slurm array and a
// Kubernetes Indexed Job of 100,000 tasks), so N never overflows what is
// computed or written from it.
const MaxShards = 100_000

// ShardAuto is the --shard value that asks for the shard of the
// environment (a Slurm array task or a Kubernetes Indexed Job).
const ShardAuto = "auto"

// ParseShard works out which shard this process runs, in one place for every
// command that splits work (translate, run and the metric commands). flag
// is the --shard value: "I/N" (0 <= I < N), ShardAuto, or "" when not
// given; shards is --shards N (0 when not given); getenv reads the
// environment (os.Getenv). A process shards only when asked: the
// environment is read only for --shard auto or --shards N, so a command run
// inside an array job for another reason (a metric command in a Slurm
// array task, say) does the whole run. In order:
//
//   - --shard I/N wins (and --shards, if given, must equal N);
//   - with --shard auto or --shards N, a Slurm array job: I =
//     SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN (MIN 0 when unset), N =
//     SLURM_ARRAY_TASK_COUNT (and --shards, if given, must agree), so
//     "--array=1-4" and "--array=0-3" both work;
//   - with --shard auto or --shards N, a Kubernetes Indexed Job: I =
//     JOB_COMPLETION_INDEX with N = --shards (required: the Job's
//     completions are not in the environment);
//   - otherwise --shard auto and --shards N (N > 1) are errors naming
//     what is missing, and no flag is the whole run (Shard{}).
//
// N is at most MaxShards.
func ParseShard(flag string, shards int, getenv func(string) string) (Shard, error) {
	switch {
	case shards < 0:
		return Shard{}, fmt.Errorf("--shards %d: want a positive number", shards)
	case shards > MaxShards:
		return Shard{}, fmt.Errorf("--shards %d: at most %d", shards, MaxShards)
	}
	auto := flag == ShardAuto
	if flag != "" && !auto {
		i, n, ok := strings.Cut(flag, "/")
		idx, err1 := strconv.Atoi(strings.TrimSpace(i))
		cnt, err2 := strconv.Atoi(strings.TrimSpace(n))
		switch {
		case !ok || err1 != nil || err2 != nil:
			return Shard{}, fmt.Errorf("--shard %q: want I/N, for example 0/4 (I counts from 0), or auto (from Slurm or Kubernetes)", flag)
		case cnt < 1 || idx < 0 || idx >= cnt:
			return Shard{}, fmt.Errorf("--shard %q: want 0 <= I < N", flag)
		case cnt > MaxShards:
			return Shard{}, fmt.Errorf("--shard %q: at most %d shards", flag, MaxShards)
		case shards != 0 && shards != cnt:
			return Shard{}, fmt.Errorf("--shard %s and --shards %d disagree", flag, shards)
		}
		return Shard{Index: idx, Count: cnt}.norm(), nil
	}
	if !auto && shards == 0 {
		return Shard{}, nil
	}
	if id := getenv(EnvSlurmTaskID); id != "" {
		v, err := strconv.Atoi(id)
		if err != nil {
			return Shard{}, fmt.Errorf("%s=%q is not an integer", EnvSlurmTaskID, id)
		}
		lo := 0
		if s := getenv(EnvSlurmTaskMin); s != "" {
			if lo, err = strconv.Atoi(s); err != nil || lo < 0 {
				return Shard{}, fmt.Errorf("%s=%q is not a non-negative integer", EnvSlurmTaskMin, s)
			}
		}
		n, err := strconv.Atoi(getenv(EnvSlurmTaskCount))
		switch {
		case err != nil || n < 1:
			return Shard{}, fmt.Errorf("%s=%s but %s=%q is not a positive integer", EnvSlurmTaskID, id, EnvSlurmTaskCount, getenv(EnvSlurmTaskCount))
		case n > MaxShards:
			return Shard{}, fmt.Errorf("%s=%d: at most %d shards", EnvSlurmTaskCount, n, MaxShards)
		case shards != 0 && shards != n:
			return Shard{}, fmt.Errorf("--shards %d, but the Slurm array has %s=%d tasks", shards, EnvSlurmTaskCount, n)
		case v < lo || v-lo >= n:
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
	if auto {
		return Shard{}, fmt.Errorf("--shard auto: this is neither a Slurm array task (no %s) nor a Kubernetes Indexed Job (no %s); give --shard I/N", EnvSlurmTaskID, EnvK8sIndex)
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
