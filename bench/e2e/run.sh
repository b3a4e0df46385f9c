#!/usr/bin/env bash
# make bench-e2e: munit-eval against the official-style PyTorch pipeline,
# end to end, on the MUNIT paper's edges2shoes generator configuration
# (random init: no pretrained weights are needed), the same weights and style
# codes on both sides. Prints both times, the ratio and the metric agreement
# (LPIPS mean to 1e-5, IS and CIS to 1% relative); exits 1 when they disagree.
#
# Sizes (environment): BENCH_INPUTS (4), BENCH_SAMPLES (100, the paper's K),
# BENCH_PAIRS (19), BENCH_SIZE (256), BENCH_THREADS (2), BENCH_DIR
# (.cache/bench-e2e). The defaults take about 7 minutes on two cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
M=${BENCH_INPUTS:-4}
K=${BENCH_SAMPLES:-100}
P=${BENCH_PAIRS:-19}
SIZE=${BENCH_SIZE:-256}
THREADS=${BENCH_THREADS:-2}
W=${BENCH_DIR:-.cache/bench-e2e}
PY=${PYTHON:-/usr/bin/python3}
if [ "$K" -lt $((2 * P)) ]; then
  echo "bench-e2e: BENCH_SAMPLES ($K) must be at least 2 x BENCH_PAIRS ($((2 * P)))" >&2
  exit 2
fi

bash scripts/python-deps.sh
bash scripts/setup-ort.sh
go build -o bin/munit-eval ./cmd/munit-eval
ME=$root/bin/munit-eval
export PYTHONDONTWRITEBYTECODE=1
rm -rf "$W"
mkdir -p "$W"

# The paper's edges2shoes generator configuration (NVlabs/MUNIT configs/edges2shoes_folder.yaml).
cat >"$W/munit.yaml" <<YAML
input_dim_a: 3
input_dim_b: 3
gen:
  dim: 64
  mlp_dim: 256
  style_dim: 8
  activ: relu
  n_downsample: 2
  n_res: 4
  pad_type: reflect
YAML
echo "bench-e2e: exporting the models (random init)" >&2
"$PY" -m export.munit --random-init --seed 0 --config "$W/munit.yaml" --two-stage --out "$W/munit.onnx" --no-verify >/dev/null
"$PY" -m export.classifier --random-init --seed 0 --num-classes 4 --classes a,b,c,d --out "$W/classifier.onnx" --no-verify >/dev/null
"$PY" -m export.lpips --random-init --seed 0 --net alex --out "$W/lpips.onnx" --no-verify >/dev/null
"$PY" - "$W" "$M" "$K" "$SIZE" <<'PYEOF'
import os, sys
import numpy as np
from PIL import Image
w, m, k, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(7)
os.makedirs(os.path.join(w, "inputs"), exist_ok=True)
for i in range(m):
    # smooth random images: low-resolution noise upsampled, so the generator sees structure
    low = rng.integers(0, 256, size=(size // 16, size // 16, 3), dtype=np.uint8)
    Image.fromarray(low).resize((size, size), Image.BILINEAR).save(os.path.join(w, "inputs", "%03d.png" % i))
np.save(os.path.join(w, "latents.npy"), rng.standard_normal((m, k, 8)).astype(np.float32))
PYEOF

echo "bench-e2e: official-style PyTorch pipeline ($M inputs x $K samples, $P pairs, ${SIZE}px, $THREADS threads)" >&2
"$PY" bench/e2e/reference.py --config "$W/munit.yaml" --inputs "$W/inputs" --latents "$W/latents.npy" \
  --pairs "$P" --work "$W/reference" --threads "$THREADS" >"$W/reference.json"

echo "bench-e2e: munit-eval" >&2
start=$(date +%s.%N)
"$ME" -q --threads "$THREADS" translate --generator "$W/munit.content_encoder.onnx" --decoder "$W/munit.decoder.onnx" \
  --inputs "$W/inputs" --samples-per-input "$K" --latents "$W/latents.npy" --out "$W/store" --method MUNIT >/dev/null
mid=$(date +%s.%N)
"$ME" -q --threads "$THREADS" lpips --lpips "$W/lpips.onnx" --samples "$W/store/MUNIT" --pairs "$P" --json >"$W/lpips.json"
mid2=$(date +%s.%N)
"$ME" -q --threads "$THREADS" cis --classifier "$W/classifier.onnx" --samples "$W/store/MUNIT" --num-inputs "$M" --samples-per-input "$K" --json >"$W/cis.json"
end=$(date +%s.%N)

"$PY" - "$W" "$start" "$mid" "$mid2" "$end" <<'PYEOF'
import json, sys
w, start, mid, mid2, end = sys.argv[1], *map(float, sys.argv[2:])
ref = json.load(open(w + "/reference.json"))
lp = json.load(open(w + "/lpips.json"))
if isinstance(lp, list):
    lp = lp[0]
cs = json.load(open(w + "/cis.json"))
ours = {"translate": mid - start, "lpips": mid2 - mid, "is_cis": end - mid2, "total": end - start}
rs = ref["seconds"]
print("bench-e2e: %d inputs x %d samples, %d LPIPS pairs" % (ref["inputs"], ref["samples_per_input"], ref["lpips_pairs"]))
print("  official-style PyTorch: %7.1f s  (IS/CIS %.1f s, LPIPS %.1f s)" % (rs["total"], rs["is_cis"], rs["lpips"]))
print("  munit-eval:             %7.1f s  (translate %.1f s, lpips %.1f s, is/cis %.1f s)" % (
    ours["total"], ours["translate"], ours["lpips"], ours["is_cis"]))
print("  speed-up:               %7.2fx" % (rs["total"] / ours["total"]))
m = cs["metrics"]
checks = [("LPIPS mean", ref["lpips_mean"], lp["metrics"]["lpips_diversity"]["mean"], "abs", 1e-5),
          ("IS (nats)", ref["is"], m["is"], "rel", 0.01),
          ("CIS (nats)", ref["cis"], m["cis"], "rel", 0.01)]
bad = False
for name, a, b, kind, tol in checks:
    d = abs(a - b) if kind == "abs" else abs(a - b) / max(abs(a), 1e-300)
    ok = d <= tol
    bad |= not ok
    print("  %-11s reference %.6f  munit-eval %.6f  %s diff %.2e (tolerance %g) %s" % (
        name, a, b, kind, d, tol, "ok" if ok else "DISAGREE"))
sys.exit(1 if bad else 0)
PYEOF
