"""Tests of the exporters (run: /usr/bin/python3 -m unittest discover -s export/tests -t .).

Three kinds of test:

- Export round trips: every exporter with --random-init at a small config;
  the exporter itself runs the ONNX file through ``munit-eval forward`` and
  compares it with PyTorch (max diff <= 1e-3 of each output's scale, else
  exit 1); the test then
  checks ``munit-eval inspect --json`` reports contract_ok.
- State-dict loading: checkpoints built with the official key names, written
  out by hand below from the official module trees (NVlabs/MUNIT networks.py,
  junyanz/pytorch-CycleGAN-and-pix2pix models/networks.py, junyanz/BicycleGAN
  models/networks.py, the lpips package's weight files, torchvision's
  Inception3), loaded strictly: every key used, none missing; a missing or an
  unknown key is an error (exit 2).
- Semantics: AdaIN, LayerNorm and the grey conversion against independent
  formulas (F.batch_norm as the official AdaIN computes it, PIL's
  convert('L')), the LPIPS distance from our embeddings against lpips.py's
  formula, and (when ../shared/parity exists) our PyTorch networks with the
  reference models' weights against the reference PyTorch outputs.
- FID Inception: the weights' key layout (torchvision's Inception3 with 1008
  classes, as pytorch-fid builds it), the TF pools, the TF1 resize against an
  independent formula, and the FID of ONNX features against the FID of
  PyTorch features (export.fid_parity compares with pytorch-fid's and
  torch-fidelity's own code when their sources are at hand).
- Test-time noise: MaskedDropout against F.dropout, every --stochastic
  export against PyTorch with identical masks and noise (1e-4), the declared
  munit_eval.noise, CycleGAN* checkpoints with noise channels.

munit-eval is found through $MUNIT_EVAL, bin/munit-eval or PATH; when none is
there and ``go`` is, it is built into a temporary folder.
"""

import contextlib
import io
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import numpy as np
import torch
import torch.nn.functional as F

from export import bicyclegan, classifier, common, cyclegan, fid_inception, lpips, munit, stargan_v2, unit

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


def run_exporter(mod, argv):
    """Runs mod.main(argv) with munit-eval verification; returns (exit code,
    captured stdout+stderr). Exit code 0 on success, as common.run_main."""
    buf = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            mod.main(list(argv) + ["--munit-eval", BINARY])
        except common.ExportError as e:
            print("export: %s" % e)
            code = 2
        except common.VerifyError as e:
            print("export: verification failed: %s" % e)
            code = 1
    return code, buf.getvalue()


