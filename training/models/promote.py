#!/usr/bin/env python3
"""Promotes a finished training run into the shipped models: copies runs/<run>/export/<name> to
models/<name>/<version>/ with the version written into model.json, then writes the model cards.

  promote.py --run RUN --version 2.0.0 [--models DIR] [--eval REPORT.json] [--remove-older]
  promote.py --from-version 2.4.0 --version 2.5.1 --int8 --landmarks .cache/landmarks-<key>.jsonl [--mirror-within 1]
  promote.py --from-version 2.5.2 --version 2.5.3 --mirror-within 0.5 --confidence-from PREFIX

--from-version copies a shipped version instead of a run. With --mirror-within and no --int8 it
changes only the detector's mirror window: the threshold and band stay, and the served share of
validation faces that take the mirrored run and the confidence map come from an eval of the
validation split made with the new window (--confidence-from). --int8 instead quantises both networks
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


def confidence_from_eval(prefix, report, mj):
    """The detector's confidence map (train.fit_confidence) fitted on the served scores of an eval
    of the validation split (`report`: PREFIX.json; its scores: PREFIX-scores.csv): through the
    serving code, as users get them. The eval must have been made with this very network and on
    the validation split, or the map describes something else."""
    import csv
    import train as T
    window = (mj.get("mirror_average") or {}).get("within")
    if "serving" in report and report["serving"]["mirror_within"] != window:
        sys.exit(f"{prefix}.json: made with mirror window {report['serving']['mirror_within']}, not {window}")
    if report["threshold"] != mj["threshold"] or report["uncertain_band"] != mj["uncertain_band"]:
        sys.exit(f"{prefix}.json: made at threshold {report['threshold']} and band {report['uncertain_band']}, not {mj['threshold']} and {mj['uncertain_band']}")
    used = {m["name"]: m["sha256"] for m in report["models"]}
    if used.get("detector") != mj["sha256"]:
        sys.exit(f"{prefix}.json: made with detector {used.get('detector', 'none')[:12]}, not {mj['sha256'][:12]}")
    if report.get("split") != "val":
        sys.exit(f"{prefix}.json: split {report.get('split')!r}; the confidence map is fitted on the validation split")
    rows = list(csv.DictReader(open(prefix + "-scores.csv")))
    conf = T.fit_confidence([r["label"] != "real" for r in rows], [float(r["edited"]) for r in rows], mj["threshold"])
    conf["fitted_on"] = f"served scores of {len(rows)} validation images (npm run eval, split val)"
    return conf


def set_mirror_window(mj, within, prefix, report):
    """A shipped detector's mirror window changed, nothing else: the share of faces that now take the
    mirrored run is the one serving measured on the validation split with this window (the eval's
    `serving`, `report` being PREFIX.json), not a share estimated from scores made another way."""
    serving = report.get("serving")
    if not serving or serving["mirror_within"] != within:
        sys.exit(f"{prefix}.json: not an eval made with mirror window {within} (it says {serving and serving['mirror_within']})")
    mj["mirror_average"] = {"within": within}
    cal = mj["calibration"]
    cal["mirror_average_within"] = within
    cal["val_share_mirrored"] = round(serving["mirrored_share"], 4)
    cal["mirror_window_measured_on"] = (f"{serving['detector_inputs']} validation inputs scored through serving "
                                        f"(npm run eval --split val); threshold and band unchanged")


def main(argv=None):
    ap = argparse.ArgumentParser()
    src_arg = ap.add_mutually_exclusive_group(required=True)
    src_arg.add_argument("--run")
    src_arg.add_argument("--from-version", help="copy models/<name>/<this version> instead of a run's export")
    ap.add_argument("--int8", action="store_true", help="quantise both networks (quantize.py) after copying")
    ap.add_argument("--landmarks", help="--int8: the serving face stage's landmarks (.cache/landmarks-<key>.jsonl)")
    ap.add_argument("--mirror-within", type=float, default=None,
                    help="the detector's mirror window (1 = every face). With --int8: fixed before recalibrating (default: "
                         "calibrated as train.py does); without: the one change to a shipped version (needs --confidence-from)")
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
    new_window = a.mirror_within is not None and not a.int8
    if new_window and not (a.from_version and a.confidence_from):
        ap.error("--mirror-within without --int8 changes a shipped version's window: it needs --from-version and --confidence-from "
                 "(an eval of the validation split made with the new window, for the served share and the confidence map)")
    val_eval = json.load(open(a.confidence_from + ".json")) if a.confidence_from else None
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
        mj = json.load(open(os.path.join(src, "model.json")))
        mj["version"] = a.version
        if a.from_version:
            mj["promoted_from"] = f"{name} {a.from_version}"
        # Checked against the eval before anything is written: a refusal leaves no half-made version.
        if name == "detector" and new_window:
            set_mirror_window(mj, a.mirror_within, a.confidence_from, val_eval)
        if name == "detector" and a.confidence_from:
            mj["confidence"] = confidence_from_eval(a.confidence_from, val_eval, mj)
        os.makedirs(dst)
        # The model's own graph, and a cascade's second network beside it (model.json second_opinion).
        for f in [mj["file"]] + ([mj["second_opinion"]["file"]] if "second_opinion" in mj else []):
            shutil.copy2(os.path.join(src, f), dst)
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
