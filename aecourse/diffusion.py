"""Diffusion models as denoising autoencoders trained at many noise levels.

Holds what the step from one denoiser to a generative model needs:

- :class:`GaussianMixture`, a toy density whose score after Gaussian smoothing is known in closed form,
  and :func:`make_ring_mixture`, the chapter's 2-d instance;
- :class:`NoiseConditionalMLP`, a small network told the noise level through a few sinusoidal features
  (:func:`sinusoidal_features`) concatenated to its input; it predicts the noise that was added;
- :func:`geometric_noise_levels` and :func:`dsm_loss`: denoising score matching at several noise levels
  (Vincent 2011; Song & Ermon 2019), and :func:`annealed_langevin`, the sampler of Song & Ermon;
- :class:`NoiseSchedule` (the variance schedule of Ho, Jain & Abbeel 2020), :func:`forward_sample`
  (x_t given x_0), :func:`ddpm_loss` (their simplified loss), :class:`MixtureNoisePredictor` (the exact
  noise predictor of a :class:`GaussianMixture`, to test samplers without a network's errors), :func:`ddpm_step_mean`,
  :func:`ddpm_sample` (ancestral sampling) and :func:`ddim_sample` (the deterministic few-step sampler of
  Song, Meng & Ermon 2021);
- :func:`mmd2` and :func:`median_bandwidth`: the kernel two-sample statistic of Gretton et al. (2012).

Losses are hooks ``loss_fn(model, x_in, target)`` for :func:`aecourse.train`; each draws its noise from
its own seeded generator. Step indices are 0-based: step ``t`` (0 <= t < T) is step t + 1 of Ho et al.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ._validation import as_2d_float, check_int, check_positive
from .models import _check_sizes, mlp

__all__ = [
    "GaussianMixture", "make_ring_mixture", "sinusoidal_features", "NoiseConditionalMLP",
    "geometric_noise_levels", "dsm_loss", "annealed_langevin", "NoiseSchedule", "forward_sample",
    "ddpm_loss", "MixtureNoisePredictor", "ddpm_step_mean", "ddpm_sample", "ddim_timesteps", "ddim_sample", "median_bandwidth",
    "mmd2",
]


# ------------------------------------------------------------------------------------------- the toy

class GaussianMixture:
    """An isotropic Gaussian mixture: sum_k w_k N(mu_k, std^2 I).

    Smoothing it with Gaussian noise of standard deviation sigma gives another mixture, with the same
    means and variance std^2 + sigma^2, so its density and its score grad_x log p_sigma(x) are known in
    closed form: the independent reference against which a learned score is measured.

    Parameters
    ----------
    means : (K, d) the component means.
    std : the components' standard deviation, > 0.
    weights : (K,) mixing weights (default equal); normalised to sum to 1.
    """

    def __init__(self, means, std: float, weights=None):
        self.means = as_2d_float(means, "means")                                   # (K, d)
        self.std = check_positive(std, "std")
        K = len(self.means)
        w = np.full(K, 1.0 / K) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
        if w.shape != (K,) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"weights must be {K} non-negative numbers (one per mean) with a positive sum; "
                             f"got {weights!r}.")
        self.weights = w / w.sum()                                                 # (K,)

    @property
    def n_features(self) -> int:
        return self.means.shape[1]

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` draws from the mixture: (n, d) float32."""
        n = check_int(n, "n", low=1)
        rng = np.random.default_rng(seed)
        k = rng.choice(len(self.means), size=n, p=self.weights)                    # (n,) components
        X = self.means[k] + self.std * rng.standard_normal((n, self.n_features))
        return X.astype(np.float32)

    def _check(self, x, sigma):
        X = as_2d_float(x, "x")
        if X.shape[1] != self.n_features:
            raise ValueError(f"x has {X.shape[1]} columns but the mixture lives in {self.n_features} "
                             "dimensions; pass points of that width, one per row.")
        return X, check_positive(sigma, "sigma", allow_zero=True)

    def _responsibilities(self, X, var):
        d2 = ((X[:, None, :] - self.means[None]) ** 2).sum(-1)                     # (N, K)
        log_c = np.log(self.weights)[None] - d2 / (2 * var) - 0.5 * self.n_features * np.log(2 * np.pi * var)
        log_p = np.logaddexp.reduce(log_c, axis=1)                                 # (N,)
        return np.exp(log_c - log_p[:, None]), log_p

    def log_density(self, x, sigma: float = 0.0) -> np.ndarray:
        """log p_sigma(x) of the mixture smoothed by N(0, sigma^2 I): (N,) float64."""
        X, sigma = self._check(x, sigma)
        return self._responsibilities(X, self.std ** 2 + sigma ** 2)[1]

    def score(self, x, sigma: float = 0.0) -> np.ndarray:
        """grad_x log p_sigma(x) = sum_k r_k(x) (mu_k - x) / (std^2 + sigma^2): (N, d) float64, where
        r_k(x) is the posterior probability of component k at x under the smoothed mixture."""
        X, sigma = self._check(x, sigma)
        var = self.std ** 2 + sigma ** 2
        r, _ = self._responsibilities(X, var)                                      # (N, K)
        return (r @ self.means - X) / var                                          # (N, d)


