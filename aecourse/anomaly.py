"""Anomaly detection with a model of normal data: scores, the ROC AUC, and thresholds at a false-positive rate.

A detector trained on normal examples only gives each new example a score, higher meaning less normal: the
reconstruction error of an autoencoder or of PCA (Japkowicz et al. 1995; Sakurada & Yairi 2014), or the
distance to the nearest normal training examples. The ROC AUC summarises a score over every threshold; it is
the probability that a random anomaly scores above a random normal example, ties counting one half
(Hanley & McNeil 1982). A deployed detector needs one threshold, chosen on normal validation data so that a
given fraction of normal examples is flagged.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._validation import as_2d_float, check_int

__all__ = ["reconstruction_scores", "knn_distance_scores", "roc_auc", "threshold_at_fpr", "detection_rates"]


def _as_1d(values, name: str) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or len(arr) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of numbers, but got shape {arr.shape}; "
                         f"pass one value per example, e.g. {name}.ravel().")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; expected finite numbers, one per example.")
    return arr


def reconstruction_scores(model, X) -> np.ndarray:
    """The mean squared reconstruction error of each row of ``X`` (N, n): a score per example, shape (N,).

    ``model`` is an ``nn.Module`` autoencoder (called on a tensor, in eval mode, its mode restored after) or a
    fitted reducer with ``reconstruct`` (such as :class:`aecourse.PCA`).
    """
    if isinstance(model, nn.Module):
        p = next(model.parameters(), None)
        device = p.device if p is not None else torch.device("cpu")
        x = torch.as_tensor(as_2d_float(X, dtype=np.float32), device=device)
        was_training = model.training
        model.eval()                      # scores without training-time noise or dropout; restored below
        try:
            with torch.no_grad():
                return ((model(x) - x) ** 2).mean(1).cpu().numpy().astype(np.float64)    # (N,)
        finally:
            model.train(was_training)
    if hasattr(model, "reconstruct"):
        X = as_2d_float(X)
        return ((model.reconstruct(X) - X) ** 2).mean(1)                            # (N,)
    raise TypeError(f"model of type {type(model).__name__} must be a torch autoencoder (nn.Module) or a "
                    "fitted reducer with a reconstruct method, such as aecourse.PCA.")


def knn_distance_scores(X_normal, X, k: int = 1) -> np.ndarray:
    """The Euclidean distance from each row of ``X`` (N, n) to its k-th nearest row of ``X_normal`` (M, n).

    A baseline that needs no training: far from every normal example means anomalous. Shape (N,).
    """
    A, B = as_2d_float(X_normal, "X_normal"), as_2d_float(X)
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"X has {B.shape[1]} features but X_normal has {A.shape[1]}; they must match.")
    k = check_int(k, "k", low=1, high=len(A), hint=f"X_normal has {len(A)} rows")
    # ||b - a||^2 = ||b||^2 - 2 b.a + ||a||^2, clipped at 0 against round-off.
    d2 = np.maximum((B ** 2).sum(1)[:, None] - 2 * B @ A.T + (A ** 2).sum(1)[None, :], 0.0)   # (N, M)
    return np.sqrt(np.partition(d2, k - 1, axis=1)[:, k - 1])


def roc_auc(labels, scores) -> float:
    """The area under the ROC curve of ``scores`` for the binary ``labels`` (1: anomaly, 0: normal).

    By the rank formula (the Mann-Whitney statistic): with average ranks r of the scores over all examples,
    AUC = (sum of the anomalies' ranks - n1 (n1 + 1) / 2) / (n1 n0). Ties count one half.
    """
    y = _as_1d(labels, "labels")
    s = _as_1d(scores, "scores")
    if len(y) != len(s):
        raise ValueError(f"labels has {len(y)} entries but scores has {len(s)}; give one score per label.")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 (normal) or 1 (anomaly); convert them, e.g. labels = (y == c).astype(int).")
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        raise ValueError(f"labels holds {n1} anomalies and {n0} normal examples; the ROC AUC needs both.")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    # Average ranks (1-based) over runs of tied scores.
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_s)) + 1]
    ends = np.r_[starts[1:], len(s)]
    avg = (starts + ends + 1) / 2.0                                  # mean of the 1-based ranks start+1..end
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def threshold_at_fpr(normal_scores, fpr: float = 0.05) -> float:
    """The lowest threshold t that flags at most a fraction ``fpr`` of ``normal_scores`` (flagged: score > t).

    With n normal scores, at most floor(fpr * n) of them may exceed t, so t is the (floor(fpr * n) + 1)-th
    largest score.
    """
    s = _as_1d(normal_scores, "normal_scores")
    if isinstance(fpr, bool) or not isinstance(fpr, (int, float)) or not 0 <= fpr < 1:
        raise ValueError(f"fpr={fpr!r} must be a false-positive rate in [0, 1), e.g. 0.05.")
    allowed = int(np.floor(fpr * len(s) + 1e-9))                     # how many normal scores may exceed t
    return float(np.sort(s)[::-1][allowed])


def detection_rates(normal_scores, anomaly_scores, threshold: float) -> tuple[float, float]:
    """``(false-positive rate, recall)``: the fractions of normal and of anomalous scores above ``threshold``."""
    s0, s1 = _as_1d(normal_scores, "normal_scores"), _as_1d(anomaly_scores, "anomaly_scores")
    return float((s0 > threshold).mean()), float((s1 > threshold).mean())
