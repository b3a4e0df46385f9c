"""Export an NVlabs MUNIT generator checkpoint (``gen_*.pt``) to ONNX.

    python3 -m export.munit --checkpoint gen_01000000.pt --config edges2shoes_folder.yaml \\
        --direction a2b --out munit_a2b.onnx [--two-stage]

The checkpoint holds two AdaINGen state dicts, ``a`` and ``b`` (MUNIT_Trainer's
gen_a and gen_b). a2b encodes the content with gen_a and decodes it with gen_b's
decoder and MLP, as the official test.py does; b2a the other way round.

Single graph (the model contracts (docs/models.md), role generator): inputs ``image`` [N,3,H,W]
and ``style`` [N,style_dim], output ``translated`` [N,3,H,W]. With
``--two-stage``: ``OUT_STEM.content_encoder.onnx`` (``image`` -> ``content``)
and ``OUT_STEM.decoder.onnx`` (``content``, ``style`` -> ``translated``).
H and W must be multiples of 2^n_downsample.

The network is our implementation of NVlabs/MUNIT networks.py (AdaINGen,
ContentEncoder, StyleEncoder, Decoder, MLP, Conv2dBlock, ResBlock, LayerNorm,
AdaptiveInstanceNorm2d) with the same module tree, so parameter names match
the official state dicts key for key. Semantics at test time:

- Conv2dBlock: pad (reflect/replicate/zero) -> conv (bias) -> norm -> activation.
- 'in' norm (content encoder): InstanceNorm2d without affine, per-image
  statistics. Checkpoints from PyTorch 0.4 carry running_mean/running_var for
  these layers (the code then used track_running_stats=True; HEAD and the
  official pytorch03_to_pytorch04 conversion drop them): they are ignored.
- AdaIN (decoder residual blocks): per sample and channel,
  y = (x - mean_hw(x)) / sqrt(var_hw(x) + 1e-5) * weight + bias, with the biased
  variance (F.batch_norm in training mode on the [1, N*C, H, W] view).
  weight and bias come from the MLP's output: for each AdaIN layer in module
  order, the next C values are its bias and the following C its weight
  (AdaINGen.assign_adain_params). The layers' dummy running buffers are ignored.
- 'ln' norm (decoder upsampling): MUNIT's LayerNorm, per sample over C*H*W,
  y = (x - mean) / (std + 1e-5) * gamma_c + beta_c with the unbiased std.
- nn.Upsample(scale_factor=2), nearest; the last conv has tanh.
- MLP: LinearBlock(style_dim, mlp_dim) -> (n_blk-2) x LinearBlock(mlp_dim,
  mlp_dim) -> LinearBlock(mlp_dim, num_adain_params) without activation; n_blk 3.
"""

import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import common

# ---------------------------------------------------------------------------
# Network (module tree and attribute names follow NVlabs/MUNIT networks.py)
# ---------------------------------------------------------------------------


def _activation(name):
    if name == "relu":
        return nn.ReLU()
    if name == "lrelu":
        return nn.LeakyReLU(0.2)
    if name == "prelu":
        return nn.PReLU()
    if name == "selu":
        return nn.SELU()
    if name == "tanh":
        return nn.Tanh()
    if name == "none":
        return None
    raise common.ExportError("unsupported activation %r (relu, lrelu, prelu, selu, tanh, none)" % name)


def _pad(kind, p):
    if kind == "reflect":
        return nn.ReflectionPad2d(p)
    if kind == "replicate":
        return nn.ReplicationPad2d(p)
    if kind == "zero":
        return nn.ZeroPad2d(p)
    raise common.ExportError("unsupported pad_type %r (reflect, replicate, zero)" % kind)


class LayerNorm(nn.Module):
    """MUNIT's LayerNorm: per sample over all of C*H*W,
    y = (x - mean) / (std + eps) * gamma_c + beta_c, std unbiased (n-1)."""

    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(num_features))
        self.beta = nn.Parameter(torch.zeros(num_features))

    def forward(self, x):
        flat = x.flatten(1)
        mean = flat.mean(1).view(-1, 1, 1, 1)
        std = flat.std(1, unbiased=True).view(-1, 1, 1, 1)
        y = (x - mean) / (std + self.eps)
        return y * self.gamma.view(1, -1, 1, 1) + self.beta.view(1, -1, 1, 1)


