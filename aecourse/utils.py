"""Seeds, device choice, CPU settings, progress bars that render in Colab, and showing the library's own
source inside a chapter."""
from __future__ import annotations

import inspect
import os
import random
import sys

import numpy as np
import torch


def set_seed(seed: int = 0) -> torch.Generator:
    """Seed Python, numpy and torch (CPU and CUDA); return a ``torch.Generator`` seeded the same way.

    Functions in aecourse that draw randomness take their own ``seed`` argument; this helper is for the
    chapter's own cells, so that a chapter runs identically top to bottom.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


def configure_cpu(num_threads: int | None = 1) -> None:
    """Settings that make small CPU training fast.

    Flushing denormals to zero matters: saturated sigmoid networks produce subnormal gradients, and x86
    CPUs handle those in microcode, 2-4x slower for a whole run.

    One intra-op thread: the course's models are tiny (a 64x32 weight matrix), so splitting each matrix
    product across threads costs more in synchronisation than it saves, and on a busy 2-core machine
    competing thread pools slow training by an order of magnitude (see bench/training_loop.py
    ``--threads``). Pass ``num_threads=None`` to keep torch's default.
    """
    torch.set_flush_denormal(True)
    if num_threads is not None:
        torch.set_num_threads(num_threads)


def get_device(prefer: str | None = None) -> torch.device:
    """The device to train on: CUDA when present, else CPU. ``prefer='cpu'`` forces the CPU.

    The environment variable ``AECOURSE_DEVICE`` overrides both (useful to run a chapter on CPU on a GPU
    machine, or the reverse in CI).
    """
    choice = os.environ.get("AECOURSE_DEVICE", prefer)
    if isinstance(choice, torch.device):  # e.g. a chapter's DEVICE passed to Autoencoder(device=...)
        choice = str(choice)
    if choice is None:
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    if choice not in ("cpu", "cuda") and not choice.startswith("cuda:"):
        raise ValueError(f"device {choice!r} is not supported; use 'cpu', 'cuda' or 'cuda:N'.")
    if choice.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(
            f"device {choice!r} was requested but torch.cuda.is_available() is False; "
            "use 'cpu', or unset AECOURSE_DEVICE."
        )
    return torch.device(choice)


def in_colab() -> bool:
    """True when running inside Google Colab."""
    return "google.colab" in sys.modules


def widgets_major() -> int | None:
    """The major version of the installed ipywidgets (7 in Colab's runtime, 8 elsewhere), or None."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return int(version("ipywidgets").split(".")[0])
    except (PackageNotFoundError, ValueError):
        return None


def progress_bar_class():
    """The ``tqdm`` class for progress bars: notebook bars where they render, plain text bars elsewhere.

    Colab's front end renders ipywidgets 7 only: with ipywidgets 8 installed, a notebook bar (an ipywidgets
    widget) shows a "third-party widgets" pop-up instead of a bar (googlecolab/colabtools issues 3020 and
    4525). There the bars are plain text; everywhere else ``tqdm.auto`` picks (notebook bars in Jupyter,
    text in a terminal).
    """
    if in_colab() and (widgets_major() or 0) >= 8:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm


def describe_device(device: torch.device) -> str:
    """One line saying which device is in use, for the setup cell."""
    if device.type == "cuda":
        return f"Using GPU: {torch.cuda.get_device_name(device)} (torch {torch.__version__})"
    return f"Using CPU ({torch.get_num_threads()} threads, torch {torch.__version__}); no GPU in use"


def show_source(obj):
    """Display the source code of an aecourse function or class, syntax-highlighted.

    Chapters use this to show the library's real code instead of redefining it.
    """
    from IPython.display import Code

    return Code(inspect.getsource(obj), language="python")


# matplotlib's built-in backends that draw only to files (rcsetup.non_interactive_bk before 3.9).
_OFFSCREEN_BACKENDS = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}


def inline_figures() -> bool:
    """In a Jupyter kernel, make sure figures are shown inline; return True when they will be.

    A kernel started with ``MPLBACKEND=Agg`` in its environment (common on servers and CI images) draws
    every figure off screen and shows nothing, so a book built there would have no figures at all. Only a
    non-interactive backend is replaced; a backend the reader chose (``%matplotlib widget``) is kept.
    Outside a kernel (a plain script) nothing changes.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return False
    import matplotlib

    if matplotlib.get_backend().lower() in _OFFSCREEN_BACKENDS:
        shell.run_line_magic("matplotlib", "inline")
    return True


def setup(seed: int = 0, device: str | None = None) -> torch.device:
    """What every chapter's first cell does: fast CPU settings, seeds, device choice, one line of report.

    Returns the device to put models and tensors on (CUDA when present, unless ``device='cpu'``). In a
    Jupyter kernel it also makes figures show inline whatever ``MPLBACKEND`` the kernel inherited.
    """
    inline_figures()
    configure_cpu()
    set_seed(seed)
    dev = get_device(device)
    print(describe_device(dev))
    return dev


def glue(name: str, value, display: bool = False):
    """Record a computed value for the book's text (myst-nb ``glue``) and return it.

    Outside a book build (e.g. in Colab, where myst-nb is not installed) this only returns the value, so
    chapters run anywhere. Numbers are stored as plain Python floats.
    """
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    elif isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    try:
        from myst_nb import glue as _glue
    except ImportError:
        return value
    _glue(name, value, display=display)
    return value
