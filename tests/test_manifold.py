"""aecourse.manifold against numpy, scipy and scikit-learn; its checkers accept their examples and name
known mistakes; bad input raises errors that say what was wrong."""
import numpy as np
import pytest
import scipy.stats
from scipy.spatial.distance import cdist
from sklearn.decomposition import PCA as SkPCA

import aecourse
from aecourse import manifold
from aecourse.exercises import REGISTRY, ExerciseFailed
from aecourse.exercises import manifolds as ex


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((60, 5)) * np.array([3.0, 2.0, 1.0, 0.5, 0.1])   # (60, 5)


@pytest.fixture(scope="module")
def pca(data):
    return aecourse.PCA(2).fit(data)


# --- straight paths ----------------------------------------------------------------------------------------

def test_lerp_matches_numpy_linspace_and_hits_both_ends():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(7), rng.standard_normal(7)
    path = manifold.lerp(a, b, 11)
    assert path.shape == (11, 7)
    assert np.allclose(path, np.linspace(a, b, 11), rtol=0, atol=1e-12)
    assert np.array_equal(path[0], a) and np.array_equal(path[-1], b)   # exact, no rounding
    assert np.allclose(np.diff(path, axis=0), (b - a) / 10)            # evenly spaced
    assert np.allclose(manifold.lerp(a[None], b[None], 3), manifold.lerp(a, b, 3))   # (1, d) accepted


def test_interpolate_in_data_space_is_lerp(data):
    assert np.allclose(manifold.interpolate(data[0], data[1], 5), manifold.lerp(data[0], data[1], 5))


def test_interpolate_in_code_space_matches_sklearn_pca(data, pca):
    # Decoded codes do not depend on PCA's sign convention, so sklearn is an independent reference.
    sk = SkPCA(2).fit(data)
    z = sk.transform(data[[3, 8]])                                  # (2, 2)
    want = sk.inverse_transform(np.linspace(z[0], z[1], 6))          # (6, 5)
    got = manifold.interpolate(data[3], data[8], 6, reducer=pca)
    assert got.shape == (6, 5)
    assert np.allclose(got, want, atol=1e-10)
    # For a linear reducer, the code path is the projection of the data path.
    assert np.allclose(got, pca.reconstruct(manifold.lerp(data[3], data[8], 6)), atol=1e-10)


def test_interpolate_with_same_seed_autoencoders_is_identical(data):
    kw = dict(n_components=2, hidden=(8,), epochs=3, batch_size=30, seed=4, device="cpu")
    a = manifold.interpolate(data[0], data[1], 4, reducer=aecourse.Autoencoder(**kw).fit(data))
    b = manifold.interpolate(data[0], data[1], 4, reducer=aecourse.Autoencoder(**kw).fit(data))
    assert np.array_equal(a, b)


# --- lattices and traversals -------------------------------------------------------------------------------

def test_code_lattice_reading_order():
    codes = manifold.code_lattice([0.0, 10.0], [3.0, 13.0], 4)
    assert codes.shape == (16, 2)
    assert np.allclose(codes[0], [0.0, 13.0])      # top left: smallest code 1, largest code 2
    assert np.allclose(codes[3], [3.0, 13.0])      # end of the first row
    assert np.allclose(codes[-1], [3.0, 10.0])     # bottom right
    grid = codes.reshape(4, 4, 2)
    assert np.allclose(grid[:, :, 0], np.tile(np.linspace(0, 3, 4), (4, 1)))          # code 1 along rows
    assert np.allclose(grid[:, :, 1], np.tile(np.linspace(13, 10, 4)[:, None], (1, 4)))  # code 2 down


def test_decode_lattice_is_pca_inverse_of_the_lattice(pca):
    codes, images = manifold.decode_lattice(pca, [-1.0, -2.0], [1.0, 2.0], 5)
    assert codes.shape == (25, 2) and images.shape == (25, 5)
    assert np.allclose(images, codes @ pca.components_ + pca.mean_)


def test_code_extent_and_quantile(data):
    Z = data[:, :2]
    low, high = manifold.code_extent(Z, margin=0.0)
    assert np.allclose(low, Z.min(0)) and np.allclose(high, Z.max(0))
    low, high = manifold.code_extent(Z, margin=0.1)
    assert np.allclose(high - low, 1.2 * np.ptp(Z, axis=0))
    low, high = manifold.code_extent(Z, margin=0.0, quantile=0.1)
    assert np.allclose(low, np.quantile(Z, 0.1, axis=0)) and np.allclose(high, np.quantile(Z, 0.9, axis=0))