class AdaIN(nn.Module):
    """Adaptive instance norm with per-sample affine parameters given at call
    time: y = (x - mean_hw) / sqrt(var_hw + eps) * weight[n,c] + bias[n,c],
    biased variance, eps 1e-5 (MUNIT's AdaptiveInstanceNorm2d)."""

    instance_norm = True  # its running buffers in checkpoints are dummies

    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.num_features = num_features
        self.eps = eps

    def forward(self, x, weight, bias):
        mean = x.mean(dim=(2, 3), keepdim=True)
        var = ((x - mean) ** 2).mean(dim=(2, 3), keepdim=True)
        y = (x - mean) / torch.sqrt(var + self.eps)
        return y * weight[:, :, None, None] + bias[:, :, None, None]


class Conv2dBlock(nn.Module):
    """pad -> conv -> norm -> activation, as MUNIT's Conv2dBlock."""

    def __init__(self, cin, cout, k, stride, padding=0, norm="none", activation="relu", pad_type="zero"):
        super().__init__()
        self.pad = _pad(pad_type, padding)
        if norm == "in":
            self.norm = nn.InstanceNorm2d(cout, affine=False, track_running_stats=False)
        elif norm == "ln":
            self.norm = LayerNorm(cout)
        elif norm == "adain":
            self.norm = AdaIN(cout)
        elif norm == "bn":
            self.norm = nn.BatchNorm2d(cout)
        elif norm == "none":
            self.norm = None
        else:
            raise common.ExportError("unsupported norm %r" % norm)
        self.activation = _activation(activation)
        self.conv = nn.Conv2d(cin, cout, k, stride, bias=True)

    def forward(self, x, adain=None):
        x = self.conv(self.pad(x))
        if isinstance(self.norm, AdaIN):
            x = self.norm(x, *adain)
        elif self.norm is not None:
            x = self.norm(x)
        if self.activation is not None:
            x = self.activation(x)
        return x


class ResBlock(nn.Module):
    """x + block2(block1(x)), the second conv block without activation."""

    def __init__(self, dim, norm, activ, pad_type):
        super().__init__()
        self.model = nn.Sequential(Conv2dBlock(dim, dim, 3, 1, 1, norm, activ, pad_type),
                                   Conv2dBlock(dim, dim, 3, 1, 1, norm, "none", pad_type))

    def forward(self, x, adain=None):
        a0 = a1 = None
        if adain is not None:
            a0, a1 = adain
        return x + self.model[1](self.model[0](x, a0), a1)


class ResBlocks(nn.Module):
    def __init__(self, n, dim, norm, activ, pad_type):
        super().__init__()
        self.model = nn.Sequential(*[ResBlock(dim, norm, activ, pad_type) for _ in range(n)])

    def forward(self, x, adain=None):
        for i, blk in enumerate(self.model):
            x = blk(x, None if adain is None else adain[2 * i:2 * i + 2])
        return x


class StyleEncoder(nn.Module):
    """MUNIT's enc_style: convs, global average pool, 1x1 conv to style_dim
    (the official output is [N,S,1,1]; StyleGraph flattens it)."""

    def __init__(self, n_downsample, input_dim, dim, style_dim, activ, pad_type):
        super().__init__()
        layers = [Conv2dBlock(input_dim, dim, 7, 1, 3, "none", activ, pad_type)]
        for _ in range(2):
            layers.append(Conv2dBlock(dim, 2 * dim, 4, 2, 1, "none", activ, pad_type))
            dim *= 2
        for _ in range(n_downsample - 2):
            layers.append(Conv2dBlock(dim, dim, 4, 2, 1, "none", activ, pad_type))
        layers += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(dim, style_dim, 1, 1, 0)]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class ContentEncoder(nn.Module):
    def __init__(self, n_downsample, n_res, input_dim, dim, norm, activ, pad_type):
        super().__init__()
        layers = [Conv2dBlock(input_dim, dim, 7, 1, 3, norm, activ, pad_type)]
        for _ in range(n_downsample):
            layers.append(Conv2dBlock(dim, 2 * dim, 4, 2, 1, norm, activ, pad_type))
            dim *= 2
        layers.append(ResBlocks(n_res, dim, norm, activ, pad_type))
        self.model = nn.Sequential(*layers)
        self.output_dim = dim

    def forward(self, x):
        return self.model(x)


