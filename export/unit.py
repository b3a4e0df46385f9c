"""Export an NVlabs UNIT generator checkpoint (``gen_*.pt``, VAEGen) to ONNX.

    python3 -m export.unit --checkpoint gen_00500000.pt --config unit_edges2shoes.yaml \\
        --direction a2b --out unit_a2b.onnx

The checkpoint holds two VAEGen state dicts, ``a`` and ``b`` (UNIT_Trainer's
gen_a and gen_b, as saved by the MUNIT/UNIT code base). a2b encodes with
gen_a.enc and decodes with gen_b.dec; b2a the other way round. The test-time
decode is deterministic: the decoder gets the mean (the encoder's output),
without the unit-variance noise added in training, as the official test.py.
With ``--stochastic`` the noise is kept, as in training (trainer.py's
gen_update: ``h_a, n_a = gen_a.encode(x_a); x_ab = gen_b.decode(h_a + n_a)``):
a normal noise input ``encoder_noise`` of the content's shape [N, C,
H/2^n_downsample, W/2^n_downsample] is added to the content, declared in
``munit_eval.noise``. (NVlabs' VAEGen has no dropout layers, so the encoder
noise is UNIT's only test-time randomness in this code base.)

Contract (the model contracts (docs/models.md), role generator, method UNIT, latent_dim 0):
input ``image`` [N,3,H,W], output ``translated`` [N,3,H,W]; H and W multiples of
2^n_downsample.

VAEGen is our implementation of NVlabs/MUNIT networks.py's VAEGen with its
module names: ``enc`` is the ContentEncoder (InstanceNorm without affine), and
``dec`` the Decoder with instance-norm residual blocks, LayerNorm upsampling
blocks (nearest x2) and a tanh output (see export/munit.py for the blocks).
"""

import json

import numpy as np
import torch
import torch.nn as nn

from . import common
from .munit import ContentEncoder, Decoder, build_pair, gen_params, hw_multiple


class VAEGen(nn.Module):
    """UNIT's generator: a content encoder and an instance-norm decoder."""

    def __init__(self, input_dim, params):
        super().__init__()
        p = gen_params(params, need_style=False)
        self.enc = ContentEncoder(p["n_downsample"], p["n_res"], input_dim, p["dim"], "in", p["activ"], p["pad_type"])
        self.dec = Decoder(p["n_downsample"], p["n_res"], self.enc.output_dim, input_dim, "in", p["activ"],
                           p["pad_type"])


class Translator(nn.Module):
    """image -> translated: dst.dec(src.enc(image)), the mean of the latent."""

    def __init__(self, src, dst, src_dim, dst_dim):
        super().__init__()
        self.pre, self.post = common.adapt_channels(src_dim, dst_dim)
        self.enc = src.enc
        self.dec = dst.dec

    def forward(self, image):
        return self.post(self.dec(self.enc(self.pre(image))))


class NoisyTranslator(Translator):
    """image, encoder_noise -> translated: dst.dec(src.enc(image) + n), the
    Gaussian encoder of the official training code (VAEGen.encode returns
    the hidden code and torch.randn of its size; gen_update decodes
    hiddens + noise) with n ~ N(0, I) an input."""

    def forward(self, image, encoder_noise):
        return self.post(self.dec(self.enc(self.pre(image)) + encoder_noise))


def main(argv=None):
    p = common.base_parser("python3 -m export.unit", __doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", help="gen_*.pt of a UNIT run (dict with keys 'a' and 'b')")
    p.add_argument("--config", required=True, help="the training config YAML (its gen: block and input_dim_a/b)")
    p.add_argument("--direction", choices=["a2b", "b2a"], default="a2b")
    p.add_argument("--stochastic", action="store_true",
                   help="sample the Gaussian encoder as in training: decode content + n with n ~ N(0, I) a noise "
                        "input encoder_noise [N, C, H/2^n_downsample, W/2^n_downsample] declared in munit_eval.noise")
    p.add_argument("--verify-size", type=int, default=0,
                   help="height of the verification images (default: 16 * 2^n_downsample)")
    args = p.parse_args(argv)
    if not args.random_init and not args.checkpoint:
        p.error("--checkpoint is required (or --random-init)")
    cfg = common.load_yaml(args.config)
    gen_a, gen_b, da, db = build_pair(cfg, VAEGen, args)
    src, dst, sdim, ddim = (gen_a, gen_b, da, db) if args.direction == "a2b" else (gen_b, gen_a, db, da)
    mult = hw_multiple(cfg)
    config = {"gen": {k: cfg["gen"][k] for k in sorted(cfg["gen"])}, "direction": args.direction,
              "input_dim_a": da, "input_dim_b": db, "stochastic": args.stochastic}
    g = (NoisyTranslator if args.stochastic else Translator)(src, dst, sdim, ddim).eval()
    size = args.verify_size or 16 * mult
    extra = {"munit_eval.hw_multiple": mult}
    example = [torch.zeros(1, 3, size, size)]
    names = ["image"]
    axes = {"image": {0: "N", 2: "H", 3: "W"}, "translated": {0: "N", 2: "H", 3: "W"}}
    specs = []
    if args.stochastic:
        with torch.no_grad():
            chw = tuple(g.enc(g.pre(example[0])).shape[1:])
        specs = [common.noise_spec("encoder_noise", "normal", chw, (size, size))]
        extra[common.META_NOISE] = json.dumps(specs)
        axes.update(common.noise_dynamic_axes(specs))
        example.append(torch.zeros(1, *chw))
        names.append("encoder_noise")
    md = common.base_metadata("generator", "UNIT", 0, config, common.describe_source(args), extra)
    common.export_onnx(g, tuple(example), names, ["translated"], axes, args.out, md)
    rng = np.random.default_rng(args.seed)
    cases = []
    for n, h, w in ((args.verify_batch, size, size), (1, size, size + mult)):
        c = {"image": common.random_images(rng, n, h, w)}
        c.update(common.noise_arrays(rng, specs, n, h, w))
        cases.append(c)
    common.verify(args, g, args.out, cases, ["translated"])


if __name__ == "__main__":
    common.run_main(main)
