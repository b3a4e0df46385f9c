"""Reference-guided translation against the official code (issue 29).

MUNIT's example-guided translation: ``munit-eval translate`` with the
two-stage files and the style encoder written by ``export.munit
--two-stage --style-encoder`` from a checkpoint of NVlabs/MUNIT's own
AdaINGen (networks.py, seeded random weights), against the official
``gen_b.decode(gen_a.encode(x)[0], gen_b.encode(ref)[1])`` on the same PNG
pixels: every sample within 1 grey level, its reference the one the
manifest names.

Needs $MUNIT_EVAL_REFS/MUNIT (see refs.py) and munit-eval ($MUNIT_EVAL,
bin/munit-eval or go); skips otherwise. Prints the largest difference.
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import numpy as np
import torch
import yaml
from PIL import Image

from export import common, munit
from export.tests import refs

CONFIG = dict(dim=8, mlp_dim=32, style_dim=8, activ="relu", n_downsample=2, n_res=2, pad_type="reflect")


def binary():
    b = common.find_munit_eval("")
    if b is None:
        raise unittest.SkipTest("munit-eval not found: build it with `go build -o bin/munit-eval ./cmd/munit-eval` "
                                "or set $MUNIT_EVAL")
    return b


def write_pngs(d, n, size, seed):
    os.makedirs(d)
    rng = np.random.default_rng(seed)
    for i in range(n):
        # Smooth images (a random colour ramp plus noise), so the networks see
        # structure rather than white noise alone.
        ramp = np.linspace(0, 1, size)[None, :, None] * rng.uniform(0, 255, 3)
        px = np.clip(ramp + rng.normal(0, 40, (size, size, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(px).save(os.path.join(d, "img_%02d.png" % i))


def to_tensor(path):
    """A PNG as the contract's [1,3,H,W] in [-1,1] (v/127.5 - 1 in float32)."""
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    return torch.from_numpy(a / np.float32(127.5) - np.float32(1)).permute(2, 0, 1)[None]


def to_pixels(x):
    """The contract's output mapping: clamp((x+1)*127.5), half away from zero."""
    v = np.clip((x[0].permute(1, 2, 0).numpy().astype(np.float64) + 1) * 127.5, 0, 255)
    return np.floor(v + 0.5).astype(np.int32)


