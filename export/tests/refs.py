"""Reference implementations for the parity tests, loaded from checkouts
outside the repository.

$MUNIT_EVAL_REFS names a folder holding checkouts of the reference
repositories at the commits of docs/parity.md, each under its repository's
name: dinov2 (facebookresearch/dinov2), dgm-eval (layer6ai-labs/dgm-eval),
torch-fidelity (toshas/torch-fidelity), CLIP (openai/CLIP) and cmmd-pytorch
(sayakpaul/cmmd-pytorch), MUNIT (NVlabs/MUNIT) and stargan-v2
(clovaai/stargan-v2). A test whose checkout is missing skips. Nothing of
theirs is copied here: each loader imports the reference's own file and
patches only what PyTorch 1.13 (Debian 12) lacks, as docs/parity.md says.
"""

import importlib
import importlib.util
import os
import sys
import types
import unittest

ENV = "MUNIT_EVAL_REFS"


def path(name):
    """The checkout of name under $MUNIT_EVAL_REFS, or None."""
    root = os.environ.get(ENV, "")
    p = os.path.join(root, name)
    return p if root and os.path.isdir(p) else None


def need(name):
    """The checkout of name, or SkipTest naming what is missing."""
    p = path(name)
    if p is None:
        raise unittest.SkipTest("reference checkout %s not found: set $%s to a folder holding it (docs/parity.md)" % (
            name, ENV))
    return p


def load_file(module_name, file_path):
    """Imports one source file as module_name (without its package's
    __init__, which may import what is not installed)."""
    spec = importlib.util.spec_from_file_location(module_name, file_path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = mod
    spec.loader.exec_module(mod)
    return mod


def _plain_sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """PyTorch 2's scaled_dot_product_attention at inference, unmasked:
    softmax(q k^T * scale) v with scale 1/sqrt(head dim)."""
    import torch
    if attn_mask is not None or is_causal or dropout_p:
        raise NotImplementedError("the parity tests use plain attention only")
    s = q.shape[-1] ** -0.5 if scale is None else scale
    return torch.matmul(torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * s, dim=-1), v)


def dinov2_hub():
    """dinov2.hub.backbones from the checkout, xFormers off and
    scaled_dot_product_attention supplied where PyTorch lacks it."""
    import torch.nn.functional as F
    root = need("dinov2")
    os.environ["XFORMERS_DISABLED"] = "1"
    if not hasattr(F, "scaled_dot_product_attention"):
        F.scaled_dot_product_attention = _plain_sdpa
    if root not in sys.path:
        sys.path.insert(0, root)
    import warnings
    # dinov2's layers announce at import (when a model is first built) that
    # xFormers is off.
    warnings.filterwarnings("ignore", message="xFormers")
    return importlib.import_module("dinov2.hub.backbones")


def _stub_package(name, folder):
    """An empty package name whose submodules load from folder (its
    __init__ is not run)."""
    if name not in sys.modules:
        pkg = types.ModuleType(name)
        pkg.__path__ = [folder]
        sys.modules[name] = pkg


def dgm_eval_dinov2():
    """dgm_eval.models.dinov2 from the checkout (the package __init__,
    which imports every encoder's dependencies, is skipped)."""
    root = need("dgm-eval")
    _stub_package("dgm_eval", os.path.join(root, "dgm_eval"))
    _stub_package("dgm_eval.models", os.path.join(root, "dgm_eval", "models"))
    return importlib.import_module("dgm_eval.models.dinov2")


def torch_fidelity():
    """The torch_fidelity package from the checkout; tqdm, which only draws
    progress bars, is stubbed when it is not installed."""
    root = need("torch-fidelity")
    try:
        import tqdm  # noqa: F401
    except ImportError:
        stub = types.ModuleType("tqdm")
        stub.tqdm = lambda it=None, *a, **k: it
        sys.modules["tqdm"] = stub
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module("torch_fidelity")


def clip_model():
    """clip/model.py from the checkout, alone (clip/__init__ imports the
    tokenizer's ftfy)."""
    return load_file("ref_clip_model", os.path.join(need("CLIP"), "clip", "model.py"))


def cmmd_distance():
    """cmmd-pytorch's distance.py."""
    return load_file("ref_cmmd_distance", os.path.join(need("cmmd-pytorch"), "distance.py"))


def cmmd_io_util():
    """cmmd-pytorch's io_util.py (its tqdm stubbed as above when absent)."""
    try:
        import tqdm  # noqa: F401
    except ImportError:
        stub = types.ModuleType("tqdm")
        stub.tqdm = lambda it=None, *a, **k: it
        sys.modules["tqdm"] = stub
    return load_file("ref_cmmd_io_util", os.path.join(need("cmmd-pytorch"), "io_util.py"))


def munit_networks():
    """NVlabs/MUNIT's networks.py (AdaINGen, VAEGen), alone."""
    return load_file("ref_munit_networks", os.path.join(need("MUNIT"), "networks.py"))


def stargan_v2_model():
    """clovaai/stargan-v2's core/model.py (Generator, MappingNetwork,
    StyleEncoder). It imports munch, for build_model's return value only, and
    core.wing, for the FAN of w_hpf > 0: a stub munch (Munch = dict) stands
    in where the package is not installed, and so does a stub core.wing
    (FAN = None) where OpenCV is not."""
    root = need("stargan-v2")
    try:
        import munch  # noqa: F401
    except ImportError:
        stub = types.ModuleType("munch")
        stub.Munch = dict
        sys.modules["munch"] = stub
    _stub_package("core", os.path.join(root, "core"))
    try:
        import cv2  # noqa: F401  (core/wing.py's FAN needs it)
    except ImportError:
        wing = types.ModuleType("core.wing")
        wing.FAN = None  # used only for w_hpf > 0, which the tests do not build
        sys.modules["core.wing"] = wing
    return importlib.import_module("core.model")


def stargan_v2_nets(img_size, num_domains, seed, style_dim=64, latent_dim=16):
    """The official Generator, MappingNetwork and StyleEncoder (eval mode)
    with seeded random weights (torch.manual_seed(seed), built in that
    order), the style path scaled: default init leaves the style codes
    nearly constant and AdaIN's gamma and beta near 0, so the mapping's
    shared layers, the style encoder's heads and AdaIN's projections are
    scaled until the code visibly decides the sample (a wrong code then
    shows)."""
    import torch
    m = stargan_v2_model()
    torch.manual_seed(seed)
    G = m.Generator(img_size, style_dim, w_hpf=0).eval()
    F = m.MappingNetwork(latent_dim, style_dim, num_domains).eval()
    E = m.StyleEncoder(img_size, style_dim, num_domains).eval()
    with torch.no_grad():
        for name, prm in G.named_parameters():
            if ".fc." in name:
                prm.mul_(10)
        for name, prm in F.named_parameters():
            if name.startswith("shared."):
                prm.mul_(2)
        for name, prm in E.named_parameters():
            if name.startswith("unshared."):
                prm.mul_(30)
    return G, F, E
