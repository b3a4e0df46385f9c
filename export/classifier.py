"""Export a torchvision Inception-v3 classifier to ONNX.

    # the MUNIT paper's CIS/IS classifier: Inception-v3 fine-tuned on the target
    # domain's modes, fc replaced by K classes
    python3 -m export.classifier --checkpoint inception_b.pth --classes-file modes.txt --out classifier.onnx
    # FID/KID: ImageNet Inception-v3 (torchvision's inception_v3_google-0cc3c7bd.pth)
    python3 -m export.classifier --checkpoint inception_v3_google-0cc3c7bd.pth --out inception_imagenet.onnx

Contract (the model contracts (docs/models.md), role classifier): input ``image`` [N,3,H,W] in
[-1,1], any size; outputs ``logits`` [N,K] and ``features`` [N,2048] (the
global-average-pooled Mixed_7c activations that feed fc: the pool features of
FID/KID); metadata ``munit_eval.classes`` = the class names, comma separated.

Inside the graph: bilinear resize to 299x299 (align_corners False, as MUNIT's
test_batch.py nn.Upsample(size=(299, 299), mode='bilinear')), then the input
scale (``--input-scale``):

- ``imagenet`` (default): x01 = (x+1)/2, then (x01 - mean) / std with
  torchvision's ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224,
  0.225), the input torchvision's models are trained and documented on;
- ``raw``: the [-1,1] image as is, which is what MUNIT's test_batch.py feeds its
  classifier.

then torchvision's transform_input when ``--transform-input`` is on (default:
torchvision's pretrained Inception-v3 and MUNIT's load_inception both set it),
which maps ImageNet-normalised input back to [-1,1] per channel. So the default
gives the ImageNet weights exactly the [-1,1] input they were trained on.

The checkpoint is a state dict of torchvision's Inception3 (``Conv2d_1a_3x3.conv.weight``
..., ``fc.weight`` [K,2048], ``fc.bias``); K comes from ``fc.weight``. The
auxiliary classifier (``AuxLogits.*``) is not used at test time and its keys
are ignored; every other key must be present and used. BatchNorm uses its
running statistics (eval mode).
"""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import common

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
SIZE = 299

TRUNK = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
         "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
         "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool"]


def inception(num_classes, init):
    import torchvision.models as tv
    return tv.inception_v3(weights=None, aux_logits=False, init_weights=init, num_classes=num_classes,
                           transform_input=False)


class Classifier(nn.Module):
    """image -> (logits, features) as in the module docstring."""

    def __init__(self, net, input_scale, transform_input):
        super().__init__()
        self.net = net
        self.input_scale = input_scale
        self.transform_input = transform_input
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))
        # torchvision's _transform_input, per channel: x * (std/0.5) + (mean-0.5)/0.5
        self.register_buffer("ti_scale", (torch.tensor(STD) / 0.5).view(1, 3, 1, 1))
        self.register_buffer("ti_shift", ((torch.tensor(MEAN) - 0.5) / 0.5).view(1, 3, 1, 1))

    def forward(self, image):
        x = F.interpolate(image, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
        if self.input_scale == "imagenet":
            x = ((x + 1.0) * 0.5 - self.mean) / self.std
        if self.transform_input:
            x = x * self.ti_scale + self.ti_shift
        for name in TRUNK:
            x = getattr(self.net, name)(x)
        features = torch.flatten(x, 1)
        return self.net.fc(features), features


def calibrate_batchnorm(model, seed):
    """Sets the BatchNorm running statistics of a randomly initialised model
    to those of random images (cumulative average over a few batches), so its
    activations stay well scaled in eval mode (with the default mean 0, var 1
    they grow by orders of magnitude over Inception's depth), with the
    variances floored at 1 so that no channel amplifies float rounding."""
    g = torch.Generator().manual_seed(seed + 7)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.rand(4, 3, 80, 80, generator=g) * 2 - 1)
    model.eval()
    # Channels that random images barely excite would divide rounding noise by
    # a tiny standard deviation; floor the variances at 1 (as at init).
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_var.clamp_(min=1.0)


