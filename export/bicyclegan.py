"""Export a BicycleGAN generator (junyanz/BicycleGAN) to ONNX.

    python3 -m export.bicyclegan --checkpoint edges2shoes_net_G.pth --input-nc 1 --out bicyclegan_edges2shoes.onnx

The checkpoint is the generator's state dict as the official code saves it
(``<epoch>_net_G.pth``, or the pretrained ``<dataset>_net_G.pth``). Defaults
follow the official options: ``--netG unet_256 --where-add all --nz 8 --ngf 64
--norm instance --nl relu --upsample basic``. The edges2shoes and
edges2handbags models use ``--input-nc 1``.

Contract (the model contracts (docs/models.md), role generator, method BicycleGAN, latent_dim nz):
inputs ``image`` [N,3,H,W] and ``style`` [N,nz] (z ~ N(0, I), as get_z_random's
'gauss'), output ``translated`` [N,3,H,W]; H and W multiples of 2^num_downs
(256 for unet_256). A one-channel network gets the grey conversion of PIL's
convert('L') inside the graph (the official aligned dataset's
transforms.Grayscale on PIL images); a one-channel output is repeated to three.

Networks (our implementation, official module trees and names):

- ``--where-add all``: G_Unet_add_all, nested UnetBlock_with_z modules
  (``model.down``, ``model.submodule``, ``model.up``). Every block
  concatenates z, broadcast over H x W, to its input before its down conv
  (4x4, stride 2, padding 1); down = [LeakyReLU(0.2)] conv [norm] (the
  outermost block has only the conv, the innermost no norm); up = ReLU,
  upsampling conv, [norm] (tanh for the outermost); inner blocks return
  cat(up(submodule(down(cat(x, z)))), x).
- ``--where-add input``: G_Unet_add_input, UnetBlock modules (``model.model``),
  z concatenated once to the image.
- upsample ``basic``: ConvTranspose2d 4x4 stride 2 padding 1; ``bilinear``:
  Upsample(x2, bilinear, align_corners False), reflect pad 1, 3x3 conv.

Dropout (the official --use_dropout: ``--dropout`` here; nn.Dropout(0.5) at the
end of the up path of the ngf*8 blocks between the innermost block and the
ngf*4 block) adds no parameters and is off at test time; with
``--stochastic`` each dropout layer becomes x * (u >= 0.5) / 0.5 with u a
uniform noise input ``dropout_i`` [N, 8*ngf, H/S, W/S] declared in
``munit_eval.noise`` (docs/models.md).
"""


import numpy as np
import torch
import torch.nn as nn

from . import common
from .cyclegan import norm_layer


def _norm(kind, c):
    return None if kind == "none" else norm_layer(kind, c)


def _nl(kind):
    if kind == "relu":
        return nn.ReLU(True)
    if kind == "lrelu":
        return nn.LeakyReLU(0.2, True)
    if kind == "elu":
        return nn.ELU(inplace=True)
    raise common.ExportError("unsupported --nl %r (relu, lrelu, elu)" % kind)


def upsample_layers(cin, cout, kind):
    if kind == "basic":
        return [nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1)]
    if kind == "bilinear":
        return [nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), nn.ReflectionPad2d(1),
                nn.Conv2d(cin, cout, 3, stride=1, padding=0)]
    raise common.ExportError("unsupported --upsample %r (basic, bilinear)" % kind)


def _seq(layers):
    return nn.Sequential(*[m for m in layers if m is not None])


class UnetBlockWithZ(nn.Module):
    """One level of G_Unet_add_all (UnetBlock_with_z)."""

    def __init__(self, input_nc, outer_nc, inner_nc, nz, submodule, outermost=False, innermost=False,
                 norm="instance", nl="relu", upsample="basic", use_dropout=False):
        super().__init__()
        self.outermost, self.innermost, self.nz = outermost, innermost, nz
        downconv = nn.Conv2d(input_nc + nz, inner_nc, 4, stride=2, padding=1)
        if outermost:
            down = [downconv]
            up = [_nl(nl)] + upsample_layers(inner_nc * 2, outer_nc, upsample) + [nn.Tanh()]
        elif innermost:
            down = [nn.LeakyReLU(0.2, True), downconv]
            up = [_nl(nl)] + upsample_layers(inner_nc, outer_nc, upsample) + [_norm(norm, outer_nc)]
        else:
            down = [nn.LeakyReLU(0.2, True), downconv, _norm(norm, inner_nc)]
            up = [_nl(nl)] + upsample_layers(inner_nc * 2, outer_nc, upsample) + [_norm(norm, outer_nc)]
            if use_dropout:
                up.append(nn.Dropout(0.5))
        self.down = _seq(down)
        self.submodule = submodule
        self.up = _seq(up)

    def forward(self, x, z):
        xz = x
        if self.nz > 0:
            xz = torch.cat([x, z[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])], 1)
        if self.outermost:
            return self.up(self.submodule(self.down(xz), z))
        if self.innermost:
            return torch.cat([self.up(self.down(xz)), x], 1)
        return torch.cat([self.up(self.submodule(self.down(xz), z)), x], 1)


