"""Export a CycleGAN generator (junyanz/pytorch-CycleGAN-and-pix2pix) to ONNX.

    python3 -m export.cyclegan --checkpoint latest_net_G_A.pth --out cyclegan_a2b.onnx

The checkpoint is one generator's state dict as the official code saves it
(``<epoch>_net_G_A.pth`` for A->B, ``<epoch>_net_G_B.pth`` for B->A, or the
pretrained ``latest_net_G.pth``): keys ``model.1.weight``, ``model.1.bias``,
``model.4.*``, ``model.7.*``, ``model.10.conv_block.1.*`` ... for the default
``--netG resnet_9blocks --norm instance --no_dropout``.

Contract (the model contracts (docs/models.md), role generator, method CycleGAN, latent_dim 0):
input ``image`` [N,3,H,W], output ``translated`` [N,3,H,W]; H and W multiples of 4.

ResnetGenerator is our implementation of the official one with its module tree
(nn.Sequential ``model``): reflect pad 3, 7x7 conv, norm, ReLU; two stride-2
3x3 convs with norm and ReLU; n_blocks ResnetBlocks (``conv_block``: reflect
pad 1, 3x3 conv, norm, ReLU, [dropout], reflect pad 1, 3x3 conv, norm, added to
the input); two ConvTranspose2d (3x3, stride 2, padding 1, output_padding 1)
with norm and ReLU; reflect pad 3, 7x7 conv, tanh. Convs have a bias when the
norm is instance norm. Instance norm has no affine parameters and no running
statistics (track_running_stats=False); running statistics in old checkpoints
are ignored, as the official BaseModel.__patch_instance_norm_state_dict does.
"""


import numpy as np
import torch
import torch.nn as nn

from . import common


def norm_layer(kind, c):
    """The official get_norm_layer: instance (no affine, no running stats),
    batch (affine, running stats) or none."""
    if kind == "instance":
        return nn.InstanceNorm2d(c, affine=False, track_running_stats=False)
    if kind == "batch":
        return nn.BatchNorm2d(c, affine=True, track_running_stats=True)
    if kind == "none":
        return nn.Identity()
    raise common.ExportError("unsupported --norm %r (instance, batch, none)" % kind)


