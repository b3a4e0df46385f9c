"""Export the LPIPS embedding model (richzhang/PerceptualSimilarity) to ONNX.

    python3 -m export.lpips --net alex --version 0.1 \\
        --trunk-weights alexnet-owt-7be5be79.pth --lin-weights weights/v0.1/alex.pth --out lpips_alex.onnx

Contract (the model contracts (docs/models.md), role lpips): input ``image`` [N,3,H,W] in [-1,1];
outputs ``lpips_0`` ... ``lpips_{L-1}`` (L = 5 for alex and vgg, 7 for squeeze),

    lpips_l = sqrt(w_l) * f_l / (sqrt(sum_c f_l^2) + 1e-10),

where f_l is the l-th tapped trunk activation (after ReLU) of the image passed
through LPIPS's ScalingLayer ((x - shift) / scale, shift (-.030,-.088,-.188),
scale (.458,.448,.450); version 0.0 has no scaling layer) and w_l >= 0 the
weights of the l-th linear layer (1x1 conv, no bias). Then

    LPIPS(x, y) = sum_l mean_{h,w} sum_c (lpips_l(x) - lpips_l(y))^2,

the value of ``lpips.LPIPS(net, version)(x, y)``: sum_c w_c d_c^2 of the
normalised features equals sum_c (sqrt(w_c) d_c)^2.

Trunks (the lpips package's pretrained_networks.py): torchvision's alexnet,
vgg16 and squeezenet1_1 ``features``, tapped after features[1], [4], [7], [9],
[11] (alex); [3], [8], [15], [22], [29] (vgg: relu1_2 ... relu5_3); [1], [4],
[7], [9], [10], [11], [12] (squeeze). ImageNet trunk weights cannot be
downloaded by this tool: ``--trunk-weights`` takes torchvision's state dict
file (``features.N.weight`` ...; classifier keys are ignored) or a saved
``lpips.LPIPS`` state dict (``net.sliceK.N.weight`` ...). ``--lin-weights``
takes the lpips package's ``weights/v0.1/<net>.pth`` (``lin0.model.1.weight``
..., or ``lin0.model.0.weight`` when saved without dropout).
"""

import os

import numpy as np
import torch
import torch.nn as nn

from . import common

TAPS = {
    "alex": [1, 4, 7, 9, 11],
    "vgg": [3, 8, 15, 22, 29],
    "squeeze": [1, 4, 7, 9, 10, 11, 12],
}
CHANNELS = {
    "alex": [64, 192, 384, 256, 256],
    "vgg": [64, 128, 256, 512, 512],
    "squeeze": [64, 128, 256, 384, 384, 512, 512],
}
SHIFT = [-.030, -.088, -.188]
SCALE = [.458, .448, .450]
EPS = 1e-10


def trunk_features(net):
    """torchvision's feature extractor of the trunk (random weights)."""
    import torchvision.models as tv
    if net == "alex":
        return tv.alexnet().features
    if net == "vgg":
        return tv.vgg16().features
    if net == "squeeze":
        return tv.squeezenet1_1().features
    raise common.ExportError("unknown --net %r (alex, vgg, squeeze)" % net)


class LPIPSEmbed(nn.Module):
    """image -> (lpips_0, ..., lpips_{L-1}) as in the module docstring."""

    def __init__(self, net, version, lin):
        super().__init__()
        self.features = trunk_features(net)
        self.taps = TAPS[net]
        self.version = version
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))
        for i, w in enumerate(lin):
            self.register_buffer("sqrt_w%d" % i, torch.sqrt(w.reshape(1, -1, 1, 1).float()))

    def forward(self, image):
        x = (image - self.shift) / self.scale if self.version == "0.1" else image
        outs, last = [], self.taps[-1]
        for i, layer in enumerate(self.features):
            if i > last:
                break
            x = layer(x)
            if i in self.taps:
                # Out of place: the next ReLU in torchvision's trunks is inplace.
                f = x.clone()
                k = len(outs)
                norm = torch.sqrt(torch.sum(f * f, dim=1, keepdim=True))
                outs.append(getattr(self, "sqrt_w%d" % k) * f / (norm + EPS))
        return tuple(outs)


def load_trunk(features, path, net):
    """Loads trunk weights from torchvision's state dict (features.N.*) or an
    lpips.LPIPS state dict (net.sliceK.N.*), strictly over the trunk's keys."""
    sd = common.state_dict_of(common.load_checkpoint(path), path)
    taps = TAPS[net]
    own = set(features.state_dict())
    mapped = {}
    for k, v in sd.items():
        if k.startswith("features."):
            k2 = k[len("features."):]
        elif k.startswith("net.slice"):
            k2 = k.split(".", 2)[2]  # net.slice2.3.weight -> 3.weight (the index in features)
        else:
            continue  # classifier.*, lin*, scaling_layer.*
        idx = int(k2.split(".")[0])
        if idx > taps[-1]:
            continue  # layers after the last tap (unused)
        mapped[k2] = v
    want = {k for k in own if int(k.split(".")[0]) <= taps[-1]}
    missing = sorted(want - set(mapped))
    extra = sorted(set(mapped) - want)
    if missing or extra:
        raise common.ExportError("trunk weights %s do not fit %s: missing %s, unexpected %s" % (
            path, net, common.clip_keys(missing) or "none", common.clip_keys(extra) or "none"))
    for k in mapped:
        if tuple(mapped[k].shape) != tuple(features.state_dict()[k].shape):
            raise common.ExportError("trunk weights %s: %s has shape %s, %s wants %s" % (
                path, k, list(mapped[k].shape), net, list(features.state_dict()[k].shape)))
    features.load_state_dict(mapped, strict=False)


