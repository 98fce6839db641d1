"""Show at the top of each chapter how long it took to execute when this page was built.

myst-nb records each notebook's execution (run time, success) while reading it; this post-transform puts
that number under the chapter's title, so the budget ("well under a minute on a laptop CPU") is visible
on every page and always current.
"""
from __future__ import annotations

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform


TEXT = {
    "en": "Executed top to bottom in {s:.1f} s on the machine that built this page (CPU, fresh kernel); "
          "see the run-time table in the appendix.",
    "ko": "이 페이지를 빌드한 컴퓨터에서 처음부터 끝까지 {s:.1f}초 만에 실행되었습니다(CPU, 새 커널). "
          "부록의 실행 시간 표를 참고하세요.",
}


class RuntimeBadge(SphinxPostTransform):
    default_priority = 900

    def run(self, **kwargs) -> None:
        from myst_nb.sphinx_ import NbMetadataCollector

        data = NbMetadataCollector.get_exec_data(self.env, self.env.docname)
        if not data or data.get("runtime") is None:
            return
        sections = list(self.document.findall(nodes.section))
        if not sections:
            return
        para = nodes.paragraph(classes=["aecourse-runtime"])
        para += nodes.emphasis(text=TEXT.get(self.config.language, TEXT["en"]).format(s=data["runtime"]))
        sections[0].insert(1, para)


def setup(app):
    app.add_post_transform(RuntimeBadge)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
