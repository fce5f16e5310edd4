"""Paired edits synthesised from one real photo, each with the mask of the pixels it changed.

The same person, camera and background appear on both sides of the label, so a model has to
learn the edit, not the source.

* self_blend: the face blended into itself after a small colour, scale and warp change, through a
  randomly deformed landmark-hull mask with random feathering (after Shiohara & Yamasaki, CVPR 2022,
  "Detecting Deepfakes with Self-Blended Images"). Stands in for face swaps (label deepfake).
* retouch: beauty edits at landmark positions (liquify slimming, eye enlargement, nose, lip and
  jaw reshaping; skin smoothing; blemish removal; glow; sharpening; part replacement from another
  real face), alone or combined, at random strengths including subtle ones (label retouched).

Images are uint8 HxWx3 (the 256 px dataset image), landmarks (68, 2) in its pixels.
Masks are float32 HxW in [0, 1].
"""
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

import retouch_synth as R


def _blur(a, radius):
    return R._blur(a, radius)


def _hull(points):
    """Convex hull (monotone chain), counter-clockwise."""
    pts = sorted(map(tuple, np.asarray(points, np.float64)))
    if len(pts) < 3:
        return pts

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def hull_mask(h, w, lm, rng):
    """Landmark-hull face mask, randomly shrunk/grown and deformed, feathered."""
    lm = np.asarray(lm, np.float64)
    c = lm.mean(0)
    pts = lm[:27].copy()  # jaw + brows
    if rng.random() < 0.5:  # sometimes only the inner face (eyes, nose, mouth)
        pts = np.concatenate([lm[17:27], lm[2:15]])
    scale = rng.uniform(0.85, 1.12)
    pts = c + (pts - c) * scale + rng.normal(0, 0.015 * (lm[:, 0].ptp() + 1), pts.shape)
    im = Image.new("L", (w, h), 0)
    ImageDraw.Draw(im).polygon([tuple(p) for p in _hull(pts)], fill=255)
    m = np.asarray(im, np.float32) / 255
    k = rng.uniform(1, 12) * (w / 256)
    m = _blur(m, k)
    if rng.random() < 0.5:  # harden a feathered edge again: both soft and sharp seams occur in swaps
        m = np.clip((m - 0.5) * rng.uniform(1.5, 4) + 0.5, 0, 1)
    return m


def _colour_shift(img, rng):
    im = Image.fromarray(img)
    im = ImageEnhance.Brightness(im).enhance(rng.uniform(0.9, 1.1))
    im = ImageEnhance.Contrast(im).enhance(rng.uniform(0.9, 1.1))
    im = ImageEnhance.Color(im).enhance(rng.uniform(0.85, 1.15))
    a = np.asarray(im, np.float32) + rng.uniform(-8, 8, 3)
    return np.clip(a, 0, 255).astype(np.uint8)


def _scale_shift(img, rng):
    h, w = img.shape[:2]
    s = rng.uniform(0.94, 1.06)
    dx, dy = rng.uniform(-0.03, 0.03, 2) * w
    im = Image.fromarray(img)
    # inverse map for PIL: output (x, y) <- input ((x - cx - dx)/s + cx, ...)
    cx, cy = w / 2, h / 2
    coeffs = (1 / s, 0, cx - (cx + dx) / s, 0, 1 / s, cy - (cy + dy) / s)
    moved = lambda p: (np.asarray(p, np.float64) - (cx, cy)) * s + (cx + dx, cy + dy)  # noqa: E731
    return np.asarray(im.transform((w, h), Image.AFFINE, coeffs, Image.BILINEAR)), moved


def self_blend(img, lm, rng):
    """Returns (edited image, mask, landmarks of the edited face).

    The landmarks follow the blended-in face (moved by the scale/shift, by the blend ratio): the
    serving face stage finds the edited face's own eyes, nose and mouth, so the served crop is
    aligned to them. Cropping at the original landmarks instead shows the inner face off the crop
    template, a cue the model learns in training and never meets when served."""
    h, w = img.shape[:2]
    src = img
    if rng.random() < 0.8:
        src = _colour_shift(src, rng)
    r = rng.random()
    if r < 0.3:
        src = np.asarray(Image.fromarray(src).filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.2))))
    elif r < 0.5:
        src = np.asarray(Image.fromarray(src).filter(ImageFilter.UnsharpMask(rng.uniform(1, 2), int(rng.integers(50, 150)), 0)))
    moved = None
    if rng.random() < 0.7:
        src, moved = _scale_shift(src, rng)
    if rng.random() < 0.3:  # a slight local warp of the source face
        pts = R.face_points(h, w, rng, lm)
        src, _ = R.liquify(src, pts, rng, strength=0.6)
    m = hull_mask(h, w, lm, rng)
    ratio = 1.0 if rng.random() < 0.6 else rng.uniform(0.5, 1.0)
    m = m * ratio
    out = img.astype(np.float32) * (1 - m[..., None]) + src.astype(np.float32) * m[..., None]
    lm_out = np.asarray(lm, np.float64) if moved is None else lm + ratio * (moved(lm) - lm)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), (m > 0.1).astype(np.float32), lm_out


