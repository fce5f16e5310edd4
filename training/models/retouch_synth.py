"""Retouch synthesiser: applies to REAL photos what beautification apps / Photoshop users do.

Used only on TRAIN-split real images (never val/test) to create extra "retouched" examples.
Idea after Wang et al. 2019, "Detecting Photoshopped Faces by Scripting Photoshop" (liquify
warps scripted at random strengths), extended with skin smoothing, blemish removal and
facial-part replacement (the CIPLAB "photoshop" fakes replace eyes/nose/mouth regions).

Operations (combined at random, random strengths):
  * liquify-style local warps built from smooth radial displacement fields:
      - cheek/jaw slimming (push jaw sides towards the face centre)
      - eye enlargement (bloat), nose narrowing (horizontal pinch), lip plumping/thinning
  * skin smoothing: edge-aware (bilateral-like) blur blended inside a skin mask
  * blemish removal: small soft discs on skin replaced by a heavily blurred neighbourhood
  * part swap: eye / nose / mouth region pasted from another real face with feathered mask
    and colour matching

Without landmarks, positions come from typical positions in the faces-v1 256x256 crops
(faces roughly centred) with random jitter and a random face scale. `face_points()` accepts
68-point landmarks (iBUG order, pixel coordinates) so it can later be driven by a detector.
All functions take/return uint8 HxWx3 numpy arrays.
"""
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageFilter

# typical normalised positions in faces-v1 crops (x, y) estimated from a montage of all sources
TYPICAL = {
    "eye_l": (0.37, 0.45), "eye_r": (0.63, 0.45), "nose": (0.50, 0.58), "mouth": (0.50, 0.72),
    "jaw_l": (0.27, 0.68), "jaw_r": (0.73, 0.68), "chin": (0.50, 0.86), "face": (0.50, 0.60),
}


def face_points(h, w, rng, landmarks68=None):
    """Return dict of key points in pixels plus an inter-ocular distance `iod`.

    landmarks68: optional array (68,2) in pixels (iBUG 68 order). Otherwise typical positions
    with random global scale/shift and per-point jitter are used.
    """
    if landmarks68 is not None:
        L = np.asarray(landmarks68, dtype=np.float32)
        pts = {
            "eye_l": L[36:42].mean(0), "eye_r": L[42:48].mean(0), "nose": L[30:36].mean(0),
            "mouth": L[48:68].mean(0), "jaw_l": L[4], "jaw_r": L[12], "chin": L[8],
            "face": L[[0, 16, 8, 27]].mean(0),
        }
        pts["iod"] = float(np.linalg.norm(pts["eye_r"] - pts["eye_l"]))
        return pts
    s = rng.uniform(0.85, 1.2)
    shift = rng.normal(0, 0.02, size=2)
    pts = {}
    for k, (x, y) in TYPICAL.items():
        p = np.array([0.5 + (x - 0.5) * s, 0.55 + (y - 0.55) * s]) + shift + rng.normal(0, 0.012, 2)
        pts[k] = np.array([p[0] * w, p[1] * h], dtype=np.float32)
    pts["iod"] = float(np.linalg.norm(pts["eye_r"] - pts["eye_l"]))
    return pts


# ---------------------------------------------------------------- warps
def _falloff(d, r):
    t = np.clip(1.0 - (d / r) ** 2, 0, 1)
    return t * t


