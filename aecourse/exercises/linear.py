"""Checkers for linear autoencoders and PCA: projecting with PCA (and the centring trap), the Eckart-Young
bound from eigenvalues, principal angles between two bases, the price of a rotated subspace, and the
singular values a weight-decayed linear autoencoder's decoder must have."""
from __future__ import annotations

import numpy as np

from ..linear import covariance_eigenvalues, eckart_young_bound
from ..metrics import principal_angles
from ._core import _to_numpy, check_function, check_value, checker, failed, passed

__all__ = ["check_pca_reconstruct", "check_eckart_young", "check_principal_angles", "check_rotation_cost",
           "check_predicted_singular_values"]


# --- ex-linear-pca-reconstruct --------------------------------------------------------------------------

def _reference_reconstruct(X, p):
    X = np.asarray(X, dtype=np.float64)
    mean = X.mean(axis=0)
    _, _, Vt = np.linalg.svd(X - mean, full_matrices=False)
    V = Vt[:p].T                                                   # (n, p) the top-p axes as columns
    return (X - mean) @ V @ V.T + mean


def _example_reconstruct(X, p):
    mean = X.mean(axis=0)
    _, _, Vt = np.linalg.svd(X - mean, full_matrices=False)
    return (X - mean) @ Vt[:p].T @ Vt[:p] + mean


def _reconstruct_cases():
    rng = np.random.default_rng(0)
    # Data far from the origin: the centring mistake shows. Digits-like sizes in the last case.
    A = rng.standard_normal((20, 6)) @ rng.standard_normal((6, 6)) + 3.0
    B = rng.random((40, 10)) * np.linspace(0.2, 2.0, 10) + 1.0
    C = rng.random((60, 64))
    return [(A, 2), (B, 1), (C, 5)]


def _no_centring(X, p):
    _, _, Vt = np.linalg.svd(X, full_matrices=False)
    return X @ Vt[:p].T @ Vt[:p]


def _mean_not_added(X, p):
    Xc = X - X.mean(axis=0)
    _, _, Vt = np.linalg.svd(Xc, full_matrices=False)
    return Xc @ Vt[:p].T @ Vt[:p]


def _eigh_ascending(X, p):
    mean = X.mean(axis=0)
    _, vecs = np.linalg.eigh(np.cov(X, rowvar=False))               # ascending eigenvalues!
    V = vecs[:, :p]
    return (X - mean) @ V @ V.T + mean


def _columns_of_vt(X, p):
    mean = X.mean(axis=0)
    _, _, Vt = np.linalg.svd(X - mean, full_matrices=False)
    V = Vt[:, :p]                                                   # columns of Vt, not rows
    return (X - mean) @ V @ V.T + mean


@checker("ex-linear-pca-reconstruct", example=lambda: _example_reconstruct)
def check_pca_reconstruct(fn):
    """``fn(X, p)`` must return the rank-p PCA reconstruction of X (N, n): mean + projection onto the top-p axes."""
    return check_function(
        "ex-linear-pca-reconstruct", fn, reference=_reference_reconstruct, cases=_reconstruct_cases(),
        expect="array", rtol=1e-6, atol=1e-8,
        case_names=["20 x 6 data with mean 3, p=2", "40 x 10 data with mean about 1, p=1",
                    "60 x 64 data in [0, 1], p=5"],
        mistakes=[
            (_no_centring,
             "you took the SVD of X itself. PCA is about the centred data: subtract X.mean(axis=0) first, "
             "or the first 'axis' points at the mean instead of along the spread (the centring trap)."),
            (_mean_not_added,
             "you centred X but returned the centred reconstruction; add the mean back at the end."),
            (_eigh_ascending,
             "np.linalg.eigh returns eigenvalues in ASCENDING order, so its first columns are the directions "
             "of least variance; take the last p columns (reversed), or use np.linalg.svd, whose singular "
             "values are descending."),
            (_columns_of_vt,
             "np.linalg.svd returns Vt: the principal axes are its ROWS, Vt[:p], not its columns."),
        ],
        hint="centre X, take the top-p right singular vectors V (n, p) of the centred data, and return "
             "(X - mean) @ V @ V.T + mean.",
    )


