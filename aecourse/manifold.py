"""Walking on a learned manifold: interpolation in data and code space, decoded lattices and code-axis
traversals, the rank correlation of a code with a known coordinate, and nearest-neighbour distances.

Every function that decodes takes a fitted *reducer*: any object with ``transform`` (data -> codes) and
``inverse_transform`` (codes -> data), such as :class:`aecourse.PCA` or :class:`aecourse.Autoencoder`.
The decoder's image {B(z) : z in R^p} is the manifold the reducer has learned, and the encoder is its
chart: it gives each data point coordinates z (Goodfellow, Bengio & Courville 2016, sec. 14.6).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._validation import as_2d_float, check_int

__all__ = [
    "lerp", "interpolate", "code_extent", "code_lattice", "decode_lattice", "traverse_codes",
    "lattice_counts", "rank_correlation", "nearest_distances",
]


def _check_reducer(reducer) -> None:
    for verb in ("transform", "inverse_transform"):
        if not callable(getattr(reducer, verb, None)):
            raise TypeError(
                f"reducer={type(reducer).__name__} has no {verb}() method; pass a fitted reducer with "
                "transform and inverse_transform, such as aecourse.PCA(2).fit(X) or "
                "aecourse.Autoencoder(2).fit(X)."
            )


def _as_point(x, name: str) -> np.ndarray:
    """One point as a 1-D float array: accepts shape (d,) or (1, d)."""
    try:
        arr = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} of type {type(x).__name__} is not a vector of numbers; pass a 1-D array.") from None
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{name} has shape {arr.shape}; expected one point, a 1-D array of shape (d,) "
            f"(take a row with X[i], not X[i:j])."
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; expected finite numbers.")
    return arr


def lerp(a, b, n_steps: int = 8) -> np.ndarray:
    """``n_steps`` evenly spaced points on the segment from ``a`` to ``b``, both ends included.

    Parameters
    ----------
    a, b : (d,) the two end points (data vectors or codes).
    n_steps : number of points, at least 2.

    Returns
    -------
    (n_steps, d) array; row 0 is ``a`` and the last row is ``b``, exactly.
    """
    a, b = _as_point(a, "a"), _as_point(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a has {a.size} entries but b has {b.size}; both ends must live in the same space.")
    n_steps = check_int(n_steps, "n_steps", low=2, hint="an interpolation needs both end points")
    s = np.linspace(0.0, 1.0, n_steps)[:, None]  # (n_steps, 1)
    # (1 - s) a + s b rather than a + s (b - a): the end points come out exactly, with no rounding.
    return (1.0 - s) * a + s * b                 # (n_steps, d)


def interpolate(x_a, x_b, n_steps: int = 8, *, reducer=None) -> np.ndarray:
    """Interpolate between two data points, in data space or through a reducer's code space.

    Without ``reducer``: the straight line in data space (for images, a cross-fade that superimposes the
    two pictures). With ``reducer``: encode both ends, walk the straight line between the codes and decode
    every step, ``B((1 - s) A(x_a) + s A(x_b))``, so every step lies on the reducer's learned manifold.

    Returns
    -------
    (n_steps, n_features) array of data vectors.
    """
    x_a, x_b = _as_point(x_a, "x_a"), _as_point(x_b, "x_b")
    if reducer is None:
        return lerp(x_a, x_b, n_steps)
    _check_reducer(reducer)
    z_a = reducer.transform(x_a[None])[0]   # (p,)
    z_b = reducer.transform(x_b[None])[0]   # (p,)
    return np.asarray(reducer.inverse_transform(lerp(z_a, z_b, n_steps)), dtype=np.float64)  # (n_steps, n)


def code_extent(Z, margin: float = 0.1, quantile: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The box around codes ``Z`` (N, p), widened by ``margin`` times its width on each side.

    ``quantile`` > 0 trims outliers first: the box then runs from the ``quantile`` to the
    ``1 - quantile`` quantile of each axis (e.g. 0.01 ignores the most extreme 1 % at each end).

    Returns ``(low, high)``, each of shape (p,): the range to decode a lattice over.
    """
    Z = as_2d_float(Z, "Z")
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not np.isfinite(margin) or margin < 0:
        raise ValueError(f"margin={margin!r} must be a number >= 0 (a fraction of the codes' range, e.g. 0.1).")
    if isinstance(quantile, bool) or not isinstance(quantile, (int, float)) or not 0 <= quantile < 0.5:
        raise ValueError(f"quantile={quantile!r} must be a fraction in [0, 0.5), e.g. 0.01 to trim 1 % at each end.")
    lo = np.quantile(Z, quantile, axis=0)          # (p,)
    hi = np.quantile(Z, 1.0 - quantile, axis=0)    # (p,)
    width = hi - lo
    return lo - margin * width, hi + margin * width


