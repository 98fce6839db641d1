"""LinearAutoencoder against numpy's SVD (subspace, Eckart-Young), Kunin et al.'s regularised optimum,
torch.autograd (the covariance form of the loss), its verbs, seeds and error messages."""
import numpy as np
import pytest
import torch

import aecourse
from aecourse import LinearAutoencoder
from aecourse.linear import (LinearAE, covariance_eigenvalues, eckart_young_bound, eigenvalues_from_decoder,
                             squared_error_from_covariance)


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    """The matrices here are tiny: BLAS threads only add waiting (10-100x on a busy machine)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def digits():
    X, _ = aecourse.digits_matrix()
    return X.astype(np.float64)


@pytest.fixture(scope="module")
def spread():
    """Small data with well separated covariance eigenvalues (fast, and the axes are well defined)."""
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    scales = np.array([3.0, 2.2, 1.6, 1.1, 0.7, 0.4, 0.2, 0.1])
    return (rng.standard_normal((400, 8)) * scales) @ Q.T + 5.0


@pytest.fixture(scope="module")
def digits_fits(digits):
    """Default fits on the 1797 digits, shared by the tests that need them (each takes about a second)."""
    return {p: LinearAutoencoder(p).fit(digits) for p in (2, 5, 10)}


def _svd_axes(X, p):
    """Top-p principal axes as columns (n, p), from numpy's SVD of the centred data."""
    _, _, Vt = np.linalg.svd(X - X.mean(0), full_matrices=False)
    return Vt[:p].T


def _max_angle_deg(A, B):
    return float(np.degrees(aecourse.principal_angles(A, B).max()))


@pytest.mark.parametrize("p", [2, 5, 10])
def test_defaults_converge_on_digits(digits, digits_fits, p):
    """The issue's criterion: within 0.1 % of Eckart-Young and under 1 degree from PCA's subspace."""
    lae = digits_fits[p]
    ratio = aecourse.mse(digits, lae.reconstruct(digits)) / eckart_young_bound(digits, p)
    assert 1.0 - 1e-9 <= ratio < 1.001, ratio
    assert _max_angle_deg(lae.decoder_weight_, _svd_axes(digits, p)) < 1.0
    assert lae.converged_ and lae.n_iter_ < 1000


def test_eckart_young_bound_is_pca_error_and_svd_tail(digits):
    S = np.linalg.svd(digits - digits.mean(0), compute_uv=False)
    for p, published in [(2, 0.052426), (5, 0.033369), (10, 0.019196)]:
        bound = eckart_young_bound(digits, p)
        assert bound == pytest.approx((S[p:] ** 2).sum() / digits.size, rel=1e-12)
        assert bound == pytest.approx(aecourse.mse(digits, aecourse.PCA(p).fit(digits).reconstruct(digits)),
                                      rel=1e-10)
        assert bound == pytest.approx(published, abs=1e-6)


def test_covariance_eigenvalues_match_numpy(spread):
    ref = np.sort(np.linalg.eigvalsh(np.cov(spread, rowvar=False, bias=True)))[::-1]
    assert np.allclose(covariance_eigenvalues(spread), ref, rtol=1e-10, atol=1e-12)
    wide = np.random.default_rng(1).random((3, 5))            # N < n: zeros beyond the rank
    ev = covariance_eigenvalues(wide)
    assert ev.shape == (5,) and np.allclose(ev[2:], 0)


def test_covariance_form_matches_data_form_and_autograd():
    """The O(p n^2) loss equals the data-form loss, and so do its autograd gradients."""
    rng = np.random.default_rng(2)
    X = torch.as_tensor(rng.standard_normal((50, 7)), dtype=torch.float64)
    W_enc = torch.randn(3, 7, dtype=torch.float64, requires_grad=True)
    W_dec = torch.randn(7, 3, dtype=torch.float64, requires_grad=True)
    data_form = (X - X @ W_enc.T @ W_dec.T).pow(2).sum(1).mean()
    g_data = torch.autograd.grad(data_form, (W_enc, W_dec))
    cov_form = squared_error_from_covariance(W_enc, W_dec, X.T @ X / len(X))
    g_cov = torch.autograd.grad(cov_form, (W_enc, W_dec))
    assert cov_form.item() == pytest.approx(data_form.item(), rel=1e-12)
    for a, b in zip(g_cov, g_data):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)


def test_history_is_the_training_mse(spread):
    lae = LinearAutoencoder(3).fit(spread)
    assert len(lae.history_.loss) == lae.n_iter_ + 1
    assert lae.history_.loss[-1] == pytest.approx(aecourse.mse(spread, lae.reconstruct(spread)), rel=1e-9)
    assert lae.history_.loss[-1] < lae.history_.loss[0]


