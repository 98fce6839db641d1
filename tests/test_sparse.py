"""Sparse and contractive autoencoders: the penalties against torch.distributions, the top-k activation
against torch.topk and numpy, the closed-form contractive penalty and Jacobians against torch.func and
torch.autograd.functional, the spectra against numpy's SVD, and the model's options."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import aecourse
from aecourse import sparse as sp


def _rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------------------------------- penalties

def test_l1_penalty_is_the_laplace_negative_log_prior_up_to_a_constant():
    z = torch.relu(_rand(30, 12))
    lam = 0.7
    prior = torch.distributions.Laplace(0.0, 1.0 / lam)
    neg_log = -prior.log_prob(z).sum(1).mean()
    assert torch.allclose(lam * sp.l1_penalty(z), neg_log - 12 * np.log(2 / lam), atol=1e-5)
    assert float(sp.l1_penalty(z)) == pytest.approx(np.abs(z.numpy()).sum(1).mean(), rel=1e-6)


def test_kl_penalty_matches_torch_distributions_bernoulli_kl():
    z = torch.sigmoid(_rand(40, 9))
    rho = 0.05
    rho_hat = z.mean(0)
    want = torch.distributions.kl_divergence(torch.distributions.Bernoulli(probs=torch.full((9,), rho)),
                                             torch.distributions.Bernoulli(probs=rho_hat)).sum()
    assert torch.allclose(sp.kl_sparsity_penalty(z, rho), want, atol=1e-5)


def test_kl_penalty_is_zero_at_the_target_rate_and_positive_elsewhere():
    assert float(sp.kl_sparsity_penalty(torch.full((7, 5), 0.1), 0.1)) == pytest.approx(0.0, abs=1e-6)
    assert float(sp.kl_sparsity_penalty(torch.full((7, 5), 0.5), 0.1)) > 0.1
    assert torch.isfinite(sp.kl_sparsity_penalty(torch.zeros(3, 4), 0.05)), "rho_hat = 0 is clamped, not inf"


@pytest.mark.parametrize("rho", [0.0, 1.0, -0.1, 1.5])
def test_kl_penalty_rejects_a_rate_outside_0_1(rho):
    with pytest.raises(ValueError, match=f"rho={rho!r} is a target activation rate"):
        sp.kl_sparsity_penalty(torch.full((2, 2), 0.5), rho)


def test_sparse_loss_is_mse_plus_weighted_penalty():
    model = sp.OneLayerAutoencoder(6, 10, "sigmoid", seed=1)
    x = torch.rand(8, 6, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        z = model.encode(x)
        base = F.mse_loss(model(x), x)
        assert torch.allclose(sp.sparse_loss("l1", 0.3)(model, x, x), base + 0.3 * z.abs().sum(1).mean())
        kl = sp.sparse_loss("kl", 0.2, rho=0.1)(model, x, x)
        assert torch.allclose(kl, base + 0.2 * sp.kl_sparsity_penalty(z, 0.1))
        assert torch.allclose(sp.sparse_loss("l1", 0.0)(model, x, x), base)


@pytest.mark.parametrize("kwargs, match", [
    (dict(penalty="l2"), "penalty='l2' is not supported"),
    (dict(weight=-1.0), "weight=-1.0 must be >= 0"),
    (dict(penalty="kl", rho=2.0), "rho=2.0 is a target activation rate"),
])
def test_sparse_loss_validates_at_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sp.sparse_loss(**kwargs)


# ------------------------------------------------------------------------------------------------- top-k

@pytest.mark.parametrize("shape, k", [((5, 9), 3), ((1, 4), 4), ((6, 20), 1)])
def test_topk_matches_numpy_and_torch_topk(shape, k):
    a = _rand(*shape, seed=k)
    got = sp.topk(a, k, relu=False).numpy()
    A = a.numpy()
    want = np.zeros_like(A)
    idx = np.argsort(-A, axis=1)[:, :k]
    np.put_along_axis(want, idx, np.take_along_axis(A, idx, axis=1), axis=1)
    np.testing.assert_allclose(got, want)
    values = torch.topk(a, k, dim=1).values
    assert torch.equal(torch.sort(torch.from_numpy(got), dim=1, descending=True).values[:, :k], values)
    np.testing.assert_allclose(sp.topk(a, k).numpy(), np.maximum(want, 0))   # relu=True: kept negatives -> 0


def test_topk_has_at_most_k_nonzeros_and_gradients_only_for_kept_units():
    a = _rand(4, 10).requires_grad_()
    out = sp.topk(a, 3)
    assert ((out != 0).sum(1) <= 3).all()
    out.sum().backward()
    kept = (out != 0)
    assert torch.equal(a.grad != 0, kept)


def test_topk_module_and_errors():
    a = _rand(2, 5)
    assert torch.equal(sp.TopK(2)(a), sp.topk(a, 2))
    assert "k=2" in repr(sp.TopK(2))
    with pytest.raises(ValueError, match="k=6 must be between 1 and 5"):
        sp.topk(a, 6)
    with pytest.raises(ValueError, match="k=0 must be between 1"):
        sp.topk(a, 0)
    with pytest.raises(TypeError, match="must be a torch.Tensor"):
        sp.topk(np.ones((2, 3)), 1)


# --------------------------------------------------------------------------------------------- the model

def test_one_layer_autoencoder_shapes_and_formula():
    m = sp.OneLayerAutoencoder(7, 11, "relu", pre_bias=np.arange(7.0), seed=0)
    x = torch.rand(3, 7)
    z = m.encode(x)
    assert z.shape == (3, 11) and m(x).shape == (3, 7) and (z >= 0).all()
    with torch.no_grad():
        want_z = torch.relu((x - m.pre_bias) @ m.encoder.weight.T + m.encoder.bias)
        want_x = z @ m.decoder.weight.T + m.pre_bias
    assert torch.allclose(z, want_z) and torch.allclose(m(x), want_x)
    assert torch.equal(m.pre_bias.detach(), torch.arange(7.0))


def test_tied_decoder_is_the_encoder_transpose_and_has_no_weights_of_its_own():
    m = sp.OneLayerAutoencoder(5, 8, "sigmoid", tied=True)
    assert not hasattr(m, "decoder")
    assert torch.equal(m.decoder_weight, m.encoder.weight.T)
    assert sum(p.numel() for p in m.parameters()) == 8 * 5 + 8 + 5


def test_unit_decoder_columns_have_unit_norm_and_tied_init_transposes():
    m = sp.OneLayerAutoencoder(6, 9, "topk", k=2, unit_decoder=True, tied_init=True, seed=3)
    norms = m.decoder_weight.norm(dim=0)
    assert torch.allclose(norms, torch.ones(9), atol=1e-6)
    assert torch.allclose(m.encoder.weight, m.decoder_weight.T.detach()) and torch.all(m.encoder.bias == 0)
    with torch.no_grad():
        m.decoder.weight.mul_(5.0)                 # the parametrisation keeps the columns at unit norm
    assert torch.allclose(m.decoder_weight.norm(dim=0), torch.ones(9), atol=1e-6)


def test_model_seed_is_reproducible_and_leaves_the_global_stream():
    torch.manual_seed(9)
    expected = torch.rand(1)
    torch.manual_seed(9)
    a = sp.OneLayerAutoencoder(4, 6, seed=2)
    assert torch.equal(torch.rand(1), expected)
    b = sp.OneLayerAutoencoder(4, 6, seed=2)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


@pytest.mark.parametrize("kwargs, match", [
    (dict(activation="tanh"), "activation='tanh' is not supported"),
    (dict(activation="topk"), "activation='topk' needs k"),
    (dict(activation="relu", k=3), "k=3 is only used with activation='topk'"),
    (dict(activation="topk", k=9), "k=9 must be between 1 and 8"),
    (dict(pre_bias=np.zeros(3)), r"pre_bias has shape \(3,\); expected \(4,\)"),
    (dict(tied=True, unit_decoder=True), "cannot be combined with unit_decoder or tied_init"),
    (dict(n_latents=0), "n_latents=0 must be between 1"),
])
def test_model_errors(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        sp.OneLayerAutoencoder(**{"n_features": 4, "n_latents": 8, **kwargs})


def test_l1_training_gives_sparser_codes_than_no_penalty():
    X = torch.as_tensor(aecourse.load_digits().X_train[:400])
    mean = X.mean(0)
    codes = {}
    for name, loss in [("plain", aecourse.reconstruction_loss), ("l1", sp.sparse_loss("l1", 3e-3))]:
        m = sp.OneLayerAutoencoder(64, 128, pre_bias=mean, unit_decoder=True)
        aecourse.train(m, X, epochs=15, batch_size=100, lr=3e-3, loss_fn=loss)
        with torch.no_grad():
            codes[name] = m.encode(X)
    assert sp.active_fraction(codes["l1"]) < 0.6 * sp.active_fraction(codes["plain"])


# ------------------------------------------------------------------------------------------ contraction

def _sigmoid_net(seed=0):
    return sp.OneLayerAutoencoder(6, 9, "sigmoid", pre_bias=0.1 * _rand(6, seed=seed + 10), seed=seed)


def test_closed_form_encoder_jacobian_matches_autograd():
    m = _sigmoid_net()
    x = torch.rand(4, 6, generator=torch.Generator().manual_seed(1))
    J = sp.sigmoid_encoder_jacobian(m, x)                                  # (4, 9, 6)
    for i in range(4):
        want = torch.autograd.functional.jacobian(m.encode, x[i])          # (9, 6)
        assert torch.allclose(J[i], want, atol=1e-6)
    assert torch.allclose(J, sp.jacobian(m.encode, x), atol=1e-6)


def test_contractive_penalty_is_the_mean_squared_frobenius_norm():
    m = _sigmoid_net(seed=2)
    x = torch.rand(5, 6, generator=torch.Generator().manual_seed(3))
    from torch.func import jacrev, vmap
    J = vmap(jacrev(m.encode))(x)
    assert torch.allclose(sp.contractive_penalty(m, x), (J ** 2).sum((1, 2)).mean(), rtol=1e-5)
    loss = sp.contractive_loss(0.5)(m, x, x)
    assert torch.allclose(loss, F.mse_loss(m(x), x) + 0.5 * (J ** 2).sum((1, 2)).mean(), rtol=1e-5)


def test_contractive_penalty_needs_a_sigmoid_code():
    with pytest.raises(ValueError, match="closed-form contractive penalty holds for a one-layer sigmoid"):
        sp.contractive_penalty(sp.OneLayerAutoencoder(4, 5, "relu"), torch.rand(2, 4))
    with pytest.raises(TypeError, match="needs encode and decode methods"):
        sp.contractive_penalty(torch.nn.Linear(4, 4), torch.rand(2, 4))


def test_jacobian_of_a_whole_autoencoder_matches_autograd_functional():
    m = sp.OneLayerAutoencoder(5, 7, "relu", seed=4)
    x = torch.rand(3, 5, generator=torch.Generator().manual_seed(5))
    J = sp.jacobian(m, x)                                                  # (3, 5, 5)
    assert J.shape == (3, 5, 5) and not J.requires_grad
    for i in range(3):
        assert torch.allclose(J[i], torch.autograd.functional.jacobian(m, x[i]), atol=1e-6)
    with pytest.raises(TypeError, match="is not callable"):
        sp.jacobian(3, x)
    with pytest.raises(ValueError, match="must be a 2-D tensor"):
        sp.jacobian(m, x[0])


def test_spectrum_matches_numpy_and_top_share_bounds():
    J = _rand(6, 8, 5)
    s = sp.jacobian_spectrum(J)
    np.testing.assert_allclose(s.numpy(), np.linalg.svd(J.numpy(), compute_uv=False), rtol=1e-5)
    share = sp.top_share(s, 2)
    s2 = np.linalg.svd(J.numpy(), compute_uv=False) ** 2
    np.testing.assert_allclose(share.numpy(), s2[:, :2].sum(1) / s2.sum(1), rtol=1e-5)
    assert torch.allclose(sp.top_share(torch.ones(3, 10), 4), torch.full((3,), 0.4))   # isotropic: k / r
    low_rank = _rand(2, 8, 2) @ _rand(2, 2, 5, seed=1)                                  # rank 2
    assert torch.allclose(sp.top_share(sp.jacobian_spectrum(low_rank), 2), torch.ones(2), atol=1e-5)
    assert torch.allclose(sp.top_share(torch.tensor([[1.0, 3.0, 2.0]]), 1), torch.tensor([9 / 14]))  # sorts first


def test_spectrum_and_share_errors():
    with pytest.raises(ValueError, match=r"expected a batch of Jacobians \(B, m, n\)"):
        sp.jacobian_spectrum(torch.ones(3, 3))
    with pytest.raises(ValueError, match="k=4 must be between 1 and 3"):
        sp.top_share(torch.ones(2, 3), 4)
    with pytest.raises(ValueError, match=r"expected singular values \(B, r\)"):
        sp.top_share(torch.ones(3), 1)


# ------------------------------------------------------------------------------------- code statistics

def test_code_statistics_against_numpy():
    rng = np.random.default_rng(0)
    Z = np.maximum(rng.standard_normal((50, 12)) - 1.0, 0.0)
    Z[:, 3] = 0.0                                                           # a dead unit
    assert sp.l0(Z) == pytest.approx((Z > 0).sum(1).mean())
    assert sp.active_fraction(Z) == pytest.approx((Z > 0).mean())
    assert sp.active_fraction(torch.from_numpy(Z)) == pytest.approx(sp.l0(Z) / 12)
    assert sp.dead_fraction(Z) == pytest.approx(((Z > 0).sum(0) == 0).mean())
    assert sp.dead_fraction(Z) >= 1 / 12
    assert sp.active_fraction(Z, threshold=0.5) <= sp.active_fraction(Z)
    with pytest.raises(ValueError, match=r"expected codes \(n_samples, n_units\)"):
        sp.l0(np.ones(4))
