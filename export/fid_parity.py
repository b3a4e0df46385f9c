"""Measure the exported FID Inception against the reference implementations'
own code: pytorch-fid (features and FID between two folders of PNGs) and
torch-fidelity's inception-v3-compat feature extractor (features).

    python3 -m export.fid_parity --pytorch-fid PYTORCH_FID/src --torch-fidelity TORCH_FIDELITY \\
        [--weights W.pth] [--a DIR --b DIR] [--work DIR]

The reference code is not part of munit-eval: give the folders of a checkout
of mseitzer/pytorch-fid (its src/ folder) and of toshas/torch-fidelity (either
may be omitted). Without --weights a random FID Inception (seed 0, BatchNorm
statistics of the first images of each folder) is written in pytorch-fid's
key layout and used by everything; without --a/--b two folders
of seeded random PNGs (mixed sizes, smooth and noisy content) are written.

For each reference the script loads the same weights into the reference's
module, computes its features of every image as the reference does (its own
data loading for pytorch-fid: PIL, ToTensor, its InceptionV3), exports our
ONNX model (--preprocess pytorch-fid or torch-fidelity) and runs it through
``munit-eval forward`` on the images as munit-eval feeds them (v/127.5 - 1),
then prints the largest feature difference and, for pytorch-fid, its FID
(calculate_fid_given_paths) against the FID of the ONNX features (pytorch-fid's
calculate_frechet_distance on them, and an independent float64 computation
with scipy.linalg.sqrtm), and the same FID with both covariances regularised
by eps*I (with a few dozen images the 2048 x 2048 covariances are singular
and sqrtm may fail or be ill conditioned; the regularised FID is a Frechet
distance of well-conditioned Gaussians built from the same features).
"""

import argparse
import os
import sys
import types

import numpy as np
import torch

from . import common, fid_inception