class Decoder(nn.Module):
    """ResBlocks(res_norm) -> n x (nearest x2, 5x5 conv + LayerNorm) -> 7x7 conv + tanh."""

    def __init__(self, n_upsample, n_res, dim, output_dim, res_norm, activ, pad_type):
        super().__init__()
        layers = [ResBlocks(n_res, dim, res_norm, activ, pad_type)]
        for _ in range(n_upsample):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"),
                       Conv2dBlock(dim, dim // 2, 5, 1, 2, "ln", activ, pad_type)]
            dim //= 2
        layers.append(Conv2dBlock(dim, output_dim, 7, 1, 3, "none", "tanh", pad_type))
        self.model = nn.Sequential(*layers)
        self.res_norm = res_norm

    def adain_layers(self):
        """The AdaIN layers in module order (assign_adain_params' order)."""
        return [m for m in self.modules() if isinstance(m, AdaIN)]

    def forward(self, x, adain_params=None):
        adain = None
        if adain_params is not None:
            # Per layer in module order: C values of bias, then C of weight.
            adain, off = [], 0
            for m in self.adain_layers():
                c = m.num_features
                adain.append((adain_params[:, off + c:off + 2 * c], adain_params[:, off:off + c]))
                off += 2 * c
        x = self.model[0](x, adain)
        for layer in self.model[1:]:
            x = layer(x)
        return x


class LinearBlock(nn.Module):
    def __init__(self, din, dout, activation):
        super().__init__()
        self.fc = nn.Linear(din, dout, bias=True)
        self.activation = _activation(activation)

    def forward(self, x):
        x = self.fc(x)
        return x if self.activation is None else self.activation(x)


class MLP(nn.Module):
    def __init__(self, din, dout, dim, n_blk, activ):
        super().__init__()
        layers = [LinearBlock(din, dim, activ)]
        for _ in range(n_blk - 2):
            layers.append(LinearBlock(dim, dim, activ))
        layers.append(LinearBlock(dim, dout, "none"))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x.reshape(x.shape[0], -1))


class AdaINGen(nn.Module):
    """MUNIT's generator: style encoder, content encoder, AdaIN decoder, MLP."""

    def __init__(self, input_dim, params):
        super().__init__()
        p = gen_params(params, need_style=True)
        self.enc_style = StyleEncoder(4, input_dim, p["dim"], p["style_dim"], p["activ"], p["pad_type"])
        self.enc_content = ContentEncoder(p["n_downsample"], p["n_res"], input_dim, p["dim"], "in",
                                          p["activ"], p["pad_type"])
        self.dec = Decoder(p["n_downsample"], p["n_res"], self.enc_content.output_dim, input_dim, "adain",
                           p["activ"], p["pad_type"])
        n_adain = sum(2 * m.num_features for m in self.dec.adain_layers())
        self.mlp = MLP(p["style_dim"], n_adain, p["mlp_dim"], 3, p["activ"])
        self.style_dim = p["style_dim"]

    def decode(self, content, style):
        return self.dec(content, self.mlp(style))


def gen_params(params, need_style):
    """Checks the config's gen: block and returns it with its types."""
    keys = ["dim", "activ", "n_downsample", "n_res", "pad_type"]
    if need_style:
        keys += ["style_dim", "mlp_dim"]
    missing = [k for k in keys if k not in params]
    if missing:
        raise common.ExportError("config gen: block lacks %s" % ", ".join(missing))
    out = {k: params[k] for k in keys}
    for k in keys:
        if k not in ("activ", "pad_type"):
            try:
                out[k] = int(out[k])
            except (TypeError, ValueError):
                raise common.ExportError("config gen.%s=%r is not an integer" % (k, params[k]))
            if out[k] < 0 or (k in ("dim", "style_dim", "mlp_dim") and out[k] == 0):
                raise common.ExportError("config gen.%s=%d is out of range" % (k, out[k]))
    return out


