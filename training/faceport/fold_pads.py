#!/usr/bin/python3
"""A face model's graph with every constant Pad folded into the operator that reads it, written as
a new version beside the old one (same weights, same outputs).

Why: torch.onnx exports port.py's explicit TF `SAME` padding (F.pad) as a Pad whose amounts are
computed at run time by a small chain of ConstantOfShape/Concat/Reshape/Slice/Transpose/Cast
nodes. onnxruntime folds those chains to constants, but by then it no longer merges the Pads into
their neighbours, so TinyFaceDetector ran 11 Pads as separate passes over its largest activations:
a zero Pad before every depthwise convolution, and a -1e30 Pad before every 2x2 max pool. Folded:
  - a zero Pad before a Conv becomes the Conv's own `pads` (a convolution pads with zeros);
  - a Pad with a fill below anything the network produces (-1e30) before a MaxPool becomes the
    MaxPool's `pads` (a max pool ignores padded cells, the same as padding with -infinity).
The outputs must stay the same: same_outputs.mjs runs both graphs in onnxruntime-node with the
serving session options on seeded inputs at every served size, and a difference above 1e-5 undoes
the new version (for face-detector 1.1.0 it was 0).

  /usr/bin/python3 training/faceport/fold_pads.py --from models/face-detector/1.0.0 --to models/face-detector/1.1.0
(1.0.0 comes from package_models.py, or from git: git checkout c8185bd -- models/face-detector/1.0.0)
"""
import argparse
import datetime
import json
import os
import shutil
import subprocess
from collections import defaultdict

import numpy as np
import onnx
from onnx import helper, numpy_helper

from package_models import sha256  # the one checksum of the face models' model.json

HERE = os.path.dirname(os.path.abspath(__file__))
ONNX_TO_NP = {onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.INT64: np.int64, onnx.TensorProto.INT32: np.int32,
              onnx.TensorProto.DOUBLE: np.float64}


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def evaluate_constant(node, args):
    """numpy for the operators of the exported padding chains; None for anything else."""
    op = node.op_type
    if op == "Constant":
        return numpy_helper.to_array(attr(node, "value"))
    if op == "ConstantOfShape":
        value = attr(node, "value")
        fill = numpy_helper.to_array(value) if value is not None else np.zeros(1, np.float32)
        return np.full(tuple(int(v) for v in args[0]), fill.reshape(-1)[0], fill.dtype)
    if op == "Concat":
        return np.concatenate(args, axis=attr(node, "axis"))
    if op == "Reshape":
        shape = [int(v) for v in args[1]]
        shape = [args[0].shape[k] if v == 0 else v for k, v in enumerate(shape)]
        return args[0].reshape(shape)
    if op == "Slice":
        data, starts, ends = args[0], args[1], args[2]
        axes = args[3] if len(args) > 3 and args[3] is not None else np.arange(len(starts))
        steps = args[4] if len(args) > 4 and args[4] is not None else np.ones(len(starts), np.int64)
        index = [slice(None)] * data.ndim
        for s, e, a, st in zip(starts, ends, axes, steps):
            index[int(a)] = slice(int(s), None if (st < 0 and e < -data.shape[int(a)]) else int(min(e, np.iinfo(np.int64).max)), int(st))
        return data[tuple(index)]
    if op == "Transpose":
        return np.transpose(args[0], attr(node, "perm"))
    if op == "Cast":
        return args[0].astype(ONNX_TO_NP[attr(node, "to")])
    return None


def constants(graph):
    """Every tensor whose value does not depend on the graph's inputs (initializers, and the outputs
    of operators above whose inputs are all constant)."""
    known = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    known[""] = None
    for n in graph.node:
        if all(i in known for i in n.input):
            value = evaluate_constant(n, [known[i] for i in n.input])
            if value is not None:
                known[n.output[0]] = value
    known.pop("")
    return known