def warp_field(h, w, ops):
    """ops: list of (kind, centre(x,y), radius, param). Returns backward displacement (h,w,2)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    disp = np.zeros((h, w, 2), np.float32)
    for kind, c, r, p in ops:
        dx, dy = xx - c[0], yy - c[1]
        d = np.sqrt(dx * dx + dy * dy)
        f = _falloff(d, r)
        if kind == "bloat":  # p>0 enlarge, p<0 shrink ; p=(sx, sy)
            sx, sy = p
            disp[..., 0] += sx * dx * f
            disp[..., 1] += sy * dy * f
        elif kind == "push":  # p = (vx, vy) translation of content
            disp[..., 0] += p[0] * f
            disp[..., 1] += p[1] * f
    return disp


def apply_warp(img, disp):
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    sx = xx - disp[..., 0]
    sy = yy - disp[..., 1]
    grid = np.stack([sx / (w - 1) * 2 - 1, sy / (h - 1) * 2 - 1], -1)[None]
    t = torch.from_numpy(img).permute(2, 0, 1)[None].float()
    out = F.grid_sample(t, torch.from_numpy(grid), mode="bilinear", padding_mode="border", align_corners=True)
    return out[0].permute(1, 2, 0).round().clamp(0, 255).byte().numpy()


def liquify(img, pts, rng, strength=1.0):
    h, w = img.shape[:2]
    iod = pts["iod"]
    ops = []
    kinds = [k for k in ["slim", "eyes", "nose", "lips"] if rng.random() < 0.55] or ["slim"]
    if "slim" in kinds:  # push jaw sides inwards
        a = rng.uniform(0.03, 0.10) * iod * strength
        r = rng.uniform(0.6, 1.0) * iod
        ops.append(("push", pts["jaw_l"], r, (a, rng.uniform(-0.3, 0.1) * a)))
        ops.append(("push", pts["jaw_r"], r, (-a, rng.uniform(-0.3, 0.1) * a)))
        if rng.random() < 0.4:
            ops.append(("push", pts["chin"], r * 0.8, (0, -rng.uniform(0.0, 0.06) * iod * strength)))
    if "eyes" in kinds:  # enlarge
        s = rng.uniform(0.08, 0.30) * strength
        r = rng.uniform(0.35, 0.55) * iod
        ops.append(("bloat", pts["eye_l"], r, (s, s)))
        ops.append(("bloat", pts["eye_r"], r, (s, s)))
    if "nose" in kinds:  # narrow horizontally
        s = -rng.uniform(0.08, 0.30) * strength
        ops.append(("bloat", pts["nose"], rng.uniform(0.35, 0.55) * iod, (s, s * 0.2)))
    if "lips" in kinds:  # plump or thin, mostly vertical
        s = rng.uniform(0.08, 0.25) * strength * (1 if rng.random() < 0.7 else -1)
        ops.append(("bloat", pts["mouth"], rng.uniform(0.4, 0.6) * iod, (s * 0.5, s)))
    return apply_warp(img, warp_field(h, w, ops)), kinds


# ---------------------------------------------------------------- skin
def _ellipse_mask(h, w, c, rx, ry):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return (((xx - c[0]) / rx) ** 2 + ((yy - c[1]) / ry) ** 2 <= 1).astype(np.float32)


def _blur(a, radius):
    if a.ndim == 2:
        im = Image.fromarray(np.clip(a * 255, 0, 255).astype(np.uint8))
        return np.asarray(im.filter(ImageFilter.GaussianBlur(radius)), np.float32) / 255
    return np.asarray(Image.fromarray(a).filter(ImageFilter.GaussianBlur(radius)), np.float32)


def skin_mask(img, pts):
    h, w = img.shape[:2]
    iod = pts["iod"]
    m = _ellipse_mask(h, w, pts["face"], 1.05 * iod, 1.45 * iod)
    for k, sc in (("eye_l", 0.28), ("eye_r", 0.28), ("mouth", 0.38)):
        m *= 1 - _ellipse_mask(h, w, pts[k], sc * iod * 1.3, sc * iod * 0.8)
    ycc = np.asarray(Image.fromarray(img).convert("YCbCr"), np.float32)
    cb, cr = ycc[..., 1], ycc[..., 2]
    skin = ((cb > 77) & (cb < 135) & (cr > 130) & (cr < 180)).astype(np.float32)
    m = m * (0.3 + 0.7 * skin)
    return _blur(m, 4)


def smooth_skin(img, pts, rng, strength=1.0):
    radius = rng.uniform(1.5, 4.5)
    f = img.astype(np.float32)
    b = _blur(img, radius)
    # edge-aware weight (bilateral-ish): keep pixels that differ strongly from the blur (edges)
    diff = np.abs(f - b).mean(-1)
    sigma = rng.uniform(8, 20)
    wgt = np.exp(-(diff ** 2) / (2 * sigma ** 2))
    alpha = np.clip(rng.uniform(0.5, 1.0) * strength, 0, 1) * skin_mask(img, pts) * wgt
    out = f * (1 - alpha[..., None]) + b * alpha[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def remove_blemishes(img, pts, rng, strength=1.0):
    h, w = img.shape[:2]
    m = skin_mask(img, pts)
    ys, xs = np.nonzero(m > 0.6)
    if len(xs) == 0:
        return img
    f = img.astype(np.float32)
    b = _blur(img, rng.uniform(4, 8))
    alpha = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(3, 15))):
        i = rng.integers(len(xs))
        r = rng.uniform(2, 6) * (h / 256)
        alpha = np.maximum(alpha, _ellipse_mask(h, w, (xs[i], ys[i]), r, r))
    alpha = _blur(alpha, 1.5) * min(1.0, strength)
    out = f * (1 - alpha[..., None]) + b * alpha[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- part swap
def part_swap(img, donor, pts, rng, donor_pts=None):
    """Paste eyes / nose / mouth region from `donor` (same size) with feathering + colour match."""
    h, w = img.shape[:2]
    if donor_pts is None:
        donor_pts = pts
    iod = pts["iod"]
    parts = [p for p in ("eyes", "nose", "mouth") if rng.random() < 0.5] or [str(rng.choice(["eyes", "nose", "mouth"]))]
    out = img.astype(np.float32)
    for part in parts:
        if part == "eyes":
            c = (pts["eye_l"] + pts["eye_r"]) / 2
            dc = (donor_pts["eye_l"] + donor_pts["eye_r"]) / 2
            rx, ry = 0.95 * iod, 0.32 * iod
        elif part == "nose":
            c, dc, rx, ry = pts["nose"], donor_pts["nose"], 0.33 * iod, 0.5 * iod
        else:
            c, dc, rx, ry = pts["mouth"], donor_pts["mouth"], 0.6 * iod, 0.33 * iod
        # translate donor so that its part centre lands on ours
        shift = (c - dc)
        d = np.roll(donor, (int(round(shift[1])), int(round(shift[0]))), axis=(0, 1)).astype(np.float32)
        m = _ellipse_mask(h, w, c, rx * rng.uniform(0.9, 1.2), ry * rng.uniform(0.9, 1.3))
        m = _blur(m, rng.uniform(2, 6))
        # colour match inside the mask
        wsum = m.sum() + 1e-6
        for ch in range(3):
            mu_o = (out[..., ch] * m).sum() / wsum
            mu_d = (d[..., ch] * m).sum() / wsum
            d[..., ch] += mu_o - mu_d
        out = out * (1 - m[..., None]) + d * m[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), parts


# ---------------------------------------------------------------- main entry
def synthesize(img, rng, donor=None, landmarks68=None, donor_landmarks68=None):
    """Apply a random combination of retouch operations. Returns (image, list_of_ops)."""
    h, w = img.shape[:2]
    pts = face_points(h, w, rng, landmarks68)
    strength = rng.uniform(0.5, 1.3)
    ops = []
    choices = {
        "liquify": 0.6, "smooth": 0.45, "blemish": 0.3, "swap": 0.45 if donor is not None else 0.0,
    }
    sel = [k for k, p in choices.items() if rng.random() < p]
    if not sel:
        sel = ["swap"] if donor is not None and rng.random() < 0.5 else ["liquify"]
    out = img
    if "swap" in sel:
        dpts = face_points(h, w, rng, donor_landmarks68) if donor_landmarks68 is not None else None
        out, parts = part_swap(out, donor, pts, rng, dpts)
        ops.append("swap:" + "+".join(parts))
    if "liquify" in sel:
        out, kinds = liquify(out, pts, rng, strength)
        ops.append("liquify:" + "+".join(kinds))
    if "smooth" in sel:
        out = smooth_skin(out, pts, rng, strength)
        ops.append("smooth")
    if "blemish" in sel:
        out = remove_blemishes(out, pts, rng, strength)
        ops.append("blemish")
    return out, ops


if __name__ == "__main__":  # demo: python retouch_synth.py in.jpg donor.jpg out.png
    import sys

    rng = np.random.default_rng(0)
    a = np.asarray(Image.open(sys.argv[1]).convert("RGB"))
    d = np.asarray(Image.open(sys.argv[2]).convert("RGB")) if len(sys.argv) > 3 else None
    tiles = [a]
    for i in range(5):
        o, ops = synthesize(a, rng, d)
        print(ops)
        tiles.append(o)
    Image.fromarray(np.concatenate(tiles, 1)).save(sys.argv[-1])
