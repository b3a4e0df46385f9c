"""Export StarGAN v2 (clovaai/stargan-v2) to ONNX: generator, mapping network and style encoder.

    python3 -m export.stargan_v2 --checkpoint 100000_nets_ema.ckpt --img-size 256 --num-domains 3 \\
        --domains cat,dog,wild --out sg.onnx

writes sg.generator.onnx, sg.mapping.onnx and sg.style_encoder.onnx. The
checkpoint is the dict the official CheckpointIO saves (``NNNNNN_nets_ema.ckpt``):
keys ``generator``, ``mapping_network`` and ``style_encoder``, each a state dict
(a DataParallel ``module.`` prefix is stripped). The discriminator's
``NNNNNN_nets.ckpt`` works too; its extra keys are ignored.

Contracts (docs/models.md):
- generator: ``image`` [N,3,H,W], ``style`` [N,style_dim] -> ``translated``
  (method "StarGAN v2", latent_dim = style_dim, hw_multiple 2^(log2(img_size)-4));
- mapping: ``latent`` [N,latent_dim], ``domain`` [N,D] one-hot -> ``style``
  [N,style_dim] (latent_dim, domains);
- style_encoder: ``image`` [N,3,img_size,img_size], ``domain`` [N,D] -> ``style``
  (latent_dim = style_dim, domains; the last 4x4 convolution fixes the size).

The official networks pick the target domain's head by indexing
``out[arange(N), y]``; the exported graphs take the domain one-hot and compute
sum_d onehot[n,d] * out[n,d,:], which is the same value exactly (every other
term is 0 * a finite number).

w_hpf > 0 (CelebA-HQ) is refused: there the generator also takes the FAN
landmark network's masks (core/wing.py), which is not exported.

Our modules follow core/model.py's module tree and parameter names, written
from its structure: ResBlk (instance norm with affine, LeakyReLU 0.2, 3x3 convs,
average-pool downsampling, learned 1x1 shortcut, sum / sqrt(2)), AdaIN
((1 + gamma) * IN(x) + beta from one Linear of the style), AdainResBlk (nearest
x2 upsampling), the mapping network (4 shared and 4 per-domain 512-wide Linear
layers), the style encoder (ResBlks down to 4x4, 4x4 conv, per-domain Linear).
"""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import common

NETS = ("generator", "mapping_network", "style_encoder")


class ResBlk(nn.Module):
    def __init__(self, dim_in, dim_out, normalize=False, downsample=False):
        super().__init__()
        self.actv = nn.LeakyReLU(0.2)
        self.normalize, self.downsample = normalize, downsample
        self.learned_sc = dim_in != dim_out
        self.conv1 = nn.Conv2d(dim_in, dim_in, 3, 1, 1)
        self.conv2 = nn.Conv2d(dim_in, dim_out, 3, 1, 1)
        if normalize:
            self.norm1 = nn.InstanceNorm2d(dim_in, affine=True)
            self.norm2 = nn.InstanceNorm2d(dim_in, affine=True)
        if self.learned_sc:
            self.conv1x1 = nn.Conv2d(dim_in, dim_out, 1, 1, 0, bias=False)

    def forward(self, x):
        sc = self.conv1x1(x) if self.learned_sc else x
        if self.downsample:
            sc = F.avg_pool2d(sc, 2)
        r = self.norm1(x) if self.normalize else x
        r = self.conv1(self.actv(r))
        if self.downsample:
            r = F.avg_pool2d(r, 2)
        if self.normalize:
            r = self.norm2(r)
        r = self.conv2(self.actv(r))
        return (sc + r) / math.sqrt(2)


class AdaIN(nn.Module):
    def __init__(self, style_dim, num_features):
        super().__init__()
        self.norm = nn.InstanceNorm2d(num_features, affine=False)
        self.fc = nn.Linear(style_dim, num_features * 2)

    def forward(self, x, s):
        h = self.fc(s)[:, :, None, None]
        gamma, beta = torch.chunk(h, 2, dim=1)
        return (1 + gamma) * self.norm(x) + beta


class AdainResBlk(nn.Module):
    def __init__(self, dim_in, dim_out, style_dim, upsample=False):
        super().__init__()
        self.actv = nn.LeakyReLU(0.2)
        self.upsample = upsample
        self.learned_sc = dim_in != dim_out
        self.conv1 = nn.Conv2d(dim_in, dim_out, 3, 1, 1)
        self.conv2 = nn.Conv2d(dim_out, dim_out, 3, 1, 1)
        self.norm1 = AdaIN(style_dim, dim_in)
        self.norm2 = AdaIN(style_dim, dim_out)
        if self.learned_sc:
            self.conv1x1 = nn.Conv2d(dim_in, dim_out, 1, 1, 0, bias=False)

    def forward(self, x, s):
        sc = F.interpolate(x, scale_factor=2, mode="nearest") if self.upsample else x
        if self.learned_sc:
            sc = self.conv1x1(sc)
        r = self.actv(self.norm1(x, s))
        if self.upsample:
            r = F.interpolate(r, scale_factor=2, mode="nearest")
        r = self.conv2(self.actv(self.norm2(self.conv1(r), s)))
        return (r + sc) / math.sqrt(2)


