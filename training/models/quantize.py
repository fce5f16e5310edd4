#!/usr/bin/env python3
"""Static int8 quantisation of an exported network (QDQ format), calibrated on served crops.

onnxruntime turns DequantizeLinear -> Conv -> [Relu ->] QuantizeLinear into one integer convolution
(QLinearConv), which on CPUs with VNNI costs a fraction of the float one. Written here with the onnx
library because onnxruntime's Python quantisation tools are not in Debian; onnxruntime itself runs
the calibration, through onnxruntime-node (quantize_ranges.mjs), with the serving session options.

What is quantised, and how:
- every Conv except those whose output is a graph output (the heads that write the CAM and the
  logits stay float: they are cheap and the verdict is read from them);
- weights: int8, symmetric, one scale per output channel, 7 bits (|q| <= 63). On x86 CPUs without
  VNNI (AVX2 only) onnxruntime's u8 x s8 kernels add pairs of products in 16 bits, which saturate
  with full-range weights (2 x 255 x 127 > 32767): 2.5.0 (|q| <= 127, quantised on a VNNI machine)
  moved its logits by up to 0.18 (detector) and 0.23 (classifier) on an AVX2-only AMD EPYC, against
  its own recorded outputs, so a verdict depended on the server's CPU. With |q| <= 63 a pair sum
  stays within 2 x 255 x 63 = 32130 on every CPU, and the fused integer kernels compute what the
  QDQ graph says (test/models/parity.test.ts, "an int8 network gives the same outputs on every CPU", checks that on whatever CPU runs it). Measured on
  2.4.0 (600 validation crops), 7-bit weights change 1.0 % of verdicts against float where 8-bit
  ones changed 0.3 % on VNNI;
- biases: int32 at scale (input scale x weight scale);
- activations: uint8, asymmetric, from the minimum and maximum the calibration crops reach (0 for a
  Relu's output, so onnxruntime folds the Relu into the convolution);
- the activation quantised is a convolution's input and its output, taken after the Relu when a Relu
  is its only consumer.

  quantize.py --model-dir DIR --landmarks .cache/landmarks-<key>.jsonl [--recalibrate [--mirror-within W]]
(DIR is changed in place; promote.py --int8 runs it on a version it has just copied.)

Calibration: the served crops of --calib-n training-split images (seeded; training images only, so
the check below stays on unseen faces). Check: --check-n validation crops through both networks in
onnxruntime; it prints AUC, the edited logit's change and the verdicts that change at the
model.json threshold (plain runs, no mirror), and refuses (exit 1) when AUC drops by more than
--max-auc-drop.
Tried on 2.4.0 and not kept: activation ranges from the mean of each
batch's extremes (0.8 % of verdicts changed against 0.3 % with the plain min/max).
"""
import argparse
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHT_QMAX = 63  # 7-bit weights: exact on CPUs without VNNI too (see the docstring)
SPLIT_SEED = 1234  # train.py --seed: the group-disjoint split the models were trained on


def feeds_a_conv(consumers, tensor, seen=None):
    """Whether any Conv reads `tensor` or something computed from it."""
    seen = set() if seen is None else seen
    for n in consumers[tensor]:
        if n.op_type == "Conv":
            return True
        for o in n.output:
            if o not in seen:
                seen.add(o)
                if feeds_a_conv(consumers, o, seen):
                    return True
    return False


def activation_tensors(model):
    """The float tensors to quantise: each quantised Conv's input and output (after its Relu when a
    Relu is the output's only consumer). Returns (tensors, quantised conv nodes).
    A head (a Conv whose output feeds no other Conv: it reaches the graph's outputs directly or, in a
    cascade's second network, through a resize to the base's grid and a mean) stays float."""
    g = model.graph
    outputs = {o.name for o in g.output}
    consumers = defaultdict(list)
    for n in g.node:
        for i in n.input:
            consumers[i].append(n)
    convs = [n for n in g.node if n.op_type == "Conv" and n.output[0] not in outputs and feeds_a_conv(consumers, n.output[0])]
    tensors = []
    for c in convs:
        out = c.output[0]
        after = consumers[out]
        if len(after) == 1 and after[0].op_type == "Relu":
            out = after[0].output[0]
        for t in (c.input[0], out):
            if t not in tensors and t not in outputs:
                tensors.append(t)
    return tensors, convs


