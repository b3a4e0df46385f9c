"""Image preprocessing written as graph operations, for the feature
extractors whose reference pipelines work on PIL images (export.dinov2's
``dgm-eval``, export.clip's ``cmmd``).

The runner feeds [-1,1] float images that came from uint8 pixels
(v/127.5 - 1, docs/models.md); :func:`to_uint8` recovers v exactly, so that
the graph can apply the integer arithmetic of the reference's resize to the
same bytes the reference would have read from the file.

:func:`resize_pil_bicubic` is Pillow's ``Image.resize(size, Image.BICUBIC)``
on an 8-bit RGB image (libImaging/Resample.c, the path every released Pillow
up to 10 takes for mode RGB): separable, horizontal pass first, each pass a
convolution with the bicubic kernel (a = -0.5) stretched by the
downscaling factor (the antialiasing), coefficients normalised to sum 1 in
double precision, converted to 22-bit fixed point, the sums rounded and
clipped to uint8 after each pass. The graph builds the coefficients from the
input's size at run time (so any size works), in float64 with Pillow's own
expressions and evaluation order, and applies them as dense matrix
products in float64, which are exact: every product and partial sum is an
integer below 2^53. The result equals Pillow's byte for byte (the tests
check it against the installed Pillow on many sizes).
"""

import torch

# Pillow's fixed-point precision for 8-bit images (Resample.c: 32 - 8 - 2).
PRECISION_BITS = 22


def to_uint8(x):
    """The uint8 value v of a [-1,1] image x = v/127.5 - 1, as a float
    tensor: round((x+1)*127.5) clamped to [0, 255]."""
    return torch.round((x + 1.0) * 127.5).clamp(0.0, 255.0)


def _bicubic_filter(x):
    """Pillow's bicubic_filter (a = -0.5), in the same evaluation order."""
    a = -0.5
    x = torch.abs(x)
    near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    far = (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return torch.where(x < 1.0, near, torch.where(x < 2.0, far, torch.zeros_like(x)))


def pil_bicubic_coefficients(n_in, n_out):
    """The [n_out, n_in] float64 matrix of Pillow's fixed-point resampling
    coefficients (precompute_coeffs then normalize_coeffs_8bpc) for an axis
    of n_in pixels (a 0-d int64 tensor, dynamic in the graph) resized to
    n_out (an int). Row i holds, for source pixels j in Pillow's window
    [xmin, xmax), trunc(w_ij * 2^22 +- 0.5) with w the normalised filter
    weights, and 0 elsewhere."""
    f64 = torch.float64
    # A 1-element vector, not a 0-d tensor: PyTorch 1.13's ONNX export
    # computes arithmetic between a 0-d tensor and Python numbers in float32
    # whatever the tensor's type, which moves the coefficients.
    in_size = n_in.to(f64).reshape(1)
    scale = in_size / float(n_out)
    filterscale = torch.clamp(scale, min=1.0)
    support = filterscale * 2.0  # the bicubic filter's support is 2
    ss = 1.0 / filterscale
    center = (torch.arange(n_out, dtype=f64) + 0.5) * scale  # in0 = 0: the whole image
    center = center.unsqueeze(1)
    # xmin = (int)(center - support + 0.5) clamped at 0: floor equals the C
    # truncation wherever the clamp does not apply; xmax likewise (positive).
    xmin = torch.clamp(torch.floor(center - support + 0.5), min=0.0)
    xmax = torch.minimum(torch.floor(center + support + 0.5), in_size)
    j = torch.arange(n_in).to(f64).unsqueeze(0)
    inside = (j >= xmin) & (j < xmax)
    w = _bicubic_filter((j - center + 0.5) * ss)
    w = torch.where(inside, w, torch.zeros_like(w))
    ww = w.sum(dim=1, keepdim=True)
    w = torch.where(ww != 0.0, w / ww, w)
    scaled = w * float(1 << PRECISION_BITS)
    # (int)(-0.5 + p * 2^22) for p < 0, (int)(0.5 + p * 2^22) otherwise: C
    # truncates toward zero, i.e. ceil below zero and floor above.
    return torch.where(w < 0.0, torch.ceil(scaled - 0.5), torch.floor(scaled + 0.5))


def _pass(v, k, axis):
    """One 8-bit resampling pass along axis (3: width, 2: height) of v
    (float64 uint8 values) with fixed-point coefficients k [out, in]:
    clip8((2^21 + sum_j v_j k_ij) >> 22)."""
    half = float(1 << (PRECISION_BITS - 1))
    one = float(1 << PRECISION_BITS)
    if axis == 3:
        s = torch.matmul(v, k.t())
    else:
        s = torch.matmul(k, v)
    return torch.clamp(torch.floor((s + half) / one), 0.0, 255.0)


def resize_pil_bicubic(v, out_h, out_w):
    """Pillow's Image.resize((out_w, out_h), Image.BICUBIC) of the 8-bit RGB
    image v ([N,3,H,W] float holding uint8 values): the horizontal pass, then
    the vertical, each rounded to uint8. Returns float32 uint8 values. A pass
    whose size does not change is the identity (its coefficients are the
    unit matrix), as Pillow skips it."""
    shape = torch._shape_as_tensor(v)
    kx = pil_bicubic_coefficients(shape[3], out_w)
    ky = pil_bicubic_coefficients(shape[2], out_h)
    x = v.to(torch.float64)
    x = _pass(x, kx, 3)
    x = _pass(x, ky, 2)
    return x.to(torch.float32)


def centre_crop_square(v):
    """The largest centred square of v [N,C,H,W]: side l = min(H, W),
    top = (H - l) // 2, left = (W - l) // 2 (cmmd-pytorch's
    _center_crop_and_resize box, PIL's crop)."""
    shape = torch._shape_as_tensor(v)
    h, w = shape[2], shape[3]
    side = torch.minimum(h, w)
    top = torch.div(h - side, 2, rounding_mode="floor")
    left = torch.div(w - side, 2, rounding_mode="floor")
    rows = torch.arange(side) + top
    cols = torch.arange(side) + left
    return torch.index_select(torch.index_select(v, 2, rows), 3, cols)
