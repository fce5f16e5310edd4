#!/usr/bin/env python3
"""Weight soups of several fine-tunes of one shipped version, judged per source on the validation
and test splits (PyTorch on served crops; each face's edited logit mean-averaged with its mirror
image's, as 2.5.x serves every face):

  soup_check.py --models-dir DIR/models --init-version 2.4.0 --landmarks .cache/landmarks-KEY.jsonl \
      runs/p1/epochs/ema-1.pt runs/p2/epochs/ema-1.pt ... [--grid '1,1;0.5,1']

Printed, one JSON line each: the shipped version itself, every ingredient alone, their uniform soup
(the mean of the ingredients' weights) and the half-way soup (the shipped weights moved half the mean
change). Why: every one-epoch fine-tune of 2.4.0 so far lost the DFDC swaps and gained elsewhere
(the README's runs since the eighth session), and a change as small as p2's distillation term moved the
DFDC ranking by 0.02; if those losses are each run's own noise while the gains are shared, the mean
of several runs' changes keeps the gains and averages the noise away (Wortsman et al., "Model soups",
ICML 2022: the uniform soup of fine-tunes of one initialisation), at no serving cost.
"""
import argparse
import json
import os

import numpy as np
import torch

import train as T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ingredients", nargs="+", help="state dicts of fine-tunes of --init-version (runs/R/epochs/ema-E.pt)")
    ap.add_argument("--models-dir", required=True)
    ap.add_argument("--init-version", required=True)
    ap.add_argument("--landmarks", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--grid", default=None,
                    help="weight vectors to judge on validation, ';'-separated, each one weight per ingredient "
                         "(e.g. '1,1;0.5,1'): initial + sum w_i (ingredient_i - initial); the best by validation AUC "
                         "is then judged on test too")
    ap.add_argument("--save-run", default=None,
                    help="with --grid: write the best soup as runs/NAME/checkpoint.pt, for "
                         "`npm run train -- --run OTHER --init-run NAME --epochs 0` to calibrate and export it")
    a = ap.parse_args()
    torch.set_num_threads(2)
    rows = [r for r in T.read_rows(a.seed) if r["split"] in ("train", "val", "test")]
    lm = T.read_landmarks(a.landmarks)
    size = T.served.FACE_CROP["size"]
    split = np.array([r["split"] for r in rows])
    # Batch norm statistics from clean served training crops, the ones train.py measures them on.
    real = np.array([r["label"] == "real" for r in rows])
    bn_rows = [rows[i] for i in T.bn_sample(np.nonzero((split == "train") & real)[0],
                                            np.nonzero((split == "train") & ~real)[0], a.seed)]

    def crops_of(rs):
        return [T.served_input(img, lm[r["key"]][0] if r["key"] in lm else None, size) for img, r in zip(T.load_images(rs), rs)]
    bn_crops = crops_of(bn_rows)
    judged = {}
    for name in ("val", "test"):
        rs = [r for r in rows if r["split"] == name]
        c = crops_of(rs)
        judged[name] = (c, T.mirrored(c), np.array([r["label"] != "real" for r in rs]).astype(int), np.array([r["source"] for r in rs]))

    net = T.ForensicNet(T.make_backbone("faceapi")[0])
    dirs = [os.path.join(a.models_dir, n, a.init_version) for n in ("detector", "classifier")]
    T.init_from_models(net, dirs, bn_crops)
    initial = {k: v.detach().clone() for k, v in net.state_dict().items()}
    tuned = [torch.load(p) for p in a.ingredients]

    def soup(ws):
        """initial + sum_i ws[i] * (ingredient_i - initial), tensor by tensor (integer buffers: initial's)."""
        return {k: (v.float() + sum(w * (t[k].float() - v.float()) for w, t in zip(ws, tuned))).to(v.dtype)
                if v.is_floating_point() else v.clone() for k, v in initial.items()}

    def judge(label, state, recalibrate=True, sets=None):
        net.load_state_dict(state)
        if recalibrate:
            T.recalibrate_bn(net, bn_crops)
        out = {"model": label}
        for name, (c, m, y, src) in (sets or judged).items():
            s = 0.5 * (T.head_logit(net, c) + T.head_logit(net, m))
            out[name] = {"all": round(T.roc_auc(y, s), 4), **{k: round(v, 4) for k, v in T.source_aucs(y, s, src).items()}}
        print(json.dumps(out), flush=True)
        return out

    n = len(tuned)
    if a.grid:
        # Task arithmetic (Ilharco et al., "Editing models with task arithmetic", ICLR 2023): each
        # ingredient's change from the initial weights as a task vector, added with its own weight.
        grid = [[float(w) for w in v.split(",")] for v in a.grid.split(";") if v.strip()]
        if any(len(ws) != n for ws in grid):
            ap.error(f"--grid: every vector needs {n} weights")
        val_only = {"val": judged["val"]}
        test_only = {"test": judged["test"]}
        scored = []
        for ws in grid:
            scored.append((judge(f"weights {ws}", soup(ws), sets=val_only)["val"]["all"], ws))
        best_auc, best_ws = max(scored)
        judge(f"best by validation: weights {best_ws} (val {best_auc})", soup(best_ws), sets=test_only)
        if a.save_run:
            run_dir = os.path.join(T.HERE, "runs", a.save_run)
            os.makedirs(run_dir, exist_ok=True)
            # The state as judged (norm re-measured), in the layout train.initialise reads.
            torch.save({"best_state": {k: v.detach().clone() for k, v in net.state_dict().items()}, "epoch": 0,
                        "hist": [], "soup": {"init_version": a.init_version, "ingredients": a.ingredients,
                                             "weights": best_ws, "validation_auc": best_auc}},
                       os.path.join(run_dir, "checkpoint.pt"))
            print(json.dumps({"saved": os.path.join(run_dir, "checkpoint.pt")}), flush=True)
        return
    # The shipped weights exactly as loaded (their norm was set to reproduce the export), then with
    # the norm measured the way every soup's is, so that the soups' figures compare like with like.
    judge(a.init_version, initial, recalibrate=False)
    judge(f"{a.init_version}, norm re-measured", initial)
    for i, p in enumerate(a.ingredients):
        judge(p, soup([1.0 if j == i else 0.0 for j in range(n)]))
    judge(f"uniform soup of {n}", soup([1.0 / n] * n))
    judge(f"{a.init_version} + half the mean change", soup([0.5 / n] * n))


if __name__ == "__main__":
    main()
