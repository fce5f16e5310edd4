#!/usr/bin/env python3
"""Checks train.py's weight interpolation (--soup) on the real network: weight 0 computes exactly
what the initial network computes, weight 1 exactly what the tuned one does, 0.5 sits halfway on
every floating tensor, and integer buffers come from the tuned network. Prints one JSON line;
exits 1 on any failure (test/training/soup.test.ts)."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402
from faceapi_resnet import build_model  # noqa: E402


def main():
    torch.manual_seed(0)
    initial = train.ForensicNet(build_model(False)[0]).eval()
    tuned = train.ForensicNet(build_model(False)[0]).eval()
    with torch.no_grad():
        for p in tuned.parameters():
            p.add_(0.01 * torch.randn_like(p))
    tuned.fuse[1].num_batches_tracked.fill_(7)
    a_sd, b_sd = initial.state_dict(), tuned.state_dict()
    x = torch.randn(2, 3, 240, 240)
    probe = train.ForensicNet(build_model(False)[0]).eval()
    fails = []
    outs = {}
    for w in (0.0, 1.0):
        probe.load_state_dict(train.interpolate(a_sd, b_sd, w))
        with torch.no_grad():
            outs[w] = probe(x)[0]
    with torch.no_grad():
        if not torch.equal(outs[0.0], initial(x)[0]):
            fails.append("weight 0 does not compute what the initial network computes")
        if not torch.equal(outs[1.0], tuned(x)[0]):
            fails.append("weight 1 does not compute what the tuned network computes")
        if torch.equal(outs[0.0], outs[1.0]):
            fails.append("the two ends compute the same thing: the check would prove nothing")
    half = train.interpolate(a_sd, b_sd, 0.5)
    worst = max(float((half[k] - (a_sd[k] + b_sd[k]) / 2).abs().max()) for k in a_sd if a_sd[k].is_floating_point())
    if worst > 1e-6:
        fails.append(f"weight 0.5 is {worst} off the midpoint")
    ints = [k for k in a_sd if not a_sd[k].is_floating_point()]
    if not ints or any(not torch.equal(half[k], b_sd[k]) for k in ints):
        fails.append("integer buffers do not come from the tuned network")
    print(json.dumps({"tensors": len(a_sd), "integer_buffers": len(ints), "midpoint_max_error": worst, "fails": fails}))
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