def load_lin(path, net):
    """The L linear-layer weights w_l [1,C_l,1,1] from an lpips weight file
    (or a full lpips.LPIPS state dict). Every lin key must be used."""
    sd = common.state_dict_of(common.load_checkpoint(path), path)
    lin = []
    for i, c in enumerate(CHANNELS[net]):
        w = None
        for k in ("lin%d.model.1.weight" % i, "lin%d.model.0.weight" % i):
            if k in sd:
                w = sd[k]
        if w is None:
            raise common.ExportError("lin weights %s: no lin%d.model.1.weight (the lpips package's weights/v0.x/%s.pth)"
                                     % (path, i, net))
        if tuple(w.shape) != (1, c, 1, 1):
            raise common.ExportError("lin weights %s: lin%d has shape %s, %s wants [1, %d, 1, 1]" % (
                path, i, list(w.shape), net, c))
        if float(w.min()) < 0:
            raise common.ExportError("lin weights %s: lin%d has negative weights (LPIPS clamps them to >= 0)" % (path, i))
        lin.append(w.detach().float())
    extra = sorted(k for k in sd if k.startswith("lin") and int(k[3:].split(".")[0]) >= len(CHANNELS[net]))
    if extra:
        raise common.ExportError("lin weights %s: unexpected keys %s for %s" % (path, common.clip_keys(extra), net))
    return lin


def main(argv=None):
    p = common.base_parser("python3 -m export.lpips", __doc__.split("\n\n")[0])
    p.add_argument("--net", default="alex", choices=sorted(TAPS))
    p.add_argument("--version", default="0.1", choices=["0.0", "0.1"])
    p.add_argument("--trunk-weights", help="torchvision ImageNet weights of the trunk, or an lpips.LPIPS state dict")
    p.add_argument("--lin-weights", help="the lpips package's weights/v<version>/<net>.pth")
    p.add_argument("--verify-size", type=int, default=64, help="height of the verification images (default 64)")
    args = p.parse_args(argv)
    if not args.random_init and not (args.trunk_weights and args.lin_weights):
        p.error("--trunk-weights and --lin-weights are required (or --random-init)")
    torch.manual_seed(args.seed)
    if args.lin_weights:
        lin = load_lin(args.lin_weights, args.net)
        lin_src = "%s sha256 %s" % (os.path.basename(args.lin_weights), common.sha256_file(args.lin_weights))
    else:
        g = torch.Generator().manual_seed(args.seed + 1)
        lin = [torch.rand(1, c, 1, 1, generator=g) for c in CHANNELS[args.net]]
        lin_src = "random, seed %d" % (args.seed + 1)
    model = LPIPSEmbed(args.net, args.version, lin)
    if args.trunk_weights:
        load_trunk(model.features, args.trunk_weights, args.net)
        trunk_src = "%s sha256 %s" % (os.path.basename(args.trunk_weights), common.sha256_file(args.trunk_weights))
    else:
        trunk_src = "random init (torchvision's), torch.manual_seed(%d)" % args.seed
    model.eval()
    L = len(TAPS[args.net])
    names = ["lpips_%d" % i for i in range(L)]
    md = common.base_metadata("lpips", extra={
        common.META_LPIPS_NET: args.net, common.META_LPIPS_VERSION: args.version,
        "munit_eval.lpips_layers": L, "munit_eval.backbone": trunk_src, "munit_eval.lin_weights": lin_src,
        "munit_eval.formula": "lpips_l = sqrt(w_l) * f_l / (sqrt(sum_c f_l^2) + 1e-10); "
                              "distance = sum_l mean_hw sum_c (a_l-b_l)^2"})
    axes = {"image": {0: "N", 2: "H", 3: "W"}}
    for i, n in enumerate(names):
        axes[n] = {0: "N", 2: "H%d" % i, 3: "W%d" % i}
    size = args.verify_size
    common.export_onnx(model, (torch.zeros(1, 3, size, size),), ["image"], names, axes, args.out, md)
    rng = np.random.default_rng(args.seed)
    cases = [{"image": common.random_images(rng, args.verify_batch, size, size)},
             {"image": common.random_images(rng, 1, size + 16, size)}]
    common.verify(args, model, args.out, cases, names)


if __name__ == "__main__":
    common.run_main(main)
