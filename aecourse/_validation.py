"""Input checks for aecourse's public functions.

Every message names the value it got, what was expected and how to fix it. Checks run at the public
boundary (constructors, ``fit``, ``transform``), never inside training loops.
"""
from __future__ import annotations

import numbers

import numpy as np
import torch


def as_2d_float(X, name: str = "X", *, dtype=np.float64) -> np.ndarray:
    """Return ``X`` as a finite 2-D numpy array of ``dtype``; raise a helpful error otherwise."""
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    try:
        arr = np.asarray(X, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} of type {type(X).__name__} could not be converted to a float array ({exc}); "
            f"pass a numpy array or torch tensor of shape (n_samples, n_features)."
        ) from None
    if arr.ndim != 2:
        hint = (
            f"reshape it with {name}.reshape(-1, 1) for one feature or {name}.reshape(1, -1) for one sample"
            if arr.ndim == 1
            else f"flatten each sample first, e.g. {name}.reshape(len({name}), -1)"
        )
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), but got an array with shape {arr.shape} "
            f"({arr.ndim}-D); {hint}."
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} has shape {arr.shape}, but at least one sample and one feature are needed.")
    if not np.isfinite(arr).all():
        n_nan = int(np.isnan(arr).sum())
        n_inf = int(np.isinf(arr).sum())
        raise ValueError(
            f"{name} contains {n_nan} NaN and {n_inf} infinite values; expected finite numbers. "
            f"Remove or impute them first (e.g. np.nan_to_num, or drop the rows with np.isfinite({name}).all(1))."
        )
    return arr


def check_n_features(X: np.ndarray, expected: int, owner: str, name: str = "X") -> None:
    if X.shape[1] != expected:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but {owner} was fitted with {expected} features; "
            f"transform data with the same columns as the training data."
        )


def check_fitted(obj, attribute: str) -> None:
    if not hasattr(obj, attribute):
        cls = type(obj).__name__
        raise RuntimeError(
            f"This {cls} instance is not fitted yet; call {cls}.fit(X) (or fit_transform) before using it."
        )


def check_int(value, name: str, *, low: int | None = None, high: int | None = None, hint: str = "") -> int:
    """Check that ``value`` is an integer in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}={value!r} must be an integer{', ' + hint if hint else ''}.")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name}={value} must be between {lo} and {hi}{'; ' + hint if hint else ''}.")
    return value


def check_positive(value, name: str, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"{name}={value!r} must be a finite real number.")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}={value!r} must be {bound}.")
    return float(value)


def check_choice(value, name: str, choices) -> str:
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name}={value!r} is not supported; choose one of {options}.")
    return value
