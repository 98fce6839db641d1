"""aecourse.dimensionality against scipy, closed forms and brute force; its checkers accept their examples
and name known mistakes."""
import math

import numpy as np
import pytest
import scipy.special
import scipy.stats
from scipy.spatial.distance import cdist
from sklearn.neighbors import NearestNeighbors

from aecourse import dimensionality as dm
from aecourse.exercises import ExerciseFailed
from aecourse.exercises import dimensionality as ex


# --- exact formulas ------------------------------------------------------------------------------------------

def test_ball_volume_matches_scipy_gamma():
    d = np.arange(1, 151)
    want = np.pi ** (d / 2) / scipy.special.gamma(d / 2 + 1)
    assert np.allclose(dm.unit_ball_volume(d), want, rtol=1e-12, atol=0)
    assert np.allclose(dm.log_unit_ball_volume(d), np.log(want), rtol=1e-12)
    assert dm.unit_ball_volume(2) == pytest.approx(math.pi)
    assert dm.unit_ball_volume(3) == pytest.approx(4 * math.pi / 3)
    assert isinstance(dm.unit_ball_volume(5), float) and int(np.argmax(dm.unit_ball_volume(d))) + 1 == 5


def test_log_volume_finite_where_plain_formula_overflows():
    # The recursion V_d = (2 pi / d) V_{d-2} in log space, independent of lgamma.
    d = np.arange(3, 3001)
    lv = dm.log_unit_ball_volume(d)
    assert np.all(np.isfinite(lv))
    assert np.allclose(lv, np.log(2 * np.pi / d) + dm.log_unit_ball_volume(d - 2), rtol=1e-12)
    with np.errstate(over="ignore"):
        assert np.isinf(scipy.special.gamma(400 / 2 + 1))


def test_ball_cube_ratio_reference_values():
    assert dm.ball_cube_ratio(2) == pytest.approx(math.pi / 4)
    assert dm.ball_cube_ratio(10) == pytest.approx(2.4904e-3, rel=1e-4)
    assert dm.ball_cube_ratio(20) == pytest.approx(2.4611e-8, rel=1e-4)
    assert dm.ball_cube_ratio(100) == pytest.approx(1.868e-70, rel=1e-3)
    assert dm.log_ball_cube_ratio(2000) == pytest.approx(dm.log_unit_ball_volume(2000) - 2000 * math.log(2))


def test_shell_edge_median_cells_closed_forms():
    d = np.arange(1, 201)
    assert np.allclose(dm.shell_fraction(d, 0.01), 1 - 0.99 ** d, rtol=1e-12)
    assert dm.shell_fraction(100, 0.01) == pytest.approx(0.63397, abs=1e-5)
    assert dm.shell_fraction(10, 1.0) == 1.0
    assert np.allclose(dm.subcube_edge(d, 0.1), 0.1 ** (1 / d), rtol=1e-12)
    assert dm.subcube_edge(10, 0.1) == pytest.approx(0.794, abs=1e-3)
    m = dm.median_nn_distance(d, 500)
    assert np.allclose(m, (1 - 0.5 ** (1 / 500)) ** (1 / d), rtol=1e-12)
    # It is the median: P(no point within m) = (1 - m^d)^N = 1/2.
    assert np.allclose((1 - m ** d) ** 500, 0.5, rtol=1e-9)
    assert dm.median_nn_distance(10, 500) == pytest.approx(0.518, abs=1e-3)
    assert dm.n_cells_log10(64, 10) == pytest.approx(64.0)
    assert np.allclose(dm.occupied_cell_fraction(d[:20], 3, 100), 1 - (1 - 3.0 ** -d[:20]) ** 100, rtol=1e-10)


# --- Monte Carlo ---------------------------------------------------------------------------------------------

def _within(est, p, n, z=4.5):
    return abs(est - p) <= z * math.sqrt(p * (1 - p) / n) + 1e-12


