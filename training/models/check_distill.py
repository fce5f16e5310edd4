#!/usr/bin/env python3
"""Checks train.py's distillation pieces on the real network (random weights): the Teacher's logit
is its members' edited-minus-real logits weighted as given (renormalised where a member is dropped
for an input, as for the sources a held-out run never saw), it stays in eval form when a caller
switches training on (dropout would make its targets noisy), and distill_loss is zero exactly where
the student's logit equals the teacher's, positive elsewhere, with a gradient that moves the student
towards the teacher. Prints one JSON line; exits 1 on any failure (test/training/distill.test.ts)."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402
from faceapi_resnet import build_model  # noqa: E402


@torch.no_grad()
def edited_logit(net, x):
    return train.edited_minus_real(net, x)


def main():
    torch.manual_seed(0)
    a = train.ForensicNet(build_model(False)[0]).eval()
    b = train.ForensicNet(build_model(False)[0]).eval()
    x = torch.randn(3, 3, 240, 240)
    fails = []
    teacher = train.Teacher([a, b], [0.7, 0.3])
    teacher.train()
    z = teacher(x)
    want = 0.7 * edited_logit(a, x) + 0.3 * edited_logit(b, x)
    err = float((z - want).abs().max())
    if err > 1e-5:
        fails.append(f"the teacher's logit is {err} off its members' weighted mean")
    if float((edited_logit(a, x) - edited_logit(b, x)).abs().max()) < 1e-4:
        fails.append("the two members agree: the weighting would prove nothing")
    if any(m.training for m in teacher.modules()):
        fails.append("the teacher left eval form when asked to train")
    if not torch.equal(teacher(x), z):
        fails.append("the teacher's logit changed between two calls on the same input")
    use = torch.tensor([[True, False], [True, True], [False, True]])
    z_use = teacher(x, use)
    want_use = torch.stack([edited_logit(a, x)[0], want[1], edited_logit(b, x)[2]])
    err_use = float((z_use - want_use).abs().max())
    if err_use > 1e-5:
        fails.append(f"with members dropped per input the teacher's logit is {err_use} off (the rest renormalised)")
    rec = {"members": ["models 2.4.0", "run c1"], "run_member_skipped_on": ["dfdc-swap", "dfdc-real"]}
    got = train.teacher_member_use(rec, train.np.array(["ffhq", "dfdc-real", "dfdc-swap", "stylegan1"])).tolist()
    if got != [[True, True], [True, False], [True, False], [True, True]]:
        fails.append(f"the run member is not dropped on exactly the sources it held out: {got}")
    try:
        train.Teacher([a, b], [0.5, 0.4])
        fails.append("weights not summing to 1 were accepted")
    except ValueError:
        pass
    zt = torch.tensor([-2.0, 0.0, 1.5, 4.0])
    at_teacher = float(train.distill_loss(zt.clone(), zt))
    if abs(at_teacher) > 1e-6:
        fails.append(f"the loss is {at_teacher} where the student equals the teacher")
    zs = torch.tensor([0.5, -1.0, 1.5, 1.0], requires_grad=True)
    off = train.distill_loss(zs, zt)
    off.backward()
    towards = bool(((zs.grad * (zs.detach() - zt)) >= 0).all()) and float(zs.grad[2].abs()) < 1e-7
    if not float(off) > 0:
        fails.append(f"the loss is {float(off)} where the student differs from the teacher")
    if not towards:
        fails.append(f"the gradient {zs.grad.tolist()} does not move the student towards the teacher")
    print(json.dumps({"teacher_max_error": err, "loss_at_teacher": at_teacher, "loss_off": float(off), "fails": fails}))
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
