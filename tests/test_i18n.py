"""The Korean edition's tools: placing translations in notebooks, markup checks, catalog checks, links."""
import importlib.util
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

ROOT = Path(__file__).resolve().parents[1]


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


i18n = _load("i18n_tool", ROOT / "tools" / "i18n.py")
editions = _load("editions_ext", ROOT / "book" / "_ext" / "editions.py")


def test_edition_urls_point_at_the_same_page():
    assert editions.edition_url("book/intro", "en", "ko") == "../ko/book/intro.html"
    assert editions.edition_url("book/intro", "ko", "en") == "../../book/intro.html"
    assert editions.edition_url("genindex", "en", "ko") == "ko/genindex.html"
    assert editions.edition_url("genindex", "ko", "en") == "../genindex.html"


def test_translate_cells_places_paragraphs_list_items_and_table_cells():
    cells = ["# A title\n\nA paragraph that\n  spans two lines.\n\n- first item\n- second\n  item",
             "| head | other |\n| --- | --- |\n| x | y |"]
    occurrences = [(0, 0, "A title"), (0, 2, "A paragraph that spans two lines."), (0, 5, "first item"),
                   (0, 6, "second item"), (1, 0, "head"), (1, 0, "other"), (1, 0, "x"), (1, 0, "y")]
    done = {"A title": "제목", "A paragraph that spans two lines.": "두 줄에 걸친 문단.",
            "first item": "첫째", "second item": "둘째", "head": "머리", "other": "다른", "x": "엑스", "y": "와이"}
    out = i18n.translate_cells(cells, occurrences, done, "test")
    assert out[0] == "# 제목\n\n두 줄에 걸친 문단.\n\n- 첫째\n- 둘째"
    assert out[1] == "| 머리 | 다른 |\n| --- | --- |\n| 엑스 | 와이 |"


def test_translate_cells_keeps_untranslated_text_and_searches_forward():
    # The same words twice: each occurrence is searched from its own line, after the previous one.
    cells = ["same words\n\nsame words"]
    out = i18n.translate_cells(cells, [(0, 0, "same words"), (0, 2, "same words")], {"same words": "같은 말"}, "t")
    assert out == ["같은 말\n\n같은 말"]
    assert i18n.translate_cells(["keep me"], [(0, 0, "keep me")], {}, "t") == ["keep me"]


def test_translate_cells_fails_loudly():
    with pytest.raises(ValueError, match="message not found"):
        i18n.translate_cells(["nothing here"], [(0, 0, "missing text")], {"missing text": "없음"}, "t")
    # Two equal cells on one table line are one catalog location: the second copy must not stay English.
    with pytest.raises(ValueError, match="English text left"):
        i18n.translate_cells(["| pass | pass |"], [(0, 0, "pass")], {"pass": "통과"}, "t")


def test_markup_problems_names_what_a_translation_broke():
    msgid = "The error is {glue:text}`ae_mse:.4f` {cite}`bank2020` with $p = 2$ in `aecourse.train`, see {doc}`intro`."
    good = "오차는 {glue:text}`ae_mse:.4f`입니다 {cite}`bank2020`. $p = 2$, `aecourse.train`, {doc}`소개 <intro>` 참고."
    assert i18n.markup_problems(msgid, good) == []
    bad = "오차는 {glue:text}`ae_mse:.3f`입니다. $p=2$, {doc}`outro`."
    found = "\n".join(i18n.markup_problems(msgid, bad))
    assert "roles differ" in found and "ae_mse:.4f" in found and "bank2020" in found and "outro" in found
    assert "inline math differ" in found and "inline code differ" in found


def test_messages_without_words_need_no_translation():
    assert i18n.needs_no_translation("{glue:text}`ae_mse:.4f`")
    assert i18n.needs_no_translation("{cite}`bank2020autoencoders` ($p = 2$)")
    assert not i18n.needs_no_translation("{glue:text}`ae_mse:.4f` per pixel")
    assert i18n.needs_no_translation("linear_autoencoders_and_pca")
    assert not i18n.needs_no_translation("pass")
    assert not i18n.needs_no_translation("whole book")


def test_glue_roles_of_a_translation_read_the_page_values():
    assert (i18n.glue_from_page("오차 {glue:text}`ae_mse:.4f`", "book/what_is_an_autoencoder")
            == "오차 {glue:text}`what_is_an_autoencoder.ipynb::ae_mse:.4f`")
    already = "{glue:text}`four_keywords.ipynb::vae_elbo:.2f`"
    assert i18n.glue_from_page(already, "book/results") == already


def _write(path, ids, strings=None, fuzzy=()):
    cat = Catalog(locale="ko" if strings is not None else None)
    for i, msgid in enumerate(ids):
        cat.add(msgid, (strings or {}).get(msgid, ""), locations=[("book/p.md", i + 1)],
                flags=("fuzzy",) if msgid in fuzzy else ())
    i18n.write_catalog(path, cat)


def test_catalog_problems_finds_stale_untranslated_fuzzy_and_broken(tmp_path, monkeypatch):
    pots, catalogs = tmp_path / "pot", tmp_path / "ko"
    monkeypatch.setattr(i18n, "CATALOGS", catalogs)
    monkeypatch.setattr(i18n, "ROOT", tmp_path)
    _write(pots / "book" / "p.pot", ["Hello", "Bye", "Value {glue:text}`x:.2f`"])
    _write(catalogs / "book" / "p.po", ["Hello", "Bye", "Value {glue:text}`x:.2f`"],
           {"Hello": "안녕", "Bye": "잘 가", "Value {glue:text}`x:.2f`": "값 {glue:text}`x:.3f`"})
    assert [p for p in i18n.catalog_problems(pots) if "roles differ" in p]
    _write(catalogs / "book" / "p.po", ["Hello", "Bye", "Value {glue:text}`x:.2f`"],
           {"Hello": "안녕", "Bye": "잘 가", "Value {glue:text}`x:.2f`": "값 {glue:text}`x:.2f`"})
    assert i18n.catalog_problems(pots) == []
    _write(catalogs / "book" / "p.po", ["Hello", "Bye"], {"Hello": "안녕"}, fuzzy=("Hello",))
    found = "\n".join(i18n.catalog_problems(pots))
    assert "out of date" in found and "1 new" in found
    assert "fuzzy" in found and "untranslated: 'Bye'" in found
    _write(catalogs / "book" / "gone.po", ["Old"], {"Old": "옛것"})
    assert "no English page book/gone" in "\n".join(i18n.catalog_problems(pots))


KOREAN = sorted((ROOT / "locales" / "ko" / "book").glob("*.ipynb"))


@pytest.mark.parametrize("path", KOREAN, ids=lambda p: p.stem)
def test_korean_notebook_has_the_english_code_cells(path):
    """A Korean notebook differs from its English source only in its markdown: every code cell, with its
    tags, is the English one, so the English notebook's run under nbval covers the Korean one's code."""
    import nbformat

    english = nbformat.read(ROOT / "book" / path.name, as_version=4)
    korean = nbformat.read(path, as_version=4)
    assert [c.cell_type for c in korean.cells] == [c.cell_type for c in english.cells]
    for k, e in zip(korean.cells, english.cells):
        if e.cell_type == "code":
            assert k.source == e.source and k.metadata == e.metadata, f"{path.name}: a code cell differs"
    assert korean.metadata["aecourse"]["language"] == "ko"
    assert any(i18n.re.search(r"[\uac00-\ud7a3]", c.source) for c in korean.cells if c.cell_type == "markdown")