@pytest.mark.parametrize("d", [1, 2, 5, 8])
def test_mc_ball_cube_ratio(d):
    n = 40_000
    assert _within(dm.mc_ball_cube_ratio(d, n, seed=d), dm.ball_cube_ratio(d), n)


def test_mc_estimators_agree_with_exact():
    n = 20_000
    assert _within(dm.mc_shell_fraction(20, 0.02, n, seed=1), dm.shell_fraction(20, 0.02), n)
    assert dm.mc_subcube_edge(10, 0.1, n, seed=2) == pytest.approx(dm.subcube_edge(10, 0.1), abs=0.01)
    assert dm.mc_median_nn_distance(10, 200, n_trials=300, seed=3) == pytest.approx(
        dm.median_nn_distance(10, 200), abs=0.02)
    assert dm.mc_occupied_cell_fraction(7, 3, 2000, seed=4) == pytest.approx(
        dm.occupied_cell_fraction(7, 3, 2000), abs=0.02)


def test_mc_ball_cube_ratio_collapses_to_zero_in_high_d():
    assert dm.mc_ball_cube_ratio(40, 10_000) == 0.0


def test_sample_unit_ball_is_uniform():
    X = dm.sample_unit_ball(4000, 3, seed=5)
    r = np.linalg.norm(X, axis=1)
    assert r.max() <= 1.0
    # Uniform in the ball <=> R^d ~ U(0, 1) and the direction uniform (mean zero).
    assert scipy.stats.kstest(r ** 3, "uniform").pvalue > 1e-3
    assert np.allclose(X.mean(0), 0, atol=0.05)
    # Same law as rejection sampling from the cube.
    C = np.random.default_rng(6).uniform(-1, 1, (20_000, 3))
    C = C[(C ** 2).sum(1) <= 1]
    assert scipy.stats.ks_2samp(r, np.linalg.norm(C, axis=1)).pvalue > 1e-3


def test_seeds_reproduce():
    assert np.array_equal(dm.sample_unit_ball(10, 4, seed=7), dm.sample_unit_ball(10, 4, seed=7))
    assert not np.array_equal(dm.sample_unit_ball(10, 4, seed=7), dm.sample_unit_ball(10, 4, seed=8))
    assert np.array_equal(dm.sample_unit_cube(10, 4, seed=7), dm.sample_unit_cube(10, 4, seed=7))
    assert dm.mc_ball_cube_ratio(4, 5000, seed=9) == dm.mc_ball_cube_ratio(4, 5000, seed=9)
    assert dm.mc_median_nn_distance(5, 50, 20, seed=1) == dm.mc_median_nn_distance(5, 50, 20, seed=1)


# --- distances -----------------------------------------------------------------------------------------------

def test_pairwise_distances_match_cdist():
    rng = np.random.default_rng(0)
    X, Y = rng.random((30, 7)) + 100.0, rng.random((20, 7)) + 100.0  # far from the origin: cancellation
    assert np.allclose(dm.pairwise_distances(X, Y), cdist(X, Y), atol=1e-9)
    D = dm.pairwise_distances(X)
    assert np.allclose(D, cdist(X, X), atol=1e-7) and np.all(np.diag(D) == 0)


def test_relative_contrast_brute_force():
    rng = np.random.default_rng(1)
    X, Q = rng.random((300, 10)), rng.random((40, 10))
    D = cdist(Q, X)
    rc = (D.max(1) - D.min(1)) / D.min(1)
    assert dm.relative_contrast(X, Q) == pytest.approx(rc.mean(), rel=1e-9)
    assert dm.relative_contrast(X, Q, reduce="median") == pytest.approx(np.median(rc), rel=1e-9)
    # Leave one out: every point against the other N - 1.
    D = cdist(X, X)
    np.fill_diagonal(D, np.nan)
    loo = (np.nanmax(D, 1) - np.nanmin(D, 1)) / np.nanmin(D, 1)
    assert np.allclose(dm.relative_contrast(X, reduce="none"), loo, rtol=1e-9)


