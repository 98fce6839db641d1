"""The curse of dimensionality in numbers: volumes and distances in the unit ball and cube, exact and by
Monte Carlo, the concentration of distances (relative contrast), a maximum-likelihood estimate of the
intrinsic dimension of a data set, and the knee of an error curve (error against code size).

Exact formulas are computed in log space wherever the plain numbers under- or overflow: the unit ball
fills V_d / 2^d = 1.9e-70 of its cube at d = 100, and Gamma(d/2 + 1) overflows a float64 from d = 342 on.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from ._validation import as_2d_float, check_choice, check_int

__all__ = [
    "log_unit_ball_volume", "unit_ball_volume", "log_ball_cube_ratio", "ball_cube_ratio", "shell_fraction",
    "subcube_edge", "median_nn_distance", "n_cells_log10", "occupied_cell_fraction",
    "sample_unit_ball", "sample_unit_cube",
    "mc_ball_cube_ratio", "mc_shell_fraction", "mc_subcube_edge", "mc_median_nn_distance",
    "mc_occupied_cell_fraction",
    "pairwise_distances", "nearest_farthest", "relative_contrast", "knn_distances", "mle_local_dimension",
    "mle_intrinsic_dimension", "mle_dimension_from_knn", "knee_point",
]

_CHUNK = 1024  # rows per block when a full (N, M) or (n_samples, d) array would be large


# ---------------------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------------------

def _dims(d, name: str = "d"):
    """``(d as float64, is_scalar)``; every entry must be a whole number >= 1."""
    if isinstance(d, torch.Tensor):
        d = d.detach().cpu().numpy()
    if isinstance(d, bool) or (isinstance(d, np.ndarray) and d.dtype == bool):
        raise TypeError(f"{name}={d!r} is a boolean; pass an integer dimension >= 1, e.g. d=10.")
    try:
        arr = np.asarray(d, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name}={d!r} must be an integer dimension >= 1, or an array of them.") from None
    if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)) or np.any(arr < 1):
        raise ValueError(
            f"{name}={d!r} must hold whole-number dimensions >= 1; pass e.g. d=10 or d=np.arange(1, 101)."
        )
    return (float(arr), True) if arr.ndim == 0 else (arr, False)


def _fraction(value, name: str, *, closed_right: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"{name}={value!r} must be a real number between 0 and 1.")
    ok = 0 < value <= 1 if closed_right else 0 < value < 1
    if not ok:
        bound = "0 < {} <= 1" if closed_right else "0 < {} < 1"
        raise ValueError(f"{name}={value!r} must satisfy {bound.format(name)}; e.g. {name}=0.1 for 10 %.")
    return float(value)


def _out(x, scalar: bool):
    return float(x) if scalar else x


# ---------------------------------------------------------------------------------------------------------
# Exact formulas
# ---------------------------------------------------------------------------------------------------------

def log_unit_ball_volume(d):
    """Natural log of the volume of the unit ball in R^d, ``V_d = pi^(d/2) / Gamma(d/2 + 1)``.

    Computed as ``(d/2) log(pi) - lgamma(d/2 + 1)``, finite for every d (the plain formula overflows in
    Gamma from d = 342 on). ``d``: an integer >= 1 or an array of them; returns a float or an array.
    """
    from scipy.special import gammaln

    d, scalar = _dims(d)
    return _out(0.5 * d * math.log(math.pi) - gammaln(0.5 * d + 1.0), scalar)


def unit_ball_volume(d):
    """Volume of the unit ball in R^d (largest at d = 5, 5.264; it tends to 0 as d grows)."""
    return _out(np.exp(log_unit_ball_volume(d)), np.ndim(d) == 0)


def log_ball_cube_ratio(d):
    """Natural log of ``V_d / 2^d``: the fraction of the cube [-1, 1]^d that its inscribed ball fills."""
    d_arr, scalar = _dims(d)
    return _out(log_unit_ball_volume(d_arr) - d_arr * math.log(2.0), scalar)


def ball_cube_ratio(d):
    """``V_d / 2^d``: 0.785 at d = 2, 2.49e-3 at d = 10, 1.9e-70 at d = 100 (0.0 once it underflows,
    near d = 1000; use :func:`log_ball_cube_ratio` there)."""
    return _out(np.exp(log_ball_cube_ratio(d)), np.ndim(d) == 0)


def shell_fraction(d, eps: float = 0.01):
    """Fraction of the unit ball's volume within ``eps`` of its surface: ``1 - (1 - eps)^d``.

    The ball of radius 1 - eps holds (1 - eps)^d of the volume, because volume scales as r^d. Computed
    as ``-expm1(d * log1p(-eps))``, accurate for small eps and large d alike.
    """
    d, scalar = _dims(d)
    eps = _fraction(eps, "eps")
    if eps == 1.0:
        return _out(np.ones_like(d), scalar)
    return _out(-np.expm1(d * math.log1p(-eps)), scalar)


def subcube_edge(d, fraction: float = 0.1):
    """Edge of the sub-cube of [0, 1]^d that holds ``fraction`` of uniform data: ``fraction^(1/d)``.

    Hastie, Tibshirani & Friedman (2009), section 2.5: a "local" neighbourhood holding 10 % of the data
    spans 0.79 of every axis at d = 10.
    """
    d, scalar = _dims(d)
    fraction = _fraction(fraction, "fraction")
    return _out(np.exp(math.log(fraction) / d), scalar)


def median_nn_distance(d, n_samples: int):
    """Median distance from the centre of the unit ball to the nearest of ``n_samples`` uniform points.

    Hastie, Tibshirani & Friedman (2009), eq. (2.24): ``(1 - (1/2)^(1/N))^(1/d)``; 0.52 for N = 500,
    d = 10, so the nearest point is closer to the boundary than to the centre. Derivation: the nearest
    point is farther than r with probability (1 - r^d)^N; setting this to 1/2 and solving gives the median.
    """
    d, scalar = _dims(d)
    n_samples = check_int(n_samples, "n_samples", low=1)
    # 1 - 0.5^(1/N) = -expm1(log(0.5) / N): no cancellation for large N.
    log_q = math.log(-math.expm1(math.log(0.5) / n_samples))
    return _out(np.exp(log_q / d), scalar)


def n_cells_log10(d, n_bins: int = 10):
    """log10 of the number of cells ``n_bins^d`` of a grid with ``n_bins`` bins per axis (64 for 8x8
    images at 10 bins per pixel: 10^64 cells)."""
    d, scalar = _dims(d)
    n_bins = check_int(n_bins, "n_bins", low=1)
    return _out(d * math.log10(n_bins), scalar)


def occupied_cell_fraction(d, n_bins: int, n_samples: int):
    """Expected fraction of the ``n_bins^d`` grid cells that hold at least one of ``n_samples`` uniform
    points: ``1 - (1 - n_bins^-d)^N`` (each cell is missed by each point independently).

    Computed as ``-expm1(N * log1p(-exp(-d log n_bins)))``, which stays accurate when n_bins^d is huge.
    """
    d, scalar = _dims(d)
    n_bins = check_int(n_bins, "n_bins", low=1)
    n_samples = check_int(n_samples, "n_samples", low=1)
    if n_bins == 1:
        return _out(np.ones_like(d), scalar)
    p_cell = np.exp(-d * math.log(n_bins))  # probability that one point falls in a given cell (<= 1/2)
    return _out(-np.expm1(n_samples * np.log1p(-p_cell)), scalar)


# ---------------------------------------------------------------------------------------------------------
# Sampling and Monte-Carlo estimates
# ---------------------------------------------------------------------------------------------------------

def sample_unit_ball(n_samples: int, d: int, seed: int = 0) -> np.ndarray:
    """``n_samples`` points drawn uniformly from the unit ball in R^d: (n_samples, d) float64.

    A standard Gaussian vector has a uniformly random direction; scaling it to radius U^(1/d) (U uniform
    on [0, 1]) gives the radius law P(R <= r) = r^d of the uniform ball (Muller 1959). Rejection from the
    cube would need 1 / ball_cube_ratio(d) draws per point: 400 at d = 10, 10^70 at d = 100.
    """
    n_samples = check_int(n_samples, "n_samples", low=1)
    d = check_int(d, "d", low=1)
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((n_samples, d))                          # (n, d)
    g /= np.linalg.norm(g, axis=1, keepdims=True)                    # directions on the sphere
    r = rng.random(n_samples) ** (1.0 / d)                           # (n,) radii
    return g * r[:, None]


def sample_unit_cube(n_samples: int, d: int, seed: int = 0) -> np.ndarray:
    """``n_samples`` points drawn uniformly from [0, 1]^d: (n_samples, d) float64."""
    n_samples = check_int(n_samples, "n_samples", low=1)
    d = check_int(d, "d", low=1)
    return np.random.default_rng(seed).random((n_samples, d))


def mc_ball_cube_ratio(d: int, n_samples: int = 100_000, seed: int = 0) -> float:
    """Monte-Carlo estimate of ``V_d / 2^d``: the fraction of uniform points of [-1, 1]^d with norm <= 1.

    Its standard error is sqrt(p (1 - p) / n_samples); once p is far below 1 / n_samples no point lands
    in the ball and the estimate is 0: the naive sampler suffers the curse it is measuring.
    """
    d = check_int(d, "d", low=1)
    n_samples = check_int(n_samples, "n_samples", low=1)
    rng = np.random.default_rng(seed)
    hits, rows = 0, max(1, (1 << 20) // d)  # about 8 MB of float64 per block
    for start in range(0, n_samples, rows):
        x = rng.uniform(-1.0, 1.0, size=(min(rows, n_samples - start), d))   # (b, d)
        hits += int(((x * x).sum(axis=1) <= 1.0).sum())
    return hits / n_samples


def mc_shell_fraction(d: int, eps: float = 0.01, n_samples: int = 100_000, seed: int = 0) -> float:
    """Monte-Carlo estimate of :func:`shell_fraction`: the fraction of uniform ball points with norm > 1 - eps."""
    eps = _fraction(eps, "eps")
    x = sample_unit_ball(n_samples, d, seed)                          # (n, d)
    return float((np.linalg.norm(x, axis=1) > 1.0 - eps).mean())


def mc_subcube_edge(d: int, fraction: float = 0.1, n_samples: int = 100_000, seed: int = 0) -> float:
    """Monte-Carlo estimate of :func:`subcube_edge`.

    A point of [0, 1]^d lies in the corner cube [0, e]^d exactly when its largest coordinate is <= e, so
    the smallest such cube holding ``fraction`` of the points has edge = that quantile of the row maxima.
    """
    fraction = _fraction(fraction, "fraction")
    x = sample_unit_cube(n_samples, d, seed)                          # (n, d)
    return float(np.quantile(x.max(axis=1), fraction))


def mc_median_nn_distance(d: int, n_samples: int, n_trials: int = 400, seed: int = 0) -> float:
    """Monte-Carlo estimate of :func:`median_nn_distance`: over ``n_trials`` draws of ``n_samples``
    uniform ball points, the median of the distance from the centre to the nearest point."""
    n_trials = check_int(n_trials, "n_trials", low=1)
    n_samples = check_int(n_samples, "n_samples", low=1)
    d = check_int(d, "d", low=1)
    # One big draw reshaped into trials: (n_trials * N, d) -> norms (n_trials, N) -> min per trial.
    x = sample_unit_ball(n_trials * n_samples, d, seed)
    nearest = np.linalg.norm(x, axis=1).reshape(n_trials, n_samples).min(axis=1)   # (n_trials,)
    return float(np.median(nearest))


def mc_occupied_cell_fraction(d: int, n_bins: int, n_samples: int, seed: int = 0) -> float:
    """Monte-Carlo estimate of :func:`occupied_cell_fraction`: drop ``n_samples`` uniform points into the
    ``n_bins^d`` grid of [0, 1]^d and count the distinct cells they land in."""
    d = check_int(d, "d", low=1)
    n_bins = check_int(n_bins, "n_bins", low=1)
    cells = np.floor(sample_unit_cube(n_samples, d, seed) * n_bins).astype(np.int64)   # (n, d) cell indices
    n_occupied = len(np.unique(cells, axis=0))
    return float(n_occupied * math.exp(-d * math.log(n_bins)))


# ---------------------------------------------------------------------------------------------------------
# Distances and their concentration
# ---------------------------------------------------------------------------------------------------------

def pairwise_distances(X, Y=None) -> np.ndarray:
    """Euclidean distances between the rows of ``X`` (N, d) and of ``Y`` (M, d; default X): (N, M) float64.

    Uses ||x||^2 + ||y||^2 - 2 x.y (one matrix product), after subtracting a common mean: distances do
    not change, and the cancellation error of the expansion shrinks with the norms. The rounding error
    of a distance is then about 1e-8 times the data's spread, far below the distances measured here.
    """
    X = as_2d_float(X, "X")
    Y = X if Y is None else as_2d_float(Y, "Y")
    if Y.shape[1] != X.shape[1]:
        raise ValueError(f"Y has {Y.shape[1]} features but X has {X.shape[1]}; both need the same columns.")
    m = X.mean(axis=0)
    Xc, Yc = X - m, Y - m
    x2, y2 = (Xc * Xc).sum(1), (Yc * Yc).sum(1)                                     # (N,), (M,)
    sq = _squared_distances(Xc, Yc, x2, y2)                                         # (N, M)
    sq[sq <= 1e-12 * (x2[:, None] + y2[None, :])] = 0.0                             # see _exact_zeros
    if Y is X:
        np.fill_diagonal(sq, 0.0)
    return np.sqrt(np.maximum(sq, 0.0))


def _squared_distances(Xc: np.ndarray, Yc: np.ndarray, x2: np.ndarray, y2: np.ndarray) -> np.ndarray:
    """||x||^2 + ||y||^2 - 2 x.y for centred rows, with their squared norms x2, y2: (N, M), built in place
    on the matrix product (one allocation for the whole block)."""
    sq = Xc @ Yc.T                                                                  # (N, M)
    sq *= -2.0
    sq += x2[:, None]
    sq += y2[None, :]
    return sq


def _exact_zeros(sq: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """Distances from selected squared distances ``sq`` and the matching ``x2 + y2`` (same shape).

    Identical rows must give exactly 0, not the rounding residue of the expansion (a few ulps of the
    norms): anything below 1e-12 of the norms is that residue.
    """
    sq = np.where(sq <= 1e-12 * norms, 0.0, sq)
    return np.sqrt(np.maximum(sq, 0.0))


def nearest_farthest(X, queries=None) -> tuple[np.ndarray, np.ndarray]:
    """Distances from each query to its nearest and its farthest point of ``X``: ``(d_min, d_max)``, (M,) each.

    ``X`` (N, d), N >= 2; ``queries`` (M, d), by default every point of X against the other N - 1 (leave
    one out). Raises if a query coincides with a data point (d_min = 0). The same numbers as the row
    minima and maxima of :func:`pairwise_distances`, computed without taking N x M square roots: the
    square root is increasing, so the nearest and farthest points can be found on squared distances.
    """
    X = as_2d_float(X, "X")
    if len(X) < 2:
        raise ValueError(f"X has {len(X)} point; a nearest and a farthest neighbour need at least 2.")
    loo = queries is None
    Q = X if loo else as_2d_float(queries, "queries")
    if loo and len(X) < 3:
        raise ValueError(f"X has {len(X)} points; leaving one out needs at least 3.")
    if Q.shape[1] != X.shape[1]:
        raise ValueError(f"queries have {Q.shape[1]} features but X has {X.shape[1]}; both need the same columns.")
    m = X.mean(axis=0)
    Xc, Qc = X - m, Q - m
    x2, q2 = (Xc * Xc).sum(1), (Qc * Qc).sum(1)                       # (N,), (M,)
    d_min, d_max = np.empty(len(Q)), np.empty(len(Q))
    for start in range(0, len(Q), _CHUNK):
        sq = _squared_distances(Qc[start:start + _CHUNK], Xc, q2[start:start + _CHUNK], x2)   # (b, N)
        rows = np.arange(len(sq))
        far = sq.argmax(axis=1)                                        # the self-distance 0 never is the max
        if loo:
            sq[rows, start + rows] = np.inf                            # a point is not its own neighbour
        near = sq.argmin(axis=1)
        qb = q2[start:start + len(sq)]
        d_max[start:start + len(sq)] = _exact_zeros(sq[rows, far], qb + x2[far])
        d_min[start:start + len(sq)] = _exact_zeros(sq[rows, near], qb + x2[near])
    if np.any(d_min == 0):
        n0 = int((d_min == 0).sum())
        raise ValueError(
            f"{n0} query point(s) coincide with a data point (D_min = 0), so the relative contrast is "
            "infinite; remove duplicate rows first, e.g. X = np.unique(X, axis=0)."
        )
    return d_min, d_max


def relative_contrast(X, queries=None, reduce: str = "mean"):
    """Relative contrast ``(D_max - D_min) / D_min`` (Aggarwal, Hinneburg & Keim 2001), averaged over queries.

    For a query q, D_min and D_max are its smallest and largest distances to the points of ``X``.
    Beyer et al. (1999) showed that for many distributions (i.i.d. coordinates among them)
    D_max / D_min -> 1 in probability as d grows; Aggarwal, Hinneburg & Keim (2001) named the difference
    quotient above the relative contrast and showed that for the Euclidean distance it shrinks like
    1 / sqrt(d). Either way the contrast tends to 0 and "the nearest neighbour" stops meaning much.

    Parameters
    ----------
    X : (N, d) data, N >= 2.
    queries : (M, d) query points; by default every point of X is a query against the other N - 1
        (leave one out).
    reduce : "mean" (a float), "median" (a float) or "none" (the (M,) contrasts).
    """
    check_choice(reduce, "reduce", ("mean", "median", "none"))
    d_min, d_max = nearest_farthest(X, queries)
    rc = (d_max - d_min) / d_min                                       # (M,)
    if reduce == "none":
        return rc
    return float(rc.mean() if reduce == "mean" else np.median(rc))


# ---------------------------------------------------------------------------------------------------------
# Intrinsic dimension (Levina & Bickel 2004)
# ---------------------------------------------------------------------------------------------------------

def knn_distances(X, k: int) -> np.ndarray:
    """Sorted distances from each point of ``X`` (N, d) to its ``k`` nearest OTHER points: (N, k).

    The k nearest are picked on squared distances (the square root is increasing), and only those k
    distances per point are square-rooted.
    """
    X = as_2d_float(X, "X")
    k = check_int(k, "k", low=1, high=len(X) - 1,
                  hint=f"a point has at most N - 1 = {len(X) - 1} other points")
    Xc = X - X.mean(axis=0)
    x2 = (Xc * Xc).sum(1)                                             # (N,)
    out = np.empty((len(X), k))
    for start in range(0, len(X), _CHUNK):
        sq = _squared_distances(Xc[start:start + _CHUNK], Xc, x2[start:start + _CHUNK], x2)   # (b, N)
        rows = np.arange(len(sq))
        sq[rows, start + rows] = np.inf                               # exclude the point itself
        idx = np.argpartition(sq, k - 1, axis=1)[:, :k]               # (b, k) the k smallest, unordered
        near = np.take_along_axis(sq, idx, axis=1)                    # (b, k)
        dist = _exact_zeros(near, x2[start:start + len(sq), None] + x2[idx])
        out[start:start + len(sq)] = np.sort(dist, axis=1)
    return out


def _log_ratio_sums(T: np.ndarray, k: int) -> np.ndarray:
    """S_k(x) = sum_{j<k} log(T_k(x) / T_j(x)) for each row of sorted distances T (N, >= k): (N,)."""
    logT = np.log(T[:, :k])                                           # (N, k)
    return (logT[:, k - 1:k] - logT[:, :k - 1]).sum(axis=1)


def mle_local_dimension(X, k: int = 20) -> np.ndarray:
    """Levina & Bickel's (2004) local maximum-likelihood dimension at every point: (N,).

    With T_1 <= ... <= T_k the distances from x to its k nearest neighbours, the neighbours of x look like a
    Poisson process whose count in a ball of radius t grows as t^m; maximising its likelihood gives
    ``m_k(x) = (k - 2) / sum_{j=1}^{k-1} log(T_k / T_j)``. (The likelihood itself gives k - 1 in the
    numerator; k - 2 makes it unbiased, and is what Levina & Bickel use in practice.)
    """
    X = as_2d_float(X, "X")
    k = check_int(k, "k", low=3, high=len(X) - 1,
                  hint="the estimate needs at least 3 neighbours and at most N - 1")
    T = knn_distances(X, k)
    _check_no_duplicates(T)
    return (k - 2) / _log_ratio_sums(T, k)


def _check_no_duplicates(T: np.ndarray) -> None:
    if np.any(T[:, 0] == 0):
        n0 = int((T[:, 0] == 0).sum())
        raise ValueError(
            f"{n0} point(s) have a duplicate (nearest-neighbour distance 0), and log(T_k / 0) is infinite; "
            "remove duplicate rows first, e.g. X = np.unique(X, axis=0)."
        )


def mle_intrinsic_dimension(X, k1: int = 10, k2: int = 20, average: str = "mean") -> float:
    """Levina & Bickel's (2004) maximum-likelihood estimate of the intrinsic dimension of ``X`` (N, d).

    For each k in k1..k2 the local estimates are combined over the N points, then the results are
    averaged over k (the paper's recipe, with its defaults k1 = 10, k2 = 20).

    average : "mean" averages the (unbiased, k - 2) local estimates m_k(x) over points, as Levina &
        Bickel do; "inverse" is MacKay & Ghahramani's (2005) correction, the likelihood of one shared
        dimension for all points: N (k - 1) / sum_x S_k(x).
    """
    X = as_2d_float(X, "X")
    k1 = check_int(k1, "k1", low=3, high=len(X) - 1, hint="the estimate needs at least 3 neighbours")
    k2 = check_int(k2, "k2", low=k1, high=len(X) - 1,
                   hint=f"k2 must be at least k1={k1} and at most N - 1 = {len(X) - 1}")
    check_choice(average, "average", ("mean", "inverse"))
    return mle_dimension_from_knn(knn_distances(X, k2), k1, k2, average)


def mle_dimension_from_knn(T, k1: int = 10, k2: int = 20, average: str = "mean") -> float:
    """:func:`mle_intrinsic_dimension` from precomputed sorted neighbour distances ``T`` (N, >= k2), as
    returned by :func:`knn_distances`; computing T once lets one scan k cheaply."""
    T = as_2d_float(T, "T")
    check_choice(average, "average", ("mean", "inverse"))
    k1 = check_int(k1, "k1", low=3, high=T.shape[1], hint=f"T holds {T.shape[1]} neighbours per point")
    k2 = check_int(k2, "k2", low=k1, high=T.shape[1],
                   hint=f"k2 must be at least k1={k1} and at most the {T.shape[1]} neighbours in T")
    if np.any(np.diff(T, axis=1) < 0):
        raise ValueError("T must hold each point's neighbour distances in increasing order; sort it with "
                         "np.sort(T, axis=1) (knn_distances already does).")
    _check_no_duplicates(T)
    estimates = []
    for k in range(k1, k2 + 1):
        S = _log_ratio_sums(T, k)                                     # (N,)
        if average == "mean":
            estimates.append(float(np.mean((k - 2) / S)))
        else:
            estimates.append(float(len(S) * (k - 1) / S.sum()))
    return float(np.mean(estimates))


# ---------------------------------------------------------------------------------------------------------
# The knee of a curve
# ---------------------------------------------------------------------------------------------------------

def _as_curve(values, name: str) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} of type {type(values).__name__} must be a 1-D sequence of numbers.") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} has shape {arr.shape}; pass a 1-D sequence, one value per point of the curve.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; expected finite numbers.")
    return arr


def knee_point(x, y) -> float:
    """The knee of a curve y(x): the x at which the curve lies farthest from the chord between its ends.

    Both axes are first scaled to [0, 1] (x by its range, y by its range), so the rule has no units and
    no free parameter. This is the difference curve at the heart of Satopaa et al.'s (2011) "Kneedle",
    without its smoothing step and threshold. For a falling, convex curve such as reconstruction error
    against code size, it picks the code size after which each extra unit buys little. The answer is
    one of the given x and depends on the range of x tried: a longer tail moves the chord and the knee.

    Parameters
    ----------
    x : (n,) increasing values, n >= 3 (e.g. code sizes).
    y : (n,) the curve at those x (e.g. test errors); not constant.

    Returns
    -------
    The x of the knee, as a float.
    """
    x, y = _as_curve(x, "x"), _as_curve(y, "y")
    if x.size != y.size:
        raise ValueError(f"x has {x.size} values but y has {y.size}; pass one y per x.")
    if x.size < 3:
        raise ValueError(f"x has {x.size} values; a knee needs at least 3 points (two ends and one between).")
    if np.any(np.diff(x) <= 0):
        raise ValueError(f"x={x.tolist()} must be strictly increasing; sort the points by x first.")
    if y[0] == y[-1]:
        raise ValueError(
            f"y has the same value {float(y[0])!r} at both ends, so the chord is flat and the curve's range cannot "
            "be scaled to [0, 1]; a knee needs a curve that rises or falls overall."
        )
    xn = (x - x[0]) / (x[-1] - x[0])                                  # (n,) from 0 to 1
    yn = (y - y[0]) / (y[-1] - y[0])                                  # (n,) from 0 to 1 along the chord
    return float(x[int(np.argmax(np.abs(yn - xn)))])                 # the chord is yn = xn
