"""PyTorch port of the face-api.js face-recognition network (dlib-style reduced ResNet-34).

Weights: @vladmandic/face-api (MIT licence), file model/face_recognition_model.bin with
model/face_recognition_model-weights_manifest.json. The manifest lists tensors in order;
entries with a `quantization` block are stored as uint8 (value = q * scale + min), the rest
as float32 little-endian. Each conv layer is conv(+bias) followed by an affine "scale" layer
(x * weights + biases); we fold the affine into the conv.

Architecture (as in face-api src/faceRecognitionNet):
  convDown 7x7/2 valid 3->32, ReLU, maxpool 3/2 valid,
  3x residual(32), residualDown(64) + 3x residual(64), residualDown(128) + 2x residual(128),
  residualDown(256) + 2x residual(256), [residualDown(256) "conv256_down_out", fc 256->128].
residualDown: convDown 3x3/2 valid + conv 3x3 same; shortcut = avgpool 2/2 zero-padded in
channels; if spatial sizes differ the conv branch gets a zero row/column at bottom/right.

For the forensic heads we drop conv256_down_out and fc (they shrink the map to 1-2 px and
are identity-specific) and put a 2-way linear head after global average pooling, so that a
class activation map at the conv256_2 resolution is available.
Input normalisation expected by the pretrained weights: (x_0_255 - [122.782,117.001,104.298]) / 255.
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FACEAPI_MEAN_RGB = [122.782, 117.001, 104.298]

DEFAULT_FACEAPI_DIRS = [
    os.environ.get("FACEAPI_MODEL_DIR", ""),
    "/tmp/faceapi/node_modules/@vladmandic/face-api/model",
    os.path.join(os.path.dirname(__file__), "node_modules/@vladmandic/face-api/model"),
]


class ConvAff(nn.Module):
    def __init__(self, cin, cout, k, stride, padding, relu):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=True)
        self.relu = relu

    def forward(self, x):
        x = self.conv(x)
        return F.relu(x) if self.relu else x


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = ConvAff(c, c, 3, 1, 1, True)
        self.conv2 = ConvAff(c, c, 3, 1, 1, False)

    def forward(self, x):
        return F.relu(self.conv2(self.conv1(x)) + x)


class ResidualDown(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.cin, self.cout = cin, cout
        self.conv1 = ConvAff(cin, cout, 3, 2, 0, True)
        self.conv2 = ConvAff(cout, cout, 3, 1, 1, False)

    def forward(self, x):
        out = self.conv2(self.conv1(x))
        pooled = F.avg_pool2d(x, 2, 2)
        if pooled.shape[-1] != out.shape[-1] or pooled.shape[-2] != out.shape[-2]:
            out = F.pad(out, (0, 1, 0, 1))
        if self.cout != self.cin:
            pooled = F.pad(pooled, (0, 0, 0, 0, 0, self.cout - self.cin))
        return F.relu(out + pooled)


class FaceResNetCAM(nn.Module):
    """Backbone up to conv256_2 + GAP + linear(256 -> n_classes). forward returns (logits, cam)."""

    def __init__(self, n_classes=2, dropout=0.2):
        super().__init__()
        self.conv32_down = ConvAff(3, 32, 7, 2, 0, True)
        self.conv32_1, self.conv32_2, self.conv32_3 = Residual(32), Residual(32), Residual(32)
        self.conv64_down = ResidualDown(32, 64)
        self.conv64_1, self.conv64_2, self.conv64_3 = Residual(64), Residual(64), Residual(64)
        self.conv128_down = ResidualDown(64, 128)
        self.conv128_1, self.conv128_2 = Residual(128), Residual(128)
        self.conv256_down = ResidualDown(128, 256)
        self.conv256_1, self.conv256_2 = Residual(256), Residual(256)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(256, n_classes)
        self.stages = [
            ["conv32_down", "conv32_1", "conv32_2", "conv32_3"],
            ["conv64_down", "conv64_1", "conv64_2", "conv64_3"],
            ["conv128_down", "conv128_1", "conv128_2"],
            ["conv256_down", "conv256_1", "conv256_2"],
        ]

    def features(self, x):
        x = self.conv32_down(x)
        x = F.max_pool2d(x, 3, 2)
        for name in self.stages[0][1:] + self.stages[1] + self.stages[2] + self.stages[3]:
            x = getattr(self, name)(x)
        return x

    def forward(self, x):
        f = self.features(x)
        pooled = f.mean(dim=(2, 3))
        logits = self.fc(self.dropout(pooled))
        return logits, f

    def forward_cam(self, x):
        """Export path: cam[n,k,i,j] = sum_c W[k,c] * f[n,c,i,j] + b[k] (per-location logits);
        logits = cam.mean((2,3)) (identical to fc(GAP(f)))."""
        f = self.features(x)
        cam = torch.einsum("kc,nchw->nkhw", self.fc.weight, f) + self.fc.bias.view(1, -1, 1, 1)
        logits = cam.mean(dim=(2, 3))
        return logits, cam


class ExportWrapper(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m.forward_cam(x)


def find_faceapi_dir():
    for d in DEFAULT_FACEAPI_DIRS:
        if d and os.path.exists(os.path.join(d, "face_recognition_model.bin")):
            return d
    return None


def load_faceapi_weights(model, model_dir):
    man = json.load(open(os.path.join(model_dir, "face_recognition_model-weights_manifest.json")))
    raw = open(os.path.join(model_dir, "face_recognition_model.bin"), "rb").read()
    tensors, off = {}, 0
    for group in man:
        for w in group["weights"]:
            n = int(np.prod(w["shape"]))
            q = w.get("quantization")
            if q:
                assert q["dtype"] == "uint8"
                arr = np.frombuffer(raw, np.uint8, n, off).astype(np.float32) * q["scale"] + q["min"]
                off += n
            else:
                arr = np.frombuffer(raw, "<f4", n, off).astype(np.float32)
                off += 4 * n
            tensors[w["name"]] = arr.reshape(w["shape"])
    assert off == len(raw), (off, len(raw))
    loaded = 0
    for name, mod in model.named_modules():
        if not isinstance(mod, ConvAff):
            continue
        key = name.replace(".", "/")
        if key + "/conv/filters" not in tensors:  # top-level convDown
            continue
        filt = tensors[key + "/conv/filters"]  # HWIO
        bias = tensors[key + "/conv/bias"]
        sw, sb = tensors[key + "/scale/weights"], tensors[key + "/scale/biases"]
        wt = torch.from_numpy(filt.transpose(3, 2, 0, 1).copy()) * torch.from_numpy(sw).view(-1, 1, 1, 1)
        bt = torch.from_numpy(bias * sw + sb)
        mod.conv.weight.data.copy_(wt)
        mod.conv.bias.data.copy_(bt)
        loaded += 1
    return loaded


def build_model(pretrained=True, n_classes=2, log=print):
    m = FaceResNetCAM(n_classes)
    if pretrained:
        d = find_faceapi_dir()
        if d is None:
            log("WARNING: face-api weights not found (set FACEAPI_MODEL_DIR); training from scratch")
            return m, False
        n = load_faceapi_weights(m, d)
        log(f"loaded {n} pretrained conv layers from {d}")
        return m, True
    return m, False
