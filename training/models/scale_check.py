#!/usr/bin/env python3
"""How a detector's ranking depends on the served crop's scale: validation (or test) AUC, overall and
per source, with the crop template scaled about the crop's centre by each factor (above 1: the face
larger in the crop, less context; below 1: more context), on the mean of plain and mirrored logits.

  scale_check.py --landmarks .cache/landmarks-KEY.jsonl (--version 2.4.0 | --run R | --state runs/R/epochs/ema-E.pt) \
      [--split val] [--scales 0.88,0.94,1,1.06,1.12]

Why: 2.4.0's DFDC swap AUC on validation is 0.76 at the served scale, 0.57 with the template scaled by
0.88 and 0.79 at 1.12, while the generated faces move the other way. Landmarks found on photos from
other sources sit a little differently, so this says how much of a detector's evidence is tied to
where the crop's edges fall. PyTorch on served crops; nothing here is used by serving.
"""
import argparse
import copy
import os

import numpy as np
import torch

import train as T
from faceapi_resnet import build_model


def spec_at(f):
    """served.FACE_CROP with its template scaled by f about the crop's centre."""
    s = copy.deepcopy(T.served.FACE_CROP)
    s["template5"] = [[0.5 + (x - 0.5) * f, 0.5 + (y - 0.5) * f] for x, y in s["template5"]]
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--landmarks", required=True)
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--version", help="shipped models/{detector,classifier}/V")
    which.add_argument("--run", help="a run's best validation epoch (runs/R/checkpoint.pt)")
    which.add_argument("--state", help="a saved state dict, e.g. runs/R/epochs/ema-E.pt")
    ap.add_argument("--split", choices=["val", "test"], default="val")
    ap.add_argument("--scales", default="0.88,0.94,1,1.06,1.12")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    torch.set_num_threads(2)
    T.LOGF = open(os.devnull, "w")
    rows = T.read_rows(args.seed)
    lm_map = T.read_landmarks(args.landmarks)
    images = T.load_images(rows)
    lms = [lm_map[r["key"]][0] if r["key"] in lm_map else None for r in rows]
    src = np.array([r["source"] for r in rows])
    y_all = np.array([r["label"] != "real" for r in rows], int)
    idx = np.nonzero(np.array([r["split"] for r in rows]) == args.split)[0]
    size = T.served.FACE_CROP["size"]

    def crops(f, which=idx):
        spec = spec_at(f)
        return [T.served_input(images[i], lms[i], size) if lms[i] is None else T.served.served_crop(images[i], lms[i], spec)[0]
                for i in which]

    if args.run:
        net, _ = T.load_run_net(args.run)
    else:
        net = T.ForensicNet(build_model(True, log=T.log)[0])
        if args.version:
            dirs = [os.path.join(T.REPO, "models", n, args.version) for n in ("detector", "classifier")]
            T.init_from_models(net, dirs, crops(1.0, idx[::4]))
        else:
            net.load_state_dict(torch.load(args.state))
    y = y_all[idx]
    for f in [float(x) for x in args.scales.split(",")]:
        c = crops(f)
        z = (T.head_logit(net, c) + T.head_logit(net, T.mirrored(c))) / 2
        per = {k: round(v, 3) for k, v in T.source_aucs(y, z, src[idx]).items()}
        print(f"scale {f:.2f}: AUC {T.roc_auc(y, z):.4f}", per, flush=True)


if __name__ == "__main__":
    main()
