"""Build one of the course's test environments and execute every chapter in it.

  python tools/envs.py colab      # envs/colab.txt: the versions of Google Colab's runtime
  python tools/envs.py minimum    # envs/minimum.txt: every dependency of aecourse at its lower bound

Each run, in a fresh virtual environment _build/envs/NAME:
  1. installs the environment file (the "preinstalled image"; --reuse keeps an existing venv) and the tools that execute notebooks
     (nbval, pytest-xdist; constrained by the file, so they move none of its pins);
  2. clones this repository at HEAD into _build/envs/NAME-src, with the book's ref (_config.yml's
     repository.branch) pointing at HEAD, so that the install below reads the committed packaging;
  3. runs the chapters' setup cell (from tools/notebooks.py, its URL replaced by the clone's file:// URL)
     without a stand-in ``google.colab`` module: it must install nothing (and fail at ``import aecourse``);
  4. prints pip's plan for the cell's install line (``pip install --dry-run --report``) and fails if it
     would change the version of any installed package not in ALLOWED_CHANGES;
  5. runs the setup cell again with a stand-in ``google.colab`` module, so its own ``%pip install`` line
     installs aecourse, then checks again that no installed package changed;
  6. checks the packaging: every file under aecourse/ in the clone is installed, every module imports;
     and runs what nbval does not: a training run with a progress bar, the grader on a tiny notebook;
  7. executes every chapter that _toc.yml lists with nbval (--nbval-lax, in this environment's kernel)
     and prints each chapter's run time and the environment's versions (also in _build/envs/NAME.txt).
Exit status 0 only when every step passed.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402  (tools/notebooks.py: the setup cell)

ENVS = ROOT / "_build" / "envs"

# Preinstalled packages that installing aecourse may upgrade or downgrade, each with the reason.
# Keep it short: an entry needs a test that shows the change is necessary. Empty: aecourse's lower bounds
# are met by every package Colab ships (envs/colab.txt), so pip keeps them all.
ALLOWED_CHANGES: dict[str, str] = {}

# Tools that execute the chapters; their pins come from requirements.txt unless the environment file
# pins them (Colab ships ipykernel and pytest).
TOOLS = ["ipykernel", "pytest", "pytest-xdist", "nbval"]

# The packages whose versions the summary reports.
REPORTED = ["torch", "numpy", "scipy", "scikit-learn", "matplotlib", "ipywidgets", "ipykernel", "tqdm",
            "nbformat", "nbclient", "ipython", "jupyter-client", "pip"]

# Runs a cell the way IPython runs it in a notebook (magics included), with or without a stand-in
# google.colab module. argv: cell file, "colab" or "plain".
RUN_CELL = """
import sys, types
if sys.argv[2] == "colab":
    google, colab = types.ModuleType("google"), types.ModuleType("google.colab")
    google.colab = colab
    sys.modules.update({"google": google, "google.colab": colab})
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
result = shell.run_cell(open(sys.argv[1]).read())
if result.error_in_exec is not None:
    print(f"CELL-ERROR {type(result.error_in_exec).__name__}: {result.error_in_exec}")
    sys.exit(3)
print("CELL-OK")
"""

# Imports every module of the installed package; prints where it lives and which files it has.
CHECK_PACKAGE = """
import importlib, json, pkgutil, sys
from pathlib import Path
import aecourse
pkg = Path(aecourse.__file__).parent
mods = [m.name for m in pkgutil.walk_packages([str(pkg)], "aecourse.")]
for m in mods:
    importlib.import_module(m)
files = sorted(p.relative_to(pkg).as_posix() for p in pkg.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts)