def with_outputs(model, names):
    """A copy of the model that also outputs the named float tensors (for calibration)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for n in names:
        if n not in have:
            m.graph.output.append(helper.make_tensor_value_info(n, TensorProto.FLOAT, None))
    return m


def calibrate(model, crops_path, shape, threads=2):
    """Per-tensor (min, max) over the calibration crops, run by onnxruntime-node."""
    tensors, _ = activation_tensors(model)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "calib.onnx")
        onnx.save(with_outputs(model, tensors), path)
        return run_node(path, crops_path, shape, ["--tensors", json.dumps(tensors)], threads)


def run_node(model_path, inputs_path, shape, args, threads):
    """quantize_ranges.mjs on float32 inputs [N, *shape]; returns its JSON output."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        subprocess.run(["node", os.path.join(HERE, "quantize_ranges.mjs"), "--model", model_path, "--inputs", inputs_path,
                        "--shape", ",".join(map(str, shape)), "--threads", str(threads), "--out", out, *args], check=True)
        return json.load(open(out))


def uint8_params(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255 if hi > lo else 1.0
    zp = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zp)


def quantize(model, ranges):
    """The QDQ model: Quantize/DequantizeLinear pairs on the calibrated activations, int8 weights and
    int32 biases behind DequantizeLinear for every quantised Conv."""
    g = model.graph
    tensors, convs = activation_tensors(model)
    inits = {i.name: i for i in g.initializer}
    new_nodes, new_inits, act_scale = [], [], {}
    renamed = {}
    for t in tensors:
        lo, hi = ranges[t]
        scale, zp = uint8_params(lo, hi)
        act_scale[t] = float(scale)
        s, z, q, dq = f"{t}_scale", f"{t}_zp", f"{t}_q", f"{t}_dq"
        new_inits += [numpy_helper.from_array(np.array(scale, np.float32), s), numpy_helper.from_array(np.array(zp, np.uint8), z)]
        new_nodes.append((t, [helper.make_node("QuantizeLinear", [t, s, z], [q], name=f"{t}_Q"),
                              helper.make_node("DequantizeLinear", [q, s, z], [dq], name=f"{t}_DQ")]))
        renamed[t] = dq
    # Every consumer reads the dequantised tensor (the Q/DQ nodes themselves read the original).
    for n in g.node:
        for k, i in enumerate(n.input):
            if i in renamed:
                n.input[k] = renamed[i]
    for c in convs:
        x_scale = act_scale[c.input[0]] if c.input[0] in act_scale else None
        w = numpy_helper.to_array(inits[c.input[1]]).astype(np.float64)
        w_scale = np.abs(w.reshape(w.shape[0], -1)).max(axis=1) / WEIGHT_QMAX
        w_scale[w_scale == 0] = 1.0
        wq = np.clip(np.round(w / w_scale.reshape(-1, *[1] * (w.ndim - 1))), -WEIGHT_QMAX, WEIGHT_QMAX).astype(np.int8)
        base = c.input[1]
        new_inits += [numpy_helper.from_array(wq, f"{base}_int8"),
                      numpy_helper.from_array(w_scale.astype(np.float32), f"{base}_wscale"),
                      numpy_helper.from_array(np.zeros(len(w_scale), np.int8), f"{base}_wzp")]
        dq_nodes = [helper.make_node("DequantizeLinear", [f"{base}_int8", f"{base}_wscale", f"{base}_wzp"], [f"{base}_wdq"],
                                     name=f"{base}_wDQ", axis=0)]
        c.input[1] = f"{base}_wdq"
        if len(c.input) > 2 and c.input[2] and x_scale is not None:
            b = numpy_helper.to_array(inits[c.input[2]]).astype(np.float64)
            b_scale = (x_scale * w_scale.astype(np.float32)).astype(np.float32)
            bq = np.round(b / b_scale).astype(np.int32)
            bn = c.input[2]
            new_inits += [numpy_helper.from_array(bq, f"{bn}_int32"), numpy_helper.from_array(b_scale, f"{bn}_bscale"),
                          numpy_helper.from_array(np.zeros(len(b_scale), np.int32), f"{bn}_bzp")]
            dq_nodes.append(helper.make_node("DequantizeLinear", [f"{bn}_int32", f"{bn}_bscale", f"{bn}_bzp"], [f"{bn}_bdq"],
                                             name=f"{bn}_bDQ", axis=0))
            c.input[2] = f"{bn}_bdq"
        new_nodes.append((None, dq_nodes))
    # Insert each Q/DQ pair right after its tensor's producer (graph inputs: at the start), keeping
    # the node list topologically sorted.
    produced_at = {o: k for k, n in enumerate(g.node) for o in n.output}
    nodes = list(g.node)
    after = defaultdict(list)
    for t, ns in new_nodes:
        after[produced_at.get(t, -1) if t is not None else -1].extend(ns)
    ordered = list(after[-1])
    for k, n in enumerate(nodes):
        ordered.append(n)
        ordered.extend(after[k])
    del g.node[:]
    g.node.extend(ordered)
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    onnx.checker.check_model(model)
    return model


