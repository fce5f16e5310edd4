#!/usr/bin/env python3
"""A detector made of two exported runs: the edited logits (and the 14x14 maps) are a weighted
mean of the two networks', in one ONNX model with the detector's usual contract, so serving reads
it as any other detector. The classifier stays the base's own.

  ensemble.py --run NAME --base-models models --base-version 2.4.0 --add runs/s1/export \
      --landmarks .cache/landmarks-KEY.jsonl [--weights 0,0.1,...]

Why: the shipped detector has seen every dataset fake source, and what it learns from them does
not carry to sources held out (leave-one-source-out AUC 0.27-0.70). A run trained on reals and
their synthetic edits only (train.py --loso all) has held every dataset source out. The added
member's weight is chosen on validation: the largest weight whose validation AUC stays within
train.AUC_TOLERANCE of the best on the grid (validation holds the dataset sources the base was chosen
on, so the largest weight that costs nothing there leans furthest towards the member that has
never seen them). Threshold, band and mirror window are then calibrated on validation exactly as
train.py does. The run folder is laid out as train.py's, so promote.py ships it.

With --cascade the two networks stay apart: the base's graph is model.onnx and the added member
is second.onnx, which serving runs only on faces the base scores within `second_opinion.within`
of the threshold (model.json), blending their logits by the chosen weight. The blend's accuracy
where it matters (near the threshold) at a fraction of its cost: the added member's weight and
both windows are chosen on validation, each window capped at a share of validation faces
(--mirror-share, --second-share) so that the serving cost per face stays inside its bound.
"""
import argparse
import ast
import json
import os
import shutil
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import train as T
from faceapi_resnet import build_model


def edit_cam_on_grid(net, x, grid):
    """A member's edited-head per-cell logits on `grid` (another trunk's grid, mbv3's 15x15 against
    face-api's 14x14, is resized bilinearly)."""
    cam = net.edit_head(net.maps(x))
    if tuple(cam.shape[2:]) != tuple(grid):
        cam = F.interpolate(cam, size=tuple(grid), mode="bilinear", align_corners=False)
    return cam


class Blend(nn.Module):
    """(1 - w) * base + w * added, on the edited head's per-cell logits (the image logits are their
    mean, so they blend the same way)."""

    def __init__(self, base, added, w):
        super().__init__()
        self.base, self.added, self.w = base, added, float(w)

    def forward(self, x):
        base_cam = self.base.edit_head(self.base.maps(x))
        cam = (1 - self.w) * base_cam + self.w * edit_cam_on_grid(self.added, x, base_cam.shape[2:])
        return cam.mean((2, 3)), cam


class Second(nn.Module):
    """The added member alone, its map resized to the base's grid and its image logits the mean of
    that map (as in Blend): the second network of a cascade (model.json `second_opinion`), whose
    outputs serving blends with the base's."""

    def __init__(self, added, grid):
        super().__init__()
        self.added, self.grid = added, tuple(grid)

    def forward(self, x):
        cam = edit_cam_on_grid(self.added, x, self.grid)
        return cam.mean((2, 3)), cam


@torch.no_grad()
def module_logit(module, crops, bs=64):
    """An exportable (logits, cam) module's edited-minus-real logit per crop."""
    out = []
    for _, x in T.input_batches(crops, bs):
        z = module(x)[0]
        out.append((z[:, 1] - z[:, 0]).numpy())
    return np.concatenate(out)


def window_for_share(s, t, share):
    """The widest window |s - t| <= w (steps of 0.005) that holds at most `share` of the scores s
    (0: no window)."""
    w = 0.0
    while share > 0 and w < 1 and (np.abs(s - t) <= w + 0.005).mean() <= share:
        w = round(w + 0.005, 3)
    return w