def input_dims(cfg):
    """(input_dim_a, input_dim_b) of the config (default 3)."""
    return int(cfg.get("input_dim_a", 3)), int(cfg.get("input_dim_b", 3))


# ---------------------------------------------------------------------------
# Export graphs
# ---------------------------------------------------------------------------


class Translator(nn.Module):
    """image, style -> translated: content from the source generator, AdaIN
    decode with the target generator (test.py's encode/decode pairing)."""

    def __init__(self, src, dst, src_dim, dst_dim):
        super().__init__()
        self.pre, self.post = common.adapt_channels(src_dim, dst_dim)
        self.enc = src.enc_content
        self.dec = dst.dec
        self.mlp = dst.mlp

    def forward(self, image, style):
        return self.post(self.dec(self.enc(self.pre(image)), self.mlp(style)))


class ContentGraph(nn.Module):
    """image -> content (role content_encoder)."""

    def __init__(self, src, src_dim):
        super().__init__()
        self.pre, _ = common.adapt_channels(src_dim, 3)
        self.enc = src.enc_content

    def forward(self, image):
        return self.enc(self.pre(image))


class DecoderGraph(nn.Module):
    """content, style -> translated (role decoder)."""

    def __init__(self, dst, dst_dim):
        super().__init__()
        _, self.post = common.adapt_channels(3, dst_dim)
        self.dec = dst.dec
        self.mlp = dst.mlp

    def forward(self, content, style):
        return self.post(self.dec(content, self.mlp(style)))


class StyleGraph(nn.Module):
    """image -> style [N,S] (role style_encoder): the target generator's
    enc_style, whose code gen.decode takes (example-guided translation)."""

    def __init__(self, dst, dst_dim):
        super().__init__()
        self.pre, _ = common.adapt_channels(dst_dim, 3)
        self.enc = dst.enc_style

    def forward(self, image):
        return self.enc(self.pre(image)).flatten(1)


def build_pair(cfg, gen_ctor, args):
    """Builds gen_a and gen_b of the config and loads them from the checkpoint
    (keys 'a' and 'b') or initialises them randomly."""
    if "gen" not in cfg or not isinstance(cfg["gen"], dict):
        raise common.ExportError("config %s: no gen: block" % args.config)
    da, db = input_dims(cfg)
    gen_a, gen_b = gen_ctor(da, cfg["gen"]), gen_ctor(db, cfg["gen"])
    if args.random_init:
        common.random_init(gen_a, args.seed)
        common.random_init(gen_b, args.seed + 1)
        return gen_a, gen_b, da, db
    ck = common.load_checkpoint(args.checkpoint)
    if not isinstance(ck, dict) or "a" not in ck or "b" not in ck:
        raise common.ExportError("checkpoint %s: want a dict with keys 'a' and 'b' (a gen_*.pt file), got %s" % (
            args.checkpoint, sorted(ck) if isinstance(ck, dict) else type(ck).__name__))
    for key, gen in (("a", gen_a), ("b", gen_b)):
        sd = common.state_dict_of(ck[key], args.checkpoint, "state dict %r" % key)
        dropped = common.load_strict(gen, sd, args.checkpoint, "state dict %r" % key)
        if dropped:
            print("%s[%r]: ignored %d instance-norm running-stat keys" % (os.path.basename(args.checkpoint), key, len(dropped)))
    return gen_a, gen_b, da, db


def hw_multiple(cfg):
    return 2 ** int(cfg["gen"]["n_downsample"])


def export_style_encoder(args, dst, ddim, style_dim, config, source, extra, shapes, rng, path):
    """Writes and verifies the target domain's style encoder."""
    g = StyleGraph(dst, ddim).eval()
    b, h, w = shapes[0]
    common.export_onnx(g, (torch.zeros(1, 3, h, w),), ["image"], ["style"],
                       {"image": {0: "N", 2: "H", 3: "W"}, "style": {0: "N"}}, path,
                       common.base_metadata("style_encoder", "MUNIT", style_dim, config, source, extra))
    common.verify(args, g, path, [{"image": common.random_images(rng, b, h, w)} for b, h, w in shapes], ["style"])


