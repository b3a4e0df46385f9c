"""Export the FID Inception (the TensorFlow Inception of the original FID code,
as ported to PyTorch by pytorch-fid and torch-fidelity) to ONNX.

    # pytorch-fid (and clean-fid's legacy_pytorch mode):
    python3 -m export.fid_inception --weights pt_inception-2015-12-05-6726825d.pth --out fid_inception.onnx
    # torch-fidelity's inception-v3-compat feature extractor:
    python3 -m export.fid_inception --weights weights-inception-2015-12-05-6726825d.pth \\
        --preprocess torch-fidelity --out fid_inception_tf1.onnx

Contract (docs/models.md, role classifier): input ``image`` [N,3,H,W] in
[-1,1], any size; outputs ``logits`` [N,1008] and ``features`` [N,2048] (the
pool3 features: the global average of Mixed_7c, what pytorch-fid's
InceptionV3(dims=2048) and torch-fidelity's '2048' feature return), and
``spatial`` [N,2023], the spatial features of sFID (below).

sFID (Nash et al. 2021, the ADM evaluator: openai/guided-diffusion
evaluations/evaluator.py) reads the TF graph's tensor ``mixed_6/conv:0`` and
keeps its first 7 channels: 17 x 17 x 7 = 2,023 values per image, flattened
in TF's NHWC order. In the TF graph the Inception blocks are named mixed,
mixed_1, mixed_2 (the 35x35 blocks: Mixed_5b-5d), mixed_3 (the reduction,
Mixed_6a), mixed_4 ... mixed_7 (the 17x17 blocks: Mixed_6b-6e), mixed_8
(Mixed_7a), mixed_9, mixed_10 (Mixed_7b, 7c); inside a block ``conv`` is the
1x1 branch (its ReLU output; ``conv/Conv2D`` and ``conv/batchnorm`` are the
ops inside it) and ``tower``, ``tower_1``, ``tower_2`` the others. So
``mixed_6/conv`` is Mixed_6d.branch1x1 (conv, BatchNorm, ReLU), whose 192
channels are the first of Mixed_6d's output: torch-fidelity's weight
conversion (utils/util_convert_inception_weights.py) maps
mixed_6/conv/conv2d_params and mixed_6/conv/batchnorm to
Mixed_6d.branch1x1.conv and .bn, which is where the weights of both
projects come from. ``spatial`` is Mixed_6d's output[:, :7] permuted to
NHWC and flattened. The ADM evaluator feeds the TF graph [0,255] images
that it resizes with TF1 bilinear and scales by (v - 128)/128: that is
``--preprocess torch-fidelity``, whose ``features`` are also the ADM
evaluator's pool_3.

The weights: both projects ship the same network (torchvision's Inception3
module tree without AuxLogits, 1008 classes) under the same state-dict keys
(``Conv2d_1a_3x3.conv.weight``, ``...bn.running_var``, ``Mixed_5b.branch1x1...``,
``fc.weight`` [1008,2048], ``fc.bias``), so one loader serves both files; every
key is used and none may be missing. The network differs from torchvision's
ImageNet Inception-v3 in four places (the TF graph's behaviour): Mixed_5b-5d
(InceptionA), Mixed_6b-6e (InceptionC) and Mixed_7b (InceptionE) average-pool
their pool branch without counting the zero padding; Mixed_7c pools that
branch with a 3x3 max pool instead.

Inside the graph (``--preprocess``):

- ``pytorch-fid`` (default): x01 = (x+1)/2 (pytorch-fid's ToTensor images in
  [0,1]), bilinear resize to 299x299 with align_corners False
  (F.interpolate, half-pixel centres, no antialiasing), then 2*x01 - 1. This is
  pytorch-fid's InceptionV3(resize_input=True, normalize_input=True).
- ``torch-fidelity``: v = round((x+1)*127.5) (the uint8 image), TensorFlow
  1.x's bilinear resize to 299x299 (source coordinate dst * in/out, no
  half-pixel offset, the upper neighbour clamped to the edge; torch-fidelity's
  interpolate_bilinear_2d_like_tensorflow1x), then (v - 128)/128.

``logits`` is fc(features) (with the bias); torch-fidelity's ISC uses
``logits_unbiased`` (features @ fc.weight^T): ``--logits unbiased`` exports
that instead.
"""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import common
from .classifier import calibrate_batchnorm

SIZE = 299
NUM_CLASSES = 1008
FEATURE_DIM = 2048
# sFID's spatial features: TF's mixed_6/conv is the 1x1 branch of Mixed_6d,
# the first 192 channels of its output; the ADM evaluator keeps 7 of them.
SPATIAL_BLOCK = "Mixed_6d"
SPATIAL_CHANNELS = 7
SPATIAL_DIM = 17 * 17 * SPATIAL_CHANNELS

