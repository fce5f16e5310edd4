#!/usr/bin/python3
"""Check for fold_pads.py, run by test/training/fold-pads.test.ts: a small network padded the way
port.py pads TinyFaceDetector (a -1e30 F.pad before a 2x2 max pool, a zero F.pad before a
depthwise convolution), exported by torch.onnx at opset 13 with a dynamic side, as the shipped
graph was; then folded. Prints JSON: Pads before and after, and the largest output difference
between the two graphs in onnxruntime-node (same_outputs.mjs) at the served sizes."""
import json
import os
import subprocess
import sys
import tempfile

import onnx
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fold_pads import fold_pads  # noqa: E402


class Padded(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv0 = torch.nn.Conv2d(3, 8, 3)
        self.dw = torch.nn.Conv2d(8, 8, 3, groups=8, bias=False)
        self.pw = torch.nn.Conv2d(8, 5, 1)

    def forward(self, x):
        x = F.leaky_relu(self.conv0((x - 117.0) / 255.0), 0.1)
        x = F.max_pool2d(F.pad(x, (0, 1, 0, 1), value=-1e30), 2, 2)
        return self.pw(self.dw(F.pad(x, (1, 1, 1, 1))))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        a, b = os.path.join(tmp, "a.onnx"), os.path.join(tmp, "b.onnx")
        torch.onnx.export(Padded().eval(), torch.rand(1, 3, 64, 64) * 255, a, opset_version=13, input_names=["image"],
                          output_names=["grid"], dynamic_axes={"image": {2: "S", 3: "S"}})
        model = onnx.load(a)
        pads_before = sum(n.op_type == "Pad" for n in model.graph.node)
        folded, n = fold_pads(model)
        onnx.save(folded, b)
        spec = [{"name": "image", "shape": [1, 3, "S", "S"]}]
        check = json.loads(subprocess.run(["node", os.path.join(HERE, "same_outputs.mjs"), a, b, json.dumps(spec)],
                                          check=True, capture_output=True, text=True).stdout)
        print(json.dumps({"pads_before": pads_before, "folded": n, "pads_after": sum(x.op_type == "Pad" for x in folded.graph.node),
                          "nodes_after": sorted({x.op_type for x in folded.graph.node}), **check}))


if __name__ == "__main__":
    main()