def inspect_json(path):
    """munit-eval inspect --json PATH's document, also when the command
    exits non-zero because the contract is not satisfied (it still prints
    the document)."""
    r = subprocess.run([BINARY, "inspect", "--json", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        return json.loads(r.stdout)
    except ValueError:
        raise AssertionError("munit-eval inspect %s exited %d: %s" % (path, r.returncode, r.stderr.strip()))


def max_diff_printed(log):
    """The 'max scaled diff X' figures the exporter printed."""
    return [float(l.split()[3]) for l in log.splitlines() if l.startswith("max scaled diff")]


def write_yaml(path, gen, input_dim_a=3, input_dim_b=3):
    import yaml
    with open(path, "w") as f:
        yaml.safe_dump({"gen": gen, "input_dim_a": input_dim_a, "input_dim_b": input_dim_b}, f)


MUNIT_SMALL = dict(dim=8, mlp_dim=32, style_dim=8, activ="relu", n_downsample=2, n_res=2, pad_type="reflect")
UNIT_SMALL = dict(dim=8, activ="relu", n_downsample=2, n_res=2, pad_type="reflect")


class ExportCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="export-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def export_ok(self, mod, argv, onnx_paths, role, want=None):
        """Exports, asserts exit 0 and a printed diff <= 1e-3, then checks
        each file with munit-eval inspect: contract_ok, the role and the
        metadata items in want."""
        code, log = run_exporter(mod, argv)
        self.assertEqual(code, 0, log)
        diffs = max_diff_printed(log)
        self.assertTrue(diffs, "no verification figure printed:\n" + log)
        for d in diffs:
            self.assertLessEqual(d, 1e-3, log)
        for p, r in zip(onnx_paths, role if isinstance(role, list) else [role]):
            info = inspect_json(p)
            # Until model/ reads munit_eval.noise, inspect reports the declared
            # noise inputs as unexpected; every other problem still fails.
            noise = [n["input"] for n in json.loads(info["metadata"].get(common.META_NOISE, "[]"))]
            problems = [q for q in info["problems"] or []
                        if not any('unexpected input "%s"' % n in q for n in noise)]
            self.assertTrue(info["contract_ok"] or not problems, "%s: %s" % (p, info["problems"]))
            self.assertEqual(info["role"], r)
            for k, v in (want or {}).items():
                self.assertEqual(info["metadata"].get(k), v, "%s metadata %s" % (p, k))
        return log


# ---------------------------------------------------------------------------
# Round trips at small configs
# ---------------------------------------------------------------------------

class TestRoundTrips(ExportCase):
    def test_munit_single_graph(self):
        cfg = self.path("munit.yaml")
        write_yaml(cfg, MUNIT_SMALL)
        out = self.path("munit.onnx")
        self.export_ok(munit, ["--random-init", "--config", cfg, "--out", out], [out], "generator",
                       {"munit_eval.method": "MUNIT", "munit_eval.latent_dim": "8"})

    def test_munit_two_stage_b2a(self):
        cfg = self.path("munit.yaml")
        write_yaml(cfg, dict(MUNIT_SMALL, activ="lrelu", pad_type="zero", n_res=1))
        out = self.path("m.onnx")
        self.export_ok(munit, ["--random-init", "--config", cfg, "--out", out, "--two-stage", "--direction", "b2a"],
                       [self.path("m.content_encoder.onnx"), self.path("m.decoder.onnx")],
                       ["content_encoder", "decoder"], {"munit_eval.method": "MUNIT"})

    def test_munit_two_stage_style_encoder(self):
        # The style encoder of the target domain, also when it is one-channel.
        cfg = self.path("munit.yaml")
        write_yaml(cfg, MUNIT_SMALL, input_dim_b=1)
        out = self.path("m.onnx")
        self.export_ok(munit, ["--random-init", "--config", cfg, "--out", out, "--two-stage", "--style-encoder"],
                       [self.path("m.content_encoder.onnx"), self.path("m.decoder.onnx"),
                        self.path("m.style_encoder.onnx")],
                       ["content_encoder", "decoder", "style_encoder"],
                       {"munit_eval.method": "MUNIT", "munit_eval.latent_dim": "8"})

    def test_munit_one_channel_source(self):
        # input_dim_a 1: the grey conversion is inside the graph, the input stays [N,3,H,W].
        cfg = self.path("munit.yaml")
        write_yaml(cfg, MUNIT_SMALL, input_dim_a=1)
        for d in ("a2b", "b2a"):
            out = self.path("munit_%s.onnx" % d)
            self.export_ok(munit, ["--random-init", "--config", cfg, "--out", out, "--direction", d], [out],
                           "generator")

    def test_unit(self):
        cfg = self.path("unit.yaml")
        write_yaml(cfg, UNIT_SMALL)
        out = self.path("unit.onnx")
        self.export_ok(unit, ["--random-init", "--config", cfg, "--out", out], [out], "generator",
                       {"munit_eval.method": "UNIT", "munit_eval.latent_dim": "0"})

    def test_cyclegan(self):
        out = self.path("cyclegan.onnx")
        self.export_ok(cyclegan, ["--random-init", "--ngf", "8", "--out", out], [out], "generator",
                       {"munit_eval.method": "CycleGAN", "munit_eval.latent_dim": "0"})

    def test_bicyclegan_all_and_input(self):
        for where in ("all", "input"):
            out = self.path("bicyclegan_%s.onnx" % where)
            self.export_ok(bicyclegan, ["--random-init", "--netG", "unet_128", "--ngf", "4", "--input-nc", "1",
                                        "--where-add", where, "--out", out], [out], "generator",
                           {"munit_eval.method": "BicycleGAN", "munit_eval.latent_dim": "8"})

    def test_lpips_nets_and_versions(self):
        for net, version in (("alex", "0.1"), ("squeeze", "0.1"), ("alex", "0.0"), ("vgg", "0.1")):
            out = self.path("lpips_%s_%s.onnx" % (net, version))
            self.export_ok(lpips, ["--random-init", "--net", net, "--version", version, "--verify-size", "48",
                                   "--out", out], [out], "lpips",
                           {"munit_eval.lpips_net": net, "munit_eval.lpips_version": version})

    def test_classifier_full_inception(self):
        out = self.path("classifier.onnx")
        self.export_ok(classifier, ["--random-init", "--classes", "red,green,blue,yellow", "--out", out], [out],
                       "classifier", {"munit_eval.classes": "red,green,blue,yellow"})


# ---------------------------------------------------------------------------
# Official key names, loaded strictly
# ---------------------------------------------------------------------------

def munit_official_keys(input_dim=3, dim=4, style_dim=2, mlp_dim=6):
    """AdaINGen's state dict keys and shapes at gen {dim 4, style_dim 2,
    mlp_dim 6, n_downsample 1, n_res 1}, written out from NVlabs/MUNIT
    networks.py (HEAD a82e222):

    enc_style = StyleEncoder(4 downsamplings): model.0 7x7 conv (input->dim),
      model.1, model.2 4x4 convs doubling, model.3, model.4 4x4 convs keeping
      4*dim, model.5 AdaptiveAvgPool2d, model.6 nn.Conv2d(4*dim, style_dim, 1).
    enc_content = ContentEncoder: model.0 7x7 conv, model.1 4x4 conv to 2*dim,
      model.2 = ResBlocks(model.0 = ResBlock(model.0, model.1 Conv2dBlocks)).
    dec = Decoder: model.0 ResBlocks (AdaIN; each AdaIN layer registers dummy
      running_mean/running_var buffers, saved in every checkpoint),
      model.1 Upsample, model.2 5x5 conv + LayerNorm (gamma, beta),
      model.3 7x7 conv + tanh.
    mlp = MLP: model.0 fc style_dim->mlp_dim, model.1 fc mlp_dim->mlp_dim,
      model.2 fc mlp_dim -> 2 AdaIN layers * 2 * (2*dim).
    """
    d2, d4 = 2 * dim, 4 * dim
    k = {}

    def conv(name, cout, cin, ks):
        k[name + ".weight"] = (cout, cin, ks, ks)
        k[name + ".bias"] = (cout,)

    conv("enc_style.model.0.conv", dim, input_dim, 7)
    conv("enc_style.model.1.conv", d2, dim, 4)
    conv("enc_style.model.2.conv", d4, d2, 4)
    conv("enc_style.model.3.conv", d4, d4, 4)
    conv("enc_style.model.4.conv", d4, d4, 4)
    conv("enc_style.model.6", style_dim, d4, 1)
    conv("enc_content.model.0.conv", dim, input_dim, 7)
    conv("enc_content.model.1.conv", d2, dim, 4)
    conv("enc_content.model.2.model.0.model.0.conv", d2, d2, 3)
    conv("enc_content.model.2.model.0.model.1.conv", d2, d2, 3)
    for j in (0, 1):
        conv("dec.model.0.model.0.model.%d.conv" % j, d2, d2, 3)
        k["dec.model.0.model.0.model.%d.norm.running_mean" % j] = (d2,)
        k["dec.model.0.model.0.model.%d.norm.running_var" % j] = (d2,)
    conv("dec.model.2.conv", dim, d2, 5)
    k["dec.model.2.norm.gamma"] = (dim,)
    k["dec.model.2.norm.beta"] = (dim,)
    conv("dec.model.3.conv", input_dim, dim, 7)
    k["mlp.model.0.fc.weight"] = (mlp_dim, style_dim)
    k["mlp.model.0.fc.bias"] = (mlp_dim,)
    k["mlp.model.1.fc.weight"] = (mlp_dim, mlp_dim)
    k["mlp.model.1.fc.bias"] = (mlp_dim,)
    k["mlp.model.2.fc.weight"] = (2 * 2 * d2, mlp_dim)
    k["mlp.model.2.fc.bias"] = (2 * 2 * d2,)
    return k


# PyTorch 0.4-era MUNIT checkpoints: running statistics of the content
# encoder's InstanceNorm layers (pytorch03_to_pytorch04 in utils.py drops them).
MUNIT_04_EXTRA = {"enc_content.model.0.norm": 4, "enc_content.model.1.norm": 8,
                  "enc_content.model.2.model.0.model.0.norm": 8, "enc_content.model.2.model.0.model.1.norm": 8}


def cyclegan_official_keys(ngf=2, n_blocks=9, input_nc=3, output_nc=3):
    """ResnetGenerator (resnet_9blocks, norm instance, no dropout) keys from
    pytorch-CycleGAN-and-pix2pix models/networks.py: model.0 ReflectionPad2d,
    model.1 7x7 conv (bias: instance norm), model.2 norm, model.3 ReLU,
    model.4 / model.7 stride-2 3x3 convs, model.10 ... model.18 ResnetBlocks
    (conv_block.1 and conv_block.5 3x3 convs), model.19 / model.22
    ConvTranspose2d (weight [in, out, 3, 3]), model.25 pad, model.26 7x7 conv."""
    k = {}

    def conv(name, shape):
        k[name + ".weight"] = shape
        k[name + ".bias"] = (shape[1] if name in ("model.19", "model.22") else shape[0],)

    conv("model.1", (ngf, input_nc, 7, 7))
    conv("model.4", (2 * ngf, ngf, 3, 3))
    conv("model.7", (4 * ngf, 2 * ngf, 3, 3))
    for b in range(10, 10 + n_blocks):
        conv("model.%d.conv_block.1" % b, (4 * ngf, 4 * ngf, 3, 3))
        conv("model.%d.conv_block.5" % b, (4 * ngf, 4 * ngf, 3, 3))
    conv("model.19", (4 * ngf, 2 * ngf, 3, 3))
    conv("model.22", (2 * ngf, ngf, 3, 3))
    conv("model.26", (output_nc, ngf, 7, 7))
    return k


def bicyclegan_official_keys(ngf=2, nz=8, input_nc=1, output_nc=3):
    """G_Unet_add_all, unet_128 (7 levels), upsample basic, norm instance, from
    junyanz/BicycleGAN models/networks.py: nested UnetBlock_with_z, outermost
    ``model``, then ``.submodule`` per level; the down conv is down.0 in the
    outermost block (down = [conv]) and down.1 elsewhere (down = [LeakyReLU,
    conv, norm]); the up conv (ConvTranspose2d, weight [in, out, 4, 4]) is
    up.1 (up = [ReLU, upconv, ...]). Each down conv takes nz extra channels.
    Levels, outermost first: (input_nc, output_nc, ngf), (ngf, ngf, 2ngf),
    (2ngf, 2ngf, 4ngf), (4ngf, 4ngf, 8ngf), then 8ngf throughout: one
    (num_downs - 6) block, the block above the innermost, the innermost
    (whose up conv takes inner_nc, not 2*inner_nc)."""
    levels = [(input_nc, output_nc, ngf), (ngf, ngf, 2 * ngf), (2 * ngf, 2 * ngf, 4 * ngf),
              (4 * ngf, 4 * ngf, 8 * ngf), (8 * ngf, 8 * ngf, 8 * ngf), (8 * ngf, 8 * ngf, 8 * ngf),
              (8 * ngf, 8 * ngf, 8 * ngf)]
    k = {}
    for i, (cin, outer, inner) in enumerate(levels):
        pre = "model" + ".submodule" * i
        dn = "down.0" if i == 0 else "down.1"
        k["%s.%s.weight" % (pre, dn)] = (inner, cin + nz, 4, 4)
        k["%s.%s.bias" % (pre, dn)] = (inner,)
        up_in = inner if i == len(levels) - 1 else 2 * inner
        k["%s.up.1.weight" % pre] = (up_in, outer, 4, 4)
        k["%s.up.1.bias" % pre] = (outer,)
    return k


def random_state(keys, seed):
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for name, shape in keys.items():
        if name.endswith("running_var") or name.endswith("gamma"):
            sd[name] = 1.0 + 0.1 * torch.rand(shape, generator=g)
        elif name.endswith("running_mean") or name.endswith(".bias") or name.endswith("beta"):
            sd[name] = 0.05 * torch.randn(shape, generator=g)
        else:
            fan_in = int(np.prod(shape[1:]))
            sd[name] = torch.randn(shape, generator=g) / np.sqrt(fan_in)
    return sd


class TestOfficialKeys(ExportCase):
    def test_munit_checkpoint_with_04_buffers(self):
        cfg = self.path("munit.yaml")
        write_yaml(cfg, dict(dim=4, mlp_dim=6, style_dim=2, activ="relu", n_downsample=1, n_res=1,
                             pad_type="reflect"))
        keys = munit_official_keys()
        ck = {}
        for i, part in enumerate(("a", "b")):
            sd = random_state(keys, i)
            for m, c in MUNIT_04_EXTRA.items():
                sd[m + ".running_mean"] = torch.zeros(c)
                sd[m + ".running_var"] = torch.ones(c)
            ck[part] = sd
        path = self.path("gen_00001000.pt")
        torch.save(ck, path)
        out = self.path("m.onnx")
        log = self.export_ok(munit, ["--checkpoint", path, "--config", cfg, "--out", out, "--verify-size", "16"],
                             [out], "generator")
        # Per generator: 2 AdaIN layers x 2 dummy buffers + 4 InstanceNorm layers x 2 running stats.
        self.assertIn("['a']: ignored 12 instance-norm running-stat keys", log)
        self.assertIn("['b']: ignored 12 instance-norm running-stat keys", log)
        # The model's own keys are exactly the official ones.
        tiny = dict(dim=4, mlp_dim=6, style_dim=2, activ="relu", n_downsample=1, n_res=1, pad_type="reflect")
        self.assertEqual(set(munit.AdaINGen(3, tiny).state_dict()), {k for k in keys if "running" not in k})

    def test_munit_missing_and_unknown_keys_fail(self):
        cfg = self.path("munit.yaml")
        write_yaml(cfg, dict(dim=4, mlp_dim=6, style_dim=2, activ="relu", n_downsample=1, n_res=1,
                             pad_type="reflect"))
        keys = munit_official_keys()
        for mutate, want in ((lambda sd: sd.pop("mlp.model.2.fc.bias"), "missing 1 keys (mlp.model.2.fc.bias)"),
                             (lambda sd: sd.__setitem__("dec.extra.weight", torch.zeros(1)),
                              "unexpected 1 keys (dec.extra.weight)"),
                             (lambda sd: sd.__setitem__("mlp.model.0.fc.weight", torch.zeros(6, 3)),
                              "mlp.model.0.fc.weight has shape [6, 3]")):
            ck = {"a": random_state(keys, 0), "b": random_state(keys, 1)}
            mutate(ck["b"])
            path = self.path("bad.pt")
            torch.save(ck, path)
            code, log = run_exporter(munit, ["--checkpoint", path, "--config", cfg, "--out", self.path("x.onnx")])
            self.assertEqual(code, 2, log)
            self.assertIn(want, log)
            self.assertIn("state dict 'b'", log)

    def test_stargan_v2_checkpoint_errors(self):
        # CheckpointIO's dict with a network missing, a domain count that
        # contradicts the checkpoint, and w_hpf > 0: one clear line each.
        nets = {"generator": stargan_v2.Generator(32, 64), "mapping_network": stargan_v2.MappingNetwork(16, 64, 3),
                "style_encoder": stargan_v2.StyleEncoder(32, 64, 3)}
        full = self.path("000001_nets_ema.ckpt")
        torch.save({k: v.state_dict() for k, v in nets.items()}, full)
        part = self.path("part.ckpt")
        torch.save({k: nets[k].state_dict() for k in ("generator", "style_encoder")}, part)
        out = ["--img-size", "32", "--out", self.path("sg.onnx"), "--no-verify"]
        for argv, want in ((["--checkpoint", part, "--num-domains", "3"], "lacks the network mapping_network"),
                           (["--checkpoint", full, "--num-domains", "2"], "has 3 domain heads, but --num-domains is 2"),
                           (["--checkpoint", full, "--num-domains", "3", "--w-hpf", "1"], "w_hpf > 0"),
                           (["--checkpoint", full, "--num-domains", "3", "--domains", "cat,dog"], "want 3 distinct")):
            code, log = run_exporter(stargan_v2, argv + out)
            self.assertEqual(code, 2, log)
            self.assertIn(want, log)

    def test_unit_checkpoint(self):
        """VAEGen: enc = ContentEncoder (keys enc.model...), dec = Decoder with
        instance-norm residual blocks (no AdaIN buffers, no MLP)."""
        cfg = self.path("unit.yaml")
        write_yaml(cfg, dict(dim=4, activ="relu", n_downsample=1, n_res=1, pad_type="reflect"))
        keys = {k.replace("enc_content.", "enc."): v for k, v in munit_official_keys().items()
                if k.startswith(("enc_content.", "dec.")) and "running" not in k}
        self.assertIn("enc.model.2.model.0.model.1.conv.weight", keys)
        ck = {"a": random_state(keys, 0), "b": random_state(keys, 1)}
        path = self.path("gen_unit.pt")
        torch.save(ck, path)
        out = self.path("u.onnx")
        self.export_ok(unit, ["--checkpoint", path, "--config", cfg, "--out", out, "--verify-size", "16"], [out],
                       "generator")

    def test_cyclegan_checkpoint(self):
        sd = random_state(cyclegan_official_keys(), 3)
        # An old checkpoint trained with track_running_stats=True: stats are ignored.
        sd["model.2.running_mean"] = torch.zeros(2)
        sd["model.2.running_var"] = torch.ones(2)
        path = self.path("latest_net_G_A.pth")
        torch.save(sd, path)
        out = self.path("c.onnx")
        log = self.export_ok(cyclegan, ["--checkpoint", path, "--ngf", "2", "--out", out], [out], "generator")
        self.assertIn("ignored 2 instance-norm running-stat keys", log)
        self.assertEqual(set(cyclegan.ResnetGenerator(3, 3, 2).state_dict()), set(cyclegan_official_keys()))

    def test_bicyclegan_checkpoint(self):
        keys = bicyclegan_official_keys()
        path = self.path("latest_net_G.pth")
        torch.save(random_state(keys, 4), path)
        out = self.path("b.onnx")
        self.export_ok(bicyclegan, ["--checkpoint", path, "--netG", "unet_128", "--ngf", "2", "--input-nc", "1",
                                    "--out", out], [out], "generator")

    def test_lpips_weight_files(self):
        """Trunk: torchvision's alexnet state dict (features.N.*, plus
        classifier.* which is ignored). Lin: the lpips package's
        weights/v0.1/alex.pth keys lin0.model.1.weight ... [1, C, 1, 1]."""
        import torchvision
        torch.manual_seed(5)
        trunk = self.path("alexnet.pth")
        torch.save(torchvision.models.alexnet().state_dict(), trunk)
        lin = self.path("alex.pth")
        g = torch.Generator().manual_seed(6)
        torch.save({"lin%d.model.1.weight" % i: torch.rand(1, c, 1, 1, generator=g)
                    for i, c in enumerate([64, 192, 384, 256, 256])}, lin)
        out = self.path("l.onnx")
        self.export_ok(lpips, ["--net", "alex", "--trunk-weights", trunk, "--lin-weights", lin, "--out", out,
                               "--verify-size", "48"], [out], "lpips")
        bad = self.path("bad.pth")
        torch.save({"lin%d.model.1.weight" % i: -torch.ones(1, c, 1, 1)
                    for i, c in enumerate([64, 192, 384, 256, 256])}, bad)
        code, log = run_exporter(lpips, ["--net", "alex", "--trunk-weights", trunk, "--lin-weights", bad,
                                         "--out", out])
        self.assertEqual(code, 2, log)
        self.assertIn("negative", log)

    def test_classifier_state_dict(self):
        """MUNIT's load_inception: torchvision inception_v3 with AuxLogits
        (1000 classes) and fc replaced by K classes. Loaded without export
        (the full export is covered by TestRoundTrips)."""
        import torchvision
        torch.manual_seed(7)
        m = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False)
        m.fc = torch.nn.Linear(2048, 3)
        sd = m.state_dict()
        self.assertIn("AuxLogits.fc.weight", sd)
        net = classifier.inception(3, False)
        dropped = common.load_strict(net, sd, "inception.pth", ignore=lambda k: k.startswith("AuxLogits."))
        self.assertTrue(dropped and all(k.startswith("AuxLogits.") for k in dropped))
        for k, v in net.state_dict().items():
            self.assertTrue(torch.equal(v, sd[k]), k)


# ---------------------------------------------------------------------------
# Semantics against independent formulas
# ---------------------------------------------------------------------------

class TestTolerance(unittest.TestCase):
    def test_tol_is_relative_to_the_output_scale(self):
        # A network with activations near 100 and float32 rounding of 0.0096
        # passes the default 1e-3 (it failed the absolute bound while its FID
        # matched to 2.5e-6); an image output in [-1, 1] keeps the absolute
        # bound; NaN fails whatever the scale.
        rng = np.random.default_rng(0)
        big = (rng.standard_normal((2, 64)) * 40).astype(np.float32)
        big[0, 0] = 100
        img = np.tanh(rng.standard_normal((1, 3, 4, 4))).astype(np.float32)
        with contextlib.redirect_stdout(io.StringIO()):
            d = common.max_abs_diff({"features": big}, {"features": big + np.float32(0.0096)}, "case")
            self.assertLessEqual(d, common.DEFAULT_TOL)
            self.assertAlmostEqual(d, 0.0096 / 100, delta=1e-6)
            self.assertGreater(common.max_abs_diff({"image": img}, {"image": img + np.float32(0.0096)}, "case"),
                               common.DEFAULT_TOL)
            bad = big.copy()
            bad[1, 1] = np.nan
            with self.assertRaises(common.VerifyError):
                common.max_abs_diff({"features": big}, {"features": bad}, "case")


class TestSemantics(unittest.TestCase):
    def test_adain_matches_official_batch_norm_form(self):
        # MUNIT's AdaptiveInstanceNorm2d: F.batch_norm(training=True) on the
        # [1, N*C, H, W] view with weight/bias of length N*C, eps 1e-5.
        g = torch.Generator().manual_seed(0)
        x = torch.randn(3, 5, 7, 6, generator=g) * 3 + 1
        w, b = torch.randn(3, 5, generator=g), torch.randn(3, 5, generator=g)
        want = F.batch_norm(x.reshape(1, 15, 7, 6), torch.zeros(15), torch.ones(15), w.reshape(-1), b.reshape(-1),
                            True, 0.1, 1e-5).reshape(3, 5, 7, 6)
        got = munit.AdaIN(5)(x, w, b)
        self.assertLess(float((got - want).abs().max()), 1e-5)

    def test_adain_params_bias_then_weight(self):
        # With the weight half zero, every AdaIN output is its bias: the first
        # C values of each layer's slice.
        dec = munit.Decoder(0, 1, 4, 3, "adain", "relu", "reflect")
        layers = dec.adain_layers()
        self.assertEqual(len(layers), 2)
        params = torch.zeros(1, 16)
        params[0, 0:4] = torch.tensor([1.0, 2.0, 3.0, 4.0])   # layer 0 bias
        params[0, 8:12] = torch.tensor([5.0, 6.0, 7.0, 8.0])  # layer 1 bias
        seen = []
        for m in layers:
            m.register_forward_hook(lambda mod, inp, out: seen.append(out.detach()))
        dec(torch.randn(1, 4, 5, 5), params)
        for out, want in zip(seen, ([1, 2, 3, 4], [5, 6, 7, 8])):
            self.assertTrue(torch.allclose(out[0, :, 2, 2], torch.tensor(want, dtype=torch.float32)))

    def test_layer_norm_official_formula(self):
        g = torch.Generator().manual_seed(1)
        x = torch.randn(2, 3, 4, 5, generator=g)
        ln = munit.LayerNorm(3)
        with torch.no_grad():
            ln.gamma.copy_(torch.tensor([1.0, 2.0, 0.5]))
            ln.beta.copy_(torch.tensor([0.0, -1.0, 1.0]))
        got = ln(x)
        for n in range(2):
            v = x[n].double()
            mean, std = v.mean(), v.std()  # unbiased, over C*H*W
            want = (v - mean) / (std + 1e-5) * ln.gamma.double().view(3, 1, 1) + ln.beta.double().view(3, 1, 1)
            self.assertLess(float((got[n].double() - want).abs().max()), 1e-5)

    def test_grey_matches_pil(self):
        from PIL import Image
        rng = np.random.default_rng(2)
        rgb = rng.integers(0, 256, size=(17, 23, 3), dtype=np.uint8)
        rgb[0, :3] = [[255, 255, 255], [0, 0, 0], [128, 64, 32]]
        want = np.asarray(Image.fromarray(rgb, "RGB").convert("L")).astype(np.float32) / np.float32(127.5) - 1
        x = torch.from_numpy(rgb.transpose(2, 0, 1)[None].astype(np.float32) / np.float32(127.5) - 1)
        got = common.GreyITU601()(x)[0, 0].numpy()
        self.assertEqual(float(np.abs(got - want).max()), 0.0)

    def test_lpips_distance_matches_lpips_formula(self):
        # lpips.py: d = sum_l spatial_average(lin_l((n(f_l(x)) - n(f_l(y)))^2)),
        # n(f) = f / (sqrt(sum_c f^2) + 1e-10), lin_l a 1x1 conv without bias.
        torch.manual_seed(3)
        g = torch.Generator().manual_seed(4)
        lin = [torch.rand(1, c, 1, 1, generator=g) for c in lpips.CHANNELS["squeeze"]]
        m = lpips.LPIPSEmbed("squeeze", "0.1", lin).eval()
        x, y = torch.rand(2, 3, 40, 48, generator=g) * 2 - 1, torch.rand(2, 3, 40, 48, generator=g) * 2 - 1
        with torch.no_grad():
            ex, ey = m(x), m(y)
            got = sum(((a - b) ** 2).sum(1).mean((1, 2)) for a, b in zip(ex, ey))
            xs, ys = (x - m.shift) / m.scale, (y - m.shift) / m.scale
            want = torch.zeros(2)
            fx, fy = xs, ys
            for i, layer in enumerate(m.features[:13]):
                fx, fy = layer(fx).clone(), layer(fy).clone()
                if i in lpips.TAPS["squeeze"]:
                    k = lpips.TAPS["squeeze"].index(i)
                    nx = fx / (torch.sqrt((fx ** 2).sum(1, keepdim=True)) + 1e-10)
                    ny = fy / (torch.sqrt((fy ** 2).sum(1, keepdim=True)) + 1e-10)
                    want += F.conv2d((nx - ny) ** 2, lin[k]).mean((1, 2, 3))
        self.assertLess(float((got - want).abs().max()), 1e-6)


# ---------------------------------------------------------------------------
# Parity with the reference fixtures (../shared/parity), when present
# ---------------------------------------------------------------------------

PARITY = os.path.join(os.path.dirname(common.REPO_ROOT), "shared", "parity")


def read_json(path):
    with open(path) as f:
        return json.load(f)


def onnx_weights(path):
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    return m, {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}


@unittest.skipUnless(os.path.isdir(PARITY), "reference fixtures ../shared/parity absent (they live beside the repository, outside it)")
class TestParity(unittest.TestCase):
    """Our PyTorch networks with the reference models' weights reproduce the
    reference PyTorch outputs (computed with the official code). The
    reference ONNX files hold the weights; the exporter that wrote them merged
    identical initializers, so a parameter absent by name must be a bias that
    equals a present one; with the references' inits (kaiming / normal with
    zero biases) every present bias is zero, which the test checks."""

    def load_params(self, module, weights, rename, ln_consts=None):
        sd = module.state_dict()
        new = {}
        for k in sd:
            src = rename(k)
            if src in weights:
                new[k] = torch.from_numpy(weights[src].copy())
            elif ln_consts is not None and k in ln_consts:
                new[k] = ln_consts[k]
            else:
                self.assertTrue(k.endswith(".bias"), "reference lacks %s (%s)" % (k, src))
                new[k] = torch.zeros_like(sd[k])
        for name, w in weights.items():
            if name.endswith(".bias"):
                self.assertEqual(float(np.abs(w).max()), 0.0, name)
        module.load_state_dict(new)

    def test_munit_small(self):
        refs = read_json(os.path.join(PARITY, "generator_refs.json"))["generators"]["MUNIT"]
        m, w = onnx_weights(os.path.join(PARITY, refs["onnx"]))
        gen = refs["config"]["gen"]
        src, dst = munit.AdaINGen(3, gen), munit.AdaINGen(3, gen)
        t = munit.Translator(src, dst, 3, 3).eval()
        # LayerNorm gamma/beta were folded into Mul/Add constants [1,C,1,1], in module order.
        inits = {i.name for i in m.graph.initializer}
        muls = [n.input[1] for n in m.graph.node if n.op_type == "Mul" and n.input[1] in inits
                and w[n.input[1]].ndim == 4]
        adds = [n.input[1] for n in m.graph.node if n.op_type == "Add" and n.input[1] in inits
                and w[n.input[1]].ndim == 4]
        lns = [k[:-len(".gamma")] for k in t.state_dict() if k.endswith(".gamma")]
        self.assertEqual(len(muls), len(lns))
        ln = {}
        for name, g_, b_ in zip(lns, muls, adds):
            ln[name + ".gamma"] = torch.from_numpy(w[g_].reshape(-1).copy())
            ln[name + ".beta"] = torch.from_numpy(w[b_].reshape(-1).copy())

        def rename(k):
            if k.startswith("enc."):
                return "gen_a.enc_content." + k[4:]
            return "gen_b." + k
        self.load_params(t, w, rename, ln)
        x = torch.from_numpy(np.load(os.path.join(PARITY, refs["inputs_npy"] if "inputs_npy" in refs else "npy/gen_inputs_64.npy")))
        s = torch.from_numpy(np.load(os.path.join(PARITY, refs["style_npy"])))
        want = np.load(os.path.join(PARITY, refs["torch_output_npy"]))
        with torch.no_grad():
            got = t(x, s).numpy()
        d = float(np.abs(got - want).max())
        print("\nparity MUNIT (our PyTorch vs reference PyTorch): max abs diff %.3g" % d)
        self.assertLess(d, 1e-4)

    def test_cyclegan_small(self):
        refs = read_json(os.path.join(PARITY, "generator_refs.json"))["generators"]["CycleGAN"]
        _, w = onnx_weights(os.path.join(PARITY, refs["onnx"]))
        net = cyclegan.ResnetGenerator(3, 3, refs["config"]["ngf"]).eval()
        self.load_params(net, w, lambda k: "net." + k)
        x = torch.from_numpy(np.load(os.path.join(PARITY, "npy/gen_inputs_64.npy")))
        want = np.load(os.path.join(PARITY, refs["torch_output_npy"]))
        with torch.no_grad():
            got = net(x).numpy()
        d = float(np.abs(got - want).max())
        print("\nparity CycleGAN (our PyTorch vs reference PyTorch): max abs diff %.3g" % d)
        self.assertLess(d, 1e-4)

    def test_lpips_alex_squeeze(self):
        from PIL import Image
        refs = read_json(os.path.join(PARITY, "lpips_refs.json"))
        tmp = tempfile.mkdtemp(prefix="lpips-parity-")
        try:
            for net in ("alex", "squeeze"):
                _, w = onnx_weights(os.path.join(PARITY, refs["nets"][net]["onnx"]))
                # torchvision's key names (features.N.*) from the lpips ones
                # (net.sliceK.N.*); merged zero biases are restored as zeros.
                present = {"features." + k.split(".", 2)[2]: torch.from_numpy(v.copy())
                           for k, v in w.items() if k.startswith("net.slice")}
                zero_biases = all(float(v.abs().max()) == 0 for k, v in present.items() if k.endswith(".bias"))
                last = lpips.TAPS[net][-1]
                sd = {}
                for k, v in lpips.trunk_features(net).state_dict().items():
                    if int(k.split(".")[0]) <= last:
                        fk = "features." + k
                        if fk not in present:
                            self.assertTrue(k.endswith(".bias") and zero_biases, "reference lacks %s" % fk)
                        sd[fk] = present.get(fk, torch.zeros_like(v))
                trunk = os.path.join(tmp, net + "_trunk.pth")
                torch.save(sd, trunk)
                lin = [torch.from_numpy(w["sqrt_w%d" % i].astype(np.float64) ** 2).float()
                       for i in range(len(lpips.CHANNELS[net]))]
                m = lpips.LPIPSEmbed(net, "0.1", lin).eval()
                lpips.load_trunk(m.features, trunk, net)

                def load(p):
                    a = np.asarray(Image.open(os.path.join(PARITY, p)).convert("RGB")).astype(np.float32)
                    return torch.from_numpy(a.transpose(2, 0, 1)[None] / np.float32(127.5) - 1)
                worst = 0.0
                for pair in refs["pairs"]:
                    with torch.no_grad():
                        ea, eb = m(load(pair["a"])), m(load(pair["b"]))
                    d = sum(float(((a.double() - b.double()) ** 2).sum(1).mean()) for a, b in zip(ea, eb))
                    worst = max(worst, abs(d - pair[net]["torch"]))
                print("\nparity LPIPS %s (distance vs lpips.LPIPS, %d pairs): max abs diff %.3g" % (
                    net, len(refs["pairs"]), worst))
                self.assertLess(worst, 1e-6)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()


# ---------------------------------------------------------------------------
# FID Inception (pytorch-fid / torch-fidelity)
# ---------------------------------------------------------------------------

def fid_inception_official_keys():
    """The keys of pytorch-fid's fid_inception_v3() state dict: torchvision's
    Inception3(num_classes=1008, aux_logits=False), whose patched Mixed
    blocks subclass torchvision's and add no parameters (pytorch-fid
    inception.py); torch-fidelity's FeatureExtractorInceptionV3 registers
    the same names (its MaxPool_1/2 and AvgPool hold none)."""
    import torchvision.models as tv
    net = tv.inception_v3(weights=None, aux_logits=False, init_weights=False, num_classes=1008)
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def tf1_resize_numpy(x, size):
    """TensorFlow 1.x resize_bilinear (align_corners False) written
    independently: source coordinate i * in/out, lower neighbour
    floor, upper min(floor+1, in-1), linear weights."""
    n, c, h, w = x.shape

    def taps(n_in):
        # The coordinates in float32, as TF's kernel (float in = y * scale)
        # and torch-fidelity compute them; the blend in float64.
        s = np.arange(size, dtype=np.float32) * np.float32(n_in / size)
        lo = np.floor(s).astype(int)
        return lo, np.minimum(lo + 1, n_in - 1), (s - lo.astype(np.float32)).astype(np.float64)

    ylo, yhi, dy = taps(h)
    xlo, xhi, dx = taps(w)
    x = x.astype(np.float64)
    top = x[:, :, ylo][:, :, :, xlo] * (1 - dx) + x[:, :, ylo][:, :, :, xhi] * dx
    bot = x[:, :, yhi][:, :, :, xlo] * (1 - dx) + x[:, :, yhi][:, :, :, xhi] * dx
    return top * (1 - dy[:, None]) + bot * dy[:, None]


def frechet(f1, f2, eps):
    """Frechet distance of Gaussian fits, float64, scipy's sqrtm (the
    formula of pytorch-fid's calculate_frechet_distance), both covariances
    regularised by eps*I: with a handful of images the 2048 x 2048
    covariances are singular and sqrtm is ill conditioned."""
    from scipy import linalg
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1 = np.cov(f1, rowvar=False) + eps * np.eye(f1.shape[1])
    s2 = np.cov(f2, rowvar=False) + eps * np.eye(f2.shape[1])
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2) - 2 * np.trace(linalg.sqrtm(s1 @ s2).real))


