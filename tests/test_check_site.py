"""The static site check finds network assets, missing files, broken links and missing anchors."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("check_site", ROOT / "tools" / "check_site.py")
check_site = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_site)


def test_clean_site_passes(tmp_path):
    (tmp_path / "a.html").write_text('<h1 id="top">A</h1><a href="b.html#sec">b</a><script src="x.js"></script>')
    (tmp_path / "b.html").write_text('<h2 id="sec">B</h2><a href="a.html">a</a><a href="https://example.org">ext</a>')
    (tmp_path / "x.js").write_text("")
    assert check_site.check(tmp_path) == []


def test_problems_are_reported(tmp_path):
    (tmp_path / "a.html").write_text(
        '<script src="https://cdn.example.org/m.js"></script><img src="//host/i.png">'
        '<link rel="stylesheet" href="missing.css"><a href="nowhere.html">x</a><a href="b.html#gone">y</a>')
    (tmp_path / "b.html").write_text('<p id="here">B</p>')
    found = "\n".join(check_site.check(tmp_path))
    assert "loads https://cdn.example.org/m.js from the network" in found
    assert "loads //host/i.png from the network" in found
    assert "missing.css does not exist" in found
    assert "broken link nowhere.html" in found
    assert "b.html#gone points at a missing anchor" in found


def _notebook(path, sources):
    cells = [{"cell_type": "code", "source": s, "metadata": {}, "outputs": [], "execution_count": None}
             for s in sources]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def test_plotting_cells_counts_top_level_show_only(tmp_path):
    nb = tmp_path / "ch.ipynb"
    _notebook(nb, ["plt.plot([1])\nplt.show()", "def cb(k):\n    plt.plot([k])\n    plt.show()",
                   "x = 1", ["fig, ax = plt.subplots()\n", "plt.show()\n"],
                   "interact(cb, k=(0, 3))\nplt.show()"])
    assert check_site.plotting_cells(nb) == 2


def test_missing_figures_are_reported(tmp_path):
    root, site = tmp_path / "repo", tmp_path / "site"
    (root / "book").mkdir(parents=True)
    (site / "book").mkdir(parents=True)
    _notebook(root / "book" / "ch.ipynb", ["plt.show()", "plt.show()"])
    page = site / "book" / "ch.html"
    page.write_text('<img src="../_images/a.png"><img src="../_static/logo.png">')
    found = check_site.figure_problems(site, root)
    assert len(found) == 1 and "1 figures on the page" in found[0] and "2 plotting cells" in found[0]
    page.write_text('<img src="../_images/a.png"><img src="../_images/b.png">')
    assert check_site.figure_problems(site, root) == []
    (site / "ko" / "book").mkdir(parents=True)
    (site / "ko" / "book" / "ch.html").write_text('<img src="../_images/a.png">')
    assert ["ko/book/ch.html" in p for p in check_site.figure_problems(site, root)] == [True]
