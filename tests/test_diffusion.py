"""Diffusion: the toy's closed-form smoothed score against torch.autograd of torch.distributions' mixture
density; the forward process's marginal moments; the schedule against numpy; the samplers against exact
noise predictors (a point mass, a Gaussian), DDIM with eta = 1 against ancestral sampling; the DSM loss's
minimiser on a Gaussian against Tweedie's posterior mean; MMD against a numpy double loop; and the checkers."""
import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import pdist
from torch import nn

import aecourse
from aecourse import diffusion as D
from aecourse.exercises import ExerciseFailed
from aecourse.exercises import diffusion as checks


def _torch_mixture(mix, sigma):
    comp = torch.distributions.Independent(
        torch.distributions.Normal(torch.as_tensor(mix.means), math.sqrt(mix.std ** 2 + sigma ** 2)), 1)
    return torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(probs=torch.as_tensor(mix.weights)), comp)


# ------------------------------------------------------------------------------------------------ the toy

@pytest.mark.parametrize("sigma", [0.0, 0.05, 0.5, 2.0])
def test_mixture_score_and_density_match_autograd_of_torch_distributions(sigma):
    mix = D.GaussianMixture([[0.0, 0.0], [2.0, 1.0], [-1.0, 3.0]], std=0.4, weights=[0.2, 0.5, 0.3])
    x = torch.as_tensor(np.random.default_rng(0).normal(0, 2, (50, 2)), dtype=torch.float64).requires_grad_(True)
    dist = _torch_mixture(mix, sigma)
    log_p = dist.log_prob(x)
    (grad,) = torch.autograd.grad(log_p.sum(), x)
    np.testing.assert_allclose(mix.log_density(x.detach().numpy(), sigma), log_p.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(mix.score(x.detach().numpy(), sigma), grad.numpy(), rtol=1e-8, atol=1e-10)


def test_ring_mixture_samples_have_the_mixture_moments():
    mix = D.make_ring_mixture(8, radius=2.0, std=0.2)
    X = mix.sample(40000, seed=3)
    assert X.shape == (40000, 2) and X.dtype == np.float32
    np.testing.assert_allclose(X.mean(0), 0.0, atol=0.03)
    # Each coordinate: variance std^2 + radius^2 / 2 (the means' variance on the circle).
    np.testing.assert_allclose(X.var(0), 0.04 + 2.0, rtol=0.03)
    np.testing.assert_allclose(np.linalg.norm(mix.means, axis=1), 2.0)


def test_mixture_validates_its_input():
    with pytest.raises(ValueError, match="weights must be 2 non-negative numbers"):
        D.GaussianMixture([[0.0], [1.0]], std=1.0, weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="x has 3 columns but the mixture lives in 2"):
        D.make_ring_mixture().score(np.zeros((4, 3)), 0.1)
    with pytest.raises(ValueError, match="std=0.0 must be > 0"):
        D.GaussianMixture([[0.0, 0.0]], std=0.0)


# ------------------------------------------------------------------------------------ schedule, forward

def test_schedule_matches_numpy():
    s = D.NoiseSchedule(100)
    betas = np.linspace(1e-3, 0.2, 100)
    np.testing.assert_allclose(s.betas.numpy(), betas, rtol=1e-12)
    ab = np.cumprod(1 - betas)
    np.testing.assert_allclose(s.alpha_bars.numpy(), ab, rtol=1e-12)
    prev = np.concatenate([[1.0], ab[:-1]])
    np.testing.assert_allclose(s.posterior_variance.numpy(), (1 - prev) / (1 - ab) * betas, rtol=1e-12)
    assert float(s.posterior_variance[0]) == 0.0
    # Ho et al.'s end points for T = 1000.
    s1000 = D.NoiseSchedule(1000)
    assert float(s1000.betas[0]) == pytest.approx(1e-4) and float(s1000.betas[-1]) == pytest.approx(0.02)


def test_forward_sample_has_the_closed_form_marginal_moments():
    s = D.NoiseSchedule(50)
    g = torch.Generator().manual_seed(0)
    x0 = torch.tensor([[1.5, -0.5, 0.0]], dtype=torch.float64).expand(200000, 3)
    for t in (0, 10, 49):
        noise = torch.randn(x0.shape, generator=g, dtype=torch.float64)
        xt = D.forward_sample(x0, t, noise, s)
        ab = float(s.alpha_bars[t])
        np.testing.assert_allclose(xt.mean(0).numpy(), math.sqrt(ab) * x0[0].numpy(), atol=0.01)
        np.testing.assert_allclose(xt.var(0).numpy(), 1 - ab, rtol=0.02)


def test_forward_sample_with_a_step_per_row():
    s = D.NoiseSchedule(10)
    x0, noise, t = torch.ones(3, 2), torch.zeros(3, 2), torch.tensor([0, 4, 9])
    out = D.forward_sample(x0, t, noise, s)
    np.testing.assert_allclose(out[:, 0].numpy(), np.sqrt(s.alpha_bars.numpy()[[0, 4, 9]]), rtol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_steps=1), "n_steps=1 must be between 2 and inf"),
    (dict(n_steps=10, beta_start=0.5, beta_end=0.1), "must satisfy 0 < beta_start <= beta_end < 1"),
])
def test_schedule_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        D.NoiseSchedule(**kwargs)


