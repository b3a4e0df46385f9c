#!/usr/bin/env python3
"""JPEGs and PIL's decoding of each, for images/'s JPEG parity tests.

  python3 scripts/jpeg_parity.py golden              # rewrites images/testdata/jpeg (committed)
  python3 scripts/jpeg_parity.py corpus DIR [N SEED] # N (400) random JPEGs in DIR (not committed)

Every F.jpg gets F.jpg.rgb, PIL's Image.open(F).convert("RGB") as raw bytes,
which is how clean-fid, pytorch-fid and torchvision's folders read images.
The JPEGs come from three encoders: PIL (4:4:4, 4:2:2, 4:2:0, grey, CMYK,
progressive, optimized tables), libjpeg-turbo's cjpeg (the sampling factors
PIL cannot write, restart intervals, RGB JPEGs, scan scripts) and Go's
image/jpeg (4:2:0 without a JFIF marker). Then compare with
  MUNIT_EVAL_JPEG_CORPUS=DIR go test -run TestJPEGCorpus -v ./images
Needs Debian 12's python3-pil 9.4.0 (libjpeg-turbo 2.1.5), python3-numpy,
libjpeg-turbo-progs and Go; run from the repository root.
"""
import io
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageFile

# PIL sizes its progressive/optimize buffer at 2 bytes a pixel, less than a
# noise image at quality 95+ takes.
ImageFile.MAXBLOCK = 1 << 24


def reference(path):
    np.asarray(Image.open(path).convert("RGB")).tofile(path + ".rgb")


def noise(rng, h, w):
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def scene(rng, h, w):
    """A photograph's ingredients: smooth colour fields, hard-edged shapes,
    a little sensor noise."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w, 1)
    img = np.full((h, w, 3), 128.0)
    for c in range(3):
        for _ in range(5):
            fx, fy = rng.uniform(0.3, 10, 2)
            img[..., c] += rng.uniform(5, 50) * np.sin(2 * np.pi * (fx * xx + fy * yy) + rng.uniform(0, 6.3))
    for _ in range(rng.integers(0, 6)):
        y0, x0 = rng.integers(0, max(h, 1)), rng.integers(0, max(w, 1))
        y1, x1 = y0 + rng.integers(1, h + 1), x0 + rng.integers(1, w + 1)
        img[y0:y1, x0:x1] = rng.uniform(0, 255, 3)
    img += rng.normal(0, rng.uniform(0, 10), img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def scale_dqt(data, factor):
    """Multiplies every 8-bit quantization table of a JPEG by factor (capped
    at 255), leaving the coded coefficients as they are."""
    d = bytearray(data)
    i = d.find(b"\xff\xdb")
    while i >= 0:
        end = i + 2 + (d[i + 2] << 8 | d[i + 3])
        j = i + 4
        while j < end:
            assert d[j] >> 4 == 0, "16-bit table"
            d[j + 1:j + 65] = bytes(min(255, v * factor) for v in d[j + 1:j + 65])
            j += 65
        i = d.find(b"\xff\xdb", end)
    return bytes(d)


def cjpeg(src, dst, *args):
    """Encodes the uint8 array src with libjpeg-turbo's cjpeg."""
    with tempfile.NamedTemporaryFile(suffix=".ppm") as f:
        Image.fromarray(src).save(f.name)
        subprocess.run(["cjpeg", *args, "-outfile", dst, f.name], check=True)


def goenc(jobs):
    """Encodes (quality, array, path) jobs with Go's image/jpeg."""
    if not jobs:
        return
    with tempfile.TemporaryDirectory() as tmp:
        args = []
        for i, (q, src, dst) in enumerate(jobs):
            p = os.path.join(tmp, "%d.png" % i)
            Image.fromarray(src).save(p)
            args += [str(q), p, dst]
        subprocess.run(["go", "run", "./images/testdata/gen/goenc", *args], check=True)