class MUNITReferenceGuided(unittest.TestCase):
    def setUp(self):
        self.nets = refs.munit_networks()
        self.bin = binary()
        self.tmp = tempfile.mkdtemp(prefix="munit-ref-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_translate_matches_official_decode_enc_style(self):
        torch.manual_seed(3)
        gen_a = self.nets.AdaINGen(3, dict(CONFIG)).eval()
        gen_b = self.nets.AdaINGen(3, dict(CONFIG)).eval()
        with torch.no_grad():
            # Default init gives style codes near 0 and AdaIN parameters
            # that hardly move with them: scale the style path so that the
            # reference visibly decides the sample.
            for name, prm in gen_b.named_parameters():
                if name.startswith(("enc_style.", "mlp.")):
                    prm.mul_(3)
        ck = os.path.join(self.tmp, "gen_00000001.pt")
        torch.save({"a": gen_a.state_dict(), "b": gen_b.state_dict()}, ck)
        cfg = os.path.join(self.tmp, "cfg.yaml")
        with open(cfg, "w") as f:
            yaml.safe_dump({"gen": CONFIG, "input_dim_a": 3, "input_dim_b": 3}, f)
        out = os.path.join(self.tmp, "m.onnx")
        munit.main(["--checkpoint", ck, "--config", cfg, "--two-stage", "--style-encoder", "--out", out,
                    "--munit-eval", self.bin])
        inputs, references = os.path.join(self.tmp, "in"), os.path.join(self.tmp, "ref")
        write_pngs(inputs, 3, 32, 1)
        write_pngs(references, 5, 32, 2)
        worst, spread, firsts = 0, 0, {}
        for order in ("sorted", "random"):
            store = os.path.join(self.tmp, "store_" + order)
            subprocess.run([self.bin, "-q", "translate", "--generator", out[:-5] + ".content_encoder.onnx",
                            "--decoder", out[:-5] + ".decoder.onnx", "--style-encoder", out[:-5] + ".style_encoder.onnx",
                            "--references", references, "--reference-order", order, "--samples-per-input", "4",
                            "--inputs", inputs, "--out", store], check=True)
            folder = os.path.join(store, "MUNIT__ref_")
            with open(os.path.join(folder, "manifest.json")) as f:
                man = json.load(f)
            self.assertEqual(man["method"], "MUNIT (ref)")
            self.assertEqual(man["references"]["order"], order)
            self.assertEqual(len(man["samples"]), 12)
            for s in man["samples"]:
                inp = man["inputs"][s["input"]]
                if order == "sorted":
                    self.assertEqual(s["reference"], "img_%02d.png" % s["k"])
                with torch.no_grad():
                    content, _ = gen_a.encode(to_tensor(os.path.join(inputs, inp["file"])))
                    _, style = gen_b.encode(to_tensor(os.path.join(references, s["reference"])))
                    want = to_pixels(gen_b.decode(content, style))
                np.testing.assert_allclose(np.asarray(s["latent"], np.float32), style.flatten().numpy(),
                                           rtol=0, atol=1e-4)
                got = np.asarray(Image.open(os.path.join(folder, inp["stem"], "%d.png" % s["k"])).convert("RGB"),
                                 dtype=np.int32)
                worst = max(worst, int(np.abs(got - want).max()))
                firsts.setdefault((order, s["input"]), got)
                # The reference decides the sample: another reference, other pixels.
                spread = max(spread, int(np.abs(got - firsts[(order, s["input"])]).max()))
        print("MUNIT reference-guided: largest difference to the official decode(content, enc_style(ref)): "
              "%d grey levels over 24 samples (samples of one input differ by up to %d)" % (worst, spread))
        self.assertLessEqual(worst, 1)
        self.assertGreater(spread, 10)


if __name__ == "__main__":
    unittest.main()


DOMAINS = "cat,dog,wild"


class StarGANv2(unittest.TestCase):
    """export.stargan_v2 from a checkpoint of the official core/model.py
    networks (seeded random weights, img_size 32, 3 domains), then
    ``translate`` latent-guided (--mapping) and reference-guided
    (--style-encoder), against the official G(x, F(z, y)) and G(x, E(ref, y))."""

    @classmethod
    def setUpClass(cls):
        cls.G, cls.F, cls.E = refs.stargan_v2_nets(32, 3, 7)
        cls.bin = binary()
        cls.tmp = tempfile.mkdtemp(prefix="stargan-v2-")
        cls.ck = os.path.join(cls.tmp, "000001_nets_ema.ckpt")
        torch.save({"generator": cls.G.state_dict(), "mapping_network": cls.F.state_dict(),
                    "style_encoder": cls.E.state_dict()}, cls.ck)
        cls.out = os.path.join(cls.tmp, "sg.onnx")
        from export import stargan_v2
        stargan_v2.main(["--checkpoint", cls.ck, "--img-size", "32", "--num-domains", "3", "--domains", DOMAINS,
                         "--out", cls.out, "--no-verify"])
        cls.inputs, cls.references = os.path.join(cls.tmp, "in"), os.path.join(cls.tmp, "ref")
        write_pngs(cls.inputs, 2, 32, 3)
        write_pngs(cls.references, 3, 32, 4)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def translate(self, store, *args, check=True):
        return subprocess.run([self.bin, "-q", "translate", "--generator", self.out[:-5] + ".generator.onnx",
                               "--inputs", self.inputs, "--out", os.path.join(self.tmp, store),
                               "--samples-per-input", "3"] + list(args),
                              check=check, capture_output=True, text=True)

    def compare(self, folder, official):
        with open(os.path.join(folder, "manifest.json")) as f:
            man = json.load(f)
        worst, spread = 0, 0
        for s in man["samples"]:
            inp = man["inputs"][s["input"]]
            with torch.no_grad():
                want = to_pixels(self.G(to_tensor(os.path.join(self.inputs, inp["file"])), official(s)))
            got = np.asarray(Image.open(os.path.join(folder, inp["stem"], "%d.png" % s["k"])).convert("RGB"),
                             dtype=np.int32)
            worst = max(worst, int(np.abs(got - want).max()))
            other = np.asarray(Image.open(os.path.join(folder, inp["stem"], "0.png")).convert("RGB"), dtype=np.int32)
            spread = max(spread, int(np.abs(got - other).max()))
        return man, worst, spread

    def test_latent_guided_matches_official(self):
        self.translate("lat", "--mapping", self.out[:-5] + ".mapping.onnx", "--target-domain", "dog")
        y = torch.tensor([1])
        man, worst, spread = self.compare(os.path.join(self.tmp, "lat", "StarGAN_v2"),
                                          lambda s: self.F(torch.tensor([s["latent"]], dtype=torch.float32), y))
        self.assertEqual(man["target_domain"], "dog")
        self.assertIn("mapping", man["models"])
        print("StarGAN v2 latent-guided: largest difference to the official G(x, F(z, y)): %d grey levels "
              "(samples of one input differ by up to %d)" % (worst, spread))
        self.assertLessEqual(worst, 1)
        self.assertGreater(spread, 10)

    def test_reference_guided_matches_official(self):
        self.translate("ref", "--style-encoder", self.out[:-5] + ".style_encoder.onnx", "--references",
                       self.references, "--target-domain", "2")
        y = torch.tensor([2])
        man, worst, spread = self.compare(
            os.path.join(self.tmp, "ref", "StarGAN_v2__ref_"),
            lambda s: self.E(to_tensor(os.path.join(self.references, s["reference"])), y))
        self.assertEqual(man["target_domain"], "wild")
        print("StarGAN v2 reference-guided: largest difference to the official G(x, E(ref, y)): %d grey levels "
              "(samples of one input differ by up to %d)" % (worst, spread))
        self.assertLessEqual(worst, 1)
        self.assertGreater(spread, 10)

    def test_translate_errors(self):
        mapping = self.out[:-5] + ".mapping.onnx"
        for args, want in (
                (["--mapping", mapping, "--target-domain", "bird"],
                 '--target-domain "bird": not a domain of %s (domains: cat, dog, wild)' % mapping),
                (["--mapping", mapping], "multi-domain model (domains: cat, dog, wild): name the target"),
                (["--style-encoder", self.out[:-5] + ".style_encoder.onnx", "--references", self.references,
                  "--target-domain", "cat", "--samples-per-input", "4"], "holds 3 images, but 4 samples per input")):
            r = self.translate("err", *args, check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(want, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
