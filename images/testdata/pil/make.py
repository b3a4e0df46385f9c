# Regenerates this folder: JPEGs written by PIL and PIL's own decoding of
# each, Image.open(f).convert("RGB"), as raw RGB bytes (f + ".rgb").
# Produced with Debian 12's python3-pil 9.4.0 (libjpeg-turbo 2.1.5) and
# numpy 1.24.2:  cd images/testdata/pil && /usr/bin/python3 make.py
from PIL import Image
import numpy as np

rng = np.random.default_rng(0)


def save(im, name, **kw):
    im.save(name, **kw)
    np.asarray(Image.open(name).convert("RGB")).tofile(name + ".rgb")


def noise(h, w):
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


yy, xx = np.mgrid[0:48, 0:64]
scene = np.dstack([xx * 4, yy * 5, (xx + yy) * 2]).astype(np.uint8)
scene[10:30, 20:40] = (200, 30, 90)
scene = Image.fromarray(scene)

save(noise(29, 37), "noise_420_q90.jpg", quality=90)
save(noise(29, 37), "noise_444_q95.jpg", quality=95, subsampling=0)
save(noise(21, 35), "noise_422_q90.jpg", quality=90, subsampling=1)
save(noise(17, 5), "narrow_420.jpg", quality=90)  # chroma 3 wide: fancy
save(noise(17, 3), "narrower_420.jpg", quality=90)  # chroma 2 wide: replicated
save(noise(23, 19), "progressive.jpg", quality=90, progressive=True)
save(scene, "scene_420_q75.jpg", quality=75)
save(scene.convert("L"), "grey.jpg", quality=90)
save(noise(13, 11).convert("CMYK"), "cmyk.jpg", quality=95)

# torchvision's Resize(size) + CenterCrop(size) on a PIL image: PIL's
# bilinear resize of the shorter side to size, then the centred crop.
yy, xx = np.mgrid[0:80, 0:96]
src = np.dstack([(xx * 2.6) % 256, (yy * 3.1) % 256, ((xx - yy) ** 2 / 40) % 256]).astype(np.uint8)
src[20:50, 30:70] = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
src = Image.fromarray(src)
src.save("resize_src.png")


def resize_crop(im, size):
    w, h = im.size
    ow, oh = (size, int(size * h / w)) if w <= h else (int(size * w / h), size)
    r = im.resize((ow, oh), Image.BILINEAR)
    left, top = int(round((ow - size) / 2.0)), int(round((oh - size) / 2.0))
    return np.asarray(r.crop((left, top, left + size, top + size)))


for size in (40, 23):  # shrink, shrink to an odd size
    resize_crop(src, size).tofile("resize_src.png.%d" % size)
small = src.crop((25, 15, 56, 37))  # 31x22, part noise
small.save("resize_small.png")
resize_crop(small, 40).tofile("resize_small.png.40")  # enlarge
