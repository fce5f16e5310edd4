#!/usr/bin/env python3
"""Checks the (edited, real) pairing of train.py on synthetic images (run by test/training/pairs.test.ts):
- every unit holds one edited and one real spec sharing a pair id, both in the same batch-ordered run;
- a synthetic edit's real is its own original and is framed exactly as the edit: with the edit
  switched off, the two training inputs are identical, and with it on they differ (also with
  --crop-jitter, which must move the crop);
- a dataset fake's real comes from its domain's pool, a DFDC swap's from its own video when known;
- fake pools are drawn by FAKE_POOL_WEIGHT;
- --plain-share: a plain sample is its file's served crop itself (flipped or not), about the share asked
  for is plain, and an aligned real is plain exactly when its edit is;
- with no dataset fake pool (--loso all) every unit is a synthetic edit, kinds in SYNTH_SHARE's proportion.
Prints one JSON line of what it measured; exits 1 on a failed check."""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402


def face_landmarks(rng, size=256):
    """68 points laid out like a frontal face (jaw, brows, nose, eyes, mouth) with a little jitter."""
    c = size / 2
    pts = []
    for k in range(17):
        a = np.pi * (0.05 + 0.9 * k / 16)
        pts.append((c - 70 * np.cos(a), c + 10 + 80 * np.sin(a)))
    pts += [(c - 60 + 10 * k, c - 45) for k in range(5)] + [(c + 20 + 10 * k, c - 45) for k in range(5)]
    pts += [(c, c - 30 + 10 * k) for k in range(4)] + [(c - 20 + 10 * k, c + 12) for k in range(5)]
    for ex in (c - 35, c + 35):
        pts += [(ex - 12 + 8 * (k % 3) + (4 if k >= 3 else 0), c - 30 + (3 if k % 3 else 0)) for k in range(6)]
    pts += [(c - 30 + 5 * k, c + 40 + (8 if 3 < k < 9 else 0)) for k in range(12)]
    pts += [(c - 20 + 5 * k, c + 44) for k in range(8)]
    return np.asarray(pts, np.float32) + rng.normal(0, 1.0, (68, 2)).astype(np.float32)


