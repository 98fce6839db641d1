"""The Korean edition (한국어판): translation catalogs, the Korean website and the Korean notebooks.

  python tools/i18n.py update      # after changing English prose: extract its messages, merge into locales/ko
  python tools/i18n.py check       # exit 1 if a catalog is stale, a message untranslated or fuzzy, a
                                   # translation breaks markup, or a Korean notebook is out of date
  python tools/i18n.py notebooks   # write the Korean notebooks locales/ko/book/*.ipynb from the catalogs
  python tools/i18n.py build       # the Korean website, _build/html/ko (after the English build)
  python tools/i18n.py stats       # messages per page, translated and not

One source: the English notebooks and pages. Sphinx's gettext builder extracts every paragraph, heading,
list item, caption, admonition and exercise title as a message (code cells, their outputs and display math
stay out), one catalog per page under locales/ko/LC_MESSAGES/. The Korean website is the English book
built with ``language = "ko"``: the same notebooks, executed once (the Korean build reads the outputs the
English build left in the execution cache), so every number in it is the English page's number.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
LANG = "ko"
LOCALES = ROOT / "locales"
CATALOGS = LOCALES / LANG / "LC_MESSAGES"
NOTEBOOKS = LOCALES / LANG            # Korean notebooks: locales/ko/book/<chapter>.ipynb
BUILD = ROOT / "_build"
COMPILED = BUILD / "locales"           # .mo files, compiled from the catalogs for the build
SITE = BUILD / "html"
TITLE = "오토인코더, 실행하며 배우기"

# Markup a translation must carry over unchanged (MyST roles with their targets, inline math and code).
ROLE = re.compile(r"(?<!`)\{(?P<name>[a-z:\-]+)\}`(?P<body>[^`]*)`")
INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)(?:\\.|[^$\\])+\$")
INLINE_CODE = re.compile(r"(?<![}`])`[^`]+`")
URL = re.compile(r"https?://[^\s)>\]]+")
# Roles whose displayed text may be translated as long as the target stays: {doc}`text <target>`.
TEXT_ROLES = {"doc", "ref", "numref", "term"}
FORMAT_FLAGS = {"python-format", "python-brace-format"}


# --- running Sphinx -------------------------------------------------------------------------------

def _sphinx(builder: str, outdir: Path, overrides: dict, *, warnings_are_errors: bool = False,
            quiet: bool = True, doctrees: Path | None = None) -> int:
    """Build the book with Jupyter Book's configuration (_config.yml, _toc.yml) plus ``overrides``."""
    from jupyter_book.sphinx import build_sphinx

    config = {"external_toc_path": "_toc.yml", "latex_individualpages": False, **overrides}
    result = build_sphinx(ROOT, outdir, noconfig=True, path_config=str(ROOT / "_config.yml"),
                          confoverrides=config, builder=builder, doctreedir=doctrees,
                          warningiserror=warnings_are_errors, keep_going=warnings_are_errors,
                          quiet=quiet, really_quiet=quiet and not warnings_are_errors)
    if isinstance(result, Exception):
        raise result
    return result


def extract(outdir: Path) -> Path:
    """Extract the English sources' messages into .pot files, one per page (no execution needed)."""
    if outdir.exists():
        shutil.rmtree(outdir)
    # Without execution the glue roles have no values; the messages keep the roles themselves.
    _sphinx("gettext", outdir, {"nb_execution_mode": "off", "gettext_compact": False,
                                "gettext_uuid": False, "gettext_location": True},
            doctrees=outdir / ".doctrees")
    pots = sorted(outdir.rglob("*.pot"))
    if not pots:
        raise SystemExit(f"the gettext build wrote no catalogs into {outdir}")
    for pot in pots:
        _locations_from_root(pot, outdir)
    return outdir


def _locations_from_root(pot: Path, outdir: Path) -> None:
    """Write each message's location relative to the repository root (``book/intro.md:3``).

    Sphinx writes them relative to its output folder, a temporary one, so the catalogs would change with
    the folder the book was checked out in.
    """
    cat = read_catalog(pot)
    for m in cat:
        m.locations = [((outdir / path).resolve().relative_to(ROOT).as_posix(), line)
                       for path, line in m.locations]
    write_catalog(pot, cat)


# --- catalogs -------------------------------------------------------------------------------------

def read_catalog(path: Path):
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        return read_po(f, locale=LANG if path.suffix == ".po" else None)


def write_catalog(path: Path, catalog) -> None:
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=0, ignore_obsolete=True, omit_header=False)


def pages(pot_dir: Path) -> dict[str, Path]:
    """docname (book/intro) -> its .pot file."""
    return {p.relative_to(pot_dir).with_suffix("").as_posix(): p for p in sorted(pot_dir.rglob("*.pot"))}


