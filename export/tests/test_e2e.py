"""End-to-end checks of issues 15 and 16 (run: bash scripts/test-export.sh -k E2E,
or /usr/bin/python3 -m unittest export.tests.test_e2e with $MUNIT_EVAL set).

- FID (issue 15): ``munit-eval fid A B`` on two plain folders of PNGs with
  the FID Inception exported by export.fid_inception (random weights in
  pytorch-fid's key layout) against pytorch-fid's computation on the same
  files with the same weights: its data path (PIL RGB, ToTensor, the
  network's bilinear resize to 299 and 2x-1), float64 statistics and its
  Frechet distance (scipy's sqrtm with the eps-offset fallback), written
  here from the formula. The same through ``--real-stats`` with the real
  folder's statistics written by numpy, and ``fid-stats`` read back by numpy.
- Test-time noise (issue 16): an official-architecture CycleGAN generator
  with dropout exported with --stochastic, fed through ``munit-eval forward``
  the uniform draws that reproduce the masks PyTorch's own nn.Dropout drew,
  against PyTorch; ``munit-eval translate --samples-per-input 4`` on it:
  different samples per input, byte-identical stores at --batch 1 and 8 and
  after a SIGKILL and a rerun. The same for UNIT's Gaussian encoder (normal
  noise input) against the official VAEGen's encode + noise + decode.

Each test prints its measured figures (docs/parity.md records them).
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from export import common, cyclegan, fid_inception, unit

BINARY = None
_TMP_BIN = None


def setUpModule():
    global BINARY, _TMP_BIN
    BINARY = common.find_munit_eval("")
    if BINARY is None and shutil.which("go"):
        _TMP_BIN = tempfile.mkdtemp(prefix="munit-eval-bin-")
        out = os.path.join(_TMP_BIN, "munit-eval")
        subprocess.run(["go", "build", "-o", out, "./cmd/munit-eval"], cwd=common.REPO_ROOT, check=True)
        BINARY = out
    if BINARY is None:
        raise unittest.SkipTest("munit-eval not found and go not available: build it with "
                                "`go build -o bin/munit-eval ./cmd/munit-eval` or set $MUNIT_EVAL")


def tearDownModule():
    if _TMP_BIN:
        shutil.rmtree(_TMP_BIN, ignore_errors=True)


def munit_eval(args, cwd):
    """Runs munit-eval with args in cwd; returns stdout, failing with its
    stderr on a non-zero exit."""
    r = subprocess.run([BINARY, "-q"] + list(args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if r.returncode != 0:
        raise AssertionError("munit-eval %s exited %d:\n%s\n%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r.stdout


def export(mod, argv):
    """Runs an exporter with munit-eval verification; fails on a non-zero
    exit. Returns the verification's largest difference."""
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            mod.main(list(argv) + ["--munit-eval", BINARY])
        except (common.ExportError, common.VerifyError) as e:
            raise AssertionError("export failed: %s\n%s" % (e, buf.getvalue()))
    diffs = [float(l.split()[3]) for l in buf.getvalue().splitlines() if l.startswith("max scaled diff")]
    return max(diffs) if diffs else None


def rel(a, b):
    return abs(a - b) / abs(b)


# ---------------------------------------------------------------------------
# FID (issue 15)
# ---------------------------------------------------------------------------

