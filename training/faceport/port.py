#!/usr/bin/python3
"""Rebuilds the @vladmandic/face-api (MIT) TF.js nets in PyTorch and exports them to ONNX.

Weights come from dump-weights.cjs (the dequantised tensors exactly as face-api loads them from
node_modules/@vladmandic/face-api/model). Nothing is downloaded.

  node training/faceport/dump-weights.cjs .cache/faceport
  /usr/bin/python3 training/faceport/port.py --weights .cache/faceport --out models

Graphs (all NCHW float32, input pixel values 0..255 RGB, normalisation inside the graph):
  ssd_mobilenetv1   input [1,3,512,512] -> boxes [1,5118,4] (ymin,xmin,ymax,xmax, 0..1 of the
                    padded square input, anchors decoded in-graph), scores [1,5118] (sigmoid)
  tiny_face_detector input [1,3,S,S] -> grid [1,S/32,S/32,25] raw YOLO outputs (5 anchors x
                    (tx,ty,tw,th,obj)); decoding + NMS in TypeScript
  face_landmark_68  input [N,3,112,112] -> landmarks [N,136] (x,y interleaved, 0..1 of the
                    padded square face crop)

TF 'SAME' padding is asymmetric (extra pixel bottom/right) for stride 2, so padding is computed
explicitly from the (static) shapes instead of using PyTorch's symmetric padding.
"""
import argparse
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_weights(wdir, name):
    index = json.load(open(os.path.join(wdir, f'{name}.json')))
    flat = np.fromfile(os.path.join(wdir, f'{name}.bin'), dtype='<f4')
    return {t['name']: flat[t['offset']:t['offset'] + t['length']].reshape(t['shape']) for t in index}


def same_pad(x, k, s, value=0.0):
    """TF 'SAME' padding for a k x k window with stride s (static shapes)."""
    h, w = int(x.shape[2]), int(x.shape[3])
    oh, ow = math.ceil(h / s), math.ceil(w / s)
    ph = max((oh - 1) * s + k - h, 0)
    pw = max((ow - 1) * s + k - w, 0)
    if ph == 0 and pw == 0:
        return x
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), value=value)


def conv_w(a):  # [kh,kw,in,out] -> [out,in,kh,kw]
    return torch.from_numpy(np.ascontiguousarray(a.transpose(3, 2, 0, 1))).float()


def dw_w(a):  # [kh,kw,C,1] -> [C,1,kh,kw]
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 3, 0, 1))).float()


def vec(a):
    return torch.from_numpy(np.ascontiguousarray(a)).float()


class Conv(nn.Module):
    """conv with TF SAME/VALID padding; weight+bias fixed."""

    def __init__(self, w, b, stride=1, padding='same', groups=1):
        super().__init__()
        self.weight = nn.Parameter(w, requires_grad=False)
        self.bias = nn.Parameter(b, requires_grad=False) if b is not None else None
        self.stride, self.padding, self.groups = stride, padding, groups
        self.k = w.shape[2]

    def forward(self, x):
        if self.padding == 'same':
            x = same_pad(x, self.k, self.stride)
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, 1, self.groups)


class SepConv(nn.Module):
    """tf.separableConv2d(depthwise, pointwise) + bias."""

    def __init__(self, p, prefix, stride, padding='same'):
        super().__init__()
        dw = dw_w(p[f'{prefix}/depthwise_filter'])
        self.dw = Conv(dw, None, stride, padding, groups=dw.shape[0])
        self.pw = Conv(conv_w(p[f'{prefix}/pointwise_filter']), vec(p[f'{prefix}/bias']), 1, 'valid')

    def forward(self, x):
        return self.pw(self.dw(x))


