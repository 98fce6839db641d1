"""Every page of the built site, loaded in headless Chromium with the network closed, as a reader sees it."""
import re
from pathlib import Path

import pytest

from .conftest import ROOT, SHOTS, SITE, plotting_cells

# Every page of both editions (the Korean one under ko/), without theme fragments, the index and search.
PAGES = sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")
               if not any(part.startswith("_") for part in p.relative_to(SITE).parts)
               and p.stem not in ("genindex", "search"))
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("*.ipynb"))

# Known harmless messages, each with the reason it is harmless.
ALLOWED = [
    # sphinx-thebe and the book theme both declare this global on pages with launch buttons.
    re.compile(r"THEBE_JS_URL.*(already been declared|Identifier)"),
    # The ipywidgets HTML manager 1.0.6 calls MathJax 2's MathJax.Hub.Queue; the site uses MathJax 3,
    # which has no Hub, so the call fails after the widgets have rendered.
    re.compile(r"Hub\.Queue|MathJax\.Hub|reading 'Queue'"),
    # pydata-sphinx-theme reads the reader's saved light/dark choice; a fresh browser has none.
    re.compile(r"Got invalid theme mode: \. Resetting to auto"),
    # The widget manager's icon fonts are not vendored; widgets render without their icons.
    re.compile(r"\.(woff2?|ttf|eot)\b.*(404|Failed to load)|Failed to load resource.*404"),
]


def _allowed(message: str) -> bool:
    return any(p.search(message) for p in ALLOWED)


def test_site_has_every_chapter():
    built = {Path(p).stem for p in PAGES}
    missing = [c for c in CHAPTERS if c not in built]
    assert not missing, f"chapters without a page: {missing}"


@pytest.mark.parametrize("page_path", PAGES)
def test_page_loads_offline_and_renders(page_path, server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    external, errors, failed = [], [], []

    def route(r):
        url = r.request.url
        if url.startswith(server) or url.startswith(("data:", "blob:", "about:")):
            return r.continue_()
        external.append(url)
        return r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("requestfailed", lambda r: failed.append(r.url) if r.url.startswith(server) and not re.search(r"\.(woff2?|ttf|eot)$", r.url) else None)
    page.goto(f"{server}/{page_path}", wait_until="load")
    page.wait_for_timeout(300)
    html = (SITE / page_path).read_text(encoding="utf-8")

    if re.search(r'class="[^"]*\bmath\b', html):
        page.wait_for_function("document.querySelectorAll('mjx-container').length > 0", timeout=15000)
        raw = page.evaluate("""() => [...document.querySelectorAll('.math')]
            .filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 60))""")
        assert not raw, f"{page_path}: math left as raw TeX: {raw[:3]}"

    if "application/vnd.jupyter.widget-view+json" in html:
        page.wait_for_function("document.querySelectorAll('.jupyter-widgets, .widget-inline-hbox, .widget-box').length > 0",
                               timeout=15000)
        empty = page.evaluate("""() => [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
            .filter(s => { const p = s.parentElement; return !p || p.getBoundingClientRect().height < 5; }).length""")
        assert empty == 0, f"{page_path}: {empty} widget areas stayed empty"

    broken = page.evaluate("""() => [...document.images]
        .filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src'))""")
    assert not broken, f"{page_path}: images that did not load: {broken}"
    assert not external, f"{page_path}: requests to the network: {external[:5]}"
    assert not failed, f"{page_path}: local requests that failed: {failed[:5]}"
    bad = [e for e in errors if not _allowed(e)]
    assert not bad, f"{page_path}: page errors: {bad[:5]}"

    stem = Path(page_path).stem
    if stem in CHAPTERS:
        # Every figure has a text alternative (its caption), never just a file name. Images drawn inside a
        # widget's saved state are exempt: the widget manager renders them, and each widget is paired with a
        # static, captioned figure.
        no_alt = page.evaluate("""() => [...document.images]
            .filter(i => !i.closest('.jupyter-widgets, .widget-output'))
            .filter(i => !i.alt || /_images\\/|\\.png$/.test(i.alt)).map(i => (i.getAttribute('src') || '').slice(0, 80))""")
        assert not no_alt, f"{page_path}: figures without alt text: {no_alt[:3]}"
        # ... and the alt-text check above is not vacuous: the figures are there, as many as the chapter draws.
        shown = page.evaluate("""() => [...document.images]
            .filter(i => (i.getAttribute('src') || '').includes('_images/') && i.naturalWidth > 0).length""")
        expected = plotting_cells(ROOT / "book" / f"{stem}.ipynb")
        assert shown >= expected, f"{page_path}: {shown} figures rendered, the notebook has {expected} plotting cells"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{stem}.png"), full_page=False)
    context.close()


def test_launch_buttons_open_the_right_notebook_in_colab():
    import yaml

    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    owner_repo = repo["url"].removeprefix("https://github.com/")
    for chapter in CHAPTERS:
        html = (SITE / "book" / f"{chapter}.html").read_text(encoding="utf-8")
        m = re.search(r'href="(https://colab\.research\.google\.com/[^"]+)"', html)
        assert m, f"{chapter}: no Colab launch button"
        assert m.group(1) == (
            f"https://colab.research.google.com/github/{owner_repo}/blob/{repo['branch']}/book/{chapter}.ipynb"), m.group(1)
