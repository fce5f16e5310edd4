"""The serving landmark step in PyTorch: the shipped face-landmarks ONNX graph's weights in the
face-api 68-point net (training/faceport/port.py's architecture), and the landmark crop exactly as
packages/face/src/preprocess.ts cropPadResizeNchw (centred zero padding to a square, TF bilinear
resize without half-pixel centres, optionally read mirrored) and landmarks.ts LandmarkNet.predict
(undo the padding), chained as face-stage.ts refinedLandmarks: a first look in the detector's box,
then a second in the box those points give, there and mirrored, averaged.

Training uses it to find an edited image's own landmarks, as the product does when it serves the
edited photo: a synthetic edit that moves the eyes, nose or jaw is then aligned to where they are
after the edit, not where they were before it.
"""
import glob
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "faceport"))
from port import FaceLandmark68  # noqa: E402

SIZE = 112
# landmarks.ts MIRROR_68: each iBUG point's mirror partner.
MIRROR_68 = list(range(68))
for _a, _b in ([(i, 16 - i) for i in range(8)] + [(17 + i, 26 - i) for i in range(5)] +
               [(31, 35), (32, 34), (36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46),
                (48, 54), (49, 53), (50, 52), (55, 59), (56, 58), (60, 64), (61, 63), (65, 67)]):
    MIRROR_68[_a], MIRROR_68[_b] = _b, _a
# landmarks.ts REFINED_CROP_SCALE (width, height) of the points' extent.
REFINED_CROP_SCALE = (1.33, 1.24)


def _tf_layout(w):
    """ONNX conv weight [out, in/groups, kh, kw] back to the TF.js layout port.py reads."""
    if w.shape[1] == 1 and w.shape[0] > 1:  # depthwise [C,1,kh,kw] -> [kh,kw,C,1]
        return w.transpose(2, 3, 0, 1)
    return w.transpose(2, 3, 1, 0)  # [kh,kw,in,out]


def load_landmark_net(model_dir=None):
    """The face-landmarks model the product serves (newest version under models/ by default)."""
    import onnx
    from onnx import numpy_helper
    if model_dir is None:
        model_dir = sorted(glob.glob(os.path.join(HERE, "..", "..", "models", "face-landmarks", "*")))[-1]
    m = onnx.load(os.path.join(model_dir, "model.onnx"))
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    p = {}
    k = 0
    fe = "feature_extractor"
    for b in range(4):
        names = [f"{fe}/dense{b}/conv0"] + [f"{fe}/dense{b}/conv{i}" for i in (1, 2, 3)]
        for j, name in enumerate(names):
            if b == 0 and j == 0:  # a plain conv with bias
                c = convs[k]
                p[f"{name}/filters"] = _tf_layout(init[c.input[1]])
                p[f"{name}/bias"] = init[c.input[2]]
                k += 1
            else:  # depthwise (no bias) then pointwise with bias
                dw, pw = convs[k], convs[k + 1]
                p[f"{name}/depthwise_filter"] = _tf_layout(init[dw.input[1]])
                p[f"{name}/pointwise_filter"] = _tf_layout(init[pw.input[1]])
                p[f"{name}/bias"] = init[pw.input[2]]
                k += 2
    assert k == len(convs), f"{len(convs)} convs in the graph, {k} used"
    mm = [n for n in m.graph.node if n.op_type == "MatMul"][0]
    p["fc/weights"] = init[mm.input[1]]
    add = [n for n in m.graph.node if n.op_type == "Add" and mm.output[0] in n.input][0]
    p["fc/bias"] = init[[i for i in add.input if i != mm.output[0]][0]]
    net = FaceLandmark68(p).eval()
    return net