class TestFIDInception(ExportCase):
    def test_random_round_trip_and_key_layout(self):
        # Export at random init, saving the weights in pytorch-fid's layout;
        # the layout is the official one; exporting from that file loads it
        # strictly and gives the same model.
        w = self.path("pt_inception-random.pth")
        out = self.path("fid.onnx")
        self.export_ok(fid_inception, ["--random-init", "--save-random-weights", w, "--out", out], [out],
                       "classifier", {"munit_eval.feature_dim": "2048"})
        sd = torch.load(w)
        self.assertEqual({k: tuple(v.shape) for k, v in sd.items()}, fid_inception_official_keys())
        out2 = self.path("fid_tf1.onnx")
        self.export_ok(fid_inception, ["--weights", w, "--preprocess", "torch-fidelity", "--logits", "unbiased",
                                       "--out", out2], [out2], "classifier")
        info = inspect_json(out2)
        self.assertEqual(len(info["metadata"][common.META_CLASSES].split(",")), 1008)

    def test_bad_weights(self):
        keys = fid_inception_official_keys()
        sd = random_state({k: v for k, v in keys.items() if not k.endswith("num_batches_tracked")}, 5)
        sd.update({k: torch.tensor(0) for k in keys if k.endswith("num_batches_tracked")})
        del sd["Mixed_7c.branch_pool.conv.weight"]
        path = self.path("broken.pth")
        torch.save(sd, path)
        code, log = run_exporter(fid_inception, ["--weights", path, "--out", self.path("x.onnx")])
        self.assertEqual(code, 2, log)
        self.assertIn("Mixed_7c.branch_pool.conv.weight", log)
        sd = {"fc.weight": torch.zeros(1000, 2048), "fc.bias": torch.zeros(1000)}
        torch.save(sd, path)
        code, log = run_exporter(fid_inception, ["--weights", path, "--out", self.path("x.onnx")])
        self.assertEqual(code, 2, log)
        self.assertIn("export.classifier", log)

    def test_pool_patches(self):
        # The TF graph's pools: Mixed_5b..7b average without counting the
        # padding, Mixed_7c max-pools. Checked on a corner pixel, where the
        # two averages differ, against the 3x3 window computed by hand.
        x = torch.arange(16, dtype=torch.float32).view(1, 1, 4, 4)
        corner = float(x[0, 0, :2, :2].mean())
        self.assertAlmostEqual(float(fid_inception._pool_no_pad_count(x)[0, 0, 0, 0]), corner, places=6)
        net = fid_inception.fid_inception()
        self.assertTrue(net.Mixed_7c.max_pool)
        self.assertFalse(net.Mixed_7b.max_pool)
        for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"):
            self.assertIsInstance(getattr(net, name), (fid_inception.InceptionA, fid_inception.InceptionC))

    def test_tf1_resize_matches_independent_formula(self):
        rng = np.random.default_rng(3)
        for h, w in ((64, 64), (17, 300), (400, 350), (299, 299)):
            x = rng.integers(0, 256, size=(1, 2, h, w)).astype(np.float32)
            got = fid_inception.resize_tf1_bilinear(torch.from_numpy(x), 299).numpy()
            want = tf1_resize_numpy(x, 299)
            self.assertLess(float(np.abs(got - want).max()), 1e-3, (h, w))  # values in [0, 255], float32

    def test_fid_from_onnx_features_matches_torch(self):
        # FID between two small sets of images from the ONNX features
        # (munit-eval forward) equals the FID from our PyTorch module's
        # features within 1e-4 relative (covariances regularised, see
        # frechet). The random network's BatchNorm
        # statistics come from the images (not floored at 1, which makes
        # every image's features nearly equal and the FID ~1e-5), so the
        # FID is far from 0; some channels then amplify float32 rounding,
        # so the features are compared relative to their scale.
        rng = np.random.default_rng(7)
        a = [common.random_images(rng, 1, 48, 48) * 0.2 for _ in range(6)]
        b = [common.random_images(rng, 1, 48, 48) for _ in range(6)]
        import torch.nn as nn
        net = fid_inception.fid_inception()
        torch.manual_seed(0)
        common.random_init(net, 0)
        model = fid_inception.FIDClassifier(net, "pytorch-fid")
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
                m.momentum = None
        model.train()
        with torch.no_grad():
            model(torch.from_numpy(np.concatenate(a[:2] + b[:2])))
        model.eval()
        w = self.path("w.pth")
        torch.save(net.state_dict(), w)
        out = self.path("fid.onnx")
        code, log = run_exporter(fid_inception, ["--weights", w, "--out", out, "--verify-size", "48", "--tol", "0.05"])
        self.assertEqual(code, 0, log)
        feats = {}
        for name, imgs in (("a", a), ("b", b)):
            x = np.concatenate(imgs)
            with torch.no_grad():
                want = model(torch.from_numpy(x))[1].numpy().astype(np.float64)
            got = common.onnx_forward(BINARY, out, {"image": x})["features"].astype(np.float64)
            self.assertLess(float(np.abs(got - want).max()), 1e-3 * float(np.abs(want).max()))
            feats[name] = (want, got)
        eps = 1e-2 * float(np.mean(np.var(np.concatenate([feats["a"][0], feats["b"][0]]), axis=0)))
        fid_torch = frechet(feats["a"][0], feats["b"][0], eps)
        fid_onnx = frechet(feats["a"][1], feats["b"][1], eps)
        self.assertGreater(fid_torch, 1e-2)
        self.assertLess(abs(fid_onnx - fid_torch) / fid_torch, 1e-4, (fid_onnx, fid_torch))


