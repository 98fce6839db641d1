"""Checkers for the curse of dimensionality: the ball's volume in log space, the relative contrast of
distances, Levina & Bickel's local dimension estimate, how many samples a fixed neighbourhood needs, and
rounding data to a grid (for measuring how quantisation moves the dimension estimate)."""
from __future__ import annotations

import math

import numpy as np

from ._core import check_function, check_value, checker, failed

__all__ = ["check_log_ball_volume", "check_relative_contrast", "check_mle_local", "check_points_needed",
           "check_quantise"]


# ---------------------------------------------------------------------------------------------------------
# ex-dim-log-ball-volume
# ---------------------------------------------------------------------------------------------------------

def _reference_log_volume(d):
    from ..dimensionality import log_unit_ball_volume

    return log_unit_ball_volume(int(d))


def _example_log_volume(d):
    return d / 2 * math.log(math.pi) - math.lgamma(d / 2 + 1)


def _wrong_gamma_d2(d):        # Gamma(d/2) instead of Gamma(d/2 + 1)
    return d / 2 * math.log(math.pi) - math.lgamma(d / 2)


def _wrong_diameter(d):        # volume of the ball of DIAMETER 1 (radius 1/2): V_d / 2^d
    return _example_log_volume(d) - d * math.log(2)


def _wrong_log10(d):           # base-10 logarithm
    return _example_log_volume(d) / math.log(10)


def _wrong_no_half(d):         # pi^d instead of pi^(d/2)
    return d * math.log(math.pi) - math.lgamma(d / 2 + 1)


_VOLUME_MISTAKES = [
    (_wrong_gamma_d2, "the denominator is Gamma(d/2 + 1), not Gamma(d/2): check d = 3, where the volume "
                      "must come out as 4 pi / 3 (log = 1.4324)."),
    (_wrong_diameter, "that is the log of V_d / 2^d, the ball/cube ratio; the question asks for the volume of "
                      "the ball of radius 1 itself."),
    (_wrong_log10, "that is a base-10 logarithm; use the natural log (math.log, math.lgamma)."),
    (_wrong_no_half, "the numerator is pi^(d/2), so its log is (d/2) log(pi)."),
]


_LARGE_D_HINT = ("Gamma(d/2 + 1) overflows a float from d = 342 on and V_d underflows to 0 soon after; never "
                 "form them: subtract logs, math.lgamma(d / 2 + 1) instead of math.log(math.gamma(d / 2 + 1)).")


@checker("ex-dim-log-ball-volume", example=lambda: _example_log_volume)
def check_log_ball_volume(fn):
    """``fn(d)`` must return log V_d (natural log) for the unit ball in R^d, finite even for d = 1000."""
    label = "ex-dim-log-ball-volume"
    dims = [3, 2, 5, 10, 1, 40, 400, 1000]  # d = 3 first: at d = 1 and 2 some mistakes agree

    def guarded(d):
        # Large d: the plain formula overflows, so say so instead of a generic "it raised" or "not finite".
        try:
            out = fn(d)
        except OverflowError:
            failed(label, f"your function raised OverflowError on d={d}.", _LARGE_D_HINT)
        try:
            finite = bool(np.isfinite(float(out)))
        except Exception:  # not a number: let check_function describe it
            return out
        if not finite and d > 300:
            failed(label, f"on d={d} your function returned {float(out)}; log V_d is finite "
                          f"({_reference_log_volume(d):.6g}).", _LARGE_D_HINT)
        return out

    return check_function(
        label, guarded if callable(fn) else fn, reference=_reference_log_volume, cases=[(d,) for d in dims],
        expect="float", rtol=1e-7, atol=1e-9, mistakes=_VOLUME_MISTAKES, case_names=[f"d={d}" for d in dims],
        hint="log V_d = (d/2) log(pi) - log Gamma(d/2 + 1); math.lgamma gives log Gamma directly.",
    )


# ---------------------------------------------------------------------------------------------------------
# ex-dim-relative-contrast
# ---------------------------------------------------------------------------------------------------------