def repeats(img_size, extra):
    """log2(img_size) - extra, checking that img_size is a power of two large
    enough for the network."""
    n = int(np.log2(img_size))
    if img_size < 32 or 2 ** n != img_size:
        raise common.ExportError("--img-size %d: want a power of two of at least 32 (the official sizes are 256 and 512)"
                                 % img_size)
    return n - extra


class Generator(nn.Module):
    def __init__(self, img_size, style_dim, max_conv_dim=512):
        super().__init__()
        dim_in = 2 ** 14 // img_size
        self.from_rgb = nn.Conv2d(3, dim_in, 3, 1, 1)
        self.encode, self.decode = nn.ModuleList(), nn.ModuleList()
        self.to_rgb = nn.Sequential(nn.InstanceNorm2d(dim_in, affine=True), nn.LeakyReLU(0.2),
                                    nn.Conv2d(dim_in, 3, 1, 1, 0))
        dim_out = dim_in
        for _ in range(repeats(img_size, 4)):
            dim_out = min(dim_in * 2, max_conv_dim)
            self.encode.append(ResBlk(dim_in, dim_out, normalize=True, downsample=True))
            self.decode.insert(0, AdainResBlk(dim_out, dim_in, style_dim, upsample=True))
            dim_in = dim_out
        for _ in range(2):
            self.encode.append(ResBlk(dim_out, dim_out, normalize=True))
            self.decode.insert(0, AdainResBlk(dim_out, dim_out, style_dim))

    def forward(self, image, style):
        x = self.from_rgb(image)
        for b in self.encode:
            x = b(x)
        for b in self.decode:
            x = b(x, style)
        return self.to_rgb(x)


def pick(out, onehot):
    """out [N,D,S] at each row's domain: sum_d onehot[n,d] * out[n,d,:]."""
    return (out * onehot[:, :, None]).sum(1)


class MappingNetwork(nn.Module):
    def __init__(self, latent_dim, style_dim, num_domains):
        super().__init__()
        layers = [nn.Linear(latent_dim, 512), nn.ReLU()]
        for _ in range(3):
            layers += [nn.Linear(512, 512), nn.ReLU()]
        self.shared = nn.Sequential(*layers)
        self.unshared = nn.ModuleList([
            nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, style_dim))
            for _ in range(num_domains)])

    def forward(self, latent, domain):
        h = self.shared(latent)
        return pick(torch.stack([u(h) for u in self.unshared], dim=1), domain)


class StyleEncoder(nn.Module):
    def __init__(self, img_size, style_dim, num_domains, max_conv_dim=512):
        super().__init__()
        dim_in = 2 ** 14 // img_size
        blocks = [nn.Conv2d(3, dim_in, 3, 1, 1)]
        dim_out = dim_in
        for _ in range(repeats(img_size, 2)):
            dim_out = min(dim_in * 2, max_conv_dim)
            blocks.append(ResBlk(dim_in, dim_out, downsample=True))
            dim_in = dim_out
        blocks += [nn.LeakyReLU(0.2), nn.Conv2d(dim_out, dim_out, 4, 1, 0), nn.LeakyReLU(0.2)]
        self.shared = nn.Sequential(*blocks)
        self.unshared = nn.ModuleList([nn.Linear(dim_out, style_dim) for _ in range(num_domains)])

    def forward(self, image, domain):
        h = self.shared(image).flatten(1)
        return pick(torch.stack([u(h) for u in self.unshared], dim=1), domain)


def build(args):
    """The three networks of args, loaded from the checkpoint (or random)."""
    nets = {"generator": Generator(args.img_size, args.style_dim),
            "mapping_network": MappingNetwork(args.latent_dim, args.style_dim, args.num_domains),
            "style_encoder": StyleEncoder(args.img_size, args.style_dim, args.num_domains)}
    if args.random_init:
        for i, name in enumerate(NETS):
            common.random_init(nets[name], args.seed + i)
        return nets
    ck = common.load_checkpoint(args.checkpoint)
    if not isinstance(ck, dict):
        raise common.ExportError("checkpoint %s: want the dict CheckpointIO saves (keys %s), got %s" % (
            args.checkpoint, ", ".join(NETS), type(ck).__name__))
    missing = [n for n in NETS if n not in ck]
    if missing:
        raise common.ExportError("checkpoint %s lacks the network%s %s (it has %s; want the NNNNNN_nets_ema.ckpt "
                                 "that CheckpointIO saves)" % (args.checkpoint, "s" if len(missing) > 1 else "",
                                                               ", ".join(missing), ", ".join(sorted(map(str, ck))) or "nothing"))
    for name in NETS:
        sd = common.state_dict_of(ck[name], args.checkpoint, "network %r" % name)
        check_domains(sd, name, args)
        common.load_strict(nets[name], sd, args.checkpoint, "network %r" % name)
    return nets