def test_nearest_farthest_brute_force():
    rng = np.random.default_rng(5)
    X, Q = rng.random((100, 5)), rng.random((30, 5))
    lo, hi = dm.nearest_farthest(X, Q)
    D = cdist(Q, X)
    assert np.allclose(lo, D.min(1)) and np.allclose(hi, D.max(1))
    with pytest.raises(ValueError, match="queries have 4 features but X has 5"):
        dm.nearest_farthest(X, Q[:, :4])


def test_relative_contrast_shrinks_with_dimension():
    rcs = [dm.relative_contrast(dm.sample_unit_cube(500, d, seed=0)) for d in (2, 10, 100)]
    assert rcs[0] > 10 * rcs[1] > 10 * rcs[2] / 3 and rcs[2] < 0.5


def test_knn_distances_match_sklearn():
    X = np.random.default_rng(2).random((200, 6))
    want, _ = NearestNeighbors(n_neighbors=9).fit(X).kneighbors(X)
    assert np.allclose(dm.knn_distances(X, 8), want[:, 1:], atol=1e-9)


# --- intrinsic dimension -------------------------------------------------------------------------------------

def _levina_bickel_reference(X, k):
    T, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    T = T[:, 1:]                                   # drop the point itself
    return (k - 2) / np.log(T[:, -1:] / T[:, :-1]).sum(1)


def test_mle_local_matches_formula():
    X = np.random.default_rng(3).random((300, 4))
    assert np.allclose(dm.mle_local_dimension(X, 12), _levina_bickel_reference(X, 12), rtol=1e-9)
    want = np.mean([_levina_bickel_reference(X, k).mean() for k in range(10, 21)])
    assert dm.mle_intrinsic_dimension(X) == pytest.approx(want, rel=1e-9)


def test_mle_from_knn_scans_k():
    X = np.random.default_rng(6).random((300, 3))
    T = dm.knn_distances(X, 25)
    for avg in ("mean", "inverse"):
        assert dm.mle_dimension_from_knn(T, 10, 20, avg) == pytest.approx(
            dm.mle_intrinsic_dimension(X, 10, 20, avg), rel=1e-12)
    # "inverse" is MacKay & Ghahramani's pooled likelihood: N (k - 1) / sum of the log-ratio sums.
    S = np.log(T[:, 11:12] / T[:, :11]).sum(1)
    assert dm.mle_dimension_from_knn(T, 12, 12, "inverse") == pytest.approx(len(X) * 11 / S.sum(), rel=1e-12)
    with pytest.raises(ValueError, match="increasing order"):
        dm.mle_dimension_from_knn(T[:, ::-1], 10, 20)
    with pytest.raises(ValueError, match=r"k2=30 must be between 10 and 25"):
        dm.mle_dimension_from_knn(T, 10, 30)


def test_mle_recovers_5d_gaussian_embedded_in_64d():
    rng = np.random.default_rng(4)
    Z = rng.standard_normal((1000, 5))
    X = Z @ rng.standard_normal((5, 64)) + 3.0       # a 5-d Gaussian, linearly embedded in R^64
    assert 4.5 < dm.mle_intrinsic_dimension(X) < 5.5
    assert 4.5 < dm.mle_intrinsic_dimension(X, average="inverse") < 5.5
    assert 1.8 < dm.mle_intrinsic_dimension(rng.random((1000, 2))) < 2.2


# --- the knee of a curve -------------------------------------------------------------------------------------

