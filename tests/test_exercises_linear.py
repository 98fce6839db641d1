"""The linear-autoencoder checkers: each accepts its example answer and names the known mistakes."""
import numpy as np
import pytest

from aecourse.exercises import REGISTRY, ExerciseFailed
from aecourse.exercises import linear as ex

LABELS = ["ex-linear-pca-reconstruct", "ex-linear-eckart-young", "ex-linear-principal-angles",
          "ex-linear-rotation-cost", "ex-linear-predict-singular-values"]


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.mark.parametrize("label", LABELS)
def test_registered_and_accepts_example(label, capsys):
    entry = REGISTRY[label]
    assert entry["module"] == "aecourse.exercises.linear"
    result = entry["check"](entry["example"]())
    assert result.passed
    assert label in capsys.readouterr().out


def test_example_answers_are_independent_of_the_reference():
    """The example solutions are written from scratch; they agree with the library on fresh data."""
    from aecourse import PCA
    from aecourse.linear import eckart_young_bound

    X = np.random.default_rng(5).random((30, 7)) + 2.0
    assert np.allclose(ex._example_reconstruct(X, 3), PCA(3).fit(X).reconstruct(X))
    assert ex._example_eckart_young(X, 3) == pytest.approx(eckart_young_bound(X, 3), rel=1e-10)


@pytest.mark.parametrize("wrong, hint", [
    (ex._no_centring, "centring trap"),
    (ex._mean_not_added, "add the mean back"),
    (ex._eigh_ascending, "ASCENDING order"),
    (ex._columns_of_vt, "ROWS"),
    (lambda X, p: X - X.mean(0), "values differ"),
])
def test_pca_reconstruct_rejects(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        ex.check_pca_reconstruct(wrong)


def _eig(X, ddof=0):
    Xc = X - X.mean(0)
    return np.linalg.eigvalsh(Xc.T @ Xc / (len(X) - ddof))[::-1]


@pytest.mark.parametrize("wrong, hint", [
    (lambda X, p: float(_eig(X, ddof=1)[p:].sum() / X.shape[1]), "N - 1"),
    (lambda X, p: float(_eig(X)[:p].sum() / X.shape[1]), "KEPT eigenvalues"),
    (lambda X, p: float(np.sort(_eig(X))[p:].sum() / X.shape[1]), "ascending order"),
    (lambda X, p: float(_eig(X)[p:].sum()), "per SAMPLE"),
    (lambda X, p: float(_eig(X)[p + 1:].sum() / X.shape[1]), "off by one"),
    (lambda X, p: None, "forget the `return`"),
    (lambda X, p: _eig(X)[p:] / X.shape[1], "single number"),
])
def test_eckart_young_rejects(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        ex.check_eckart_young(wrong)


@pytest.mark.parametrize("wrong, hint", [
    (ex._unnormalised, "orthonormalise each basis"),
    (ex._columnwise, "pairing column i"),
    (lambda A, B: np.radians(ex._reference_angles(A, B)), "radians"),
    (lambda A, B: ex._reference_angles(A, B)[::-1], "ascending order"),
    (lambda A, B: np.cos(np.radians(ex._reference_angles(A, B))), "cosines"),
    (lambda A, B: 1 / 0, "ZeroDivisionError"),
])
def test_principal_angles_rejects(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        ex.check_principal_angles(wrong)


def test_rotation_cost_value_and_mistakes():
    ev = ex._digits_eigenvalues()
    # Independent arithmetic on the published digits eigenvalues: about 8e-6, i.e. 1 degree is nearly free.
    assert ex._example_rotation_cost() == pytest.approx((ev[1] - ev[2]) * np.sin(np.pi / 180) ** 2 / ev[2:].sum())
    assert 5e-6 < ex._example_rotation_cost() < 1e-5
    for wrong, hint in [(ex._rotation_cost(ev, rad=True), "radians"),
                        (ex._rotation_cost(ev, square=False), "square the sine"),
                        (ex._rotation_cost(ev, gap=False), "the gap"),
                        (0.5, "too high"), (None, "is None"), (lambda: 1.0, "got a function")]:
        with pytest.raises(ExerciseFailed, match=hint):
            ex.check_rotation_cost(wrong)


def test_predicted_singular_values_value_and_mistakes():
    """Kunin et al.'s s_j = sqrt(1 - lambda / l_j), checked against a fitted weight-decayed model."""
    from aecourse import LinearAutoencoder
    from aecourse.data import digits_matrix

    ev = ex._digits_eigenvalues()
    right = ex._example_predicted_singular_values()
    X = digits_matrix()[0].astype(np.float64)
    fitted = LinearAutoencoder(5, weight_decay=0.1).fit(X)
    assert np.allclose(fitted.singular_values_, right, rtol=1e-3)
    assert ex.check_predicted_singular_values(right).passed
    uncentred = np.linalg.svd(X, compute_uv=False)[:5] ** 2 / len(X)          # second moments, uncentred
    for wrong, hint in [(right ** 2, "take the square root"), (np.sqrt(0.1 / ev[:5]), "not lambda / l_j"),
                        (right[::-1], "largest first"), (np.ones(5), "no shrinking"),
                        (np.sqrt(1 - 0.1 / uncentred), "uncentred"), (right * 1.01, "too high"),
                        (np.full(5, np.nan), "NaN"), (right[:3], "expected 5 numbers"),
                        (None, "is None"), (lambda: 1.0, "got a function")]:
        with pytest.raises(ExerciseFailed, match=hint):
            ex.check_predicted_singular_values(wrong)