# --- ex-linear-eckart-young -----------------------------------------------------------------------------

def _example_eckart_young(X, p):
    Xc = X - X.mean(axis=0)
    eig = np.linalg.eigvalsh(Xc.T @ Xc / len(X))[::-1]              # descending, 1/N normalisation
    return float(eig[p:].sum() / X.shape[1])


def _eckart_young_cases():
    rng = np.random.default_rng(1)
    # Few samples, so that dividing by N - 1 instead of N is visible.
    A = rng.standard_normal((8, 5)) * np.array([3.0, 2.0, 1.0, 0.5, 0.2]) + 1.0
    B = rng.random((30, 10)) @ rng.standard_normal((10, 10))
    C = rng.random((100, 64))
    return [(A, 2), (B, 3), (C, 5)]


def _eig_desc(X, ddof=0, center=True):
    Xc = X - X.mean(axis=0) if center else X
    return np.linalg.eigvalsh(Xc.T @ Xc / (len(X) - ddof))[::-1]


@checker("ex-linear-eckart-young", example=lambda: _example_eckart_young)
def check_eckart_young(fn):
    """``fn(X, p)`` must return the smallest per-entry MSE of any rank-p reconstruction of X (one float)."""
    return check_function(
        "ex-linear-eckart-young", fn, reference=lambda X, p: eckart_young_bound(X, p),
        cases=_eckart_young_cases(), expect="float", rtol=1e-7, atol=1e-12,
        case_names=["8 x 5 data, p=2", "30 x 10 data, p=3", "100 x 64 data, p=5"],
        mistakes=[
            (lambda X, p: float(_eig_desc(X, ddof=1)[p:].sum() / X.shape[1]),
             "you divided by N - 1 (np.cov's default). A mean squared error averages over the N samples: "
             "use Xc.T @ Xc / N, or np.cov(X, rowvar=False, bias=True)."),
            (lambda X, p: float(_eig_desc(X)[:p].sum() / X.shape[1]),
             "you summed the KEPT eigenvalues (the variance the code explains); the error is what is left: "
             "the discarded eigenvalues l_{p+1}, ..., l_n."),
            (lambda X, p: float(np.sort(_eig_desc(X))[p:].sum() / X.shape[1]),
             "your eigenvalues are in ascending order (np.linalg.eigvalsh sorts them so); reverse them "
             "before discarding the first p."),
            (lambda X, p: float(_eig_desc(X)[p:].sum()),
             "that is the squared error per SAMPLE; divide by the number of features to get the per-entry "
             "MSE that aecourse.mse reports."),
            (lambda X, p: float(_eig_desc(X, center=False)[p:].sum() / X.shape[1]),
             "you did not centre X: the eigenvalues must be those of the covariance, around the mean."),
            (lambda X, p: float(_eig_desc(X)[p + 1:].sum() / X.shape[1]),
             "off by one: with p components kept, the discarded eigenvalues start at index p (0-based)."),
        ],
        hint="centre X, compute the eigenvalues of Xc.T @ Xc / N in descending order, sum those after the "
             "first p and divide by the number of features.",
    )


# --- ex-linear-principal-angles -------------------------------------------------------------------------

