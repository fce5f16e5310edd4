#!/usr/bin/env python3
"""Offline training pipeline for the detector (real vs edited) and classifier (deepfake vs retouched).

Usage (use Debian's python with torch: /usr/bin/python3):
  train.py --all                      # detector + classifier + LOSO, export to models/*/1.0.0
  train.py --all --no-loso            # skip leave-one-source-out runs
  train.py --smoke --out DIR          # CI: ~40 images, 1 epoch, exports ONNX into DIR (< 2 min)
Logs + metrics JSON go to training/models/runs/<run>/.
"""
import argparse
import hashlib
import json
import os
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
import make_cards  # noqa: E402
import retouch_synth  # noqa: E402
from faceapi_resnet import FACEAPI_MEAN_RGB, ExportWrapper, build_model  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
MEAN = [m / 255.0 for m in FACEAPI_MEAN_RGB]
STD = [1.0, 1.0, 1.0]
VERSION = "1.0.0"
AUG_DESC = ("flip p0.5; colour jitter p0.6; downscale-upscale x0.35-0.9 p0.4; gaussian blur p0.3 or unsharp-mask "
            "sharpening p0.2; noise p0.25; JPEG q40-95 p0.6; crop 0.85-1.0 p0.5; identical for all classes")

LOGF = None
BEST_VAL = {}  # tag -> validation scores of the best epoch (avoids re-predicting)


def log(*a):
    s = time.strftime("%H:%M:%S ") + " ".join(str(x) for x in a)
    print(s, flush=True)
    if LOGF:
        LOGF.write(s + "\n")
        LOGF.flush()