def fold_pads(model):
    """(model with the foldable Pads folded and the dead constant chains removed, number folded)."""
    g = model.graph
    known = constants(g)
    consumers = defaultdict(list)
    for n in g.node:
        for i in n.input:
            consumers[i].append(n)
    outputs = {o.name for o in g.output}
    rename, folded = {}, []
    for n in g.node:
        if n.op_type != "Pad" or n.input[1] not in known or n.output[0] in outputs or len(consumers[n.output[0]]) != 1:
            continue
        if attr(n, "mode", b"constant") != b"constant":
            continue
        pads = [int(v) for v in known[n.input[1]]]
        fill = float(known[n.input[2]].reshape(-1)[0]) if len(n.input) > 2 and n.input[2] else 0.0
        (reader,) = consumers[n.output[0]]
        # Only the spatial axes of an NCHW tensor, never negative (a crop).
        if len(pads) != 8 or any(pads[k] for k in (0, 1, 4, 5)) or min(pads) < 0:
            continue
        if not ((reader.op_type == "Conv" and fill == 0.0) or (reader.op_type == "MaxPool" and fill <= -1e29)):
            continue
        old = attr(reader, "pads", [0, 0, 0, 0])
        if attr(reader, "auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            continue
        for a in list(reader.attribute):
            if a.name == "pads":
                reader.attribute.remove(a)
        reader.attribute.append(helper.make_attribute("pads", [old[0] + pads[2], old[1] + pads[3], old[2] + pads[6], old[3] + pads[7]]))
        rename[n.output[0]] = n.input[0]
        folded.append(n)
    for n in folded:
        g.node.remove(n)
    for n in g.node:
        for k, i in enumerate(n.input):
            if i in rename:
                n.input[k] = rename[i]
    # Drop what nothing reads any more (the padding chains), to a fixed point.
    while True:
        used = {i for n in g.node for i in n.input} | outputs
        dead = [n for n in g.node if not any(o in used for o in n.output)]
        if not dead:
            break
        for n in dead:
            g.node.remove(n)
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    onnx.checker.check_model(model)
    return model, len(folded)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="src", required=True, help="a face model version folder (model.json + graph)")
    ap.add_argument("--to", dest="dst", required=True, help="the new version's folder (must not exist); its name is the version")
    args = ap.parse_args()
    if os.path.exists(args.dst):
        raise SystemExit(f"{args.dst} exists")
    mj = json.load(open(os.path.join(args.src, "model.json")))
    model, n = fold_pads(onnx.load(os.path.join(args.src, mj["file"])))
    if n == 0:
        raise SystemExit(f"{args.src}: no Pad to fold")
    os.makedirs(args.dst)
    try:
        out = os.path.join(args.dst, mj["file"])
        onnx.save(model, out)
        # The same outputs, run by onnxruntime-node with the serving session options.
        check = json.loads(subprocess.run(["node", os.path.join(HERE, "same_outputs.mjs"), os.path.join(args.src, mj["file"]), out, json.dumps(mj["inputs"])],
                                          check=True, capture_output=True, text=True).stdout)
        if check["max_abs_difference"] > 1e-5:
            raise SystemExit(f"outputs differ after folding: {check}")
        version = os.path.basename(os.path.normpath(args.dst))
        mj.update(version=version, sha256=sha256(out))
        mj["derived_from"] = {
            "version": os.path.basename(os.path.normpath(args.src)), "sha256": sha256(os.path.join(args.src, mj["file"])),
            "change": f"{n} constant Pads folded into the Conv / MaxPool that reads them (training/faceport/fold_pads.py); weights unchanged",
            "check": check, "date": datetime.date.today().isoformat(),
        }
        with open(os.path.join(args.dst, "model.json"), "w") as f:
            json.dump(mj, f, indent=2)
            f.write("\n")
        card = os.path.join(args.src, "MODEL_CARD.md")
        if os.path.exists(card):
            shutil.copyfile(card, os.path.join(args.dst, "MODEL_CARD.md"))
        print(f"{args.dst}: {n} Pads folded; outputs identical ({check})")
    except BaseException:
        shutil.rmtree(args.dst, ignore_errors=True)
        raise


if __name__ == "__main__":
    main()
