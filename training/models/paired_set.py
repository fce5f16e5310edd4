#!/usr/bin/env python3
"""Writes the paired synthetic test set without training: the same images a full `train.py` run
writes into runs/<run>/paired-test (each test-split real beside its own self-blend and retouch,
with the edit masks), for judging a shipped version through serving when no run folder is left.

  npm run train -- --landmarks-only    # prints .cache/landmarks-<key>.jsonl (made first if missing)
  /usr/bin/python3 training/models/paired_set.py --landmarks .cache/landmarks-<key>.jsonl --out DIR
  npm run eval -- --data DIR --out artifacts/eval/vXYZ-paired

The set depends on the split, the landmarks and the seed only (train.py's defaults: seed 1234,
400 reals), never on a network, so every version is judged on the same images.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train as T  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--landmarks", required=True, help="the serving face stage's landmarks (.cache/landmarks-<key>.jsonl)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1234, help="train.py's --seed (the set uses seed + 99, as train.py does)")
    ap.add_argument("--n", type=int, default=400, help="train.py's --paired-test")
    a = ap.parse_args(argv)
    if os.path.exists(a.out):
        sys.exit(f"{a.out} exists")
    rows = T.read_rows(a.seed)
    lm_map = T.read_landmarks(a.landmarks)
    lms = [lm_map[r["key"]][0] if r["key"] in lm_map else None for r in rows]
    test_real = np.nonzero(np.array([r["split"] == "test" and r["label"] == "real" for r in rows]))[0]
    # Only the test reals are read (the edits and their donors all come from them), as train.py
    # reads them; the rest of the array is never touched, so its zero pages are never allocated.
    images = np.zeros((len(rows), 256, 256, 3), np.uint8)
    images[test_real] = T.load_images([rows[i] for i in test_real])
    man = T.build_paired_test(rows, images, lms, test_real, a.out, a.n, a.seed + 99)
    print(f"wrote {len(man)} images ({a.n} pairs requested) to {a.out}")


if __name__ == "__main__":
    main()