def write_pngs(d, n, seed, kind, size=64):
    """n seeded RGB PNGs of size x size: 'smooth' (an 8x8 random image
    enlarged with PIL's bilinear resize) or 'stripes' (random horizontal
    bands of colour with pixel noise): two different image populations, so
    that their FID is large against its rounding."""
    from PIL import Image
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        if kind == "smooth":
            base = rng.integers(0, 256, size=(8, 8, 3)).astype(np.uint8)
            img = Image.fromarray(base).resize((size, size), Image.BILINEAR)
        else:
            rows = np.repeat(rng.integers(0, 256, size=(size // 8, 1, 3)), 8, axis=0)
            v = np.broadcast_to(rows, (size, size, 3)) + rng.integers(-20, 21, size=(size, size, 3))
            img = Image.fromarray(np.clip(v, 0, 255).astype(np.uint8))
        img.save(os.path.join(d, "%03d.png" % i))


def png_files(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".png"))


def pytorch_fid_input(files):
    """A batch as pytorch-fid's ImagePathDataset + ToTensor make it: PIL
    RGB, HWC uint8 -> CHW float32 v/255."""
    from PIL import Image
    xs = [np.asarray(Image.open(f).convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / np.float32(255.0)
          for f in files]
    return torch.from_numpy(np.stack(xs))


def pool3(net, x01):
    """pytorch-fid's InceptionV3(output_blocks=[3], resize_input=True,
    normalize_input=True) on images in [0,1]: bilinear resize to 299x299
    (align_corners False), 2x-1, the blocks up to the global average pool;
    [N, 2048]."""
    x = F.interpolate(x01, size=(299, 299), mode="bilinear", align_corners=False)
    x = 2 * x - 1
    for name in fid_inception.TRUNK:
        x = getattr(net, name)(x)
    return torch.flatten(x, 1)


def stats(f):
    """pytorch-fid's calculate_activation_statistics on float64 features:
    the mean and np.cov(rowvar=False) (N-1)."""
    return np.mean(f, axis=0), np.cov(f, rowvar=False)


def frechet_pytorch_fid(mu1, s1, mu2, s2, eps=1e-6):
    """pytorch-fid's calculate_frechet_distance, from its formula:
    d^2 = |mu1 - mu2|^2 + tr(s1) + tr(s2) - 2 tr sqrtm(s1 s2), with scipy's
    sqrtm (disp=False); when that is not finite, sqrtm((s1 + eps I)(s2 + eps I));
    a complex result is accepted when the imaginary part of its diagonal is
    within 1e-3 of 0 (else an error) and its real part is used."""
    from scipy import linalg
    d = mu1 - mu2
    cm, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    if not np.isfinite(cm).all():
        off = eps * np.eye(s1.shape[0])
        cm = linalg.sqrtm((s1 + off).dot(s2 + off))
    if np.iscomplexobj(cm):
        if not np.allclose(np.diagonal(cm).imag, 0, atol=1e-3):
            raise ValueError("imaginary component %g" % np.max(np.abs(cm.imag)))
        cm = cm.real
    return float(d.dot(d) + np.trace(s1) + np.trace(s2) - 2 * np.trace(cm))


def frechet_symmetric(mu1, s1, mu2, s2):
    """The same distance with tr sqrt(s1 s2) = tr (A s2 A)^(1/2), A = s1^(1/2),
    from symmetric eigendecompositions (eigenvalues clipped at 0): well defined
    and accurate for singular positive semi-definite covariances, where the
    general sqrtm of the non-symmetric product is not guaranteed to be."""
    w, v = np.linalg.eigh(s1)
    a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = a @ s2 @ a
    lam = np.linalg.eigvalsh((m + m.T) / 2)
    d = mu1 - mu2
    return float(d.dot(d) + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(lam, 0, None)).sum())


def fid_of_document(doc):
    """The FID point value (the plug-in value, metrics.fid.value) of a
    results document."""
    try:
        return float(doc["metrics"]["fid"]["value"])
    except (KeyError, TypeError):
        raise AssertionError("no metrics.fid.value in %s" % json.dumps(doc)[:2000])


class TestE2EFID(unittest.TestCase):
    """Two plain folders: 20 'generated' smooth images and 20 'real' striped
    ones, 64x64. The random FID Inception (seed 0, pytorch-fid's key layout)
    takes its BatchNorm statistics from these 40 images (one batch in
    training mode, as pytorch-fid would see them): with statistics of other
    images a random network maps every image to nearly the same features
    and the FID is ~1e-5, rounding-sized. Calibrated on the images, every
    channel is standardised over them, the features are O(1) and differ
    between the populations, and the FID is of the size of the covariances'
    traces.

    What is compared and why: with 20 images per side the 2048 x 2048
    covariances have rank 19, so scipy's sqrtm of their product is the
    square root of a singular, non-symmetric matrix. The FID is still well
    defined (tr (s1^(1/2) s2 s1^(1/2))^(1/2)), and the test first checks
    that pytorch-fid's formula on these features agrees with that symmetric
    form (frechet_symmetric) to 1e-6 relative, i.e. that sqrtm is accurate
    here and the comparison means something; then munit-eval's FID against
    pytorch-fid's formula on the PyTorch features, 1e-4 relative (the
    issue's bar)."""

    N = 20

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="e2e-fid-")
        cls.gen_dir = os.path.join(cls.tmp, "generated")
        cls.real_dir = os.path.join(cls.tmp, "real")
        write_pngs(cls.gen_dir, cls.N, 1, "smooth")
        write_pngs(cls.real_dir, cls.N, 2, "stripes")
        net = fid_inception.fid_inception()
        torch.manual_seed(0)
        common.random_init(net, 0)
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
                m.momentum = None  # the running statistics are those of the one batch
        x_gen = pytorch_fid_input(png_files(cls.gen_dir))
        x_real = pytorch_fid_input(png_files(cls.real_dir))
        net.train()
        with torch.no_grad():
            pool3(net, torch.cat([x_gen, x_real]))
        net.eval()
        cls.weights = os.path.join(cls.tmp, "pt_inception-random.pth")
        torch.save(net.state_dict(), cls.weights)
        # pytorch-fid's get_activations: float32 network, float64 array.
        with torch.no_grad():
            cls.f_gen = pool3(net, x_gen).numpy().astype(np.float64)
            cls.f_real = pool3(net, x_real).numpy().astype(np.float64)
        cls.onnx = os.path.join(cls.tmp, "fid_inception.onnx")
        # The export's own check runs uniform-noise images, far from the
        # calibration images, whose features grow large: 0.05 absolute there.
        cls.export_diff = export(fid_inception, ["--weights", cls.weights, "--out", cls.onnx, "--tol", "0.05"])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def fid_cli(self, *args):
        out = munit_eval(["fid", "--classifier", self.onnx, "--json"] + list(args), self.tmp)
        doc = json.loads(out)
        return doc[0] if isinstance(doc, list) else doc

    def test_fid_two_folders_matches_pytorch_fid(self):
        mu1, s1 = stats(self.f_gen)
        mu2, s2 = stats(self.f_real)
        want = frechet_pytorch_fid(mu1, s1, mu2, s2)
        sym = frechet_symmetric(mu1, s1, mu2, s2)
        scale = np.trace(s1) + np.trace(s2)
        print("\nFID e2e: pytorch-fid formula %.10g, symmetric form %.10g (rel %.2g), tr(s1)+tr(s2) %.4g, "
              "largest feature %.3g, export diff %s" % (want, sym, rel(want, sym), scale,
                                                      np.abs(self.f_gen).max(), self.export_diff))
        self.assertGreater(want, 0.1 * scale)  # a FID far from its rounding
        self.assertLess(rel(want, sym), 1e-6)  # sqrtm is accurate on these singular covariances
        got = fid_of_document(self.fid_cli(self.gen_dir, self.real_dir))
        print("FID e2e: munit-eval fid A B %.10g, relative diff %.3g" % (got, rel(got, want)))
        self.assertLess(rel(got, want), 1e-4)

    def test_fid_against_real_stats_npz(self):
        # The real folder's statistics from the PyTorch features, written by
        # numpy as pytorch-fid writes them (--save-stats: np.savez_compressed)
        # and uncompressed (np.savez), read by --real-stats in place of the
        # real images.
        mu1, s1 = stats(self.f_gen)
        mu2, s2 = stats(self.f_real)
        want = frechet_pytorch_fid(mu1, s1, mu2, s2)
        for name, save in (("stats.npz", np.savez), ("stats_compressed.npz", np.savez_compressed)):
            path = os.path.join(self.tmp, name)
            save(path, mu=mu2, sigma=s2)
            doc = self.fid_cli(self.gen_dir, "--real-stats", path)
            got = fid_of_document(doc)
            print("\nFID e2e: munit-eval fid A --real-stats %s %.10g, pytorch-fid formula %.10g, relative diff %.3g" % (
                name, got, want, rel(got, want)))
            self.assertLess(rel(got, want), 1e-4)
            self.assertIn(name, doc["protocol"].get("real_stats", ""))

    def test_fid_stats_matches_pytorch_statistics(self):
        # munit-eval fid-stats on the real folder, read back by numpy: mu and
        # sigma equal the PyTorch features' float64 statistics within 1e-4
        # of their largest magnitude (elementwise relative differences of
        # near-zero covariances would measure only float32 rounding).
        # Measured: 5e-5 and 7e-5, float32 noise of this random network
        # (PyTorch float32 against float64 on these images: 1.6e-5, 3.4e-5).
        out = os.path.join(self.tmp, "fid_stats.npz")
        munit_eval(["fid-stats", self.real_dir, "--classifier", self.onnx, "--out", out], self.tmp)
        with np.load(out) as f:
            mu, sigma = f["mu"], f["sigma"]
        self.assertEqual(mu.dtype, np.float64)
        self.assertEqual(sigma.dtype, np.float64)
        want_mu, want_sigma = stats(self.f_real)
        self.assertEqual(mu.shape, (2048,))
        self.assertEqual(sigma.shape, (2048, 2048))
        dmu = np.abs(mu - want_mu).max() / np.abs(want_mu).max()
        dsig = np.abs(sigma - want_sigma).max() / np.abs(want_sigma).max()
        print("\nFID e2e: fid-stats vs PyTorch statistics: mu %.3g, sigma %.3g (max abs diff / max abs value)" % (
            dmu, dsig))
        self.assertLess(dmu, 1e-4)
        self.assertLess(dsig, 1e-4)
        # And the FID through those statistics is the two-folder FID.
        got = fid_of_document(self.fid_cli(self.gen_dir, "--real-stats", out))
        want = frechet_pytorch_fid(*stats(self.f_gen), want_mu, want_sigma)
        self.assertLess(rel(got, want), 1e-4)


# ---------------------------------------------------------------------------
# Test-time noise (issue 16)
# ---------------------------------------------------------------------------

def write_inputs(d, n, size, seed):
    """n seeded smooth RGB input PNGs of size x size."""
    write_pngs(d, n, seed, "smooth", size)


def store_files(root):
    """{relative path: bytes} of every file under a store folder (samples
    and manifest; the lock and temporary files of a finished run are gone)."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out


def manifest_samples(folder):
    """The number of samples folder/manifest.json lists (0 while it is
    absent; it is replaced atomically, so a read sees a whole file)."""
    try:
        with open(os.path.join(folder, "manifest.json")) as f:
            return len(json.load(f).get("samples") or [])
    except (OSError, ValueError):
        return 0


def count_pngs(root):
    n = 0
    for _, _, files in os.walk(root):
        n += sum(1 for f in files if f.endswith(".png"))
    return n


class StoreChecks(unittest.TestCase):
    """translate on a stochastic generator: K different samples per input,
    the same store at --batch 1 and --batch 8, and after a SIGKILL midway and
    a rerun."""

    K = 4

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="e2e-noise-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def translate_args(self, onnx, inputs, store, batch):
        # Relative paths from self.tmp, so that every run's manifest names
        # the same files.
        return ["translate", "--generator", onnx, "--inputs", inputs, "--out", store,
                "--samples-per-input", str(self.K), "--seed", "3", "--batch", str(batch)]

    def method_dir(self, store, method):
        return os.path.join(self.tmp, store, method)

    def check_samples_differ(self, folder, n_inputs):
        from PIL import Image
        with open(os.path.join(folder, "manifest.json")) as f:
            m = json.load(f)
        self.assertEqual(m["randomness"], "noise")
        self.assertEqual(len(m["inputs"]), n_inputs)
        self.assertEqual(len(m["samples"]), n_inputs * self.K)
        for inp in m["inputs"]:
            imgs = [np.asarray(Image.open(os.path.join(folder, inp["stem"], "%d.png" % k))) for k in range(self.K)]
            for a in range(self.K):
                for b in range(a + 1, self.K):
                    self.assertFalse(np.array_equal(imgs[a], imgs[b]), "input %s samples %d and %d are equal" % (
                        inp["stem"], a, b))
        return m

    def check_batches_and_resume(self, onnx, method, n_inputs, size):
        write_inputs(os.path.join(self.tmp, "in"), n_inputs, size, 11)
        munit_eval(self.translate_args(onnx, "in", "b1", 1), self.tmp)
        munit_eval(self.translate_args(onnx, "in", "b8", 8), self.tmp)
        b1, b8 = self.method_dir("b1", method), self.method_dir("b8", method)
        self.check_samples_differ(b1, n_inputs)
        f1, f8 = store_files(b1), store_files(b8)
        self.assertEqual(sorted(f1), sorted(f8))
        self.assertEqual(len(f1), 1 + n_inputs * self.K)
        for k in f1:
            self.assertEqual(f1[k], f8[k], "%s differs between --batch 1 and --batch 8" % k)
        # Kill and resume: SIGKILL (no clean-up) once the manifest, which a
        # run rewrites every second, lists some samples, then the same
        # command again: the rerun computes only what is missing and the
        # store is the uninterrupted run's, byte for byte. If the run ends
        # before the kill (a fast machine), the comparison still holds.
        total = n_inputs * self.K
        kd = self.method_dir("killed", method)
        cmd = [BINARY, "-q"] + self.translate_args(onnx, "in", "killed", 1)
        p = subprocess.Popen(cmd, cwd=self.tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        listed = None
        deadline = time.time() + 300
        while p.poll() is None and time.time() < deadline:
            n = manifest_samples(kd)
            if n > 0:
                p.send_signal(signal.SIGKILL)
                listed = n
                break
            time.sleep(0.01)
        p.wait()
        print("\n%s: %s; %d sample PNGs on disk" % (
            method, "killed when the manifest listed %d of %d samples" % (listed, total) if listed is not None
            else "the run finished before the kill", count_pngs(kd)))
        out = json.loads(munit_eval(self.translate_args(onnx, "in", "killed", 1) + ["--json"], self.tmp))
        if listed is not None and listed < total:
            self.assertLessEqual(out["computed"], total - listed)  # resumed: the listed samples were reused
            self.assertGreaterEqual(out["reused"], listed)
        fk = store_files(kd)
        self.assertEqual(sorted(fk), sorted(f1))
        for k in f1:
            self.assertEqual(fk[k], f1[k], "%s differs after kill and resume" % k)
        print("%s: rerun computed %d, reused %d; store byte-identical to the uninterrupted run" % (
            method, out["computed"], out["reused"]))


class TestE2ECycleGANDropout(StoreChecks):
    """The official ResnetGenerator trained with dropout (ngf 4, 6 blocks),
    exported with --dropout --stochastic."""

    NGF = 4

    def export_cyclegan(self):
        net = cyclegan.ResnetGenerator(3, 3, self.NGF, "instance", use_dropout=True, n_blocks=6)
        common.random_init(net, 5)
        ck = os.path.join(self.tmp, "latest_net_G_A.pth")
        torch.save(net.state_dict(), ck)
        onnx = os.path.join(self.tmp, "cyclegan.onnx")
        export(cyclegan, ["--checkpoint", ck, "--netG", "resnet_6blocks", "--ngf", str(self.NGF), "--dropout",
                          "--stochastic", "--out", onnx])
        return net.eval(), onnx

    def test_forward_matches_pytorch_dropout_masks(self):
        # PyTorch's own nn.Dropout (training mode, its Bernoulli draws)
        # against munit-eval forward fed uniform draws that give the same
        # masks: u = 0.75 where PyTorch kept a value, 0.25 where it dropped
        # one (dropout_i is the i-th nn.Dropout in module order, the order
        # they run in; where the input is 0 both choices give 0).
        net, onnx = self.export_cyclegan()
        info = json.loads(subprocess.run([BINARY, "inspect", "--json", onnx], stdout=subprocess.PIPE,
                                         text=True).stdout)
        specs = json.loads(info["metadata"][common.META_NOISE])
        drops = [m for m in net.modules() if isinstance(m, nn.Dropout)]
        self.assertEqual(len(specs), len(drops))
        seen = {}
        for i, d in enumerate(drops):
            d.train()
            d.register_forward_hook(lambda m, inp, out, i=i: seen.__setitem__(i, out.detach().clone()))
        rng = np.random.default_rng(2)
        worst = 0.0
        for n, h, w in ((2, 64, 64), (1, 48, 72)):
            x = common.random_images(rng, n, h, w)
            torch.manual_seed(n)
            with torch.no_grad():
                want = net(torch.from_numpy(x)).numpy()
            inputs = {"image": x}
            for i, s in enumerate(specs):
                mask = seen[i] != 0
                self.assertEqual(tuple(mask.shape), (n, s["channels"], h // s["stride"], w // s["stride"]))
                inputs[s["input"]] = np.where(mask.numpy(), 0.75, 0.25).astype(np.float32)
            got = common.onnx_forward(BINARY, onnx, inputs)["translated"]
            worst = max(worst, float(np.abs(got - want).max()))
            # The masks matter: without dropout (all kept, u = 1) the output differs.
            keep = dict(inputs, **{s["input"]: np.ones_like(inputs[s["input"]]) for s in specs})
            self.assertGreater(float(np.abs(common.onnx_forward(BINARY, onnx, keep)["translated"] - want).max()), 1e-2)
        print("\nCycleGAN dropout: munit-eval forward vs PyTorch nn.Dropout masks, max abs diff %.3g" % worst)
        self.assertLess(worst, 1e-4)

    def test_translate_samples_batches_and_resume(self):
        _, onnx = self.export_cyclegan()
        self.check_batches_and_resume(os.path.basename(onnx), "CycleGAN", 100, 128)


UNIT_SMALL = dict(dim=8, activ="relu", n_downsample=2, n_res=2, pad_type="reflect")


class TestE2EUNITEncoderNoise(StoreChecks):
    """UNIT's VAEGen pair (dim 8, 2 downsamplings), exported with
    --stochastic: a normal noise input added to the content code."""

    def export_unit(self):
        import yaml
        cfg = os.path.join(self.tmp, "unit.yaml")
        with open(cfg, "w") as f:
            yaml.safe_dump({"gen": UNIT_SMALL, "input_dim_a": 3, "input_dim_b": 3}, f)
        gen_a, gen_b = unit.VAEGen(3, UNIT_SMALL), unit.VAEGen(3, UNIT_SMALL)
        common.random_init(gen_a, 7)
        common.random_init(gen_b, 8)
        ck = os.path.join(self.tmp, "gen_00000001.pt")
        torch.save({"a": gen_a.state_dict(), "b": gen_b.state_dict()}, ck)
        onnx = os.path.join(self.tmp, "unit.onnx")
        export(unit, ["--checkpoint", ck, "--config", cfg, "--stochastic", "--out", onnx])
        return gen_a.eval(), gen_b.eval(), onnx

    def test_forward_matches_official_encode_noise_decode(self):
        # The official VAEGen: encode(x) returns (hiddens, randn of their
        # size), trainer.gen_update decodes hiddens + noise with the other
        # domain's decoder. Here the noise is drawn by torch.randn and
        # handed to munit-eval forward as encoder_noise.
        gen_a, gen_b, onnx = self.export_unit()

        def encode(gen, x):  # VAEGen.encode
            hiddens = gen.enc(x)
            return hiddens, torch.randn(hiddens.size())

        rng = np.random.default_rng(4)
        torch.manual_seed(9)
        worst = 0.0
        for n, h, w in ((2, 64, 64), (1, 48, 60)):
            x = common.random_images(rng, n, h, w)
            with torch.no_grad():
                h_a, n_a = encode(gen_a, torch.from_numpy(x))
                want = gen_b.dec(h_a + n_a).numpy()
                mean = gen_b.dec(h_a).numpy()
            self.assertEqual(tuple(n_a.shape), (n, 32, h // 4, w // 4))
            got = common.onnx_forward(BINARY, onnx, {"image": x, "encoder_noise": n_a.numpy()})["translated"]
            worst = max(worst, float(np.abs(got - want).max()))
            self.assertGreater(float(np.abs(want - mean).max()), 1e-2)  # the noise changes the output
        print("\nUNIT encoder noise: munit-eval forward vs official encode + noise + decode, max abs diff %.3g" % worst)
        self.assertLess(worst, 1e-4)

    def test_translate_samples_batches_and_resume(self):
        _, _, onnx = self.export_unit()
        self.check_batches_and_resume(os.path.basename(onnx), "UNIT", 100, 128)
