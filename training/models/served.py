"""What the product serves to the models, in Python: the face crop and the input tensor.

The definition lives in FACE_CROP below and is written into each exported model.json
(`preprocessing.face_crop`); the serving code (packages/face alignedCrop + warpAffine,
packages/model-runtime preprocessing) reads it from there. test/models/served-input.test.ts checks
that this module and the serving code produce the same input tensor for the same file (within 1/255).

Steps, identical on both sides:
  1. five points from the 68 landmarks: mean of 36-41, mean of 42-47, point 30, point 48, point 54;
  2. least-squares similarity (rotation, uniform scale, translation) mapping the template
     (fractions of the crop side, times the side) onto those five points: `to_image`;
  3. crop pixel (i, j) samples the image at to_image(i + 0.5, j + 0.5) - 0.5, bilinear, with
     coordinates clamped to the image (border pixels repeat), rounded to uint8;
  4. resize to the model input (bilinear; a no-op when the crop side is the input side),
     x/255, (x - mean)/std, NCHW.
No face found: the whole image is resized to the input (step 4 only).
"""
import numpy as np
from PIL import Image

# Five-point template (eye centres, nose tip, mouth corners) as fractions of the crop side.
# Inter-ocular distance 0.32 of the side: forehead to chin and the jaw line are inside, most of
# the background and hair (where sources differ most) are not.
FACE_CROP = {
    "template5": [[0.34, 0.392], [0.66, 0.392], [0.5, 0.58], [0.355, 0.727], [0.645, 0.727]],
    "size": 240,
    "sampling": "bilinear, pixel centres, border pixels repeated outside the image, rounded to uint8",
    "fallback": "no face found: the whole image resized (bilinear) to the model input",
}


def five_points(lm):
    lm = np.asarray(lm, np.float64)
    return np.array([lm[36:42].mean(0), lm[42:48].mean(0), lm[30], lm[48], lm[54]])


def estimate_similarity(src, dst):
    """Least-squares similarity mapping src[i] onto dst[i] (2-D Umeyama without reflection):
    returns [a, b, c, d, e, f] with x' = a x + b y + c, y' = d x + e y + f."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    ms, md = src.mean(0), dst.mean(0)
    p, q = src - ms, dst - md
    sxx = (p ** 2).sum()
    a = (p * q).sum() / sxx
    b = (p[:, 0] * q[:, 1] - p[:, 1] * q[:, 0]).sum() / sxx
    return np.array([a, -b, md[0] - (a * ms[0] - b * ms[1]), b, a, md[1] - (b * ms[0] + a * ms[1])])


def warp_affine(img, to_image, width, height):
    """uint8 HxWx3 -> uint8 height x width x 3; see module docstring, step 3."""
    H, W = img.shape[:2]
    a, b, c, d, e, f = to_image
    j, i = np.mgrid[0:height, 0:width].astype(np.float64)
    u, v = i + 0.5, j + 0.5
    sx = np.clip(a * u + b * v + c - 0.5, 0, W - 1)
    sy = np.clip(d * u + e * v + f - 0.5, 0, H - 1)
    x0 = np.floor(sx).astype(np.int64)
    y0 = np.floor(sy).astype(np.int64)
    x1 = np.minimum(x0 + 1, W - 1)
    y1 = np.minimum(y0 + 1, H - 1)
    fx = (sx - x0)[..., None]
    fy = (sy - y0)[..., None]
    im = img.astype(np.float64)
    top = im[y0, x0] + (im[y0, x1] - im[y0, x0]) * fx
    bot = im[y1, x0] + (im[y1, x1] - im[y1, x0]) * fx
    out = top + (bot - top) * fy
    # Math.round in the serving code rounds halves up; floor(x + 0.5) does the same.
    return np.floor(out + 0.5).clip(0, 255).astype(np.uint8)


def crop_transform(lm, spec=FACE_CROP):
    size = spec["size"]
    template = np.asarray(spec["template5"], np.float64) * size
    return estimate_similarity(template, five_points(lm))


def served_crop(img, lm, spec=FACE_CROP):
    """The aligned face crop the product feeds the models, and its crop->image affine."""
    t = crop_transform(lm, spec)
    return warp_affine(img, t, spec["size"], spec["size"]), t


def whole_image(img, size):
    if img.shape[0] == size and img.shape[1] == size:
        return img
    return np.asarray(Image.fromarray(img).resize((size, size), Image.BILINEAR))


def to_input(img_u8, mean, std):
    """uint8 HxWx3 (already at the model's input size) -> float32 3xHxW."""
    x = img_u8.astype(np.float32).transpose(2, 0, 1) / 255.0
    return (x - np.asarray(mean, np.float32)[:, None, None]) / np.asarray(std, np.float32)[:, None, None]
