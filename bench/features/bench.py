"""The feature extractors of issue 30 through onnxruntime (munit-eval's
model.Session) against PyTorch on the same cores and the same weights:

    /usr/bin/python3 bench/features/bench.py [--threads 2] [--batch 16] [--reps 3] [--rounds 2]
        [--models dinov2-vitl14,clip-vitl14-336] [--dir .cache/bench-features] [--profile]

For each model: seeded random weights at the official architecture
(DINOv2 ViT-L/14 at 224, CLIP ViT-L/14@336px at 336), exported with the
exporter's --random-init (no verification: the exporter tests do that), then
rounds of PyTorch forwards (export.dinov2 / export.clip's modules, the
official computation, torch.set_num_threads(threads)) alternated with
rounds of model.BenchmarkFeaturesModel (`go test ./model -bench
FeaturesModel`), so that machine load hits both alike. The input is a batch
of images at the model's size, so both run the graph's preprocessing at
that size. Prints seconds per image of each round and the ratio of the
medians; with --profile also onnxruntime's time per operator type (its
profile of one batch).
"""

import argparse
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from export import clip, dinov2  # noqa: E402

SEED = 0


def build(name):
    """(exporter module, exporter arguments, PyTorch module, input size)."""
    if name == "dinov2-vitl14":
        net = dinov2.random_dinov2("vitl14", SEED)
        net.freeze_position()
        return dinov2, ["--arch", "vitl14"], dinov2.DINOv2Features(net, "dgm-eval").eval(), dinov2.INPUT_SIZE
    if name == "clip-vitl14-336":
        cfg = clip.VIT_L14_336
        return clip, [], clip.CLIPFeatures(clip.random_clip(cfg, SEED), cfg["resolution"]).eval(), cfg["resolution"]
    raise SystemExit("unknown model %s (dinov2-vitl14, clip-vitl14-336)" % name)


def torch_round(module, x, reps):
    with torch.no_grad():
        module(x[:1])  # warm-up (one image: a whole batch of 16 costs a minute here)
        t = time.perf_counter()
        for _ in range(reps):
            module(x)
        return (time.perf_counter() - t) / reps / x.shape[0]


def ort_round(onnx_path, batch, reps, threads, profile=""):
    env = dict(os.environ, MUNIT_EVAL_BENCH_MODEL=os.path.abspath(onnx_path), MUNIT_EVAL_BENCH_BATCH=str(batch),
               MUNIT_EVAL_BENCH_THREADS=str(threads))
    if profile:
        env["MUNIT_EVAL_BENCH_PROFILE"] = profile
    r = subprocess.run(["go", "test", "./model", "-run", "^$", "-bench", "^BenchmarkFeaturesModel$", "-benchtime",
                        "%dx" % reps, "-count", "1", "-timeout", "60m"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    m = re.search(r"BenchmarkFeaturesModel\S*\s+\d+\s+(\d+) ns/op", r.stdout)
    if r.returncode != 0 or not m:
        raise SystemExit("go test -bench FeaturesModel failed:\n" + r.stdout)
    return int(m.group(1)) / 1e9 / batch


def op_profile(prefix):
    """Time per operator type in onnxruntime's profile (the last Run)."""
    files = sorted(glob.glob(prefix + "*.json"), key=os.path.getmtime)
    if not files:
        return {}
    ev = json.load(open(files[-1]))
    runs = [e for e in ev if e.get("name") == "model_run"]
    last = runs[-1] if runs else None
    out = {}
    for e in ev:
        if e.get("cat") != "Node" or not e.get("name", "").endswith("_kernel_time"):
            continue
        if last and not (last["ts"] <= e["ts"] <= last["ts"] + last["dur"]):
            continue
        op = e.get("args", {}).get("op_name", "?")
        out[op] = out.get(op, 0) + e["dur"] / 1e6
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=16, help="images per run (default 16: the protocol's batch, which fd and cmmd use)")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--models", default="dinov2-vitl14,clip-vitl14-336")
    p.add_argument("--dir", default=os.path.join(ROOT, ".cache", "bench-features"))
    p.add_argument("--profile", action="store_true", help="print onnxruntime's time per operator type")
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    torch.set_num_threads(args.threads)
    print("torch %s, %d threads; batch %d, %d forwards per round" % (torch.__version__, args.threads, args.batch,
                                                                      args.reps))
    for name in args.models.split(","):
        mod, extra, module, size = build(name)
        onnx_path = os.path.join(args.dir, name + ".onnx")
        if not os.path.exists(onnx_path):
            mod.main(["--random-init", "--seed", str(SEED), "--no-verify", "--out", onnx_path] + extra)
        rng = np.random.default_rng(1)
        x = torch.from_numpy((rng.integers(0, 256, size=(args.batch, 3, size, size)) / 127.5 - 1).astype(np.float32))
        tt, to = [], []
        for r in range(args.rounds):
            tt.append(torch_round(module, x, args.reps))
            to.append(ort_round(onnx_path, args.batch, args.reps, args.threads))
            # The machine may be shared: the 1-minute load average beside each round.
            print("%s round %d: PyTorch %.3f s/image, onnxruntime %.3f s/image (load %.1f)"
                  % (name, r, tt[-1], to[-1], os.getloadavg()[0]))
        print("%s at %dx%d: PyTorch %.3f s/image, onnxruntime %.3f s/image (median of %d rounds): "
              "onnxruntime/PyTorch = %.2f" % (name, size, size, statistics.median(tt), statistics.median(to),
                                             args.rounds, statistics.median(to) / statistics.median(tt)))
        if args.profile:
            prefix = os.path.join(args.dir, name + "-profile")
            ort_round(onnx_path, args.batch, 1, args.threads, prefix)
            ops = op_profile(prefix)
            total = sum(ops.values()) or 1
            for op, s in sorted(ops.items(), key=lambda kv: -kv[1])[:12]:
                print("  %-22s %7.3f s  %5.1f%%" % (op, s, 100 * s / total))


if __name__ == "__main__":
    main()
