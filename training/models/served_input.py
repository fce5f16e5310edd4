#!/usr/bin/env python3
"""Prints the model input training computes for a file: served.py's crop and normalisation with the
numbers of a model.json. Used by test/models/served-input.test.ts to check that training and
serving build the same tensor for the same file.

  served_input.py MODEL_JSON IMAGE LANDMARKS_JSON OUT_F32   # LANDMARKS_JSON: [[x, y] * 68] or null
"""
import json
import sys

import numpy as np
from PIL import Image

import served

mj = json.load(open(sys.argv[1]))
img = np.asarray(Image.open(sys.argv[2]).convert("RGB"))
lm = json.loads(sys.argv[3])
pre = mj["preprocessing"]
spec = pre.get("face_crop") or served.FACE_CROP
if lm is None:
    crop = served.whole_image(img, pre["width"])
else:
    crop = served.served_crop(img, np.asarray(lm, np.float64), spec)[0]
    if crop.shape[0] != pre["height"]:
        crop = served.whole_image(crop, pre["width"])
served.to_input(crop, pre["mean"], pre["std"]).astype("<f4").tofile(sys.argv[4])
