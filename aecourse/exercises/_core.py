"""The machinery behind every exercise checker.

A checker runs the learner's function on small fixed inputs, compares it with the library's reference and
either prints one line of success or raises :class:`ExerciseFailed` with what differed (expected vs got)
and a hint for the common mistake. Checkers never crash on learner code: exceptions, ``None``, wrong types,
wrong shapes and NaN all become messages.

When the environment variable ``AECOURSE_GRADE_LOG`` names a file, every result is also appended to it as
one JSON line; ``python -m aecourse.instructor grade`` reads those lines.
"""
from __future__ import annotations

import copy
import json
import numbers
import os
from dataclasses import asdict, dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch

__all__ = ["ExerciseFailed", "Result", "REGISTRY", "checker", "check_function", "check_value",
           "passed", "failed", "describe"]

REGISTRY: dict[str, dict] = {}


class ExerciseFailed(AssertionError):
    """An exercise answer that is not right yet. Jupyter shows only the message, not a traceback."""

    def __init__(self, label: str, message: str):
        super().__init__(message)
        self.label = label

    def _render_traceback_(self):  # IPython calls this instead of printing a traceback
        return [str(self)]


@dataclass
class Result:
    label: str
    passed: bool
    message: str


def tolerant(mistake: Callable) -> Callable:
    """A known mistake as a checker compares it: one that may not run on every input gives a 0-d NaN,
    which matches no answer, instead of raising inside the checker."""
    def run(*args):
        try:
            return mistake(*args)
        except Exception:
            return np.array(np.nan)
    return run