def _knee_brute_force(x, y):
    """Largest perpendicular distance to the chord of the unit-square-scaled curve, by explicit geometry."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    P = np.column_stack([(x - x.min()) / np.ptp(x), (y - y.min()) / np.ptp(y)])   # (n, 2) in [0, 1]^2
    a, b = P[0], P[-1]
    u = (b - a) / np.linalg.norm(b - a)
    dist = np.abs((P[:, 0] - a[0]) * u[1] - (P[:, 1] - a[1]) * u[0])                # |cross product|
    return float(x[int(np.argmax(dist))])


def test_knee_point_against_perpendicular_distance():
    rng = np.random.default_rng(11)
    for _ in range(50):
        x = np.cumsum(rng.random(9) + 0.1)
        y = np.sort(rng.random(9))[::-1] ** rng.uniform(0.3, 3.0)                   # falling, any curvature
        assert dm.knee_point(x, y) == _knee_brute_force(x, y)


def test_knee_point_on_known_curves():
    # A hockey stick: steep until x = 4, then flat; the knee is the corner.
    x = np.arange(1, 11)
    y = np.where(x <= 4, 10.0 - 2.0 * x, 2.0 - 0.01 * (x - 4))
    assert dm.knee_point(x, y) == 4.0
    # Orientation and units do not matter: a rising curve, a rescaled y, a shifted x.
    assert dm.knee_point(x, -y) == 4.0
    assert dm.knee_point(x, 1000 * y + 7) == 4.0
    assert dm.knee_point(x + 100, y) == 104.0
    # A straight line has no knee: every point lies on the chord, the rule returns the first.
    assert dm.knee_point(x, 3.0 * x) == 1.0
    # The knee depends on the range tried: a longer flat tail moves the chord, and the knee, to the right.
    assert dm.knee_point([1, 2, 4, 8], [1.0, 0.5, 0.25, 0.125]) <= dm.knee_point(
        [1, 2, 4, 8, 16, 32], [1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125])
    assert isinstance(dm.knee_point(x, y), float)


def test_knee_point_errors_name_the_value():
    with pytest.raises(ValueError, match="x has 3 values but y has 2"):
        dm.knee_point([1, 2, 3], [3.0, 2.0])
    with pytest.raises(ValueError, match="at least 3 points"):
        dm.knee_point([1, 2], [3.0, 2.0])
    with pytest.raises(ValueError, match=r"x=\[1.0, 3.0, 2.0\] must be strictly increasing"):
        dm.knee_point([1, 3, 2], [3.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="same value 2.0 at both ends"):
        dm.knee_point([1, 2, 3], [2.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="NaN or infinite"):
        dm.knee_point([1, 2, 3], [3.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="1-D sequence"):
        dm.knee_point(np.ones((3, 2)), [3.0, 2.0, 1.0])
    with pytest.raises(TypeError, match="1-D sequence of numbers"):
        dm.knee_point(["a", "b", "c"], [3.0, 2.0, 1.0])


def test_noise_and_rounding_raise_the_estimate():
    # The chapter's claim in miniature: off-set noise and rounding bias Levina-Bickel upwards.
    rng = np.random.default_rng(8)
    X = rng.standard_normal((800, 4)) @ rng.standard_normal((4, 32))               # a flat 4-d set in R^32
    clean = dm.mle_intrinsic_dimension(X)
    noisy = dm.mle_intrinsic_dimension(X + 0.2 * X.std() * rng.standard_normal(X.shape))
    step = 0.25 * X.std()
    rounded = dm.mle_intrinsic_dimension(np.round(X / step) * step)
    assert 3.6 < clean < 4.4 and noisy > clean + 0.5 and rounded > clean


# --- errors --------------------------------------------------------------------------------------------------

def test_errors_name_the_value():
    with pytest.raises(ValueError, match=r"d=0 must hold whole-number dimensions >= 1"):
        dm.unit_ball_volume(0)
    with pytest.raises(ValueError, match=r"d=2.5"):
        dm.ball_cube_ratio(2.5)
    with pytest.raises(TypeError, match="boolean"):
        dm.shell_fraction(True)
    with pytest.raises(ValueError, match=r"eps=0 must satisfy 0 < eps <= 1"):
        dm.shell_fraction(10, eps=0)
    with pytest.raises(ValueError, match=r"fraction=1.5"):
        dm.subcube_edge(10, 1.5)
    with pytest.raises(ValueError, match=r"n_samples=0 must be between 1"):
        dm.median_nn_distance(10, 0)
    with pytest.raises(ValueError, match=r"k=50 must be between 1 and 9"):
        dm.knn_distances(np.random.rand(10, 3), 50)
    with pytest.raises(ValueError, match=r"k2=5 must be between 10"):
        dm.mle_intrinsic_dimension(np.random.rand(100, 3), k1=10, k2=5)
    with pytest.raises(ValueError, match="average='median' is not supported"):
        dm.mle_intrinsic_dimension(np.random.rand(100, 3), average="median")
    with pytest.raises(ValueError, match="must be 2-D"):
        dm.relative_contrast(np.random.rand(10))
    X = np.random.rand(50, 3)
    with pytest.raises(ValueError, match=r"duplicate.*np.unique"):
        dm.mle_intrinsic_dimension(np.vstack([X, X[:1]]))
    with pytest.raises(ValueError, match=r"D_min = 0.*np.unique"):
        dm.relative_contrast(np.vstack([X, X[:1]]))


# --- checkers ------------------------------------------------------------------------------------------------

def _fails(check, answer, match):
    with pytest.raises(ExerciseFailed, match=match):
        check(answer)


def test_checker_log_ball_volume():
    ex.check_log_ball_volume(lambda d: d / 2 * math.log(math.pi) - math.lgamma(d / 2 + 1))
    _fails(ex.check_log_ball_volume, lambda d: math.log(math.pi ** (d / 2) / math.gamma(d / 2 + 1)),
           "(?s)OverflowError.*lgamma")
    _fails(ex.check_log_ball_volume, lambda d: d / 2 * math.log(math.pi) - math.lgamma(d / 2), r"Gamma\(d/2 \+ 1\)")
    _fails(ex.check_log_ball_volume, lambda d: dm.log_ball_cube_ratio(d), "ball/cube ratio")


def test_checker_relative_contrast():
    ex.check_relative_contrast(lambda X, q: float((lambda D: (D.max() - D.min()) / D.min())(
        np.linalg.norm(X - q, axis=1))))
    _fails(ex.check_relative_contrast, lambda X, q: float((lambda D: D.max() / D.min())(
        np.linalg.norm(X - q, axis=1))), "minus 1")
    _fails(ex.check_relative_contrast, lambda X, q: float((lambda D: (D.max() - D.min()) / D.min())(
        ((X - q) ** 2).sum(1))), "squared distances")


def test_checker_mle_local():
    ex.check_mle_local(lambda T: (len(T) - 2) / np.log(T[-1] / T[:-1]).sum())
    _fails(ex.check_mle_local, lambda T: (len(T) - 1) / np.log(T[-1] / T[:-1]).sum(), "k - 2")
    _fails(ex.check_mle_local, lambda T: (len(T) - 2) / np.log(T[:-1] / T[-1]).sum(), "negative")
    _fails(ex.check_mle_local, lambda T: 1 / 0, "ZeroDivisionError")


def test_checker_quantise():
    ex.check_quantise(lambda X, step: np.round(np.asarray(X) / step) * step)
    _fails(ex.check_quantise, lambda X, step: np.floor(np.asarray(X) / step) * step, "np.floor rounds down")
    _fails(ex.check_quantise, lambda X, step: np.round(np.asarray(X) / step), "multiply by step again")
    _fails(ex.check_quantise, lambda X, step: np.asarray(X).astype(int) * 1.0, "test input|Hint")
    _fails(ex.check_quantise, lambda X, step: None, "None")


def test_checker_points_needed():
    ex.check_points_needed(math.log(0.5) / math.log(1 - 0.25 ** 10))
    _fails(ex.check_points_needed, 0.25 ** -10, "balls of radius r")
    _fails(ex.check_points_needed, None, "None")


def test_every_dimensionality_checker_accepts_its_example():
    from aecourse.exercises import load_all

    labels = [k for k, v in load_all().items() if v["module"].endswith(".dimensionality")]
    assert len(labels) == 5 and all(k.startswith("ex-dim-") for k in labels)
    for label in labels:
        entry = load_all()[label]
        entry["check"](entry["example"]())
