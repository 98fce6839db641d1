"""The VAE module against independent references: log-likelihoods and the KL against torch.distributions, the
importance-weighted estimate against numerical integration, the bound ordering, seeds, errors, and the
generative-model checkers."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import aecourse
from aecourse import vae as V
from aecourse.exercises import ExerciseFailed
from aecourse.exercises import generative as checks

D = torch.distributions


@pytest.fixture(scope="module")
def binary_digits():
    d = aecourse.load_digits()
    return (d.X_train[:300] > 0.5).astype(np.float32), (d.X_test[:60] > 0.5).astype(np.float32)


@pytest.fixture(scope="module")
def trained_vae2(binary_digits):
    """A small VAE with a 2-d latent, briefly trained, so that its posterior is not the prior."""
    X, _ = binary_digits
    torch.manual_seed(0)
    model = V.VAE(64, 2, hidden=(32,), seed=0)
    aecourse.train(model, X, epochs=60, batch_size=None, lr=1e-2, loss_fn=V.elbo_loss, progress=False)
    return model


# ------------------------------------------------------------------------------------- likelihoods

def test_bernoulli_log_likelihood_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(6, 10, generator=g) > 0.5).float()
    logits = 4 * torch.randn(6, 10, generator=g)
    ours = V.bernoulli_log_likelihood(x, logits)
    ref = D.Bernoulli(logits=logits).log_prob(x).sum(-1)
    assert ours.shape == (6,)
    assert torch.allclose(ours, ref, atol=1e-5)
    assert torch.allclose(ours, -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1), atol=1e-5)
    # broadcasting over a leading sample axis (K, B, n)
    many = V.bernoulli_log_likelihood(x, logits.expand(3, 6, 10))
    assert many.shape == (3, 6) and torch.allclose(many[1], ref, atol=1e-5)
    # extreme logits stay finite
    assert torch.isfinite(V.bernoulli_log_likelihood(x, 1e4 * torch.sign(logits))).all()


def test_gaussian_log_likelihood_matches_torch_and_mse():
    g = torch.Generator().manual_seed(1)
    x, mean = torch.rand(5, 7, generator=g), torch.rand(5, 7, generator=g)
    for std in (0.1, 1.0, 2.5):
        ours = V.gaussian_log_likelihood(x, mean, std)
        assert torch.allclose(ours, D.Normal(mean, std).log_prob(x).sum(-1), atol=1e-4)
        sq = ((x - mean) ** 2).sum(-1)
        assert torch.allclose(ours, -(7 / 2 * math.log(2 * math.pi * std ** 2) + sq / (2 * std ** 2)), atol=1e-4)
    std_t = torch.full((7,), 0.3)
    assert torch.allclose(V.gaussian_log_likelihood(x, mean, std_t), D.Normal(mean, 0.3).log_prob(x).sum(-1),
                          atol=1e-4)


def test_bits_per_dim():
    assert V.bits_per_dim(64 * math.log(2), 64) == pytest.approx(1.0)
    assert V.bits_per_dim(0.0, 10) == 0.0
    with pytest.raises(ValueError, match="n_dims=0"):
        V.bits_per_dim(1.0, 0)


def test_likelihood_errors():
    with pytest.raises(ValueError, match="do not broadcast"):
        V.bernoulli_log_likelihood(torch.zeros(4, 3), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="features"):
        V.bernoulli_log_likelihood(torch.zeros(4, 3), torch.zeros(4, 1))
    with pytest.raises(ValueError, match="std=0"):
        V.gaussian_log_likelihood(torch.zeros(2, 3), torch.zeros(2, 3), 0.0)
    with pytest.raises(ValueError, match="std has values <= 0"):
        V.gaussian_log_likelihood(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3))


# ---------------------------------------------------------------------------------------------- KL

def test_gaussian_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(2)
    mu, logvar = 2 * torch.randn(8, 5, generator=g), torch.randn(8, 5, generator=g)
    ref = D.kl_divergence(D.Normal(mu, (0.5 * logvar).exp()), D.Normal(0.0, 1.0)).sum(-1)
    ours = V.gaussian_kl(mu, logvar)
    assert ours.shape == (8,) and torch.allclose(ours, ref, atol=1e-4)
    assert torch.allclose(V.gaussian_kl(torch.zeros(3, 4), torch.zeros(3, 4)), torch.zeros(3))
    with pytest.raises(ValueError, match="log-variance"):
        V.gaussian_kl(torch.zeros(3, 4), torch.zeros(3, 2))


def test_kl_of_a_trained_encoder(trained_vae2, binary_digits):
    _, X_test = binary_digits
    with torch.no_grad():
        mu, logvar = trained_vae2.encode(torch.as_tensor(X_test))
    ref = D.kl_divergence(D.Normal(mu, (0.5 * logvar).exp()), D.Normal(torch.zeros_like(mu), 1.0)).sum(-1)
    assert torch.allclose(V.gaussian_kl(mu, logvar), ref, atol=1e-4)


def test_log_mean_exp():
    lw = torch.tensor([[-1000.0, 0.0], [-1001.0, math.log(3.0)]], dtype=torch.float64)
    out = V.log_mean_exp(lw)
    assert out[0].item() == pytest.approx(-1000 + math.log((1 + math.exp(-1)) / 2))
    assert out[1].item() == pytest.approx(math.log(2.0))


# ------------------------------------------------------------------------------------------ the VAE

def test_vae_shapes_and_reparameterisation():
    model = V.VAE(64, 3, hidden=(16, 8), seed=0)
    x = torch.rand(5, 64)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (5, 3)
    g = torch.Generator().manual_seed(0)
    z = model.reparameterize(mu, logvar, n_samples=4000, generator=g)
    assert z.shape == (4000, 5, 3)
    # z = mu + sigma * eps: the sample mean and std match mu and exp(logvar / 2)
    assert torch.allclose(z.mean(0), mu, atol=0.1)
    assert torch.allclose(z.std(0), (0.5 * logvar).exp(), rtol=0.1)
    assert model(x).shape == (5, 64) and ((model(x) >= 0) & (model(x) <= 1)).all()
    assert model.sample(7, seed=1).shape == (7, 64)
    # gradients flow through the sampled code to the encoder
    V.elbo_loss(model, x, x).backward()
    assert model.head.weight.grad is not None and model.head.weight.grad.abs().sum() > 0


def test_vae_seeds():
    a, b, c = V.VAE(64, 2, seed=3), V.VAE(64, 2, seed=3), V.VAE(64, 2, seed=4)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    assert not torch.equal(a.head.weight, c.head.weight)
    assert torch.equal(a.sample(5, seed=0), b.sample(5, seed=0))
    assert not torch.equal(a.sample(5, seed=0), a.sample(5, seed=1))
    # building a VAE leaves the global generator alone
    torch.manual_seed(0)
    first = torch.rand(1)
    torch.manual_seed(0)
    V.VAE(64, 2, seed=5)
    assert torch.equal(first, torch.rand(1))


def test_training_is_reproducible(binary_digits):
    X, X_test = binary_digits
    runs = []
    for _ in range(2):
        model = V.VAE(64, 2, hidden=(16,), seed=1)
        h = aecourse.train(model, X, epochs=5, batch_size=100, loss_fn=V.elbo_loss, seed=2, progress=False)
        runs.append((h.loss, V.iw_log_likelihood(model, X_test, n_samples=20, seed=0)))
    assert runs[0][0] == runs[1][0]
    assert np.array_equal(runs[0][1], runs[1][1])


def test_gaussian_decoder_vae():
    model = V.VAE(10, 2, hidden=(8,), likelihood="gaussian", decoder_std=0.5, seed=0)
    x = torch.rand(4, 10)
    z = torch.randn(3, 4, 2)
    ref = D.Normal(model.decoder(z), 0.5).log_prob(x).sum(-1)
    assert torch.allclose(model.log_px_given_z(x, z), ref, atol=1e-4)
    exact = V.grid_log_likelihood(model, x, n_grid=121, limit=6.0)
    iw = V.iw_log_likelihood(model, x, n_samples=4000, seed=0)
    assert np.allclose(iw, exact, atol=0.05)


# ---------------------------------------------------------------------------------- log p(x) estimates

def test_iw_estimate_bounds_and_increases_with_k(trained_vae2, binary_digits):
    _, X_test = binary_digits
    x = torch.as_tensor(X_test)
    with torch.no_grad():
        elbo = V.elbo(trained_vae2, x, n_samples=500, seed=0).mean().item()
    iw = {k: V.iw_log_likelihood(trained_vae2, X_test, n_samples=k, seed=k).mean() for k in (1, 10, 100, 1000)}
    assert iw[1] == pytest.approx(elbo, abs=0.2)          # K = 1 is the ELBO (with a sampled KL)
    assert elbo < iw[10] < iw[100] < iw[1000]
    # the exact value by integration on a grid, from the decoder alone: an independent reference
    exact = V.grid_log_likelihood(trained_vae2, X_test, n_grid=201)
    assert np.allclose(exact, V.grid_log_likelihood(trained_vae2, X_test, n_grid=151), atol=1e-3)
    assert iw[1000] <= exact.mean() + 0.02 and exact.mean() - iw[1000] < 0.3
    per_image = V.iw_log_likelihood(trained_vae2, X_test, n_samples=3000, seed=1)
    assert np.abs(per_image - exact).max() < 0.5
    # probabilities of binary images: log p(x) < 0
    assert (exact < 0).all()


def test_prior_proposal_is_worse_at_small_k(trained_vae2, binary_digits):
    _, X_test = binary_digits
    enc = V.iw_log_likelihood(trained_vae2, X_test, n_samples=5, seed=0).mean()
    blind = V.iw_log_likelihood(trained_vae2, X_test, n_samples=5, seed=0, proposal="prior").mean()
    assert blind < enc


def test_iw_seeds(trained_vae2, binary_digits):
    _, X_test = binary_digits
    a = V.iw_log_likelihood(trained_vae2, X_test, n_samples=10, seed=0)
    b = V.iw_log_likelihood(trained_vae2, X_test, n_samples=10, seed=0)
    c = V.iw_log_likelihood(trained_vae2, X_test, n_samples=10, seed=1)
    assert np.array_equal(a, b) and not np.array_equal(a, c) and a.shape == (len(X_test),)
    # batching does not change the draws' distribution, only their order: results stay close
    d = V.iw_log_likelihood(trained_vae2, X_test, n_samples=10, seed=0, batch_size=7)
    assert abs(d.mean() - a.mean()) < 0.5


def test_estimate_errors(trained_vae2):
    with pytest.raises(TypeError, match="not a VAE"):
        V.iw_log_likelihood(aecourse.MLPAutoencoder(64, 2), np.zeros((2, 64)))
    with pytest.raises(ValueError, match="n_features=64"):
        V.iw_log_likelihood(trained_vae2, np.zeros((2, 10)))
    with pytest.raises(ValueError, match="n_samples=0"):
        V.iw_log_likelihood(trained_vae2, np.zeros((2, 64)), n_samples=0)
    with pytest.raises(ValueError, match="proposal='posterior'"):
        V.iw_log_likelihood(trained_vae2, np.zeros((2, 64)), proposal="posterior")
    with pytest.raises(ValueError, match="n_components=3"):
        V.grid_log_likelihood(V.VAE(64, 3), np.zeros((2, 64)))
    with pytest.raises(ValueError, match="likelihood='poisson'"):
        V.VAE(64, 2, likelihood="poisson")
    with pytest.raises(ValueError, match="hidden=\\(\\)"):
        V.VAE(64, 2, hidden=())


def test_nearest_neighbour_distance_matches_brute_force():
    rng = np.random.default_rng(0)
    A, B = rng.random((7, 5)), rng.random((11, 5))
    brute = np.array([min(np.linalg.norm(a - b) for b in B) for a in A])
    assert np.allclose(V.nearest_neighbour_distance(A, B), brute)
    assert np.allclose(V.nearest_neighbour_distance(B, B), 0, atol=1e-6)
    with pytest.raises(ValueError, match="same size"):
        V.nearest_neighbour_distance(A, rng.random((3, 4)))


def test_bernoulli_loss_hook():
    ae = aecourse.MLPAutoencoder(64, 2, seed=0)
    x = (torch.rand(4, 64) > 0.5).float()
    ref = -D.Bernoulli(logits=ae(x)).log_prob(x).sum(-1).mean()
    assert torch.allclose(V.bernoulli_loss(ae, x, x), ref, atol=1e-4)


# ---------------------------------------------------------------------------------------- checkers

def test_checkers_accept_examples():
    assert checks.check_gaussian_kl(lambda m, lv: V.gaussian_kl(m, lv)).passed
    assert checks.check_log_mean_exp(lambda lw: V.log_mean_exp(lw)).passed
    assert checks.check_bits_per_dim(-(20 * math.log(0.8) + 44 * math.log(0.9)) / (64 * math.log(2))).passed


@pytest.mark.parametrize("wrong, hint", [
    (lambda m, lv: (m ** 2 + lv.exp() - 1 - lv).sum(-1), "factor 1/2"),
    (lambda m, lv: 0.5 * (m ** 2 + (2 * lv).exp() - 1 - 2 * lv).sum(-1), "log of the VARIANCE"),
    (lambda m, lv: 0.5 * (m ** 2 + lv.exp() - 1 - lv).mean(-1), "SUM"),
    (lambda m, lv: None, "forget the `return`"),
])
def test_kl_checker_rejects_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_gaussian_kl(wrong)


@pytest.mark.parametrize("wrong, hint", [
    (lambda lw: torch.log(torch.exp(lw).mean(0)), "log-sum-exp trick"),
    (lambda lw: lw.mean(0), "Jensen"),
    (lambda lw: torch.logsumexp(lw, 0), "subtract log K"),
    (lambda lw: torch.logsumexp(lw, 1) - math.log(lw.shape[1]), "wrong axis"),
])
def test_log_mean_exp_checker_rejects_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_log_mean_exp(wrong)


@pytest.mark.parametrize("wrong, hint", [
    (-(20 * math.log(0.8) + 44 * math.log(0.9)), "nats per IMAGE"),
    (-(20 * math.log(0.8) + 44 * math.log(0.1)) / (64 * math.log(2)), "1 - P\\(on\\)"),
    (None, "assign your number"),
])
def test_bits_checker_rejects_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_bits_per_dim(wrong)


# ------------------------------------------------- the grid: trapezoidal rule and the true posterior

def _linear_gaussian_vae(p=2, n=6, std=1.0, seed=0):
    """A VAE whose decoder is affine (no activation) with a Gaussian likelihood: x = W z + b + N(0, std^2 I).
    Then p(x) and p(z|x) are Gaussian in closed form (Bishop 2006, section 2.3.3): an independent reference."""
    model = V.VAE(n, p, hidden=(4,), activation=None, likelihood="gaussian", decoder_std=std, seed=seed)
    with torch.no_grad():
        for m in model.decoder:
            m.weight.mul_(0.8)
    lin = [m for m in model.decoder if isinstance(m, torch.nn.Linear)]
    W = (lin[1].weight @ lin[0].weight).double()                        # (n, p)
    b = (lin[1].weight @ lin[0].bias + lin[1].bias).double()            # (n,)
    return model, W.detach(), b.detach()


def test_grid_log_likelihood_matches_the_linear_gaussian_closed_form():
    model, W, b = _linear_gaussian_vae()
    x = torch.randn(5, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ref = D.MultivariateNormal(b, W @ W.T + torch.eye(6, dtype=torch.float64)).log_prob(x).numpy()
    ours = V.grid_log_likelihood(model, x.float(), n_grid=241, limit=7.0)
    assert np.allclose(ours, ref, atol=1e-3), (ours, ref)


def test_grid_log_likelihood_is_the_trapezoidal_rule_on_its_nodes():
    """On a coarse 1-d grid the rules differ: the library must equal numpy's trapezoid on the same nodes,
    with the integrand computed independently by torch.distributions."""
    model = V.VAE(5, 1, hidden=(3,), seed=2)
    x = (torch.rand(3, 5, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    nodes = np.linspace(-2.0, 2.0, 5)
    with torch.no_grad():
        logits = model.decoder(torch.as_tensor(nodes, dtype=torch.float32)[:, None])      # (5, n)
        log_joint = (D.Bernoulli(logits=logits.double()[:, None]).log_prob(x.double()[None]).sum(-1)
                     + D.Normal(0.0, 1.0).log_prob(torch.as_tensor(nodes))[:, None]).numpy()  # (nodes, N)
    ref = np.log(np.trapezoid(np.exp(log_joint), nodes, axis=0))
    ours = V.grid_log_likelihood(model, x, n_grid=5, limit=2.0)
    assert np.allclose(ours, ref, atol=1e-9)
    plain_sum = np.log(np.exp(log_joint).sum(0) * (nodes[1] - nodes[0]))   # every node weighted alike
    assert not np.allclose(ours, plain_sum, atol=1e-4)


def test_grid_log_posterior_matches_the_linear_gaussian_posterior():
    model, W, b = _linear_gaussian_vae()
    x = torch.randn(3, 6, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    z, log_w, log_post = V.grid_log_posterior(model, x.float(), n_grid=161, limit=6.0)
    assert z.shape == (161 ** 2, 2) and log_w.shape == (161 ** 2,) and log_post.shape == (3, 161 ** 2)
    assert np.allclose(np.exp(log_w + log_post).sum(1), 1.0, atol=1e-10)
    S = torch.linalg.inv(torch.eye(2, dtype=torch.float64) + W.T @ W)                   # std = 1
    for i in range(3):
        m = S @ W.T @ (x[i] - b)
        ref = D.MultivariateNormal(m, S).log_prob(torch.as_tensor(z)).numpy()
        near = ref > ref.max() - 8.0                                    # where the posterior has its mass
        assert np.allclose(log_post[i][near], ref[near], atol=1e-3)


def test_grid_rejects_large_latents_and_bad_grids():
    with pytest.raises(ValueError, match="n_components=3"):
        V.grid_log_posterior(V.VAE(64, 3), np.zeros((2, 64)))
    with pytest.raises(ValueError, match="n_grid=1"):
        V.grid_log_likelihood(V.VAE(64, 2), np.zeros((2, 64)), n_grid=1)
    with pytest.raises(ValueError, match="limit=0"):
        V.grid_log_posterior(V.VAE(64, 2), np.zeros((2, 64)), limit=0)


# --------------------------------------------------------- rate, distortion, units, beta

def test_rate_and_distortion_add_up_to_minus_the_elbo(trained_vae2, binary_digits):
    _, X_test = binary_digits
    rate, distortion = V.rate_distortion(trained_vae2, X_test, n_samples=50, seed=3)
    x = torch.as_tensor(X_test)
    with torch.no_grad():
        elbo = V.elbo(trained_vae2, x, n_samples=50, seed=3).double().numpy()
        mu, logvar = trained_vae2.encode(x)
    ref_rate = D.kl_divergence(D.Normal(mu, (0.5 * logvar).exp()), D.Normal(0.0, 1.0)).sum(-1).numpy()
    assert rate.shape == distortion.shape == (len(X_test),)
    assert np.allclose(rate, ref_rate, atol=1e-4) and (distortion > 0).all()
    assert np.allclose(rate + distortion, -elbo, atol=1e-4)
    units = V.unit_rates(trained_vae2, X_test)
    assert units.shape == (2,) and (units >= 0).all() and units.sum() == pytest.approx(rate.mean(), abs=1e-4)


def test_activity_and_active_units(trained_vae2, binary_digits):
    _, X_test = binary_digits
    with torch.no_grad():
        mu, _ = trained_vae2.encode(torch.as_tensor(X_test))
    activity = V.latent_activity(trained_vae2, X_test)
    assert np.allclose(activity, np.var(mu.numpy().astype(np.float64), axis=0, ddof=1), rtol=1e-5)
    assert V.active_units(trained_vae2, X_test) == int((activity > 0.01).sum()) == 2
    assert V.active_units(trained_vae2, X_test, threshold=1e9) == 0
    # a unit whose mean ignores the input is inactive, and its rate is its constant cost
    collapsed = V.VAE(64, 2, hidden=(32,), seed=0)
    collapsed.load_state_dict(trained_vae2.state_dict())
    with torch.no_grad():
        collapsed.head.weight[0].zero_()                                # mu_1 = bias: the same for every x
    assert V.active_units(collapsed, X_test) == 1 and V.latent_activity(collapsed, X_test)[0] == 0
    with pytest.raises(ValueError, match="threshold=-1"):
        V.active_units(trained_vae2, X_test, threshold=-1)
    with pytest.raises(ValueError, match="at least 2 rows"):
        V.latent_activity(trained_vae2, X_test[:1])


def test_beta_loss():
    x = (torch.rand(6, 64, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    a, b, c = (V.VAE(64, 3, hidden=(16,), seed=7) for _ in range(3))   # same weights, same noise streams
    assert torch.equal(V.elbo_loss(a, x, x), V.beta_vae_loss(1.0)(b, x, x))
    # with the same draw: loss(beta) = -recon + beta * KL, so loss(3) - loss(1) = 2 KL
    recon, kl = V._elbo_terms(c, x, seed=None)
    a2, b2 = (V.VAE(64, 3, hidden=(16,), seed=7) for _ in range(2))
    l1, l3 = V.elbo_loss(a2, x, x), V.beta_vae_loss(3.0)(b2, x, x)
    assert torch.allclose(l3 - l1, 2 * kl.mean(), atol=1e-5)
    assert torch.allclose(l1, -(recon - kl).mean(), atol=1e-5)
    assert V.beta_vae_loss(4.0).beta == 4.0 and V.beta_vae_loss(0).beta == 0.0
    with pytest.raises(ValueError, match="beta=-1"):
        V.beta_vae_loss(-1)


def test_large_beta_collapses_the_posterior(binary_digits):
    """With a large beta every unit's rate goes to 0: the decoder ignores z (posterior collapse)."""
    X, _ = binary_digits
    model = V.VAE(64, 3, hidden=(32,), seed=0)
    aecourse.train(model, X, epochs=80, batch_size=None, lr=1e-2, loss_fn=V.beta_vae_loss(20.0), progress=False)
    assert V.active_units(model, X) == 0 and V.unit_rates(model, X).max() < 0.02