def make_ring_mixture(n_components: int = 8, radius: float = 2.0, std: float = 0.15) -> GaussianMixture:
    """``n_components`` equal Gaussians with standard deviation ``std``, their means evenly spaced on a
    circle of ``radius`` in the plane: a density with separated modes, the classic toy of generative models."""
    n_components = check_int(n_components, "n_components", low=1)
    radius = check_positive(radius, "radius")
    angle = 2 * np.pi * np.arange(n_components) / n_components
    return GaussianMixture(radius * np.stack([np.cos(angle), np.sin(angle)], 1), std)


# ---------------------------------------------------------------------------- the noise-conditional net

def sinusoidal_features(c: torch.Tensor, n_freqs: int = 8) -> torch.Tensor:
    """Features [sin(pi 2^j c), cos(pi 2^j c)] for j = 0..n_freqs-1 of a conditioning scalar c in [0, 1]:
    (B,) -> (B, 2 n_freqs). A few such features let a small network tell noise levels apart (the time
    embedding of Ho et al. 2020 is of this kind, with geometrically spaced frequencies)."""
    n_freqs = check_int(n_freqs, "n_freqs", low=1)
    freqs = math.pi * 2.0 ** torch.arange(n_freqs, device=c.device, dtype=c.dtype)    # (F,)
    arg = c.reshape(-1, 1) * freqs                                                      # (B, F)
    return torch.cat([torch.sin(arg), torch.cos(arg)], dim=1)                          # (B, 2F)


class NoiseConditionalMLP(nn.Module):
    """A fully connected network eps_theta(x, c) that predicts the noise in x at noise level c in [0, 1].

    The input is x (B, n) concatenated with the sinusoidal features of c; the output has the width of x.
    Read as an autoencoder, it is a denoising autoencoder conditioned on the noise level: the denoised
    point is x minus the predicted noise, rescaled (Tweedie's formula, Efron 2011).

    Parameters
    ----------
    n_features : the data width n.
    hidden : hidden widths, e.g. (128, 128).
    n_freqs : sinusoidal frequencies for c (2 features each).
    activation : hidden activation: ``"silu"`` (x sigmoid(x)) or a name from :data:`aecourse.models.ACTIVATIONS`.
    seed : seeds the weights.
    """

    def __init__(self, n_features: int, hidden: Sequence[int] = (128, 128), n_freqs: int = 8,
                 activation: str = "silu", seed: int | None = 0):
        super().__init__()
        self.n_features = check_int(n_features, "n_features", low=1)
        self.n_freqs = check_int(n_freqs, "n_freqs", low=1)
        hidden = _check_sizes(hidden, "hidden")
        with torch.random.fork_rng(devices=[]):   # same seed, same weights; the caller's stream is untouched
            if seed is not None:
                torch.default_generator.manual_seed(seed)
            if activation == "silu":
                sizes = (self.n_features + 2 * self.n_freqs, *hidden, self.n_features)
                layers: list[nn.Module] = []
                for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
                    layers.append(nn.Linear(a, b))
                    if i < len(sizes) - 2:
                        layers.append(nn.SiLU())
                self.net = nn.Sequential(*layers)
            else:
                self.net = mlp((self.n_features + 2 * self.n_freqs, *hidden, self.n_features), activation)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """x (B, n), c (B,) or a float in [0, 1] -> predicted noise (B, n)."""
        if not isinstance(c, torch.Tensor):
            c = torch.full((len(x),), float(c), device=x.device, dtype=x.dtype)
        elif c.ndim == 0:
            c = c.expand(len(x))
        return self.net(torch.cat([x, sinusoidal_features(c.to(x.dtype), self.n_freqs)], dim=1))