def test_forward_sample_rejects_bad_steps_and_shapes():
    s = D.NoiseSchedule(10)
    with pytest.raises(ValueError, match=r"t must hold integer steps in 0..9"):
        D.forward_sample(torch.zeros(2, 2), 10, torch.zeros(2, 2), s)
    with pytest.raises(ValueError, match="draw the noise with torch.randn_like"):
        D.forward_sample(torch.zeros(2, 2), 1, torch.zeros(2, 3), s)


# --------------------------------------------------------------------------------- exact noise predictors

class GaussianEps(nn.Module):
    """The exact noise predictor of the forward process for data N(m, v I): E[eps | x_t] at step t = c (T - 1)."""

    def __init__(self, m, v, schedule):
        super().__init__()
        self.m, self.v, self.s = torch.as_tensor(m, dtype=torch.float32), v, schedule
        self.n_features = len(self.m)
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x, c):
        t = torch.round(c * (self.s.n_steps - 1)).long()
        ab = self.s.alpha_bars.float()[t][:, None]
        # x_t = sqrt(ab) x0 + sqrt(1 - ab) eps; E[eps | x_t] = sqrt(1 - ab) (x_t - sqrt(ab) m) / (ab v + 1 - ab)
        return (1 - ab).sqrt() * (x - ab.sqrt() * self.m) / (ab * self.v + 1 - ab)


@pytest.mark.parametrize("v", [0.0, 0.25])
def test_ddpm_loss_is_the_irreducible_error_of_the_exact_predictor(v):
    s = D.NoiseSchedule(20)
    m = [1.0, -2.0]
    model = GaussianEps(m, v, s)
    noise = torch.randn(20000, 2, generator=torch.Generator().manual_seed(1))
    X = torch.as_tensor(m, dtype=torch.float32) + math.sqrt(v) * noise
    loss = float(D.ddpm_loss(s, seed=0)(model, X, X))
    # Per coordinate Var(eps | x_t) = ab v / (ab v + 1 - ab): 0 for a point mass.
    ab = s.alpha_bars.numpy()
    want = float(np.mean(ab * v / (ab * v + 1 - ab)))
    assert loss == pytest.approx(want, abs=0.01)


def test_dsm_loss_of_the_exact_predictor_is_zero_for_a_point_mass():
    sig = D.geometric_noise_levels(2.0, 0.1, 5)

    class Oracle(nn.Module):
        def forward(self, x, c):
            i = torch.round(c * (len(sig) - 1)).long()
            return (x - 3.0) / torch.as_tensor(sig, dtype=torch.float32)[i][:, None]

    X = torch.full((500, 2), 3.0)
    assert float(D.dsm_loss(sig, seed=0)(Oracle(), X, X)) < 1e-8


def test_ddpm_and_ddim_samplers_recover_a_gaussian_with_the_exact_predictor():
    # Both samplers discretise the reverse process; with T = 1000 small steps the error is a few per cent
    # (with T = 100 the ancestral samples' std falls about 7 % short: the step variance beta~_t ignores
    # the uncertainty about x_0).
    s = D.NoiseSchedule(1000)
    model = GaussianEps([1.0, -1.0], 0.25, s)
    for x in (D.ddpm_sample(model, s, 20000, seed=0), D.ddim_sample(model, s, 20000, n_steps=1000, seed=0)):
        np.testing.assert_allclose(x.mean(0).numpy(), [1.0, -1.0], atol=0.02)
        np.testing.assert_allclose(x.std(0).numpy(), 0.5, rtol=0.03)