# Smoke tests of the code paths the chapters do not run under nbval: a progress bar (tqdm), and the
# instructor tools (nbformat reads and writes, nbclient executes a notebook in this environment's kernel).
import tempfile
import nbformat
import numpy as np
from aecourse.instructor import grade
from aecourse.models import MLPAutoencoder
X = np.random.default_rng(0).random((32, 8)).astype("float32")
aecourse.train(MLPAutoencoder(8, 2, hidden=(4,)), X, epochs=2, progress=True)
with tempfile.TemporaryDirectory() as tmp:
    code = "import pathlib, aecourse\\npathlib.Path('ran.txt').write_text(aecourse.__file__)"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, Path(tmp) / "tiny.ipynb")
    report = grade(Path(tmp) / "tiny.ipynb", timeout=120)
    ran = Path(tmp) / "ran.txt"
    assert report.problem is None and ran.exists() and "site-packages" in ran.read_text(), report.problem
print(json.dumps({"dir": str(pkg), "modules": mods, "files": files}))
"""


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements file, as {normalised name: version}."""
    out = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)", line.strip())
        if m:
            out[norm(m.group(1))] = m.group(2)
    return out


def chapters(root: Path) -> list[Path]:
    """Every notebook _toc.yml lists, in the book's order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]] + [ch["file"] for part in toc.get("parts", []) for ch in part.get("chapters", [])]
    return [root / f"{f}.ipynb" for f in files if (root / f"{f}.ipynb").exists()]


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.setdefault("AECOURSE_QUIET", "1")
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # ipykernel 6.17's debugger warns at every start
    return env


def run(cmd, *, cwd=None, check=True, capture=False, env=None) -> subprocess.CompletedProcess:
    shown = [str(c) if len(str(c)) < 200 else str(c).strip().splitlines()[0] + " ..." for c in cmd]
    print("+", " ".join(shown), flush=True)
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env or clean_env(), text=True,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.STDOUT if capture else None)
    if check and proc.returncode != 0:
        if capture:
            print(proc.stdout)
        raise SystemExit(f"FAILED (exit {proc.returncode}): {' '.join(str(c) for c in cmd)}")
    return proc


def installed(python: Path) -> dict[str, str]:
    out = run([python, "-m", "pip", "list", "--format=json"], capture=True).stdout
    return {norm(p["name"]): p["version"] for p in json.loads(out[out.index("["):])}


def changes(before: dict[str, str], after: dict[str, str]) -> list[tuple[str, str, str]]:
    return [(n, before[n], after[n]) for n in sorted(after) if n in before and before[n] != after[n]]


def forbidden(found: list[tuple[str, str, str]]) -> list[str]:
    return [f"{n} {old} -> {new}" for n, old, new in found if n not in ALLOWED_CHANGES]


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def build(name: str, workers: int, run_chapters: bool = True, reuse: bool = False) -> int:
    t0 = time.perf_counter()
    env_file = ROOT / "envs" / f"{name}.txt"
    if not env_file.exists():
        raise SystemExit(f"no environment file {env_file}; expected one of "
                         f"{sorted(p.stem for p in (ROOT / 'envs').glob('*.txt'))}")
    venv, src = ENVS / name, ENVS / f"{name}-src"
    python = venv / "bin" / "python"
    timings: dict[str, float] = {}

    step(f"1. {name}: the preinstalled image ({env_file.relative_to(ROOT)}) and the notebook tools")
    t = time.perf_counter()
    file_pins, tool_pins = pins(env_file), pins(ROOT / "requirements.txt")
    if reuse and python.exists():
        print(f"--reuse: keeping {venv}, removing aecourse from it")
        run([python, "-m", "pip", "uninstall", "-q", "-y", "aecourse"], check=False)
    else:
        shutil.rmtree(venv, ignore_errors=True)
        run([sys.executable, "-m", "venv", venv])
    if "pip" not in file_pins:
        # The setup cell runs Colab's pip; an older one (Python 3.11's bundled 23.2) rejects the clone's
        # git+file:/// URL, which has no host.
        run([python, "-m", "pip", "install", "-q", f"pip=={pins(ROOT / 'envs' / 'colab.txt')['pip']}"])
    run([python, "-m", "pip", "install", "-q", "--only-binary", ":all:", "-r", env_file])
    tools = [f"{t_}=={tool_pins[t_]}" for t_ in TOOLS if t_ not in file_pins]
    run([python, "-m", "pip", "install", "-q", "-c", env_file, *tools])
    timings["install the image and tools"] = time.perf_counter() - t
    before = installed(python)
    moved = [f"{n}: file {v}, installed {before.get(n)}" for n, v in file_pins.items() if before.get(n) != v]
    if moved:
        raise SystemExit("the image does not match its file:\n  " + "\n  ".join(moved))

    step("2. a clone of this repository at HEAD")
    head = run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture=True).stdout.strip()
    dirty = run(["git", "-C", ROOT, "status", "--porcelain", "--", "aecourse", "pyproject.toml", "book"],
                capture=True).stdout.strip()
    if dirty:
        print("note: uncommitted changes under aecourse/, book/ or pyproject.toml are not tested; "
              "this tests the last commit:\n" + dirty)
    _, ref = notebooks.repository(ROOT)
    shutil.rmtree(src, ignore_errors=True)
    run(["git", "clone", "-q", "--no-hardlinks", ROOT, src])
    run(["git", "-C", src, "checkout", "-q", "-B", ref, head])
    url = src.resolve().as_uri()                     # file:///.../NAME-src
    cell = notebooks.setup_source(ROOT, url=url, ref=ref)
    requirement = notebooks.install_requirement(url, ref)
    print(f"commit {head[:12]}, installed as the setup cell does: pip install -q \"{requirement}\"")

    with tempfile.TemporaryDirectory() as tmp:     # a directory without aecourse/ in it
        cell_file = Path(tmp) / "setup_cell.py"
        cell_file.write_text(cell)
        runner = Path(tmp) / "run_cell.py"
        runner.write_text(RUN_CELL)

        step("3. the setup cell outside Colab installs nothing")
        plain = run([python, runner, cell_file, "plain"], cwd=tmp, check=False, capture=True)
        print(plain.stdout.strip()[-2000:])
        if "CELL-ERROR ModuleNotFoundError" not in plain.stdout or "aecourse" not in plain.stdout:
            raise SystemExit("outside Colab the setup cell should install nothing, so `import aecourse` "
                             "should fail here; it did not")
        if installed(python) != before:
            raise SystemExit("outside Colab the setup cell changed the installed packages")

        step("4. pip's plan for the setup cell's install line")
        report = Path(tmp) / "plan.json"
        t = time.perf_counter()
        run([python, "-m", "pip", "install", "-q", "--dry-run", "--report", report, requirement], cwd=tmp)
        plan = {norm(i["metadata"]["name"]): i["metadata"]["version"]
                for i in json.loads(report.read_text())["install"]}
        for n, v in sorted(plan.items()):
            what = "new" if n not in before else f"CHANGE from {before[n]}"
            allowed = f" (allowed: {ALLOWED_CHANGES[n]})" if n in ALLOWED_CHANGES else ""
            print(f"  {n}=={v}: {what}{allowed}")
        bad = forbidden([(n, before[n], v) for n, v in plan.items() if n in before and before[n] != v])
        if bad:
            raise SystemExit("installing aecourse would change preinstalled packages (not on the "
                             "allow-list in tools/envs.py):\n  " + "\n  ".join(bad))

        step("5. the setup cell in (stand-in) Colab runs its own install line")
        res = run([python, runner, cell_file, "colab"], cwd=tmp, check=False, capture=True)
        print(res.stdout.strip()[-3000:])
        if res.returncode != 0 or "CELL-OK" not in res.stdout:
            raise SystemExit("the setup cell failed with a stand-in google.colab module")
        timings["setup cell (install aecourse)"] = time.perf_counter() - t
        after = installed(python)
        if "aecourse" not in after:
            raise SystemExit("the setup cell ran but aecourse is not installed")
        bad = forbidden(changes(before, after))
        if bad:
            raise SystemExit("installing aecourse changed preinstalled packages:\n  " + "\n  ".join(bad))
        added = sorted(set(after) - set(before))
        print(f"added: {', '.join(f'{n}=={after[n]}' for n in added)}; no installed package changed")

        step("6. the packaging: every file and module of aecourse/ installed; a progress bar; grading")
        out = run([python, "-c", CHECK_PACKAGE], cwd=tmp, capture=True).stdout
        pkg = json.loads(next(ln for ln in out.splitlines() if ln.startswith('{"dir"')))
        if "site-packages" not in pkg["dir"]:
            raise SystemExit(f"aecourse was imported from {pkg['dir']}, not from the environment")
        tracked = run(["git", "-C", src, "ls-files", "aecourse"], capture=True).stdout.split()
        missing = [f for f in tracked if f.removeprefix("aecourse/") not in pkg["files"]]
        if missing:
            raise SystemExit("files of aecourse/ missing from the installed package: " + ", ".join(missing))
        print(f"{len(tracked)} files, {len(pkg['modules'])} modules imported, from {pkg['dir']}")

    versions = {n: after.get(n, "-") for n in REPORTED}
    rows: list[tuple[str, float]] = []
    if run_chapters:
        step("7. every chapter under nbval")
        books = chapters(src)
        junit = ENVS / f"{name}-junit.xml"
        t = time.perf_counter()
        env = clean_env()
        env.setdefault("MPLBACKEND", "Agg")
        cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
               "--nbval-cell-timeout=900", f"--junitxml={junit}", "-o", "junit_family=xunit1"]
        if workers > 1:
            cmd += ["-n", str(workers), "--dist", "loadfile"]
        proc = run(cmd + [b.relative_to(src) for b in books], cwd=src, check=False, env=env)
        timings["execute the chapters"] = time.perf_counter() - t
        per_file: dict[str, float] = {}
        for case in ET.parse(junit).getroot().iter("testcase"):
            f = case.get("file") or case.get("classname", "")
            per_file[f] = per_file.get(f, 0.0) + float(case.get("time", 0))
        rows = [(b.relative_to(src).as_posix(), per_file.get(b.relative_to(src).as_posix(), 0.0))
                for b in books]
        if proc.returncode != 0:
            print(f"nbval failed in the {name} environment (exit {proc.returncode})")

    lines = [f"environment {name} ({env_file.relative_to(ROOT)}), Python {sys.version.split()[0]}, "
             f"commit {head[:12]}",
             "versions: " + ", ".join(f"{n} {v}" for n, v in versions.items())]
    lines += [f"  {k}: {v:.0f} s" for k, v in timings.items()]
    if rows:
        lines.append(f"chapters ({workers} workers; seconds of each chapter's cells):")
        lines += [f"  {f:55s} {s:6.1f}" for f, s in rows]
        lines.append(f"  {'sum':55s} {sum(s for _, s in rows):6.1f}")
    lines.append(f"total {time.perf_counter() - t0:.0f} s")
    summary = "\n".join(lines)
    (ENVS / f"{name}.txt").write_text(summary + "\n")
    step("summary")
    print(summary, flush=True)
    return 0 if not rows or proc.returncode == 0 else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", help="an environment file in envs/ without .txt: colab or minimum")
    ap.add_argument("--workers", type=int, default=2, help="nbval workers (pytest-xdist), default 2")
    ap.add_argument("--no-chapters", action="store_true", help="stop after the install checks")
    ap.add_argument("--reuse", action="store_true",
                    help="keep an existing venv (only aecourse is removed): quicker, for local reruns")
    args = ap.parse_args(argv)
    return build(args.name, args.workers, run_chapters=not args.no_chapters, reuse=args.reuse)


if __name__ == "__main__":
    sys.exit(main())
