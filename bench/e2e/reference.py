"""The official-style PyTorch evaluation pipeline, for `make bench-e2e`.

It follows the structure of the MUNIT repository's scripts, with the project's
own PyTorch modules (export/munit.py, export/classifier.py, export/lpips.py,
built from the same seeds as the exported ONNX models, so both sides hold the
same weights):

1. test_batch.py-style IS/CIS: for every input (batch 1), encode the content
   once, then for each of K style codes decode at batch 1 and classify the
   output at batch 1; IS and CIS from the softmax outputs (natural logs).
2. test.py-style LPIPS: for every input, encode once and decode 2P outputs at
   batch 1, save them as PNG, then the lpips package's forward over the pairs
   (2j, 2j+1) of the saved images (both images through the network per pair).

Outputs are rounded to 8-bit pixels before they are classified, as every saved
sample is, so both pipelines score the same pixels. The style codes come from
the same .npy file munit-eval reads (--latents). Prints one JSON object:
{"seconds": {...}, "lpips_mean": ..., "is": ..., "cis": ...}.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from export import classifier as excls  # noqa: E402
from export import common  # noqa: E402
from export import lpips as exlpips  # noqa: E402
from export import munit as exmunit  # noqa: E402


def load_image(path):
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    return torch.from_numpy(a.transpose(2, 0, 1)[None] / 127.5 - 1.0)


def to_uint8(x):
    """[-1,1] float NCHW -> uint8 HWC of the first image, as munit-eval stores it."""
    a = ((x[0].clamp(-1, 1) + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
    return a.permute(1, 2, 0).numpy()


def from_uint8(a):
    return torch.from_numpy(a.astype(np.float32).transpose(2, 0, 1)[None] / 127.5 - 1.0)


def build_munit(cfg_path, seed):
    cfg = common.load_yaml(cfg_path)
    args = argparse.Namespace(random_init=True, seed=seed, checkpoint=None)
    gen_a, gen_b, da, db = exmunit.build_pair(cfg, exmunit.AdaINGen, args)
    enc = exmunit.ContentGraph(gen_a, da).eval()
    dec = exmunit.DecoderGraph(gen_b, db).eval()
    return enc, dec


def build_classifier(seed, k, input_scale, transform_input):
    torch.manual_seed(seed)
    net = excls.inception(k, True)
    model = excls.Classifier(net, input_scale, transform_input).eval()
    excls.calibrate_batchnorm(model, seed)
    return model


def build_lpips(seed, net, version):
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)
    lin = [torch.rand(1, c, 1, 1, generator=g) for c in exlpips.CHANNELS[net]]
    return exlpips.LPIPSEmbed(net, version, lin).eval()


def lpips_forward(model, a, b):
    """lpips.LPIPS.forward: both images through the network, then
    sum_l mean_hw sum_c (e_l(a) - e_l(b))^2 (the lin layer folded into e_l)."""
    ea, eb = model(a), model(b)
    d = 0.0
    for x, y in zip(ea, eb):
        d = d + ((x - y) ** 2).sum(dim=1).mean(dim=(1, 2))
    return float(d[0])


def kl_rows(p, q):
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(p > 0, p * (np.log(p) - np.log(q)), 0.0)
    return t.sum(axis=-1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--munit-seed", type=int, default=0)
    ap.add_argument("--classifier-seed", type=int, default=0)
    ap.add_argument("--num-classes", type=int, default=4)
    ap.add_argument("--lpips-seed", type=int, default=0)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--latents", required=True, help="float32 .npy [M, K, S]")
    ap.add_argument("--pairs", type=int, default=19)
    ap.add_argument("--work", required=True, help="folder for the saved LPIPS samples")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    enc, dec = build_munit(a.config, a.munit_seed)
    cls = build_classifier(a.classifier_seed, a.num_classes, "imagenet", True)
    lp = build_lpips(a.lpips_seed, "alex", "0.1")
    files = sorted(f for f in os.listdir(a.inputs) if f.lower().endswith(".png"))
    lat = np.load(a.latents).astype(np.float32)
    m, k = lat.shape[0], lat.shape[1]
    files = files[:m]
    secs = {}

    # 1. test_batch.py: IS/CIS, decode and classify each sample at batch 1.
    t0 = time.perf_counter()
    probs = np.zeros((m, k, a.num_classes))
    with torch.no_grad():
        for i, f in enumerate(files):
            content = enc(load_image(os.path.join(a.inputs, f)))
            for j in range(k):
                out = dec(content, torch.from_numpy(lat[i, j][None]))
                logits, _ = cls(from_uint8(to_uint8(out)))
                probs[i, j] = torch.softmax(logits.double(), dim=1)[0].numpy()
    secs["is_cis"] = time.perf_counter() - t0
    qi = probs.mean(axis=1, keepdims=True)
    q = probs.mean(axis=(0, 1), keepdims=True)
    cis = float(kl_rows(probs, qi).mean())
    isv = float(kl_rows(probs, q).mean())

    # 2. test.py + lpips: regenerate 2P samples per input, save, compare pairs.
    t0 = time.perf_counter()
    os.makedirs(a.work, exist_ok=True)
    dists = []
    with torch.no_grad():
        for i, f in enumerate(files):
            content = enc(load_image(os.path.join(a.inputs, f)))
            paths = []
            for j in range(2 * a.pairs):
                out = dec(content, torch.from_numpy(lat[i, j][None]))
                p = os.path.join(a.work, "%03d_%03d.png" % (i, j))
                Image.fromarray(to_uint8(out)).save(p)
                paths.append(p)
            for j in range(a.pairs):
                dists.append(lpips_forward(lp, load_image(paths[2 * j]), load_image(paths[2 * j + 1])))
    secs["lpips"] = time.perf_counter() - t0
    secs["total"] = secs["is_cis"] + secs["lpips"]
    json.dump({"seconds": secs, "lpips_mean": float(np.mean(dists)), "lpips_pairs": len(dists),
               "is": isv, "cis": cis, "inputs": m, "samples_per_input": k}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