def test_ddim_with_the_exact_predictor_of_a_point_mass_lands_on_it_in_any_number_of_steps():
    s = D.NoiseSchedule(100)
    model = GaussianEps([0.3, -0.7], 0.0, s)
    for k in (1, 3, 10, 100):
        x = D.ddim_sample(model, s, 50, n_steps=k, seed=k)
        np.testing.assert_allclose(x.numpy(), np.tile([0.3, -0.7], (50, 1)), atol=1e-4)


def test_one_ddim_step_from_pure_noise_is_tweedies_posterior_mean_given_x_T():
    # For data N(m, v I), E[x_0 | x_T] = m + sqrt(abar_T) v (x_T - sqrt(abar_T) m) / (abar_T v + 1 - abar_T):
    # almost m itself when abar_T is small. Reading x_T at a small step's noise level instead returns ~x_T.
    s = D.NoiseSchedule(100)
    m, v = torch.tensor([1.0, -1.0]), 0.25
    model = GaussianEps(m, v, s)
    x_T, _, _ = D._start(model, 500, 3)
    ab = float(s.alpha_bars[-1])
    want = m + math.sqrt(ab) * v * (x_T - math.sqrt(ab) * m) / (ab * v + 1 - ab)
    torch.testing.assert_close(D.ddim_sample(model, s, 500, n_steps=1, seed=3), want, rtol=1e-4, atol=1e-5)


def test_mixture_noise_predictor_of_one_component_is_the_gaussian_one():
    s = D.NoiseSchedule(50)
    exact = D.MixtureNoisePredictor(D.GaussianMixture([[1.0, -1.0]], 0.5), s)
    x = torch.randn((40, 2), generator=torch.Generator().manual_seed(2))
    c = torch.arange(40) % 50 / 49.0                                   # a different step per row
    torch.testing.assert_close(exact(x, c), GaussianEps([1.0, -1.0], 0.25, s)(x, c), rtol=1e-5, atol=1e-6)


def test_samplers_with_the_exact_mixture_predictor_reach_the_held_out_floor():
    mix = D.make_ring_mixture(4, radius=2.0, std=0.2)
    held = mix.sample(1000, seed=1)
    s = D.NoiseSchedule(100)
    exact = D.MixtureNoisePredictor(mix, s)
    floor = D.mmd2(held[:500], held[500:], 0.3)
    for x in (D.ddpm_sample(exact, s, 500, seed=0), D.ddim_sample(exact, s, 500, n_steps=100, seed=0)):
        assert D.mmd2(x.numpy(), held[500:], 0.3) < 2 * floor
    with pytest.raises(TypeError, match="pass a GaussianMixture"):
        D.MixtureNoisePredictor(s, mix)


def test_ddim_with_eta_1_on_every_step_is_ancestral_sampling():
    s = D.NoiseSchedule(30)
    net = D.NoiseConditionalMLP(3, (16,), n_freqs=2, seed=0)
    a = D.ddpm_sample(net, s, 64, seed=5)
    b = D.ddim_sample(net, s, 64, n_steps=30, eta=1.0, seed=5)
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_ancestral_sampler_uses_the_eps_form_of_the_mean():
    s = D.NoiseSchedule(12)
    net = D.NoiseConditionalMLP(2, (16,), n_freqs=2, seed=1)
    g = torch.Generator().manual_seed(7)
    x = torch.randn((10, 2), generator=g)
    with torch.no_grad():
        for t in range(11, -1, -1):
            x = D.ddpm_step_mean(x, net(x, torch.full((10,), t / 11)), t, s)
            if t > 0:
                x = x + math.sqrt(float(s.posterior_variance[t])) * torch.randn(x.shape, generator=g)
    torch.testing.assert_close(D.ddpm_sample(net, s, 10, seed=7), x, rtol=1e-4, atol=1e-5)