@functools.lru_cache(maxsize=1)
def dataset(landmarks):
    """Every dataset row (train.py's split) and the serving face stage's landmarks: read once, since
    a promotion cuts calibration, check, validation and test crops from them."""
    import train as T
    return T.read_rows(SPLIT_SEED), T.read_landmarks(landmarks)


def served_inputs(split, n, seed, landmarks, pre):
    """Model inputs (float32 [n,3,H,W]) of n seeded images of a split (every image when n is None),
    as serving computes them, with their labels and sources."""
    import train as T
    rows, lm_map = dataset(landmarks)
    pick = [i for i in np.random.default_rng(seed).permutation(len(rows)) if rows[i]["split"] == split][:n]
    rows = [rows[i] for i in sorted(pick)]
    images = T.load_images(rows)
    x = np.stack([T.served.to_input(T.served_input(im, lm_map[r["key"]][0] if r["key"] in lm_map else None, pre["width"]),
                                    pre["mean"], pre["std"]) for im, r in zip(images, rows)]).astype("<f4")
    return x, np.array([r["label"] for r in rows]), np.array([r["source"] for r in rows])


def run_outputs(model_path, x, names, threads):
    """The named outputs (flat float64 arrays) of every input, run by onnxruntime-node."""
    with tempfile.TemporaryDirectory() as tmp:
        xp = os.path.join(tmp, "x.f32")
        np.ascontiguousarray(x, "<f4").tofile(xp)
        d = run_node(model_path, xp, x.shape[1:], ["--dump", ",".join(names)], threads)
    return [np.asarray(d[k], np.float64) for k in names]


def edited_logits(model_path, x, threads):
    """The edited-minus-real logit of every input."""
    z = run_outputs(model_path, x, ["logits"], threads)[0].reshape(len(x), -1)
    return z[:, 1] - z[:, 0]