class GUnetAddAll(nn.Module):
    """G_Unet_add_all: z enters every down block."""

    def __init__(self, input_nc, output_nc, nz, num_downs, ngf, norm, nl, upsample, use_dropout=False):
        super().__init__()
        kw = dict(norm=norm, nl=nl, upsample=upsample)
        b = UnetBlockWithZ(ngf * 8, ngf * 8, ngf * 8, nz, None, innermost=True, **kw)
        b = UnetBlockWithZ(ngf * 8, ngf * 8, ngf * 8, nz, b, use_dropout=use_dropout, **kw)
        for _ in range(num_downs - 6):
            b = UnetBlockWithZ(ngf * 8, ngf * 8, ngf * 8, nz, b, use_dropout=use_dropout, **kw)
        b = UnetBlockWithZ(ngf * 4, ngf * 4, ngf * 8, nz, b, **kw)
        b = UnetBlockWithZ(ngf * 2, ngf * 2, ngf * 4, nz, b, **kw)
        b = UnetBlockWithZ(ngf, ngf, ngf * 2, nz, b, **kw)
        self.model = UnetBlockWithZ(input_nc, output_nc, ngf, nz, b, outermost=True, **kw)

    def forward(self, x, z):
        return self.model(x, z)


class UnetBlock(nn.Module):
    """One level of G_Unet_add_input (UnetBlock): model = down + [sub] + up."""

    def __init__(self, input_nc, outer_nc, inner_nc, submodule=None, outermost=False, innermost=False,
                 norm="instance", nl="relu", upsample="basic", use_dropout=False):
        super().__init__()
        self.outermost = outermost
        downconv = nn.Conv2d(input_nc, inner_nc, 4, stride=2, padding=1)
        if outermost:
            layers = [downconv, submodule, _nl(nl)] + upsample_layers(inner_nc * 2, outer_nc, upsample) + [nn.Tanh()]
        elif innermost:
            layers = [nn.LeakyReLU(0.2, True), downconv, _nl(nl)] + upsample_layers(inner_nc, outer_nc, upsample) + [
                _norm(norm, outer_nc)]
        else:
            layers = [nn.LeakyReLU(0.2, True), downconv, _norm(norm, inner_nc), submodule, _nl(nl)] + \
                upsample_layers(inner_nc * 2, outer_nc, upsample) + [_norm(norm, outer_nc)]
            if use_dropout:
                layers.append(nn.Dropout(0.5))
        self.model = _seq(layers)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        return torch.cat([self.model(x), x], 1)


class GUnetAddInput(nn.Module):
    """G_Unet_add_input: z concatenated to the image only."""

    def __init__(self, input_nc, output_nc, nz, num_downs, ngf, norm, nl, upsample, use_dropout=False):
        super().__init__()
        kw = dict(norm=norm, nl=nl, upsample=upsample)
        self.nz = nz
        b = UnetBlock(ngf * 8, ngf * 8, ngf * 8, innermost=True, **kw)
        for _ in range(num_downs - 5):
            b = UnetBlock(ngf * 8, ngf * 8, ngf * 8, b, use_dropout=use_dropout, **kw)
        b = UnetBlock(ngf * 4, ngf * 4, ngf * 8, b, **kw)
        b = UnetBlock(ngf * 2, ngf * 2, ngf * 4, b, **kw)
        b = UnetBlock(ngf, ngf, ngf * 2, b, **kw)
        self.model = UnetBlock(input_nc + nz, output_nc, ngf, b, outermost=True, **kw)

    def forward(self, x, z):
        if self.nz > 0:
            x = torch.cat([x, z[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])], 1)
        return self.model(x)


