"""Export a DINOv2 backbone (facebookresearch/dinov2's torch.hub models) as
a features model: the FD_DINOv2 feature space of Stein et al. (2023).

    python3 -m export.dinov2 --weights dinov2_vitl14_pretrain.pth --out dinov2_vitl14.onnx
    # torch-fidelity 0.4's preprocessing (its dinov2-vit-l-14 feature extractor):
    python3 -m export.dinov2 --weights dinov2_vitl14_pretrain.pth --preprocess torch-fidelity \\
        --out dinov2_vitl14_tfidelity.onnx

Contract (docs/models.md, role features): input ``image`` [N,3,H,W] in
[-1,1], any size; output ``features`` [N,D], the CLS token after the final
LayerNorm (what the hub model's forward returns: ``x_norm_clstoken``
through the identity head), D = 384, 768, 1024, 1536 for vits14, vitb14,
vitl14, vitg14.

The weights: the state dict of the hub model (``dinov2_vitX14_pretrain.pth``,
keys ``cls_token``, ``pos_embed`` [1,1370,D], ``mask_token``,
``patch_embed.proj.*``, ``blocks.{i}.{norm1,attn.qkv,attn.proj,ls1.gamma,
norm2,mlp.fc1,mlp.fc2,ls2.gamma}.*`` (vitg14: ``mlp.w12``, ``mlp.w3``, the
SwiGLU feed-forward), ``norm.*``), loaded strictly; the architecture follows
from D (or ``--arch``, which must agree). The network is rebuilt here under
those names with the hub builders' settings (patch 14, img_size 518,
LayerScale, LayerNorm eps 1e-6, exact GELU, qkv/proj/ffn biases), with the
attention written out as softmax(q k^T / sqrt(d)) v so that PyTorch 1.13
exports it (the official code calls xFormers or PyTorch 2's
scaled_dot_product_attention, the same function).

The input size is fixed at 224x224 (both preprocessings resize to it), so
the position embedding is the hub model's 37x37 grid interpolated to 16x16
once, at export, exactly as interpolate_pos_encoding does it (bicubic with
scale factor (16 + 0.1)/37, no antialiasing), and stored in the graph.

Inside the graph (``--preprocess``; the two give different features, so the
name is recorded in ``munit_eval.preprocess``):

- ``dgm-eval`` (default): v = round((x+1)*127.5) (the uint8 image), Pillow's
  bicubic resize to 224x224 (dgm-eval's TF.Resize((224, 224), BICUBIC) on
  the PIL image; aspect ratio not kept, no crop), v/255 and ImageNet
  mean/std: layer6ai-labs/dgm-eval dgm_eval/models/dinov2.py, the FD_DINOv2
  of Stein et al.
- ``torch-fidelity``: v as above, TensorFlow 1.x's bilinear resize to
  224x224 (as export.fid_inception's torch-fidelity mode), then
  (v - 255 mean)/(255 std): torch-fidelity 0.4's FeatureExtractorDinoV2.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import common, preprocess
from .fid_inception import resize_tf1_bilinear

INPUT_SIZE = 224
PATCH = 14
HUB_IMG_SIZE = 518  # the hub builders' img_size: a 37x37 position grid
INTERPOLATE_OFFSET = 0.1  # the hub builders' interpolate_offset
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# dinov2/hub/backbones.py and models/vision_transformer.py: vit_small,
# vit_base, vit_large, vit_giant2 (with the fused SwiGLU feed-forward).
ARCHS = {
    "vits14": dict(embed_dim=384, depth=12, num_heads=6, ffn="mlp"),
    "vitb14": dict(embed_dim=768, depth=12, num_heads=12, ffn="mlp"),
    "vitl14": dict(embed_dim=1024, depth=24, num_heads=16, ffn="mlp"),
    "vitg14": dict(embed_dim=1536, depth=40, num_heads=24, ffn="swiglu"),
}

PREPROCESS = {
    "dgm-eval": "dgm-eval: uint8, Pillow bicubic resize to 224x224, /255, ImageNet mean/std",
    "torch-fidelity": "torch-fidelity: uint8, TF1 bilinear resize to 224x224, (v - 255 mean)/(255 std)",
}


class Attention(nn.Module):
    """dinov2's Attention (qkv and proj, both with bias), written out."""

    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim, bias=True)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * self.scale, dim=-1)
        x = torch.matmul(attn, v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class SwiGLU(nn.Module):
    """dinov2's SwiGLUFFNFused: hidden width (int(4D * 2/3) + 7) // 8 * 8,
    w12 gives both halves, silu(x1) * x2, then w3."""

    def __init__(self, dim, hidden):
        super().__init__()
        hidden = (int(hidden * 2 / 3) + 7) // 8 * 8
        self.w12 = nn.Linear(dim, 2 * hidden)
        self.w3 = nn.Linear(hidden, dim)

    def forward(self, x):
        x1, x2 = self.w12(x).chunk(2, dim=-1)
        return self.w3(F.silu(x1) * x2)


class LayerScale(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


class Block(nn.Module):
    def __init__(self, dim, num_heads, ffn):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.ls1 = LayerScale(dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = (SwiGLU if ffn == "swiglu" else Mlp)(dim, 4 * dim)
        self.ls2 = LayerScale(dim)

    def forward(self, x):
        x = x + self.ls1(self.attn(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


class PatchEmbed(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=PATCH, stride=PATCH)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class DinoVisionTransformer(nn.Module):
    """The hub backbone's module tree and parameter names (block_chunks 0,
    no register tokens); forward takes the normalised 224x224 input."""

    def __init__(self, arch):
        super().__init__()
        cfg = ARCHS[arch]
        d = cfg["embed_dim"]
        self.arch = arch
        self.embed_dim = d
        grid = HUB_IMG_SIZE // PATCH
        self.patch_embed = PatchEmbed(d)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.zeros(1, grid * grid + 1, d))
        self.mask_token = nn.Parameter(torch.zeros(1, d))  # training only; kept for the strict load
        self.blocks = nn.ModuleList([Block(d, cfg["num_heads"], cfg["ffn"]) for _ in range(cfg["depth"])])
        self.norm = nn.LayerNorm(d, eps=1e-6)
        self._pos = None

    def position_embedding(self):
        """pos_embed at a 224x224 input: interpolate_pos_encoding's
        computation (class position kept, the 37x37 patch grid resized
        bicubically with scale factor (16 + 0.1)/37, no antialiasing)."""
        pos = self.pos_embed.float()
        n = pos.shape[1] - 1
        m = int(math.sqrt(n))
        w0 = INPUT_SIZE // PATCH
        s = float(w0 + INTERPOLATE_OFFSET) / m
        patch = F.interpolate(pos[:, 1:].reshape(1, m, m, -1).permute(0, 3, 1, 2), mode="bicubic",
                              scale_factor=(s, s), antialias=False)
        if tuple(patch.shape[-2:]) != (w0, w0):
            raise common.ExportError("position embedding interpolated to %s, want %dx%d" % (
                list(patch.shape[-2:]), w0, w0))
        patch = patch.permute(0, 2, 3, 1).reshape(1, -1, pos.shape[-1])
        return torch.cat([pos[:, :1], patch], dim=1)

    def freeze_position(self):
        """Computes the 224x224 position embedding once (call after loading
        the weights); forward then uses it as a constant."""
        with torch.no_grad():
            self._pos = self.position_embedding().detach().clone()

    def forward(self, x):
        pos = self._pos if self._pos is not None else self.position_embedding()
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + pos
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)[:, 0]


class DINOv2Features(nn.Module):
    """image in [-1,1] (any size) -> features [N,D], with the named
    preprocessing inside the graph (module docstring)."""

    def __init__(self, net, preprocess_name):
        super().__init__()
        if preprocess_name not in PREPROCESS:
            raise common.ExportError("unknown preprocessing %r (want one of %s)" % (
                preprocess_name, ", ".join(PREPROCESS)))
        self.net = net
        self.preprocess = preprocess_name
        mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, dtype=torch.float32).view(1, 3, 1, 1)
        if preprocess_name == "torch-fidelity":
            # torchvision's normalize with the tuples (255*m) and (255*s),
            # each rounded to float32 as it does.
            mean = torch.tensor([255 * m for m in IMAGENET_MEAN], dtype=torch.float32).view(1, 3, 1, 1)
            std = torch.tensor([255 * s for s in IMAGENET_STD], dtype=torch.float32).view(1, 3, 1, 1)
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def prepare(self, image):
        v = preprocess.to_uint8(image)
        if self.preprocess == "dgm-eval":
            x = preprocess.resize_pil_bicubic(v, INPUT_SIZE, INPUT_SIZE) / 255.0
        else:
            x = resize_tf1_bilinear(v, INPUT_SIZE)
        return (x - self.mean) / self.std

    def forward(self, image):
        return self.net(self.prepare(image))


def arch_of(sd, path):
    """The architecture of a hub state dict, from its embedding width."""
    if "cls_token" not in sd:
        raise common.ExportError("weights %s: no cls_token: not a DINOv2 hub backbone state dict" % path)
    d = int(sd["cls_token"].shape[-1])
    for name, cfg in ARCHS.items():
        if cfg["embed_dim"] == d:
            return name
    raise common.ExportError("weights %s: embedding width %d is none of DINOv2's (%s)" % (
        path, d, ", ".join("%s %d" % (k, v["embed_dim"]) for k, v in ARCHS.items())))


def load_weights(path, arch=None):
    """The DINOv2 backbone of a hub state dict, loaded strictly."""
    ck = common.load_checkpoint(path)
    if isinstance(ck, dict) and isinstance(ck.get("model"), dict):
        ck = ck["model"]
    sd = common.state_dict_of(ck, path)
    found = arch_of(sd, path)
    if arch and arch != found:
        raise common.ExportError("weights %s are a %s backbone (embedding width %d), not %s" % (
            path, found, ARCHS[found]["embed_dim"], arch))
    net = DinoVisionTransformer(found)
    common.load_strict(net, sd, path)
    return net.eval()


def random_dinov2(arch, seed):
    """A randomly initialised backbone (for tests): common.random_init, then
    LayerScale gammas near the hub models' scale (their init_values is
    1.0; the trained ones are about 0.1) and the position embedding at the
    scale of the hub init (std 0.02), so activations stay well scaled."""
    torch.manual_seed(seed)
    net = DinoVisionTransformer(arch)
    common.random_init(net, seed)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith(".gamma"):
                p.copy_(0.1 + 0.02 * torch.randn(p.shape, generator=g))
        net.pos_embed.copy_(0.02 * torch.randn(net.pos_embed.shape, generator=g))
        net.cls_token.copy_(0.02 * torch.randn(net.cls_token.shape, generator=g))
    return net.eval()


def main(argv=None):
    p = common.base_parser("python3 -m export.dinov2", __doc__.split("\n\n")[0])
    p.add_argument("--weights", help="the hub model's state dict, e.g. dinov2_vitl14_pretrain.pth")
    p.add_argument("--arch", choices=sorted(ARCHS), default="",
                   help="vits14, vitb14, vitl14 or vitg14 (default: from the weights; with --random-init: vits14)")
    p.add_argument("--preprocess", default="dgm-eval", choices=sorted(PREPROCESS),
                   help="resize and normalisation as dgm-eval (default) or torch-fidelity do them")
    p.add_argument("--save-random-weights", default="",
                   help="with --random-init: also write the random state dict here (the hub key layout)")
    p.add_argument("--verify-size", type=int, default=64, help="height of the verification images (default 64)")
    args = p.parse_args(argv)
    if not args.random_init and not args.weights:
        p.error("--weights is required (or --random-init)")
    if args.random_init:
        net = random_dinov2(args.arch or "vits14", args.seed)
        if args.save_random_weights:
            torch.save(net.state_dict(), args.save_random_weights)
    else:
        net = load_weights(args.weights, args.arch or None)
    net.freeze_position()
    model = DINOv2Features(net, args.preprocess).eval()
    dim = net.embed_dim
    extra = {"munit_eval.feature_dim": dim, "munit_eval.feature_extractor": "dinov2_" + net.arch,
             "munit_eval.input_size": INPUT_SIZE, "munit_eval.preprocess": args.preprocess,
             "munit_eval.preprocess_detail": PREPROCESS[args.preprocess]}
    src = common.describe_source(args, "weights")
    md = common.base_metadata("features", None, None,
                              {"arch": "dinov2_" + net.arch, "preprocess": args.preprocess}, src, extra)
    common.export_features(args, model, md, down=(320, 300))  # downsampling as well


if __name__ == "__main__":
    common.run_main(main)