def judged(mj, lab):
    """The rows a model judges and their 0/1 labels: a detector judges every face (1 = not real), the
    classifier the edited ones (1 = its positive label)."""
    if mj["labels"][0] == "real":
        return np.ones(len(lab), bool), (lab != "real").astype(int)
    return np.isin(lab, mj["labels"]), (lab == mj["positive_label"]).astype(int)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def quantize_network(path, mj, calib_x, check_x, check_y, calibration, tmp, threads, max_auc_drop, keep_float_if_refused=False):
    """Replaces the float network at `path` by its int8 version, calibrated on the inputs calib_x and
    checked against float on check_x (labels check_y). Returns (the float network's copy, in the
    folder tmp, which the caller owns; the quantisation record; onnxruntime's int8 parity outputs).
    When the check refuses int8: exit, or with keep_float_if_refused leave the float network in place
    and return (None, a record of the refused check, None)."""
    import train as T
    os.makedirs(tmp)
    float_sha = T.sha256(path)
    float_model = onnx.load(path)
    pre = mj["preprocessing"]
    xp = os.path.join(tmp, "calib.f32")
    calib_x.tofile(xp)
    ranges = calibrate(float_model, xp, list(calib_x.shape[1:]), threads)
    float_path = os.path.join(tmp, "float.onnx")
    onnx.save(float_model, float_path)
    int8_path = os.path.join(tmp, "int8.onnx")
    onnx.save(quantize(float_model, ranges), int8_path)
    # Float against int8 on validation crops (plain runs at the model.json threshold).
    zf, zq = edited_logits(float_path, check_x, threads), edited_logits(int8_path, check_x, threads)
    t = np.log(mj["threshold"] / (1 - mj["threshold"]))
    d = np.abs(zq - zf)
    check = {"validation_crops": int(len(check_x)), "auc_float": round(T.roc_auc(check_y, zf), 4),
             "auc_int8": round(T.roc_auc(check_y, zq), 4),
             "edited_logit_abs_change_median": round(float(np.median(d)), 4),
             "edited_logit_abs_change_p99": round(float(np.quantile(d, 0.99)), 4),
             "verdicts_changed_at_threshold": round(float(((zf >= t) != (zq >= t)).mean()), 4)}
    print(path, json.dumps(check), file=sys.stderr)
    if check["auc_float"] - check["auc_int8"] > max_auc_drop:
        if keep_float_if_refused:
            return None, {"kept_float": f"int8 lost {check['auc_float'] - check['auc_int8']:.4f} validation AUC (more than "
                                        f"{max_auc_drop}): this network is served in float", "check": check}, None
        raise SystemExit(f"{path}: int8 loses {check['auc_float'] - check['auc_int8']:.4f} validation AUC "
                         f"(more than {max_auc_drop}); nothing written")
    pl, pc = run_outputs(int8_path, T.parity_input(pre["height"], pre["width"]), ["logits", "cam"], threads)
    shutil.copyfile(int8_path, path)
    record = {"scheme": "static int8, QDQ (onnxruntime fuses QLinearConv): every Conv but the heads; weights "
                        f"int8 symmetric per output channel (|q| <= {WEIGHT_QMAX}), biases int32, activations uint8 asymmetric "
                        "from their min/max over the calibration crops; training/models/quantize.py",
              "float_sha256": float_sha, "calibration": calibration, "check": check}
    return float_path, record, (pl, pc)


def int8_parity(fp, pl, pc):
    """The parity block of an int8 network (onnxruntime's outputs) and its record of the float ones."""
    float_parity = {"logits": fp["logits"], "cam": fp["cam"],
                    "int8_max_abs_difference": {"logits": round(float(np.max(np.abs(pl - np.asarray(fp["logits"])))), 4),
                                                "cam": round(float(np.max(np.abs(pc - np.asarray(fp["cam"])))), 4)}}
    parity = dict(fp, logits=pl.astype(np.float32).tolist(), cam=pc.astype(np.float32).tolist(),
                  reference="onnxruntime (CPU) running the int8 network when it was quantised")
    return float_parity, parity


def quantize_dir(model_dir, landmarks, calib_n=256, check_n=600, seed=7, threads=2, max_auc_drop=0.005,
                 recalibrate=False, mirror_within=None):
    """Replaces model_dir's network (and a cascade's second network, model.json second_opinion) by its
    int8 version and records how in model.json: `quantization` (scheme, the float network's checksum,
    calibration, the check of int8 against float on validation crops, and float PyTorch's parity
    outputs beside the int8 ones), `parity` (onnxruntime's outputs of the int8 network on the parity
    input, so the parity test checks that serving reproduces them) and the checksum; a second network
    gets the same inside `second_opinion`. With recalibrate (a detector): threshold, band and mirror
    window from the float networks' served-mode validation scores, and the int8 networks' validation
    and test figures at them (recalibrate_int8)."""
    import train as T
    mj_path = os.path.join(model_dir, "model.json")
    mj = json.load(open(mj_path))
    if "quantization" in mj:
        raise SystemExit(f"{model_dir}: already quantised")
    path = os.path.join(model_dir, mj["file"])
    pre = mj["preprocessing"]
    # The same calibration and check crops for every network of the folder.
    calib_x, _, _ = served_inputs("train", calib_n, seed, landmarks, pre)
    check_x, lab, _ = served_inputs("val", check_n, seed, landmarks, pre)
    keep, check_y = judged(mj, lab)
    check_x, check_y = check_x[keep], check_y[keep]
    calibration = f"served crops of {calib_n} training-split images (seed {seed})"
    with tempfile.TemporaryDirectory() as tmp:
        def to_int8(p, name, keep_float_if_refused=False):
            return quantize_network(p, mj, calib_x, check_x, check_y, calibration, os.path.join(tmp, name), threads,
                                    max_auc_drop, keep_float_if_refused)
        float_path, record, (pl, pc) = to_int8(path, "model")
        record["float_parity"], mj["parity"] = int8_parity(mj["parity"], pl, pc)
        mj["quantization"] = record
        mj["sha256"] = T.sha256(path)
        float_refs = [float_path]
        so = mj.get("second_opinion")
        if so:
            # A second network that int8 would change too much stays float (the cascade's cost then
            # rests on its share of faces, not on int8), and is then its own float reference.
            spath = os.path.join(model_dir, so["file"])
            sfloat, srecord, sparity = to_int8(spath, "second", keep_float_if_refused=True)
            if sfloat:
                srecord["float_parity"], so["parity"] = int8_parity(so["parity"], *sparity)
                so["sha256"] = T.sha256(spath)
            so["quantization"] = srecord
            float_refs.append(sfloat or spath)
        if recalibrate:
            recalibrate_int8(mj, float_refs, model_dir, landmarks, seed, threads, mirror_within)
    with open(mj_path, "w") as f:
        json.dump(mj, f, indent=2)
    return mj