def _glow(img, pts, rng, strength):
    """Soft glow / brightening on skin (Facetune-style)."""
    m = R.skin_mask(img, pts) * np.clip(rng.uniform(0.3, 0.8) * strength, 0, 1)
    f = img.astype(np.float32)
    b = R._blur(img, rng.uniform(3, 8))
    screen = 255 - (255 - f) * (255 - b) / 255
    out = f * (1 - m[..., None]) + screen * m[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), m


def _sharpen_features(img, pts, rng, strength):
    """Eyes/lips sharpened and brightened (a common beauty-app step)."""
    h, w = img.shape[:2]
    iod = pts["iod"]
    m = np.zeros((h, w), np.float32)
    for k, rx, ry in (("eye_l", 0.35, 0.22), ("eye_r", 0.35, 0.22), ("mouth", 0.55, 0.3)):
        m = np.maximum(m, R._ellipse_mask(h, w, pts[k], rx * iod, ry * iod))
    m = R._blur(m, 3) * np.clip(strength, 0, 1)
    sh = np.asarray(Image.fromarray(img).filter(ImageFilter.UnsharpMask(rng.uniform(1, 2.5), int(rng.integers(80, 220)), 0)), np.float32)
    sh = sh * rng.uniform(1.0, 1.1)
    out = img.astype(np.float32) * (1 - m[..., None]) + sh * m[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), m


def retouch(img, lm, rng, donor=None, donor_lm=None):
    """Returns (edited image, mask, ops)."""
    h, w = img.shape[:2]
    pts = R.face_points(h, w, rng, lm)
    # subtle edits are half of all: strength 0.25-0.6, otherwise 0.6-1.3
    strength = rng.uniform(0.25, 0.6) if rng.random() < 0.5 else rng.uniform(0.6, 1.3)
    choices = {"liquify": 0.55, "smooth": 0.45, "blemish": 0.25, "glow": 0.2, "sharpen": 0.2,
               "parts": 0.2 if donor is not None else 0.0}
    sel = [k for k, p in choices.items() if rng.random() < p] or [str(rng.choice(["liquify", "smooth"]))]
    out = img
    mask = np.zeros((h, w), np.float32)
    ops = []
    if "parts" in sel:
        dpts = R.face_points(h, w, rng, donor_lm) if donor_lm is not None else None
        out, parts = R.part_swap(out, donor, pts, rng, dpts)
        ops.append("parts:" + "+".join(parts))
    if "liquify" in sel:
        out, kinds = R.liquify(out, pts, rng, strength)
        ops.append("liquify:" + "+".join(kinds))
        # The warp's footprint: the discs its displacement fields act on.
        mask = np.maximum(mask, _liquify_mask(h, w, pts, kinds))
    if "smooth" in sel:
        out = R.smooth_skin(out, pts, rng, strength)
        ops.append("smooth")
        mask = np.maximum(mask, R.skin_mask(img, pts))
    if "blemish" in sel:
        out = R.remove_blemishes(out, pts, rng, strength)
        ops.append("blemish")
        mask = np.maximum(mask, R.skin_mask(img, pts))
    if "glow" in sel:
        out, m = _glow(out, pts, rng, strength)
        ops.append("glow")
        mask = np.maximum(mask, m > 0.05)
    if "sharpen" in sel:
        out, m = _sharpen_features(out, pts, rng, strength)
        ops.append("sharpen")
        mask = np.maximum(mask, m > 0.05)
    changed = np.abs(out.astype(np.int16) - img.astype(np.int16)).max(-1) > 2
    region = np.maximum(mask > 0.1, changed)
    return out, region.astype(np.float32), ops


def _liquify_mask(h, w, pts, kinds):
    iod = pts["iod"]
    m = np.zeros((h, w), np.float32)
    spots = {"slim": [("jaw_l", 1.0), ("jaw_r", 1.0)], "eyes": [("eye_l", 0.55), ("eye_r", 0.55)],
             "nose": [("nose", 0.55)], "lips": [("mouth", 0.6)]}
    for k in kinds:
        for p, r in spots.get(k, []):
            m = np.maximum(m, R._ellipse_mask(h, w, pts[p], r * iod, r * iod))
    return m
