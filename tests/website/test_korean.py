"""The Korean edition (_build/html/ko), opened in headless Chromium: translated, no raw markup, the same
numbers as the English pages, and a language switch both ways. (test_browser.py loads every page of both
editions for the offline, math, widget and figure checks.)"""
import re
from collections import Counter

import pytest

from .conftest import ROOT, SITE

KO = SITE / "ko"
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("*.ipynb"))
PAGES = sorted(p.stem for p in (ROOT / "book").glob("*.md")) + CHAPTERS
HANGUL = re.compile(r"[\uac00-\ud7a3]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# MyST left unparsed: a role or directive in the visible text means a translation broke its markup.
RAW_MYST = re.compile(r"\{(glue|cite|doc|ref|eq|numref|exercise|solution)[a-z:\-]*\}|`{3}|^:::|\$\$", re.M)

# Visible prose blocks of the article, with what is not prose removed: code, cell outputs, formulas,
# citations (author names), glued numbers, the bibliography and the language switch.
PROSE = """() => {
  const main = document.querySelector('main') || document.body;
  const skip = 'pre, code, .cell_output, .cell_input, mjx-container, .math, .bibtex-citation, '
    + '.pasted-text, .citation-list, .bibliography, .aecourse-language-switch, .headerlink, .toctree-wrapper, '
    + '.sd-card, script, style';
  return [...main.querySelectorAll('p, li, h1, h2, h3, h4, dt, dd, th, td, .admonition-title, figcaption')]
    .filter(el => !el.closest(skip))
    .map(el => { const c = el.cloneNode(true); c.querySelectorAll(skip).forEach(x => x.remove());
                 c.querySelectorAll('p, li, ul, ol, dl').forEach(x => x.remove());  // counted on their own
                 return c.innerText.trim(); })
    .filter(t => t.length > 0);
}"""


def english_left(text: str) -> bool:
    """A block reads as English: several Latin words in a sentence and not one Hangul syllable.
    (Identifiers such as a notebook's name in the run-time table have no spaces and are not prose.)"""
    return not HANGUL.search(text) and len(LATIN_WORD.findall(text)) >= 4 and text.count(" ") >= 3


def test_every_page_has_a_korean_edition():
    missing = [p for p in PAGES if not (KO / "book" / f"{p}.html").exists()]
    assert not missing, f"pages without a Korean edition (make book builds it): {missing}"
    assert (KO / "index.html").exists()


@pytest.mark.parametrize("page", PAGES)
def test_korean_page_is_translated_with_no_raw_markup(page, server, browser):
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(f"{server}/ko/book/{page}.html", wait_until="load")
    assert tab.evaluate("document.documentElement.lang") == "ko"
    blocks = tab.evaluate(PROSE)
    assert blocks, f"{page}: no prose found"
    english = [b[:80] for b in blocks if english_left(b)]
    assert not english, f"ko/book/{page}: {len(english)} blocks left in English, e.g. {english[:3]}"
    visible = tab.evaluate("""() => { const c = (document.querySelector('main') || document.body).cloneNode(true);
        c.querySelectorAll('pre, code, script, style').forEach(x => x.remove()); return c.innerText; }""")
    raw = sorted({m.group(0) for m in RAW_MYST.finditer(visible)})
    assert not raw, f"ko/book/{page}: raw MyST markup in the text: {raw}"
    assert HANGUL.search(tab.title()), f"ko/book/{page}: the title is not Korean: {tab.title()!r}"
    context.close()


@pytest.mark.parametrize("page", PAGES)
def test_same_numbers_as_the_english_page(page, server, browser):
    context = browser.new_context()
    tab = context.new_page()
    numbers = {}
    for edition, url in (("en", f"{server}/book/{page}.html"), ("ko", f"{server}/ko/book/{page}.html")):
        tab.goto(url, wait_until="load")
        numbers[edition] = Counter(tab.evaluate(
            "() => [...document.querySelectorAll('.pasted-text')].map(e => e.textContent.trim())"))
    context.close()
    assert numbers["ko"] == numbers["en"], (
        f"{page}: glued numbers differ; only in English {sorted((numbers['en'] - numbers['ko']).elements())[:5]}, "
        f"only in Korean {sorted((numbers['ko'] - numbers['en']).elements())[:5]}")
    if page in CHAPTERS or page == "results":
        assert numbers["en"], f"{page}: no glued numbers at all"


@pytest.mark.parametrize("page", ["what_is_an_autoencoder", "glossary"])
def test_language_switch_goes_both_ways(page, server, browser):
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(f"{server}/book/{page}.html", wait_until="load")
    tab.click("p.aecourse-language-switch a")
    tab.wait_for_load_state("load")
    assert tab.url.endswith(f"/ko/book/{page}.html") and tab.evaluate("document.documentElement.lang") == "ko"
    tab.click("p.aecourse-language-switch a")
    tab.wait_for_load_state("load")
    assert tab.url.endswith(f"/book/{page}.html") and "/ko/" not in tab.url
    context.close()


def test_korean_colab_buttons_open_korean_notebooks():
    import yaml

    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    owner_repo = repo["url"].removeprefix("https://github.com/")
    for chapter in CHAPTERS:
        html = (KO / "book" / f"{chapter}.html").read_text(encoding="utf-8")
        m = re.search(r'href="(https://colab\.research\.google\.com/[^"]+)"', html)
        assert m, f"ko/{chapter}: no Colab launch button"
        assert m.group(1) == (f"https://colab.research.google.com/github/{owner_repo}/blob/{repo['branch']}/"
                              f"locales/ko/book/{chapter}.ipynb"), m.group(1)
        assert (ROOT / "locales" / "ko" / "book" / f"{chapter}.ipynb").exists()