def main(argv=None):
    p = common.base_parser("python3 -m export.munit", __doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", help="gen_*.pt from NVlabs/MUNIT (dict with keys 'a' and 'b')")
    p.add_argument("--config", required=True, help="the training config YAML (its gen: block and input_dim_a/b)")
    p.add_argument("--direction", choices=["a2b", "b2a"], default="a2b")
    p.add_argument("--two-stage", action="store_true",
                   help="write OUT_STEM.content_encoder.onnx and OUT_STEM.decoder.onnx instead of one graph")
    p.add_argument("--style-encoder", action="store_true",
                   help="also write OUT_STEM.style_encoder.onnx: the target domain's style encoder, "
                        "for reference-guided translation (translate --style-encoder --references)")
    p.add_argument("--verify-size", type=int, default=0,
                   help="height of the verification images (default: 16 * 2^n_downsample)")
    args = p.parse_args(argv)
    if not args.random_init and not args.checkpoint:
        p.error("--checkpoint is required (or --random-init)")
    cfg = common.load_yaml(args.config)
    gen_a, gen_b, da, db = build_pair(cfg, AdaINGen, args)
    src, dst, sdim, ddim = (gen_a, gen_b, da, db) if args.direction == "a2b" else (gen_b, gen_a, db, da)
    style_dim = int(cfg["gen"]["style_dim"])
    mult = hw_multiple(cfg)
    config = {"gen": {k: cfg["gen"][k] for k in sorted(cfg["gen"])}, "direction": args.direction,
              "input_dim_a": da, "input_dim_b": db}
    extra = {"munit_eval.hw_multiple": mult}
    source = common.describe_source(args)

    rng = np.random.default_rng(args.seed)
    size = args.verify_size or 16 * mult
    n = args.verify_batch
    shapes = [(n, size, size), (1, size, size + mult)]  # the second catches baked-in spatial sizes

    stem = args.out[:-5] if args.out.endswith(".onnx") else args.out
    if args.style_encoder:
        export_style_encoder(args, dst, ddim, style_dim, config, source, extra, shapes, rng, stem + ".style_encoder.onnx")

    if not args.two_stage:
        g = Translator(src, dst, sdim, ddim).eval()
        img = torch.zeros(1, 3, size, size)
        sty = torch.zeros(1, style_dim)
        md = common.base_metadata("generator", "MUNIT", style_dim, config, source, extra)
        common.export_onnx(g, (img, sty), ["image", "style"], ["translated"],
                           {"image": {0: "N", 2: "H", 3: "W"}, "style": {0: "N"},
                            "translated": {0: "N", 2: "H", 3: "W"}}, args.out, md)
        cases = [{"image": common.random_images(rng, b, h, w), "style": common.random_latents(rng, b, style_dim)}
                 for b, h, w in shapes]
        common.verify(args, g, args.out, cases, ["translated"])
        return

    enc_path, dec_path = stem + ".content_encoder.onnx", stem + ".decoder.onnx"
    enc = ContentGraph(src, sdim).eval()
    dec = DecoderGraph(dst, ddim).eval()
    img = torch.zeros(1, 3, size, size)
    with torch.no_grad():
        content = enc(img)
    common.export_onnx(enc, (img,), ["image"], ["content"],
                       {"image": {0: "N", 2: "H", 3: "W"}, "content": {0: "N", 2: "h", 3: "w"}}, enc_path,
                       common.base_metadata("content_encoder", "MUNIT", style_dim, config, source, extra))
    common.export_onnx(dec, (content, torch.zeros(1, style_dim)), ["content", "style"], ["translated"],
                       {"content": {0: "N", 2: "h", 3: "w"}, "style": {0: "N"},
                        "translated": {0: "N", 2: "H", 3: "W"}}, dec_path,
                       common.base_metadata("decoder", "MUNIT", style_dim, config, source, extra))
    enc_cases, dec_cases = [], []
    for b, h, w in shapes:
        im = common.random_images(rng, b, h, w)
        enc_cases.append({"image": im})
        with torch.no_grad():
            c = enc(torch.from_numpy(im)).numpy()
        dec_cases.append({"content": c, "style": common.random_latents(rng, b, style_dim)})
    common.verify(args, enc, enc_path, enc_cases, ["content"])
    common.verify(args, dec, dec_path, dec_cases, ["translated"])


if __name__ == "__main__":
    common.run_main(main)
