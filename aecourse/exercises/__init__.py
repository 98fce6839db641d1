"""Exercise checkers, one module per topic; each checker is registered under its exercise label.

Usage in a chapter: ``from aecourse.exercises import basics`` then ``basics.check_reconstruction_mse(f)``.
"""
import pkgutil
from importlib import import_module

from ._core import REGISTRY, ExerciseFailed, Result, check_function, check_value, checker, failed, passed

# Every public module in this package is a topic of checkers; adding a file adds a topic.
TOPICS = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))


def load_all() -> dict:
    """Import every topic module so that ``REGISTRY`` holds every checker; return it."""
    for name in TOPICS:
        import_module(f"{__name__}.{name}")
    return REGISTRY


__all__ = ["REGISTRY", "ExerciseFailed", "Result", "check_function", "check_value", "checker", "failed",
           "passed", "load_all", "TOPICS"]
