"""Export the image tower of an OpenAI CLIP model as a features model: the
embedding space of CMMD (Jayasumana et al., 2024).

    python3 -m export.clip --weights ViT-L-14-336px.pt --out clip_vit-l-14-336.onnx

Contract (docs/models.md, role features): input ``image`` [N,3,H,W] in
[-1,1], any size; output ``features`` [N,E], the image embedding
(``encode_image``: ln_post of the class token, times ``proj``) divided by
its Euclidean norm, as cmmd-pytorch's embedding.py returns it (metadata
``munit_eval.normalized`` = l2). E = 768 for ViT-L/14 and ViT-L/14@336px.

The weights: what openai/CLIP distributes (``ViT-L-14-336px.pt`` ..., JIT
archives) or a state dict in clip/model.py's key layout (a full CLIP or its
``visual.*`` keys alone); the text tower's keys are not used. The
architecture is inferred from the state dict as clip/model.py's build_model
does: a ViT when ``visual.proj`` is there (width from conv1, layers from
the count of ``attn.in_proj_weight``, patch size from conv1's kernel,
resolution = patch x sqrt(positions - 1), heads = width / 64), otherwise the
ModifiedResNet (layer counts, width, resolution = 32 x sqrt(attention-pool
positions - 1), heads = 32 width / 64). The official files hold float16
weights; they are used in float32, as clip.load does on the CPU. The network
is rebuilt here under clip/model.py's names with its attention (PyTorch's
nn.MultiheadAttention, the ResNet's attention pool) written out as
softmax(q k^T / sqrt(d)) v, and QuickGELU, LayerNorm eps 1e-5.

Inside the graph (``--preprocess cmmd``, the only one; recorded in
``munit_eval.preprocess``): v = round((x+1)*127.5) (the uint8 image), the
centred square of side min(H, W) (top (H - side) // 2, left (W - side) // 2),
Pillow's bicubic resize to the model's resolution (336 for ViT-L/14@336px),
v/255, then CLIP's mean and std: cmmd-pytorch's io_util.py
(_center_crop_and_resize on the PIL image, /255) and embedding.py (its
bicubic resize to the same size is the identity; CLIPImageProcessor's
normalisation only).
"""

from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import common, preprocess

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

PREPROCESS = {
    "cmmd": "cmmd: uint8, centre square crop, Pillow bicubic resize to the model's resolution, /255, CLIP mean/std",
}

# Keys of a JIT archive's state dict that are model attributes, not weights
# (build_model deletes them too).
_JIT_ATTRIBUTES = ("input_resolution", "context_length", "vocab_size")


def attention(q, k, v, heads, width):
    """Multi-head attention of q [N,Lq,C] over k, v [N,L,C] (C = width): q
    scaled by 1/sqrt(C/heads) before q k^T, as F.multi_head_attention_forward
    does. The widths are Python ints, so the graph holds the scale as a
    constant."""
    n, lq = q.shape[0], q.shape[1]
    lk = k.shape[1]
    d = width // heads
    q = q.reshape(n, lq, heads, d).transpose(1, 2) * (float(d) ** -0.5)
    k = k.reshape(n, lk, heads, d).transpose(1, 2)
    v = v.reshape(n, lk, heads, d).transpose(1, 2)
    w = torch.softmax(torch.matmul(q, k.transpose(-2, -1)), dim=-1)
    return torch.matmul(w, v).transpose(1, 2).reshape(n, lq, width)


