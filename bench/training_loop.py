"""aecourse.train against the idiomatic DataLoader loop and a bare loop, same model, data and epochs.

  python bench/training_loop.py [--epochs 30] [--repeats 7] [--optimizers for-loop,foreach,fused,flat]
                                [--threads N] [--out bench/training_loop.md]

Model: the 64-32-2-32-64 autoencoder on the 1347 training digits, batch 64, Adam(lr=3e-3). Three loops:

- ``aecourse.train``: the library's loop, called as the chapters call it (with an explicit optimiser).
- ``DataLoader loop``: the loop most tutorials teach, ``TensorDataset`` + ``DataLoader(shuffle=True)``,
  ``num_workers=0``, recording ``loss.item()`` per step.
- ``bare loop (floor)``: forward/backward/step on batches sliced once in advance, no shuffling, no
  bookkeeping: the least any loop can do for this model.

Fairness: every loop gets the same model (same seed), the same optimiser class, settings and
implementation, built by one function, and runs in one process under one thread setting
(``aecourse.configure_cpu()``, one intra-op thread, unless ``--threads``). Each Adam implementation in
``--optimizers`` is a separate comparison: ``for-loop`` is what ``torch.optim.Adam(params, lr)`` picks on
the CPU, ``foreach`` is torch's multi-tensor form (bitwise the same updates), ``flat`` is
``aecourse.FlatAdam``, what ``aecourse.train`` builds when no optimiser is given (bitwise the same updates
again, tests/test_optim.py), ``fused`` is torch's single C++ kernel (the same algorithm, rounded
differently in the last bits).

The issue's own comparison is a different one and is printed last: the tutorial loop as it is written
(DataLoader, ``torch.optim.Adam(params, lr)``) against ``aecourse.train`` as the chapters call it (its
default optimiser), and ``aecourse.train`` against the bare loop with torch's default Adam. Both train the
same model with the same updates; the tables above split the gain into its two sources, the data
handling (same-optimiser rows) and the optimiser step (``flat`` against ``for-loop``).

Noise: the machine may be shared, so every repeat runs all loops back to back, in an order that rotates
from repeat to repeat; the table gives medians of wall time and of this process's CPU time, and each
ratio is the median over repeats of the ratio within a repeat. Nothing here asserts: the table is the
result.
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

LR = 3e-3
ADAM = {  # implementation name -> optimiser factory (params, lr)
    "for-loop": lambda params, lr: torch.optim.Adam(params, lr=lr, foreach=False),
    "foreach": lambda params, lr: torch.optim.Adam(params, lr=lr, foreach=True),
    "fused": lambda params, lr: torch.optim.Adam(params, lr=lr, fused=True),
    "flat": lambda params, lr: aecourse.FlatAdam(params, lr=lr),
}
LOOPS = ("aecourse.train", "DataLoader loop", "bare loop (floor)")


def make_model():
    return aecourse.MLPAutoencoder(64, 2, hidden=(32,), seed=0)


def _start() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _stop(start: tuple[float, float]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) since ``_start()``: the same region for every loop."""
    return time.perf_counter() - start[0], time.process_time() - start[1]


def make_optimizer(model, impl: str) -> torch.optim.Optimizer:
    """The one optimiser factory every loop uses."""
    return ADAM[impl](model.parameters(), LR)


def run_aecourse(X, epochs, bs, impl):
    model = make_model()
    opt = make_optimizer(model, impl) if impl != "default" else None  # None: train builds its own
    t = _start()
    aecourse.train(model, X, epochs=epochs, batch_size=bs, optimizer=opt, seed=0, progress=False)
    return _stop(t)


