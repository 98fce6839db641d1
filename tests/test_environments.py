"""The two test environments (envs/colab.txt, envs/minimum.txt) against pyproject.toml's lower bounds, and
the plan check of tools/envs.py (which builds them: make colab-env, make min-env)."""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import envs  # noqa: E402

DEPS = [Requirement(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]


def lower_bound(req: Requirement) -> str:
    bounds = [s.version for s in req.specifier if s.operator == ">="]
    assert len(bounds) == 1, f"{req}: expected exactly one >= bound"
    return bounds[0]


def test_dependencies_have_lower_bounds_only():
    # An upper bound or a pin would make pip replace a newer preinstalled package.
    for req in DEPS:
        assert {s.operator for s in req.specifier} == {">="}, f"{req}: lower bounds only"


def test_the_minimum_environment_pins_every_dependency_at_its_lower_bound():
    pins = envs.pins(ROOT / "envs" / "minimum.txt")
    assert {envs.norm(r.name) for r in DEPS} == set(pins), "envs/minimum.txt pins exactly the dependencies"
    for req in DEPS:
        assert Version(pins[envs.norm(req.name)]) == Version(lower_bound(req)), (
            f"{req.name}: pyproject.toml says >={lower_bound(req)}, envs/minimum.txt tests "
            f"{pins[envs.norm(req.name)]}; keep them equal")


def test_colab_versions_meet_every_lower_bound():
    # So that installing aecourse into Colab changes none of Colab's packages.
    pins = envs.pins(ROOT / "envs" / "colab.txt")
    for req in DEPS:
        have = pins.get(envs.norm(req.name))
        assert have is not None, f"envs/colab.txt does not say which {req.name} Colab has"
        assert req.specifier.contains(have, prereleases=True), f"Colab's {req.name} {have} fails {req}"


def test_colab_file_names_its_source_and_the_course_packages():
    text = (ROOT / "envs" / "colab.txt").read_text()
    assert "github.com/googlecolab/backend-info" in text and re.search(r"commit [0-9a-f]{40}", text)
    pins = envs.pins(ROOT / "envs" / "colab.txt")
    for name in ["torch", "numpy", "scipy", "scikit-learn", "matplotlib", "ipywidgets", "ipykernel", "tqdm"]:
        assert name in pins
    assert pins["ipywidgets"].startswith("7."), "Colab's front end renders ipywidgets 7"


def test_allowed_changes_each_give_a_reason():
    for name, why in envs.ALLOWED_CHANGES.items():
        assert name == envs.norm(name) and len(why.split()) >= 4, name


def test_plan_check_rejects_an_upgrade_and_accepts_new_packages(monkeypatch):
    before = {"torch": "2.11.0", "ipywidgets": "7.7.1"}
    after = {"torch": "2.11.0", "ipywidgets": "8.1.9", "aecourse": "0.1.0"}
    assert envs.changes(before, after) == [("ipywidgets", "7.7.1", "8.1.9")]
    assert envs.forbidden(envs.changes(before, after)) == ["ipywidgets 7.7.1 -> 8.1.9"]
    monkeypatch.setitem(envs.ALLOWED_CHANGES, "ipywidgets", "a reason stated in a test")
    assert envs.forbidden(envs.changes(before, after)) == []
    assert envs.changes(before, {**before, "aecourse": "0.1.0"}) == []


def test_pins_reads_requirement_lines(tmp_path):
    f = tmp_path / "r.txt"
    f.write_text("# comment\nJinja2==3.1.6\ntyping_extensions==4.16.0  # why\n\nnumpy>=1\n")
    assert envs.pins(f) == {"jinja2": "3.1.6", "typing-extensions": "4.16.0"}


def test_every_chapter_in_the_toc_is_executed():
    listed = envs.chapters(ROOT)
    assert listed and set(listed) == set((ROOT / "book").glob("*.ipynb"))


@pytest.mark.parametrize("target", ["colab-env", "min-env"])
def test_make_test_runs_both_environments(target):
    makefile = (ROOT / "Makefile").read_text()
    test_line = re.search(r"^test:(.*)$", makefile, re.M).group(1).split()
    assert target in test_line
