#!/usr/bin/env bash
# make bench-stargan: munit-eval's StarGAN v2 protocol (run with protocol
# stargan-v2-latent and stargan-v2-reference, domains: ROOT) against the
# official clovaai/stargan-v2 metrics/eval.py calculate_metrics, run unmodified
# under PyTorch, end to end, on the same cores, weights, latent codes and
# references: 2 domains, the official network sizes (random weights). Prints
# both times, the speed-up and the agreement of the samples and of FID and
# LPIPS per task and their means; exits 1 when they disagree.
#
# Needs the official code: $MUNIT_EVAL_REFS/stargan-v2 (clovaai/stargan-v2 @875b70a).
# Sizes (environment): BENCH_SIZE (256), BENCH_VAL (10 val images per domain:
# the inputs, and the references, of which the protocol needs 10), BENCH_TRAIN
# (20 train images per domain: FID's real images), BENCH_THREADS (2),
# BENCH_DIR (.cache/bench-stargan), BENCH_DIAGNOSE (0; 1 also runs the official
# FID on munit-eval's samples, untimed). 10 outputs per input, as the protocol.
# The defaults take about 30 minutes on two cores, 22 of them the official
# loop's 400 generator runs (docs/performance.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
SIZE=${BENCH_SIZE:-256}
VAL=${BENCH_VAL:-10}
TRAIN=${BENCH_TRAIN:-20}
OUTS=10
THREADS=${BENCH_THREADS:-2}
W=${BENCH_DIR:-.cache/bench-stargan}
PY=${PYTHON:-/usr/bin/python3}
if [ -z "${MUNIT_EVAL_REFS:-}" ] || [ ! -d "$MUNIT_EVAL_REFS/stargan-v2" ]; then
  echo "bench-stargan: set MUNIT_EVAL_REFS to a folder holding stargan-v2 (clovaai/stargan-v2 @875b70a)" >&2
  exit 2
fi
if [ "$SIZE" -lt 64 ] || [ $((SIZE & (SIZE - 1))) -ne 0 ]; then
  echo "bench-stargan: BENCH_SIZE ($SIZE) must be a power of 2 of at least 64 (the generator halves it; lpips.py's AlexNet runs its last pooling)" >&2
  exit 2
fi
if [ "$VAL" -lt "$OUTS" ]; then
  echo "bench-stargan: BENCH_VAL ($VAL) must be at least $OUTS: each of an input's $OUTS outputs takes a distinct reference" >&2
  exit 2
fi
# eval.py's reference loader drops a last incomplete batch: a batch of at most BENCH_VAL images
BATCH=$((VAL < 32 ? VAL : 32))
DIAG=()
[ "${BENCH_DIAGNOSE:-0}" = 1 ] && DIAG=(--diagnose-fid)

bash scripts/python-deps.sh
bash scripts/setup-ort.sh
go build -o bin/munit-eval ./cmd/munit-eval
ME=$root/bin/munit-eval
export PYTHONDONTWRITEBYTECODE=1
rm -rf "$W"
mkdir -p "$W"

echo "bench-stargan: data, networks (random init) and exports (untimed)" >&2
"$PY" bench/stargan/official.py prepare --work "$W" --size "$SIZE" --val "$VAL" --train "$TRAIN" --outs "$OUTS"
"$PY" -m export.stargan_v2 --checkpoint "$W/000001_nets_ema.ckpt" --img-size "$SIZE" --num-domains 2 \
  --domains cat,dog --out "$W/sg.onnx" --no-verify >/dev/null
"$PY" -m export.lpips --trunk-weights "$W/alexnet.pth" --lin-weights "$W/lin.pth" --version 0.1 \
  --out "$W/lpips.onnx" --no-verify >/dev/null
"$PY" -m export.classifier --checkpoint "$W/inception.pth" --transform-input off --out "$W/features.onnx" \
  --no-verify >/dev/null

for mode in latent reference; do
  if [ "$mode" = latent ]; then
    method="{name: StarGAN v2, generator: sg.generator.onnx, mapping: sg.mapping.onnx, latents: Z.npy}"
  else
    method="{name: StarGAN v2, generator: sg.generator.onnx, style_encoder: sg.style_encoder.onnx}"
  fi
  cat >"$W/$mode.yaml" <<YAML
out: ours-$mode
protocol: stargan-v2-$mode
models: {lpips: lpips.onnx, features: features.onnx}
datasets:
  - name: sg
    domains: data
    methods:
      - $method
YAML
done

# munit-eval first (set -o pipefail: a failed run stops here): the official side takes each (input, output)'s latent code
# or reference from its store. Each run command timed alone.
declare -A secs
for mode in latent reference; do
  echo "bench-stargan: munit-eval run, $mode-guided ($THREADS threads, load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  start=$(date +%s.%N)
  # its step lines, time-stamped, show where the time goes
  "$ME" --threads "$THREADS" run "$W/$mode.yaml" 2>&1 >"$W/ours-$mode.txt" |
    while IFS= read -r line; do printf '%s %s\n' "$(date +%T.%N | cut -c1-12)" "$line"; done >"$W/ours-$mode.log"
  secs[$mode]=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
done

echo "bench-stargan: official eval.py, latent then reference ($THREADS threads, load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
"$PY" bench/stargan/official.py official --work "$W" --size "$SIZE" --outs "$OUTS" --threads "$THREADS" \
  --batch "$BATCH" --store-latent "$W/ours-latent/store" --store-reference "$W/ours-reference/store" "${DIAG[@]}" \
  >"$W/official.json" 2>"$W/official.log"
echo "bench-stargan: load average at the end $(cut -d' ' -f1-3 /proc/loadavg)" >&2

"$PY" bench/stargan/official.py compare --work "$W" --size "$SIZE" --outs "$OUTS" --official "$W/official.json" \
  --ours-latent "$W/ours-latent" --ours-reference "$W/ours-reference" \
  --seconds-latent "${secs[latent]}" --seconds-reference "${secs[reference]}"