def golden():
    out = os.path.join("images", "testdata", "jpeg")
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith(".jpg") or f.endswith(".rgb"):
            os.remove(os.path.join(out, f))
    rng = np.random.default_rng(1)
    p = lambda name: os.path.join(out, name)

    def pil(arr, name, mode="RGB", **kw):
        Image.fromarray(arr).convert(mode).save(p(name), **kw)

    pil(scene(rng, 31, 45), "pil_420_q75.jpg", quality=75)
    pil(noise(rng, 17, 33), "pil_422_q90.jpg", quality=90, subsampling=1)
    pil(noise(rng, 19, 21), "pil_444_q100.jpg", quality=100, subsampling=0)
    pil(scene(rng, 40, 50), "pil_420_q10.jpg", quality=10)
    pil(noise(rng, 24, 24), "pil_420_q1.jpg", quality=1)  # IDCT outputs far outside [0, 255]
    pil(scene(rng, 27, 41), "pil_progressive_420.jpg", quality=85, progressive=True)
    pil(scene(rng, 23, 30), "pil_progressive_grey.jpg", "L", quality=90, progressive=True)
    pil(scene(rng, 33, 35), "pil_optimize_444.jpg", quality=80, subsampling=0, optimize=True)
    pil(scene(rng, 13, 27), "pil_grey.jpg", "L", quality=80)
    pil(noise(rng, 11, 13), "pil_cmyk.jpg", "CMYK", quality=90)
    # Stripes at quality 100 with the quantizers then scaled by 12: IDCT
    # outputs reach ±1500, where libjpeg-turbo's SIMD IDCT saturates.
    stripes = noise(rng, 32, 32)
    stripes[::2], stripes[1::2] = 0, 255
    b = io.BytesIO()
    Image.fromarray(stripes).save(b, "JPEG", quality=100, subsampling=0)
    with open(p("pil_dqt_scaled.jpg"), "wb") as f:
        f.write(scale_dqt(b.getvalue(), 12))
    cjpeg(scene(rng, 29, 26), p("cjpeg_440.jpg"), "-quality", "90", "-sample", "1x2")
    cjpeg(scene(rng, 21, 43), p("cjpeg_411.jpg"), "-quality", "90", "-sample", "4x1")
    cjpeg(scene(rng, 35, 37), p("cjpeg_410.jpg"), "-quality", "90", "-sample", "4x2")
    cjpeg(scene(rng, 25, 22), p("cjpeg_mixed.jpg"), "-quality", "90", "-sample", "2x2,2x1,1x1")
    cjpeg(scene(rng, 17, 40), p("cjpeg_311.jpg"), "-quality", "90", "-sample", "3x1")
    cjpeg(scene(rng, 40, 33), p("cjpeg_restart_rows.jpg"), "-quality", "85", "-restart", "1")
    cjpeg(scene(rng, 39, 35), p("cjpeg_restart_progressive.jpg"), "-quality", "85", "-progressive", "-restart", "3B")
    cjpeg(scene(rng, 19, 23), p("cjpeg_rgb.jpg"), "-quality", "90", "-rgb")
    # A progressive JPEG whose AC coefficients stop at Al = 1: libjpeg-turbo
    # smooths its blocks, which this decoder does not (Image.Inexact).
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as s:
        s.write("0,1,2: 0-0, 0, 0;\n0: 1-63, 0, 1;\n1: 1-63, 0, 1;\n2: 1-63, 0, 1;\n")
        s.flush()
        cjpeg(scene(rng, 32, 32), p("inexact_unrefined.jpg"), "-quality", "75", "-scans", s.name)
    goenc([(75, scene(rng, 23, 35), p("go_420_q75.jpg")),
           (50, np.repeat(scene(rng, 18, 18)[..., :1], 3, axis=2), p("go_420_q50_greyish.jpg"))])
    for f in sorted(os.listdir(out)):
        if f.endswith(".jpg"):
            reference(p(f))


def corpus(out, n, seed):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    go = []
    for i in range(n):
        big = rng.random() < 0.1
        h, w = (rng.integers(300, 1025, 2) if big else rng.integers(1, 400, 2))
        src = noise(rng, h, w) if rng.random() < 0.15 else scene(rng, h, w)
        q = int(rng.choice([rng.integers(1, 101), rng.integers(70, 101)]))
        enc = rng.choice(["pil", "pil", "pil", "cjpeg", "go"])
        name = os.path.join(out, "%04d_%s_q%d.jpg" % (i, enc, q))
        if enc == "pil":
            mode = rng.choice(["RGB"] * 8 + ["L", "CMYK"])
            kw = dict(quality=q, subsampling=int(rng.integers(0, 3)),
                      progressive=bool(rng.random() < 0.3), optimize=bool(rng.random() < 0.3))
            Image.fromarray(src).convert(mode).save(name, **kw)
        elif enc == "cjpeg":
            args = ["-quality", str(q)]
            r = rng.random()
            if r < 0.1:
                args.append("-grayscale")
            elif r < 0.2:
                args.append("-rgb")
            args += ["-sample", str(rng.choice(["1x1", "2x1", "1x2", "2x2", "4x1", "4x2", "2x2,2x1,1x1"]))]
            if rng.random() < 0.4:
                args += ["-restart", str(rng.choice(["1", "2", "5B", "1B", "17B"]))]
            if rng.random() < 0.3:
                args.append("-progressive")
            if rng.random() < 0.3:
                args.append("-optimize")
            cjpeg(src, name, *args)
        else:
            go.append((q, src, name))
    goenc(go)
    for f in sorted(os.listdir(out)):
        if f.endswith(".jpg"):
            reference(os.path.join(out, f))


if __name__ == "__main__":
    if sys.argv[1:2] == ["golden"]:
        golden()
    elif sys.argv[1:2] == ["corpus"] and len(sys.argv) in (3, 5):
        corpus(sys.argv[2], *(map(int, sys.argv[3:5]) if len(sys.argv) == 5 else (400, 0)))
    else:
        sys.exit(__doc__)