def code_lattice(low: Sequence[float], high: Sequence[float], n_per_axis: int = 10) -> np.ndarray:
    """A regular ``n_per_axis`` x ``n_per_axis`` lattice of 2-D codes, in reading order.

    Row by row from the top (largest code 2) to the bottom, left (smallest code 1) to right within a
    row, so that ``aecourse.plotting.image_grid(decoded, ncols=n_per_axis)`` lays the decoded images out
    as the points sit in a scatter plot of the codes.

    Returns
    -------
    (n_per_axis ** 2, 2) array of codes.
    """
    low, high = _as_point(low, "low"), _as_point(high, "high")
    if low.size != 2 or high.size != 2:
        raise ValueError(
            f"low and high have {low.size} and {high.size} entries; a lattice is drawn in a 2-D code "
            "plane. For a p-D code, vary one axis at a time with traverse_codes."
        )
    if not (high > low).all():
        raise ValueError(f"high={high.tolist()} must exceed low={low.tolist()} on both axes; swap them?")
    n = check_int(n_per_axis, "n_per_axis", low=2, hint="a lattice needs at least 2 points per axis")
    z1 = np.linspace(low[0], high[0], n)           # left to right
    z2 = np.linspace(high[1], low[1], n)           # top to bottom
    g2, g1 = np.meshgrid(z2, z1, indexing="ij")    # (n, n) each: row index follows code 2
    return np.column_stack([g1.ravel(), g2.ravel()])  # (n * n, 2)