def test_lattice_counts_against_a_histogram():
    rng = np.random.default_rng(2)
    Z = rng.uniform(-1, 1, size=(500, 2))
    n = 6
    low, high = np.full(2, -5 / 6), np.full(2, 5 / 6)   # cells of width 1/3: together exactly [-1, 1]^2
    counts = manifold.lattice_counts(Z, low, high, n)
    half = (high - low) / (n - 1) / 2
    edges_x = np.linspace(low[0] - half[0], high[0] + half[0], n + 1)
    edges_y = np.linspace(low[1] - half[1], high[1] + half[1], n + 1)
    H, _, _ = np.histogram2d(Z[:, 0], Z[:, 1], bins=[edges_x, edges_y])   # H[i, j]: code 1 bin i, code 2 bin j
    want = H[:, ::-1].T.ravel()                                         # reading order: rows from the top
    assert np.array_equal(counts, want.astype(int))
    assert counts.sum() == 500


def test_traverse_codes_with_pca(pca):
    z0 = np.array([0.5, -0.2])
    offsets = np.linspace(-1, 1, 5)
    scale = np.array([2.0, 0.5])
    out = manifold.traverse_codes(pca, z0, offsets, scale=scale)
    assert out.shape == (2, 5, 5)
    for j in range(2):
        for k, o in enumerate(offsets):
            z = z0.copy()
            z[j] += o * scale[j]
            assert np.allclose(out[j, k], z @ pca.components_ + pca.mean_)
    assert np.allclose(out[:, 2], pca.inverse_transform(z0[None]))   # offset 0 is z0 on every axis


# --- rank correlation and distances ------------------------------------------------------------------------

def test_rank_correlation_is_abs_spearman_and_monotone_invariant():
    rng = np.random.default_rng(3)
    u = rng.standard_normal(200)
    v = 0.5 * u + rng.standard_normal(200)
    ref = abs(scipy.stats.spearmanr(u, v)[0])
    assert manifold.rank_correlation(u, v) == pytest.approx(ref, abs=1e-12)
    # Pearson of the ranks, computed by hand.
    r = np.corrcoef(scipy.stats.rankdata(u), scipy.stats.rankdata(v))[0, 1]
    assert manifold.rank_correlation(u, v) == pytest.approx(abs(r), abs=1e-12)
    assert manifold.rank_correlation(u, np.exp(3 * u)) == pytest.approx(1.0)
    assert manifold.rank_correlation(u, -u ** 3) == pytest.approx(1.0)
    assert manifold.rank_correlation(u[:, None], v) == pytest.approx(ref)   # a code column is accepted


def test_nearest_distances_against_cdist():
    rng = np.random.default_rng(4)
    A, B = rng.standard_normal((37, 6)), rng.standard_normal((50, 6))
    assert np.allclose(manifold.nearest_distances(A, B, chunk=8), cdist(A, B).min(1), atol=1e-9)
    D = cdist(B, B)
    np.fill_diagonal(D, np.inf)
    assert np.allclose(manifold.nearest_distances(B, B, exclude_self=True, chunk=7), D.min(1), atol=1e-9)
    assert np.allclose(manifold.nearest_distances(B, B), 0.0, atol=1e-6)


# --- errors ------------------------------------------------------------------------------------------------