def cascade_served(zb, zbm, za, t, mirror_within, second_within, w, second_mirror=False):
    """The served score of a cascade (packages/model-runtime classifier-model.ts predict): the
    mirror window is decided on the base's plain score, and inside it the base's logits are the mean
    of plain and mirrored; the second window is decided on the plain score too, or with
    second_mirror (the second network mirror-averaged, za its mean logit) on the base's score after
    that mean, so a face and its mirror image get the same decision; inside it the logits are
    blended with the second network's by weight w."""
    z = np.where((mirror_within > 0) & (np.abs(sigmoid(zb) - t) <= mirror_within), (zb + zbm) / 2, zb)
    decided_on = sigmoid(z if second_mirror else zb)
    return sigmoid(np.where((second_within > 0) & (np.abs(decided_on - t) <= second_within), (1 - w) * z + w * za, z)), decided_on


def calibrate_cascade(y, zb, zbm, za, src, w, mirror_share, second_share, second_mirror=False):
    """Threshold and band (train.calibrate) on the cascade's served scores; the windows are the
    widest holding at most mirror_share / second_share of validation around that threshold, each
    on the score it is decided on (train.calibrate_fixed_point, from the base's plain scores'
    calibration)."""
    sb = sigmoid(zb)

    def windows(t):
        mw = window_for_share(sb, t, mirror_share)
        decided_on = cascade_served(zb, zbm, za, t, mw, 0, w, second_mirror)[1]
        return mw, window_for_share(decided_on, t, second_share), decided_on

    def served_at(c):
        mw, sw, _ = windows(c["threshold"])
        return cascade_served(zb, zbm, za, c["threshold"], mw, sw, w, second_mirror)[0], (mw, sw)
    c, s, (mw, sw) = T.calibrate_fixed_point(y, src, served_at, T.calibrate(y, sb, src))
    decided_on = windows(c["threshold"])[2]
    share = lambda x, on: round(float(((x > 0) & (np.abs(on - c["threshold"]) <= x)).mean()), 4)
    c.update(mirror_average_within=mw, val_share_mirrored=share(mw, sb),
             second_opinion_within=sw, val_share_second_opinion=share(sw, decided_on))
    return c, s


def choose_weight(aucs, rule="lean"):
    """The added member's weight from validation AUC per weight: the largest within
    train.AUC_TOLERANCE of the best ("lean": leans towards a member that never saw the dataset
    sources the base was chosen on, at no cost on validation), or the best ("best")."""
    top = max(aucs.values())
    return max(x for x in aucs if aucs[x] >= top - T.AUC_TOLERANCE) if rule == "lean" else max(aucs, key=aucs.get)