def _distances(X, q):
    X = np.asarray(X, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    return np.sqrt(((X - q) ** 2).sum(axis=1))


def _reference_contrast(X, q):
    D = _distances(X, q)
    return float((D.max() - D.min()) / D.min())


def _example_contrast(X, q):
    D = np.linalg.norm(X - q, axis=1)
    return float((D.max() - D.min()) / D.min())


def _contrast_cases():
    rng = np.random.default_rng(3)
    return [
        (rng.random((50, 2)), rng.random(2)),
        (rng.random((200, 10)), rng.random(10)),
        (np.array([[0.0, 1.0], [3.0, 4.0], [1.0, 1.0]]), np.array([0.0, 0.0])),
    ]


_CONTRAST_MISTAKES = [
    (lambda X, q: float((lambda D: (D.max() - D.min()) / D.min())(_distances(X, q) ** 2)),
     "you used squared distances; take the square root first (np.linalg.norm(X - q, axis=1)): with squares "
     "the contrast is about twice as large."),
    (lambda X, q: float((lambda D: (D.max() - D.min()) / D.max())(_distances(X, q))),
     "divide by D_min, not D_max: the contrast compares the spread with the NEAREST distance."),
    (lambda X, q: float((lambda D: D.max() / D.min())(_distances(X, q))),
     "that is D_max / D_min; the relative contrast is (D_max - D_min) / D_min, which is that minus 1."),
    (lambda X, q: float((lambda D: (D.max() - D.min()) / D.min())(np.abs(np.asarray(X, float)
                                                                         - np.asarray(q, float)).sum(1))),
     "those are Manhattan (L1) distances; use Euclidean ones, sqrt of the summed squares."),
]


@checker("ex-dim-relative-contrast", example=lambda: _example_contrast)
def check_relative_contrast(fn):
    """``fn(X, q)`` with X (N, d) and q (d,) must return the relative contrast (D_max - D_min) / D_min of the
    distances from q (Aggarwal, Hinneburg & Keim 2001)."""
    return check_function(
        "ex-dim-relative-contrast", fn, reference=_reference_contrast, cases=_contrast_cases(), expect="float",
        rtol=1e-6, atol=1e-9, mistakes=_CONTRAST_MISTAKES,
        hint="compute the N Euclidean distances D from q to the rows of X, then (D.max() - D.min()) / D.min().",
    )


# ---------------------------------------------------------------------------------------------------------
# ex-dim-mle-local
# ---------------------------------------------------------------------------------------------------------

def _reference_mle_local(T):
    T = np.asarray(T, dtype=np.float64)
    k = len(T)
    return float((k - 2) / np.log(T[-1] / T[:-1]).sum())


def _mle_cases():
    rng = np.random.default_rng(4)
    # Distances from the centre of a ball to N uniform points in d dims, sorted: what the estimator sees.
    cases = []
    for d, k in [(2, 10), (5, 20), (12, 15)]:
        r = np.sort(rng.random(400) ** (1.0 / d))[:k]
        cases.append((r,))
    cases.append((np.array([1.0, 2.0, 3.0, 4.0]),))
    return cases


_MLE_MISTAKES = [
    (lambda T: float((len(T) - 1) / np.log(np.asarray(T, float)[-1] / np.asarray(T, float)[:-1]).sum()),
     "you used k - 1 in the numerator: that is the plain maximum-likelihood estimate, biased upwards for "
     "small k; use k - 2, as the exercise asks (Levina & Bickel's unbiased version)."),
    (lambda T: float((len(T) - 2) / np.log(np.asarray(T, float)[:-1] / np.asarray(T, float)[-1]).sum()),
     "your estimate is negative: the logs should be log(T_k / T_j), which are >= 0 because T_k is the "
     "largest distance."),
    (lambda T: float((len(T) - 2) / np.log(np.asarray(T, float)[-1] / np.asarray(T, float)[:-1]).mean()),
     "you averaged the logs; the formula divides k - 2 by their SUM over j = 1..k-1."),
    (lambda T: float(1.0 / np.log(np.asarray(T, float)[-1] / np.asarray(T, float)[:-1]).mean()),
     "that is 1 / (mean of the logs) = (k - 1) / sum; use k - 2 in the numerator."),
]


@checker("ex-dim-mle-local", example=lambda: _reference_mle_local)
def check_mle_local(fn):
    """``fn(T)`` with T the sorted distances T_1 <= ... <= T_k to the k nearest neighbours must return
    ``(k - 2) / sum_{j<k} log(T_k / T_j)``."""
    return check_function(
        "ex-dim-mle-local", fn, reference=_reference_mle_local, cases=_mle_cases(), expect="float",
        rtol=1e-6, atol=1e-9, mistakes=_MLE_MISTAKES,
        case_names=["k=10 neighbours in 2-d", "k=20 neighbours in 5-d", "k=15 neighbours in 12-d",
                    "T = [1, 2, 3, 4]"],
        hint="k = len(T); the sum runs over j = 1..k-1 of log(T[-1] / T[j]); return (k - 2) / that sum.",
    )


# ---------------------------------------------------------------------------------------------------------
# ex-dim-points-needed
# ---------------------------------------------------------------------------------------------------------

def _points_needed(d: int, r: float) -> float:
    """Smallest N with median_nn_distance(d, N) <= r: (1 - 0.5^(1/N))^(1/d) <= r <=> N >= log 0.5 / log(1 - r^d)."""
    return float(math.ceil(math.log(0.5) / math.log1p(-(r ** d))))


POINTS_D, POINTS_R = 10, 0.25


@checker("ex-dim-points-needed", kind="value", example=lambda: _points_needed(POINTS_D, POINTS_R))
def check_points_needed(value):
    """The number of uniform points of the 10-d unit ball that brings the median distance from the centre
    to the nearest point down to 0.25."""
    want = _points_needed(POINTS_D, POINTS_R)
    return check_value(
        "ex-dim-points-needed", value, want, rtol=2e-3, what="N",
        mistakes=[
            (POINTS_R ** -POINTS_D,
             "1 / r^d counts how many balls of radius r fit in the volume; the median needs half the trials "
             "to have a point within r: solve (1 - r^d)^N = 1/2 for N."),
            (math.log(0.5) / math.log1p(-(POINTS_R ** 2)),
             "that is the answer in 2 dimensions; use d = 10."),
        ],
        hint="P(no point within r) = (1 - r^d)^N; the median distance is r when this equals 1/2.",
    )


# ---------------------------------------------------------------------------------------------------------
# ex-dim-quantise
# ---------------------------------------------------------------------------------------------------------

def _reference_quantise(X, step):
    return np.round(np.asarray(X, dtype=np.float64) / step) * step


def _quantise_cases():
    rng = np.random.default_rng(6)
    return [
        (np.array([[0.0, 0.24, 0.26, 0.74], [-0.26, -0.24, 1.01, 0.49]]), 0.5),
        (rng.standard_normal((30, 8)) * 2.0, 0.37),
        (rng.random((20, 64)), 1 / 16),
    ]


_QUANTISE_MISTAKES = [
    (lambda X, step: np.floor(np.asarray(X, float) / step) * step,
     "np.floor rounds down, so every value moves by up to a whole step, always downwards; np.round goes "
     "to the NEAREST multiple (an error of at most half a step, either way)."),
    (lambda X, step: np.round(np.asarray(X, float) / step),
     "you returned the number of steps, not the rounded value: multiply by step again."),
    (lambda X, step: np.trunc(np.asarray(X, float) / step) * step,
     "truncating (astype(int), np.trunc) rounds towards 0, which is wrong for negative values; use np.round."),
    (lambda X, step: np.round(np.asarray(X, float) * step) / step,
     "divide by the step before rounding and multiply after: X / step counts steps."),
]


@checker("ex-dim-quantise", example=lambda: _reference_quantise)
def check_quantise(fn):
    """``fn(X, step)`` must round every entry of X to the nearest multiple of ``step``."""
    return check_function(
        "ex-dim-quantise", fn, reference=_reference_quantise, cases=_quantise_cases(), expect="array",
        rtol=1e-9, atol=1e-12, mistakes=_QUANTISE_MISTAKES,
        case_names=["a 2 x 4 hand-made array, step 0.5", "30 Gaussian points in 8-d, step 0.37",
                    "20 points of [0, 1]^64, step 1/16 (17 grey levels)"],
        hint="X / step counts steps; round that to whole steps with np.round, then multiply by step.",
    )
