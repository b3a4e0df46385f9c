#!/usr/bin/env bash
# The sharding test on a real Slurm (make test-slurm, run by .ci/run): a
# single-node cluster on this machine (scripts/slurm-local.sh), the gate's
# synthetic world, the gate's evaluation run unsharded, then the same
# evaluation submitted with `munit-eval run --emit slurm --shards 4` (a
# 4-task array job plus the scoring job, afterok). Each task must leave its
# partials (its samples' per-sample values), the scoring step must compute
# none itself (it reduces), and every results document of the sharded run
# must equal the unsharded one byte for byte apart from its created line. When the cluster cannot start here (slurm-local exit 3), the
# test says why and skips (exit 0). Needs bin/munit-eval (make build).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=$root/bin/munit-eval
timeout_s=${SLURM_TEST_TIMEOUT:-240}
[ -x "$bin" ] || { echo "test-slurm: $bin missing: run make build" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/munit-eval-slurm.XXXXXX")
cluster=$work/cluster
ok=0
shards= score=
cleanup() {
  bash scripts/slurm-local.sh down "$cluster" >/dev/null 2>&1 || true
  if [ $ok = 1 ]; then rm -rf "$work"; else echo "test-slurm: files kept in $work" >&2; fi
}
trap cleanup EXIT

start=$(date +%s)
set +e
env_line=$(bash scripts/slurm-local.sh up "$cluster")
rc=$?
set -e
if [ $rc = 3 ]; then
  echo "test-slurm: SKIP: no local Slurm cluster here (reason above)"
  ok=1
  exit 0
elif [ $rc != 0 ]; then
  echo "test-slurm: FAIL: scripts/slurm-local.sh up exited $rc" >&2
  exit 1
fi
eval "$env_line"
echo "test-slurm: cluster up ($(sinfo -h -o '%n %c CPUs %t'))"

# The gate's world and two copies of its evaluation file that differ only in
# out: (paths made absolute, so the copies live in the work folder).
"$bin" -q demo --setup-only --out .cache/gate >/dev/null
for name in one sharded; do
  sed -e "s#\.\./\.cache/gate#$root/.cache/gate#g" -e "s#^out: .*#out: $work/out-$name#" ci/eval.yaml >"$work/eval-$name.yaml"
done
grep -q "^out: $work/out-sharded" "$work/eval-sharded.yaml" || { echo "test-slurm: FAIL: ci/eval.yaml has no out: line" >&2; exit 1; }

"$bin" -q run --no-report "$work/eval-one.yaml" >/dev/null 2>"$work/one.log" || {
  cat "$work/one.log" >&2
  echo "test-slurm: FAIL: the unsharded run failed" >&2
  exit 1
}
echo "test-slurm: unsharded run done ($(( $(date +%s) - start ))s)"

"$bin" run "$work/eval-sharded.yaml" --emit slurm --shards 4 --cpus 1 --mem 1G --time 10 \
  --workdir "$work" --job-name munit-ci >"$work/submit.sh"
bash -n "$work/submit.sh"
ids=$(bash "$work/submit.sh" | tail -n 1)
echo "test-slurm: submitted: $ids"
shards=$(sed -n 's/^shards=\([0-9]*\) score=.*/\1/p' <<<"$ids")
score=$(sed -n 's/.* score=\([0-9]*\)$/\1/p' <<<"$ids")
[ -n "$shards" ] && [ -n "$score" ] || { echo "test-slurm: FAIL: no job ids in '$ids'" >&2; exit 1; }

fail() {
  echo "test-slurm: FAIL: $*" >&2
  [ -z "$shards" ] || scontrol show job "$shards" >&2 2>/dev/null || true
  [ -z "$score" ] || scontrol show job "$score" >&2 2>/dev/null || true
  for f in "$work"/slurm-*.out; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
  done
  for f in "$cluster"/log/slurmctld.log "$cluster"/log/slurmd.log; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }
  done
  exit 1
}

# Jobs stay known to slurmctld for MinJobAge (300 s) after they end, so
# scontrol reports the final state of each.
state() { scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 | sort -u | tr '\n' ' '; }
deadline=$(( $(date +%s) + timeout_s ))
while :; do
  s=$(state "$score")
  case "$s" in
  "COMPLETED ") break ;;
  *FAILED* | *CANCELLED* | *TIMEOUT* | *NODE_FAIL* | *OUT_OF_MEMORY* | *PREEMPTED* | *BOOT_FAIL* | *DEADLINE*)
    fail "scoring job $score ended $s(array job $shards: $(state "$shards"))" ;;
  esac
  [ "$(date +%s)" -lt "$deadline" ] || fail "jobs not finished after ${timeout_s}s (array: $(state "$shards"), scoring: ${s:-unknown})"
  sleep 2
done
[ "$(state "$shards")" = "COMPLETED " ] || fail "array job $shards: $(state "$shards")"
runtime() { scontrol -o show job "$1" 2>/dev/null | grep -o 'RunTime=[0-9:-]*' | cut -d= -f2 | tr '\n' ' '; }
echo "test-slurm: jobs done ($(( $(date +%s) - start ))s; run times: shards $(runtime "$shards"); scoring $(runtime "$score"))"

# Every shard wrote its partials; the scoring step only reduced them.
for i in 0 1 2 3; do
  [ -d "$work/out-sharded/store/shapes/.cache/partials/shard-$i-of-4/classifier" ] &&
    [ -d "$work/out-sharded/store/shapes/.cache/partials/shard-$i-of-4/lpips" ] ||
    fail "shard $i/4 left no partials in $work/out-sharded/store/shapes/.cache/partials"
done
scorelog=$work/slurm-munit-ci-score-$score.out
[ -f "$scorelog" ] || fail "no scoring log $scorelog"
if grep -q "partials lacked" "$scorelog"; then
  grep "partials lacked" "$scorelog" >&2
  fail "the scoring step computed values the shards' partials should hold"
fi

# Every document of the unsharded run, and only those, identical apart
# from created.
n=0
for f in "$work"/out-one/results/*.json; do
  g=$work/out-sharded/results/$(basename "$f")
  [ -f "$g" ] || fail "the sharded run wrote no $(basename "$f")"
  if ! diff <(grep -v '^  "created":' "$f") <(grep -v '^  "created":' "$g") >"$work/diff" 2>&1; then
    cat "$work/diff" >&2
    fail "$(basename "$f") differs from the unsharded run's"
  fi
  n=$((n + 1))
done
[ $n -gt 0 ] || fail "the unsharded run wrote no results"
[ "$(ls "$work"/out-sharded/results/*.json | wc -l)" = $n ] || fail "the sharded run wrote other documents: $(ls "$work"/out-sharded/results)"
ok=1
echo "test-slurm: ok: $n results documents identical to the unsharded run's apart from created ($(( $(date +%s) - start ))s)"
