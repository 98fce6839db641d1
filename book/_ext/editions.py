"""The book's two editions, English and Korean, built from one source (the Korean one through Sphinx's
gettext catalogs in locales/; see tools/i18n.py).

- Every page gets a link to the same page in the other edition, and ``<link rel="alternate" hreflang>``.
- Every message has a line number (tools/i18n.py needs it to write the Korean notebooks).
- An exercise's title is a message too (sphinx-exercise leaves it without a source, so Sphinx would
  skip it).
- Display math is kept out of the catalogs: a formula reads the same in every language, and a translator
  who retypes it can only break it.
- Korean pages get a font stack of fonts that readers' systems have (no font is fetched from a CDN) and
  Korean line breaking (between words, not inside them).

The English edition is the site's root (``_build/html``), the Korean one is ``_build/html/ko``.
"""
from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform

# language code -> (name shown in the switch, folder of that edition under the site root)
EDITIONS = {"en": ("English", ""), "ko": ("한국어", "ko")}
STATIC = Path(__file__).resolve().parent / "static"


def current(config) -> str:
    return config.language if config.language in EDITIONS else "en"


def edition_url(docname: str, source: str, target: str) -> str:
    """Relative URL from page ``docname`` of edition ``source`` to the same page of edition ``target``."""
    depth = docname.count("/") + (1 if EDITIONS[source][1] else 0)
    folder = EDITIONS[target][1]
    return "../" * depth + (f"{folder}/" if folder else "") + f"{docname}.html"


class KeepOutOfCatalogs(SphinxTransform):
    # Before sphinx.transforms.i18n.Locale (priority 20), which translates, and before the gettext
    # builder collects messages from the finished doctree.
    default_priority = 10

    def apply(self, **kwargs) -> None:
        for node in self.document.findall(nodes.math_block):
            node["translatable"] = False
        # Nor are a build's own warnings messages (a glue role without values, when the catalogs are
        # extracted without executing the notebooks, leaves one in the doctree).
        for message in self.document.findall(nodes.system_message):
            for node in message.findall(nodes.TextElement):
                node["translatable"] = False


class LineNumbersForTableCells(SphinxTransform):
    """Give the text in table cells the line of its table. MyST leaves cells without a line, and Sphinx
    then borrows an unrelated earlier one; tools/i18n.py places the translations in the Korean notebooks
    by these lines (searching forward from them)."""
    default_priority = 15  # after Sphinx's ApplySourceWorkaround (10), before its Locale transform (20)

    def apply(self, **kwargs) -> None:
        last = None  # the line of the text before a table that has none of its own
        for node in self.document.findall(nodes.Element):
            if isinstance(node, nodes.table):
                line = node.line or last
                if line:
                    for cell_text in node.findall(nodes.TextElement):
                        cell_text.line, cell_text.source = line, cell_text.source or node.source
            elif node.line and isinstance(node, (nodes.paragraph, nodes.title)) and not _in_code_cell(node):
                last = node.line


def _translatable_titles(base):
    """sphinx-exercise's directive ``base`` with its title given the directive's source and line."""
    from sphinx_exercise.nodes import exercise_subtitle

    class Directive(base):
        def run(self):
            result = super().run()
            source, line = self.state_machine.get_source_and_line(self.lineno)
            for node in result:
                for subtitle in node.findall(exercise_subtitle):
                    subtitle.source, subtitle.line = source, line
                    subtitle.rawsource = self.arguments[0]  # the message Sphinx extracts
            return result

    Directive.__name__ = base.__name__
    return Directive


class ExerciseTitlesInCatalogs(SphinxPostTransform):
    """For the gettext builder only: keep each exercise title as a message. sphinx-exercise folds the
    title into the numbered heading ("Exercise 1.2 (title)") before the catalogs are written, so a copy
    of it is left in the doctree as a paragraph (the HTML builders never see it)."""
    default_priority = 19  # before sphinx-exercise's ResolveTitlesInExercises (20)
    builders = ("gettext",)

    def run(self, **kwargs) -> None:
        from sphinx_exercise.nodes import exercise_subtitle

        for subtitle in list(self.document.findall(exercise_subtitle)):
            if subtitle.source and subtitle.rawsource:
                copy = nodes.paragraph(subtitle.rawsource, subtitle.rawsource)
                copy.source, copy.line = subtitle.source, subtitle.line
                copy.uid = ""  # the gettext builder keeps only nodes with a uid (as it does for toctrees)
                subtitle.parent.parent.append(copy)


def _in_code_cell(node) -> bool:
    while node is not None:
        if isinstance(node, nodes.container) and "cell" in node.get("classes", []):
            return True
        node = node.parent
    return False


class LanguageSwitch(SphinxPostTransform):
    default_priority = 899  # before the run-time badge, which also goes under the title

    def run(self, **kwargs) -> None:
        if self.app.builder.format != "html":
            return
        sections = list(self.document.findall(nodes.section))
        if not sections:
            return
        here = current(self.config)
        para = nodes.paragraph(classes=["aecourse-language-switch"])
        for code, (name, _) in EDITIONS.items():
            if code == here:
                continue
            ref = nodes.reference("", name, refuri=edition_url(self.env.docname, here, code),
                                  classes=["aecourse-language-link"])
            para += ref
        sections[0].insert(1, para)


def add_alternate_links(app, pagename, templatename, context, doctree) -> None:
    here = current(app.config)
    links = [f'<link rel="alternate" hreflang="{code}" href="{edition_url(pagename, here, code)}" />'
             for code in EDITIONS if code != here]
    context["metatags"] = context.get("metatags", "") + "\n".join(links) + "\n"


def add_static(app) -> None:
    app.config.html_static_path.append(str(STATIC))
    app.add_css_file("aecourse-editions.css")


def setup(app):
    from sphinx_exercise.directive import ExerciseDirective, ExerciseStartDirective

    app.setup_extension("sphinx_exercise")
    app.add_directive("exercise", _translatable_titles(ExerciseDirective), override=True)
    app.add_directive("exercise-start", _translatable_titles(ExerciseStartDirective), override=True)
    app.add_transform(KeepOutOfCatalogs)
    app.add_transform(LineNumbersForTableCells)
    app.add_post_transform(ExerciseTitlesInCatalogs)
    app.add_post_transform(LanguageSwitch)
    app.connect("builder-inited", add_static)
    app.connect("html-page-context", add_alternate_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
