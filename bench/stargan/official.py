"""The official StarGAN v2 evaluation loop, for `make bench-stargan`.

    python3 bench/stargan/official.py prepare --work W --size 256 --val 10 --train 20 --outs 10
    python3 bench/stargan/official.py official --work W --store-latent S1 --store-reference S2 --threads 2
    python3 bench/stargan/official.py compare --work W --ours-latent O1 --ours-reference O2 ...

``prepare`` writes the data (W/data/train/<d>, W/data/val/<d>: smooth random
PNGs), a checkpoint of the official networks (core/model.py, seeded random
weights, style path scaled as export/tests/test_reference.py scales it, so the
style code decides the sample), the latent codes W/Z.npy, and the scoring
networks' weights: a torchvision AlexNet and LPIPS linear layers (non-negative,
random) and a torchvision Inception3 (random, BatchNorm statistics calibrated
as ``export.classifier --random-init`` does). run.sh exports them to ONNX for
munit-eval.

``official`` runs clovaai/stargan-v2's metrics/eval.py ``calculate_metrics(nets,
args, step, mode)`` for mode latent, then reference, unmodified, from the
checkout at $MUNIT_EVAL_REFS/stargan-v2, on the same weights. It patches only
what the comments marked PATCH say (loading the scoring networks from files as
``pretrained=True`` would load them from disk, and a CPU machine), and wraps
the mapping network and the style encoder so that each output gets munit-eval's
latent code or reference (read from munit-eval's store manifests): eval.py
passes those networks neither the inputs nor j and its loader shuffles, so each
input of the loop's x_src (read from its frame) is identified by its pixels,
and the output index j by the order of the calls. The wrappers cost a dictionary look-up
and, for references, reading 10 PNGs per batch: negligible next to the
generator. Prints one JSON object with the official JSONs' values and the
times of the two calculate_metrics calls.

``compare`` reads both sides, checks the samples (the official loop's saved
PNGs against munit-eval's store, per input and output) and the metrics per task
and their means, prints both with the times, and exits 1 on disagreement.
"""

import argparse
import contextlib
import glob
import hashlib
import json
import os
import sys
import time
import types

import numpy as np
import torch
from PIL import Image

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, REPO)

from export import classifier as excls  # noqa: E402
from export.tests import refs  # noqa: E402

DOMAINS = ("cat", "dog")  # two domains; eval.py sorts them
STYLE_DIM, LATENT_DIM = 64, 16


# ---------------------------------------------------------------- prepare