NUM_DOWNS = {"unet_128": 7, "unet_256": 8}


class Translator(nn.Module):
    def __init__(self, net, input_nc, output_nc):
        super().__init__()
        self.pre, self.post = common.adapt_channels(input_nc, output_nc)
        self.net = net

    def forward(self, image, style):
        return self.post(self.net(self.pre(image), style))


def build(args):
    cls = GUnetAddAll if args.where_add == "all" else GUnetAddInput
    return cls(args.input_nc, args.output_nc, args.nz, NUM_DOWNS[args.netG], args.ngf, args.norm, args.nl,
               args.upsample, args.dropout)


def main(argv=None):
    p = common.base_parser("python3 -m export.bicyclegan", __doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", help="the generator's state dict (.pth), e.g. latest_net_G.pth")
    p.add_argument("--netG", default="unet_256", choices=sorted(NUM_DOWNS))
    p.add_argument("--where-add", default="all", choices=["all", "input"])
    p.add_argument("--nz", type=int, default=8, help="latent size (default 8)")
    p.add_argument("--ngf", type=int, default=64, help="filters in the last conv layer (default 64)")
    p.add_argument("--norm", default="instance", choices=["instance", "batch", "none"])
    p.add_argument("--nl", default="relu", choices=["relu", "lrelu", "elu"])
    p.add_argument("--upsample", default="basic", choices=["basic", "bilinear"])
    p.add_argument("--input-nc", type=int, default=3, help="input channels (1 for the edges2* models)")
    p.add_argument("--output-nc", type=int, default=3, help="output channels (default 3)")
    p.add_argument("--dropout", action="store_true",
                   help="the network was trained with --use_dropout (no parameters change; dropout is off at test "
                        "time unless --stochastic)")
    p.add_argument("--stochastic", action="store_true",
                   help="keep dropout at test time (needs --dropout): one uniform noise input per dropout layer, "
                        "x * (u >= 0.5) / 0.5, declared in munit_eval.noise")
    p.add_argument("--method", default="BicycleGAN", help="munit_eval.method to record (default BicycleGAN)")
    p.add_argument("--verify-size", type=int, default=0, help="height of the verification images (default 2^num_downs)")
    args = p.parse_args(argv)
    if not args.random_init and not args.checkpoint:
        p.error("--checkpoint is required (or --random-init)")
    if args.stochastic and not args.dropout:
        raise common.ExportError("--stochastic needs --dropout (a network trained without --use_dropout has no dropout layers)")
    if args.nz <= 0:
        p.error("--nz must be positive (a model without z is not stochastic; export it as a pix2pix-style generator)")
    net = build(args)
    if args.random_init:
        common.random_init(net, args.seed)
    else:
        sd = common.state_dict_of(common.load_checkpoint(args.checkpoint), args.checkpoint)
        dropped = common.load_strict(net, sd, args.checkpoint)
        if dropped:
            print("ignored %d instance-norm running-stat keys" % len(dropped))
    g = Translator(net, args.input_nc, args.output_nc).eval()
    mult = 2 ** NUM_DOWNS[args.netG]
    config = {k: getattr(args, k) for k in ("netG", "where_add", "nz", "ngf", "norm", "nl", "upsample",
                                            "input_nc", "output_nc", "dropout", "stochastic")}
    size = args.verify_size or mult
    extra = {"munit_eval.hw_multiple": mult}
    example = [torch.zeros(1, 3, size, size), torch.zeros(1, args.nz)]
    names = ["image", "style"]
    axes = {"image": {0: "N", 2: "H", 3: "W"}, "style": {0: "N"}, "translated": {0: "N", 2: "H", 3: "W"}}
    specs = []
    if args.stochastic:
        g, specs = common.add_dropout_noise(g, example, names, axes, extra, size)
    md = common.base_metadata("generator", args.method, args.nz, config, common.describe_source(args), extra)
    common.export_onnx(g, tuple(example), names, ["translated"], axes, args.out, md)
    rng = np.random.default_rng(args.seed)
    cases = []
    for n, h, w in ((args.verify_batch, size, size), (1, size, 2 * size)):
        c = {"image": common.random_images(rng, n, h, w), "style": common.random_latents(rng, n, args.nz)}
        c.update(common.noise_arrays(rng, specs, n, h, w))
        cases.append(c)
    common.verify(args, g, args.out, cases, ["translated"])


if __name__ == "__main__":
    common.run_main(main)