TRUNK = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
         "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
         "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool"]


def _pool_no_pad_count(x):
    """TF's 3x3 stride-1 SAME average pool: the mean over the window's pixels
    inside the image (padding not counted)."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


def _tv():
    import torchvision.models.inception as tvi
    return tvi


class InceptionA(_tv().InceptionA):
    """torchvision's InceptionA with TF's average pool (padding not counted)."""

    def forward(self, x):
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(_pool_no_pad_count(x))
        return torch.cat([b1, b5, b3, bp], 1)


class InceptionC(_tv().InceptionC):
    """torchvision's InceptionC with TF's average pool (padding not counted)."""

    def forward(self, x):
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        for m in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            bd = m(bd)
        bp = self.branch_pool(_pool_no_pad_count(x))
        return torch.cat([b1, b7, bd, bp], 1)


class InceptionE(_tv().InceptionE):
    """torchvision's InceptionE; the pool branch is TF's average pool
    (padding not counted) or, for Mixed_7c of the TF graph, a 3x3 max pool."""

    def __init__(self, in_channels, max_pool):
        super().__init__(in_channels)
        self.max_pool = max_pool

    def forward(self, x):
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        if self.max_pool:
            p = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        else:
            p = _pool_no_pad_count(x)
        bp = self.branch_pool(p)
        return torch.cat([b1, b3, bd, bp], 1)


def fid_inception():
    """The FID Inception's module tree: torchvision's Inception3 (1008
    classes, no AuxLogits) with the Mixed blocks of the TF graph."""
    import torchvision.models as tv
    net = tv.inception_v3(weights=None, aux_logits=False, init_weights=False, num_classes=NUM_CLASSES,
                          transform_input=False)
    net.Mixed_5b = InceptionA(192, pool_features=32)
    net.Mixed_5c = InceptionA(256, pool_features=64)
    net.Mixed_5d = InceptionA(288, pool_features=64)
    net.Mixed_6b = InceptionC(768, channels_7x7=128)
    net.Mixed_6c = InceptionC(768, channels_7x7=160)
    net.Mixed_6d = InceptionC(768, channels_7x7=160)
    net.Mixed_6e = InceptionC(768, channels_7x7=192)
    net.Mixed_7b = InceptionE(1280, max_pool=False)
    net.Mixed_7c = InceptionE(2048, max_pool=True)
    return net


def resize_tf1_bilinear(x, size):
    """TensorFlow 1.x's resize_bilinear (align_corners False) to size x size:
    for output index i the source coordinate is s = i * (in/out) (float32),
    lo = floor(s), hi = min(lo+1, in-1), and
    out = a + (b - a) * (s - lo) along W, then the same along H, in that order
    (torch-fidelity's interpolate_bilinear_2d_like_tensorflow1x, 'slow').
    The input sizes are read from the tensor, so the graph stays dynamic."""
    shape = torch._shape_as_tensor(x)
    h, w = shape[2], shape[3]
    grid = torch.arange(0, size, dtype=torch.float32)

    def axis(n):
        s = grid * (n.to(torch.float32) / float(size))
        lo = torch.floor(s)
        d = s - lo
        lo = lo.to(torch.int64)
        hi = torch.minimum(lo + 1, n - 1)
        return lo, hi, d

    ylo, yhi, dy = axis(h)
    xlo, xhi, dx = axis(w)
    rows_lo = torch.index_select(x, 2, ylo)
    rows_hi = torch.index_select(x, 2, yhi)
    in00 = torch.index_select(rows_lo, 3, xlo)
    in01 = torch.index_select(rows_lo, 3, xhi)
    in10 = torch.index_select(rows_hi, 3, xlo)
    in11 = torch.index_select(rows_hi, 3, xhi)
    dx = dx.view(1, 1, 1, size)
    dy = dy.view(1, 1, size, 1)
    in0 = in00 + (in01 - in00) * dx
    in1 = in10 + (in11 - in10) * dx
    return in0 + (in1 - in0) * dy


class FIDClassifier(nn.Module):
    """image in [-1,1] -> (logits, features) as in the module docstring."""

    def __init__(self, net, preprocess, logits="fc"):
        super().__init__()
        self.net = net
        self.preprocess = preprocess
        self.unbiased = logits == "unbiased"

    def prepare(self, image):
        if self.preprocess == "pytorch-fid":
            x = (image + 1.0) * 0.5
            x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
            return 2.0 * x - 1.0
        v = torch.round((image + 1.0) * 127.5)
        v = resize_tf1_bilinear(v, SIZE)
        return (v - 128.0) / 128.0

    def forward(self, image):
        x = self.prepare(image)
        spatial = None
        for name in TRUNK:
            x = getattr(self.net, name)(x)
            if name == SPATIAL_BLOCK:
                # TF's mixed_6/conv:0[..., :7], flattened in NHWC order.
                spatial = x[:, :SPATIAL_CHANNELS].permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        features = torch.flatten(x, 1)
        if self.unbiased:
            logits = features @ self.net.fc.weight.t()
        else:
            logits = self.net.fc(features)
        return logits, features, spatial


def load_weights(path):
    """The FID Inception of a pytorch-fid or torch-fidelity weights file,
    loaded strictly (running statistics included)."""
    net = fid_inception()
    ck = common.load_checkpoint(path)
    if isinstance(ck, dict) and isinstance(ck.get("state_dict"), dict):
        ck = ck["state_dict"]
    sd = common.state_dict_of(ck, path)
    if "fc.weight" in sd and tuple(sd["fc.weight"].shape) != (NUM_CLASSES, FEATURE_DIM):
        raise common.ExportError("weights %s: fc.weight has shape %s, the FID Inception has [1008, 2048] "
                                 "(a torchvision ImageNet Inception-v3 is exported with export.classifier)" % (
                                     path, list(sd["fc.weight"].shape)))
    common.load_strict(net, sd, path)
    return net


def random_fid_inception(seed):
    """A randomly initialised FID Inception with BatchNorm statistics of
    random images (for tests; see classifier.calibrate_batchnorm)."""
    torch.manual_seed(seed)
    net = fid_inception()
    common.random_init(net, seed)
    calibrate_batchnorm(net, seed)
    return net.eval()


def main(argv=None):
    p = common.base_parser("python3 -m export.fid_inception", __doc__.split("\n\n")[0])
    p.add_argument("--weights", help="pt_inception-2015-12-05-6726825d.pth (pytorch-fid) or "
                                     "weights-inception-2015-12-05-6726825d.pth (torch-fidelity)")
    p.add_argument("--preprocess", default="pytorch-fid", choices=["pytorch-fid", "torch-fidelity"],
                   help="resize and scaling as pytorch-fid (default) or torch-fidelity's inception-v3-compat do them")
    p.add_argument("--logits", default="fc", choices=["fc", "unbiased"],
                   help="logits = fc(features) (default) or features @ fc.weight^T (torch-fidelity's logits_unbiased)")
    p.add_argument("--save-random-weights", default="",
                   help="with --random-init: also write the random state dict here (pytorch-fid's key layout)")
    p.add_argument("--verify-size", type=int, default=64, help="height of the verification images (default 64)")
    args = p.parse_args(argv)
    if not args.random_init and not args.weights:
        p.error("--weights is required (or --random-init)")
    if args.random_init:
        net = random_fid_inception(args.seed)
        if args.save_random_weights:
            torch.save(net.state_dict(), args.save_random_weights)
    else:
        net = load_weights(args.weights)
    model = FIDClassifier(net, args.preprocess, args.logits).eval()
    names = ["class%04d" % i for i in range(NUM_CLASSES)]
    extra = {common.META_CLASSES: ",".join(names), "munit_eval.input_size": SIZE,
             "munit_eval.feature_dim": FEATURE_DIM, "munit_eval.feature_extractor": "fid_inception",
             "munit_eval.preprocess": args.preprocess,
             "munit_eval.preprocess_detail": {
                 "pytorch-fid": "pytorch-fid: (x+1)/2, bilinear resize (align_corners=False) to 299x299, 2x-1",
                 "torch-fidelity": "torch-fidelity inception-v3-compat: uint8, TF1 bilinear resize to 299x299, "
                                   "(v-128)/128"}[args.preprocess],
             "munit_eval.spatial": "sFID: TF mixed_6/conv = Mixed_6d.branch1x1, first %d channels, 17x17, NHWC "
                                   "order (%d)" % (SPATIAL_CHANNELS, SPATIAL_DIM)}
    src = common.describe_source(args, "weights")
    md = common.base_metadata("classifier", None, None,
                              {"arch": "fid_inception_v3", "preprocess": args.preprocess, "logits": args.logits},
                              src, extra)
    size = args.verify_size
    outs = ["logits", "features", "spatial"]
    common.export_onnx(model, (torch.zeros(1, 3, size, size),), ["image"], outs,
                       {"image": {0: "N", 2: "H", 3: "W"}, "logits": {0: "N"}, "features": {0: "N"},
                        "spatial": {0: "N"}}, args.out, md)
    rng = np.random.default_rng(args.seed)
    cases = [{"image": common.random_images(rng, args.verify_batch, size, size)},
             {"image": common.random_images(rng, 1, size + 10, size + 30)},
             {"image": common.random_images(rng, 1, 320, 300)}]  # downsampling as well
    common.verify(args, model, args.out, cases, outs)


if __name__ == "__main__":
    common.run_main(main)
