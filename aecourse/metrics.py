"""Reconstruction metrics and the angles between subspaces."""
from __future__ import annotations

import numpy as np
import torch

from ._validation import as_2d_float, check_positive

__all__ = ["mse", "psnr", "principal_angles"]


def _pair(x, x_hat):
    a = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)
    b = x_hat.detach().cpu().numpy() if isinstance(x_hat, torch.Tensor) else np.asarray(x_hat, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(
            f"x has shape {a.shape} but x_hat has shape {b.shape}; compare a reconstruction with the data "
            "it reconstructs (same rows, same features)."
        )
    if a.size == 0:
        raise ValueError("x is empty; nothing to compare.")
    return a.astype(np.float64), b.astype(np.float64)


def mse(x, x_hat) -> float:
    """Mean squared error over every entry (per pixel, per sample), as a Python float."""
    a, b = _pair(x, x_hat)
    return float(np.mean((a - b) ** 2))


def psnr(x, x_hat, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: 10 log10(data_range^2 / MSE); higher is better."""
    data_range = check_positive(data_range, "data_range")
    err = mse(x, x_hat)
    if err == 0:
        return float("inf")
    return float(10.0 * np.log10(data_range ** 2 / err))


def _orthonormal_basis(A: np.ndarray, name: str) -> np.ndarray:
    U, S, _ = np.linalg.svd(A, full_matrices=False)
    rank = int((S > S.max() * max(A.shape) * np.finfo(float).eps).sum()) if S.size and S.max() > 0 else 0
    if rank < A.shape[1]:
        raise ValueError(
            f"{name} has {A.shape[1]} columns but rank {rank}; its columns must be linearly independent "
            "to span a subspace of that dimension."
        )
    return U[:, :rank]


def principal_angles(A, B) -> np.ndarray:
    """Principal angles (radians, ascending) between the column spaces of A (n, p) and B (n, q).

    The cosines are the singular values of Qa^T Qb for orthonormal bases Qa, Qb (Bjorck & Golub 1973).
    Returns min(p, q) angles; all zero when the subspaces coincide. ``np.degrees`` converts.
    """
    A = as_2d_float(A, "A")
    B = as_2d_float(B, "B")
    if A.shape[0] != B.shape[0]:
        raise ValueError(
            f"A has {A.shape[0]} rows and B has {B.shape[0]}; both must be bases in the same space R^n "
            "(one column per basis vector; transpose components_-style (p, n) matrices first)."
        )
    Qa, Qb = _orthonormal_basis(A, "A"), _orthonormal_basis(B, "B")
    cos = np.linalg.svd(Qa.T @ Qb, compute_uv=False)
    # arccos is ill-conditioned near 1: take small angles from the sine instead.
    cos = np.clip(cos, -1.0, 1.0)
    angles = np.arccos(cos)
    small = cos > np.cos(0.1)
    if small.any():
        # sin of the angles: singular values of (I - Qa Qa^T) Qb, sorted to pair with ascending angles.
        R = Qb - Qa @ (Qa.T @ Qb)
        sin = np.sort(np.linalg.svd(R, compute_uv=False))[: len(cos)]
        angles_sorted = np.sort(angles)
        angles_sorted[: small.sum()] = np.arcsin(np.clip(sin[: small.sum()], 0, 1))
        return np.sort(angles_sorted)
    return np.sort(angles)
