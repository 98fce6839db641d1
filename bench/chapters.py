"""Execute each chapter top to bottom in a fresh kernel and print a table of wall times.

  python bench/chapters.py [book/chapter.ipynb ...] [--runs 3] [--out bench/chapters.md]

Each notebook runs ``--runs`` times (interleaved, so machine noise hits every chapter alike); the table
gives the median, the target (30 s per chapter, 180 s for the whole book) and pass/fail. Times include
kernel start-up, as a reader's "Run all" would. Nothing here asserts: the table is the result.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_TARGET_S = 30.0
BOOK_TARGET_S = 180.0


def chapter_order() -> list[Path]:
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").exists()]


def run_once(path: Path, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="also write the Markdown table to this file")
    args = ap.parse_args(argv)
    os.environ.setdefault("AECOURSE_QUIET", "1")
    paths = [p.resolve() for p in args.notebooks] or chapter_order()
    times: dict[Path, list[float]] = {p: [] for p in paths}
    for r in range(args.runs):
        for p in paths:
            t = run_once(p)
            times[p].append(t)
            print(f"run {r + 1}/{args.runs} {p.stem}: {t:.1f} s", file=sys.stderr, flush=True)
    rows = ["| chapter | median (s) | runs (s) | target (s) | result |", "| --- | ---: | --- | ---: | --- |"]
    total = 0.0
    for p in paths:
        med = statistics.median(times[p])
        total += med
        runs = ", ".join(f"{t:.1f}" for t in times[p])
        rows.append(f"| {p.stem} | {med:.1f} | {runs} | {CHAPTER_TARGET_S:.0f} | "
                    f"{'pass' if med < CHAPTER_TARGET_S else 'FAIL'} |")
    if len(paths) > 1:
        rows.append(f"| **whole book** | {total:.1f} | | {BOOK_TARGET_S:.0f} | "
                    f"{'pass' if total < BOOK_TARGET_S else 'FAIL'} |")
    cpu = f"{os.cpu_count()} CPU cores, {platform.processor() or platform.machine()}"
    table = "\n".join(rows) + (f"\n\nMeasured {date.today().isoformat()} on {cpu}, Python "
                               f"{platform.python_version()}; median of {args.runs} runs, each in a fresh kernel.\n")
    print(table)
    if args.out:
        args.out.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