def test_weight_decay_recovers_axes_and_eigenvalues(spread):
    """Kunin et al. (2019): symmetric optimum, left singular vectors = axes, s_i^2 = 1 - lambda / l_i."""
    p, lam = 4, 0.5   # well below l_4 = 1.35, and large enough that 1 - s_i^2 is well conditioned
    lae = LinearAutoencoder(p, weight_decay=lam).fit(spread)
    ev = np.sort(np.linalg.eigvalsh(np.cov(spread, rowvar=False, bias=True)))[::-1][:p]
    assert np.allclose(lae.encoder_weight_, lae.decoder_weight_.T, atol=1e-4)
    assert np.allclose(lae.singular_values_, np.sqrt(1 - lam / ev), atol=1e-5)
    axes, eig = lae.recover_pca()
    assert np.allclose(np.abs(np.sum(axes * _svd_axes(spread, p).T, axis=1)), 1.0, atol=1e-6)
    assert np.allclose(eig, ev, rtol=1e-4)
    assert np.allclose(eigenvalues_from_decoder(np.sqrt(1 - lam / ev), lam), ev)
    # PCA's sign convention: the largest-magnitude entry of each axis is positive.
    assert (axes[np.arange(p), np.abs(axes).argmax(1)] > 0).all()


def test_tied_weights(spread):
    lae = LinearAutoencoder(3, tied=True).fit(spread)
    assert np.array_equal(lae.encoder_weight_, lae.decoder_weight_.T)
    assert len(list(lae.model_.parameters())) == 1
    assert _max_angle_deg(lae.decoder_weight_, _svd_axes(spread, 3)) < 0.1
    # At the tied optimum W W^T = I: the rows are an orthonormal basis of the subspace.
    W = lae.encoder_weight_
    assert np.allclose(W @ W.T, np.eye(3), atol=1e-4)


def test_tied_weight_decay_fixes_the_singular_vectors_not_the_columns(spread):
    """Tied: without weight decay all singular values are 1 (any orthonormal basis of the subspace); with it,
    B = U_p diag(sqrt(1 - lambda / l_i)) O: the left singular vectors are the axes, the columns stay rotated."""
    p, lam = 3, 0.5
    axes = _svd_axes(spread, p)                                              # (8, 3)
    ev = np.sort(np.linalg.eigvalsh(np.cov(spread, rowvar=False, bias=True)))[::-1][:p]
    plain = LinearAutoencoder(p, tied=True).fit(spread)
    assert np.allclose(plain.singular_values_, 1.0, atol=1e-4)
    decayed = LinearAutoencoder(p, tied=True, weight_decay=lam).fit(spread)
    U, S, _ = np.linalg.svd(decayed.decoder_weight_, full_matrices=False)
    assert np.allclose(S, np.sqrt(1 - lam / ev), atol=1e-5)
    assert np.allclose(np.abs(np.sum(U * axes, axis=0)), 1.0, atol=1e-6)
    cols = decayed.decoder_weight_ / np.linalg.norm(decayed.decoder_weight_, axis=0)
    assert np.abs(cols.T @ axes).max(axis=1).min() < 0.99                   # some column is not an axis


def test_weight_decay_above_an_eigenvalue_switches_that_direction_off(spread):
    """With l_2 < lambda < l_1 the minimum keeps one direction: the second singular value is 0."""
    ev = np.sort(np.linalg.eigvalsh(np.cov(spread, rowvar=False, bias=True)))[::-1]
    lam = 0.5 * (ev[0] + ev[1])
    with pytest.warns(UserWarning, match="collapses to zero"):
        lae = LinearAutoencoder(2, weight_decay=lam).fit(spread)
    assert lae.singular_values_[1] < 1e-3
    assert lae.singular_values_[0] == pytest.approx(np.sqrt(1 - lam / ev[0]), abs=1e-4)


def test_critical_point_is_a_projector_commuting_with_the_covariance(spread):
    """Baldi & Hornik: at the trained optimum M = W_dec W_enc is a symmetric projector with M C = C M."""
    lae = LinearAutoencoder(3).fit(spread)
    M = lae.decoder_weight_ @ lae.encoder_weight_
    C = np.cov(spread, rowvar=False, bias=True)
    # Directions of small variance are pinned down loosely (the gradient tolerance), hence 1e-3 below.
    assert np.allclose(M @ M, M, atol=1e-5) and np.allclose(M, M.T, atol=1e-3)
    assert np.allclose(M @ C, C @ M, atol=1e-3 * np.abs(C).max())