def main():
    rng = np.random.default_rng(7)
    n = 40
    images = rng.integers(0, 256, (n, 256, 256, 3)).astype(np.uint8)
    lms = [face_landmarks(rng) for _ in range(n)]
    # pools: indices 0-9 dfdc-real, 10-19 ffhq, 20-29 dfdc-swap, 30-39 stylegan1
    pools_real = {"dfdc-real": np.arange(0, 10), "ffhq": np.arange(10, 20)}
    pools_fake = {"dfdc-swap": np.arange(20, 30), "stylegan1": np.arange(30, 40)}
    same_video = {20: [3], 21: [4, 5]}
    specs = train.make_specs(pools_real, pools_fake, pools_real, 2000, np.random.default_rng(1),
                             train.SYNTH_SHARE, twin_share=0.5, same_video=same_video)
    fails = []
    by_pair = {}
    for k, s in enumerate(specs):
        by_pair.setdefault(s[6], []).append(k)
    complete = [v for v in by_pair.values() if len(v) == 2]
    if len(complete) < len(by_pair) - 1:  # the last unit may be cut by n
        fails.append("pairs without two members")
    drawn = {"dfdc-swap": 0, "stylegan1": 0}
    for a, b in complete:
        ka, ia, ya = specs[a][0], specs[a][1], specs[a][2]
        kb, ib, yb = specs[b][0], specs[b][1], specs[b][2]
        if (ya, yb) != (1, 0) or b != a + 1:
            fails.append(f"pair {a},{b} is not an adjacent (edited, real) pair, edited first")
            continue
        if ka in ("self-blend", "retouch"):
            if ib != ia or specs[b][7] != a:
                fails.append(f"synthetic pair {a} not aligned to its own original")
        else:
            s = "dfdc-swap" if ia < 30 else "stylegan1"
            drawn[s] += 1
            if ia in same_video:
                if ib not in same_video[ia]:
                    fails.append(f"swap {ia} paired with {ib}, not its video")
            elif ib not in pools_real[train.DOMAIN_REAL_POOL[s]]:
                fails.append(f"{s} {ia} paired outside its domain ({ib})")
            if specs[b][7] != b:
                fails.append(f"dataset pair {a} framed alike")
    ratio = drawn["dfdc-swap"] / max(1, drawn["stylegan1"])
    want = train.FAKE_POOL_WEIGHT.get("dfdc-swap", 1.0) / train.FAKE_POOL_WEIGHT.get("stylegan1", 1.0)
    if abs(ratio - want) > 0.35 * want:
        fails.append(f"dfdc-swap/stylegan1 draw ratio {ratio:.2f}, want about {want:.2f}")

    # Framing alignment through the real TrainSet: the edited spec with its edit switched off must
    # give exactly its real partner's input.
    synth = [(a, b) for a, b in complete if specs[a][0] in ("self-blend", "retouch")][:12]
    plain = [s if s[0] == "image" else ("image",) + s[1:] for s in specs]
    gen = np.zeros(n, bool)

    def trainsets(crop_jitter=0.0, plain_share=0.0):
        """TrainSets of the specs and of the same specs with every edit switched off."""
        return [train.TrainSet(sp, images, lms, np.arange(0, 20), np.arange(n), train.served.FACE_CROP["size"], 99, gen,
                               crop_jitter=crop_jitter, plain_share=plain_share) for sp in (specs, plain)]
    ds, ds_plain = trainsets()
    same = differ = 0
    for a, b in synth:
        real = ds[b][0].numpy()
        if np.array_equal(ds_plain[a][0].numpy(), real):
            same += 1
        if not np.array_equal(ds[a][0].numpy(), real):
            differ += 1
    if same != len(synth):
        fails.append(f"only {same}/{len(synth)} aligned reals framed as their edit")
    if differ != len(synth):
        fails.append(f"only {differ}/{len(synth)} edits differ from their original")
    # --crop-jitter: an aligned real takes its edit's crop jitter too, and the jitter moves the crop.
    jit = synth[:6]
    ds_j, ds_jplain = trainsets(crop_jitter=0.12)
    jit_same = sum(np.array_equal(ds_jplain[a][0].numpy(), ds_j[b][0].numpy()) for a, b in jit)
    jit_moved = sum(not np.array_equal(ds_j[b][0].numpy(), ds[b][0].numpy()) for a, b in jit)
    if jit_same != len(jit):
        fails.append(f"with --crop-jitter only {jit_same}/{len(jit)} aligned reals framed as their edit")
    if jit_moved != len(jit):
        fails.append(f"--crop-jitter left {len(jit) - jit_moved}/{len(jit)} crops unmoved")
    # --plain-share: the dataset file's crop as served, untouched but for the drawn flip.
    ds_p, ds_pplain = trainsets(plain_share=0.5)
    reals = [k for k, s in enumerate(specs[:240]) if s[0] == "image" and s[2] == 0][:80]
    n_plain = 0
    for k in reals:
        crop = train.served.served_crop(images[specs[k][1]], lms[specs[k][1]])[0]
        got = ds_p[k][0].numpy()
        if any(np.array_equal(got, train.served.to_input(np.ascontiguousarray(c), train.MEAN, train.STD)) for c in (crop, crop[:, ::-1])):
            n_plain += 1
    plain_share = n_plain / max(1, len(reals))
    if not 0.3 <= plain_share <= 0.7:
        fails.append(f"--plain-share 0.5 left {n_plain}/{len(reals)} reals as their served crop")
    plain_aligned = sum(np.array_equal(ds_pplain[a][0].numpy(), ds_p[b][0].numpy()) for a, b in synth)
    if plain_aligned != len(synth):
        fails.append(f"with --plain-share only {plain_aligned}/{len(synth)} aligned reals framed as their edit")
    e, r = train.batch_pairs([s[6] for s in specs[:64]])
    if not e or any(specs[i][2] != 1 for i in e) or any(specs[i][2] != 0 for i in r):
        fails.append("batch_pairs on pair ids returned wrong members")
    ta, tb = train.batch_pairs([s[4] for s in specs[:64]])
    if not ta or any(specs[i][:4] != specs[j][:4] or (specs[i][5], specs[j][5]) != (0, 1) for i, j in zip(ta, tb)):
        fails.append("batch_pairs on twin groups returned specs that are not one image framed twice")
    # --loso all (no dataset fake pool): every unit is a synthetic edit beside its own original,
    # self-blends and retouches in SYNTH_SHARE's proportion.
    only = train.make_specs(pools_real, {}, pools_real, 2000, np.random.default_rng(2), train.SYNTH_SHARE)
    kinds = [s[0] for s in only if s[2] == 1]
    if set(kinds) - {"self-blend", "retouch"} or len(kinds) != len(only) // 2:
        fails.append(f"synthetic-only specs hold {sorted(set(kinds))}, {len(kinds)} edited of {len(only)}")
    sb_share = kinds.count("self-blend") / max(1, len(kinds))
    want_sb = train.SYNTH_SHARE["self-blend"] / sum(train.SYNTH_SHARE.values())
    if abs(sb_share - want_sb) > 0.08:
        fails.append(f"synthetic-only self-blend share {sb_share:.2f}, want about {want_sb:.2f}")
    print(json.dumps({"pairs": len(complete), "synthetic_checked": len(synth), "aligned_same": same,
                      "edits_differ": differ, "crop_jitter_aligned": jit_same, "crop_jitter_moved": jit_moved,
                      "plain_share_measured": round(plain_share, 3), "plain_aligned": plain_aligned,
                      "swap_to_gan_draw_ratio": round(ratio, 3),
                      "synthetic_only_self_blend_share": round(sb_share, 3), "fails": fails}))
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