def test_ddim_timesteps():
    assert D.ddim_timesteps(100, 1) == [99]     # one jump from x_T, which is at the last step's noise level
    assert D.ddim_timesteps(100, 2) == [99, 0]
    assert D.ddim_timesteps(100, 100) == list(range(99, -1, -1))
    ts = D.ddim_timesteps(100, 10)
    assert len(ts) == 10 and ts[0] == 99 and ts[-1] == 0 and ts == sorted(ts, reverse=True)
    with pytest.raises(ValueError, match="n_steps=101 must be between 1 and 100"):
        D.ddim_timesteps(100, 101)


def test_annealed_langevin_samples_the_smoothed_gaussian_with_the_exact_score():
    sig = D.geometric_noise_levels(1.0, 0.2, 4)
    m, v = torch.tensor([2.0, 0.0]), 0.09

    class Oracle(nn.Module):
        n_features = 2

        def __init__(self):
            super().__init__()
            self.dummy = nn.Parameter(torch.zeros(1))

        def forward(self, x, c):
            sg = torch.as_tensor(sig, dtype=torch.float32)[torch.round(c * 3).long()][:, None]
            return sg * (x - m) / (v + sg ** 2)          # eps = -sigma * score

    x = D.annealed_langevin(Oracle(), sig, 20000, n_steps_each=100, step_size=0.05, seed=0, denoise=False)
    np.testing.assert_allclose(x.mean(0).numpy(), m.numpy(), atol=0.02)
    np.testing.assert_allclose(x.std(0).numpy(), math.sqrt(v + 0.04), rtol=0.07)


# ------------------------------------------------------------------------------ DSM minimiser = Tweedie

def test_dsm_minimiser_on_a_gaussian_is_tweedies_posterior_mean():
    m, s, sigma = np.array([1.0, -0.5]), 0.6, 0.4
    X = (m + s * np.random.default_rng(0).standard_normal((8000, 2))).astype(np.float32)

    class LinearEps(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, x, c):
            return self.lin(x)

    model = LinearEps()
    aecourse.train(model, X, epochs=400, batch_size=None, lr=2e-2, loss_fn=D.dsm_loss([sigma, sigma], seed=0))
    # Tweedie: E[x | x~] = m + s^2 / (s^2 + sigma^2) (x~ - m), so the best noise guess is
    # (x~ - E[x | x~]) / sigma = sigma / (s^2 + sigma^2) (x~ - m).
    k = sigma / (s ** 2 + sigma ** 2)
    W, b = model.lin.weight.detach().numpy(), model.lin.bias.detach().numpy()
    np.testing.assert_allclose(W, k * np.eye(2), atol=0.03)
    np.testing.assert_allclose(b, -k * m, atol=0.03)


def test_noise_conditional_mlp_shapes_and_seed():
    a, b = D.NoiseConditionalMLP(5, (8, 8), n_freqs=3, seed=2), D.NoiseConditionalMLP(5, (8, 8), n_freqs=3, seed=2)
    x = torch.randn(7, 5)
    assert a(x, 0.5).shape == (7, 5)
    torch.testing.assert_close(a(x, 0.3), b(x, torch.tensor(0.3)))
    f = D.sinusoidal_features(torch.tensor([0.0, 0.25]), 2)
    np.testing.assert_allclose(f.numpy(), [[0, 0, 1, 1], [np.sin(np.pi / 4), 1, np.cos(np.pi / 4), 0]], atol=1e-6)


def test_losses_are_repeatable_given_the_seed():
    X = torch.randn(32, 4, generator=torch.Generator().manual_seed(0))
    net = D.NoiseConditionalMLP(4, (8,), seed=0)
    for make in (lambda: D.ddpm_loss(D.NoiseSchedule(10), seed=3), lambda: D.dsm_loss([1.0, 0.1], seed=3)):
        with torch.no_grad():
            assert float(make()(net, X, X)) == float(make()(net, X, X))


def test_loss_factories_validate():
    with pytest.raises(ValueError, match="must be at least two positive noise levels"):
        D.dsm_loss([0.5])
    with pytest.raises(TypeError, match="is not a NoiseSchedule"):
        D.ddpm_loss(100)
    with pytest.raises(ValueError, match="sigma_min=1.0 must be below sigma_max=0.5"):
        D.geometric_noise_levels(0.5, 1.0, 4)