def test_untied_weights_are_not_the_axes(digits, digits_fits):
    """Baldi & Hornik: only the subspace is determined; the decoder columns are not the principal axes."""
    lae = digits_fits[2]
    cols = lae.decoder_weight_ / np.linalg.norm(lae.decoder_weight_, axis=0)
    cos = np.abs(np.sum(cols * _svd_axes(digits, 2), axis=0))
    assert cos.max() < 0.99
    # Any invertible G gives the same map: B G, G^-1 A reconstructs identically.
    G = np.array([[2.0, 1.0], [-0.5, 1.5]])
    B, A = lae.decoder_weight_ @ G, np.linalg.inv(G) @ lae.encoder_weight_
    Xc = digits - lae.mean_
    assert np.allclose(Xc @ A.T @ B.T, Xc @ lae.encoder_weight_.T @ lae.decoder_weight_.T, atol=1e-10)


def test_without_centring_learns_the_subspace_through_the_origin(spread):
    lae = LinearAutoencoder(2, center=False).fit(spread)
    _, _, Vt = np.linalg.svd(spread, full_matrices=False)
    assert np.allclose(lae.mean_, 0)
    assert _max_angle_deg(lae.decoder_weight_, Vt[:2].T) < 0.1
    assert _max_angle_deg(lae.decoder_weight_, _svd_axes(spread, 2)) > 10


def test_verbs_shapes_and_round_trip(spread):
    lae = LinearAutoencoder(3)
    Z = lae.fit_transform(spread)
    assert lae.fit(spread) is lae
    assert Z.shape == (400, 3) and lae.components_.shape == (3, 8) and lae.mean_.shape == (8,)
    assert np.allclose(lae.inverse_transform(Z), lae.reconstruct(spread))
    assert np.allclose(lae.inverse_transform(Z), Z @ lae.decoder_weight_.T + lae.mean_)
    assert lae.n_components_ == 3 and lae.n_features_in_ == 8
    assert np.allclose(lae.transform(torch.as_tensor(spread)), Z)


def test_seeds(spread):
    a, b = LinearAutoencoder(2, seed=3).fit(spread), LinearAutoencoder(2, seed=3).fit(spread)
    assert np.array_equal(a.encoder_weight_, b.encoder_weight_)
    assert np.array_equal(a.decoder_weight_, b.decoder_weight_)
    c = LinearAutoencoder(2, seed=4).fit(spread)
    assert not np.allclose(a.decoder_weight_, c.decoder_weight_)
    assert _max_angle_deg(a.decoder_weight_, c.decoder_weight_) < 0.1      # same subspace all the same
    m1, m2 = LinearAE(8, 2, seed=0), LinearAE(8, 2, seed=0)
    assert torch.equal(m1.encoder_weight, m2.encoder_weight)


def test_callback_sees_every_step(spread):
    seen = []
    lae = LinearAutoencoder(2, max_iter=7, tol=0.0).fit(
        spread, callback=lambda k, We, Wd: seen.append((k, We.shape, Wd.shape)))
    assert [k for k, _, _ in seen] == list(range(8))
    assert seen[0][1:] == ((2, 8), (8, 2))
    assert lae.n_iter_ == 7 and not lae.converged_


def test_adam_solver(spread):
    lae = LinearAutoencoder(2, solver="adam", max_iter=1000, lr_decay=0.1).fit(spread)
    assert _max_angle_deg(lae.decoder_weight_, _svd_axes(spread, 2)) < 1.0


def test_errors(spread):
    with pytest.raises(ValueError, match="n_components=9 must be between 1 and 8"):
        LinearAutoencoder(9).fit(spread)
    with pytest.raises(ValueError, match="solver='sgd' is not supported"):
        LinearAutoencoder(2, solver="sgd").fit(spread)
    with pytest.raises(ValueError, match="weight_decay=-0.1 must be >= 0"):
        LinearAutoencoder(2, weight_decay=-0.1).fit(spread)
    with pytest.raises(TypeError, match="tied='yes'"):
        LinearAutoencoder(2, tied="yes").fit(spread)
    with pytest.raises(TypeError, match="callback=3 must be a function"):
        LinearAutoencoder(2).fit(spread, callback=3)
    with pytest.raises(ValueError, match="has no variance"):
        LinearAutoencoder(1).fit(np.ones((5, 3)))
    with pytest.raises(RuntimeError, match="not fitted yet"):
        LinearAutoencoder(2).transform(spread)
    lae = LinearAutoencoder(2, max_iter=3).fit(spread)
    with pytest.raises(ValueError, match="X has 5 features, but LinearAutoencoder was fitted with 8"):
        lae.transform(spread[:, :5])
    with pytest.raises(ValueError, match="Z has 3 columns, but this LinearAutoencoder has n_components=2"):
        lae.inverse_transform(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="weight_decay=0: an unregularised linear autoencoder"):
        lae.recover_pca()
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        eigenvalues_from_decoder([1.2, 0.5], 0.1)
    with pytest.raises(ValueError, match="n_components=9 must be between 0 and 8"):
        eckart_young_bound(spread, 9)
    with pytest.warns(UserWarning, match="is not below the 2-th eigenvalue"):
        LinearAutoencoder(2, weight_decay=100.0, max_iter=2).fit(spread)