# ----------------------------------------------------------------------------- SSD MobileNetV1
class SsdMobilenetV1(nn.Module):
    EPS = 0.0010000000474974513

    def __init__(self, p):
        super().__init__()
        m = 'mobilenetv1'
        self.conv0 = Conv(conv_w(p[f'{m}/conv_0/filters']), vec(p[f'{m}/conv_0/batch_norm_offset']), 2)
        self.dws, self.pws = nn.ModuleList(), nn.ModuleList()
        for i in range(1, 14):
            d = f'{m}/conv_{i}/depthwise_conv'
            stride = 2 if i in (2, 4, 6, 12) else 1
            scale = p[f'{d}/batch_norm_scale'] / np.sqrt(p[f'{d}/batch_norm_variance'] + self.EPS)
            w = dw_w(p[f'{d}/filters'])
            # batchNorm folded: (conv - mean) * scale + offset
            w = w * vec(scale).view(-1, 1, 1, 1)
            b = vec(p[f'{d}/batch_norm_offset'] - p[f'{d}/batch_norm_mean'] * scale)
            self.dws.append(Conv(w, b, stride, groups=w.shape[0]))
            q = f'{m}/conv_{i}/pointwise_conv'
            self.pws.append(Conv(conv_w(p[f'{q}/filters']), vec(p[f'{q}/batch_norm_offset']), 1))
        pl = 'prediction_layer'
        self.pred = nn.ModuleList(
            Conv(conv_w(p[f'{pl}/conv_{i}/filters']), vec(p[f'{pl}/conv_{i}/batch_norm_offset']), 2 if i % 2 else 1)
            for i in range(8))
        self.box = nn.ModuleList(
            Conv(conv_w(p[f'{pl}/box_predictor_{i}/box_encoding_predictor/filters']),
                 vec(p[f'{pl}/box_predictor_{i}/box_encoding_predictor/bias']), 1) for i in range(6))
        self.cls = nn.ModuleList(
            Conv(conv_w(p[f'{pl}/box_predictor_{i}/class_predictor/filters']),
                 vec(p[f'{pl}/box_predictor_{i}/class_predictor/bias']), 1) for i in range(6))
        anchors = p['output_layer/extra_dim'].reshape(-1, 4)
        self.register_buffer('anchor_size', vec(np.stack([anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]], 1)))
        self.register_buffer('anchor_center', vec(np.stack([anchors[:, 0] + (anchors[:, 2] - anchors[:, 0]) / 2,
                                                            anchors[:, 1] + (anchors[:, 3] - anchors[:, 1]) / 2], 1)))

    def forward(self, img):
        x = img / 127.5 - 1.0
        x = torch.clamp(self.conv0(x), 0, 6)
        conv11 = None
        for i in range(13):
            x = torch.clamp(self.dws[i](x), 0, 6)
            x = torch.clamp(self.pws[i](x), 0, 6)
            if i + 1 == 11:
                conv11 = x
        feats = [conv11, x]
        c = x
        for i in range(8):
            c = torch.clamp(self.pred[i](c), 0, 6)
            if i % 2 == 1:
                feats.append(c)
        n = img.shape[0]
        enc = torch.cat([self.box[i](f).permute(0, 2, 3, 1).reshape(n, -1, 4) for i, f in enumerate(feats)], 1)
        cls = torch.cat([self.cls[i](f).permute(0, 2, 3, 1).reshape(n, -1, 3) for i, f in enumerate(feats)], 1)
        scores = torch.sigmoid(cls[:, :, 1])
        size, center = self.anchor_size, self.anchor_center
        half = torch.exp(enc[:, :, 2:4] / 5) * size / 2
        ctr = enc[:, :, 0:2] / 10 * size + center
        boxes = torch.cat([ctr - half, ctr + half], 2)  # ymin,xmin,ymax,xmax
        return boxes, scores


# ----------------------------------------------------------------------------- Tiny face detector
def leaky(x):
    return F.leaky_relu(x, 0.10000000149011612)


class TinyFaceDetector(nn.Module):
    MEAN = (117.001, 114.697, 97.404)

    def __init__(self, p):
        super().__init__()
        self.conv0 = Conv(conv_w(p['conv0/filters']), vec(p['conv0/bias']), 1, 'valid')
        self.seps = nn.ModuleList(SepConv(p, f'conv{i}', 1, 'valid') for i in range(1, 6))
        self.conv8 = Conv(conv_w(p['conv8/filters']), vec(p['conv8/bias']), 1, 'valid')
        self.register_buffer('mean', torch.tensor(self.MEAN).view(1, 3, 1, 1))

    @staticmethod
    def pool(x, s):
        # TF 'SAME' 2x2 max-pool: for stride 1, and for stride 2 on odd sizes, TF pads one pixel
        # at the bottom/right; on even sizes with stride 2 that extra pixel is never read. So a
        # constant (0,1,0,1) pad is exact for every input size -> the graph stays size-dynamic.
        return F.max_pool2d(F.pad(x, (0, 1, 0, 1), value=-1e30), 2, s)

    def forward(self, img):
        x = (img - self.mean) / 255.0
        x = leaky(self.conv0(x))
        x = self.pool(x, 2)
        for i, sep in enumerate(self.seps):
            x = leaky(sep(F.pad(x, (1, 1, 1, 1))))
            x = self.pool(x, 2 if i < 4 else 1)
        return self.conv8(x).permute(0, 2, 3, 1)  # [N,H,W,25] like TF


