"""Checkers for manifold learning: straight paths in data and code space, the rank correlation of a code
with a known coordinate, the reconstruction error of a perfect 1-d chart of the swiss roll, and the share
of points whose nearest neighbours jump between the roll's turns."""
from __future__ import annotations

import numpy as np

from ..manifold import lerp
from ._core import check_function, check_value, checker

__all__ = ["check_lerp", "check_code_path", "check_rank_corr", "check_chart_mse", "check_shortcut_fraction"]


# --- ex-manifold-lerp ---------------------------------------------------------------------------------

def _lerp_cases():
    rng = np.random.default_rng(0)
    return [
        (np.array([0.0, 0.0]), np.array([1.0, 2.0]), 5),
        (rng.standard_normal(3), rng.standard_normal(3), 2),
        (rng.random(64), rng.random(64), 9),
    ]


def _example_lerp(a, b, n_steps):
    s = np.linspace(0.0, 1.0, n_steps)[:, None]
    return (1 - s) * np.asarray(a, float) + s * np.asarray(b, float)


@checker("ex-manifold-lerp", example=lambda: _example_lerp)
def check_lerp(fn):
    """``fn(a, b, n_steps)`` must return the (n_steps, d) points (1 - s) a + s b, s = 0 .. 1 included."""
    return check_function(
        "ex-manifold-lerp", fn, reference=lerp, cases=_lerp_cases(), expect="array",
        case_names=["a=(0, 0), b=(1, 2), 5 steps", "random 3-d ends, 2 steps", "two random 64-d images, 9 steps"],
        mistakes=[
            (lambda a, b, n: a + (b - a) * (np.arange(n) / n)[:, None],
             "your last point stops short of b: with s = k / n_steps the weights never reach 1. Use "
             "np.linspace(0, 1, n_steps), which includes both ends."),
            (lambda a, b, n: b + (a - b) * np.linspace(0, 1, n)[:, None],
             "your path runs backwards, from b to a: the weight s multiplies b, and (1 - s) multiplies a."),
            (lambda a, b, n: (a + (b - a) * np.linspace(0, 1, n)[:, None]).T,
             "one row per step: return shape (n_steps, d), not (d, n_steps)."),
        ],
        hint="s = np.linspace(0, 1, n_steps)[:, None] is a column of weights; (1 - s) * a + s * b broadcasts "
             "it against the vectors.",
    )


# --- ex-manifold-code-path ----------------------------------------------------------------------------

class _CurvedReducer:
    """A fixed nonlinear encoder/decoder pair from R^3 to R^2 and back, so that interpolating in data
    space, in code space, or reconstructing a data-space path all give different answers."""

    n_components_ = 2

    def __init__(self):
        self.W = np.array([[0.8, -0.5, 0.3], [0.2, 0.9, -0.6]])   # (2, 3)
        self.V = np.array([[1.0, 0.4], [-0.7, 0.9], [0.3, -1.2]])  # (3, 2)

    def transform(self, X):
        X = np.asarray(X, dtype=float)
        if X.ndim != 2:
            raise ValueError(f"transform expects a 2-d array (n_samples, 3), got shape {X.shape}; "
                             "use x[None] or x.reshape(1, -1) for one point.")
        return np.tanh(X @ self.W.T)                      # (N, 2)

    def inverse_transform(self, Z):
        Z = np.asarray(Z, dtype=float)
        if Z.ndim != 2:
            raise ValueError(f"inverse_transform expects a 2-d array (n_samples, 2), got shape {Z.shape}.")
        return np.sin(Z @ self.V.T) + 0.5 * Z[:, :1] ** 2  # (N, 3)


def _reference_code_path(reducer, x_a, x_b, n_steps):
    z = reducer.transform(np.stack([x_a, x_b]))           # (2, p)
    return reducer.inverse_transform(lerp(z[0], z[1], n_steps))


def _code_path_cases():
    from ..decomposition import PCA

    rng = np.random.default_rng(3)
    pca = PCA(2).fit(rng.standard_normal((40, 5)) * np.array([3.0, 2.0, 1.0, 0.5, 0.2]))
    curved = _CurvedReducer()
    return [
        (curved, np.array([1.0, -0.5, 0.2]), np.array([-0.3, 0.8, 1.1]), 5),
        (curved, rng.standard_normal(3), rng.standard_normal(3), 2),
        (pca, rng.standard_normal(5), rng.standard_normal(5), 7),
    ]