def _example_angles(A, B):
    Qa, _ = np.linalg.qr(A)
    Qb, _ = np.linalg.qr(B)
    cos = np.linalg.svd(Qa.T @ Qb, compute_uv=False)
    return np.sort(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def _reference_angles(A, B):
    return np.degrees(principal_angles(A, B))


def _angle_cases():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((6, 2))
    B = rng.standard_normal((6, 3))
    C = A @ np.array([[2.0, 1.0], [0.5, 3.0]])                      # the same plane, another basis
    t = np.radians([30.0, 60.0])
    E = np.zeros((5, 2))
    E[0, 0] = E[1, 1] = 1.0
    F = np.zeros((5, 2))
    F[0, 0], F[2, 0] = np.cos(t[0]), np.sin(t[0])
    F[1, 1], F[3, 1] = 3 * np.cos(t[1]), 3 * np.sin(t[1])           # not unit length
    G = rng.standard_normal((64, 4)) * 5 + 1                          # long, skewed columns
    H = G + 0.3 * rng.standard_normal((64, 4))
    return [(A, B), (A, C), (E, F), (G, H)]


def _unnormalised(A, B):
    cos = np.linalg.svd(A.T @ B, compute_uv=False)
    return np.sort(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def _columnwise(A, B):
    Qa, _ = np.linalg.qr(A)
    Qb, _ = np.linalg.qr(B)
    k = min(Qa.shape[1], Qb.shape[1])
    cos = np.abs((Qa[:, :k] * Qb[:, :k]).sum(axis=0))
    return np.sort(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


@checker("ex-linear-principal-angles", example=lambda: _example_angles)
def check_principal_angles(fn):
    """``fn(A, B)`` must return the principal angles (degrees, ascending) between the column spaces of A and B."""
    return check_function(
        "ex-linear-principal-angles", fn, reference=_reference_angles, cases=_angle_cases(),
        expect="array", rtol=0.0, atol=1e-4,
        case_names=["a random plane and a random 3-d subspace of R^6", "one plane in two bases",
                    "planes at 30 and 60 degrees, with a basis vector of length 3",
                    "two nearby 4-d subspaces of R^64 with long, skewed basis vectors"],
        mistakes=[
            (_unnormalised,
             "the basis vectors are neither unit length nor orthogonal: orthonormalise each basis first "
             "(Q, _ = np.linalg.qr(A)), then take the singular values of Qa.T @ Qb as cosines."),
            (lambda A, B: np.radians(_reference_angles(A, B)),
             "those are radians; convert with np.degrees."),
            (lambda A, B: _reference_angles(A, B)[::-1],
             "return the angles in ascending order (the smallest first)."),
            (lambda A, B: np.cos(np.radians(_reference_angles(A, B))),
             "those are the cosines; take np.arccos (and convert to degrees)."),
            (_columnwise,
             "pairing column i with column i measures angles between chosen basis vectors, which depend on "
             "the bases; the principal angles come from the singular values of Qa.T @ Qb."),
        ],
        hint="orthonormalise A and B (np.linalg.qr), take the singular values of Qa.T @ Qb (the cosines), "
             "clip them to [-1, 1], and return np.degrees(np.arccos(...)) sorted ascending.",
    )


# --- ex-linear-rotation-cost ----------------------------------------------------------------------------

def _digits_eigenvalues() -> np.ndarray:
    from ..data import digits_matrix

    X, _ = digits_matrix()
    return covariance_eigenvalues(X.astype(np.float64))


def _rotation_cost(ev, degrees=1.0, square=True, use_sin=True, rad=False, gap=True):
    theta = degrees if rad else np.radians(degrees)
    s = np.sin(theta) if use_sin else theta
    s = s ** 2 if square else s
    coeff = (ev[1] - ev[2]) if gap else ev[1]
    return float(coeff * s / ev[2:].sum())


def _example_rotation_cost() -> float:
    return _rotation_cost(_digits_eigenvalues())


@checker("ex-linear-rotation-cost", kind="value", example=_example_rotation_cost)
def check_rotation_cost(value):
    """``value``: the relative excess (loss / bound - 1) of the p=2 subspace of the 1797 digits when its second
    axis is turned by 1 degree towards the third."""
    ev = _digits_eigenvalues()
    return check_value(
        "ex-linear-rotation-cost", value, _rotation_cost(ev), rtol=1e-3,
        what="the relative excess loss",
        mistakes=[
            (_rotation_cost(ev, rad=True),
             "np.sin takes radians: 1 degree is np.radians(1.0), not 1.0."),
            (_rotation_cost(ev, square=False),
             "the captured variance changes with sin^2 of the angle (the squared length of the part of the "
             "axis that leaves the plane); square the sine."),
            (_rotation_cost(ev, gap=False),
             "turning axis 2 towards axis 3 loses l_2 sin^2(theta) of variance but gains l_3 sin^2(theta): "
             "the cost is the gap (l_2 - l_3) sin^2(theta)."),
            (_rotation_cost(ev) * 64,
             "you divided by the per-entry bound (sum of discarded eigenvalues / 64) but used a per-sample "
             "excess; use the same normalisation on both sides, e.g. divide by sum_{i>2} l_i."),
        ],
        hint="the rotated plane captures l_1 + l_2 cos^2(theta) + l_3 sin^2(theta) of variance; the loss grows "
             "by (l_2 - l_3) sin^2(theta); divide by the bound sum_{i>2} l_i.",
    )


# --- ex-linear-predict-singular-values ------------------------------------------------------------------

PREDICT_P, PREDICT_LAMBDA = 5, 0.1


def _predicted_singular_values(ev, lam=PREDICT_LAMBDA, p=PREDICT_P) -> np.ndarray:
    # Kunin et al. (2019): at the minimum of the weight-decayed loss, s_j^2 = 1 - lambda / l_j.
    return np.sqrt(1.0 - lam / ev[:p])


def _example_predicted_singular_values() -> np.ndarray:
    return _predicted_singular_values(_digits_eigenvalues())


@checker("ex-linear-predict-singular-values", kind="value", example=_example_predicted_singular_values)
def check_predicted_singular_values(value):
    """``value``: the five singular values (largest first) of the decoder of LinearAutoencoder(5,
    weight_decay=0.1) at its minimum on the 1797 digits, predicted from the covariance eigenvalues."""
    label = "ex-linear-predict-singular-values"
    ev = _digits_eigenvalues()
    right = _predicted_singular_values(ev)
    if value is None:
        failed(label, "predicted_s is None.", "assign your five numbers to predicted_s before checking them.")
    if callable(value):
        failed(label, "expected five numbers, but got a function.", "call it and pass the result.")
    got = _to_numpy(label, value, "any", "predicted_s")
    if got.shape != right.shape:
        failed(label, f"expected {PREDICT_P} numbers (one per code direction), got shape {got.shape}.",
               "compute one singular value for each of the first five eigenvalues, e.g. with ev[:5].")
    got = got.astype(np.float64)
    if not np.isfinite(got).all():
        failed(label, "your prediction contains NaN or infinite values.",
               "the square root of a negative number is NaN: use the five largest eigenvalues, ev[:5].")
    if np.allclose(got, right, rtol=1e-4, atol=1e-8):
        return passed(label, "right: s_j = sqrt(1 - lambda / l_j); each direction shrinks by its own factor, "
                             "more the smaller its variance. Now compare with the fitted model.")
    from ..data import digits_matrix

    X_raw = digits_matrix()[0].astype(np.float64)
    uncentred = np.linalg.svd(X_raw, compute_uv=False)[:PREDICT_P] ** 2 / len(X_raw)     # second moments
    for wrong, why in [
        (right ** 2, "those are the squared singular values s_j^2 = 1 - lambda / l_j; take the square root."),
        (np.sqrt(PREDICT_LAMBDA / ev[:PREDICT_P]), "at the minimum s_j^2 = 1 - lambda / l_j, not lambda / l_j."),
        (right[::-1], "give them largest first: the largest eigenvalue gives the largest singular value."),
        (np.ones(PREDICT_P), "all ones would mean no shrinking; weight decay shrinks each direction, by "
                             "s_j^2 = 1 - lambda / l_j."),
        (np.sqrt(1.0 - PREDICT_LAMBDA / uncentred),
         "you used the eigenvalues of the uncentred data; the l_j are those of the covariance, around the mean "
         "(ev from lin.covariance_eigenvalues)."),
    ]:
        if np.allclose(got, wrong, rtol=1e-4, atol=1e-8):
            failed(label, "predicted_s is not right.", why)
    k = int(np.argmax(np.abs(got - right)))
    failed(label, f"predicted_s is not right: at j = {k + 1} it is {got[k]:.6g}, "
                  f"{'too high' if got[k] > right[k] else 'too low'}.",
           "at the minimum of the weight-decayed loss the squared singular values are 1 - lambda / l_j, with "
           "lambda = 0.1 and l_j the j-th largest covariance eigenvalue.")