def decode_lattice(reducer, low: Sequence[float], high: Sequence[float],
                   n_per_axis: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Decode every code of :func:`code_lattice` with a reducer whose code is 2-D.

    Returns
    -------
    codes : (n_per_axis ** 2, 2) the lattice, in reading order.
    decoded : (n_per_axis ** 2, n_features) the decoder's output at each code.
    """
    _check_reducer(reducer)
    p = getattr(reducer, "n_components_", 2)
    if p != 2:
        raise ValueError(
            f"this reducer has a {p}-D code, but a lattice is drawn in a 2-D code plane; fit it with "
            "n_components=2, or vary one code axis at a time with traverse_codes."
        )
    codes = code_lattice(low, high, n_per_axis)                            # (n * n, 2)
    return codes, np.asarray(reducer.inverse_transform(codes), dtype=np.float64)  # (n * n, n_features)


def lattice_counts(Z, low: Sequence[float], high: Sequence[float], n_per_axis: int = 10) -> np.ndarray:
    """How many of the codes ``Z`` (N, 2) fall in the cell around each point of :func:`code_lattice`.

    Each lattice point owns the rectangle of half a lattice step on every side; codes outside the
    lattice's cells are not counted. A count of 0 marks a *hole*: a region of the code plane where no
    training data lives, so the decoder was never asked to produce anything there.

    Returns
    -------
    (n_per_axis ** 2,) integer counts, in the reading order of :func:`code_lattice`.
    """
    Z = as_2d_float(Z, "Z")
    if Z.shape[1] != 2:
        raise ValueError(f"Z has {Z.shape[1]} columns; lattice cells are drawn in a 2-D code plane (N, 2).")
    codes = code_lattice(low, high, n_per_axis)                       # (n * n, 2)
    n = int(n_per_axis)
    half = (np.asarray(high, float) - np.asarray(low, float)) / (n - 1) / 2.0   # (2,) half a step
    # A code belongs to the cell whose centre is within half a step on both axes (ties go to both:
    # a measure-zero event for real-valued codes).
    inside = (np.abs(Z[None, :, :] - codes[:, None, :]) <= half).all(axis=2)  # (n * n, N)
    return inside.sum(axis=1)


def traverse_codes(reducer, z0, offsets, scale=None) -> np.ndarray:
    """Decode straight walks from the code ``z0``, one code axis at a time.

    Parameters
    ----------
    reducer : a fitted reducer with a p-D code.
    z0 : (p,) the code to start from (e.g. the code of one image, or the mean code).
    offsets : (n_steps,) steps along each axis, e.g. ``np.linspace(-2, 2, 7)``.
    scale : optional (p,) multiplier per axis, e.g. ``Z.std(axis=0)`` so that offsets are in standard
        deviations of each code; default 1 (offsets in code units).

    Returns
    -------
    (p, n_steps, n_features) array: ``out[j, k]`` decodes ``z0 + offsets[k] * scale[j] * e_j``.
    """
    _check_reducer(reducer)
    z0 = _as_point(z0, "z0")
    offsets = _as_point(offsets, "offsets")
    p = z0.size
    scale = np.ones(p) if scale is None else _as_point(scale, "scale")
    if scale.size != p:
        raise ValueError(f"scale has {scale.size} entries but z0 has {p}; pass one multiplier per code axis.")
    steps = np.eye(p)[:, None, :] * (offsets[None, :, None] * scale[:, None, None])  # (p, n_steps, p)
    codes = (z0[None, None, :] + steps).reshape(-1, p)                                # (p * n_steps, p)
    decoded = np.asarray(reducer.inverse_transform(codes), dtype=np.float64)          # (p * n_steps, n)
    return decoded.reshape(p, offsets.size, -1)


def _as_vector(u, name: str) -> np.ndarray:
    arr = np.asarray(u.detach().cpu().numpy() if hasattr(u, "detach") else u, dtype=np.float64)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()  # a code column Z[:, [j]] or a row vector
    if arr.ndim != 1:
        raise ValueError(
            f"{name} has shape {arr.shape}; expected one number per sample, a 1-D array "
            f"(for codes Z of shape (N, p), pass one column such as Z[:, 0])."
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; expected finite numbers.")
    return arr


def rank_correlation(u, v) -> float:
    """``|Spearman rho|`` between two sequences of N numbers: how well one orders the samples as the other.

    Spearman's rho (Spearman 1904) is the Pearson correlation of the ranks, so it is 1 for ANY increasing
    relation (a chart may stretch its coordinate) and -1 for any decreasing one; the sign of a learned
    code axis is arbitrary, hence the absolute value. Computed with ``scipy.stats.spearmanr``.
    """
    from scipy.stats import spearmanr

    u, v = _as_vector(u, "u"), _as_vector(v, "v")
    if u.size != v.size:
        raise ValueError(f"u has {u.size} entries but v has {v.size}; pass one value per sample in each.")
    if u.size < 3:
        raise ValueError(f"u and v have {u.size} entries; a rank correlation needs at least 3 samples.")
    for name, arr in (("u", u), ("v", v)):
        if np.ptp(arr) == 0:
            raise ValueError(
                f"{name} is constant ({arr[0]!r} everywhere), so it orders nothing and the rank "
                "correlation is undefined; did the code collapse to a single value?"
            )
    return float(abs(spearmanr(u, v)[0]))


def nearest_distances(A, B, *, exclude_self: bool = False, chunk: int = 2048) -> np.ndarray:
    """Euclidean distance from each row of ``A`` (M, d) to its nearest row of ``B`` (N, d).

    With ``exclude_self=True`` (A and B the same set) a point is not its own neighbour: the result is
    each point's distance to its nearest *other* point, the typical spacing of a sample.

    Returns
    -------
    (M,) array of distances.
    """
    A, B = as_2d_float(A, "A"), as_2d_float(B, "B")
    if A.shape[1] != B.shape[1]:
        raise ValueError(
            f"A has {A.shape[1]} columns and B has {B.shape[1]}; both must be points in the same space."
        )
    if exclude_self and A.shape != B.shape:
        raise ValueError(
            f"exclude_self=True needs A and B to be the same set of points, but their shapes are {A.shape} "
            f"and {B.shape}; pass the same array twice, or exclude_self=False."
        )
    if exclude_self and len(A) < 2:
        raise ValueError("exclude_self=True needs at least 2 points: a lone point has no other neighbour.")
    chunk = check_int(chunk, "chunk", low=1)
    b2 = (B ** 2).sum(axis=1)                          # (N,)
    out = np.empty(len(A))
    for start in range(0, len(A), chunk):              # chunks keep the (m, N) matrix small
        a = A[start:start + chunk]                     # (m, d)
        d2 = (a ** 2).sum(axis=1)[:, None] + b2[None, :] - 2.0 * a @ B.T   # (m, N)
        if exclude_self:
            idx = np.arange(start, start + len(a))
            d2[idx - start, idx] = np.inf
        out[start:start + len(a)] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return out