def needs_no_translation(text: str) -> bool:
    """A message with no words outside its markup (a table cell holding only a glued number, a citation),
    or only an identifier."""
    rest = INLINE_MATH.sub("", ROLE.sub("", INLINE_CODE.sub("", URL.sub("", text)))).strip()
    # An identifier on its own (a notebook's name in a table of run times) is a name, not prose.
    if re.fullmatch(r"[A-Za-z0-9]+(?:[_/][A-Za-z0-9]+)+(?:\.[a-z]+)?", rest):
        return True
    return not re.search(r"[^\W\d_]", rest)


def update(pot_dir: Path) -> None:
    """Merge fresh messages into locales/ko (sphinx-intl: new messages empty, changed ones fuzzy)."""
    from sphinx_intl.basic import update as intl_update

    intl_update(str(LOCALES), str(pot_dir), (LANG,), line_width=0, ignore_obsolete=True)
    fresh = pages(pot_dir)
    for po in sorted(CATALOGS.rglob("*.po")):
        doc = po.relative_to(CATALOGS).with_suffix("").as_posix()
        if doc not in fresh:
            po.unlink()  # the page is gone
            print(f"removed {po.relative_to(ROOT)}: no such page")
            continue
        cat, changed = read_catalog(po), False
        for m in cat:
            # Babel marks any message with "%" or "{...}" as a format string; ours are prose, and
            # msgfmt --check would reject a translation that moves the "%".
            if m.flags & FORMAT_FLAGS:
                m.flags -= FORMAT_FLAGS
                changed = True
            # A message without words is its own translation; a fuzzy guess for it (Sphinx-intl matches
            # one glued number to another) is replaced.
            if m.id and needs_no_translation(m.id) and (not m.string or m.fuzzy):
                m.string, changed = m.id, True
                m.flags.discard("fuzzy")
        if changed:
            write_catalog(po, cat)


def markup_problems(msgid: str, msgstr: str) -> list[str]:
    """What a translation dropped or changed of the message's markup."""
    def roles(text):
        out = []
        for m in ROLE.finditer(text):
            name, body = m.group("name"), m.group("body")
            if name in TEXT_ROLES:
                target = re.search(r"<([^>]+)>\s*$", body)
                body = target.group(1) if target else body
            out.append(f"{{{name}}}`{body}`")
        return sorted(out)

    found = []
    for what, get in (("roles", roles),
                      ("inline math", lambda t: sorted(INLINE_MATH.findall(ROLE.sub("", t)))),
                      ("inline code", lambda t: sorted(INLINE_CODE.findall(ROLE.sub("", t)))),
                      ("links", lambda t: sorted(URL.findall(t)))):
        a, b = get(msgid), get(msgstr)
        if a != b:
            missing = [x for x in a if x not in b]
            extra = [x for x in b if x not in a]
            found.append(f"{what} differ (missing {missing}, unexpected {extra})")
    return found


def catalog_problems(pot_dir: Path) -> list[str]:
    problems = []
    fresh = pages(pot_dir)
    for doc, pot in fresh.items():
        po = CATALOGS / f"{doc}.po"
        if not po.exists():
            problems.append(f"{doc}: no catalog {po.relative_to(ROOT)} (run tools/i18n.py update)")
            continue
        want = {m.id for m in read_catalog(pot) if m.id}
        cat = read_catalog(po)
        have = {m.id for m in cat if m.id}
        if want != have:
            problems.append(f"{doc}: catalog out of date with the English source ({len(want - have)} new, "
                            f"{len(have - want)} gone; run tools/i18n.py update and translate)")
        for m in cat:
            if not m.id:
                continue
            where = f"{po.relative_to(ROOT)}:{m.lineno}"
            if m.fuzzy:
                problems.append(f"{where}: fuzzy (the English changed; check the translation, drop the flag)")
            elif not m.string:
                problems.append(f"{where}: untranslated: {m.id[:70]!r}")
            else:
                problems += [f"{where}: {p}" for p in markup_problems(m.id, m.string)]
    for po in sorted(CATALOGS.rglob("*.po")):
        doc = po.relative_to(CATALOGS).with_suffix("").as_posix()
        if doc not in fresh:
            problems.append(f"{po.relative_to(ROOT)}: no English page {doc} (run tools/i18n.py update)")
    return problems


def translations(doc: str) -> dict[str, str]:
    po = CATALOGS / f"{doc}.po"
    if not po.exists():
        return {}
    return {m.id: m.string for m in read_catalog(po) if m.id and m.string and not m.fuzzy}


def stats(pot_dir: Path) -> list[tuple[str, int, int]]:
    rows = []
    for doc, pot in pages(pot_dir).items():
        ids = [m.id for m in read_catalog(pot) if m.id]
        done = translations(doc)
        rows.append((doc, len(ids), sum(1 for i in ids if i in done)))
    return rows


