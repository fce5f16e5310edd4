#!/usr/bin/env python3
"""The held-out source's AUC against the test reals for a run's checkpoint (its best validation
epoch), without finishing the run: for a leave-one-source-out run stopped early.

  loso_check.py --run R --held SOURCE --landmarks .cache/landmarks-KEY.jsonl
"""
import argparse
import json

import numpy as np
import torch

import train as T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--held", required=True, choices=list(T.FAKE_POOLS), help="the source the run held out")
    ap.add_argument("--landmarks", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args()
    torch.set_num_threads(2)
    held = a.held
    all_rows = T.read_rows(a.seed)
    rows = [r for r in all_rows if r["split"] == "test" and (r["label"] == "real" or r["source"] in T.FAKE_POOLS[held])]
    val_reals = [r for r in all_rows if r["split"] == "val" and r["label"] == "real"]
    lm = T.read_landmarks(a.landmarks)
    size = T.served.FACE_CROP["size"]

    def served_crops(rs):
        return [T.served_input(img, lm[r["key"]][0] if r["key"] in lm else None, size) for img, r in zip(T.load_images(rs), rs)]
    crops = served_crops(rows)
    net, ck = T.load_run_net(a.run)
    s, _, _ = T.predict(net, crops)
    if net.blend_head is not None:
        # --blend-head: that head alone, and "either fires": each head's score as the share of
        # validation reals it exceeds, the larger of the two.
        vcrops = served_crops(val_reals)
        sb, vb = T.head_logit(net, crops, "blend_head"), T.head_logit(net, vcrops, "blend_head")
        vs, _, _ = T.predict(net, vcrops)
        either = np.maximum(np.searchsorted(np.sort(vs), s) / len(vs), np.searchsorted(np.sort(vb), sb) / len(vb))
    y = np.array([r["label"] != "real" for r in rows]).astype(int)
    src = np.array([r["source"] for r in rows])
    best_epoch = max(ck["hist"], key=lambda h: h["val_auc"])["epoch"]
    # Against its own domain's reals too (source-domains.json): a held-out source ranked below all
    # reals but not below its own domain's is a score offset between domains, not a missed edit.
    domain = sorted({d for f in T.FAKE_POOLS[held] for d in T.own_domain(f)})
    own = (y == 1) | np.isin(src, domain)
    print(json.dumps({"run": a.run, "held_out": held, "epochs": ck["epoch"], "best_epoch": best_epoch,
                      "auc_test_split": T.roc_auc(y, s), "per_source": T.source_aucs(y, s, src),
                      "auc_vs_own_domain_reals": T.roc_auc(y[own], s[own]) if domain else None,
                      "own_domain_reals": domain,
                      "mean_score_per_source": {k: round(float(s[src == k].mean()), 4) for k in sorted(set(src))},
                      **({"blend_head": {"auc_test_split": T.roc_auc(y, sb), "per_source": T.source_aucs(y, sb, src),
                                         "auc_vs_own_domain_reals": T.roc_auc(y[own], sb[own]) if domain else None},
                          "either_fires": {"auc_test_split": T.roc_auc(y, either), "per_source": T.source_aucs(y, either, src)}}
                         if net.blend_head is not None else {})}))


if __name__ == "__main__":
    main()