def check_domains(sd, name, args):
    """A domain count that contradicts the checkpoint, said as such (rather
    than as missing or unexpected keys)."""
    if name == "generator":
        return
    heads = {k.split(".")[1] for k in sd if k.startswith("unshared.")}
    if heads and len(heads) != args.num_domains:
        raise common.ExportError("checkpoint %s: network %r has %d domain heads, but --num-domains is %d" % (
            args.checkpoint, name, len(heads), args.num_domains))


def domain_names(args):
    if not args.domains:
        return [str(i) for i in range(args.num_domains)]
    names = [d.strip() for d in args.domains.split(",")]
    if len(names) != args.num_domains or any(not d for d in names) or len(set(names)) != len(names):
        raise common.ExportError("--domains %r: want %d distinct non-empty names, comma separated (--num-domains)"
                                 % (args.domains, args.num_domains))
    return names


def one_hot(rng, n, d):
    y = rng.integers(0, d, size=n)
    out = np.zeros((n, d), np.float32)
    out[np.arange(n), y] = 1
    return out


def main(argv=None):
    p = common.base_parser("python3 -m export.stargan_v2", __doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", help="NNNNNN_nets_ema.ckpt of clovaai/stargan-v2 (CheckpointIO's dict)")
    p.add_argument("--img-size", type=int, required=True, help="the training --img_size (256 for AFHQ and CelebA-HQ)")
    p.add_argument("--num-domains", type=int, required=True, help="the training --num_domains")
    p.add_argument("--domains", default="", help="domain names in index order, comma separated "
                   "(the sorted folder names of the training set; default 0,1,...)")
    p.add_argument("--style-dim", type=int, default=64)
    p.add_argument("--latent-dim", type=int, default=16)
    p.add_argument("--w-hpf", type=float, default=0, help="must be 0: w_hpf > 0 (CelebA-HQ) needs the FAN masks, not exported")
    args = p.parse_args(argv)
    if not args.random_init and not args.checkpoint:
        p.error("--checkpoint is required (or --random-init)")
    if args.w_hpf > 0:
        raise common.ExportError("--w-hpf %g: StarGAN v2 with w_hpf > 0 (the CelebA-HQ models) adds high-pass filtered "
                                 "features masked by the FAN face-landmark network (core/wing.py), which this exporter "
                                 "does not export; only w_hpf 0 models (AFHQ) are supported" % args.w_hpf)
    if args.num_domains < 1 or args.style_dim < 1 or args.latent_dim < 1:
        raise common.ExportError("--num-domains, --style-dim and --latent-dim must be positive")
    names = domain_names(args)
    nets = {k: v.eval() for k, v in build(args).items()}
    stem = args.out[:-5] if args.out.endswith(".onnx") else args.out
    paths = {n: stem + suffix for n, suffix in
             (("generator", ".generator.onnx"), ("mapping_network", ".mapping.onnx"),
              ("style_encoder", ".style_encoder.onnx"))}
    config = {"img_size": args.img_size, "num_domains": args.num_domains, "style_dim": args.style_dim,
              "latent_dim": args.latent_dim, "w_hpf": 0}
    source = common.describe_source(args)
    mult = 2 ** repeats(args.img_size, 4)
    dom = {"munit_eval.domains": ",".join(names)}
    method = "StarGAN v2"
    s, d, z, n = args.img_size, args.num_domains, args.latent_dim, args.verify_batch
    rng = np.random.default_rng(args.seed)

    common.export_onnx(nets["generator"], (torch.zeros(1, 3, s, s), torch.zeros(1, args.style_dim)),
                       ["image", "style"], ["translated"],
                       {"image": {0: "N", 2: "H", 3: "W"}, "style": {0: "N"}, "translated": {0: "N", 2: "H", 3: "W"}},
                       paths["generator"],
                       common.base_metadata("generator", method, args.style_dim, config, source,
                                            {"munit_eval.hw_multiple": mult}))
    common.export_onnx(nets["mapping_network"], (torch.zeros(1, z), torch.zeros(1, d)), ["latent", "domain"], ["style"],
                       {"latent": {0: "N"}, "domain": {0: "N"}, "style": {0: "N"}}, paths["mapping_network"],
                       common.base_metadata("mapping", method, z, config, source, dom))
    common.export_onnx(nets["style_encoder"], (torch.zeros(1, 3, s, s), torch.zeros(1, d)), ["image", "domain"], ["style"],
                       {"image": {0: "N"}, "domain": {0: "N"}, "style": {0: "N"}}, paths["style_encoder"],
                       common.base_metadata("style_encoder", method, args.style_dim, config, source, dom))

    common.verify(args, nets["generator"], paths["generator"],
                  [{"image": common.random_images(rng, b, h, w), "style": common.random_latents(rng, b, args.style_dim)}
                   for b, h, w in ((n, s, s), (1, s, s + mult))], ["translated"])
    common.verify(args, nets["mapping_network"], paths["mapping_network"],
                  [{"latent": common.random_latents(rng, b, z), "domain": one_hot(rng, b, d)} for b in (n, 3)], ["style"])
    common.verify(args, nets["style_encoder"], paths["style_encoder"],
                  [{"image": common.random_images(rng, b, s, s), "domain": one_hot(rng, b, d)} for b in (n, 3)], ["style"])


if __name__ == "__main__":
    common.run_main(main)