# ---------------------------------------------------------------- metrics
def roc_auc(y, s):
    y = np.asarray(y).astype(int)
    s = np.asarray(s, np.float64)
    pos, neg = s[y == 1], s[y == 0]
    if len(pos) == 0 or len(neg) == 0:
        return None
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    allv = np.concatenate([pos, neg])[order]
    ranks = np.empty(len(allv))
    # average ranks for ties
    i = 0
    r = np.arange(1, len(allv) + 1, dtype=np.float64)
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and allv[j + 1] == allv[i]:
            j += 1
        r[i:j + 1] = (i + j + 2) / 2.0
        i = j + 1
    ranks[order] = r
    rp = ranks[: len(pos)].sum()
    return float((rp - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def youden_threshold(y, s):
    y, s = np.asarray(y), np.asarray(s)
    best, bt = -1, 0.5
    for t in np.unique(np.round(s, 4)):
        tpr = (s[y == 1] >= t).mean()
        tnr = (s[y == 0] < t).mean()
        if tpr + tnr - 1 > best:
            best, bt = tpr + tnr - 1, float(t)
    return bt


def uncertain_band(y, s, t, target_acc=0.8, max_frac=0.3):
    """Largest [lo,hi] around t (grid 0.01) whose val samples have accuracy < target_acc and that
    holds at most max_frac of val samples. Falls back to [t-0.05, t+0.05]."""
    y, s = np.asarray(y), np.asarray(s)
    pred = (s >= t).astype(int)
    best = None
    for lo in np.arange(0.0, t + 1e-9, 0.01):
        for hi in np.arange(t, 1.0 + 1e-9, 0.01):
            m = (s >= lo) & (s <= hi)
            n = m.sum()
            if n < 10 or n > max_frac * len(s):
                continue
            acc = (pred[m] == y[m]).mean()
            if acc < target_acc and (best is None or n > best[2]):
                best = (float(lo), float(hi), int(n), float(acc))
    if best is None:
        return [max(0.0, t - 0.05), min(1.0, t + 0.05)], None
    return [round(best[0], 3), round(best[1], 3)], {"n_val_in_band": best[2], "val_acc_in_band": round(best[3], 4)}


@torch.no_grad()
def predict(model, images, idxs, size, bs=64):
    model.eval()
    out = []
    for i in range(0, len(idxs), bs):
        x = torch.stack([D.to_tensor(images[j], size, MEAN, STD) for j in idxs[i:i + bs]])
        logits, _ = model(x)
        out.append(F.softmax(logits, 1)[:, 1].numpy())
    return np.concatenate(out) if out else np.zeros(0)


# ---------------------------------------------------------------- training loop
def train_model(model, pools, class_sources, images, synth, val_idx, val_y, args, tag, epochs, n_per_epoch, lr,
                on_best=None):
    head = [p for n, p in model.named_parameters() if n.startswith("fc.")]
    stem = [p for n, p in model.named_parameters() if n.startswith("conv32")]
    rest = [p for n, p in model.named_parameters() if not n.startswith("fc.") and not n.startswith("conv32")]
    opt = torch.optim.AdamW([
        {"params": stem, "lr": lr * 0.3}, {"params": rest, "lr": lr}, {"params": head, "lr": lr * 5},
    ], weight_decay=1e-4)
    base = [g["lr"] for g in opt.param_groups]
    steps_per_epoch = max(1, n_per_epoch // args.bs)
    total = epochs * steps_per_epoch
    warm = max(1, min(100, total // 10))
    best, best_state, hist = -1.0, None, []
    step = 0
    t0 = time.time()
    for ep in range(epochs):
        rng = np.random.default_rng([args.seed, ep, zlib.crc32(tag.encode()) % 10007])
        specs = D.make_specs(pools, class_sources, steps_per_epoch * args.bs, rng)
        ds = D.SpecDataset(specs, images, synth, args.size, MEAN, STD, seed=args.seed * 1000 + ep)
        dl = torch.utils.data.DataLoader(ds, batch_size=args.bs, shuffle=False, num_workers=args.workers,
                                         persistent_workers=False)
        model.train()
        tl, tc, tn = 0.0, 0, 0
        for bi, (x, y) in enumerate(dl):
            f = min(1.0, (step + 1) / warm) * 0.5 * (1 + np.cos(np.pi * min(1.0, step / total)))
            for g, b in zip(opt.param_groups, base):
                g["lr"] = b * f
            logits, _ = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            tl += loss.item() * len(y)
            tc += (logits.argmax(1) == y).sum().item()
            tn += len(y)
            if (bi + 1) % 20 == 0 or bi + 1 == steps_per_epoch:
                el = time.time() - t0
                log(f"[{tag}] ep {ep + 1}/{epochs} step {bi + 1}/{steps_per_epoch} loss {tl / tn:.4f} "
                    f"acc {tc / tn:.3f} elapsed {el / 60:.1f}m eta {el / step * (total - step) / 60:.1f}m")
        s = predict(model, images, val_idx, args.size)
        auc = roc_auc(val_y, s) if len(val_idx) else 0.0
        auc = auc if auc is not None else 0.0
        acc = float(((s >= 0.5) == np.asarray(val_y)).mean()) if len(val_idx) else 0.0
        hist.append({"epoch": ep + 1, "train_loss": tl / tn, "train_acc": tc / tn, "val_auc": auc, "val_acc": acc})
        log(f"[{tag}] epoch {ep + 1} val auc {auc:.4f} acc@0.5 {acc:.4f}")
        if auc >= best:
            best = auc
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            BEST_VAL[tag] = s
            if on_best is not None and ep + 1 < epochs:  # checkpoint export; final export done by caller
                on_best(model, hist, time.time() - t0)
                model.train()
    model.load_state_dict(best_state)
    return model, hist, time.time() - t0


# ---------------------------------------------------------------- export
def export_onnx(model, path, size):
    model.eval()
    w = ExportWrapper(model).eval()
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        l1, _ = model(x)
        l2, cam = w(x)
    assert torch.allclose(l1, l2, atol=1e-4), (l1, l2)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(w, x, path, opset_version=17, input_names=["input"], output_names=["logits", "cam"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}, "cam": {0: "N"}}, do_constant_folding=True)
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    # Reference outputs for the parity test in Node (test/models/parity.test.ts): a closed-form input
    # both sides can build without sharing a random generator, x[i] = sin(0.00731 i + 0.5) over the
    # flattened [2,3,H,W] tensor (double precision, stored as float32).
    n = 2 * 3 * size * size
    xr = torch.from_numpy(np.sin(0.00731 * np.arange(n, dtype=np.float64) + 0.5).astype(np.float32)).reshape(2, 3, size, size)
    with torch.no_grad():
        lr_, cr_ = w(xr)
    ref = {"input": "x[i] = sin(0.00731*i + 0.5), flattened [2,3,H,W], float32", "batch": 2,
           "logits": lr_.flatten().tolist(), "cam": cr_.flatten().tolist(), "cam_shape": list(cr_.shape)}
    return list(cam.shape[2:]), ref


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def write_model_json(outdir, name, desc, size, cam_hw, labels, thr, band, band_info, training, metrics):
    mj = {
        "name": name, "version": VERSION, "description": desc, "file": "model.onnx",
        "sha256": sha256(os.path.join(outdir, "model.onnx")),
        "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 3, size, size]}],
        "outputs": [{"name": "logits", "datatype": "FP32", "shape": [-1, 2]},
                    {"name": "cam", "datatype": "FP32", "shape": [-1, 2, cam_hw[0], cam_hw[1]]}],
        "preprocessing": {"width": size, "height": size, "resize": "bilinear", "channel_order": "RGB",
                          "layout": "NCHW", "scale": 1 / 255.0, "mean": [round(m, 6) for m in MEAN], "std": STD},
        "labels": labels, "positive_label": labels[1], "score": "softmax(logits)[1]",
        "threshold": round(float(thr), 4), "uncertain_band": band,
        "uncertain_band_rule": "largest score interval [lo,hi] containing the threshold (0.01 grid) whose "
                               "validation samples have accuracy < 0.80 and that holds <= 30% of validation "
                               "samples; fallback threshold +/- 0.05",
        "uncertain_band_val": band_info,
        "cam": "cam[n,k,i,j] = sum_c W[k,c]*F[n,c,i,j] + b[k] (per-location logit) with F the final conv "
               "features (before global average pooling) and W,b the linear layer; logits[n,k] = mean_ij cam[n,k,i,j]",
        "training": training, "metrics": metrics,
    }
    parity = training.pop("reference_outputs", None)
    if parity:
        mj["parity"] = parity
    with open(os.path.join(outdir, "model.json"), "w") as f:
        json.dump(mj, f, indent=2)
    return mj


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out", default=None, help="output models dir (default <repo>/models)")
    ap.add_argument("--no-loso", action="store_true")
    ap.add_argument("--only", choices=["detector", "classifier", "loso"], default=None)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--size", type=int, default=192)
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--det-epochs", type=int, default=12)
    ap.add_argument("--det-samples", type=int, default=5000)
    ap.add_argument("--cls-epochs", type=int, default=5)
    ap.add_argument("--cls-samples", type=int, default=3000)
    ap.add_argument("--loso-epochs", type=int, default=5)
    ap.add_argument("--loso-samples", type=int, default=4000)
    ap.add_argument("--n-synth", type=int, default=1200)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--no-pretrained", action="store_true")
    ap.add_argument("--run", default=None)
    args = ap.parse_args()
    if not (args.all or args.smoke or args.only):
        ap.error("use --all, --smoke or --only")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    if args.smoke:
        args.det_epochs = args.cls_epochs = 1
        args.det_samples = args.cls_samples = 64
        args.n_synth = 8
        args.no_loso = True
        args.workers = 0
    out_root = os.path.abspath(args.out) if args.out else os.path.join(REPO, "models")
    run = args.run or (("smoke-" if args.smoke else "full-") + time.strftime("%Y%m%d-%H%M%S"))
    run_dir = os.path.join(HERE, "runs", run)
    os.makedirs(run_dir, exist_ok=True)
    global LOGF
    LOGF = open(os.path.join(run_dir, "train.log"), "a")
    log("args", vars(args))
    T0 = time.time()

    rows = D.read_manifest()
    split = D.group_split(rows, seed=args.seed)
    if not args.smoke:
        D.write_split(rows, split, os.path.join(HERE, "splits", "faces-v1-split.csv"))
    if args.smoke:  # a handful per source: 4 per source
        sel, cnt = [], {}
        for r in rows:
            k = (r["source"], split[r["file"]] if split[r["file"]] != "val" else "test")
            if cnt.get(k, 0) < (3 if k[1] == "train" else 1):
                cnt[k] = cnt.get(k, 0) + 1
                sel.append(r)
        rows = sel
        for r in rows:
            if split[r["file"]] == "val":
                split[r["file"]] = "test"
        # give val a copy of the test images so calibration code runs
    log(f"{len(rows)} images; split counts:",
        {s: sum(1 for r in rows if split[r['file']] == s) for s in ("train", "val", "test")})
    images = D.load_images(rows, log=log)
    src = np.array([r["source"] for r in rows])
    lab = np.array([r["label"] for r in rows])
    sp = np.array([split[r["file"]] for r in rows])
    if args.smoke:
        sp_val = sp == "test"
    else:
        sp_val = sp == "val"

    def idx(cond):
        return np.nonzero(cond)[0]

    # synth retouch pool from TRAIN reals only
    t = time.time()
    rng = np.random.default_rng(args.seed + 7)
    train_real = idx((sp == "train") & (lab == "real"))
    synth = np.zeros((args.n_synth, 256, 256, 3), np.uint8)
    synth_ops = []
    for i in range(args.n_synth):
        a = train_real[rng.integers(len(train_real))]
        d = train_real[rng.integers(len(train_real))]
        synth[i], ops = retouch_synth.synthesize(images[a], rng, donor=images[d])
        synth_ops.append(ops)
        if (i + 1) % 200 == 0:
            log(f"  synthesised {i + 1}/{args.n_synth} retouched images")
    log(f"synth pool {args.n_synth} in {time.time() - t:.0f}s")

    def pools_for(exclude=()):
        p = {s: idx((sp == "train") & (src == s)) for s in set(src) if s not in exclude}
        p[D.SYNTH] = np.arange(args.n_synth)
        return p

    training_common = {"dataset": "faces-v1", "seed": args.seed,
                       "input": f"{args.size}x{args.size} RGB, (x/255 - mean)/std",
                       "framing": f"whole 256x256 dataset image resized to {args.size}x{args.size}",
                       "split": "group-disjoint 70/15/15 by crc32(seed:group); training/models/splits/faces-v1-split.csv",
                       "backbone": "face-api.js face_recognition_model (dlib-style ResNet-34, MIT) truncated after conv256_2",
                       "pretrained": None, "n_synth_retouch": args.n_synth,
                       "augmentation": AUG_DESC,
                       "sampling": "class-balanced, then uniform over sources within class"}
    results = {}
    stats_path = os.path.join(run_dir, "metrics.json")

    def save_results():
        with open(stats_path, "w") as f:
            json.dump(results, f, indent=2)

    test_real = idx((sp == "test") & (lab == "real"))
    det_classes = [D.REAL_SOURCES, D.DEEPFAKE_SOURCES + D.RETOUCH_SOURCES + [D.SYNTH]]

    # ------------------------------------------------ detector
    if args.all or args.smoke or args.only == "detector":
        val_idx = idx(sp_val)
        val_y = (lab[val_idx] != "real").astype(int)
        model, pre = build_model(not args.no_pretrained, log=log)
        def finish_detector(model, hist, ttime):
            torch.save(model.state_dict(), os.path.join(run_dir, "detector.pt"))
            vs = BEST_VAL["detector"]
            thr = youden_threshold(val_y, vs)
            band, binfo = uncertain_band(val_y, vs, thr)
            te = idx(sp == "test")
            ts = predict(model, images, te, args.size)
            ty = (lab[te] != "real").astype(int)
            m = {"split": "test", "n": int(len(te)), "auc": roc_auc(ty, ts),
                 "accuracy": float(((ts >= thr) == ty).mean()), "accuracy_at_0.5": float(((ts >= 0.5) == ty).mean()),
                 "val_auc": roc_auc(val_y, vs), "threshold": thr}
            real_s = ts[lab[te] == "real"]
            per = {}
            for s in sorted(set(src[te])):
                mm = src[te] == s
                e = {"n": int(mm.sum()), "label": str(lab[te][mm][0]), "mean_score": float(ts[mm].mean()),
                     "accuracy": float(((ts[mm] >= thr) == ty[mm]).mean())}
                if lab[te][mm][0] != "real":
                    e["auc_vs_all_test_reals"] = roc_auc(np.r_[np.zeros(len(real_s)), np.ones(mm.sum())],
                                                         np.r_[real_s, ts[mm]])
                else:
                    e["fpr"] = float((ts[mm] >= thr).mean())
                per[s] = e
            m["per_source"] = per
            m["real_vs_retouched_auc"] = per.get("ciplab-photoshop", {}).get("auc_vs_all_test_reals")
            m["real_vs_deepfake_auc"] = roc_auc(np.r_[np.zeros(len(real_s)), np.ones((lab[te] == "deepfake").sum())],
                                                np.r_[real_s, ts[lab[te] == "deepfake"]])
            # sharp reals
            sharp_src = ["ciplab-real", "celebahq", "ffhq"]
            sm = np.isin(src[te], sharp_src)
            if sm.sum() >= 4:
                lv = np.array([D.laplacian_var(images[j]) for j in te[sm]])
                q = np.quantile(lv, 0.75)
                top = lv >= q
                sc = ts[sm]
                m["sharp_reals"] = {"sources": sharp_src, "measure": "variance of Laplacian (gray, 256px)",
                                    "n_top_quartile": int(top.sum()), "laplacian_var_q75": float(q),
                                    "fpr_top_quartile": float((sc[top] >= thr).mean()),
                                    "fpr_other_quartiles": float((sc[~top] >= thr).mean()),
                                    "fpr_all_test_reals": float((real_s >= thr).mean())}
            m["train_minutes"] = ttime / 60
            m["history"] = hist
            results["detector"] = m
            log("DETECTOR test:", json.dumps({k: v for k, v in m.items() if k not in ("history", "per_source")}))
            for s, e in per.items():
                log(f"   {s:20s} {json.dumps(e)}")
            save_results()
            outdir = os.path.join(out_root, "detector", VERSION)
            cam_hw, ref = export_onnx(model, os.path.join(outdir, "model.onnx"), args.size)
            tr = dict(training_common, pretrained=pre, epochs=len(hist), planned_epochs=args.det_epochs, samples_per_epoch=args.det_samples,
                      classes={"real": D.REAL_SOURCES, "edited": D.DEEPFAKE_SOURCES + D.RETOUCH_SOURCES + [D.SYNTH]},
                      train_minutes=round(ttime / 60, 1), reference_outputs=ref)
            metrics = {k: v for k, v in m.items() if k != "history"}
            if "loso" in results:
                metrics["loso"] = results["loso"]
            write_model_json(outdir, "detector", "Face image edit detector: real (0) vs edited (1 = deepfake or retouched). "
                             "Research use only.", args.size, cam_hw, ["real", "edited"], thr, band, binfo, tr, metrics)
            make_cards.main([outdir + "/../.."])
            log(f"exported detector ({len(hist)} epochs) to {outdir} "
                f"({os.path.getsize(os.path.join(outdir, 'model.onnx')) / 1e6:.1f} MB)")
        model, hist, ttime = train_model(model, pools_for(), det_classes, images, synth, val_idx, val_y, args,
                                         "detector", args.det_epochs, args.det_samples, args.lr,
                                         on_best=finish_detector)
        finish_detector(model, hist, ttime)
        det_state = {k: v.clone() for k, v in model.state_dict().items()}
    else:
        det_state = None
        p = os.path.join(run_dir, "detector.pt")
        if os.path.exists(p):
            det_state = torch.load(p)

    # ------------------------------------------------ classifier
    if args.all or args.smoke or args.only == "classifier":
        ed = lab != "real"
        val_idx = idx(sp_val & ed)
        val_y = (lab[val_idx] == "retouched").astype(int)
        model, pre = build_model(not args.no_pretrained, log=log)
        if det_state is not None:
            model.load_state_dict(det_state)
            pre = "initialised from the detector trained in the same run"
            log("classifier initialised from detector weights")
        cls_classes = [D.DEEPFAKE_SOURCES, D.RETOUCH_SOURCES + [D.SYNTH]]
        def finish_classifier(model, hist, ttime):
            vs = BEST_VAL["classifier"]
            thr = youden_threshold(val_y, vs)
            band, binfo = uncertain_band(val_y, vs, thr)
            te = idx((sp == "test") & ed)
            ts = predict(model, images, te, args.size)
            ty = (lab[te] == "retouched").astype(int)
            m = {"split": "test (edited images only)", "n": int(len(te)), "auc": roc_auc(ty, ts),
                 "accuracy": float(((ts >= thr) == ty).mean()), "accuracy_at_0.5": float(((ts >= 0.5) == ty).mean()),
                 "balanced_accuracy": float(0.5 * ((ts[ty == 1] >= thr).mean() + (ts[ty == 0] < thr).mean())) if len(set(ty)) > 1 else None,
                 "val_auc": roc_auc(val_y, vs), "threshold": thr,
                 "per_source": {s: {"n": int((src[te] == s).sum()),
                                    "accuracy": float(((ts[src[te] == s] >= thr) == ty[src[te] == s]).mean())}
                                for s in sorted(set(src[te]))},
                 "train_minutes": ttime / 60, "history": hist}
            # how the classifier scores real test images (out of scope; informative only)
            if len(test_real):
                rs = predict(model, images, test_real, args.size)
                m["real_images_scored_retouched_fraction"] = float((rs >= thr).mean())
            results["classifier"] = m
            log("CLASSIFIER test:", json.dumps({k: v for k, v in m.items() if k != "history"}))
            save_results()
            outdir = os.path.join(out_root, "classifier", VERSION)
            cam_hw, ref = export_onnx(model, os.path.join(outdir, "model.onnx"), args.size)
            tr = dict(training_common, pretrained=pre, epochs=len(hist), planned_epochs=args.cls_epochs, samples_per_epoch=args.cls_samples,
                      classes={"deepfake": D.DEEPFAKE_SOURCES, "retouched": D.RETOUCH_SOURCES + [D.SYNTH]},
                      train_minutes=round(ttime / 60, 1), reference_outputs=ref)
            write_model_json(outdir, "classifier", "Edit-type classifier for images already judged edited: deepfake (0) "
                             "vs retouched (1). Research use only.", args.size, cam_hw, ["deepfake", "retouched"], thr,
                             band, binfo, tr, {k: v for k, v in m.items() if k != "history"})
            make_cards.main([outdir + "/../.."])
            log(f"exported classifier ({len(hist)} epochs) to {outdir}")
        model, hist, ttime = train_model(model, pools_for(), cls_classes, images, synth, val_idx, val_y, args,
                                         "classifier", args.cls_epochs, args.cls_samples, args.lr * 0.7,
                                         on_best=finish_classifier)
        finish_classifier(model, hist, ttime)

    # ------------------------------------------------ LOSO
    if (args.all and not args.no_loso) or args.only == "loso":
        loso = {}
        for held in D.GAN_SOURCES:
            val_idx = idx(sp_val & (src != held))
            val_y = (lab[val_idx] != "real").astype(int)
            model, pre = build_model(not args.no_pretrained, log=log)
            model, hist, ttime = train_model(model, pools_for(exclude=(held,)), det_classes, images, synth, val_idx,
                                             val_y, args, f"loso-{held}", args.loso_epochs, args.loso_samples, args.lr)
            real_s = predict(model, images, test_real, args.size)
            ht = idx((sp == "test") & (src == held))
            ha = idx(src == held)
            hs_t = predict(model, images, ht, args.size)
            hs_a = predict(model, images, ha, args.size)
            loso[held] = {
                "auc_test_split": roc_auc(np.r_[np.zeros(len(real_s)), np.ones(len(ht))], np.r_[real_s, hs_t]),
                "auc_all_images_of_source": roc_auc(np.r_[np.zeros(len(real_s)), np.ones(len(ha))], np.r_[real_s, hs_a]),
                "n_heldout_test": int(len(ht)), "n_heldout_all": int(len(ha)), "n_real_test": int(len(test_real)),
                "epochs": args.loso_epochs, "samples_per_epoch": args.loso_samples, "train_minutes": ttime / 60}
            log(f"LOSO {held}: {json.dumps(loso[held])}")
            results["loso"] = loso
            save_results()
        # add LOSO to the shipped detector model.json + card inputs
        mjp = os.path.join(out_root, "detector", VERSION, "model.json")
        if os.path.exists(mjp):
            mj = json.load(open(mjp))
            mj["metrics"]["loso"] = loso
            json.dump(mj, open(mjp, "w"), indent=2)
    results["total_minutes"] = (time.time() - T0) / 60
    save_results()
    log(f"done in {(time.time() - T0) / 60:.1f} min; metrics in {stats_path}")


if __name__ == "__main__":
    main()