# --- compiled catalogs for the build ----------------------------------------------------------------

GLUE = re.compile(r"\{glue:(?P<kind>[a-z]*)\}`(?P<body>[^`]*)`")


def glue_from_page(msgstr: str, doc: str) -> str:
    """Point each glue role of a translation at its page's stored values: ``{glue:text}`page.ipynb::key```.

    Sphinx parses a translated message as a separate small document, which does not hold the notebook's
    glued values, so a bare ``{glue:text}`key``` would paste nothing. myst-nb's cross-page form reads the
    values the English build stored, which are the same numbers.
    """
    page = Path(doc).name + ".ipynb"

    def repl(m):
        body = m.group("body")
        return m.group(0) if "::" in body else f"{{glue:{m.group('kind')}}}`{page}::{body}`"

    return GLUE.sub(repl, msgstr)


def compile_catalogs() -> Path:
    from babel.messages.mofile import write_mo

    out = COMPILED / LANG / "LC_MESSAGES"
    if out.exists():
        shutil.rmtree(out)
    for po in sorted(CATALOGS.rglob("*.po")):
        doc = po.relative_to(CATALOGS).with_suffix("").as_posix()
        cat = read_catalog(po)
        for m in cat:
            if m.id and m.string:
                m.string = glue_from_page(m.string, doc)
        mo = out / f"{doc}.mo"
        mo.parent.mkdir(parents=True, exist_ok=True)
        with mo.open("wb") as f:
            write_mo(f, cat, use_fuzzy=False)
    return COMPILED


def build() -> int:
    """The Korean website in _build/html/ko, with -W, from the execution cache the English build filled."""
    from jupyter_book.config import get_final_config

    compile_catalogs()
    cfg, _ = get_final_config(user_yaml=ROOT / "_config.yml", sourcedir=ROOT,
                              cli_config={"latex_individualpages": False})
    theme = dict(cfg["html_theme_options"])
    theme["path_to_docs"] = NOTEBOOKS.relative_to(ROOT).as_posix()  # the Colab button opens the Korean notebook
    work = BUILD / LANG
    if work.exists():
        shutil.rmtree(work)
    rc = _sphinx("html", work / "html", {
        "language": LANG, "locale_dirs": [str(COMPILED)], "gettext_compact": False,
        "gettext_auto_build": False, "html_title": TITLE, "html_theme_options": theme,
        "nb_execution_cache_path": str(BUILD / ".jupyter_cache"), "nitpicky": True,
        # myst-nb's buttons on collapsed code cells ("Show code cell source"), not in any catalog.
        "nb_code_prompt_show": "코드 셀 보기", "nb_code_prompt_hide": "코드 셀 숨기기",
    }, warnings_are_errors=True, quiet=False, doctrees=work / ".doctrees")
    if rc:
        return rc
    target = SITE / LANG
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(work / "html", target)
    root = cfg.get("root_doc") or cfg.get("master_doc") or "book/intro"
    (target / "index.html").write_text(f'<meta http-equiv="Refresh" content="0; url={root}.html" />\n')
    print(f"Korean edition written to {target.relative_to(ROOT)}")
    return 0


# --- Korean notebooks -----------------------------------------------------------------------------

