#!/usr/bin/env python3
"""Cascade windows compared on a cascade run's saved logits (ensemble.py --cascade writes
runs/R/logits.npz), without another forward pass: for each (mirror share, second-opinion share)
cap, the weight chosen on validation as ensemble.py does, then on the test split the AUC per
source, the uncertain share, the accuracy of decided answers, the verdict flip rate when the upload
is mirrored, and the onnxruntime cost per face relative to a reference detector.

  cascade_grid.py RUN --ms REF_MS BASE_MS SECOND_MS [--caps 0.235:0,0:0.2,...] [--second-mirror]

With --second-mirror the second network is mirror-averaged too (ensemble.py --second-mirror): its
logit is the mean of the crop's and its mirror's, its window is decided on the base's score after
the mirror step, and it costs two runs per consulted face.

The milliseconds are per run (loadtest/src/detector-cost.ts prints them).
"""
import argparse
import os

import numpy as np

import ensemble as E
import train as T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--ms", nargs=3, type=float, required=True, metavar=("REF", "BASE", "SECOND"))
    ap.add_argument("--caps", default="0.235:0,0.19:0,0:0.2,0:0.23,0.05:0.17,0.1:0.11,0.15:0.05,0:0.4,0:1,0.235:1")
    ap.add_argument("--weights", default="0.2,0.3,0.4,0.5,0.6")
    ap.add_argument("--second-mirror", action="store_true")
    ap.add_argument("--weight-rule", choices=("lean", "best"), default="lean", help="as ensemble.py --weight-rule")
    a = ap.parse_args()
    d = dict(np.load(os.path.join(T.HERE, "runs", a.run, "logits.npz")))
    second_runs = 1
    if a.second_mirror:
        d["va"] = d["vam"] = (d["va"] + d["vam"]) / 2
        d["ta"] = d["tam"] = (d["ta"] + d["tam"]) / 2
        second_runs = 2
    val, test, src, lab = d["val"], d["test"], d["src"], d["lab"]
    vy, ty = (lab[val] != "real").astype(int), (lab[test] != "real").astype(int)
    ref, base_ms, second_ms = a.ms
    weights = [float(w) for w in a.weights.split(",")]
    print(f"{a.run}: test AUC base alone {T.roc_auc(ty, E.sigmoid(d['tb'])):.4f}, second alone {T.roc_auc(ty, E.sigmoid(d['ta'])):.4f}")
    for cap in a.caps.split(","):
        ms, ss = (float(x) for x in cap.split(":"))
        fits = {w: E.calibrate_cascade(vy, d["vb"], d["vbm"], d["va"], src[val], w, ms, ss, a.second_mirror) for w in weights}
        aucs = {w: T.roc_auc(vy, fits[w][1]) for w in weights}
        w = E.choose_weight(aucs, a.weight_rule)
        c = fits[w][0]
        t, mw, sw, (lo, hi) = c["threshold"], c["mirror_average_within"], c["second_opinion_within"], c["uncertain_band"]
        s, second_on = E.cascade_served(d["tb"], d["tbm"], d["ta"], t, mw, sw, w, a.second_mirror)
        s_mirrored_upload = E.cascade_served(d["tbm"], d["tb"], d["tam"], t, mw, sw, w, a.second_mirror)[0]
        verdict = lambda x: np.where((x >= t) & (x > hi), 1, np.where((x < t) & (x < lo), 0, 2))  # noqa: E731
        v, vm = verdict(s), verdict(s_mirrored_upload)
        decided = v != 2
        near = lambda x, on: ((x > 0) & (np.abs(on - t) <= x)).mean()  # noqa: E731
        cost = (base_ms * (1 + near(mw, E.sigmoid(d["tb"]))) + second_ms * second_runs * near(sw, second_on)) / ref
        per = sorted(T.source_aucs(ty, s, src[test]).items(), key=lambda kv: kv[1])
        print(f"caps mirror {ms:.3f} second {ss:.3f}: weight {w}, threshold {t}, windows {mw}/{sw} | validation {aucs[w]:.4f} "
              f"test {T.roc_auc(ty, s):.4f}, uncertain {(v == 2).mean():.3f}, decided accuracy {(v[decided] == ty[decided]).mean():.3f}, "
              f"flip under mirror {(v != vm).mean():.3f}, cost {cost:.2f}x | " + ", ".join(f"{k} {x:.3f}" for k, x in per))


if __name__ == "__main__":
    main()
