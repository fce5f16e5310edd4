#!/usr/bin/env python3
"""Checks train.py --train-stages on the real network (random weights): after real optimiser steps
on a real loss, every parameter of the trunk's frozen stages is bit-identical to where it started,
every learning stage, the fusion and the heads moved, and the option refuses what it cannot do.
Prints one JSON line; exits 1 on any failure (test/training/stages.test.ts)."""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402
from faceapi_resnet import build_model  # noqa: E402


def stage_of(name, stages):
    """The trunk stage (0-3) a ForensicNet parameter belongs to, or None outside the trunk."""
    if not name.startswith("b."):
        return None
    return next((i for i, st in enumerate(stages) if name.split(".")[1] in st), None)


def main():
    fails = []
    report = {}
    for learning in (1, 2):
        torch.manual_seed(learning)
        backbone = build_model(False)[0]
        net = train.ForensicNet(backbone)
        frozen_names = train.freeze_early_stages(net, backbone, "faceapi", learning)
        before = {n: p.detach().clone() for n, p in net.named_parameters()}
        opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=1e-3)
        net.train()
        x, y = torch.randn(4, 3, 240, 240), torch.tensor([0, 1, 0, 1])
        for _ in range(2):
            logits = net(x)[0]
            loss = F.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        n_stages = len(backbone.stages)
        moved = {n for n, p in net.named_parameters() if not torch.equal(p.detach(), before[n])}
        for n, p in net.named_parameters():
            st = stage_of(n, backbone.stages)
            should_freeze = st is not None and st < n_stages - learning
            if should_freeze and n in moved:
                fails.append(f"learning {learning}: frozen {n} moved")
            if should_freeze != (n in frozen_names):
                fails.append(f"learning {learning}: {n} reported {'frozen' if n in frozen_names else 'learning'}")
            if not should_freeze and n not in moved and p.grad is not None and p.grad.abs().sum() > 0:
                fails.append(f"learning {learning}: {n} had a gradient and did not move")
        late = [n for n in before if stage_of(n, backbone.stages) == n_stages - 1]
        if not any(n in moved for n in late):
            fails.append(f"learning {learning}: the last stage did not learn")
        if not any(n in moved for n in before if not n.startswith("b.")):
            fails.append(f"learning {learning}: the fusion and heads did not learn")
        report[f"learning_{learning}"] = {"frozen": len(frozen_names), "moved": len(moved), "all": len(before)}
        if not frozen_names:
            fails.append(f"learning {learning}: nothing frozen: the check would prove nothing")
    for bad in ((train.ForensicNet(build_model(False)[0]), "faceapi", 4), (train.ForensicNet(build_model(False)[0]), "faceapi", -1),
                (None, "mbv3", 1)):
        try:
            train.freeze_early_stages(bad[0], bad[0].b if bad[0] is not None else None, bad[1], bad[2])
            fails.append(f"accepted --train-stages {bad[2]} with {bad[1]}")
        except SystemExit:
            pass
    print(json.dumps({**report, "fails": fails}))
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