# ------------------------------------------------------------------------------------------------- MMD

def test_mmd2_matches_a_double_loop():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((12, 3)), rng.standard_normal((9, 3)) + 0.5
    h = 1.3

    def k(a, b):
        return math.exp(-np.sum((a - b) ** 2) / (2 * h * h))

    kxx = sum(k(a, b) for a in X for b in X) / 144
    kyy = sum(k(a, b) for a in Y for b in Y) / 81
    kxy = sum(k(a, b) for a in X for b in Y) / 108
    assert D.mmd2(X, Y, h) == pytest.approx(kxx + kyy - 2 * kxy, rel=1e-10)
    assert D.mmd2(X, X, h) == pytest.approx(0.0, abs=1e-12)


def test_mmd2_separates_distributions_and_median_bandwidth_matches_scipy():
    rng = np.random.default_rng(1)
    A, B, C = rng.standard_normal((300, 2)), rng.standard_normal((300, 2)), rng.standard_normal((300, 2)) + 1.0
    h = D.median_bandwidth(A)
    assert h == pytest.approx(float(np.median(pdist(A))), rel=1e-10)
    assert D.mmd2(A, C, h) > 10 * D.mmd2(A, B, h)
    with pytest.raises(ValueError, match="X has 2 features and Y has 3"):
        D.mmd2(A, np.zeros((4, 3)), 1.0)
    with pytest.raises(ValueError, match="bandwidth=0.0 must be > 0"):
        D.mmd2(A, B, 0.0)


# --------------------------------------------------------------------------------------------- checkers

def test_checkers_accept_the_library_and_the_examples():
    s = D.NoiseSchedule(checks.SCHEDULE_STEPS)
    checks.check_forward_sample(checks._example_forward)
    checks.check_gaussian_score(lambda x, m, s_, sg: (m - x) / (s_ ** 2 + sg ** 2))
    checks.check_ddpm_mean(checks._example_mean)
    checks.check_signal_left(float(np.prod(1 - np.linspace(0.001, 0.2, 100))))
    assert float(s.alpha_bars[-1]) == pytest.approx(float(np.prod(1 - np.linspace(0.001, 0.2, 100))), rel=1e-12)


def _ab(b):
    return np.cumprod(1 - b)


@pytest.mark.parametrize("wrong, hint", [
    (lambda x0, t, e, b: np.sqrt(1 - b[t])[:, None] * x0 + np.sqrt(b[t])[:, None] * e, "PRODUCT of the alphas"),
    (lambda x0, t, e, b: _ab(b)[t][:, None] * x0 + (1 - _ab(b)[t])[:, None] * e, "those are the VARIANCES"),
    (lambda x0, t, e, b: np.sqrt(_ab(b)[t])[:, None] * x0 + e, r"sqrt\(1 - alpha_bar_t\)"),
])
def test_forward_checker_names_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_forward_sample(wrong)


@pytest.mark.parametrize("wrong, hint", [
    (lambda x, m, s, sg: (m - x) / s ** 2, "smoothing by sigma adds sigma"),
    (lambda x, m, s, sg: (x - m) / (s ** 2 + sg ** 2), "sign is flipped"),
    (lambda x, m, s, sg: (m - x) / (s + sg) ** 2, "VARIANCES"),
])
def test_score_checker_names_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_gaussian_score(wrong)


@pytest.mark.parametrize("wrong, hint", [
    (lambda x, e, t, b: x - b[t] / np.sqrt(1 - _ab(b)[t]) * e, "divide by sqrt"),
    (lambda x, e, t, b: (x - np.sqrt(1 - _ab(b)[t]) * e) / np.sqrt(_ab(b)[t]), "Tweedie's estimate of x_0"),
])
def test_ddpm_mean_checker_names_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_ddpm_mean(wrong)


@pytest.mark.parametrize("value, hint", [
    (1 - 0.2, "alpha_T of the last step alone"),
    (float(np.sqrt(np.prod(1 - np.linspace(0.001, 0.2, 100)))), "the factor on x_0"),
    (float(np.exp(-np.linspace(0.001, 0.2, 100).sum())), "good approximation"),
])
def test_signal_left_checker_names_mistakes(value, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_signal_left(value)
