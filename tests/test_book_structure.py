"""The book's structure: clean notebooks, the shared setup cell, the table of contents, the config."""
import importlib.util
import json
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("notebooks_tool", ROOT / "tools" / "notebooks.py")
nbtool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nbtool)

NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def test_there_are_chapters():
    assert NOTEBOOKS, "book/ holds no notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    stored = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not stored, f"{path.name}: code cells {stored} carry outputs; run tools/notebooks.py sync"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_listed_in_toc(path):
    assert f"book/{path.stem}" in nbtool.toc_files(ROOT), f"{path.name} is missing from _toc.yml"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_is_the_shared_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    cell = nbtool.first_code_cell(nb)
    assert cell is not None and cell.source == nbtool.setup_source(ROOT), (
        f"{path.name}: the first code cell must be the setup cell; run tools/notebooks.py sync")


def test_setup_cell_installs_at_the_books_ref_only_in_colab():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    src = nbtool.setup_source(ROOT)
    url, ref = cfg["repository"]["url"], cfg["repository"]["branch"]
    assert f"git+{url}@{ref}" in src
    assert 'if "google.colab" in sys.modules:' in src and "aecourse.setup(seed=0)" in src


def test_every_toc_entry_exists():
    for entry in nbtool.toc_files(ROOT):
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".ipynb", ".md")), f"{entry} in _toc.yml does not exist"


def test_problems_detects_a_dirty_notebook(tmp_path):
    """The structure check itself can fail: a notebook with outputs and no setup cell is reported."""
    (tmp_path / "book").mkdir()
    for name in ("_config.yml", "_toc.yml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="2")]
    nbformat.write(nb, tmp_path / "book" / "stray.ipynb")
    found = nbtool.problems(tmp_path)
    assert any("carry stored outputs" in f for f in found)
    assert any("not the setup cell" in f for f in found)
    assert any("not listed in _toc.yml" in f for f in found)


def test_config_is_strict_and_offline():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["execute"]["allow_errors"] is False
    assert 0 < cfg["execute"]["timeout"] <= 600
    assert cfg["repository"]["path_to_book"] == ""
    assert "sphinx-mathjax-offline" in cfg["sphinx"]["extra_extensions"]


def test_references_parse_with_unique_keys():
    """A broken entry (a brace lost in a merge) fails the whole book build; catch it in the unit tests."""
    import re

    from pybtex.database import parse_file

    text = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\{([^,]+),", text, flags=re.M)
    assert len(keys) == len(set(keys)), sorted(k for k in set(keys) if keys.count(k) > 1)
    assert len(parse_file(str(ROOT / "book" / "references.bib")).entries) == len(keys)