# ---------------------------------------------------------------------------
# Test-time noise (--stochastic, --noise-input)
# ---------------------------------------------------------------------------

def noise_meta(info):
    return json.loads(info["metadata"][common.META_NOISE])


class TestStochastic(ExportCase):
    def stochastic_ok(self, mod, argv, out, want_noise):
        log = self.export_ok(mod, argv, [out], "generator")
        for d in max_diff_printed(log):
            self.assertLessEqual(d, 1e-4, log)  # identical masks and noise: PyTorch and ONNX agree to 1e-4
        info = inspect_json(out)
        specs = noise_meta(info)
        self.assertEqual(specs, want_noise)
        names = [i["name"] for i in info["inputs"]]
        for s in specs:
            self.assertIn(s["input"], names)
        return info

    def test_masked_dropout_is_pytorch_dropout(self):
        # F.dropout in training mode zeroes where its Bernoulli draw is 0 and
        # scales the rest by 1/(1-p); MaskedDropout with u >= p exactly where
        # F.dropout kept a value gives the same tensor.
        torch.manual_seed(1)
        x = torch.rand(2, 3, 5, 7) + 0.5  # no zeros, so kept values are recognisable
        y = F.dropout(x, 0.5, training=True)
        u = torch.where(y != 0, torch.full_like(x, 0.75), torch.full_like(x, 0.25))
        d = common.MaskedDropout(0.5)
        d.u = u
        self.assertTrue(torch.equal(d(x), y))
        d.u = None
        self.assertTrue(torch.equal(d(x), x))  # test-time dropout: identity

    def test_cyclegan_dropout_stochastic(self):
        out = self.path("cg.onnx")
        want = [{"input": "dropout_%d" % i, "dist": "uniform", "channels": 32, "stride": 4} for i in range(6)]
        self.stochastic_ok(cyclegan, ["--random-init", "--ngf", "8", "--netG", "resnet_6blocks", "--dropout",
                                      "--stochastic", "--out", out], out, want)

    def test_cyclegan_without_stochastic_unchanged(self):
        out = self.path("cg.onnx")
        self.export_ok(cyclegan, ["--random-init", "--ngf", "8", "--dropout", "--out", out], [out], "generator")
        info = inspect_json(out)
        self.assertEqual([i["name"] for i in info["inputs"]], ["image"])
        self.assertNotIn(common.META_NOISE, info["metadata"])
        code, log = run_exporter(cyclegan, ["--random-init", "--ngf", "8", "--stochastic", "--out", out])
        self.assertEqual(code, 2, log)  # no dropout, nothing to sample

    def test_cyclegan_star_checkpoint(self):
        # A pix2pix-repo ResnetGenerator trained with dropout on the image
        # plus 4 noise channels: model.1 takes 3+4 channels, and the dropout
        # at conv_block.4 moves the second conv to conv_block.6.
        nz, ngf = 4, 2
        keys = {}
        for k, v in cyclegan_official_keys(ngf=ngf, input_nc=3 + nz).items():
            keys[k.replace("conv_block.5", "conv_block.6")] = v
        path = self.path("latest_net_G_A.pth")
        torch.save(random_state(keys, 6), path)
        out = self.path("cgs.onnx")
        log = self.export_ok(cyclegan, ["--checkpoint", path, "--ngf", str(ngf), "--dropout", "--noise-input",
                                        str(nz), "--stochastic", "--out", out], [out], "generator",
                             {"munit_eval.method": "CycleGAN*", "munit_eval.latent_dim": "4"})
        for d in max_diff_printed(log):
            self.assertLessEqual(d, 1e-4, log)
        names = [i["name"] for i in inspect_json(out)["inputs"]]
        self.assertEqual(names[:2], ["image", "style"])
        self.assertEqual(len(noise_meta(inspect_json(out))), 9)
        code, log = run_exporter(cyclegan, ["--checkpoint", path, "--ngf", str(ngf), "--dropout", "--out", out])
        self.assertEqual(code, 2, log)  # without --noise-input model.1 does not fit
        self.assertIn("model.1.weight", log)

    def test_cyclegan_star_concatenates_z(self):
        # The network sees cat([image, z broadcast], 1).
        net = cyclegan.ResnetGenerator(3 + 2, 3, 4, n_blocks=6)
        seen = {}
        net.model[0].register_forward_hook(lambda m, i, o: seen.__setitem__("x", i[0]))
        g = cyclegan.NoiseTranslator(net, 3, 3).eval()
        img, z = torch.rand(2, 3, 8, 12) * 2 - 1, torch.randn(2, 2)
        with torch.no_grad():
            g(img, z)
        self.assertTrue(torch.equal(seen["x"][:, :3], img))
        self.assertTrue(torch.equal(seen["x"][:, 3:], z[:, :, None, None].expand(2, 2, 8, 12)))

    def test_bicyclegan_dropout_stochastic(self):
        # unet_128: the dropout blocks are the two ngf*8 blocks between the
        # innermost block and the ngf*4 block, at strides 32 and 16 (deepest
        # first, the order they run in).
        for where in ("all", "input"):
            out = self.path("bg_%s.onnx" % where)
            want = [{"input": "dropout_0", "dist": "uniform", "channels": 32, "stride": 32},
                    {"input": "dropout_1", "dist": "uniform", "channels": 32, "stride": 16}]
            self.stochastic_ok(bicyclegan, ["--random-init", "--netG", "unet_128", "--ngf", "4", "--where-add", where,
                                            "--dropout", "--stochastic", "--out", out], out, want)

    def test_unit_encoder_noise(self):
        cfg = self.path("unit.yaml")
        write_yaml(cfg, UNIT_SMALL)
        out = self.path("unit.onnx")
        want = [{"input": "encoder_noise", "dist": "normal", "channels": 32, "stride": 4}]
        self.stochastic_ok(unit, ["--random-init", "--config", cfg, "--stochastic", "--out", out], out, want)

    def test_unit_noise_is_added_to_content(self):
        # decode(content + n): with n = 0 the stochastic graph is the
        # deterministic one; with n != 0 it is dec(enc(x) + n).
        gen_a, gen_b = unit.VAEGen(3, UNIT_SMALL), unit.VAEGen(3, UNIT_SMALL)
        common.random_init(gen_a, 1)
        common.random_init(gen_b, 2)
        det = unit.Translator(gen_a, gen_b, 3, 3).eval()
        sto = unit.NoisyTranslator(gen_a, gen_b, 3, 3).eval()
        x = torch.rand(1, 3, 32, 32) * 2 - 1
        with torch.no_grad():
            h = gen_a.enc(x)
            n = torch.randn(h.shape)
            self.assertTrue(torch.equal(sto(x, torch.zeros_like(h)), det(x)))
            self.assertTrue(torch.equal(sto(x, n), gen_b.dec(h + n)))