def _generator(store: dict, device: torch.device, seed: int) -> torch.Generator:
    key = str(device)
    if key not in store:
        store[key] = torch.Generator(device=device).manual_seed(seed)
    return store[key]


# ------------------------------------------------------------------ denoising score matching, Langevin

def geometric_noise_levels(sigma_max: float, sigma_min: float, n_levels: int) -> np.ndarray:
    """``n_levels`` noise levels from ``sigma_max`` down to ``sigma_min`` in geometric progression
    (Song & Ermon 2019): (L,) float64, largest first."""
    sigma_max, sigma_min = check_positive(sigma_max, "sigma_max"), check_positive(sigma_min, "sigma_min")
    if sigma_min >= sigma_max:
        raise ValueError(f"sigma_min={sigma_min} must be below sigma_max={sigma_max}; the levels go from "
                         "large noise down to small noise.")
    n_levels = check_int(n_levels, "n_levels", low=2)
    return np.exp(np.linspace(np.log(sigma_max), np.log(sigma_min), n_levels))


def _level_code(i: torch.Tensor, n_levels: int) -> torch.Tensor:
    """The conditioning scalar of level i (0 = largest noise): i / (L - 1) in [0, 1]."""
    return i.float() / (n_levels - 1)


def dsm_loss(sigmas, seed: int = 0):
    """Loss hook for :func:`aecourse.train`: denoising score matching at the noise levels ``sigmas``.

    For each row a level sigma_i is drawn uniformly and x~ = x + sigma_i eps. Vincent (2011) showed that
    fitting s(x~) to (x - x~) / sigma^2 = -eps / sigma fits the score of the data density smoothed by
    sigma. With the score written as s = -eps_theta(x~, i) / sigma_i and each level weighted by sigma_i^2
    (the weighting of Song & Ermon 2019), the loss is the mean of ||eps_theta(x~, i) - eps||^2 / n: a
    denoising autoencoder that predicts the noise. The model is called as ``model(x~, i / (L - 1))``.
    """
    s = np.asarray(sigmas, dtype=np.float64).ravel()
    if len(s) < 2 or not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(f"sigmas={sigmas!r} must be at least two positive noise levels, e.g. "
                         "geometric_noise_levels(3.0, 0.05, 10).")
    seed = check_int(seed, "seed", low=0)
    store: dict = {}
    table: dict = {}

    def loss_fn(model: nn.Module, x_in: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        g = _generator(store, x_in.device, seed)
        sig = table.setdefault(str(x_in.device), torch.as_tensor(s, dtype=x_in.dtype, device=x_in.device))
        i = torch.randint(len(s), (len(target),), generator=g, device=x_in.device)        # (B,)
        eps = torch.randn(target.shape, generator=g, device=x_in.device, dtype=target.dtype)
        x_noisy = target + sig[i, None] * eps                                              # (B, n)
        return ((model(x_noisy, _level_code(i, len(s))) - eps) ** 2).mean()

    loss_fn.sigmas = s
    return loss_fn


@torch.no_grad()
def annealed_langevin(model: nn.Module, sigmas, n: int, n_steps_each: int = 20, step_size: float = 2e-5,
                      seed: int = 0, init_std: float | None = None, denoise: bool = True) -> torch.Tensor:
    """Annealed Langevin dynamics (Song & Ermon 2019, algorithm 1) with the score -eps_theta / sigma.

    Start from N(0, init_std^2 I) (default: the largest sigma); at each level i, from largest to smallest,
    take ``n_steps_each`` steps x <- x + (a_i / 2) s(x, i) + sqrt(a_i) z with a_i = step_size
    sigma_i^2 / sigma_L^2. ``denoise=True`` ends with one step of Tweedie's formula at the smallest level,
    x <- x + sigma_L^2 s(x, L), which removes the noise of that level (Efron 2011). Returns (n, d).
    """
    s = np.asarray(sigmas, dtype=np.float64).ravel()
    n = check_int(n, "n", low=1)
    n_steps_each = check_int(n_steps_each, "n_steps_each", low=1)
    step_size = check_positive(step_size, "step_size")
    device = next(model.parameters()).device
    g = torch.Generator(device=device).manual_seed(check_int(seed, "seed", low=0))
    std0 = float(s[0]) if init_std is None else check_positive(init_std, "init_std")
    x = std0 * torch.randn((n, model.n_features), generator=g, device=device)          # (n, d)
    model.eval()
    for i, sigma in enumerate(s):
        a = step_size * (sigma / s[-1]) ** 2
        code = torch.full((n,), i / (len(s) - 1), device=device)
        for _ in range(n_steps_each):
            score = -model(x, code) / sigma
            x = x + 0.5 * a * score + math.sqrt(a) * torch.randn(x.shape, generator=g, device=device)
    if denoise:
        x = x - s[-1] * model(x, torch.ones(n, device=device))      # x + sigma^2 * score, score = -eps / sigma
    return x


# --------------------------------------------------------------------------------------------- DDPM

class NoiseSchedule:
    """The variance schedule of a DDPM (Ho, Jain & Abbeel 2020): beta_t linear over ``n_steps`` steps.

    alpha_t = 1 - beta_t and alpha_bar_t = prod_{s <= t} alpha_s, so that q(x_t | x_0) =
    N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I). Ho et al. use beta from 1e-4 to 0.02 over T = 1000; by
    default the end points are scaled by 1000 / T (at most 0.5), so that a shorter chain destroys the signal
    about as fully.
    All arrays are float64 tensors of shape (T,), step t = 0 first.
    """

    def __init__(self, n_steps: int = 100, beta_start: float | None = None, beta_end: float | None = None):
        self.n_steps = check_int(n_steps, "n_steps", low=2)
        scale = 1000.0 / self.n_steps
        b0 = min(1e-4 * scale, 0.5) if beta_start is None else check_positive(beta_start, "beta_start")
        b1 = min(0.02 * scale, 0.5) if beta_end is None else check_positive(beta_end, "beta_end")
        if not b0 <= b1 < 1:
            raise ValueError(f"beta_start={b0} and beta_end={b1} must satisfy 0 < beta_start <= beta_end < 1; "
                             "each beta_t is the variance of the noise added at one step.")
        self.betas = torch.linspace(b0, b1, self.n_steps, dtype=torch.float64)               # (T,)
        self.alphas = 1.0 - self.betas
        self.alpha_bars = torch.cumprod(self.alphas, 0)
        prev = torch.cat([torch.ones(1, dtype=torch.float64), self.alpha_bars[:-1]])
        self.alpha_bars_prev = prev                                                           # alpha_bar_{t-1}
        # Variance of q(x_{t-1} | x_t, x_0) (Ho et al. eq. 7): beta~_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t.
        self.posterior_variance = (1.0 - prev) / (1.0 - self.alpha_bars) * self.betas

    def __repr__(self) -> str:
        return (f"NoiseSchedule(n_steps={self.n_steps}, beta {float(self.betas[0]):.3g} -> "
                f"{float(self.betas[-1]):.3g}, alpha_bar_T={float(self.alpha_bars[-1]):.2e})")

    def _check_t(self, t) -> torch.Tensor:
        t = torch.as_tensor(t)
        if t.is_floating_point() or t.numel() == 0 or int(t.min()) < 0 or int(t.max()) >= self.n_steps:
            raise ValueError(f"t must hold integer steps in 0..{self.n_steps - 1} (0-based); got {t!r}.")
        return t.long()


def forward_sample(x0: torch.Tensor, t, noise: torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
    """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise (Ho et al. 2020, eq. 4): (B, n).

    ``t`` is an integer or a (B,) tensor of 0-based steps; ``noise`` has the shape of ``x0``."""
    if x0.shape != noise.shape:
        raise ValueError(f"x0 has shape {tuple(x0.shape)} and noise {tuple(noise.shape)}; draw the noise "
                         "with torch.randn_like(x0).")
    t = schedule._check_t(t).to(x0.device)
    ab = schedule.alpha_bars.to(device=x0.device, dtype=x0.dtype)[t]
    ab = ab.reshape(-1, *([1] * (x0.ndim - 1))) if ab.ndim else ab
    return ab.sqrt() * x0 + (1.0 - ab).sqrt() * noise


def ddpm_loss(schedule: NoiseSchedule, seed: int = 0):
    """Loss hook for :func:`aecourse.train`: the simplified DDPM loss (Ho et al. 2020, eq. 14),
    the mean over rows and features of ||eps - eps_theta(x_t, t / (T - 1))||^2 with t uniform and
    x_t from :func:`forward_sample`. It is the loss of :func:`dsm_loss` with the levels of the forward
    process, which also rescales the data by sqrt(alpha_bar_t)."""
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule of type {type(schedule).__name__} is not a NoiseSchedule; "
                        "build one with NoiseSchedule(n_steps=100).")
    seed = check_int(seed, "seed", low=0)
    store: dict = {}
    table: dict = {}
    T = schedule.n_steps

    def loss_fn(model: nn.Module, x_in: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        g = _generator(store, x_in.device, seed)
        ab = table.setdefault(str(x_in.device), schedule.alpha_bars.to(device=x_in.device, dtype=x_in.dtype))
        t = torch.randint(T, (len(target),), generator=g, device=x_in.device)                # (B,)
        eps = torch.randn(target.shape, generator=g, device=x_in.device, dtype=target.dtype)
        a = ab[t, None]                                                                        # (B, 1)
        x_t = a.sqrt() * target + (1.0 - a).sqrt() * eps
        return ((model(x_t, t.float() / (T - 1)) - eps) ** 2).mean()

    loss_fn.schedule = schedule
    return loss_fn


class MixtureNoisePredictor(nn.Module):
    """The exact noise predictor E[eps | x_t] of the forward process for data from a :class:`GaussianMixture`.

    Under the forward process x_t is again a mixture, with means sqrt(alpha_bar_t) mu_k and variance
    alpha_bar_t std^2 + 1 - alpha_bar_t, and E[eps | x_t] = -sqrt(1 - alpha_bar_t) grad log q(x_t): the
    eps-prediction <-> score relation. Called like a trained network, ``model(x_t, t / (T - 1))``, it lets
    the samplers run without a network's errors, so that what remains is the samplers' own error.
    """

    def __init__(self, mixture: GaussianMixture, schedule: NoiseSchedule):
        super().__init__()
        if not isinstance(mixture, GaussianMixture) or not isinstance(schedule, NoiseSchedule):
            raise TypeError(f"got {type(mixture).__name__} and {type(schedule).__name__}; pass a GaussianMixture "
                            "(e.g. make_ring_mixture()) and a NoiseSchedule.")
        self.mixture, self.schedule = mixture, schedule
        self.n_features = mixture.n_features
        self._device_marker = nn.Parameter(torch.zeros(1), requires_grad=False)   # the samplers read its device

    def forward(self, x: torch.Tensor, c) -> torch.Tensor:
        """x_t (B, n), c (B,) or a float in [0, 1] (the step over T - 1) -> E[eps | x_t] (B, n)."""
        T = self.schedule.n_steps
        c = torch.as_tensor(c, dtype=torch.float64).reshape(-1).expand(len(x)).cpu()
        t = torch.round(c * (T - 1)).long()
        X = x.detach().cpu().numpy().astype(np.float64)
        out = np.empty_like(X)
        for step in torch.unique(t).tolist():
            rows = (t == step).numpy()
            ab = float(self.schedule.alpha_bars[self.schedule._check_t(step)])
            q_t = GaussianMixture(math.sqrt(ab) * self.mixture.means,
                                  math.sqrt(ab * self.mixture.std ** 2 + 1 - ab), self.mixture.weights)
            out[rows] = -math.sqrt(1 - ab) * q_t.score(X[rows])
        return torch.as_tensor(out, dtype=x.dtype, device=x.device)


def ddpm_step_mean(x_t: torch.Tensor, eps_hat: torch.Tensor, t: int, schedule: NoiseSchedule) -> torch.Tensor:
    """The mean of one ancestral step, mu_theta(x_t, t) = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_hat)
    / sqrt(alpha_t) (Ho et al. 2020, eq. 11): (B, n)."""
    t = int(schedule._check_t(t))
    b, a, ab = (float(v[t]) for v in (schedule.betas, schedule.alphas, schedule.alpha_bars))
    return (x_t - b / math.sqrt(1.0 - ab) * eps_hat) / math.sqrt(a)


def _x0_from_eps(x_t, eps_hat, ab, clip):
    x0 = (x_t - math.sqrt(1.0 - ab) * eps_hat) / math.sqrt(ab)
    return x0 if clip is None else x0.clamp(*clip)


def _start(model, n, seed):
    n = check_int(n, "n", low=1)
    device = next(model.parameters()).device
    g = torch.Generator(device=device).manual_seed(check_int(seed, "seed", low=0))
    return torch.randn((n, model.n_features), generator=g, device=device), g, device    # x_T ~ N(0, I)


@torch.no_grad()
def ddpm_sample(model: nn.Module, schedule: NoiseSchedule, n: int, seed: int = 0,
                clip: tuple[float, float] | None = None) -> torch.Tensor:
    """Ancestral sampling (Ho et al. 2020, algorithm 2): from x_T ~ N(0, I), T steps
    x_{t-1} = mu_theta(x_t, t) + sqrt(beta~_t) z, with no noise at the last step. Returns x_0, (n, d).

    The mean is computed as the posterior mean of q(x_{t-1} | x_t, x0_hat) with x0_hat from Tweedie's
    formula; without ``clip`` this is :func:`ddpm_step_mean` exactly. ``clip=(lo, hi)`` clips x0_hat to
    the data range at each step, as Ho et al.'s implementation does for images."""
    model.eval()
    x, g, device = _start(model, n, seed)
    T = schedule.n_steps
    for t in range(T - 1, -1, -1):
        ab, ab_prev, b, a = (float(v[t]) for v in (schedule.alpha_bars, schedule.alpha_bars_prev,
                                                   schedule.betas, schedule.alphas))
        eps = model(x, torch.full((n,), t / (T - 1), device=device))
        x0 = _x0_from_eps(x, eps, ab, clip)
        # Posterior mean of q(x_{t-1} | x_t, x_0) (Ho et al. eq. 7).
        mean = (math.sqrt(ab_prev) * b / (1 - ab)) * x0 + (math.sqrt(a) * (1 - ab_prev) / (1 - ab)) * x
        if t > 0:
            mean = mean + math.sqrt(float(schedule.posterior_variance[t])) * torch.randn(
                x.shape, generator=g, device=device)
        x = mean
    return x


def ddim_timesteps(n_total: int, n_steps: int) -> list[int]:
    """``n_steps`` evenly spaced 0-based steps out of ``n_total``, largest first. They always start at
    the last step, n_total - 1, the noise level of the sampler's starting point x_T ~ N(0, I); from two
    steps on they end at 0. A single step is therefore one jump from x_T to Tweedie's estimate of x_0."""
    n_total = check_int(n_total, "n_total", low=1)
    n_steps = check_int(n_steps, "n_steps", low=1, high=n_total, hint="at most the schedule's number of steps")
    if n_steps == 1:   # linspace(0, T - 1, 1) would be [0]: pure noise read as if it were nearly clean
        return [n_total - 1]
    ts = np.unique(np.round(np.linspace(0, n_total - 1, n_steps)).astype(int))
    return [int(t) for t in ts[::-1]]


@torch.no_grad()
def ddim_sample(model: nn.Module, schedule: NoiseSchedule, n: int, n_steps: int = 10, eta: float = 0.0,
                seed: int = 0, clip: tuple[float, float] | None = None) -> torch.Tensor:
    """DDIM sampling (Song, Meng & Ermon 2021, eq. 12) on ``n_steps`` of the schedule's steps.

    From step t to the previous chosen step s (alpha_bar_s = 1 after the last): x0_hat by Tweedie's formula,
    then x_s = sqrt(abar_s) x0_hat + sqrt(1 - abar_s - c^2) eps_hat + c z with
    c = eta sqrt((1 - abar_s) / (1 - abar_t)) sqrt(1 - abar_t / abar_s). ``eta=0`` is deterministic given
    x_T; ``eta=1`` on every step is the ancestral sampler with the posterior variance. Returns (n, d)."""
    eta = check_positive(eta, "eta", allow_zero=True)
    model.eval()
    x, g, device = _start(model, n, seed)
    T = schedule.n_steps
    ts = ddim_timesteps(T, n_steps)
    for k, t in enumerate(ts):
        ab = float(schedule.alpha_bars[t])
        ab_prev = float(schedule.alpha_bars[ts[k + 1]]) if k + 1 < len(ts) else 1.0
        eps = model(x, torch.full((n,), t / (T - 1), device=device))
        x0 = _x0_from_eps(x, eps, ab, clip)
        if clip is not None:   # the noise direction consistent with the clipped x0_hat
            eps = (x - math.sqrt(ab) * x0) / math.sqrt(1.0 - ab)
        c = eta * math.sqrt((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev))
        x = math.sqrt(ab_prev) * x0 + math.sqrt(max(1.0 - ab_prev - c ** 2, 0.0)) * eps
        if c > 0:
            x = x + c * torch.randn(x.shape, generator=g, device=device)
    return x


# ----------------------------------------------------------------------------------------- MMD

def _sq_dists(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.maximum((A ** 2).sum(1)[:, None] - 2.0 * A @ B.T + (B ** 2).sum(1)[None, :], 0.0)


def median_bandwidth(X) -> float:
    """The median of the pairwise Euclidean distances between distinct rows of ``X``: the median
    heuristic for a Gaussian kernel's bandwidth (Gretton et al. 2012)."""
    A = as_2d_float(X, "X")
    if len(A) < 2:
        raise ValueError(f"X has {len(A)} row; the median distance needs at least 2 rows.")
    d = np.sqrt(_sq_dists(A, A))[np.triu_indices(len(A), k=1)]
    return float(np.median(d))


def mmd2(X, Y, bandwidth: float) -> float:
    """The biased (V-statistic) estimate of the squared maximum mean discrepancy between the samples
    ``X`` (m, d) and ``Y`` (n, d) with the Gaussian kernel k(a, b) = exp(-|a - b|^2 / (2 bandwidth^2))
    (Gretton et al. 2012, the biased statistic): mean k(X, X) + mean k(Y, Y) - 2 mean k(X, Y), every pair including each
    point with itself. It is >= 0, and 0 only when the two samples are the same points in the same
    proportions; for two samples of one distribution it is of order 1/m + 1/n, so compare values at equal
    sample sizes."""
    A, B = as_2d_float(X, "X"), as_2d_float(Y, "Y")
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"X has {A.shape[1]} features and Y has {B.shape[1]}; compare samples of the same space.")
    h2 = 2.0 * check_positive(bandwidth, "bandwidth") ** 2
    kxx = np.exp(-_sq_dists(A, A) / h2).mean()
    kyy = np.exp(-_sq_dists(B, B) / h2).mean()
    kxy = np.exp(-_sq_dists(A, B) / h2).mean()
    return float(max(kxx + kyy - 2.0 * kxy, 0.0))
