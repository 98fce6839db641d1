"""Maintainer tool for the book's notebooks.

  python tools/notebooks.py sync     # stamp the setup cell (from _config.yml) into every chapter; strip outputs
  python tools/notebooks.py check    # exit 1 if a chapter has outputs, a stale setup cell, or is not in the toc
  python tools/notebooks.py new NAME # create book/NAME.ipynb with the setup cell

The setup cell is generated from ``repository.url`` and ``repository.branch`` in _config.yml, so the
repository is named in one place and every chapter installs aecourse at the book's ref in Colab.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"


# A first code cell holding only one of these is a placeholder for the setup cell (see CONTRIBUTING.md).
PLACEHOLDERS = {"# setup", "#setup", ""}


def repository(root: Path = ROOT) -> tuple[str, str]:
    """The repository's URL and the ref (branch) the book installs aecourse from, from _config.yml."""
    cfg = yaml.safe_load((root / "_config.yml").read_text())
    return cfg["repository"]["url"], cfg["repository"]["branch"]


def install_requirement(url: str, ref: str) -> str:
    """The pip requirement the setup cell installs: aecourse from the repository at ``ref``."""
    return f"aecourse @ git+{url}@{ref}"


def setup_source(root: Path = ROOT, url: str | None = None, ref: str | None = None) -> str:
    """The setup cell. ``url``/``ref`` replace _config.yml's (tools/envs.py installs from a local clone).

    In Colab the cell installs aecourse with pip's default strategy (only-if-needed), so a preinstalled
    package that meets aecourse's lower bounds is kept; elsewhere it installs nothing.
    """
    cfg_url, cfg_ref = repository(root)
    requirement = install_requirement(url or cfg_url, ref or cfg_ref)
    return (
        "# Setup, the same in every chapter: in Colab, install aecourse at this book's version;\n"
        "# then seed everything and pick the device (a GPU when there is one).\n"
        "import sys\n"
        "if \"google.colab\" in sys.modules:\n"
        f"    %pip install -q \"{requirement}\"\n"
        "import aecourse\n"
        "DEVICE = aecourse.setup(seed=0)"
    )


def chapters(root: Path = ROOT) -> list[Path]:
    return sorted(p for p in (root / "book").glob("*.ipynb"))


def toc_files(root: Path = ROOT) -> set[str]:
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = {toc["root"]}
    for part in toc.get("parts", []):
        for ch in part.get("chapters", []):
            files.add(ch["file"])
    return files


def first_code_cell(nb):
    return next((c for c in nb.cells if c.cell_type == "code"), None)


def sync(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    cell = first_code_cell(nb)
    src = setup_source()
    if cell is not None and cell.source.strip().lower() in PLACEHOLDERS:
        cell.source = src
    elif cell is None or "aecourse.setup(" not in cell.source:
        nb.cells.insert(next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells)),
                        nbformat.v4.new_code_cell(src))
    else:
        cell.source = src
    # Drop leftover placeholders (a placeholder that sat after an already stamped setup cell).
    setup_cell = first_code_cell(nb)
    nb.cells = [c for c in nb.cells if c is setup_cell or c.cell_type != "code"
                or c.source.strip().lower() not in PLACEHOLDERS - {""}]
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)


def problems(root: Path = ROOT) -> list[str]:
    out, src, toc = [], setup_source(root), toc_files(root)
    for path in chapters(root):
        rel = path.relative_to(root).with_suffix("").as_posix()
        nb = nbformat.read(path, as_version=4)
        stored = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("outputs")]
        if stored:
            out.append(f"{rel}: code cells {stored} carry stored outputs (run tools/notebooks.py sync)")
        cell = first_code_cell(nb)
        if cell is None or cell.source != src:
            out.append(f"{rel}: the first code cell is not the setup cell (run tools/notebooks.py sync)")
        if rel not in toc:
            out.append(f"{rel}: not listed in _toc.yml")
    return out


def main(argv: list[str]) -> int:
    cmd = argv[1] if len(argv) > 1 else "check"
    if cmd == "sync":
        targets = [Path(a) for a in argv[2:]] or chapters()
        for p in targets:
            sync(p)
        print(f"synced {len(targets)} notebooks")
        return 0
    if cmd == "new":
        path = BOOK / f"{argv[2]}.ipynb"
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {argv[2]}"),
                                             nbformat.v4.new_code_cell(setup_source())])
        nbformat.write(nb, path)
        sync(path)
        print(f"created {path}")
        return 0
    if cmd == "check":
        found = problems()
        print("\n".join(found) or "notebooks ok")
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
