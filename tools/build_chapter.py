"""Build one chapter as a stand-alone mini book, with the book's settings and -W, to catch its warnings fast.

  python tools/build_chapter.py book/my_topic.ipynb     # output in _build/one/<name>/_build/html
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def main(path: str) -> int:
    src = Path(path)
    name = src.stem
    work = ROOT / "_build" / "one" / name
    if work.exists():
        shutil.rmtree(work)
    (work / "book").mkdir(parents=True)
    shutil.copy(src, work / "book" / src.name)
    shutil.copy(ROOT / "book" / "references.bib", work / "book" / "references.bib")
    shutil.copytree(ROOT / "book" / "_ext", work / "book" / "_ext")
    for extra in (ROOT / "book").glob("*.md"):
        pass  # chapters stand alone; cross-chapter links become warnings here only if present
    (work / "book" / "bib.md").write_text("# References\n\n```{bibliography}\n```\n")
    shutil.copy(ROOT / "_config.yml", work / "_config.yml")
    toc = {"format": "jb-book", "root": f"book/{name}", "chapters": [{"file": "book/bib"}]}
    (work / "_toc.yml").write_text(yaml.safe_dump(toc))
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(work), "-W", "-n", "--keep-going"]
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