def _example_code_path(reducer, x_a, x_b, n_steps):
    z_a = reducer.transform(np.asarray(x_a, float)[None])[0]
    z_b = reducer.transform(np.asarray(x_b, float)[None])[0]
    s = np.linspace(0.0, 1.0, n_steps)[:, None]
    return reducer.inverse_transform((1 - s) * z_a + s * z_b)


@checker("ex-manifold-code-path", example=lambda: _example_code_path)
def check_code_path(fn):
    """``fn(reducer, x_a, x_b, n_steps)`` must decode the straight line between the codes of x_a and x_b."""
    return check_function(
        "ex-manifold-code-path", fn, reference=_reference_code_path, cases=_code_path_cases(), expect="array",
        case_names=["a curved 3-d -> 2-d reducer, 5 steps", "the curved reducer, 2 steps",
                    "aecourse.PCA(2) on 5-d data, 7 steps"],
        mistakes=[
            (lambda r, a, b, n: lerp(a, b, n),
             "that is the straight line in data space (a cross-fade); encode both ends first, "
             "interpolate the codes, and decode every step."),
            (lambda r, a, b, n: r.inverse_transform(r.transform(lerp(a, b, n))),
             "you reconstructed the data-space path, encoding each cross-faded point; interpolate "
             "between the two codes instead, so the path is straight in code space."),
            (lambda r, a, b, n: lerp(*r.transform(np.stack([a, b])), n),
             "those are the codes on the path; decode them with reducer.inverse_transform."),
        ],
        hint="z_a = reducer.transform(x_a[None])[0], likewise z_b; then decode (1 - s) z_a + s z_b for "
             "s = np.linspace(0, 1, n_steps)[:, None].",
    )


# --- ex-manifold-rank-corr ----------------------------------------------------------------------------

def _reference_abs_spearman(u, v):
    from scipy.stats import spearmanr

    return float(abs(spearmanr(u, v)[0]))


def _rank_cases():
    rng = np.random.default_rng(5)
    x = rng.standard_normal(30)
    return [
        (x, np.exp(2 * x)),                            # monotone but curved: rho = 1, Pearson < 1
        (x, -x ** 3 + 0.3 * rng.standard_normal(30)),  # decreasing: rho < 0
        (rng.random(50), rng.random(50)),              # unrelated
        (np.array([3.0, 1.0, 2.0, 5.0, 4.0]), np.array([10.0, 30.0, 20.0, 50.0, 40.0])),
    ]


def _example_abs_spearman(u, v):
    ru = np.argsort(np.argsort(u))
    rv = np.argsort(np.argsort(v))
    return float(abs(np.corrcoef(ru, rv)[0, 1]))


@checker("ex-manifold-rank-corr", example=lambda: _example_abs_spearman)
def check_rank_corr(fn):
    """``fn(u, v)`` must return |Spearman rho| of two tie-free 1-d arrays, as a float."""
    return check_function(
        "ex-manifold-rank-corr", fn, reference=_reference_abs_spearman, cases=_rank_cases(), expect="float",
        rtol=1e-6, atol=1e-9,
        case_names=["v = exp(2u), a curved increasing relation", "a noisy decreasing relation",
                    "two unrelated random arrays", "five hand-made values"],
        mistakes=[
            (lambda u, v: float(abs(np.corrcoef(u, v)[0, 1])),
             "that is the Pearson correlation of the values; Spearman's rho is the Pearson correlation "
             "of their RANKS, which is 1 for any increasing relation, curved or not."),
            (lambda u, v: float(abs(np.corrcoef(np.argsort(u), np.argsort(v))[0, 1])),
             "np.argsort(u) gives the positions of the sorted entries, not the rank of each entry; "
             "apply argsort twice: np.argsort(np.argsort(u))."),
            (lambda u, v: float(np.corrcoef(np.argsort(np.argsort(u)), np.argsort(np.argsort(v)))[0, 1]),
             "a decreasing relation gives a negative rho; take the absolute value (the sign of a learned "
             "code axis is arbitrary)."),
        ],
        hint="rank each array with np.argsort(np.argsort(x)), then take abs(np.corrcoef(ranks_u, ranks_v)[0, 1]).",
    )


