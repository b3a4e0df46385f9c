"""Shared machinery of the exporters: flags, checkpoint loading, ONNX export with
metadata, and verification of the exported file against PyTorch through
``munit-eval forward`` (the Python onnxruntime package is not assumed).

Every exporter follows the same steps:

1. build the network of the given config (our own implementation under the
   official module and parameter names);
2. load the checkpoint strictly (:func:`load_strict`): every key of the
   checkpoint is used and none of the model's is missing, except keys that are
   documented as ignorable (running statistics of InstanceNorm layers, which
   the official code never uses at test time);
3. export to ONNX opset 17 with dynamic N/H/W axes and write the
   ``munit_eval.*`` metadata (:func:`export_onnx`);
4. run PyTorch and the ONNX model on the same random inputs and print the
   largest difference per output, relative to the output's scale
   (max |onnx - torch| / max(1, max |torch|)); fail (exit 1) above ``--tol``
   (default 1e-3) (:func:`verify`).
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import torch
import torch.nn as nn

OPSET = 17
DEFAULT_TOL = 1e-3

# Metadata keys of the model contracts (docs/models.md) (the Go side reads them in model/info.go).
META_ROLE = "munit_eval.role"
META_METHOD = "munit_eval.method"
META_LATENT_DIM = "munit_eval.latent_dim"
META_CLASSES = "munit_eval.classes"
META_LPIPS_NET = "munit_eval.lpips_net"
META_LPIPS_VERSION = "munit_eval.lpips_version"
META_NOISE = "munit_eval.noise"

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ExportError(Exception):
    """A problem with the user's input (checkpoint, config, flags): printed as
    one line, exit status 2."""


class VerifyError(Exception):
    """The exported model disagrees with PyTorch (or could not be run): exit 1."""


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def base_parser(prog, description):
    """Returns an argument parser with the flags every exporter shares."""
    p = argparse.ArgumentParser(prog=prog, description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="ONNX file to write")
    p.add_argument("--random-init", action="store_true",
                   help="build a randomly initialised model of the config instead of loading a checkpoint (for tests)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed for --random-init weights and the verification inputs (default 0)")
    p.add_argument("--munit-eval", dest="munit_eval", default="",
                   help="munit-eval binary used for verification (default: $MUNIT_EVAL, bin/munit-eval, PATH)")
    p.add_argument("--no-verify", action="store_true",
                   help="skip running the ONNX model against PyTorch")
    p.add_argument("--tol", type=float, default=DEFAULT_TOL,
                   help="largest allowed difference between ONNX and PyTorch, relative to each output's scale: "
                        "max |onnx - torch| / max(1, max |torch|) (default 1e-3)")
    p.add_argument("--verify-batch", type=int, default=2, help="batch size of the verification inputs (default 2)")
    return p


def run_main(main, argv=None):
    """Runs main(argv) and turns ExportError into exit 2 and VerifyError into
    exit 1, each with one line on stderr naming the problem."""
    try:
        main(argv)
    except ExportError as e:
        print("export: %s" % e, file=sys.stderr)
        sys.exit(2)
    except VerifyError as e:
        print("export: verification failed: %s" % e, file=sys.stderr)
        sys.exit(1)


def load_yaml(path):
    """Reads a YAML config file (the official repositories' format)."""
    import yaml
    try:
        with open(path) as f:
            cfg = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        raise ExportError("config %s: %s" % (path, e))
    if not isinstance(cfg, dict):
        raise ExportError("config %s: not a YAML mapping" % path)
    return cfg


# ---------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------

def sha256_file(path):
    """Lowercase hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_checkpoint(path):
    """torch.load on the CPU, with an error that names the file."""
    try:
        return torch.load(path, map_location="cpu")
    except Exception as e:  # torch raises many kinds (pickle, zip, OSError)
        raise ExportError("checkpoint %s: cannot load: %s" % (path, e))


def state_dict_of(obj, path, what="state dict"):
    """Returns obj as a plain dict of tensors; strips a DataParallel
    ``module.`` prefix and the ``_metadata`` attribute old checkpoints carry."""
    if isinstance(obj, nn.Module):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise ExportError("checkpoint %s: %s is a %s, want a dict of tensors" % (path, what, type(obj).__name__))
    sd = {}
    for k, v in obj.items():
        if not torch.is_tensor(v):
            raise ExportError("checkpoint %s: %s entry %r is a %s, not a tensor" % (path, what, k, type(v).__name__))
        if k.startswith("module."):
            k = k[len("module."):]
        sd[k] = v
    return sd


_INSTANCE_NORM_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def instance_norm_paths(model):
    """Module paths of the model's instance-norm layers (nn.InstanceNorm2d and
    any module whose class sets ``instance_norm = True``), whose running
    statistics in a checkpoint are ignored: the official code runs them with
    per-image statistics (MUNIT at HEAD, CycleGAN and BicycleGAN with
    track_running_stats=False, MUNIT's AdaIN buffers are documented as dummies)."""
    out = set()
    for name, m in model.named_modules():
        if isinstance(m, nn.InstanceNorm2d) or getattr(m, "instance_norm", False):
            out.add(name)
    return out


def load_strict(model, sd, path, what="state dict", ignore=None):
    """Loads sd into model so that every key is used and none is missing.

    Keys that are running statistics of the model's instance-norm layers are
    dropped first (see instance_norm_paths); so are keys for which
    ignore(key) is true. Returns the sorted list of dropped keys. Raises
    ExportError listing the missing and unexpected keys and any shape mismatch.
    """
    norms = instance_norm_paths(model)
    kept, dropped = {}, []
    for k, v in sd.items():
        head, _, leaf = k.rpartition(".")
        if (leaf in _INSTANCE_NORM_BUFFERS and head in norms) or (ignore is not None and ignore(k)):
            dropped.append(k)
        else:
            kept[k] = v
    own = model.state_dict()
    missing = sorted(set(own) - set(kept))
    unexpected = sorted(set(kept) - set(own))
    problems = []
    if missing:
        problems.append("missing %d keys (%s)" % (len(missing), clip_keys(missing)))
    if unexpected:
        problems.append("unexpected %d keys (%s)" % (len(unexpected), clip_keys(unexpected)))
    for k in sorted(set(own) & set(kept)):
        if tuple(own[k].shape) != tuple(kept[k].shape):
            problems.append("%s has shape %s, the config wants %s" % (k, list(kept[k].shape), list(own[k].shape)))
    if problems:
        raise ExportError("checkpoint %s: %s does not fit the config: %s" % (path, what, "; ".join(problems)))
    model.load_state_dict(kept, strict=True)
    return sorted(dropped)


def clip_keys(keys, n=6):
    """The first n keys, comma separated, with '...' when there are more."""
    s = ", ".join(keys[:n])
    return s + (", ..." if len(keys) > n else "")


def random_init(model, seed):
    """Re-initialises every parameter deterministically from seed: weights
    (2-D and up) from N(0, 1/fan_in), the 1-D parameters of normalisation
    layers (LayerNorm gamma, BatchNorm weight) near 1, everything else (biases,
    betas, PReLU slopes) N(0, 0.05^2). The exact scheme does not matter for the
    export; it only has to give well-scaled activations."""
    g = torch.Generator().manual_seed(seed)
    norm_types = (nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm, nn.LayerNorm)
    with torch.no_grad():
        for name, p in model.named_parameters():
            owner = _owner(model, name)
            leaf = name.rsplit(".", 1)[-1]
            if p.dim() >= 2:
                fan_in = p[0].numel()
                if isinstance(owner, nn.ConvTranspose2d):  # weight is [in, out, k, k]
                    fan_in = p.shape[0] * p[0, 0].numel()
                p.copy_(torch.randn(p.shape, generator=g) / fan_in ** 0.5)
            elif leaf == "gamma" or (leaf == "weight" and isinstance(owner, norm_types)):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
    return model


def _owner(model, param_name):
    mod = model
    for part in param_name.split(".")[:-1]:
        mod = getattr(mod, part)
    return mod


# ---------------------------------------------------------------------------
# Graph pieces shared by several families
# ---------------------------------------------------------------------------

class GreyITU601(nn.Module):
    """Converts a [-1,1] RGB image to the one-channel image PIL's
    ``Image.convert('L')`` gives, in [-1,1].

    PIL computes L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16 on uint8
    values (ITU-R 601-2 luma, L = R*299/1000 + G*587/1000 + B*114/1000 rounded).
    The graph recovers v = round((x+1)*127.5), applies the same integer formula
    (exact in float32: every intermediate is an integer below 2^24, the divisor
    a power of two) and maps back with L/127.5 - 1. For images that came from
    uint8 pixels this equals the official data loaders' grey conversion
    exactly.
    """

    def forward(self, x):
        v = torch.round((x + 1.0) * 127.5).clamp(0.0, 255.0)
        r, g, b = v[:, 0:1], v[:, 1:2], v[:, 2:3]
        lum = torch.floor((r * 19595.0 + g * 38470.0 + b * 7471.0 + 32768.0) / 65536.0)
        return lum / 127.5 - 1.0


def adapt_channels(net_in, net_out):
    """Returns (pre, post) modules that keep the graph three-channel when a
    network was trained on one-channel images (the model contracts (docs/models.md)): pre turns
    the RGB input grey (GreyITU601), post repeats a one-channel output three
    times. Identity where the network already has three channels."""
    if net_in not in (1, 3) or net_out not in (1, 3):
        raise ExportError("only 1- or 3-channel networks fit the contract (got %d in, %d out)" % (net_in, net_out))
    pre = GreyITU601() if net_in == 1 else nn.Identity()
    post = RepeatChannels(3) if net_out == 1 else nn.Identity()
    return pre, post


class RepeatChannels(nn.Module):
    """Repeats a one-channel image n times along the channel axis."""

    def __init__(self, n):
        super().__init__()
        self.n = n

    def forward(self, x):
        return torch.cat([x] * self.n, dim=1)


# ---------------------------------------------------------------------------
# Test-time noise (--stochastic): dropout masks and encoder noise as inputs
# ---------------------------------------------------------------------------

class MaskedDropout(nn.Module):
    """nn.Dropout(p) whose random draw is an input: with a uniform tensor u
    of x's shape set in ``self.u``, returns x * (u >= p) / (1 - p), which is
    dropout in training mode with the mask (u >= p) (keep probability 1-p,
    PyTorch's scaling); with ``self.u`` None it is the identity, as
    nn.Dropout at test time."""

    def __init__(self, p):
        super().__init__()
        self.p = float(p)
        self.u = None

    def forward(self, x):
        if self.u is None:
            return x
        return x * (self.u >= self.p).to(x.dtype) / (1.0 - self.p)


def mask_dropouts(module):
    """Replaces every nn.Dropout inside module by a MaskedDropout with the
    same p (the module tree and parameter names are unchanged) and returns
    them in module order, which for the exported networks is the order in
    which they run."""
    for m in list(module.modules()):
        for cname, child in list(m.named_children()):
            if isinstance(child, nn.Dropout):
                setattr(m, cname, MaskedDropout(child.p))  # also fine for Sequential's "0", "1", ...
    return [m for m in module.modules() if isinstance(m, MaskedDropout)]


class DropoutNoise(nn.Module):
    """Wraps a graph whose MaskedDropout layers take their uniform draws
    from extra inputs: forward(*fixed, u_0, ..., u_{k-1}) sets layer i's
    ``u`` to u_i for the call and runs graph(*fixed)."""

    def __init__(self, graph, dropouts, n_fixed):
        super().__init__()
        self.graph = graph
        self.dropouts = dropouts
        self.n_fixed = n_fixed

    def forward(self, *args):
        fixed, noise = args[:self.n_fixed], args[self.n_fixed:]
        for d, u in zip(self.dropouts, noise):
            d.u = u
        try:
            return self.graph(*fixed)
        finally:
            for d in self.dropouts:
                d.u = None


def probe_shapes(graph, layers, example):
    """Runs graph on the example inputs (a tuple) and returns, for each
    module in layers, the (C, h, w) of its input."""
    shapes = {}
    hooks = [m.register_forward_hook(lambda mod, inp, out, i=i: shapes.__setitem__(i, tuple(inp[0].shape[1:])))
             for i, m in enumerate(layers)]
    try:
        with torch.no_grad():
            graph(*example)
    finally:
        for h in hooks:
            h.remove()
    return [shapes[i] for i in range(len(layers))]


def noise_spec(name, dist, chw, image_hw):
    """One entry of munit_eval.noise: {"input", "dist", "channels",
    "stride"} for a tensor of shape chw at an image of size image_hw (the
    stride must divide both axes the same way)."""
    c, h, w = chw
    H, W = image_hw
    if H % h or W % w or H // h != W // w:
        raise ExportError("noise input %s: %dx%d at a %dx%d image is not a whole stride" % (name, h, w, H, W))
    return {"input": name, "dist": dist, "channels": int(c), "stride": int(H // h)}


def noise_arrays(rng, specs, n, h, w):
    """Seeded noise for the verification cases: uniform on [0,1) or
    standard normal float32 [n, C, h/S, w/S] per spec."""
    out = {}
    for s in specs:
        shape = (n, s["channels"], h // s["stride"], w // s["stride"])
        a = rng.random(shape) if s["dist"] == "uniform" else rng.standard_normal(shape)
        out[s["input"]] = a.astype(np.float32)
    return out


def noise_dynamic_axes(specs):
    return {s["input"]: {0: "N", 2: "%s_h" % s["input"], 3: "%s_w" % s["input"]} for s in specs}


def add_dropout_noise(g, example, names, axes, extra, size):
    """--stochastic for a generator trained with dropout: every dropout layer
    of g becomes x * (u >= p) / (1 - p) with u a uniform noise input
    (dropout_0, dropout_1, ...). Appends the noise inputs to example and
    names, their dynamic axes to axes and the munit_eval.noise metadata to
    extra (all in place); returns the wrapped module and the noise specs."""
    drops = mask_dropouts(g)
    shapes = probe_shapes(g, drops, tuple(example))
    specs = [noise_spec("dropout_%d" % i, "uniform", chw, (size, size)) for i, chw in enumerate(shapes)]
    g = DropoutNoise(g, drops, len(example)).eval()
    extra[META_NOISE] = json.dumps(specs)
    axes.update(noise_dynamic_axes(specs))
    for s_ in specs:
        example.append(torch.zeros(1, s_["channels"], size // s_["stride"], size // s_["stride"]))
        names.append(s_["input"])
    return g, specs


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------

def export_onnx(module, inputs, input_names, output_names, dynamic_axes, path, metadata):
    """Exports module (in eval mode) to path at opset 17 and writes metadata
    (a dict of strings) into the model's metadata_props, then runs the ONNX
    checker. inputs is the tuple of example tensors."""
    import onnx

    module.eval()
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp"
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer's notes on shapes and constant folding are noise here:
        # every export is checked against PyTorch at two input sizes.
        warnings.simplefilter("ignore")
        torch.onnx.export(module, tuple(inputs), tmp, opset_version=OPSET,
                          input_names=list(input_names), output_names=list(output_names),
                          dynamic_axes=dynamic_axes, do_constant_folding=True)
    m = onnx.load(tmp)
    del m.metadata_props[:]
    for k in sorted(metadata):
        e = m.metadata_props.add()
        e.key = k
        e.value = str(metadata[k])
    m.producer_name = "munit-eval export"
    try:
        onnx.checker.check_model(m)
    except Exception as e:
        os.remove(tmp)
        raise VerifyError("%s: ONNX checker: %s" % (path, e))
    onnx.save(m, tmp)
    os.replace(tmp, path)
    print("wrote %s (%.1f MB)" % (path, os.path.getsize(path) / 1e6))


def base_metadata(role, method=None, latent_dim=None, config=None, source=None, extra=None):
    """The munit_eval.* metadata common to the generator exporters: role,
    method, latent_dim, the config as JSON, the checkpoint (name and SHA-256,
    or the random-init seed) and the exporter's versions."""
    md = {META_ROLE: role}
    if method is not None:
        md[META_METHOD] = method
    if latent_dim is not None:
        md[META_LATENT_DIM] = str(int(latent_dim))
    if config is not None:
        md["munit_eval.config"] = json.dumps(config, sort_keys=True)
    if source is not None:
        md["munit_eval.source"] = source
    md["munit_eval.exporter"] = "munit-eval export (torch %s, torchvision %s, opset %d)" % (
        torch.__version__, _tv_version(), OPSET)
    if extra:
        md.update({k: str(v) for k, v in extra.items()})
    return md


def _tv_version():
    try:
        import torchvision
        return torchvision.__version__
    except ImportError:
        return "absent"


def describe_source(args, checkpoint_attr="checkpoint"):
    """'file NAME sha256 HEX' for a checkpoint, or 'random init, seed S'."""
    if getattr(args, "random_init", False):
        return "random init, seed %d (torch %s)" % (args.seed, torch.__version__)
    path = getattr(args, checkpoint_attr)
    return "%s sha256 %s" % (os.path.basename(path), sha256_file(path))


# ---------------------------------------------------------------------------
# Verification through munit-eval
# ---------------------------------------------------------------------------

def find_munit_eval(flag=""):
    """Locates the munit-eval binary: the flag, $MUNIT_EVAL, bin/munit-eval in
    the repository, then PATH. Returns None when none is found."""
    for cand, what in ((flag, "--munit-eval"), (os.environ.get("MUNIT_EVAL", ""), "$MUNIT_EVAL")):
        if cand:
            if os.path.isfile(cand) and os.access(cand, os.X_OK):
                return cand
            raise ExportError("%s %s: no such executable" % (what, cand))
    own = os.path.join(REPO_ROOT, "bin", "munit-eval")
    if os.path.isfile(own) and os.access(own, os.X_OK):
        return own
    return shutil.which("munit-eval")


def onnx_forward(binary, onnx_path, inputs):
    """Runs the ONNX model at onnx_path on inputs (name -> float32 array)
    with ``munit-eval forward`` and returns {output name: array}."""
    with tempfile.TemporaryDirectory(prefix="munit-export-") as tmp:
        cmd = [binary, "forward", onnx_path]
        for name, arr in inputs.items():
            f = os.path.join(tmp, "in_%s.npy" % name)
            np.save(f, np.ascontiguousarray(arr, dtype=np.float32))
            cmd += ["--input", "%s=%s" % (name, f)]
        out = os.path.join(tmp, "out")
        cmd += ["--out", out]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise VerifyError("%s: `%s` exited %d: %s" % (onnx_path, " ".join(cmd[:3]) + " ...", r.returncode,
                                                          (r.stderr or r.stdout).strip()))
        res = {}
        for f in sorted(os.listdir(out)):
            if f.endswith(".npy"):
                res[f[:-4]] = np.load(os.path.join(out, f))
        return res


def inspect(binary, onnx_path):
    """Returns the JSON object of ``munit-eval inspect --json MODEL``."""
    r = subprocess.run([binary, "inspect", "--json", onnx_path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise VerifyError("%s: munit-eval inspect exited %d: %s" % (onnx_path, r.returncode, r.stderr.strip()))
    return json.loads(r.stdout)


def torch_forward(module, inputs, output_names):
    """Runs module on inputs (name -> array, passed positionally in order) and
    returns {output name: float32 array}."""
    module.eval()
    with torch.no_grad():
        out = module(*[torch.from_numpy(np.ascontiguousarray(a)) for a in inputs.values()])
    if torch.is_tensor(out):
        out = (out,)
    return {n: o.detach().cpu().numpy().astype(np.float32) for n, o in zip(output_names, out)}


def max_abs_diff(want, got, label):
    """Largest difference over every output, checking names and shapes: per
    output, max |want - got| relative to the output's scale, max(1, max
    |want|). float32 rounding grows with the values, so an absolute bound
    failed a network with activations near 100 (0.0096 against 1e-3) whose
    FID matched to 2.5e-6; outputs within [-1, 1] (images) keep the
    absolute bound."""
    worst = 0.0
    for name, w in want.items():
        if name not in got:
            raise VerifyError("%s: ONNX output %r missing (got %s)" % (label, name, sorted(got)))
        g = got[name]
        if tuple(g.shape) != tuple(w.shape):
            raise VerifyError("%s: output %r has shape %s in ONNX, %s in PyTorch" % (label, name, g.shape, w.shape))
        if not np.all(np.isfinite(g)):
            raise VerifyError("%s: ONNX output %r has NaN or Inf" % (label, name))
        d = float(np.max(np.abs(g.astype(np.float64) - w.astype(np.float64)))) if w.size else 0.0
        scale = max(1.0, float(np.max(np.abs(w.astype(np.float64))))) if w.size else 1.0
        print("  %-12s %-22s max |onnx - torch| = %.3g, scale %.3g: %.3g" % (label, name + str(list(w.shape)), d, scale, d / scale))
        worst = max(worst, d / scale)
    return worst


def verify(args, module, onnx_path, cases, output_names):
    """Runs module and the ONNX file on each case (a dict name -> array, in
    the module's argument order) and fails above args.tol. Returns the largest
    difference, or None when verification was skipped."""
    if args.no_verify:
        print("verification skipped (--no-verify)")
        return None
    binary = find_munit_eval(args.munit_eval)
    if binary is None:
        raise VerifyError("munit-eval not found (build it with `go build -o bin/munit-eval ./cmd/munit-eval`, "
                          "or pass --munit-eval PATH or set $MUNIT_EVAL; --no-verify skips this check)")
    print("verifying %s against PyTorch with %s" % (onnx_path, binary))
    worst = 0.0
    for i, inputs in enumerate(cases):
        print("  case %d: %s" % (i, ", ".join("%s%s" % (k, list(v.shape)) for k, v in inputs.items())))
        want = torch_forward(module, inputs, output_names)
        got = onnx_forward(binary, onnx_path, inputs)
        worst = max(worst, max_abs_diff(want, got, "case %d" % i))
    print("max scaled diff %.3g (max |onnx - torch| / max(1, max |torch|); tolerance %.3g)" % (worst, args.tol))
    if not worst <= args.tol:
        raise VerifyError("%s: max diff %.3g of the output's scale exceeds --tol %.3g (the file is left for inspection)" % (
            onnx_path, worst, args.tol))
    return worst


def export_features(args, model, md, down):
    """Exports a feature extractor (image -> features, the features role)
    to args.out with metadata md and verifies it against PyTorch on a
    batch at args.verify_size, an image of another size, and one of size
    down (h, w) that the model's preprocessing shrinks."""
    size = args.verify_size
    export_onnx(model, (torch.zeros(1, 3, size, size),), ["image"], ["features"],
                {"image": {0: "N", 2: "H", 3: "W"}, "features": {0: "N"}}, args.out, md)
    rng = np.random.default_rng(args.seed)
    cases = [{"image": random_images(rng, args.verify_batch, size, size)},
             {"image": random_images(rng, 1, size + 10, size + 30)},
             {"image": random_images(rng, 1, *down)}]
    verify(args, model, args.out, cases, ["features"])


def random_images(rng, n, h, w):
    """n random images in [-1,1] that come from uint8 pixels (v/127.5 - 1),
    as the runner feeds them."""
    v = rng.integers(0, 256, size=(n, 3, h, w))
    return (v.astype(np.float32) / np.float32(127.5) - np.float32(1.0)).astype(np.float32)


def random_latents(rng, n, s):
    """n latent codes from N(0, I), float32."""
    return rng.standard_normal((n, s)).astype(np.float32)