def run_dataloader(X, epochs, bs, impl):
    """The loop most tutorials teach: TensorDataset + DataLoader(shuffle=True), num_workers=0."""
    model = make_model()
    opt = make_optimizer(model, impl)
    loader = DataLoader(TensorDataset(X), batch_size=bs, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    t = _start()
    for _ in range(epochs):
        total = 0.0
        for (x,) in loader:
            loss = F.mse_loss(model(x), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(x)
    return _stop(t)


def run_bare(X, epochs, bs, impl):
    """The floor: batches sliced once in advance, no shuffling, no bookkeeping."""
    model = make_model()
    opt = make_optimizer(model, impl)
    batches = [X[i:i + bs] for i in range(0, len(X), bs)]
    t = _start()
    for _ in range(epochs):
        for x in batches:
            loss = F.mse_loss(model(x), x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return _stop(t)


def phase_profile(X, epochs, bs, impl):
    """CPU microseconds per step of each phase of the tutorial loop: where its time goes.

    The forward and backward passes are what any loop built on autograd must pay; the rest (fetching the
    batch, the optimiser step, reading the loss) is what a loop can save. The ratio of the whole step to
    forward + backward is therefore the most any such loop could gain over this one.
    """
    model = make_model()
    opt = make_optimizer(model, impl)
    loader = DataLoader(TensorDataset(X), batch_size=bs, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    clock = time.process_time
    spent = dict.fromkeys(("fetch the batch (DataLoader)", "forward + loss", "zero_grad + backward",
                           "optimiser step", "loss.item()"), 0.0)
    names = list(spent)
    steps = 0
    for _ in range(epochs):
        it = iter(loader)
        while True:
            t0 = clock()
            try:
                (x,) = next(it)
            except StopIteration:
                break
            t1 = clock()
            loss = F.mse_loss(model(x), x)
            t2 = clock()
            opt.zero_grad()
            loss.backward()
            t3 = clock()
            opt.step()
            t4 = clock()
            loss.item()
            t5 = clock()
            for name, a, b in zip(names, (t0, t1, t2, t3, t4), (t1, t2, t3, t4, t5)):
                spent[name] += b - a
            steps += 1
    return {name: 1e6 * v / steps for name, v in spent.items()}


RUNNERS = {"aecourse.train": run_aecourse, "DataLoader loop": run_dataloader, "bare loop (floor)": run_bare}


def median_ratio(a: list[float], b: list[float]) -> float:
    return statistics.median(x / y for x, y in zip(a, b))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--optimizers", default="for-loop,foreach,fused,flat",
                    help=f"comma-separated Adam implementations out of {sorted(ADAM)}")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: aecourse's setting, 1)")
    ap.add_argument("--out", type=Path, default=None, help="also write the Markdown table to this file")
    args = ap.parse_args(argv)
    impls = [s.strip() for s in args.optimizers.split(",") if s.strip()]
    unknown = [s for s in impls if s not in ADAM]
    if unknown or not impls:
        ap.error(f"--optimizers {args.optimizers!r}: unknown {unknown}; choose from {sorted(ADAM)}")
    aecourse.configure_cpu()
    if args.threads:
        torch.set_num_threads(args.threads)
    X = torch.as_tensor(aecourse.load_digits().X_train)
    jobs = [(loop, impl) for impl in impls for loop in LOOPS]
    if "for-loop" in impls:
        jobs.append(("aecourse.train", "default"))  # as the chapters call it: optimizer=None
    for loop, impl in jobs:  # warm-up: allocator, kernels, optimiser state code paths
        RUNNERS[loop](X, 1, args.batch_size, impl)
    wall = {j: [] for j in jobs}
    cpu = {j: [] for j in jobs}
    for r in range(args.repeats):
        k = r % len(jobs)
        for job in jobs[k:] + jobs[:k]:  # rotate the order: no loop always runs first or last
            w, c = RUNNERS[job[0]](X, args.epochs, args.batch_size, job[1])
            wall[job].append(w)
            cpu[job].append(c)

    steps = args.epochs * -(-len(X) // args.batch_size)
    lines = [
        "| loop | Adam implementation | median wall (s) | median CPU (s) | CPU us per step |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for loop, impl in jobs:
        mw, mc = statistics.median(wall[loop, impl]), statistics.median(cpu[loop, impl])
        shown = "default (FlatAdam)" if impl == "default" else impl
        lines.append(f"| {loop} | {shown} | {mw:.3f} | {mc:.3f} | {1e6 * mc / steps:.0f} |")
    lines += ["", "| Adam implementation | DataLoader / aecourse.train, wall (CPU) | "
                  "aecourse.train / bare, wall (CPU) | DataLoader / bare, wall (CPU) |",
              "| --- | ---: | ---: | ---: |"]
    for impl in impls:
        ae, dl, bare = ((loop, impl) for loop in LOOPS)
        cells = [f"{median_ratio(wall[a], wall[b]):.2f}x ({median_ratio(cpu[a], cpu[b]):.2f}x)"
                 for a, b in ((dl, ae), (ae, bare), (dl, bare))]
        lines.append(f"| {impl} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        f"Targets: DataLoader / aecourse.train >= 3x, aecourse.train / bare <= 1.5x. "
        f"{args.epochs} epochs x {args.repeats} repeats, batch {args.batch_size} ({steps} steps per run), "
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s). Ratios are medians over repeats "
        f"of the ratio within a repeat; CPU is this process's CPU time. DataLoader / bare is the most any "
        f"loop could gain over the DataLoader loop with that optimiser: a loop with no cost of its own runs "
        f"at the bare floor."
    )
    if "for-loop" in impls:
        # The comparison, as the code is written: the tutorial's DataLoader loop with
        # torch.optim.Adam(params, lr) and the bare loop with the same, against aecourse.train with its
        # default optimiser (FlatAdam: the same updates). Runs in the same repeats as the rest.
        tut, bare, ours = ("DataLoader loop", "for-loop"), ("bare loop (floor)", "for-loop"), ("aecourse.train", "default")
        lines += ["", "| as written: torch.optim.Adam(params, lr) in the other loops, aecourse.train's default | "
                      "wall (CPU) | target |", "| --- | ---: | ---: |"]
        for (a, b), label, target in (((tut, ours), "DataLoader loop / aecourse.train", ">= 3x"),
                                      ((ours, bare), "aecourse.train / bare loop", "<= 1.5x")):
            lines.append(f"| {label} | {median_ratio(wall[a], wall[b]):.2f}x "
                         f"({median_ratio(cpu[a], cpu[b]):.2f}x) | {target} |")
    if "for-loop" in impls:
        runs = [phase_profile(X, args.epochs, args.batch_size, "for-loop") for _ in range(args.repeats)]
        phases = {name: statistics.median(r[name] for r in runs) for name in runs[0]}
        whole = sum(phases.values())
        autograd = phases["forward + loss"] + phases["zero_grad + backward"]
        lines += ["", "Where the tutorial loop's time goes (`torch.optim.Adam(params, lr)`, CPU microseconds per "
                      "step, median of the repeats; timing each phase adds a little to each):", "",
                  "| phase | CPU us per step | share |", "| --- | ---: | ---: |"]
        lines += [f"| {name} | {us:.0f} | {us / whole:.0%} |" for name, us in phases.items()]
        lines += ["", f"Forward and backward alone take {autograd:.0f} us of the {whole:.0f} us step: a loop "
                      f"that still runs them through autograd, as every loop here does, can be at most "
                      f"{whole / autograd:.2f}x faster than the tutorial loop, even if fetching the batch and "
                      f"the optimiser step cost nothing."]
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        args.out.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