def _locations(pot: Path, notebook: str) -> list[tuple[int, int, str]]:
    """(cell index, line in cell, msgid) for every occurrence in a notebook, in document order.

    myst-nb numbers the lines of cell ``i`` from ``(i + 1) * 10000``; the first line of a cell is 10002.
    """
    occ = []
    for order, m in enumerate(read_catalog(pot)):
        if not m.id:
            continue
        for path, line in m.locations:
            if Path(path).name == notebook and line is not None:
                occ.append((line // 10000 - 1, line % 10000 - 2, order, m.id))
    occ.sort()
    return [(c, ln, mid) for c, ln, _, mid in occ]


SEPARATOR = "\n\x00\n"  # between cells: no message's whitespace pattern can match across it


def _pattern(msgid: str) -> re.Pattern:
    # A message is the source text with its line breaks and indentation collapsed (and a list item's
    # marker, a heading's hashes, a directive's name left out), so it is found as its words separated by
    # any whitespace.
    return re.compile(r"\s+".join(re.escape(w) for w in msgid.split()))


def translate_cells(sources: list[str], occurrences: list[tuple[int, int, str]], done: dict[str, str],
                    where: str) -> list[str]:
    """Replace every message occurrence (cell position, line in the cell, msgid) by its translation.

    Occurrences come in document order; each is searched forward from its line and never before the end
    of the previous one, over the markdown cells joined into one text.
    """
    stream = SEPARATOR.join(sources)
    cell_offsets, offset = [], 0
    for src in sources:
        cell_offsets.append(offset)
        offset += len(src) + len(SEPARATOR)
    pieces, copied = [], 0
    for pos, line, msgid in occurrences:
        lines = sources[pos].split("\n")
        line = min(max(line, 0), len(lines) - 1)
        start = max(copied, cell_offsets[pos] + sum(len(l) + 1 for l in lines[:line]))
        m = _pattern(msgid).search(stream, start)
        if m is None:
            raise ValueError(f"{where}: message not found from cell {pos} line {line + 1}: {msgid[:70]!r}")
        pieces += [stream[copied:m.start()], done.get(msgid, msgid)]
        copied = m.end()
    pieces.append(stream[copied:])
    # A message that occurs twice at one location (two equal cells of one table row) is listed once, so
    # its second copy would stay English: look for whole table cells left untouched.
    untouched = "\x00".join(pieces[0::2])
    for msgid in {o[2] for o in occurrences}:
        if done.get(msgid, msgid) != msgid:
            left = re.search(r"(?m)(?:^|\|)[ \t]*" + _pattern(msgid).pattern + r"[ \t]*(?:\||$)", untouched)
            if left:
                raise ValueError(f"{where}: English text left untranslated: {msgid[:70]!r}")
    out = "".join(pieces).split(SEPARATOR)
    assert len(out) == len(sources), where
    return out


def korean_notebook(english: Path, pot: Path, doc: str) -> nbformat.NotebookNode:
    """The English notebook with its markdown cells translated from the catalog; code cells unchanged."""
    nb = nbformat.read(english, as_version=4)
    done = translations(doc)
    markdown = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]
    position = {cell: k for k, cell in enumerate(markdown)}
    occurrences = []
    for cell, line, msgid in _locations(pot, english.name):
        if cell not in position:
            raise ValueError(f"{english.name}: a message is located in cell {cell}, which is not markdown")
        occurrences.append((position[cell], line, msgid))
    translated = translate_cells([nb.cells[i].source for i in markdown], occurrences, done, english.name)
    for i, src in zip(markdown, translated):
        nb.cells[i].source = src
    nb.metadata["aecourse"] = {"language": LANG, "source": english.relative_to(ROOT).as_posix(),
                               "generated_by": "tools/i18n.py notebooks"}
    return nb


def notebooks(pot_dir: Path, write: bool) -> list[str]:
    """Write (or, with write=False, compare) the Korean notebooks; return the stale ones."""
    stale = []
    fresh = pages(pot_dir)
    wanted = set()
    for english in sorted((ROOT / "book").glob("*.ipynb")):
        doc = english.relative_to(ROOT).with_suffix("").as_posix()
        if doc not in fresh:
            continue  # not in the book
        target = NOTEBOOKS / f"{doc}.ipynb"
        wanted.add(target)
        text = nbformat.writes(korean_notebook(english, fresh[doc], doc)) + "\n"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            stale.append(target.relative_to(ROOT).as_posix())
            if write:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    for extra in sorted(NOTEBOOKS.rglob("*.ipynb")):
        if extra not in wanted:
            stale.append(extra.relative_to(ROOT).as_posix())
            if write:
                extra.unlink()
    return stale


# --- command line ---------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["update", "check", "notebooks", "build", "stats", "extract"])
    args = ap.parse_args(argv)
    if args.command == "build":
        return build()
    with tempfile.TemporaryDirectory() as tmp:
        pot_dir = extract(Path(tmp) / "gettext") if args.command != "extract" else extract(BUILD / "gettext")
        if args.command == "update":
            update(pot_dir)
            stale = notebooks(pot_dir, write=True)
            total = sum(n for _, n, _ in stats(pot_dir))
            print(f"catalogs updated: {total} messages; Korean notebooks rewritten: {len(stale)}")
        elif args.command == "notebooks":
            stale = notebooks(pot_dir, write=True)
            print(f"Korean notebooks rewritten: {len(stale)}")
        elif args.command == "stats":
            rows = stats(pot_dir)
            for doc, n, done in rows:
                print(f"{doc:45s} {done:5d} / {n:5d}")
            print(f"{'total':45s} {sum(r[2] for r in rows):5d} / {sum(r[1] for r in rows):5d}")
        elif args.command == "check":
            problems = catalog_problems(pot_dir)
            problems += [f"{p}: out of date with the catalogs (run tools/i18n.py notebooks)"
                         for p in notebooks(pot_dir, write=False)]
            for p in problems:
                print(p)
            rows = stats(pot_dir)
            print(f"{sum(r[1] for r in rows)} messages in {len(rows)} catalogs; "
                  f"{sum(r[1] - r[2] for r in rows)} untranslated or fuzzy; {len(problems)} problems")
            return 1 if problems else 0
        elif args.command == "extract":
            print(f"catalog templates in {pot_dir.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