class ResnetBlock(nn.Module):
    def __init__(self, dim, norm, use_dropout, use_bias):
        super().__init__()
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, padding=0, bias=use_bias), norm_layer(norm, dim),
                  nn.ReLU(True)]
        if use_dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, padding=0, bias=use_bias), norm_layer(norm, dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, ngf=64, norm="instance", use_dropout=False, n_blocks=9):
        super().__init__()
        use_bias = norm == "instance"
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7, padding=0, bias=use_bias),
                  norm_layer(norm, ngf), nn.ReLU(True)]
        for i in range(2):
            m = 2 ** i
            layers += [nn.Conv2d(ngf * m, ngf * m * 2, 3, stride=2, padding=1, bias=use_bias),
                       norm_layer(norm, ngf * m * 2), nn.ReLU(True)]
        m = 4
        for _ in range(n_blocks):
            layers.append(ResnetBlock(ngf * m, norm, use_dropout, use_bias))
        for i in range(2):
            m = 2 ** (2 - i)
            layers += [nn.ConvTranspose2d(ngf * m, ngf * m // 2, 3, stride=2, padding=1, output_padding=1,
                                          bias=use_bias),
                       norm_layer(norm, ngf * m // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


NETG_BLOCKS = {"resnet_9blocks": 9, "resnet_6blocks": 6}


class Translator(nn.Module):
    def __init__(self, net, input_nc, output_nc):
        super().__init__()
        self.pre, self.post = common.adapt_channels(input_nc, output_nc)
        self.net = net

    def forward(self, image):
        return self.post(self.net(self.pre(image)))


class NoiseTranslator(nn.Module):
    """CycleGAN*: image, style -> translated, where the network's input is
    the image with the nz-dimensional z broadcast over H x W appended as
    channels, cat([x, z], 1) (BicycleGAN's G_Unet_add_input way of adding z
    to the input, which the MUNIT paper's CycleGAN* baseline follows)."""

    def __init__(self, net, input_nc, output_nc):
        super().__init__()
        self.pre, self.post = common.adapt_channels(input_nc, output_nc)
        self.net = net

    def forward(self, image, style):
        x = self.pre(image)
        z = style.reshape(style.shape[0], -1)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        return self.post(self.net(torch.cat([x, z], 1)))


def main(argv=None):
    p = common.base_parser("python3 -m export.cyclegan", __doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", help="a generator state dict (.pth): latest_net_G_A.pth, latest_net_G_B.pth")
    p.add_argument("--netG", default="resnet_9blocks", choices=sorted(NETG_BLOCKS))
    p.add_argument("--ngf", type=int, default=64, help="filters in the first conv layer (default 64)")
    p.add_argument("--norm", default="instance", choices=["instance", "batch", "none"])
    p.add_argument("--input-nc", type=int, default=3, help="input channels the network was trained with (1 or 3)")
    p.add_argument("--output-nc", type=int, default=3, help="output channels (1 or 3)")
    p.add_argument("--dropout", action="store_true",
                   help="the network was trained without --no_dropout (changes the key names; dropout is off at test "
                        "time unless --stochastic)")
    p.add_argument("--stochastic", action="store_true",
                   help="keep dropout at test time (needs --dropout): one uniform noise input per dropout layer, "
                        "x * (u >= 0.5) / 0.5, declared in munit_eval.noise")
    p.add_argument("--noise-input", type=int, default=0, metavar="NZ",
                   help="CycleGAN*: the network was trained with NZ noise channels appended to its input "
                        "(z ~ N(0, I) broadcast over H x W); exported with a style input [N, NZ]")
    p.add_argument("--method", default="", help="munit_eval.method to record (default CycleGAN, or CycleGAN* "
                                                 "with --noise-input)")
    p.add_argument("--verify-size", type=int, default=64, help="height of the verification images (default 64)")
    args = p.parse_args(argv)
    if not args.random_init and not args.checkpoint:
        p.error("--checkpoint is required (or --random-init)")
    if args.ngf <= 0:
        p.error("--ngf must be positive")
    if args.noise_input < 0:
        p.error("--noise-input must be >= 0")
    if args.stochastic and not args.dropout:
        raise common.ExportError("--stochastic needs --dropout (a network trained with --no_dropout has no test-time randomness)")
    nz = args.noise_input
    method = args.method or ("CycleGAN*" if nz else "CycleGAN")
    net = ResnetGenerator(args.input_nc + nz, args.output_nc, args.ngf, args.norm, args.dropout,
                          NETG_BLOCKS[args.netG])
    if args.random_init:
        common.random_init(net, args.seed)
    else:
        sd = common.state_dict_of(common.load_checkpoint(args.checkpoint), args.checkpoint)
        dropped = common.load_strict(net, sd, args.checkpoint)
        if dropped:
            print("ignored %d instance-norm running-stat keys" % len(dropped))
    g = (NoiseTranslator if nz else Translator)(net, args.input_nc, args.output_nc).eval()
    config = {"netG": args.netG, "ngf": args.ngf, "norm": args.norm, "input_nc": args.input_nc,
              "output_nc": args.output_nc, "use_dropout": args.dropout, "noise_input": nz,
              "stochastic": args.stochastic}
    size = args.verify_size
    extra = {"munit_eval.hw_multiple": 4}
    example = [torch.zeros(1, 3, size, size)] + ([torch.zeros(1, nz)] if nz else [])
    names = ["image"] + (["style"] if nz else [])
    axes = {"image": {0: "N", 2: "H", 3: "W"}, "translated": {0: "N", 2: "H", 3: "W"}}
    if nz:
        axes["style"] = {0: "N"}
    specs = []
    if args.stochastic:
        g, specs = common.add_dropout_noise(g, example, names, axes, extra, size)
    md = common.base_metadata("generator", method, nz, config, common.describe_source(args), extra)
    common.export_onnx(g, tuple(example), names, ["translated"], axes, args.out, md)
    rng = np.random.default_rng(args.seed)
    cases = []
    for n, h, w in ((args.verify_batch, size, size), (1, size, size + 4)):
        c = {"image": common.random_images(rng, n, h, w)}
        if nz:
            c["style"] = common.random_latents(rng, n, nz)
        c.update(common.noise_arrays(rng, specs, n, h, w))
        cases.append(c)
    common.verify(args, g, args.out, cases, ["translated"])


if __name__ == "__main__":
    common.run_main(main)
