"""faces-v1 data: manifest, group split, preloading, augmentation, balanced sampling specs."""
import csv
import io
import os
import zlib

import numpy as np
import torch
from PIL import Image, ImageEnhance, ImageFilter

DATA_ROOT = os.environ.get("FACES_V1_DIR", "/work/shared/datasets/faces-v1")
REAL_SOURCES = ["ciplab-real", "ffhq", "utkface", "dfdc-real", "celebahq"]
DEEPFAKE_SOURCES = ["stylegan1", "boredhumans-gan", "pggan-interfacegan", "dfdc-swap"]
RETOUCH_SOURCES = ["ciplab-photoshop"]
GAN_SOURCES = ["stylegan1", "boredhumans-gan", "pggan-interfacegan"]
SYNTH = "synth-retouch"


def read_manifest(root=DATA_ROOT):
    with open(os.path.join(root, "manifest.csv")) as f:
        return list(csv.DictReader(f))


def group_split(rows, seed=1234, frac=(0.70, 0.15, 0.15)):
    """Deterministic group split: each group -> train/val/test via a seeded hash of the group key."""
    out = {}
    for r in rows:
        g = r["group"]
        h = zlib.crc32(f"{seed}:{g}".encode()) / 2 ** 32
        out[r["file"]] = "train" if h < frac[0] else ("val" if h < frac[0] + frac[1] else "test")
    return out


def write_split(rows, split, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("file,split\n")
        for r in rows:
            f.write(f"{r['file']},{split[r['file']]}\n")


def face_crops(crops_dir):
    """file -> aligned face crop written by the serving face stage (packages/face cli-crops)."""
    index = os.path.join(crops_dir, "index.jsonl") if crops_dir else None
    if not index or not os.path.exists(index):
        return {}
    import json
    out = {}
    with open(index) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("crop"):
                out[rec["file"]] = rec["crop"]
    return out


def load_images(rows, root=DATA_ROOT, size=256, log=print, crops_dir=os.environ.get("FACE_CROPS_DIR")):
    """Images as the model will see them in production: the face stage's aligned crop where it
    found a face (same code as serving), else the whole image (serving's no-face fallback)."""
    crops = face_crops(crops_dir)
    if crops:
        log(f"  using {len(crops)} face-stage crops from {crops_dir}")
    arr = np.zeros((len(rows), size, size, 3), np.uint8)
    for i, r in enumerate(rows):
        im = Image.open(crops.get(r["file"]) or os.path.join(root, r["file"])).convert("RGB")
        if im.size != (size, size):
            im = im.resize((size, size), Image.BILINEAR)
        arr[i] = np.asarray(im)
        if (i + 1) % 2000 == 0:
            log(f"  loaded {i + 1}/{len(rows)} images")
    return arr


def laplacian_var(img):
    g = img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    lap = -4 * g[1:-1, 1:-1] + g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:]
    return float(lap.var())


# ---------------------------------------------------------------- preprocessing
def to_tensor(img_u8, size, mean, std):
    """Serving-equivalent preprocessing: bilinear resize of the whole image, x/255, (x-mean)/std."""
    im = Image.fromarray(img_u8)
    if im.size != (size, size):
        im = im.resize((size, size), Image.BILINEAR)
    x = torch.from_numpy(np.asarray(im, np.float32).copy()).permute(2, 0, 1) / 255.0
    return (x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)


def augment(img_u8, rng):
    """Quality/colour augmentation applied identically to ALL classes (counter source shortcuts)."""
    im = Image.fromarray(img_u8)
    W, H = im.size
    if rng.random() < 0.5:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    if rng.random() < 0.6:  # colour jitter
        im = ImageEnhance.Brightness(im).enhance(rng.uniform(0.75, 1.25))
        im = ImageEnhance.Contrast(im).enhance(rng.uniform(0.75, 1.25))
        im = ImageEnhance.Color(im).enhance(rng.uniform(0.7, 1.3))
    if rng.random() < 0.4:  # downscale-upscale (resolution history)
        s = rng.uniform(0.35, 0.9)
        filt = [Image.BILINEAR, Image.BICUBIC, Image.LANCZOS, Image.BOX][rng.integers(4)]
        im = im.resize((max(16, int(W * s)), max(16, int(H * s))), filt)
        im = im.resize((W, H), [Image.BILINEAR, Image.BICUBIC, Image.LANCZOS][rng.integers(3)])
    r = rng.random()
    if r < 0.3:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.6)))
    elif r < 0.5:  # sharpening, so that sharpness is not a class cue in either direction
        im = im.filter(ImageFilter.UnsharpMask(radius=rng.uniform(0.8, 2.5), percent=int(rng.integers(40, 160)),
                                               threshold=int(rng.integers(0, 4))))
    if rng.random() < 0.25:  # slight noise
        a = np.asarray(im, np.float32) + rng.normal(0, rng.uniform(1, 5), (H, W, 1 if rng.random() < 0.5 else 3))
        im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if rng.random() < 0.6:  # JPEG re-compression
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=int(rng.integers(40, 96)))
        buf.seek(0)
        im = Image.open(buf).convert("RGB")
    if rng.random() < 0.5:  # mild crop / reframing
        s = rng.uniform(0.85, 1.0)
        cw = int(W * s)
        x0 = int(rng.integers(0, W - cw + 1))
        y0 = int(rng.integers(0, H - cw + 1))
        im = im.crop((x0, y0, x0 + cw, y0 + cw))
    return np.asarray(im)


def make_specs(pools, class_sources, n, rng):
    """Balanced sampling: class uniformly, then source uniformly within class, then an image.

    pools: dict source -> list of indices (into images array; synth pool uses its own index space)
    class_sources: list (per class label) of list of sources
    Returns list of (label, source, index).
    """
    specs = []
    for _ in range(n):
        y = int(rng.integers(len(class_sources)))
        srcs = [s for s in class_sources[y] if len(pools.get(s, [])) > 0]
        s = srcs[int(rng.integers(len(srcs)))]
        p = pools[s]
        specs.append((y, s, int(p[int(rng.integers(len(p)))])))
    return specs


class SpecDataset(torch.utils.data.Dataset):
    def __init__(self, specs, images, synth_images, size, mean, std, seed, train=True):
        self.specs, self.images, self.synth = specs, images, synth_images
        self.size, self.mean, self.std, self.seed, self.train = size, mean, std, seed, train

    def __len__(self):
        return len(self.specs)

    def __getitem__(self, i):
        y, s, idx = self.specs[i]
        img = self.synth[idx] if s == SYNTH else self.images[idx]
        if self.train:
            img = augment(img, np.random.default_rng([self.seed, i]))
        return to_tensor(img, self.size, self.mean, self.std), y