def write_folders(root, n, seed):
    from PIL import Image
    rng = np.random.default_rng(seed)
    dirs = []
    for name, smooth in (("a", True), ("b", False)):
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        for i in range(n):
            h, w = [(64, 64), (96, 80), (128, 128)][i % 3]
            if smooth:
                base = rng.integers(0, 256, size=(h // 8, w // 8, 3)).astype(np.uint8)
                img = Image.fromarray(base).resize((w, h), Image.BILINEAR)
            else:
                img = Image.fromarray(rng.integers(0, 256, size=(h, w, 3)).astype(np.uint8))
            img.save(os.path.join(d, "%03d.png" % i))
        dirs.append(d)
    return dirs


def png_files(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.lower().endswith(".png"))


def onnx_features(binary, onnx_path, files):
    """Features of each file through munit-eval forward, one image at a time
    (the images have different sizes)."""
    from PIL import Image
    out = []
    for f in files:
        v = np.asarray(Image.open(f).convert("RGB"), dtype=np.float32).transpose(2, 0, 1)[None]
        x = (v / np.float32(127.5) - np.float32(1.0)).astype(np.float32)
        out.append(common.onnx_forward(binary, onnx_path, {"image": x})["features"][0])
    return np.stack(out).astype(np.float64)


def frechet_scipy(f1, f2):
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 sqrtm(S1 S2)), float64, covariances
    with n-1 (np.cov), the real part of sqrtm (pytorch-fid's formula, written
    independently)."""
    from scipy import linalg
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean = linalg.sqrtm(s1.dot(s2)).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def load_images(d):
    """The PNGs of folder d as munit-eval feeds them: [1,3,H,W] float32 v/127.5 - 1."""
    from PIL import Image
    out = []
    for f in png_files(d):
        v = np.asarray(Image.open(f).convert("RGB"), dtype=np.float32).transpose(2, 0, 1)[None]
        out.append((v / np.float32(127.5) - np.float32(1.0)).astype(np.float32))
    return out


def random_weights(dirs, per_dir=6):
    """A random FID Inception (seed 0) whose BatchNorm statistics are those
    of the first images of each folder (as seen through the pytorch-fid
    preprocessing), so its features differ between the folders: with
    statistics of noise images the random network maps every image to
    nearly the same features and the FID is ~1e-5, too small to compare
    (flooring the variances at 1, as classifier.calibrate_batchnorm does,
    has the same effect). Without the floor some channels amplify float32
    rounding, so the features (up to ~100) agree with PyTorch to ~1e-4
    relative rather than 1e-6 absolute: the exports below run with
    --tol 0.05 and the script reports relative figures."""
    import torch.nn as nn
    net = fid_inception.fid_inception()
    torch.manual_seed(0)
    common.random_init(net, 0)
    model = fid_inception.FIDClassifier(net, "pytorch-fid")
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average
    model.train()
    with torch.no_grad():
        for d in dirs:
            for x in load_images(d)[:per_dir]:
                model(torch.from_numpy(x))
    return net.eval()


def check_pytorch_fid(src, weights, binary, work, dirs):
    sys.path.insert(0, src)
    import pytorch_fid.inception as pin
    from pytorch_fid import fid_score
    pin.load_state_dict_from_url = lambda *a, **k: torch.load(weights, map_location="cpu")
    model = pin.InceptionV3([pin.InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()
    onnx_path = os.path.join(work, "fid_inception_pytorch_fid.onnx")
    fid_inception.main(["--weights", weights, "--out", onnx_path, "--munit-eval", binary, "--tol", "0.05"])
    ref, ours = [], []
    for d in dirs:
        files = png_files(d)
        ref.append(fid_score.get_activations(files, model, batch_size=1, dims=2048, device="cpu",
                                             num_workers=0).astype(np.float64))
        ours.append(onnx_features(binary, onnx_path, files))
    dmax = max(float(np.abs(r - o).max()) for r, o in zip(ref, ours))
    scale = max(float(np.abs(r).max()) for r in ref)
    print("pytorch-fid: %d + %d images; features max |onnx - pytorch-fid| = %.3g (largest |feature| %.3g)" % (
        len(ref[0]), len(ref[1]), dmax, scale))
    try:
        fid_ref = fid_score.calculate_fid_given_paths(dirs, batch_size=1, device="cpu", dims=2048, num_workers=0)
        fid_onnx = fid_score.calculate_frechet_distance(*stats(ours[0]), *stats(ours[1]))
        print("pytorch-fid: FID calculate_fid_given_paths %.8g, pytorch-fid's formula on the ONNX features %.8g "
              "(relative diff %.3g), independent scipy formula on the ONNX features %.8g" % (
                  fid_ref, fid_onnx, abs(fid_onnx - fid_ref) / abs(fid_ref), frechet_scipy(ours[0], ours[1])))
    except ValueError as e:
        # With fewer images than 2048 the covariances are singular and
        # sqrtm can fail; pytorch-fid then raises.
        print("pytorch-fid: calculate_fid_given_paths failed on these few images: %s" % e)
    # Regularised: sigma + eps*I on both sides (eps = 1e-2 x the mean
    # variance) keeps sqrtm well conditioned with few images; pytorch-fid's
    # own calculate_frechet_distance on its features and on ours.
    eps = 1e-2 * float(np.mean([np.trace(np.cov(f, rowvar=False)) / f.shape[1] for f in ref]))
    fr = fid_score.calculate_frechet_distance(*stats(ref[0], eps), *stats(ref[1], eps))
    fo = fid_score.calculate_frechet_distance(*stats(ours[0], eps), *stats(ours[1], eps))
    print("pytorch-fid: regularised FID (sigma + %.3g I) from pytorch-fid's features %.8g, from the ONNX "
          "features %.8g, relative diff %.3g" % (eps, fr, fo, abs(fo - fr) / abs(fr)))


def stats(f, eps=0.0):
    """mu and sigma (np.cov, n-1) of features f, sigma + eps*I."""
    return f.mean(0), np.cov(f, rowvar=False) + eps * np.eye(f.shape[1])


def check_torch_fidelity(src, weights, binary, work, dirs):
    from PIL import Image
    sys.path.insert(0, src)
    if "tqdm" not in sys.modules:  # torch-fidelity imports tqdm, which Debian's python3 may lack
        try:
            import tqdm  # noqa: F401
        except ImportError:
            stub = types.ModuleType("tqdm")
            stub.tqdm = lambda it=None, *a, **k: it
            sys.modules["tqdm"] = stub
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    fe = FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"],
                                     feature_extractor_weights_path=weights)
    onnx_path = os.path.join(work, "fid_inception_torch_fidelity.onnx")
    fid_inception.main(["--weights", weights, "--preprocess", "torch-fidelity", "--logits", "unbiased",
                        "--out", onnx_path, "--munit-eval", binary, "--tol", "0.05"])
    dmax = lmax = fscale = 0.0
    n = 0
    for d in dirs:
        for f in png_files(d):
            v = np.asarray(Image.open(f).convert("RGB"), dtype=np.uint8).transpose(2, 0, 1)[None]
            with torch.no_grad():
                feat, logit = fe(torch.from_numpy(np.ascontiguousarray(v)))
            x = (v.astype(np.float32) / np.float32(127.5) - np.float32(1.0)).astype(np.float32)
            got = common.onnx_forward(binary, onnx_path, {"image": x})
            dmax = max(dmax, float(np.abs(got["features"][0] - feat.numpy()[0]).max()))
            fscale = max(fscale, float(np.abs(feat.numpy()).max()))
            lmax = max(lmax, float(np.abs(got["logits"][0] - logit.numpy()[0]).max()))
            n += 1
    print("torch-fidelity: %d images; features max |onnx - torch-fidelity| = %.3g (largest |feature| %.3g), "
          "logits_unbiased %.3g" % (n, dmax, fscale, lmax))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m export.fid_parity", description=__doc__.split("\n\n")[0])
    p.add_argument("--pytorch-fid", default="", help="pytorch-fid's src/ folder")
    p.add_argument("--torch-fidelity", default="", help="torch-fidelity's checkout (holding torch_fidelity/)")
    p.add_argument("--weights", default="", help="FID Inception weights (default: random, seed 0)")
    p.add_argument("--a", default="")
    p.add_argument("--b", default="")
    p.add_argument("--images", type=int, default=24, help="images per generated folder (default 24)")
    p.add_argument("--work", default="fid-parity", help="folder for the generated files (default fid-parity)")
    p.add_argument("--munit-eval", dest="munit_eval", default="")
    args = p.parse_args(argv)
    os.makedirs(args.work, exist_ok=True)
    binary = common.find_munit_eval(args.munit_eval)
    if binary is None:
        raise common.ExportError("munit-eval not found (go build -o bin/munit-eval ./cmd/munit-eval)")
    dirs = [args.a, args.b] if args.a and args.b else write_folders(args.work, args.images, 0)
    weights = args.weights
    if not weights:
        weights = os.path.join(args.work, "random_fid_inception.pth")
        torch.save(random_weights(dirs).state_dict(), weights)
    if args.pytorch_fid:
        check_pytorch_fid(args.pytorch_fid, weights, binary, args.work, dirs)
    if args.torch_fidelity:
        check_torch_fidelity(args.torch_fidelity, weights, binary, args.work, dirs)


if __name__ == "__main__":
    common.run_main(main)
