"""Checks the MobileNetV3 port (mobilenetv3_port.py) as a whole network, run by
test/training/mbv3-port.test.ts:

1. The full centernet graph, read by the same interpreter up to its class heatmap, finds a person
   in face photos: COCO class 0's peak is at least 0.4 on each, and it is the strongest class. A
   wrong layout, padding or dequantisation breaks this (it falls to ~0.01).
2. The same graph on 0..1 input finds no person (peak below 0.1): the network reads raw 0..255
   pixels, which is why MobileNetV3Trunk folds the 255 into its first convolution.
3. MobileNetV3Trunk on x/255 computes what the raw graph computes on x (relative error < 1e-4).
4. The trunk exported to ONNX as the training code exports (240-px input, dynamic batch) and run by
   onnxruntime-node computes what PyTorch computes (relative error < 1e-4). The export keeps the
   SAME padding's shape arithmetic, and ONNX's integer division once made it pad the odd-sized
   maps differently (logits off by up to 6.6).

Usage: check_mbv3_port.py IMAGE [IMAGE ...]   (prints one line per check, exits 1 on a failure)
"""
import sys

import numpy as np
import torch
from PIL import Image

from mobilenetv3_port import FEATURES, MobileNetV3Trunk, TfjsGraph, find_dir, read_weights

HEATMAP = "tower_0/keypoints"


def main(paths):
    nodes, weights = read_weights(find_dir())
    full = TfjsGraph(nodes, weights, [HEATMAP], "tower_0/images").eval()
    ok = True
    for p in paths:
        im = np.asarray(Image.open(p).convert("RGB").resize((512, 512), Image.BILINEAR), np.float32)
        x = torch.from_numpy(im).permute(2, 0, 1)[None]
        with torch.no_grad():
            peak = full(x)[HEATMAP][0].flatten(1).max(1).values
            peak01 = full(x / 255.0)[HEATMAP][0].flatten(1).max(1).values
        good = peak[0] >= 0.4 and int(peak.argmax()) == 0 and peak01[0] < 0.1
        ok &= bool(good)
        print(f"{'ok ' if good else 'BAD'} {p}: person peak {peak[0]:.3f} (strongest class {int(peak.argmax())}), "
              f"on 0..1 input {peak01[0]:.3f}")
    trunk = MobileNetV3Trunk().eval()
    raw = TfjsGraph(nodes, weights, [v[0] for v in FEATURES.values()], "tower_0/images").eval()
    x = torch.rand(2, 3, 240, 240) * 255.0
    with torch.no_grad():
        a = trunk(x / 255.0)
        b = [raw(x)[FEATURES[k][0]] for k in ("s8", "s16", "s32")]

    def same(u, v, what):
        """u against the reference v (arrays of any shape): relative error < 1e-4, printed."""
        u, v = np.asarray(u, np.float64).ravel(), np.asarray(v, np.float64).ravel()
        err = float(np.abs(u - v).max() / np.abs(v).max()) if u.size == v.size else float("inf")  # a map of another size
        print(f"{'ok ' if err < 1e-4 else 'BAD'} {what}: relative error {err:.2e}")
        return err < 1e-4
    for k, u, v in zip(("s8", "s16", "s32"), a, b):
        ok &= same(u, v, f"trunk {k} {tuple(u.shape)}")
    import os
    import tempfile
    from quantize import run_outputs

    class Maps(torch.nn.Module):
        def __init__(self, trunk):
            super().__init__()
            self.trunk = trunk

        def forward(self, x):
            return tuple(self.trunk(x))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "trunk.onnx")
        names = ["s8", "s16", "s32"]
        torch.onnx.export(Maps(trunk), torch.rand(2, 3, 240, 240), path, opset_version=17, input_names=["input"],
                          output_names=names, dynamic_axes={"input": {0: "N"}, **{n: {0: "N"} for n in names}},
                          do_constant_folding=True)
        got = run_outputs(path, (x / 255.0).numpy(), names, 1)
    for k, u, v in zip(names, got, a):
        ok &= same(u, v, f"trunk {k} exported to ONNX, onnxruntime-node")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