def read_classes(args, k):
    if args.classes and args.classes_file:
        raise common.ExportError("give --classes or --classes-file, not both")
    names = None
    if args.classes:
        names = [c.strip() for c in args.classes.split(",")]
    elif args.classes_file:
        try:
            with open(args.classes_file) as f:
                names = [l.strip() for l in f if l.strip()]
        except OSError as e:
            raise common.ExportError("--classes-file: %s" % e)
    elif k == 1000:
        from torchvision.models import Inception_V3_Weights
        names = list(Inception_V3_Weights.IMAGENET1K_V1.meta["categories"])
    else:
        raise common.ExportError("the model has %d classes: name them with --classes a,b,... or --classes-file" % k)
    if len(names) != k:
        raise common.ExportError("%d class names for a model with %d classes" % (len(names), k))
    for n in names:
        if not n or "," in n:
            raise common.ExportError("class name %r: names must be non-empty and contain no comma" % n)
    return names


def main(argv=None):
    p = common.base_parser("python3 -m export.classifier", __doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", help="torchvision Inception3 state dict (.pth), fine-tuned or ImageNet")
    p.add_argument("--classes", default="", help="class names, comma separated, in logit order")
    p.add_argument("--classes-file", default="", help="class names, one per line, in logit order")
    p.add_argument("--num-classes", type=int, default=4, help="classes of a --random-init model (default 4)")
    p.add_argument("--input-scale", default="imagenet", choices=["imagenet", "raw"])
    p.add_argument("--transform-input", default="on", choices=["on", "off"])
    p.add_argument("--method", default="", help="optional munit_eval.method (e.g. the domain it classifies)")
    p.add_argument("--verify-size", type=int, default=64, help="height of the verification images (default 64)")
    args = p.parse_args(argv)
    if not args.random_init and not args.checkpoint:
        p.error("--checkpoint is required (or --random-init)")
    if args.random_init:
        torch.manual_seed(args.seed)
        net = inception(args.num_classes, True)
        k = args.num_classes
    else:
        ck = common.load_checkpoint(args.checkpoint)
        if isinstance(ck, dict) and isinstance(ck.get("state_dict"), dict):
            ck = ck["state_dict"]
        sd = common.state_dict_of(ck, args.checkpoint)
        if "fc.weight" not in sd:
            raise common.ExportError("checkpoint %s: no fc.weight (want a torchvision Inception3 state dict)" % args.checkpoint)
        k = int(sd["fc.weight"].shape[0])
        net = inception(k, False)
        dropped = common.load_strict(net, sd, args.checkpoint, ignore=lambda key: key.startswith("AuxLogits."))
        if dropped:
            print("ignored %d AuxLogits keys (the auxiliary classifier is not used at test time)" % len(dropped))
    names = read_classes(args, k)
    model = Classifier(net, args.input_scale, args.transform_input == "on").eval()
    if args.random_init:
        calibrate_batchnorm(model, args.seed)
    extra = {common.META_CLASSES: ",".join(names), "munit_eval.input_size": SIZE, "munit_eval.feature_dim": 2048,
             "munit_eval.preprocess": "bilinear resize (align_corners=False) to 299x299; input scale %s; "
                                      "transform_input %s" % (args.input_scale, args.transform_input)}
    md = common.base_metadata("classifier", args.method or None, None,
                              {"arch": "inception_v3", "num_classes": k, "input_scale": args.input_scale,
                               "transform_input": args.transform_input}, common.describe_source(args), extra)
    size = args.verify_size
    common.export_onnx(model, (torch.zeros(1, 3, size, size),), ["image"], ["logits", "features"],
                       {"image": {0: "N", 2: "H", 3: "W"}, "logits": {0: "N"}, "features": {0: "N"}}, args.out, md)
    rng = np.random.default_rng(args.seed)
    cases = [{"image": common.random_images(rng, args.verify_batch, size, size)},
             {"image": common.random_images(rng, 1, size + 10, size + 30)}]
    common.verify(args, model, args.out, cases, ["logits", "features"])


if __name__ == "__main__":
    common.run_main(main)