def load_member(dirs, bn_crops):
    net = T.ForensicNet(build_model(True, log=T.log)[0])
    T.init_from_models(net, dirs, bn_crops)
    return net.eval()


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--base-models", default=os.path.join(T.REPO, "models"))
    base_arg = ap.add_mutually_exclusive_group(required=True)
    base_arg.add_argument("--base-version", help="shipped models/{detector,classifier}/V")
    base_arg.add_argument("--base-run", help="a run's checkpoint (runs/R/checkpoint.pt, its best epoch): for a "
                          "leave-one-source-out run, which exports nothing; the blend is then measured, not shippable")
    add_arg = ap.add_mutually_exclusive_group(required=True)
    add_arg.add_argument("--add", help="an export folder (detector/, classifier/) of another face-api run")
    add_arg.add_argument("--add-run", help="another run's checkpoint (runs/R/checkpoint.pt, its best epoch), any backbone")
    ap.add_argument("--landmarks", required=True)
    ap.add_argument("--weights", default="0,0.1,0.2,0.3,0.4,0.5,0.6")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--cascade", action="store_true",
                    help="export the base as model.onnx and the added member as second.onnx (model.json second_opinion): "
                         "only faces the base scores near the threshold pay for the second network")
    ap.add_argument("--mirror-share", type=float, default=0.0,
                    help="--cascade: at most this share of validation faces is also run mirrored through the base")
    ap.add_argument("--second-share", type=float, default=0.5,
                    help="--cascade: at most this share of validation faces is also run through the added member")
    ap.add_argument("--second-mirror", action="store_true",
                    help="--cascade: the second network judges the crop and its mirror image and their logits are averaged "
                         "(model.json second_opinion.mirror_average), so a verdict inside its window does not depend on "
                         "which way the face looks; it then runs twice per consulted face")
    ap.add_argument("--weight-rule", choices=("lean", "best"), default="lean",
                    help="--cascade: how the added member's weight is chosen on validation AUC (choose_weight)")
    ap.add_argument("--reuse-logits", action="store_true",
                    help="--cascade: read the members' logits from an earlier run of the same --run (runs/R/logits.npz)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    run_dir = os.path.join(T.HERE, "runs", args.run)
    os.makedirs(run_dir, exist_ok=True)
    T.LOGF = open(os.path.join(run_dir, "train.log"), "a")
    T.log("ensemble args", vars(args))
    t0 = time.time()
    rows = T.read_rows(args.seed)
    lm_map = T.read_landmarks(args.landmarks)
    images = T.load_images(rows)
    lms = [lm_map[r["key"]][0] if r["key"] in lm_map else None for r in rows]
    src = np.array([r["source"] for r in rows])
    lab = np.array([r["label"] for r in rows])
    sp = np.array([r["split"] for r in rows])
    size = T.served.FACE_CROP["size"]
    val, test = np.nonzero(sp == "val")[0], np.nonzero(sp == "test")[0]
    crops = {int(i): T.served_input(images[i], lms[i], size) for i in np.r_[val, test]}
    # Any clean served crops make the warm start exact (init_from_models sets the norm's affine from them).
    bn_crops = [crops[int(i)] for i in val[::4]]
    if args.base_version:
        base_dirs = [os.path.join(args.base_models, n, args.base_version) for n in ("detector", "classifier")]
        base = load_member(base_dirs, bn_crops)
        base_mj = json.load(open(os.path.join(base_dirs[0], "model.json")))
    else:
        base, _ = T.load_run_net(args.base_run)
        base_mj = json.load(open(os.path.join(T.HERE, "runs", args.base_run, "metrics.json")))
    added = (T.load_run_net(args.add_run)[0] if args.add_run else
             load_member([os.path.join(args.add, n) for n in ("detector", "classifier")], bn_crops))

    if args.cascade:
        return cascade(args, run_dir, t0, base, added, base_dirs, base_mj, crops, val, test, src, lab, size)

    def logits(idx):
        c = [crops[int(i)] for i in idx]
        return [(T.head_logit(m, c), T.head_logit(m, T.mirrored(c))) for m in (base, added)]
    (vb, vbm), (va, vam) = logits(val)
    vy = (lab[val] != "real").astype(int)
    grid = [float(w) for w in args.weights.split(",")]
    aucs = {w: T.roc_auc(vy, sigmoid((1 - w) * vb + w * va)) for w in grid}
    w = choose_weight(aucs)
    T.log("validation AUC per added weight", aucs, "chosen", w)
    vs, vs_m = sigmoid((1 - w) * vb + w * va), sigmoid((1 - w) * vbm + w * vam)
    calib, _ = T.calibrate_mirrored(vy, vs, vs_m, src[val])
    within = calib["mirror_average_within"]
    T.log("calibration detector", calib)

    (tb, tbm), (ta, tam) = logits(test)
    # Each member's edited logits, plain and mirrored, for comparing other blends without rerunning.
    np.savez(os.path.join(run_dir, "logits.npz"), val=val, test=test, vb=vb, vbm=vbm, va=va, vam=vam,
             tb=tb, tbm=tbm, ta=ta, tam=tam, src=src, lab=lab)
    ty = (lab[test] != "real").astype(int)
    thr = calib["threshold"]
    metrics = {"split": "test (group-disjoint, faces-v1 + faces-v2), PyTorch on served crops", "n": int(len(test))}
    members = {"base": sigmoid(tb), "added": sigmoid(ta)}
    served_s = T.mirror_served(sigmoid((1 - w) * tb + w * ta), sigmoid((1 - w) * tbm + w * tam), thr, within)
    for name, s in {**members, "ensemble": served_s}.items():
        T.log(f"TEST {name}: auc {T.roc_auc(ty, s):.4f}", {k: round(v, 4) for k, v in T.source_aucs(ty, s, src[test]).items()})
    # Every weight of the grid on the test split (plain scores, no mirror), so a blend can be judged on
    # a source its base held out, which validation cannot choose for.
    for x in grid:
        s = sigmoid((1 - x) * tb + x * ta)
        T.log(f"TEST weight {x}: auc {T.roc_auc(ty, s):.4f}", {k: round(v, 4) for k, v in T.source_aucs(ty, s, src[test]).items()})
    metrics["auc"] = T.roc_auc(ty, served_s)
    metrics["accuracy"] = float(((served_s >= thr) == ty).mean())
    metrics["per_source"] = T.per_source_figures(lab[test], served_s, src[test], thr)
    metrics["calibration_detector"] = T.without_confidence(calib)

    added_mj = json.load(open(os.path.join(T.HERE, "runs", args.add_run, "metrics.json") if args.add_run else
                              os.path.join(args.add, "detector", "model.json")))
    training = {"ensemble": {"members": [{"models" if args.base_version else "run": args.base_version or args.base_run,
                                          "training": base_mj.get("training")},
                                         ({"run": args.add_run} if args.add_run else {"export": os.path.relpath(args.add, T.REPO)})
                                         | {"training": added_mj.get("training")}],
                             "added_weight": w, "validation_auc_per_weight": aucs,
                             "rule": f"largest added weight whose validation AUC is within {T.AUC_TOLERANCE} of the best on the grid"},
                "seed": args.seed, "run": args.run, "split": base_mj.get("training", {}).get("split"),
                "libraries": base_mj.get("training", {}).get("libraries")}
    with open(os.path.join(run_dir, "metrics.json"), "w") as f:
        json.dump({"metrics": metrics, "training": training}, f, indent=2)
    if not args.base_version:
        T.log(f"measured (a run's checkpoint as base: nothing exported) in {(time.time() - t0) / 60:.1f} min")
        return
    exp = os.path.join(run_dir, "export")
    T.export(None, "detector", None, os.path.join(exp, "detector"), size, ["real", "edited"], calib,
             "Face edit detector: real (0) vs edited (1 = deepfake or retouched), judged on the served face crop; "
             f"a weighted mean of two networks' logits (the {args.base_version} detector and a network trained on "
             "synthetic edits only). Research use only.", training, metrics, mirror_within=within, module=Blend(base, added, w))
    # The classifier is the base's, unchanged.
    shutil.copytree(base_dirs[1], os.path.join(exp, "classifier"), dirs_exist_ok=True)
    T.log(f"exported to {exp} in {(time.time() - t0) / 60:.1f} min")


def run_training_record(run):
    """A run's training record: its metrics.json when it finished, else what its checkpoint and its
    log's first line (the arguments) say, for a run stopped after an epoch's checkpoint (load_run_net
    then reads its best epoch so far)."""
    path = os.path.join(T.HERE, "runs", run, "metrics.json")
    if os.path.exists(path):
        return json.load(open(path)).get("training")
    ck = torch.load(os.path.join(T.HERE, "runs", run, "checkpoint.pt"))
    with open(os.path.join(T.HERE, "runs", run, "train.log")) as f:
        a = ast.literal_eval(f.readline().split(" args ", 1)[1])
    hist = ck["hist"]
    best = max(hist, key=lambda h: h["val_auc"])
    return {"run": run, "seed": a["seed"],
            "backbone": T.MBV3_BACKBONE_TEXT if a["backbone"] == "mbv3" else a["backbone"],
            "epochs": ck["epoch"], "samples_per_epoch": a["samples"], "batch": a["bs"], "lr": a["lr"],
            "backbone_lr_factor": a["backbone_lr"], "train_minutes": round(sum(h.get("seconds", 0) for h in hist) / 60, 1),
            "history": hist, "initialised_from": f"run {a['init_run']}" if a.get("init_run") else None,
            "stopped": f"after epoch {ck['epoch']} of the {a['epochs']} its cosine schedule planned; its best epoch by "
                       f"validation AUC ({best['epoch']}, {best['val_auc']:.4f}) is the one used",
            "augmentation": T.AUGMENTATION}


def cascade(args, run_dir, t0, base, added, base_dirs, base_mj, crops, val, test, src, lab, size):
    """--cascade: the weight and the two windows chosen on validation, measured on test, exported as
    the base's own graph plus a second network."""
    if not args.base_version:
        raise SystemExit("--cascade needs --base-version (a shipped base to export beside the second network)")
    base_export = T.Export(base, "edit_head").eval()
    with torch.no_grad():
        grid = base_export(torch.zeros(1, 3, size, size))[1].shape[2:]
    second = Second(added.eval(), grid).eval()

    def logits(idx):
        c = [crops[int(i)] for i in idx]
        return (T.head_logit(base, c), T.head_logit(base, T.mirrored(c)), module_logit(second, c),
                module_logit(second, T.mirrored(c)))
    saved = os.path.join(run_dir, "logits.npz")
    if args.reuse_logits and os.path.exists(saved):  # the same members, other share caps: skip the forward passes
        d = np.load(saved)
        assert np.array_equal(d["val"], val) and np.array_equal(d["test"], test), f"{saved} is for another split"
        vb, vbm, va, vam, tb, tbm, ta, tam = (d[k] for k in ("vb", "vbm", "va", "vam", "tb", "tbm", "ta", "tam"))
    else:
        vb, vbm, va, vam = logits(val)
        tb, tbm, ta, tam = logits(test)
    # Both networks' logits, plain and mirrored, for comparing other windows (and a mirrored upload) without rerunning.
    np.savez(os.path.join(run_dir, "logits.npz"), val=val, test=test, vb=vb, vbm=vbm, va=va, vam=vam, tb=tb, tbm=tbm, ta=ta,
             tam=tam, src=src, lab=lab)
    vy, ty = (lab[val] != "real").astype(int), (lab[test] != "real").astype(int)
    if args.second_mirror:  # the second network's served logit: the mean of the crop's and its mirror's
        va, ta = (va + vam) / 2, (ta + tam) / 2
    ta_of_mirror = ta if args.second_mirror else tam  # the second network's served logit on the crop mirrored
    weights = [float(w) for w in args.weights.split(",") if float(w) > 0]
    fits = {w: calibrate_cascade(vy, vb, vbm, va, src[val], w, args.mirror_share, args.second_share, args.second_mirror)
            for w in weights}
    aucs = {w: T.roc_auc(vy, fits[w][1]) for w in weights}
    w = choose_weight(aucs, args.weight_rule)
    calib = fits[w][0]
    T.log("cascade: validation AUC per added weight", aucs, "chosen", w, "calibration", calib)
    thr, mw, sw = calib["threshold"], calib["mirror_average_within"], calib["second_opinion_within"]
    served_s, second_on = cascade_served(tb, tbm, ta, thr, mw, sw, w, args.second_mirror)
    sb = sigmoid(tb)
    share = lambda x, on=sb: float(((x > 0) & (np.abs(on - thr) <= x)).mean())
    T.log(f"TEST base: auc {T.roc_auc(ty, sb):.4f}", {k: round(v, 4) for k, v in T.source_aucs(ty, sb, src[test]).items()})
    T.log(f"TEST second alone: auc {T.roc_auc(ty, sigmoid(ta)):.4f}")
    T.log(f"TEST full blend (weight {w}, every face): auc {T.roc_auc(ty, sigmoid((1 - w) * tb + w * ta)):.4f}")
    T.log(f"TEST cascade: auc {T.roc_auc(ty, served_s):.4f}, share mirrored {share(mw):.3f}, share consulted {share(sw, second_on):.3f}",
          {k: round(v, 4) for k, v in T.source_aucs(ty, served_s, src[test]).items()})
    # The crop mirrored is served as the base's mirrored logit first (its windows decided on it).
    flips = float(((served_s >= thr) != (cascade_served(tbm, tb, ta_of_mirror, thr, mw, sw, w, args.second_mirror)[0] >= thr)).mean())
    T.log(f"TEST cascade: verdicts that flip when the crop is mirrored {flips:.4f}")
    metrics = {"split": "test (group-disjoint, faces-v1 + faces-v2), PyTorch on served crops", "n": int(len(test)),
               "auc": T.roc_auc(ty, served_s), "flip_rate_crop_mirrored": round(flips, 4), "accuracy": float(((served_s >= thr) == ty).mean()),
               "per_source": T.per_source_figures(lab[test], served_s, src[test], thr), "calibration_detector": T.without_confidence(calib),
               "test_share_mirrored": round(share(mw), 4), "test_share_second_opinion": round(share(sw, second_on), 4)}
    added_training = (run_training_record(args.add_run) if args.add_run else
                      json.load(open(os.path.join(args.add, "detector", "model.json"))).get("training"))
    training = {"cascade": {"base": {"models": args.base_version, "training": base_mj.get("training")},
                            "second": ({"run": args.add_run} if args.add_run else {"export": os.path.relpath(args.add, T.REPO)})
                            | {"training": added_training},
                            "weight": w, "validation_auc_per_weight": aucs,
                            "mirror_share_cap": args.mirror_share, "second_share_cap": args.second_share,
                            "second_mirror_averaged": args.second_mirror,
                            "rule": (f"largest weight whose validation AUC is within {T.AUC_TOLERANCE} of the best on the grid; " if args.weight_rule == "lean"
                                     else "the weight with the best validation AUC on the grid; ")
                                    + ("the second network mirror-averaged and its window decided on the base's mirror-averaged score; "
                                       if args.second_mirror else "")
                                    + "each window the widest holding at most its share cap of validation around the threshold"},
                "seed": args.seed, "run": args.run, "split": base_mj.get("training", {}).get("split"),
                "libraries": base_mj.get("training", {}).get("libraries")}
    with open(os.path.join(run_dir, "metrics.json"), "w") as f:
        json.dump({"metrics": metrics, "training": training}, f, indent=2)
    det = os.path.join(run_dir, "export", "detector")
    mj = T.export(None, "detector", None, det, size, ["real", "edited"], calib,
                  "Face edit detector: real (0) vs edited (1 = deepfake or retouched), judged on the served face crop; "
                  f"the {args.base_version} detector, with a second network (trained on every source from a general-purpose "
                  "trunk) " + ("blended in on every face" if sw >= 1 else "consulted on faces it scores near the threshold")
                  + (", judging each such face and its mirror image" if args.second_mirror else "")
                  + ". Research use only.",
                  training, metrics, mirror_within=mw or None, module=base_export)
    path = os.path.join(det, "second.onnx")
    torch.onnx.export(second, torch.randn(2, 3, size, size), path, opset_version=17, input_names=["input"],
                      output_names=["logits", "cam"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}, "cam": {0: "N"}},
                      do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(path))
    xr = torch.from_numpy(T.parity_input(size, size))
    with torch.no_grad():
        lr_, cr_ = second(xr)
    mj["second_opinion"] = {"file": "second.onnx", "sha256": T.sha256(path), "weight": w, "within": sw,
                            **({"mirror_average": True} if args.second_mirror else {}),
                            "parity": {"logits": lr_.flatten().tolist(), "cam": cr_.flatten().tolist(), "cam_shape": list(cr_.shape)}}
    with open(os.path.join(det, "model.json"), "w") as f:
        json.dump(mj, f, indent=2)
    shutil.copytree(base_dirs[1], os.path.join(run_dir, "export", "classifier"), dirs_exist_ok=True)
    T.log(f"cascade exported to {os.path.dirname(det)} in {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
