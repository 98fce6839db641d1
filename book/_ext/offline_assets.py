"""Make the website work without internet: serve the widget manager from the site itself.

MathJax comes from the ``sphinx-mathjax-offline`` extension. The ipywidgets HTML manager and require.js
are vendored in ``book/_vendor`` (npm packages ``@jupyter-widgets/html-manager@1.0.6`` and
``requirejs@2.3.7``). They are kept OUT of ``_static``, because Jupyter Book adds every file there to every
page; this extension copies them into the output once, and myst-nb's ``nb_ipywidgets_js`` (set in
``_config.yml``) references them only on pages that hold widget state.
"""
from __future__ import annotations

import shutil
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "_vendor"


def copy_vendor(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "vendor"
    target.mkdir(parents=True, exist_ok=True)
    for path in VENDOR.glob("*.js"):
        shutil.copy2(path, target / path.name)


def setup(app):
    app.connect("build-finished", copy_vendor)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
