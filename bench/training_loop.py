"""aecourse.train against the idiomatic DataLoader loop and a bare loop, same model, data and epochs.

  python bench/training_loop.py [--epochs 30] [--repeats 5] [--threads N]

Model: the 64-32-2-32-64 autoencoder on the 1347 training digits, batch 64, Adam. The three loops run
interleaved in one process, ``--repeats`` times each; the table gives median seconds and the ratios
(DataLoader / aecourse: the speed-up; aecourse / bare: the overhead over the floor, where the floor is
forward/backward/step on batches sliced in advance, with no shuffling).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

import aecourse


def make_model():
    return aecourse.MLPAutoencoder(64, 2, hidden=(32,), seed=0)


def run_aecourse(X, epochs, bs):
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    t = time.perf_counter()
    aecourse.train(model, X, epochs=epochs, batch_size=bs, optimizer=opt, seed=0, progress=False)
    return time.perf_counter() - t


def run_dataloader(X, epochs, bs):
    """The loop most tutorials teach: TensorDataset + DataLoader(shuffle=True), num_workers=0."""
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader(TensorDataset(X), batch_size=bs, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    t = time.perf_counter()
    for _ in range(epochs):
        total = 0.0
        for (x,) in loader:
            loss = F.mse_loss(model(x), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(x)
    return time.perf_counter() - t


def run_bare(X, epochs, bs):
    """The floor: batches sliced once in advance, no shuffling, no bookkeeping."""
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    batches = [X[i:i + bs] for i in range(0, len(X), bs)]
    t = time.perf_counter()
    for _ in range(epochs):
        for x in batches:
            loss = F.mse_loss(model(x), x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: aecourse's setting, 1)")
    ap.add_argument("--out", type=Path, default=None, help="also write the Markdown table to this file")
    args = ap.parse_args(argv)
    aecourse.configure_cpu()
    if args.threads:
        torch.set_num_threads(args.threads)
    X = torch.as_tensor(aecourse.load_digits().X_train)
    runners = {"aecourse.train": run_aecourse, "DataLoader loop": run_dataloader, "bare loop (floor)": run_bare}
    for f in runners.values():  # warm-up: allocator, kernels
        f(X, 1, args.batch_size)
    times = {k: [] for k in runners}
    for _ in range(args.repeats):
        for k, f in runners.items():
            times[k].append(f(X, args.epochs, args.batch_size))
    med = {k: statistics.median(v) for k, v in times.items()}
    steps = args.epochs * -(-len(X) // args.batch_size)
    lines = ["| loop | median (s) | us per step |", "| --- | ---: | ---: |"]
    lines += [f"| {k} | {m:.3f} | {1e6 * m / steps:.0f} |" for k, m in med.items()]
    speedup = med["DataLoader loop"] / med["aecourse.train"]
    overhead = med["aecourse.train"] / med["bare loop (floor)"]
    lines.append("")
    lines.append(f"DataLoader / aecourse.train = {speedup:.2f}x (target >= 3x); "
                 f"aecourse.train / bare = {overhead:.2f}x (target <= 1.5x); "
                 f"{args.epochs} epochs x {args.repeats} repeats, batch {args.batch_size}, "
                 f"torch {torch.__version__}, {torch.get_num_threads()} thread(s).")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        args.out.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
