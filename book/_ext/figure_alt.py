"""Give every figure a chapter's code draws a text alternative for screen readers.

A notebook's image outputs carry no alt text, so the HTML writer would fall back to the file name. The
book's convention is a caption right after each figure (the markdown that follows the cell); this
post-transform copies that caption into the image's alt text. Without a caption it uses the first comment
of the cell's code, and failing that says where the figure comes from. A figure pasted into the text with
``{glue:figure}`` gets its own caption.
"""
from __future__ import annotations

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

MAX_ALT = 300


def _cell(node):
    while node is not None:
        if isinstance(node, nodes.container) and "cell" in node.get("classes", []):
            return node
        node = node.parent
    return None


def _caption_after(cell) -> str | None:
    parent = cell.parent
    if parent is None:
        return None
    i = parent.index(cell)
    for sibling in parent.children[i + 1:i + 2]:
        if isinstance(sibling, nodes.paragraph):
            return sibling.astext()
    return None


def _first_comment(cell) -> str | None:
    for block in cell.findall(nodes.literal_block):
        for line in block.astext().splitlines():
            line = line.strip()
            if line.startswith("#") and len(line) > 2:
                return line.lstrip("# ").strip()
        break
    return None


class FigureAlt(SphinxPostTransform):
    default_priority = 901

    def run(self, **kwargs) -> None:
        for image in self.document.findall(nodes.image):
            if image.get("alt"):
                continue
            cell = _cell(image)
            if cell is None:
                # A figure pasted with {glue:figure}: its own caption describes it.
                figure = image.parent
                while figure is not None and not isinstance(figure, nodes.figure):
                    figure = figure.parent
                captions = list(figure.findall(nodes.caption)) if figure is not None else []
                if not captions:
                    continue
                text = captions[0].astext()
            else:
                text = _caption_after(cell) or _first_comment(cell) or "Figure drawn by the code cell above."
            text = " ".join(text.split())
            image["alt"] = text if len(text) <= MAX_ALT else text[: MAX_ALT - 3].rstrip() + "..."


def setup(app):
    app.add_post_transform(FigureAlt)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
