"""Checkers for manifold learning: straight paths in data and code space, the rank correlation of a code
with a known coordinate, and the reconstruction error of a perfect 1-d chart of the swiss roll."""
from __future__ import annotations

import numpy as np

from ..manifold import lerp
from ._core import check_function, check_value, checker

__all__ = ["check_lerp", "check_code_path", "check_rank_corr", "check_chart_mse"]


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