# ----------------------------------------------------------------------- the aggregate posterior

def test_aggregate_log_density_matches_a_torch_mixture(trained_vae2, binary_digits):
    X, _ = binary_digits
    with torch.no_grad():
        mu, logvar = (t.double() for t in trained_vae2.encode(torch.as_tensor(X)))
    mixture = D.MixtureSameFamily(D.Categorical(torch.ones(len(mu), dtype=torch.float64)),
                                  D.Independent(D.Normal(mu, (0.5 * logvar).exp()), 1))
    z = 2 * torch.randn(300, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ours = V.aggregate_log_density(trained_vae2, X, z.numpy(), batch_size=77)
    assert ours.shape == (300,) and np.allclose(ours, mixture.log_prob(z).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="n_components=2"):
        V.aggregate_log_density(trained_vae2, X, np.zeros((3, 5)))


def _prior_encoder(p=1, shift=0.0, logvar=0.0):
    """A VAE whose encoder ignores x: q(z|x) = N(shift, exp(logvar)) for every input."""
    model = V.VAE(64, p, hidden=(8,), seed=0)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias[:p] = shift
        model.head.bias[p:] = logvar
    return model


def test_aggregate_kl_and_holes_against_closed_forms(binary_digits):
    X, _ = binary_digits
    # q(z|x) = p(z) for every x: the aggregate posterior is the prior, no holes
    prior_like = _prior_encoder(p=2)
    assert V.aggregate_kl(prior_like, X, n_samples=2000, seed=0) == pytest.approx(0.0, abs=1e-9)
    assert V.prior_hole_fraction(prior_like, X, n_samples=2000, seed=0) == 0.0
    # q(z|x) = N(m, s^2) for every x (1-d): KL(N(m, s^2) || N(0, 1)) in closed form, and the holes are the
    # prior mass where N(z; m, s^2) < 0.1 N(z; 0, 1), an interval computed with scipy
    from scipy.stats import norm
    m, s = 1.5, 0.5
    shifted = _prior_encoder(p=1, shift=m, logvar=2 * math.log(s))
    kl_exact = 0.5 * (m ** 2 + s ** 2 - 1 - 2 * math.log(s))
    assert V.aggregate_kl(shifted, X, n_samples=20000, seed=1) == pytest.approx(kl_exact, abs=0.03)
    zz = np.linspace(-8, 8, 160001)
    inside = norm.logpdf(zz, m, s) >= math.log(0.1) + norm.logpdf(zz)     # one interval where q >= p / 10
    lo, hi = zz[inside].min(), zz[inside].max()
    holes_exact = 1 - (norm.cdf(hi) - norm.cdf(lo))
    assert V.prior_hole_fraction(shifted, X, n_samples=20000, seed=2) == pytest.approx(holes_exact, abs=0.01)


def test_aggregate_kl_is_below_the_mean_rate(trained_vae2, binary_digits):
    """E_x KL(q(z|x) || p) = I(x; z) + KL(q(z) || p) (Hoffman & Johnson 2016): the aggregate KL is smaller."""
    X, _ = binary_digits
    agg = V.aggregate_kl(trained_vae2, X, n_samples=5000, seed=0)
    assert 0 < agg < V.rate_distortion(trained_vae2, X)[0].mean()
    with pytest.raises(ValueError, match="ratio=0"):
        V.prior_hole_fraction(trained_vae2, X, ratio=0)


def test_active_units_checker():
    assert checks.check_active_units(lambda mu, t: int((np.var(mu, axis=0, ddof=1) > t).sum())).passed
    # ddof 0 is accepted too: the cases keep every variance far from the threshold
    assert checks.check_active_units(lambda mu, t: int((np.var(mu, axis=0) > t).sum())).passed


@pytest.mark.parametrize("wrong, hint", [
    (lambda mu, t: int((np.std(mu, axis=0) > t).sum()), "standard deviation"),
    (lambda mu, t: int((np.var(mu, axis=1) > t).sum()), "axis 0"),
    (lambda mu, t: int((np.abs(mu.mean(0)) > t).sum()), "CHANGES"),
    (lambda mu, t: int((np.var(mu, axis=0) <= t).sum()), "inactive"),
    (lambda mu, t: np.var(mu, axis=0) > t, "single number"),
])
def test_active_units_checker_names_the_mistake(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_active_units(wrong)