def crop_pad_resize(img, rect, size=SIZE, center=True, mirror=False):
    """cropPadResizeNchw: float32 [3, size, size], 0..255 (mirror: the crop read right to left)."""
    rx, ry, w, h = rect
    H, W = img.shape[:2]
    side = max(w, h)
    diff = abs(w - h)
    pre = diff - int(np.floor(diff * 0.5 + 0.5)) if center else 0  # JS Math.round
    off_x = pre if w < h else 0
    off_y = pre if h < w else 0
    scale = side / size

    def axis(n_in_rect, origin, limit, off, flip=False):
        src = np.arange(size) * scale
        lo = np.maximum(0, np.floor(src)).astype(np.int64)
        hi = np.minimum(side - 1, np.ceil(src)).astype(np.int64)
        f = src - lo
        ilo, ihi = lo - off, hi - off
        if flip:
            ilo, ihi = n_in_rect - 1 - ilo, n_in_rect - 1 - ihi
        ok_lo = (ilo >= 0) & (ilo < n_in_rect) & (origin + ilo >= 0) & (origin + ilo < limit)
        ok_hi = (ihi >= 0) & (ihi < n_in_rect) & (origin + ihi >= 0) & (origin + ihi < limit)
        return (np.clip(origin + ilo, 0, limit - 1), np.clip(origin + ihi, 0, limit - 1),
                ok_lo * (1 - f), ok_hi * f)
    c0, c1, wa, wb = axis(w, rx, W, off_x, mirror)
    r0, r1, wr0, wr1 = axis(h, ry, H, off_y)
    a = img.astype(np.float64)
    rows0 = a[r0][:, c0] * wa[None, :, None] + a[r0][:, c1] * wb[None, :, None]
    rows1 = a[r1][:, c0] * wa[None, :, None] + a[r1][:, c1] * wb[None, :, None]
    out = rows0 * wr0[:, None, None] + rows1 * wr1[:, None, None]
    return out.transpose(2, 0, 1).astype(np.float32)


def landmark_rect(box):
    """The landmark crop of a detector box: the whole floored box (face-stage.ts detect)."""
    return (int(np.floor(box[0])), int(np.floor(box[1])), int(np.floor(box[2])), int(np.floor(box[3])))


@torch.no_grad()
def predict(net, img, rects, mirrored=None):
    """68 (x, y) landmarks (float64) per rect (x, y, w, h) in image pixels, as LandmarkNet.predict;
    a rect flagged in `mirrored` is read mirrored and its points mapped back."""
    if not rects:
        return []
    mirrored = mirrored or [False] * len(rects)
    x = torch.from_numpy(np.stack([crop_pad_resize(img, r, mirror=m) for r, m in zip(rects, mirrored)]))
    out = net(x).numpy()
    res = []
    for r, o, m in zip(rects, out, mirrored):
        rx, ry, w0, h0 = r
        k = SIZE / max(w0, h0)
        w, h = w0 * k, h0 * k
        pad_x = abs(w - h) / 2 if w < h else 0
        pad_y = abs(w - h) / 2 if h < w else 0
        pts = o.reshape(68, 2).astype(np.float64)
        ux = (pts[:, 0] * SIZE - pad_x) / w
        py = (pts[:, 1] * SIZE - pad_y) / h * h0 + ry
        if m:
            p = np.empty((68, 2))
            p[MIRROR_68] = np.stack([rx + w0 - ux * w0, py], 1)
        else:
            p = np.stack([ux * w0 + rx, py], 1)
        res.append(p)
    return res


def refined_crop(pts):
    """landmarks.ts refinedLandmarkCrop: the detector-shaped box around a first estimate."""
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    w = (x1 - x0) * REFINED_CROP_SCALE[0]
    h = (y1 - y0) * REFINED_CROP_SCALE[1]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (int(np.floor(cx - w / 2)), int(np.floor(cy - h / 2)), max(1, int(np.floor(w))), max(1, int(np.floor(h))))


def served_landmarks(net, img, rect):
    """face-stage.ts refinedLandmarks for one face whose detector box gave the landmark crop `rect`."""
    first = predict(net, img, [rect])[0]
    r2 = refined_crop(first)
    a, b = predict(net, img, [r2, r2], [False, True])
    return ((a + b) / 2).astype(np.float32)


class EditedLandmarks:
    """An edited image's own landmarks, found as serving finds them: the landmark chain started from
    the original's landmark crop (a detector box barely moves under an edit; the eyes, nose and
    mouth inside it do). Callable as (edited image, dataset index) -> (68, 2) or None when the
    original has no recorded crop. The net is loaded on first use, in whichever process calls."""

    def __init__(self, crops):
        self.crops = crops
        self.net = None

    def __call__(self, img, idx):
        rect = self.crops[idx]
        if rect is None:
            return None
        if self.net is None:
            self.net = load_landmark_net()
        return served_landmarks(self.net, img, rect)


def main():
    """python3 served_landmarks.py IMAGE '{"x":..,"y":..,"width":..,"height":..}' -> JSON landmarks
    (for the parity test against the serving face stage)."""
    import json
    from PIL import Image
    img = np.asarray(Image.open(sys.argv[1]).convert("RGB"))
    c = json.loads(sys.argv[2])
    pts = served_landmarks(load_landmark_net(), img, (c["x"], c["y"], c["width"], c["height"]))
    print(json.dumps(pts.round(4).tolist()))


if __name__ == "__main__":
    main()