def smooth_png(rng, size, path):
    # as bench/e2e: low-resolution noise upsampled, so the networks see structure
    low = rng.integers(0, 256, size=(max(size // 16, 2), max(size // 16, 2), 3), dtype=np.uint8)
    Image.fromarray(low).resize((size, size), Image.BILINEAR).save(path)


def prepare(a):
    w = a.work
    rng = np.random.default_rng(a.seed + 7)
    for split, n in (("train", a.train), ("val", a.val)):
        for d in DOMAINS:
            os.makedirs(os.path.join(w, "data", split, d), exist_ok=True)
            for i in range(n):
                smooth_png(rng, a.size, os.path.join(w, "data", split, d, "%03d.png" % i))
    # latents [M, K, latent_dim]: input m (sorted val/S), output k; every task reads the same file
    np.save(os.path.join(w, "Z.npy"), rng.standard_normal((a.val, a.outs, LATENT_DIM)).astype(np.float32))

    # the official sizes, seeded random weights, the style path scaled as the
    # export tests scale it (so the style code decides the sample)
    G, F, E = refs.stargan_v2_nets(a.size, len(DOMAINS), a.seed, STYLE_DIM, LATENT_DIM)
    torch.save({"generator": G.state_dict(), "mapping_network": F.state_dict(), "style_encoder": E.state_dict()},
               os.path.join(w, "000001_nets_ema.ckpt"))

    import torchvision.models as tv
    torch.manual_seed(a.seed)
    torch.save(tv.alexnet().state_dict(), os.path.join(w, "alexnet.pth"))
    g = torch.Generator().manual_seed(a.seed + 1)
    lin = [torch.rand(1, c, 1, 1, generator=g) for c in (64, 192, 384, 256, 256)]  # LPIPS clamps them >= 0
    torch.save({"lin%d.model.1.weight" % i: x for i, x in enumerate(lin)}, os.path.join(w, "lin.pth"))
    # the same linear layers under the keys metrics/lpips.py's LPIPS module has
    os.makedirs(os.path.join(w, "official", "metrics"), exist_ok=True)
    torch.save({"lpips_weights.%d.main.1.weight" % i: x for i, x in enumerate(lin)},
               os.path.join(w, "official", "metrics", "lpips_weights.ckpt"))

    torch.manual_seed(a.seed)
    net = excls.inception(1000, True)
    excls.calibrate_batchnorm(excls.Classifier(net, "imagenet", False).eval(), a.seed)
    torch.save(net.state_dict(), os.path.join(w, "inception.pth"))


# ---------------------------------------------------------------- official

def pixel_key(x):
    """An image tensor normalised by the loader ((v/255 - 0.5) / 0.5) back
    to its 8-bit pixels, hashed: the input's identity."""
    u = torch.round((x * 0.5 + 0.5) * 255).clamp(0, 255).to(torch.uint8)
    return hashlib.sha256(u.numpy().tobytes()).hexdigest()


def load_tensor(path):
    """A PNG as the official eval loader (imagenet_normalize False) gives it
    at the training size: ToTensor, Normalize(0.5, 0.5)."""
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    return (torch.from_numpy(a.transpose(2, 0, 1)) - 0.5) / 0.5


def read_manifests(store):
    """{(src, trg, input file, k): sample} from munit-eval's store: one
    manifest per task dataset (STORE/<name>.S2T/<method>/manifest.json)."""
    out = {}
    for path in glob.glob(os.path.join(store, "*", "*", "manifest.json")):
        task = os.path.basename(os.path.dirname(os.path.dirname(path))).rsplit(".", 1)[1]
        src, trg = task.split("2")
        with open(path) as f:
            man = json.load(f)
        for s in man["samples"]:
            inp = man["inputs"][s["input"]]
            out[(src, trg, inp["file"], s["k"])] = dict(s, stem=inp["stem"], folder=os.path.dirname(path))
    return out


class Substitute:
    """Stands for nets.mapping_network (latent) or nets.style_encoder
    (reference): calls the official network on munit-eval's latent code or
    reference of each (input, output j) instead of what the loop drew."""

    def __init__(self, net, mode, samples, keys, val_dir):
        self.net, self.mode, self.samples, self.keys, self.val_dir = net, mode, samples, keys, val_dir
        self.batch, self.j, self.order = None, 0, []

    def __call__(self, drawn, y):
        # eval.py passes the network neither the inputs nor j: the inputs are the
        # loop's local x_src (read from its frame, not changed), j counts the
        # calls on one batch (10 per batch, in order).
        x_src = sys._getframe(1).f_locals["x_src"]
        if x_src is not self.batch:
            self.batch, self.j = x_src, 0
            self.files = [self.keys[pixel_key(x)] for x in x_src]
            self.order.append({"task": "%s2%s" % (self.files[0][0], DOMAINS[int(y[0])]),
                               "files": [name for _, name in self.files]})
        trg = DOMAINS[int(y[0])]
        codes = []
        for src, name in self.files:
            s = self.samples[(src, trg, name, self.j)]
            if self.mode == "latent":
                codes.append(torch.tensor(s["latent"], dtype=torch.float32))
            else:
                codes.append(load_tensor(os.path.join(self.val_dir, trg, s["reference"])))
        self.j += 1
        assert len(codes) == drawn.shape[0]
        return self.net(torch.stack(codes), y)


def official(a):
    # eval.py and fid.py print their progress to stdout: send it to stderr,
    # and the JSON alone to stdout
    real_stdout = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        out = run_official(a)
    json.dump(out, real_stdout, indent=1)


def run_official(a):
    root = os.environ.get("MUNIT_EVAL_REFS", "")
    sg = os.path.join(root, "stargan-v2")
    torch.set_num_threads(a.threads)
    w = os.path.abspath(a.work)
    stores = {"latent": os.path.abspath(a.store_latent), "reference": os.path.abspath(a.store_reference)}
    # Modules the official files import that Debian's python3 may lack and the
    # evaluation never uses for its values: tqdm (progress bars), ffmpeg
    # (core/utils' videos); munch and core.wing are stubbed by refs.stargan_v2_model.
    for name, attrs in (("tqdm", {"tqdm": lambda it=None, *x, **k: it}), ("ffmpeg", {})):
        try:
            __import__(name)
        except ImportError:
            mod = types.ModuleType(name)
            mod.__dict__.update(attrs)
            sys.modules[name] = mod
    G, F, E = refs.stargan_v2_nets(a.size, len(DOMAINS), 0, STYLE_DIM, LATENT_DIM)  # weights loaded below
    ck = torch.load(os.path.join(w, "000001_nets_ema.ckpt"))
    G.load_state_dict(ck["generator"])
    F.load_state_dict(ck["mapping_network"])
    E.load_state_dict(ck["style_encoder"])

    import torchvision.models as tv
    build_alexnet, build_inception = tv.alexnet, tv.inception_v3

    # PATCH: models.alexnet(pretrained=True) (metrics/lpips.py) builds the
    # network without ImageNet weights and loads the bench's AlexNet state dict,
    # as pretrained=True loads torchvision's from disk.
    def alexnet(pretrained=False, **kw):
        net = build_alexnet(weights=None)
        net.load_state_dict(torch.load(os.path.join(w, "alexnet.pth")))
        return net

    # PATCH: models.inception_v3(pretrained=True) (metrics/fid.py) builds
    # torchvision's Inception3 without initialising it (init_weights False, as
    # pretrained=True does) and loads the bench's state dict. fid.py calls the
    # blocks directly, so transform_input (which pretrained=True sets) is never
    # applied; the auxiliary head is left out (not in the state dict, unused).
    def inception_v3(pretrained=False, **kw):
        net = build_inception(weights=None, aux_logits=False, init_weights=False, transform_input=True)
        net.load_state_dict(torch.load(os.path.join(w, "inception.pth")))
        return net

    tv.alexnet, tv.inception_v3 = alexnet, inception_v3
    # PATCH: metrics/lpips.py moves its constants to CUDA unconditionally;
    # without a GPU .cuda() on a tensor leaves it where it is.
    if not torch.cuda.is_available():
        torch.Tensor.cuda = lambda self, *x, **k: self

    # metrics/lpips.py reads metrics/lpips_weights.ckpt from the working folder
    # (prepare wrote the bench's linear layers there): run from that folder,
    # with the checkout's packages importable.
    sys.path.insert(0, sg)
    os.chdir(os.path.join(w, "official"))
    refs.stargan_v2_model()  # stubs munch / core.wing where missing
    from metrics.eval import calculate_metrics

    keys = {}
    for d in DOMAINS:
        for name in sorted(os.listdir(os.path.join(w, "data", "val", d))):
            keys[pixel_key(load_tensor(os.path.join(w, "data", "val", d, name)))] = (d, name)
    out = {"seconds": {}, "order": {}}
    for mode in ("latent", "reference"):
        samples = read_manifests(stores[mode])
        sub_f = Substitute(F, "latent", samples, keys, os.path.join(w, "data", "val"))
        sub_e = Substitute(E, "reference", samples, keys, os.path.join(w, "data", "val"))
        nets = types.SimpleNamespace(generator=G, mapping_network=sub_f if mode == "latent" else F,
                                     style_encoder=sub_e if mode == "reference" else E, fan=None)
        args = types.SimpleNamespace(
            val_img_dir=os.path.join(w, "data", "val"), train_img_dir=os.path.join(w, "data", "train"),
            eval_dir=os.path.join(w, "official", "eval_" + mode), img_size=a.size, w_hpf=0,
            val_batch_size=a.batch, num_outs_per_domain=a.outs, latent_dim=LATENT_DIM)
        torch.manual_seed(777)  # main.py's --seed (the draws are replaced, the loaders' shuffles are not)
        start = time.time()
        calculate_metrics(nets, args, 1, mode)
        out["seconds"][mode] = time.time() - start
        for kind in ("LPIPS", "FID"):
            with open(os.path.join(args.eval_dir, "%s_%.5i_%s.json" % (kind, 1, mode))) as f:
                out.update(json.load(f))
        # the inputs of each batch of each task, in the loop's order (eval.py's
        # file names count i*val_batch_size + k + 1)
        out["order"][mode] = (sub_f if mode == "latent" else sub_e).order
    out["seconds"]["total"] = out["seconds"]["latent"] + out["seconds"]["reference"]
    out["batch"] = a.batch

    # Untimed, to explain the differences: metrics/lpips.py on the official
    # loop's own saved PNGs (8-bit, as munit-eval scores its samples) rather
    # than the generator's float output, and (--diagnose-fid) metrics/fid.py
    # on munit-eval's stored samples rather than the official PNGs.
    try:
        diagnose(a, w, stores, out)
    except Exception as e:  # the timed results stand without the diagnostics
        out["diagnostics_error"] = "%s: %s" % (type(e).__name__, e)
    return out


def diagnose(a, w, stores, out):
    from metrics.lpips import calculate_lpips_given_images
    from metrics.fid import calculate_fid_given_paths
    for mode in ("latent", "reference"):
        for src in DOMAINS:
            for trg in DOMAINS:
                if src == trg:
                    continue
                task = "%s2%s" % (src, trg)
                folder = os.path.join(w, "official", "eval_" + mode, task)
                # '%.4i_%.2i.png' % (input, j + 1): output j of every input as one batch
                # (lpips.py's mean over the batch is the mean over inputs)
                names = sorted(os.listdir(folder))
                group = [torch.stack([load_tensor(os.path.join(folder, n)) for n in names if n.endswith("_%.2i.png" % (j + 1))])
                         for j in range(a.outs)]
                out["LPIPS_png_%s/%s" % (mode, task)] = calculate_lpips_given_images(group)
                if a.diagnose_fid:
                    ours = glob.glob(os.path.join(stores[mode], "*.%s" % task, "*", "manifest.json"))
                    out["FID_ours_png_%s/%s" % (mode, task)] = float(calculate_fid_given_paths(
                        [os.path.join(w, "data", "train", trg), os.path.dirname(ours[0])], a.size, a.batch))


# ---------------------------------------------------------------- compare

def check(rows, name, a, b, kind, tol):
    d = abs(a - b) if kind == "abs" else abs(a - b) / max(abs(a), 1e-300)
    ok = d <= tol
    rows.append(ok)
    print("  %-30s official %12.6f  munit-eval %12.6f  %s diff %.2e (tolerance %g) %s" % (
        name, a, b, kind, d, tol, "ok" if ok else "DISAGREE"))


def compare(a):
    with open(a.official) as f:
        off = json.load(f)
    rows = []
    ours_s = {"latent": a.seconds_latent, "reference": a.seconds_reference}
    ours_s["total"] = ours_s["latent"] + ours_s["reference"]
    print("bench-stargan: StarGAN v2 protocol, 2 domains (%s), %dpx, latent- and reference-guided" % (
        ", ".join(DOMAINS), a.size))
    print("  official eval.py (PyTorch): %7.1f s  (latent %.1f s, reference %.1f s)" % (
        off["seconds"]["total"], off["seconds"]["latent"], off["seconds"]["reference"]))
    print("  munit-eval run:             %7.1f s  (latent %.1f s, reference %.1f s)" % (
        ours_s["total"], ours_s["latent"], ours_s["reference"]))
    print("  speed-up:                   %7.2fx" % (off["seconds"]["total"] / ours_s["total"]))
    if "diagnostics_error" in off:
        print("  (the untimed diagnostics failed: %s)" % off["diagnostics_error"])
    for mode in ("latent", "reference"):
        out = a.ours_latent if mode == "latent" else a.ours_reference
        # the samples: each official PNG against munit-eval's of the same (input, output)
        worst, n, bs = 0, 0, off["batch"]
        for i_batch, b in enumerate(off["order"][mode]):
            task = b["task"]
            first = sum(1 for x in off["order"][mode][:i_batch] if x["task"] == task)
            store = os.path.dirname(glob.glob(os.path.join(out, "store", "*.%s" % task, "*", "manifest.json"))[0])
            for k, name in enumerate(b["files"]):
                for j in range(a.outs):
                    got = np.asarray(Image.open(os.path.join(store, os.path.splitext(name)[0], "%d.png" % j)), dtype=np.int32)
                    want = np.asarray(Image.open(os.path.join(a.work, "official", "eval_" + mode, task, "%.4i_%.2i.png" % (
                        first * bs + k + 1, j + 1))).convert("RGB"), dtype=np.int32)
                    worst, n = max(worst, int(np.abs(got[..., :3] - want).max())), n + 1
        ok = worst <= 1
        rows.append(ok)
        print("  %s: %d samples, largest difference to the official loop's PNGs %d grey levels (tolerance 1) %s" % (
            mode, n, worst, "ok" if ok else "DISAGREE"))
        if mode == "latent":
            # run's latents file [M, K, 16] maps to input m (sorted val/S) and output k, the same in every task
            z = np.load(os.path.join(a.work, "Z.npy"))
            worst = 0.0
            for path in glob.glob(os.path.join(out, "store", "*", "*", "manifest.json")):
                with open(path) as f:
                    man = json.load(f)
                for smp in man["samples"]:
                    # the manifest writes float32 values in their shortest decimal form
                    got = np.asarray(smp["latent"], dtype=np.float32)
                    worst = max(worst, float(np.abs(got - z[man["inputs"][smp["input"]]["index"], smp["k"]]).max()))
            rows.append(worst == 0)
            print("  latent: the stores' latent codes are Z.npy[input, k]: largest difference %g %s" % (
                worst, "ok" if worst == 0 else "DISAGREE"))
        tasks = []
        for path in sorted(glob.glob(os.path.join(out, "results", "*__*.json"))):
            with open(path) as f:
                doc = json.load(f)
            if doc["method"] == "Real data":
                continue
            if "task_mean" in doc["metrics"]:
                tm = doc["metrics"]["task_mean"]
            else:
                tasks.append((doc["dataset"].rsplit(".", 1)[1], doc["metrics"]))
        for task, m in sorted(tasks):
            check(rows, "FID_%s/%s" % (mode, task), off["FID_%s/%s" % (mode, task)], m["fid"]["value"], "rel", a.fid_tol)
            check(rows, "LPIPS_%s/%s" % (mode, task), off["LPIPS_%s/%s" % (mode, task)],
                  m["lpips_diversity"]["mean"], "abs", a.lpips_tol)
            if "LPIPS_png_%s/%s" % (mode, task) in off:
                check(rows, "  the same, official on its PNGs", off["LPIPS_png_%s/%s" % (mode, task)],
                      m["lpips_diversity"]["mean"], "abs", a.lpips_png_tol)
            key = "FID_ours_png_%s/%s" % (mode, task)
            if key in off:
                check(rows, "  FID, official on our PNGs", off[key], m["fid"]["value"], "rel", a.fid_png_tol)
        check(rows, "FID_%s/mean" % mode, off["FID_%s/mean" % mode], tm["fid_mean"], "rel", a.fid_tol)
        check(rows, "LPIPS_%s/mean" % mode, off["LPIPS_%s/mean" % mode], tm["lpips_mean"], "abs", a.lpips_tol)
    sys.exit(0 if all(rows) else 1)


def main(argv=None):
    p = argparse.ArgumentParser(prog="bench/stargan/official.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("prepare")
    po = sub.add_parser("official")
    for q in (pp, po):
        q.add_argument("--work", required=True)
        q.add_argument("--size", type=int, default=256)
        q.add_argument("--outs", type=int, default=10)
    pp.add_argument("--val", type=int, default=10)
    pp.add_argument("--train", type=int, default=20)
    pp.add_argument("--seed", type=int, default=0)
    po.add_argument("--store-latent", required=True)
    po.add_argument("--store-reference", required=True)
    po.add_argument("--threads", type=int, default=2)
    po.add_argument("--batch", type=int, default=32, help="--val_batch_size")
    po.add_argument("--diagnose-fid", action="store_true", help="also metrics/fid.py on munit-eval's samples")
    pc = sub.add_parser("compare")
    pc.add_argument("--work", required=True)
    pc.add_argument("--size", type=int, default=256)
    pc.add_argument("--outs", type=int, default=10)
    pc.add_argument("--official", required=True, help="the official subcommand's JSON")
    pc.add_argument("--ours-latent", required=True, help="munit-eval run's out folder, latent-guided")
    pc.add_argument("--ours-reference", required=True)
    pc.add_argument("--seconds-latent", type=float, required=True)
    pc.add_argument("--seconds-reference", type=float, required=True)
    # Tolerances, from measurement with margin (docs/parity.md): fid.py resizes
    # the 8-bit images to 299 with PIL and rounds to 8 bits again, munit-eval
    # resizes in float inside the graph (0.15-0.26% of FID measured, all of it
    # that rounding: a float resize of the same PNGs gives munit-eval's FID to
    # 2e-5); lpips.py scores the generator's float output, munit-eval the
    # 8-bit PNGs (up to 8e-4 measured; on the same PNGs they agree to 2e-6).
    pc.add_argument("--fid-tol", type=float, default=0.01, help="relative (default 0.01)")
    pc.add_argument("--fid-png-tol", type=float, default=0.01, help="relative, fid.py on munit-eval's PNGs (0.01)")
    pc.add_argument("--lpips-tol", type=float, default=2e-3, help="absolute (default 2e-3)")
    pc.add_argument("--lpips-png-tol", type=float, default=1e-5, help="absolute, lpips.py on its own PNGs (1e-5)")
    a = p.parse_args(argv)
    {"prepare": prepare, "official": official, "compare": compare}[a.cmd](a)


if __name__ == "__main__":
    main()
