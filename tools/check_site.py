"""Static checks of the built website: no asset from an http(s) host, every internal link resolves, and
every chapter page shows at least one figure per plotting cell of its notebook.

  python tools/check_site.py _build/html

Exit status 1 on any problem. The browser-level checks live in tests/website/.
"""
from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

ASSET_ATTRS = {"script": "src", "img": "src", "link": "href", "iframe": "src", "source": "src", "video": "src",
               "audio": "src", "embed": "src"}


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.assets: list[tuple[str, str]] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.output_images = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        # Figures a notebook's code drew: myst-nb writes cell outputs' images to _images/.
        if tag == "img" and "_images/" in (a.get("src") or ""):
            self.output_images += 1
        attr = ASSET_ATTRS.get(tag)
        if attr and a.get(attr):
            # <link rel="canonical"> etc. are not loaded; stylesheets, icons, preloads are.
            if tag == "link" and not re.search(r"stylesheet|icon|preload|modulepreload|manifest", a.get("rel") or ""):
                pass
            else:
                self.assets.append((tag, a[attr]))
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])


def check(site: Path) -> list[str]:
    problems: list[str] = []
    site = site.resolve()
    # Theme template fragments under _static are not pages.
    pages = sorted(p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts)
    if not pages:
        return [f"no HTML pages under {site}; build the book first (make book)"]
    parsed = {}
    for page in pages:
        c = _Collector()
        c.feed(page.read_text(encoding="utf-8", errors="replace"))
        parsed[page] = c
    for page, c in parsed.items():
        rel = page.relative_to(site)
        for tag, url in c.assets:
            if re.match(r"^(https?:)?//", url):
                problems.append(f"{rel}: <{tag}> loads {url} from the network")
            elif not url.startswith(("data:", "#")):
                target = (page.parent / unquote(urlparse(url).path)).resolve()
                if not target.exists():
                    problems.append(f"{rel}: <{tag}> asset {url} does not exist")
        for url in c.links:
            u = urlparse(url)
            if u.scheme or url.startswith(("//", "mailto:", "javascript:")):
                continue
            target = page if not u.path else (page.parent / unquote(u.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"{rel}: broken link {url}")
                continue
            if u.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else set()
                if unquote(u.fragment) not in ids:
                    problems.append(f"{rel}: link {url} points at a missing anchor")
    return problems


# A plotting cell shows its figure with a top-level plt.show() (the book's convention, CONTRIBUTING.md).
# A widget cell (ipywidgets' interact) draws into the widget's output, which the page holds as widget
# state, not as an image; its callback's plt.show() is indented anyway.
PLOT_CALL = re.compile(r"(?m)^plt\.show\(\)")
WIDGET_CALL = re.compile(r"\binteract(ive)?(_manual)?\(")
ROOT = Path(__file__).resolve().parents[1]


def plotting_cells(notebook: Path) -> int:
    """How many code cells of a notebook show a figure with a top-level ``plt.show()``."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
               for c in nb["cells"] if c["cell_type"] == "code"]
    return sum(1 for s in sources if PLOT_CALL.search(s) and not WIDGET_CALL.search(s))


def figure_problems(site: Path, root: Path = ROOT) -> list[str]:
    """A chapter page with fewer output images than its notebook has plotting cells lost figures.

    Every edition is checked: the site root and each folder holding a translated book (ko/).

    This is what a kernel with a non-interactive matplotlib backend (``MPLBACKEND=Agg``) does to a build:
    every cell runs, nothing fails, and no figure reaches the page.
    """
    problems = []
    editions = [site] + [d for d in sorted(site.iterdir()) if d.is_dir() and (d / "book").is_dir()]
    for notebook, edition in ((n, e) for n in sorted((root / "book").glob("*.ipynb")) for e in editions):
        page = edition / "book" / f"{notebook.stem}.html"
        if not page.exists():
            continue  # not in this build (the link and toc checks cover missing pages)
        c = _Collector()
        c.feed(page.read_text(encoding="utf-8", errors="replace"))
        expected = plotting_cells(notebook)
        if c.output_images < expected:
            problems.append(f"{page.relative_to(site)}: {c.output_images} figures on the page, but "
                            f"{notebook.relative_to(root)} has {expected} plotting cells (was the kernel's "
                            "matplotlib backend non-interactive, e.g. MPLBACKEND=Agg?)")
    return problems


def main(argv: list[str]) -> int:
    site = Path(argv[1] if len(argv) > 1 else "_build/html")
    problems = check(site) + figure_problems(site)
    for p in problems:
        print(p)
    n = len(list(site.rglob("*.html")))
    print(f"checked {n} pages: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