# ----------------------------------------------------------------------------- 68-point landmarks
class DenseBlock4(nn.Module):
    def __init__(self, p, prefix, first):
        super().__init__()
        self.first = first
        if first:
            self.conv0 = Conv(conv_w(p[f'{prefix}/conv0/filters']), vec(p[f'{prefix}/conv0/bias']), 2)
        else:
            self.conv0 = SepConv(p, f'{prefix}/conv0', 2)
        self.convs = nn.ModuleList(SepConv(p, f'{prefix}/conv{i}', 1) for i in (1, 2, 3))

    def forward(self, x):
        out1 = F.relu(self.conv0(x))
        out2 = self.convs[0](out1)
        out3 = self.convs[1](F.relu(out1 + out2))
        out4 = self.convs[2](F.relu(out1 + (out2 + out3)))
        return F.relu(out1 + (out2 + (out3 + out4)))


class FaceLandmark68(nn.Module):
    MEAN = (122.782, 117.001, 104.298)

    def __init__(self, p):
        super().__init__()
        fe = 'feature_extractor'
        self.blocks = nn.ModuleList(DenseBlock4(p, f'{fe}/dense{i}', i == 0) for i in range(4))
        self.fc_w = nn.Parameter(vec(p['fc/weights']), requires_grad=False)  # [256,136]
        self.fc_b = nn.Parameter(vec(p['fc/bias']), requires_grad=False)
        self.register_buffer('mean', torch.tensor(self.MEAN).view(1, 3, 1, 1))

    def forward(self, img):
        x = (img - self.mean) / 255.0
        for b in self.blocks:
            x = b(x)
        x = F.avg_pool2d(x, 7, 2)
        x = x.reshape(x.shape[0], -1)
        return x @ self.fc_w + self.fc_b


def export(model, dummy, path, input_names, output_names, dynamic_batch=False, dynamic_hw=False):
    model.eval()
    dyn = None
    if dynamic_batch:
        dyn = {input_names[0]: {0: 'batch'}}
        for o in output_names:
            dyn[o] = {0: 'batch'}
    if dynamic_hw:
        dyn = {input_names[0]: {2: 'height', 3: 'width'}, output_names[0]: {1: 'grid_h', 2: 'grid_w'}}
    with torch.no_grad():
        torch.onnx.export(model, dummy, path, input_names=input_names, output_names=output_names,
                          opset_version=13, dynamic_axes=dyn, do_constant_folding=True)
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    print('wrote', path, os.path.getsize(path), 'bytes')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--weights', default='.cache/faceport')
    ap.add_argument('--out', default='.cache/faceport/onnx')
    ap.add_argument('--ssd', action='store_true', help='also export the SSD MobileNetV1 (reference only)')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    if args.ssd:
        ssd = SsdMobilenetV1(load_weights(args.weights, 'ssd_mobilenetv1'))
        export(ssd, torch.zeros(1, 3, 512, 512), os.path.join(args.out, 'ssd_mobilenetv1.onnx'), ['image'], ['boxes', 'scores'])
    tiny = TinyFaceDetector(load_weights(args.weights, 'tiny_face_detector'))
    export(tiny, torch.zeros(1, 3, 416, 416), os.path.join(args.out, 'tiny_face_detector.onnx'), ['image'], ['grid'],
           dynamic_hw=True)
    lm = FaceLandmark68(load_weights(args.weights, 'face_landmark_68'))
    export(lm, torch.zeros(1, 3, 112, 112), os.path.join(args.out, 'face_landmark_68.onnx'), ['image'], ['landmarks'], True)


if __name__ == '__main__':
    main()
