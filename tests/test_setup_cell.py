"""The chapters' setup cell: in (a stand-in) Colab it runs the install line it shows, elsewhere it installs
nothing; and aecourse's progress bars never use ipywidgets 8 in Colab.

The cell runs in IPython, in a subprocess, with ``%pip`` replaced by a recorder: these tests check what the
cell asks pip to do. ``make colab-env`` / ``make min-env`` (tools/envs.py) run the same cell with the real
``%pip`` against a local clone of the repository.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402

# Runs a cell in IPython with %pip recorded instead of run; prints the recorded lines as JSON.
RUNNER = """
import json, sys, types
if sys.argv[2] == "colab":
    google, colab = types.ModuleType("google"), types.ModuleType("google.colab")
    google.colab = colab
    sys.modules.update({"google": google, "google.colab": colab})
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
calls = []
shell.register_magic_function(lambda line: calls.append(line), magic_kind="line", magic_name="pip")
result = shell.run_cell(open(sys.argv[1]).read())
print(json.dumps({"calls": calls, "error": repr(result.error_in_exec) if result.error_in_exec else None,
                  "device": str(shell.user_ns.get("DEVICE"))}))
"""

LOCAL_URL, LOCAL_REF = "file:///tmp/aecourse-clone", "main"


def run_cell(tmp_path, source: str, mode: str) -> dict:
    cell, runner = tmp_path / "cell.py", tmp_path / "runner.py"
    cell.write_text(source)
    runner.write_text(RUNNER)
    env = {"AECOURSE_QUIET": "1", "AECOURSE_DEVICE": "cpu", "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, str(runner), str(cell), mode], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def shown_install_line(source: str) -> str:
    """The arguments of the ``%pip`` line the cell shows."""
    lines = [ln.strip() for ln in source.splitlines() if ln.strip().startswith("%pip ")]
    assert len(lines) == 1, lines
    return lines[0].removeprefix("%pip ")


def test_in_colab_the_cell_runs_the_install_line_it_shows(tmp_path):
    source = notebooks.setup_source(ROOT, url=LOCAL_URL, ref=LOCAL_REF)
    out = run_cell(tmp_path, source, "colab")
    assert out["error"] is None
    assert out["calls"] == [shown_install_line(source)]
    assert out["calls"][0] == f'install -q "aecourse @ git+{LOCAL_URL}@{LOCAL_REF}"'
    assert out["device"] == "cpu"


def test_outside_colab_the_cell_installs_nothing(tmp_path):
    out = run_cell(tmp_path, notebooks.setup_source(ROOT, url=LOCAL_URL, ref=LOCAL_REF), "plain")
    assert out["error"] is None
    assert out["calls"] == []
    assert out["device"] == "cpu"


def test_the_book_cell_installs_from_the_configured_repository():
    url, ref = notebooks.repository(ROOT)
    source = notebooks.setup_source(ROOT)
    assert shown_install_line(source) == f'install -q "aecourse @ git+{url}@{ref}"'
    # The local URL replaces only the URL and ref: otherwise the cell is the book's cell, line for line.
    local = notebooks.setup_source(ROOT, url=LOCAL_URL, ref=LOCAL_REF)
    assert local.replace(f"{LOCAL_URL}@{LOCAL_REF}", f"{url}@{ref}") == source


def test_the_install_line_does_not_upgrade_preinstalled_packages():
    # pip's default strategy (only-if-needed) keeps a preinstalled package that meets the lower bound;
    # --upgrade / -U or an eager strategy would replace Colab's torch, numpy and ipywidgets.
    args = shown_install_line(notebooks.setup_source(ROOT)).split()
    assert not {"-U", "--upgrade", "--force-reinstall", "--upgrade-strategy", "-I", "--ignore-installed"} & set(args)
    assert not any(re.match(r"--upgrade-strategy=eager", a) for a in args)


@pytest.mark.parametrize("colab,major,expected", [
    (True, 8, "tqdm.std"),          # Colab's front end cannot render ipywidgets 8: plain text bars
    (True, 7, "tqdm.auto"),         # Colab's own ipywidgets 7.7.1: notebook bars render
    (False, 8, "tqdm.auto"),        # Jupyter elsewhere: tqdm chooses
    (True, None, "tqdm.auto"),      # no ipywidgets: tqdm.auto falls back to text itself
])
def test_progress_bars_never_use_ipywidgets_8_in_colab(monkeypatch, colab, major, expected):
    import tqdm.auto
    import tqdm.std

    from aecourse import utils

    monkeypatch.setattr(utils, "in_colab", lambda: colab)
    monkeypatch.setattr(utils, "widgets_major", lambda: major)
    want = {"tqdm.std": tqdm.std.tqdm, "tqdm.auto": tqdm.auto.tqdm}[expected]
    assert utils.progress_bar_class() is want


def test_widgets_major_reads_the_installed_version():
    import ipywidgets

    from aecourse.utils import widgets_major

    assert widgets_major() == int(ipywidgets.__version__.split(".")[0])
