#!/usr/bin/python3
"""Copies the exported ONNX graphs into models/face-detector/<v>/ and models/face-landmarks/<v>/
and writes their model.json (sha256 computed here). MODEL_CARD.md files are written by hand.

  /usr/bin/python3 training/faceport/package_models.py --onnx .cache/faceport/onnx --models models
"""
import argparse
import hashlib
import json
import os
import shutil

FACEAPI = {
    'package': '@vladmandic/face-api',
    'package_version': '1.7.15',
    'repository': 'https://github.com/vladmandic/face-api',
    'upstream': 'https://github.com/justadudewhohacks/face-api.js',
    'authors': 'Vincent Muehler (face-api.js), Vladimir Mandic (@vladmandic/face-api)',
    'licence': 'MIT',
    'port': 'training/faceport (dump-weights.cjs -> port.py -> package_models.py)',
}

DETECTOR = {
    'name': 'face-detector',
    'version': '1.0.0',
    'description': 'face-api TinyFaceDetector (depthwise-separable Tiny-YOLOv2, 5 anchors, 1 class) ported to ONNX.',
    'architecture': 'tiny-face-detector',
    'file': 'model.onnx',
    'inputs': [{'name': 'image', 'datatype': 'float32', 'shape': [1, 3, 'S', 'S']}],
    'outputs': [{'name': 'grid', 'datatype': 'float32', 'shape': [1, 'S/32', 'S/32', 25]}],
    'preprocessing': {
        'input_size': 416,
        'channel_order': 'RGB',
        'layout': 'NCHW',
        'range': [0, 255],
        'pad': 'bottom-right',
        'resize': 'zero-pad to square at bottom/right, then TF bilinear (align_corners=false, half_pixel_centers=false) to S x S; S any multiple of 32',
        'normalisation': 'in graph: (x - [117.001, 114.697, 97.404]) / 255',
    },
    'postprocessing': {
        'type': 'tiny-yolov2',
        'grid_layout': '[row][col][anchor][tx, ty, tw, th, objectness]',
        'anchors': [[1.603231, 2.094468], [6.041143, 7.080126], [2.882459, 3.518061], [4.266906, 5.178857], [9.041765, 10.66308]],
        'decode': 'cx=(col+sigmoid(tx))/cells, w=exp(tw)*anchor_w/cells (same for y), corrected for the padding; score=sigmoid(objectness)',
        'score_threshold': 0.5,
        'iou_threshold': 0.4,
        'nms': 'greedy IoU NMS in TypeScript (packages/face/src/detector.ts), as face-api',
        'passes': [
            {'region': 'whole image', 'input_size': 416},
            {'region': 'image centred in a zero canvas 2.5x its long side (faces filling the frame)', 'input_size': 224},
        ],
        'merge': 'greedy: drop a box with IoU > 0.4 or > 80% containment with a better-scoring one',
    },
    'source': dict(FACEAPI, weights='model/tiny_face_detector_model-weights_manifest.json + .bin'),
    'licence': 'MIT',
}

LANDMARKS = {
    'name': 'face-landmarks',
    'version': '1.0.0',
    'description': 'face-api FaceLandmark68Net (4 dense depthwise-separable blocks + FC) ported to ONNX: 68 iBUG points.',
    'architecture': 'face-landmark-68',
    'file': 'model.onnx',
    'inputs': [{'name': 'image', 'datatype': 'float32', 'shape': ['N', 3, 112, 112]}],
    'outputs': [{'name': 'landmarks', 'datatype': 'float32', 'shape': ['N', 136]}],
    'preprocessing': {
        'input_size': 112,
        'channel_order': 'RGB',
        'layout': 'NCHW',
        'range': [0, 255],
        'pad': 'center',
        'resize': 'face box clipped+floored, zero-padded to a centred square, TF bilinear (align_corners=false, half_pixel_centers=false) to 112x112',
        'normalisation': 'in graph: (x - [122.782, 117.001, 104.298]) / 255',
    },
    'postprocessing': {
        'type': 'landmarks-68',
        'output_layout': 'x0,y0,x1,y1,... as fractions of the padded 112x112 square',
        'decode': 'undo padding (face-api FaceLandmark68NetBase.postProcess), scale by crop size, shift by crop origin',
    },
    'source': dict(FACEAPI, weights='model/face_landmark_68_model-weights_manifest.json + .bin'),
    'licence': 'MIT',
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--onnx', default='.cache/faceport/onnx')
    ap.add_argument('--models', default='models')
    args = ap.parse_args()
    for spec, src in ((DETECTOR, 'tiny_face_detector.onnx'), (LANDMARKS, 'face_landmark_68.onnx')):
        out = os.path.join(args.models, spec['name'], spec['version'])
        os.makedirs(out, exist_ok=True)
        dst = os.path.join(out, spec['file'])
        shutil.copyfile(os.path.join(args.onnx, src), dst)
        path = os.path.join(out, 'model.json')
        old = json.load(open(path)) if os.path.exists(path) else {}
        spec = dict(spec, sha256=sha256(dst))
        for key in ('parity', 'cost_ms'):  # measured figures are kept across re-packaging
            if key in old:
                spec[key] = old[key]
        with open(path, 'w') as f:
            json.dump(spec, f, indent=2)
            f.write('\n')
        print('wrote', dst, spec['sha256'])


if __name__ == '__main__':
    main()
