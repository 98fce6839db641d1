"""Figures reach the notebook whatever matplotlib backend the kernel inherits (MPLBACKEND=Agg)."""
import nbformat
from nbclient import NotebookClient

PLOT = "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()"


def _images(setup_line: str, monkeypatch) -> int:
    monkeypatch.setenv("MPLBACKEND", "Agg")  # the kernel inherits the environment
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(setup_line + "\n" + PLOT)])
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    return sum("image/png" in o.get("data", {}) for o in nb.cells[0].outputs)


def test_setup_shows_figures_under_agg(monkeypatch):
    assert _images("import aecourse\naecourse.setup(seed=0)", monkeypatch) == 1


def test_agg_kernel_without_setup_shows_nothing(monkeypatch):
    # The failure the setup guards against: every cell runs and no figure appears.
    assert _images("", monkeypatch) == 0


def test_inline_figures_outside_a_kernel_changes_nothing():
    import matplotlib

    import aecourse.utils

    before = matplotlib.get_backend()
    assert aecourse.utils.inline_figures() is False
    assert matplotlib.get_backend() == before