class MultiheadAttention(nn.Module):
    """nn.MultiheadAttention's parameters (in_proj_weight [3C,C],
    in_proj_bias, out_proj) with self-attention written out, batch first."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads, self.width = heads, width
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * width))
        self.out_proj = nn.Linear(width, width)

    def forward(self, x):
        q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        return self.out_proj(attention(q, k, v, self.heads, self.width))


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.attn = MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict([("c_fc", nn.Linear(width, width * 4)), ("gelu", QuickGELU()),
                                              ("c_proj", nn.Linear(width * 4, width))]))
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads):
        super().__init__()
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads) for _ in range(layers)])

    def forward(self, x):
        return self.resblocks(x)


class VisionTransformer(nn.Module):
    """clip/model.py's VisionTransformer, tokens batch first (NLD)."""

    def __init__(self, resolution, patch, width, layers, heads, output_dim):
        super().__init__()
        self.input_resolution = resolution
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(torch.empty(width))
        self.positional_embedding = nn.Parameter(torch.empty((resolution // patch) ** 2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, layers, heads)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.empty(width, output_dim))

    def forward(self, x):
        x = self.conv1(x).flatten(2).transpose(1, 2)
        cls = self.class_embedding.view(1, 1, -1).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding
        x = self.transformer(self.ln_pre(x))
        return self.ln_post(x[:, 0, :]) @ self.proj


class Bottleneck(nn.Module):
    """clip/model.py's Bottleneck: stride by an average pool after conv2,
    and before the downsampling convolution."""
    expansion = 4

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu2 = nn.ReLU()
        self.avgpool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu3 = nn.ReLU()
        self.downsample = None
        if stride > 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(OrderedDict([
                ("-1", nn.AvgPool2d(stride)),
                ("0", nn.Conv2d(inplanes, planes * 4, 1, stride=1, bias=False)),
                ("1", nn.BatchNorm2d(planes * 4))]))

    def forward(self, x):
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(self.avgpool(out)))
        identity = self.downsample(x) if self.downsample is not None else x
        return self.relu3(out + identity)


class AttentionPool2d(nn.Module):
    """The ResNet's attention pool: the mean token, with position
    embeddings, attends over the grid (q, k, v and c_proj projections)."""

    def __init__(self, spacial_dim, embed_dim, heads, output_dim):
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.empty(spacial_dim ** 2 + 1, embed_dim))
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.c_proj = nn.Linear(embed_dim, output_dim)
        self.heads, self.width = heads, embed_dim

    def forward(self, x):
        x = x.flatten(2).transpose(1, 2)  # N (HW) C
        x = torch.cat([x.mean(dim=1, keepdim=True), x], dim=1) + self.positional_embedding
        out = attention(self.q_proj(x[:, :1]), self.k_proj(x), self.v_proj(x), self.heads, self.width)
        return self.c_proj(out)[:, 0]


class ModifiedResNet(nn.Module):
    def __init__(self, layers, output_dim, heads, resolution, width):
        super().__init__()
        self.input_resolution = resolution
        self.conv1 = nn.Conv2d(3, width // 2, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width // 2)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(width // 2, width // 2, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width // 2)
        self.relu2 = nn.ReLU()
        self.conv3 = nn.Conv2d(width // 2, width, kernel_size=3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(width)
        self.relu3 = nn.ReLU()
        self.avgpool = nn.AvgPool2d(2)
        self._inplanes = width
        self.layer1 = self._make_layer(width, layers[0])
        self.layer2 = self._make_layer(width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(width * 8, layers[3], stride=2)
        self.attnpool = AttentionPool2d(resolution // 32, width * 32, heads, output_dim)

    def _make_layer(self, planes, blocks, stride=1):
        layers = [Bottleneck(self._inplanes, planes, stride)]
        self._inplanes = planes * 4
        layers += [Bottleneck(self._inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.relu2(self.bn2(self.conv2(x)))
        x = self.relu3(self.bn3(self.conv3(x)))
        x = self.avgpool(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.attnpool(x)


def _count(sd, prefix):
    return len({k[len(prefix):].split(".")[0] for k in sd if k.startswith(prefix)})


def config_of(sd, path):
    """The image tower's dimensions from a state dict of ``visual.*`` keys,
    as build_model infers them."""
    if "visual.proj" in sd:
        w = sd["visual.conv1.weight"]
        width, patch = int(w.shape[0]), int(w.shape[-1])
        layers = len([k for k in sd if k.startswith("visual.") and k.endswith(".attn.in_proj_weight")])
        grid = round((sd["visual.positional_embedding"].shape[0] - 1) ** 0.5)
        return {"kind": "vit", "width": width, "layers": layers, "patch": patch, "resolution": patch * grid,
                "heads": width // 64, "output_dim": int(sd["visual.proj"].shape[1])}
    if "visual.attnpool.positional_embedding" in sd and "visual.layer1.0.conv1.weight" in sd:
        layers = [_count(sd, "visual.layer%d." % b) for b in (1, 2, 3, 4)]
        width = int(sd["visual.layer1.0.conv1.weight"].shape[0])
        n = sd["visual.attnpool.positional_embedding"].shape[0]
        side = round((n - 1) ** 0.5)
        if side * side + 1 != n:
            raise common.ExportError("weights %s: visual.attnpool.positional_embedding has %d rows, not a square "
                                     "grid plus one" % (path, n))
        return {"kind": "resnet", "width": width, "layers": layers, "resolution": side * 32,
                "heads": width * 32 // 64, "output_dim": int(sd["visual.attnpool.c_proj.weight"].shape[0])}
    raise common.ExportError("weights %s: neither visual.proj (a CLIP ViT) nor visual.attnpool (a CLIP ResNet): "
                             "not an OpenAI CLIP model" % path)


def build(cfg):
    """The image tower of cfg, under clip/model.py's names (the root holds
    ``visual``, so the state dict keys match the full model's)."""
    root = nn.Module()
    if cfg["kind"] == "vit":
        root.visual = VisionTransformer(cfg["resolution"], cfg["patch"], cfg["width"], cfg["layers"], cfg["heads"],
                                        cfg["output_dim"])
    else:
        root.visual = ModifiedResNet(cfg["layers"], cfg["output_dim"], cfg["heads"], cfg["resolution"], cfg["width"])
    return root


def read_state_dict(path):
    """The state dict of a JIT archive (as clip.load reads one) or of a
    plain checkpoint, with floats in float32."""
    try:
        sd = torch.jit.load(path, map_location="cpu").state_dict()
    except (RuntimeError, ValueError):
        ck = common.load_checkpoint(path)
        if isinstance(ck, dict) and isinstance(ck.get("state_dict"), dict):
            ck = ck["state_dict"]
        sd = ck
    sd = common.state_dict_of(sd, path)
    return {k: (v.float() if v.is_floating_point() else v) for k, v in sd.items()}


def load_weights(path):
    """The image tower of a CLIP file, loaded strictly: every ``visual.*``
    key used, none missing. Returns (module, cfg, number of keys not used:
    the text tower and the archive's attributes)."""
    sd = read_state_dict(path)
    visual = {k: v for k, v in sd.items() if k.startswith("visual.")}
    if not visual:
        raise common.ExportError("weights %s: no visual.* keys: not an OpenAI CLIP model" % path)
    cfg = config_of(visual, path)
    root = build(cfg)
    common.load_strict(root, visual, path)
    return root.visual.eval(), cfg, len(sd) - len(visual)


def random_clip(cfg, seed):
    """A randomly initialised image tower of cfg (for tests); BatchNorm
    statistics near the identity, position embeddings at CLIP's init
    scale."""
    torch.manual_seed(seed)
    root = build(cfg)
    common.random_init(root, seed)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, b in root.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape, generator=g))
            elif name.endswith("running_var"):
                b.copy_(1.0 + 0.1 * torch.rand(b.shape, generator=g))
        for name, p in root.named_parameters():
            if name.endswith("positional_embedding") or name.endswith("class_embedding"):
                p.copy_(p.shape[-1] ** -0.5 * torch.randn(p.shape, generator=g))
    return root.visual.eval()


class CLIPFeatures(nn.Module):
    """image in [-1,1] (any size) -> the L2-normalised CLIP embedding [N,E],
    with cmmd's preprocessing inside the graph (module docstring)."""

    def __init__(self, visual, resolution):
        super().__init__()
        self.visual = visual
        self.resolution = resolution
        self.register_buffer("mean", torch.tensor(CLIP_MEAN, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(CLIP_STD, dtype=torch.float32).view(1, 3, 1, 1))

    def prepare(self, image):
        v = preprocess.centre_crop_square(preprocess.to_uint8(image))
        v = preprocess.resize_pil_bicubic(v, self.resolution, self.resolution)
        return (v / 255.0 - self.mean) / self.std

    def forward(self, image):
        e = self.visual(self.prepare(image))
        return e / torch.linalg.norm(e, dim=-1, keepdim=True)


# OpenAI's ResNets by (layers, width) (clip.py's _MODELS).
_RESNETS = {((3, 4, 6, 3), 64): "rn50", ((3, 4, 23, 3), 64): "rn101", ((4, 6, 10, 6), 80): "rn50x4",
            ((6, 8, 18, 8), 96): "rn50x16", ((3, 15, 36, 10), 128): "rn50x64"}


def config_name(cfg):
    """clip_vit-l-14-336, clip_rn50-224 ...: the network and its
    resolution (generic names for other sizes)."""
    if cfg["kind"] == "vit":
        size = {768: "b", 1024: "l"}.get(cfg["width"], "w%d" % cfg["width"])
        return "clip_vit-%s-%d-%d" % (size, cfg["patch"], cfg["resolution"])
    name = _RESNETS.get((tuple(cfg["layers"]), cfg["width"]),
                        "rn%s-w%d" % ("-".join(str(n) for n in cfg["layers"]), cfg["width"]))
    return "clip_%s-%d" % (name, cfg["resolution"])


VIT_L14_336 = {"kind": "vit", "width": 1024, "layers": 24, "patch": 14, "resolution": 336, "heads": 16,
               "output_dim": 768}


def main(argv=None):
    p = common.base_parser("python3 -m export.clip", __doc__.split("\n\n")[0])
    p.add_argument("--weights", help="an OpenAI CLIP file (JIT archive such as ViT-L-14-336px.pt, or a state dict)")
    p.add_argument("--preprocess", default="cmmd", choices=sorted(PREPROCESS),
                   help="the preprocessing in the graph (cmmd: cmmd-pytorch's)")
    p.add_argument("--random-config", default="",
                   help="with --random-init: the architecture as JSON (the keys export.clip.config_of returns; "
                        "default ViT-L/14@336px)")
    p.add_argument("--save-random-weights", default="",
                   help="with --random-init: also write the random state dict here (clip/model.py's visual.* keys)")
    p.add_argument("--verify-size", type=int, default=64, help="height of the verification images (default 64)")
    args = p.parse_args(argv)
    if not args.random_init and not args.weights:
        p.error("--weights is required (or --random-init)")
    if args.random_init:
        import json
        cfg = json.loads(args.random_config) if args.random_config else dict(VIT_L14_336)
        visual = random_clip(cfg, args.seed)
        if args.save_random_weights:
            torch.save({"visual." + k: v for k, v in visual.state_dict().items()}, args.save_random_weights)
    else:
        visual, cfg, unused = load_weights(args.weights)
        print("loaded the image tower (%s); %d keys of the text tower and archive attributes not used" % (
            config_name(cfg), unused))
    model = CLIPFeatures(visual, cfg["resolution"]).eval()
    extra = {"munit_eval.feature_dim": cfg["output_dim"], "munit_eval.feature_extractor": config_name(cfg),
             "munit_eval.input_size": cfg["resolution"], "munit_eval.preprocess": args.preprocess,
             "munit_eval.preprocess_detail": PREPROCESS[args.preprocess], "munit_eval.normalized": "l2"}
    src = common.describe_source(args, "weights")
    md = common.base_metadata("features", None, None, dict(cfg, preprocess=args.preprocess), src, extra)
    common.export_features(args, model, md, down=(400, 360))  # downsampling as well


if __name__ == "__main__":
    common.run_main(main)