def _record(result: Result) -> None:
    path = os.environ.get("AECOURSE_GRADE_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(result)) + "\n")


def passed(label: str, message: str) -> Result:
    """Report success: one line, recorded for grading."""
    result = Result(label, True, message)
    _record(result)
    print(f"\u2705 {label}: {message}")
    return result


def failed(label: str, message: str, hint: str | None = None):
    """Report failure: recorded for grading, then raised as :class:`ExerciseFailed`."""
    text = message if hint is None else f"{message}\n   Hint: {hint}"
    _record(Result(label, False, text.replace("\n   ", " ")))
    raise ExerciseFailed(label, f"\u274c {label}: {text}")


def checker(label: str, kind: str = "function", example: Callable | None = None):
    """Register a checker under its exercise label.

    ``kind`` says what the learner passes: ``"function"`` (a callable) or ``"value"`` (an answer).
    ``example`` returns a correct answer (used by the tests and the instructor tools).
    """
    def wrap(fn):
        REGISTRY[label] = {"check": fn, "kind": kind, "example": example, "module": fn.__module__}
        fn.label = label
        return fn
    return wrap


def describe(obj) -> str:
    """A short description of a value for messages: type, shape and dtype."""
    if obj is None:
        return "None"
    if isinstance(obj, torch.Tensor):
        return f"torch.Tensor of shape {tuple(obj.shape)} and dtype {obj.dtype}"
    if isinstance(obj, np.ndarray):
        return f"numpy array of shape {obj.shape} and dtype {obj.dtype}"
    if isinstance(obj, (list, tuple)):
        return f"{type(obj).__name__} of length {len(obj)}"
    if isinstance(obj, numbers.Number):
        try:
            text = repr(obj)
        except Exception:  # e.g. an int with more digits than Python will print
            text = "(too long to print)"
        return f"{type(obj).__name__} {text if len(text) <= 40 else text[:37] + '...'}"
    return type(obj).__name__


def _copy(arg):
    if isinstance(arg, torch.Tensor):
        return arg.detach().clone()
    if isinstance(arg, np.ndarray):
        return arg.copy()
    try:
        return copy.deepcopy(arg)
    except Exception:
        return arg


def _same(a, b) -> bool:
    try:
        if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
            return a.shape == b.shape and bool(torch.equal(a, b))
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
            return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    except Exception:
        return True
    return True


def _call(label: str, fn: Callable, args: Sequence, case_text: str):
    """Call learner code; turn every way it can go wrong into a failure message."""
    if not callable(fn):
        failed(label, f"expected a function, but got {describe(fn)}.",
               "pass the function itself, without calling it: check(my_function), not check(my_function(...)).")
    originals = [_copy(a) for a in args]
    student_args = [_copy(a) for a in args]
    try:
        out = fn(*student_args)
    except NotImplementedError:
        failed(label, "not attempted yet: the function still raises NotImplementedError.",
               "replace the `raise NotImplementedError` line with your code, then run the cell again.")
    except ExerciseFailed:
        raise
    except Exception as exc:  # learner code may raise anything
        failed(label, f"your function raised {type(exc).__name__}: {exc} (on {case_text}).",
               "run it by hand on a small input to see where it breaks.")
    for before, after in zip(originals, student_args):
        if not _same(before, after):
            failed(label, f"your function changed its input in place (on {case_text}).",
                   "work on a copy (x = x.copy() or x.clone()) or use out-of-place operations like x = x - m.")
    return out


def _to_numpy(label: str, out, expect: str, case_text: str) -> np.ndarray:
    if out is None:
        failed(label, f"your function returned None (on {case_text}).", "did you forget the `return` statement?")
    if expect == "array" and isinstance(out, torch.Tensor):
        failed(label, f"expected a numpy array, but got a {describe(out)}.",
               "convert with .detach().cpu().numpy(), or use numpy functions throughout.")
    if expect == "tensor" and isinstance(out, np.ndarray):
        failed(label, f"expected a torch.Tensor, but got a {describe(out)}.",
               "convert with torch.from_numpy(...), or use torch functions throughout.")
    if expect == "float":
        try:
            if isinstance(out, torch.Tensor) and out.numel() == 1:
                out = out.item()
            elif isinstance(out, np.ndarray) and out.size == 1:
                out = out.item()
        except Exception:  # e.g. a tensor on the "meta" device has no value
            pass
        if isinstance(out, bool) or not isinstance(out, numbers.Real):
            failed(label, f"expected a single number, but got {describe(out)} (on {case_text}).",
                   "reduce to one number, e.g. with .mean() or float(...).")
        try:
            return np.asarray(float(out))
        except (OverflowError, ValueError, TypeError):  # e.g. an int too large for a float
            failed(label, f"expected a single number, but got {describe(out)}, which is not a usable float "
                          f"(on {case_text}).", "return a float of reasonable size.")
    try:
        arr = out.detach().cpu().numpy() if isinstance(out, torch.Tensor) else np.asarray(out)
    except Exception:
        arr = None
    if arr is None or arr.dtype == object or arr.dtype.kind not in "biuf":
        failed(label, f"expected numbers, but got {describe(out)} (on {case_text}).",
               "return an array of numbers.")
    return arr


def _compare(label, got: np.ndarray, want: np.ndarray, rtol, atol, case_text) -> str | None:
    """None when equal; else a message saying what differed."""
    if got.shape != want.shape:
        msg = f"expected shape {want.shape}, but got shape {got.shape} (on {case_text})."
        if got.ndim == 2 and got.shape == want.shape[::-1]:
            msg += " It looks transposed."
        return msg
    if not np.isfinite(got).all():
        return f"your output contains NaN or infinite values (on {case_text})."
    if not np.allclose(got, want, rtol=rtol, atol=atol):
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
        i = np.unravel_index(int(diff.argmax()), diff.shape) if diff.ndim else ()
        where = f" at index {tuple(int(j) for j in i)}" if diff.ndim else ""
        return (f"values differ (on {case_text}): expected {float(want[i]):.6g}{where}, got "
                f"{float(got[i]):.6g} (largest difference {float(diff.max()):.3g}).")
    return None


def _matches(wrong: Callable, args: Sequence, got: np.ndarray, rtol: float, atol: float) -> bool:
    """Whether ``got`` equals a known mistake's output on ``args``; a mistake that fails to run never matches.

    Quiet on purpose: nothing is printed or recorded for grading here.
    """
    try:
        w = wrong(*[_copy(a) for a in args])
        w = w.detach().cpu().numpy() if isinstance(w, torch.Tensor) else np.asarray(w)
        return w.shape == got.shape and bool(np.allclose(got, w, rtol=rtol, atol=atol))
    except Exception:
        return False


def check_function(label: str, fn: Callable, *, reference: Callable, cases: Sequence[tuple],
                   expect: str = "array", rtol: float = 1e-5, atol: float = 1e-6,
                   mistakes: Sequence[tuple[Callable, str]] = (), hint: str | None = None,
                   case_names: Sequence[str] | None = None) -> Result:
    """Compare ``fn`` with ``reference`` on every case (a tuple of arguments).

    ``expect``: "array", "tensor", "float" or "any" (array or tensor). ``mistakes``: pairs
    (wrong_function, hint); when the learner's output matches a known wrong function, its hint is shown.
    """
    for k, args in enumerate(cases):
        case_text = case_names[k] if case_names else f"test input {k + 1} of {len(cases)}"
        out = _call(label, fn, args, case_text)
        got = _to_numpy(label, out, expect, case_text)
        want = _to_numpy(label, reference(*[_copy(a) for a in args]), expect, "reference")
        problem = _compare(label, got, want, rtol, atol, case_text)
        if problem is None:
            continue
        for wrong, why in mistakes:
            if _matches(wrong, args, got, rtol, atol):
                failed(label, problem, why)
        failed(label, problem, hint)
    return passed(label, f"correct on all {len(cases)} test inputs.")


def check_value(label: str, value, expected: float, *, rtol: float = 1e-3, atol: float = 0.0,
                mistakes: Sequence[tuple[float, str]] = (), hint: str | None = None, what: str = "the answer",
                reveal: bool = False) -> Result:
    """Check a numeric answer against ``expected``; ``mistakes`` pairs (known wrong value, hint).

    A wrong answer is told whether it is too high or too low; ``reveal=True`` also shows the expected value.
    """
    if value is None:
        failed(label, f"{what} is None.", "assign your number to the variable before checking it.")
    if callable(value):
        failed(label, f"expected a number for {what}, but got a function.", "call it and pass the result.")
    got = _to_numpy(label, value, "float", what)
    g = float(got)
    if not np.isfinite(g):
        failed(label, f"{what} is {g}; expected a finite number.", hint)
    if np.isclose(g, expected, rtol=rtol, atol=atol):
        return passed(label, f"{what} = {g:.6g} is right.")
    # Say which way it is off, not the answer itself (unless asked): the learner still has to find it.
    direction = "too high" if g > expected else "too low"
    verdict = f"{what} = {g:.6g} is not right " + (
        f"(expected {expected:.6g})." if reveal else f"(it is {direction}).")
    for wrong, why in mistakes:
        if np.isclose(g, wrong, rtol=rtol, atol=atol):
            failed(label, verdict, why)
    failed(label, verdict, hint)
