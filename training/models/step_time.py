#!/usr/bin/env python3
"""Seconds per training step of the detector network on random data, and the minor page faults
and kernel CPU behind them: how much of training the machine's memory setup costs.

  step_time.py [--backbone mbv3|faceapi] [--seconds 30]

Run it as npm run train runs PyTorch (GLIBC_TUNABLES=glibc.malloc.hugetlb=1) and without, to see
what glibc's malloc on transparent huge pages saves on a machine whose THP mode is "madvise".
"""
import argparse
import os
import time

import torch
import torch.nn.functional as F

import train as T


def proc_stat():
    """(minor faults, user ticks, system ticks) of this process."""
    f = open("/proc/self/stat").read().split(") ")[1].split(" ")
    return int(f[7]), int(f[11]), int(f[12])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backbone", choices=["mbv3", "faceapi"], default="mbv3")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--batch", type=int, default=32)
    a = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    net = T.ForensicNet(T.make_backbone(a.backbone)[0]).train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-5)
    x, y = torch.randn(a.batch, 3, 240, 240), torch.randint(0, 2, (a.batch,))

    def step():
        loss = F.cross_entropy(net(x)[0], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    step(), step()
    s0, t0, n = proc_stat(), time.time(), 0
    while time.time() - t0 < a.seconds:
        step()
        n += 1
    s1, wall = proc_stat(), time.time() - t0
    thp = open("/sys/kernel/mm/transparent_hugepage/enabled").read().strip()
    print(f"{a.backbone}, batch {a.batch}: {wall / n:.2f} s/step over {n} steps; minor faults/step {(s1[0] - s0[0]) / n:.0f}; "
          f"CPU user {(s1[1] - s0[1]) / 100:.1f} s, system {(s1[2] - s0[2]) / 100:.1f} s; THP {thp}; "
          f"GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '')!r}")


if __name__ == "__main__":
    main()
