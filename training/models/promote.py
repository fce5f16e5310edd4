#!/usr/bin/env python3
"""Promotes a finished training run into the shipped models: copies runs/<run>/export/<name> to
models/<name>/<version>/ with the version written into model.json, then writes the model cards.

  promote.py --run RUN --version 2.0.0 [--models DIR] [--eval REPORT.json] [--remove-older]
  promote.py --from-version 2.4.0 --version 2.5.1 --int8 --landmarks .cache/landmarks-<key>.jsonl [--mirror-within 1]

--from-version copies a shipped version instead of a run. --int8 then quantises both networks
(quantize.py: static int8, calibrated on served training crops, checked against float on
validation crops), takes the detector's threshold, band and mirror window from the float network's
served-mode validation scores, and measures the int8 network's validation and test figures at them
with onnxruntime (quantize.recalibrate_int8).

The version must be new (an existing models/<name>/<version> is never overwritten). With
--remove-older the previous versions are deleted (they stay in git history).
"""
import argparse
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import make_cards  # noqa: E402
import quantize  # noqa: E402


def confidence_from_eval(prefix, mj):
    """The detector's confidence map (train.fit_confidence) fitted on the served scores of an eval
    of the validation split: through the serving code, as users get them. The eval must have been
    made with this very network and on the validation split, or the map describes something else."""
    import csv
    import train as T
    report = json.load(open(prefix + ".json"))
    used = {m["name"]: m["sha256"] for m in report["models"]}
    if used.get("detector") != mj["sha256"]:
        sys.exit(f"{prefix}.json: made with detector {used.get('detector', 'none')[:12]}, not {mj['sha256'][:12]}")
    if report.get("split") != "val":
        sys.exit(f"{prefix}.json: split {report.get('split')!r}; the confidence map is fitted on the validation split")
    rows = list(csv.DictReader(open(prefix + "-scores.csv")))
    conf = T.fit_confidence([r["label"] != "real" for r in rows], [float(r["edited"]) for r in rows], mj["threshold"])
    conf["fitted_on"] = f"served scores of {len(rows)} validation images (npm run eval, split val)"
    return conf


def main(argv=None):
    ap = argparse.ArgumentParser()
    src_arg = ap.add_mutually_exclusive_group(required=True)
    src_arg.add_argument("--run")
    src_arg.add_argument("--from-version", help="copy models/<name>/<this version> instead of a run's export")
    ap.add_argument("--int8", action="store_true", help="quantise both networks (quantize.py) after copying")
    ap.add_argument("--landmarks", help="--int8: the serving face stage's landmarks (.cache/landmarks-<key>.jsonl)")
    ap.add_argument("--mirror-within", type=float, default=None,
                    help="--int8: the detector's mirror window, fixed (1 = every face; default: calibrated as train.py does)")
    ap.add_argument("--version", required=True)
    ap.add_argument("--models", default=os.path.join(REPO, "models"))
    ap.add_argument("--eval", default=None, help="eval report (npm run eval --out PREFIX -> PREFIX.json) for the cards")
    ap.add_argument("--paired", default=None, help="eval report of the paired synthetic test set")
    ap.add_argument("--loso", default=None, help="prefix of leave-one-source-out runs (runs/<prefix>-loso-<source>), or a loso.json")
    ap.add_argument("--remove-older", action="store_true")
    ap.add_argument("--cards-only", action="store_true",
                    help="the version is already promoted: only collect LOSO figures and rewrite its cards")
    ap.add_argument("--robustness", default=None, help="eval report made with --robustness, for the cards")
    ap.add_argument("--confidence-from", default=None,
                    help="PREFIX of an eval of the validation split (npm run eval -- ... --split val --out PREFIX) made with the "
                         "detector being promoted: its confidence map is fitted on those served scores (train.fit_confidence)")
    a = ap.parse_args(argv)
    if a.int8 and not a.landmarks:
        ap.error("--int8 needs --landmarks (calibration and check crops are cut where serving finds the face)")
    run_dir = None if a.from_version else a.run if os.path.isdir(a.run) else os.path.join(HERE, "runs", a.run)
    source = lambda name: os.path.join(a.models, name, a.from_version) if a.from_version else os.path.join(run_dir, "export", name)
    for name in ("detector", "classifier"):
        if a.cards_only:
            break
        src = source(name)
        if not os.path.exists(os.path.join(src, "model.json")):
            sys.exit(f"{src}: no exported model (did the run finish?)")
        dst = os.path.join(a.models, name, a.version)
        if os.path.exists(dst):
            sys.exit(f"{dst} exists: pick a new version")
    for name in ("detector", "classifier"):
        if a.cards_only:
            break
        src = source(name)
        dst = os.path.join(a.models, name, a.version)
        os.makedirs(dst)
        mj = json.load(open(os.path.join(src, "model.json")))
        # The model's own graph, and a cascade's second network beside it (model.json second_opinion).
        for f in [mj["file"]] + ([mj["second_opinion"]["file"]] if "second_opinion" in mj else []):
            shutil.copy2(os.path.join(src, f), dst)
        mj["version"] = a.version
        if a.from_version:
            mj["promoted_from"] = f"{name} {a.from_version}"
        if name == "detector" and a.confidence_from:
            mj["confidence"] = confidence_from_eval(a.confidence_from, mj)
        with open(os.path.join(dst, "model.json"), "w") as f:
            json.dump(mj, f, indent=2)
        if a.int8:
            try:
                quantize.quantize_dir(dst, a.landmarks, recalibrate=name == "detector", mirror_within=a.mirror_within)
            except BaseException:
                shutil.rmtree(dst)  # no half-promoted version (a failed int8 check exits here)
                raise
        if a.remove_older:
            for v in os.listdir(os.path.join(a.models, name)):
                if v != a.version:
                    shutil.rmtree(os.path.join(a.models, name, v))
        print(f"promoted {src} -> {dst}")
    loso_json = None
    if a.loso and a.loso.endswith(".json"):
        # LOSO figures measured earlier (a fine-tuned version cannot hold a source out afterwards).
        loso_json = a.loso
        p = os.path.join(a.models, "detector", a.version, "model.json")
        mj = json.load(open(p))
        mj["metrics"]["loso"] = json.load(open(loso_json))
        with open(p, "w") as f:
            json.dump(mj, f, indent=2)
    elif a.loso:
        loso = {}
        for d in sorted(os.listdir(os.path.join(HERE, "runs"))):
            mp = os.path.join(HERE, "runs", d, "metrics.json")
            if d.startswith(a.loso + "-loso-") and os.path.exists(mp):
                m = json.load(open(mp))
                loso[m["metrics"]["loso"]["held_out"]] = dict(m["metrics"]["loso"], epochs=m["training"]["epochs"],
                                                             samples_per_epoch=m["training"]["samples_per_epoch"])
        loso_json = os.path.join(run_dir, "loso.json")
        with open(loso_json, "w") as f:
            json.dump(loso, f, indent=2)
        for name in ("detector",):
            p = os.path.join(a.models, name, a.version, "model.json")
            mj = json.load(open(p))
            mj["metrics"]["loso"] = loso
            with open(p, "w") as f:
                json.dump(mj, f, indent=2)
    make_cards.main(["--models", a.models, "--version", a.version] + (["--eval", a.eval] if a.eval else []) + (["--paired", a.paired] if a.paired else []) + (["--loso", loso_json] if loso_json else []) + (["--robustness", a.robustness] if a.robustness else []))


if __name__ == "__main__":
    main()