def test_errors_name_the_value_and_the_fix(pca):
    with pytest.raises(ValueError, match=r"n_steps=1 must be between 2 and inf"):
        manifold.lerp([0.0, 1.0], [1.0, 2.0], 1)
    with pytest.raises(ValueError, match=r"a has 2 entries but b has 3"):
        manifold.lerp([0.0, 1.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"x_a has shape \(2, 5\); expected one point"):
        manifold.interpolate(np.zeros((2, 5)), np.zeros(5), reducer=pca)
    with pytest.raises(TypeError, match=r"reducer=str has no transform\(\) method.*aecourse.PCA"):
        manifold.interpolate(np.zeros(5), np.ones(5), reducer="pca")
    with pytest.raises(ValueError, match=r"a lattice is drawn in a 2-D code plane"):
        manifold.code_lattice([0, 0, 0], [1, 1, 1])
    with pytest.raises(ValueError, match=r"high=\[1.0, -1.0\] must exceed low=\[0.0, 0.0\]"):
        manifold.code_lattice([0, 0], [1, -1])
    with pytest.raises(ValueError, match=r"3-D code.*n_components=2"):
        manifold.decode_lattice(aecourse.PCA(3).fit(np.random.default_rng(0).random((10, 5))), [0, 0], [1, 1])
    with pytest.raises(ValueError, match=r"scale has 3 entries but z0 has 2"):
        manifold.traverse_codes(pca, [0.0, 0.0], [-1.0, 1.0], scale=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"u has 4 entries but v has 5"):
        manifold.rank_correlation(np.arange(4.0), np.arange(5.0))
    with pytest.raises(ValueError, match=r"v is constant.*collapse"):
        manifold.rank_correlation(np.arange(5.0), np.ones(5))
    with pytest.raises(ValueError, match=r"u has shape \(5, 2\).*Z\[:, 0\]"):
        manifold.rank_correlation(np.zeros((5, 2)), np.arange(5.0))
    with pytest.raises(ValueError, match=r"A has 3 columns and B has 2"):
        manifold.nearest_distances(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"exclude_self=True needs A and B to be the same set"):
        manifold.nearest_distances(np.zeros((4, 2)), np.zeros((5, 2)), exclude_self=True)
    with pytest.raises(ValueError, match=r"quantile=0.7 must be a fraction in \[0, 0.5\)"):
        manifold.code_extent(np.zeros((4, 2)), quantile=0.7)
    with pytest.raises(ValueError, match=r"Z has 3 columns; lattice cells"):
        manifold.lattice_counts(np.zeros((4, 3)), [0, 0], [1, 1])


# --- checkers ----------------------------------------------------------------------------------------------

LABELS = ["ex-manifold-lerp", "ex-manifold-code-path", "ex-manifold-rank-corr", "ex-manifold-chart-mse",
          "ex-manifold-shortcuts"]


@pytest.mark.parametrize("label", LABELS)
def test_checker_accepts_its_example(label, capsys):
    entry = REGISTRY[label]
    assert entry["module"] == ex.__name__
    assert entry["check"](entry["example"]()).passed
    assert "\u2705" in capsys.readouterr().out


def _fails_with(check, answer, text):
    with pytest.raises(ExerciseFailed) as info:
        check(answer)
    assert text in str(info.value), str(info.value)


def test_checkers_name_known_mistakes():
    _fails_with(ex.check_lerp, lambda a, b, n: a + (b - a) * (np.arange(n) / n)[:, None], "stops short of b")
    _fails_with(ex.check_lerp, lambda a, b, n: np.linspace(b, a, n), "runs backwards")
    _fails_with(ex.check_code_path, lambda r, a, b, n: np.linspace(a, b, n), "straight line in data space")
    _fails_with(ex.check_code_path, lambda r, a, b, n: r.inverse_transform(r.transform(np.linspace(a, b, n))),
                "reconstructed the data-space path")
    _fails_with(ex.check_code_path, lambda r, a, b, n: np.linspace(*r.transform(np.stack([a, b])), n),
                "decode them")
    _fails_with(ex.check_rank_corr, lambda u, v: abs(np.corrcoef(u, v)[0, 1]), "Pearson correlation of the values")
    _fails_with(ex.check_rank_corr, lambda u, v: abs(np.corrcoef(np.argsort(u), np.argsort(v))[0, 1]),
                "apply argsort twice")
    _fails_with(ex.check_rank_corr, lambda u, v: scipy.stats.spearmanr(u, v)[0], "absolute value")
    _fails_with(ex.check_chart_mse, 1.0, "averages over all three")
    _fails_with(ex.check_chart_mse, 0.0, "two intrinsic coordinates")
    _fails_with(ex.check_chart_mse, None, "is None")


def _shortcuts_sklearn(X, t, k):
    """An independent solution: scikit-learn's neighbour search instead of the checker's brute force."""
    from sklearn.neighbors import NearestNeighbors

    idx = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X, return_distance=False)[:, 1:]
    return float((np.abs(np.asarray(t)[idx] - np.asarray(t)[:, None]) > np.pi).any(axis=1).mean())


def test_shortcut_checker_against_sklearn_and_known_mistakes():
    assert ex.check_shortcut_fraction(_shortcuts_sklearn).passed

    def with_self(X, t, k):
        from sklearn.neighbors import NearestNeighbors

        idx = NearestNeighbors(n_neighbors=k).fit(X).kneighbors(X, return_distance=False)
        return float((np.abs(t[idx] - t[:, None]) > np.pi).any(axis=1).mean())

    def per_pair(X, t, k):
        from sklearn.neighbors import NearestNeighbors

        idx = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X, return_distance=False)[:, 1:]
        return float((np.abs(t[idx] - t[:, None]) > np.pi).mean())

    _fails_with(ex.check_shortcut_fraction, with_self, "counted itself")
    _fails_with(ex.check_shortcut_fraction, per_pair, "fraction of neighbour PAIRS")
    _fails_with(ex.check_shortcut_fraction, lambda X, t, k: 0.0, "Hint")


def test_shortcut_cases_cross_turns():
    # The checker's rolls really have neighbourhoods that reach across turns (else the test says nothing).
    for X, t, k in ex._shortcut_cases():
        assert 0 < ex._reference_shortcut(X, t, k) < 1


def test_checkers_survive_broken_answers():
    _fails_with(ex.check_lerp, lambda a, b, n: None, "returned None")
    _fails_with(ex.check_code_path, lambda r, a, b, n: 1 / 0, "ZeroDivisionError")
    _fails_with(ex.check_rank_corr, lambda u, v: "high", "expected a single number")
    _fails_with(ex.check_chart_mse, "a third", "expected a single number")
