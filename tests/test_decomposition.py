"""PCA against numpy's SVD and scikit-learn; the Autoencoder reducer's verbs, round trips and errors."""
import numpy as np
import pytest
import sklearn.decomposition

import aecourse
from aecourse import PCA, Autoencoder


@pytest.fixture(scope="module")
def digits():
    return aecourse.load_digits()


def test_pca_matches_numpy_svd(digits):
    X = digits.X_train.astype(np.float64)
    pca = PCA(5).fit(X)
    Xc = X - X.mean(0)
    _, S, Vt = np.linalg.svd(Xc, full_matrices=False)
    # Same subspace and same variances as the SVD computed independently here.
    assert np.allclose(np.abs(pca.components_ @ Vt[:5].T), np.eye(5), atol=1e-8)
    assert np.allclose(pca.singular_values_, S[:5])
    assert np.allclose(pca.explained_variance_, S[:5] ** 2 / (len(X) - 1))


def test_pca_matches_sklearn(digits):
    X = digits.X_train.astype(np.float64)
    ours = PCA(10).fit(X)
    ref = sklearn.decomposition.PCA(10, svd_solver="full").fit(X)
    assert np.allclose(ours.explained_variance_, ref.explained_variance_)
    assert np.allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_)
    assert np.allclose(ours.mean_, ref.mean_)
    # sklearn uses the same sign convention (largest |entry| of each axis positive).
    assert np.allclose(ours.components_, ref.components_, atol=1e-8)
    assert np.allclose(ours.transform(X), ref.transform(X), atol=1e-8)


def test_pca_signs_deterministic(digits):
    X = digits.X_train.astype(np.float64)
    a, b = PCA(4).fit(X), PCA(4).fit(X[::-1].copy())
    assert np.allclose(a.components_, b.components_, atol=1e-8)
    idx = np.abs(a.components_).argmax(axis=1)
    assert (a.components_[np.arange(4), idx] > 0).all()


def test_pca_eckart_young(digits):
    """The rank-p reconstruction error equals the sum of the discarded eigenvalues (1/N normalisation)."""
    X, _ = aecourse.digits_matrix()
    X = X.astype(np.float64)
    for p, ref in [(2, 0.052426), (5, 0.033369), (10, 0.019196)]:
        pca = PCA(p).fit(X)
        err = aecourse.mse(X, pca.reconstruct(X))
        eig = np.linalg.eigvalsh(np.cov(X.T, bias=True))[::-1]
        assert err == pytest.approx(eig[p:].sum() / X.shape[1], rel=1e-6)
        assert err == pytest.approx(ref, abs=2e-6)


def test_pca_round_trip_full_rank():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 6))
    pca = PCA(6).fit(X)
    assert np.allclose(pca.inverse_transform(pca.transform(X)), X)
    assert np.allclose(pca.fit_transform(X), pca.transform(X))
    assert pca.fit(X) is pca


@pytest.mark.parametrize("bad, match", [
    (np.array([[1.0, np.nan], [0.0, 1.0]]), "1 NaN and 0 infinite"),
    (np.array([[1.0, np.inf], [0.0, 1.0]]), "0 NaN and 1 infinite"),
    (np.arange(5.0), r"must be 2-D .* shape \(5,\).*reshape"),
    (np.zeros((2, 3, 4)), r"must be 2-D .* \(2, 3, 4\).*flatten"),
    ([["a", "b"]], "could not be converted"),
])
def test_pca_bad_X(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        PCA(1).fit(bad)


def test_pca_n_components_range():
    X = np.random.default_rng(0).random((10, 4))
    with pytest.raises(ValueError, match=r"n_components=5 must be between 1 and 4.*min\(n_samples, n_features\)"):
        PCA(5).fit(X)
    with pytest.raises(ValueError, match="n_components=0 must be between 1"):
        PCA(0).fit(X)
    with pytest.raises(TypeError, match="n_components=2.5 must be an integer"):
        PCA(2.5).fit(X)


def test_pca_transform_errors():
    X = np.random.default_rng(0).random((10, 4))
    with pytest.raises(RuntimeError, match="not fitted yet; call PCA.fit"):
        PCA(2).transform(X)
    pca = PCA(2).fit(X)
    with pytest.raises(ValueError, match="X has 3 features, but PCA was fitted with 4 features"):
        pca.transform(X[:, :3])
    with pytest.raises(ValueError, match="Z has 3 columns, but this PCA has n_components=2"):
        pca.inverse_transform(np.zeros((1, 3)))


def test_autoencoder_verbs_and_seed(digits):
    kw = dict(n_components=2, hidden=(16,), epochs=5, seed=3)
    a = Autoencoder(**kw).fit(digits.X_train)
    b = Autoencoder(**kw).fit(digits.X_train)
    Z = a.transform(digits.X_test)
    assert Z.shape == (len(digits.X_test), 2)
    assert a.inverse_transform(Z).shape == digits.X_test.shape
    assert np.array_equal(Z, b.transform(digits.X_test)), "same seed must give identical results"
    assert a.history_.loss == b.history_.loss
    assert isinstance(a.model_, aecourse.MLPAutoencoder)
    assert np.allclose(a.fit_transform(digits.X_train[:20]).shape, (20, 2))
    c = Autoencoder(**{**kw, "seed": 4}).fit(digits.X_train)
    assert not np.array_equal(Z, c.transform(digits.X_test))


def test_autoencoder_beats_pca_at_p2(digits):
    """The chapter's first result: a small nonlinear AE beats PCA at the same code size on held-out digits."""
    pca = PCA(2).fit(digits.X_train)
    ae = Autoencoder(2, hidden=(32,), epochs=60, seed=0).fit(digits.X_train)
    ae_mse = aecourse.mse(digits.X_test, ae.reconstruct(digits.X_test))
    pca_mse = aecourse.mse(digits.X_test, pca.reconstruct(digits.X_test))
    assert ae_mse < 0.95 * pca_mse


def test_autoencoder_errors(digits):
    with pytest.raises(RuntimeError, match="not fitted yet; call Autoencoder.fit"):
        Autoencoder().transform(digits.X_test)
    with pytest.raises(ValueError, match="n_components=0 must be between 1"):
        Autoencoder(n_components=0).fit(digits.X_train)
    with pytest.raises(ValueError, match=r"hidden\[1\]=-3 is not a valid layer width"):
        Autoencoder(hidden=(8, -3)).fit(digits.X_train)
    with pytest.raises(ValueError, match="activation='relux' is not supported"):
        Autoencoder(activation="relux").fit(digits.X_train)
    ae = Autoencoder(epochs=1).fit(digits.X_train)
    with pytest.raises(ValueError, match="X has 10 features, but Autoencoder was fitted with 64"):
        ae.transform(np.zeros((3, 10)))


def test_repr():
    assert repr(PCA(3)) == "PCA(n_components=3)"
    assert repr(Autoencoder(2)).startswith("Autoencoder(n_components=2, hidden=(32,)")