# --- ex-manifold-chart-mse ----------------------------------------------------------------------------

@checker("ex-manifold-chart-mse", kind="value", example=lambda: 1 / 3)
def check_chart_mse(value):
    """The per-coordinate MSE of a perfect chart of t on the standardised, noise-free swiss roll: 1/3."""
    return check_value(
        "ex-manifold-chart-mse", value, 1 / 3, rtol=0.02, what="chart_mse",
        mistakes=[
            (1.0, "that is the error of the height coordinate alone; the MSE averages over all three "
                  "coordinates, two of which t determines exactly."),
            (0.0, "t fixes x1 and x3, but not the height x2: the sheet has two intrinsic coordinates."),
            (2 / 3, "only one coordinate is unknown given t: the height. x1 and x3 are functions of t."),
            (0.5, "the data are standardised: the height's variance is 1, and there are 3 coordinates."),
        ],
        hint="t determines x1 and x3; the best guess of the height is its mean; average the three squared "
             "errors.",
    )


# --- ex-manifold-shortcuts ----------------------------------------------------------------------------

def _knn_indices(X, k, include_self=False):
    """Indices of each row's k nearest rows of X by brute force: (N, k)."""
    X = np.asarray(X, dtype=np.float64)
    D = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)            # (N, N) squared distances
    if not include_self:
        np.fill_diagonal(D, np.inf)                                     # a point is not its own neighbour
    return np.argsort(D, axis=1)[:, :k]


def _shortcut_fraction(X, t, k, max_dt=np.pi, include_self=False, per_pair=False):
    t = np.asarray(t, dtype=np.float64)
    far = np.abs(t[_knn_indices(X, k, include_self)] - t[:, None]) > max_dt   # (N, k)
    return float(far.mean() if per_pair else far.any(axis=1).mean())


def _reference_shortcut(X, t, k):
    return _shortcut_fraction(X, t, k)


def _roll(n, noise, seed):
    """A small un-standardised swiss roll (turns about 2 pi apart in t), with its roll parameter t."""
    rng = np.random.default_rng(seed)
    t = 1.5 * np.pi * (1 + 2 * rng.random(n))                          # (n,) as in sklearn's make_swiss_roll
    X = np.column_stack([t * np.cos(t), 21 * rng.random(n), t * np.sin(t)])   # (n, 3)
    return X + noise * rng.standard_normal(X.shape), t


def _shortcut_cases():
    X1, t1 = _roll(150, 0.6, seed=1)
    X2, t2 = _roll(120, 1.2, seed=2)
    X3 = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0], [5.5, 5.0]])
    t3 = np.array([0.0, 0.5, 10.0, 1.0, 1.2])
    return [(X1, t1, 20), (X2, t2, 8), (X3, t3, 2)]


@checker("ex-manifold-shortcuts", example=lambda: _reference_shortcut)
def check_shortcut_fraction(fn):
    """``fn(X, t, k)`` must return the fraction of points whose k nearest OTHER points (Euclidean, in X)
    include at least one with |t_i - t_j| > pi."""
    return check_function(
        "ex-manifold-shortcuts", fn, reference=_reference_shortcut, cases=_shortcut_cases(), expect="float",
        rtol=1e-9, atol=1e-12,
        case_names=["150 points of a noisy roll, k = 20", "120 points of a noisier roll, k = 8",
                    "five hand-made points in 2-d, k = 2"],
        mistakes=[
            (lambda X, t, k: _shortcut_fraction(X, t, k, include_self=True),
             "each point counted itself as one of its k nearest neighbours (its distance to itself is 0); "
             "leave the point out, e.g. ask for k + 1 neighbours and drop the first column."),
            (lambda X, t, k: _shortcut_fraction(X, t, k, per_pair=True),
             "that is the fraction of neighbour PAIRS that jump; the question asks for the fraction of "
             "POINTS with at least one such neighbour: use .any(axis=1) before averaging."),
            (lambda X, t, k: _shortcut_fraction(X, t, k, max_dt=2 * np.pi),
             "the threshold is half a turn, |t_i - t_j| > pi, not a whole turn (2 pi)."),
        ],
        hint="find each point's k nearest other points in X (sklearn's NearestNeighbors(n_neighbors=k + 1), "
             "then drop the first column, the point itself), compare their t with the point's own, and "
             "average over points whether any |difference| exceeds pi.",
    )