def recalibrate_int8(mj, float_paths, model_dir, landmarks, seed, threads, mirror_within):
    """Threshold, band and mirror window for the int8 detector, and its test figures.

    They are calibrated on the float networks' validation scores, in the served mode (onnxruntime,
    plain and mirrored crops, mirror_within as train.py --mirror-within; a cascade's second network
    blended as model.json second_opinion says), and the int8 networks' validation figures at that
    calibration are recorded beside them. Why not on the int8 scores: the threshold rule
    (train.calibrate: every real source's false-positive rate <= 5 %) rests on single images of the
    small validation sources (31 celebahq faces: one image is 3.2 %). On 2.4.0 with every face
    mirror-averaged, int8 moved validation scores by a median 0.005, and one celebahq face crossing
    moved the calibrated threshold from 0.8043 to 0.7679: calibration noise, not a change of the
    model, which the float calibration keeps out of the shipped decision."""
    import train as T
    pre = mj["preprocessing"]
    so = mj.get("second_opinion")
    int8_paths = [os.path.join(model_dir, mj["file"])] + ([os.path.join(model_dir, so["file"])] if so else [])
    scores = {}
    for split in ("val", "test"):
        x, lab, src = served_inputs(split, None, seed, landmarks, pre)
        scores[split] = {"lab": lab, "src": src}
        runs = {}  # (network, mirrored) -> edited logits: a second network kept float is both float and "int8" reference

        def logits(path, mirrored):
            if (path, mirrored) not in runs:
                runs[path, mirrored] = edited_logits(path, x[..., ::-1] if mirrored else x, threads)
            return runs[path, mirrored]
        for name, paths in (("float", float_paths), ("int8", int8_paths)) if split == "val" else (("int8", int8_paths),):
            # The base's edited logit on the crop and on the crop mirrored (NCHW: flip W), the second network's on the
            # crop (the mean with its mirror's where second_opinion.mirror_average says so).
            z = [logits(paths[0], False), logits(paths[0], True)]
            if so:
                z.append((logits(paths[1], False) + logits(paths[1], True)) / 2 if so.get("mirror_average") else logits(paths[1], False))
            scores[split][name] = z
    v = scores["val"]
    vy = (v["lab"] != "real").astype(int)
    if so:
        import ensemble
        within = mirror_within if mirror_within is not None else mj.get("mirror_average", {}).get("within", 0)
        served = lambda z, thr: ensemble.cascade_served(*z, thr, within, so["within"], so["weight"], so.get("mirror_average", False))[0]
        # Windows of fixed width around the threshold being calibrated, from the float export's own
        # threshold: the windows' widths were chosen around it (ensemble.py --second-share: the share
        # of validation faces a window holds is what the serving cost rests on).
        calibrate = lambda z: T.calibrate_fixed_point(vy, v["src"], lambda c: (served(z, c["threshold"]), None),
                                                      {"threshold": mj["threshold"]})[0]
        calib = calibrate(v["float"])
        near = lambda w, on: round(float(((w > 0) & (np.abs(on - calib["threshold"]) <= w)).mean()), 4)
        second_on = ensemble.cascade_served(*v["float"], calib["threshold"], within, so["within"], so["weight"],
                                            so.get("mirror_average", False))[1]
        calib.update(mirror_average_within=within, val_share_mirrored=near(within, sigmoid(v["float"][0])),
                     second_opinion_within=so["within"], val_share_second_opinion=near(so["within"], second_on))
    else:
        calibrate = lambda z: T.calibrate_mirrored(vy, sigmoid(z[0]), sigmoid(z[1]), v["src"], mirror_within)[0]
        calib = calibrate(v["float"])
        within = calib["mirror_average_within"]
        served = lambda z, thr: T.mirror_served(sigmoid(z[0]), sigmoid(z[1]), thr, within)
    thr, (lo, hi) = calib["threshold"], calib["uncertain_band"]
    vq = served(v["int8"], thr)
    decided = (vq < lo) | (vq > hi)
    calib["int8_validation"] = {
        "uncertain_share": round(float(1 - decided.mean()), 4),
        "accuracy_decided": round(float(((vq[decided] >= thr) == vy[decided]).mean()), 4),
        "false_positive_rate_per_real_source": {k: round(float((vq[v["src"] == k] >= thr).mean()), 4) for k in sorted(set(v["src"][vy == 0]))},
        "threshold_if_calibrated_on_int8_scores": calibrate(v["int8"])["threshold"]}
    calib["calibrated_on"] = "the float network's validation scores (onnxruntime, served mode); see quantize.recalibrate_int8"
    t = scores["test"]
    ty = (t["lab"] != "real").astype(int)
    served_s = served(t["int8"], thr)
    metrics = {"split": "test (group-disjoint, faces-v1 + faces-v2), onnxruntime running the int8 network on served crops",
               "n": int(len(ty)), "auc": T.roc_auc(ty, served_s), "accuracy": float(((served_s >= thr) == ty).mean()),
               "per_source": T.per_source_figures(t["lab"], served_s, t["src"], thr)}
    mj["quantization"]["float_calibration"] = mj["calibration"]
    mj["quantization"]["float_metrics"] = {k: mj["metrics"][k] for k in ("split", "n", "auc", "accuracy") if k in mj["metrics"]}
    # Confidence as users get it: fitted on the int8 network's served validation scores.
    confidence = T.fit_confidence(vy, vq, thr)
    mj.update(threshold=thr, uncertain_band=calib["uncertain_band"], calibration=T.without_confidence(calib))
    if confidence:
        mj["confidence"] = confidence
    else:
        mj.pop("confidence", None)
    if within:
        mj["mirror_average"] = {"within": within}
    else:
        mj.pop("mirror_average", None)
    mj["metrics"] = {**mj["metrics"], **metrics}
    print(f"calibrated: threshold {thr}, band {calib['uncertain_band']}, mirror within {within} "
          f"({calib['val_share_mirrored']} of validation); int8 on validation {json.dumps(calib['int8_validation'])}; "
          f"test AUC {metrics['auc']:.4f}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", required=True, help="a folder with model.json and its network (changed in place)")
    ap.add_argument("--landmarks", required=True)
    ap.add_argument("--calib-n", type=int, default=256)
    ap.add_argument("--check-n", type=int, default=600)
    ap.add_argument("--max-auc-drop", type=float, default=0.005)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--recalibrate", action="store_true", help="a detector: threshold, band and mirror window from the float network's served-mode validation scores, "
                    "and the int8 network's validation and test figures at them (recalibrate_int8)")
    ap.add_argument("--mirror-within", type=float, default=None, help="with --recalibrate: a fixed mirror window (1 = every face)")
    args = ap.parse_args()
    quantize_dir(args.model_dir, args.landmarks, args.calib_n, args.check_n, args.seed, args.threads, args.max_auc_drop,
                 args.recalibrate, args.mirror_within)


if __name__ == "__main__":
    main()
