"""Variational autoencoders, and reconstruction losses read as log-likelihoods.

Holds the decoder log-likelihoods (Bernoulli and fixed-variance Gaussian, in nats, and their conversion to
bits per dimension), the analytic Gaussian KL divergence, the ``VAE`` module (Kingma & Welling 2014;
Rezende, Mohamed & Wierstra 2014), the ELBO and its loss hooks for :func:`aecourse.train` (with the beta
weight of Higgins et al. 2017), two estimates of log p(x) (importance-weighted, Burda, Grosse & Salakhutdinov
2016; and numerical integration for a 1-d or 2-d latent, which also gives the true posterior on a grid),
what the code carries (rate and distortion, Alemi et al. 2018; active units, Burda et al. 2016), the
aggregate posterior against the prior, and the nearest-neighbour distance used to look at samples.

Every log-likelihood here is in nats and summed over the features of each example: shape (B,) for a batch.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._validation import as_2d_float, check_choice, check_int, check_positive
from .models import _check_sizes, make_activation, mlp

__all__ = [
    "LIKELIHOODS", "bernoulli_log_likelihood", "gaussian_log_likelihood", "bits_per_dim", "gaussian_kl",
    "log_mean_exp", "bernoulli_loss", "VAE", "elbo", "elbo_loss", "beta_vae_loss", "iw_log_likelihood",
    "grid_log_likelihood", "grid_log_posterior", "rate_distortion", "unit_rates", "latent_activity",
    "active_units", "aggregate_log_density", "aggregate_kl", "prior_hole_fraction",
    "nearest_neighbour_distance",
]

LIKELIHOODS = ("bernoulli", "gaussian")
_LOG_2PI = math.log(2.0 * math.pi)


def _check_broadcast(x: torch.Tensor, other: torch.Tensor, name: str) -> None:
    try:
        torch.broadcast_shapes(x.shape, other.shape)
    except RuntimeError:
        raise ValueError(
            f"x has shape {tuple(x.shape)} and {name} has shape {tuple(other.shape)}, which do not broadcast; "
            f"{name} must describe the same features as x, e.g. both (B, n_features)."
        ) from None
    if x.shape[-1] != other.shape[-1]:
        raise ValueError(
            f"x has {x.shape[-1]} features but {name} has {other.shape[-1]}; the decoder must output one "
            "value per feature of x."
        )


def bernoulli_log_likelihood(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """log p(x | logits) of independent Bernoulli pixels, summed over the last axis, in nats.

    With p = sigmoid(logits), each pixel contributes x log p + (1 - x) log(1 - p): minus the binary
    cross-entropy. Written as x * logits - softplus(logits), which never takes the log of 0.
    ``x`` (B, n) and ``logits`` (..., B, n) broadcast; the result has shape (..., B).

    It is a probability (log <= 0) only for binary x; for grey values in (0, 1) the same formula is no
    longer normalised (Loaiza-Ganem & Cunningham 2019), which is why log p(x) is measured on binarised data.
    """
    _check_broadcast(x, logits, "logits")
    return (x * logits - F.softplus(logits)).sum(-1)  # (..., B)


def gaussian_log_likelihood(x: torch.Tensor, mean: torch.Tensor, std: float | torch.Tensor = 1.0) -> torch.Tensor:
    """log N(x; mean, std^2 I) summed over the last axis, in nats (a density, so it can be positive).

    -log N = n/2 log(2 pi std^2) + ||x - mean||^2 / (2 std^2): with std fixed, minimising it is minimising
    the squared error, which is why the mean squared error is a Gaussian negative log-likelihood
    (Bishop 2006, section 1.2.5).
    """
    _check_broadcast(x, mean, "mean")
    if not isinstance(std, torch.Tensor):
        std = check_positive(std, "std")
        std = torch.tensor(std, dtype=mean.dtype, device=mean.device)
    elif not bool((std > 0).all()):
        raise ValueError(f"std has values <= 0 (min {float(std.min()):.3g}); a standard deviation must be > 0.")
    z = (x - mean) / std
    return -0.5 * (z ** 2 + _LOG_2PI + 2.0 * torch.log(std)).sum(-1)  # (..., B)


def bits_per_dim(nats, n_dims: int):
    """Convert a negative log-likelihood in nats per example into bits per dimension: nats / (n_dims ln 2).

    One bit per pixel is what a fair coin per binary pixel costs, so it is a scale that does not depend
    on the image size (Theis, van den Oord & Bethge 2016).
    """
    n_dims = check_int(n_dims, "n_dims", low=1, hint="the number of features (pixels) per example, e.g. 64")
    return nats / (n_dims * math.log(2.0))


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, diag exp(logvar)) || N(0, I) ), summed over the last axis, in nats: shape (B,).

    Closed form (Kingma & Welling 2014, appendix B): 1/2 sum(mu^2 + sigma^2 - 1 - log sigma^2).
    """
    if mu.shape != logvar.shape:
        raise ValueError(
            f"mu has shape {tuple(mu.shape)} but logvar has shape {tuple(logvar.shape)}; the encoder must "
            "output one mean and one log-variance per latent dimension."
        )
    return 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(-1)  # (B,)


def log_mean_exp(log_w: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """log( mean_k exp(log_w_k) ) along ``dim``, computed stably as logsumexp - log K."""
    return torch.logsumexp(log_w, dim=dim) - math.log(log_w.shape[dim])


def bernoulli_loss(model: nn.Module, x_in: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Loss hook for :func:`aecourse.train`: the Bernoulli negative log-likelihood in nats per example.

    For a plain autoencoder whose last layer has no activation, so that ``model(x)`` are logits. It is the
    binary cross-entropy summed over pixels and averaged over the batch.
    """
    return -bernoulli_log_likelihood(target, model(x_in)).mean()


class VAE(nn.Module):
    """A variational autoencoder with fully connected encoder and decoder (Kingma & Welling 2014).

    The encoder maps x to the mean and log-variance of a diagonal Gaussian q(z|x); a code is drawn from
    it by reparameterisation, z = mu + sigma * eps with eps ~ N(0, I), so gradients flow through mu and
    sigma; the decoder maps z to the parameters of p(x|z). The prior p(z) is N(0, I).

    Parameters
    ----------
    n_features : input width n.
    n_components : latent width p.
    hidden : widths of the encoder's hidden layers (the decoder mirrors them); at least one.
    activation : hidden activation name.
    likelihood : ``"bernoulli"`` (the decoder outputs logits; for binary data) or ``"gaussian"`` (the
        decoder outputs the mean of N(mean, decoder_std^2 I)).
    decoder_std : the fixed standard deviation of the Gaussian decoder.
    seed : seeds the weights and the model's own stream of reparameterisation noise used in training.
    """

    def __init__(self, n_features: int, n_components: int = 2, hidden: Sequence[int] = (64,),
                 activation: str = "relu", likelihood: str = "bernoulli", decoder_std: float = 0.1,
                 seed: int | None = 0):
        super().__init__()
        n_features = check_int(n_features, "n_features", low=1)
        n_components = check_int(n_components, "n_components", low=1, hint="the latent needs at least one unit")
        hidden = _check_sizes(hidden, "hidden")
        if len(hidden) == 0:
            raise ValueError("hidden=() leaves the encoder linear; give at least one hidden width, e.g. (64,).")
        make_activation(activation)
        check_choice(likelihood, "likelihood", LIKELIHOODS)
        self.decoder_std = check_positive(decoder_std, "decoder_std")
        self.n_features, self.n_components, self.hidden = n_features, n_components, hidden
        self.likelihood, self.seed = likelihood, seed
        with torch.random.fork_rng(devices=[]):  # same seed, same weights; the caller's stream is untouched
            if seed is not None:
                torch.default_generator.manual_seed(seed)  # CPU only: CUDA's stream is not forked
            # The body ends with the activation; one linear head gives mean and log-variance together.
            self.encoder = nn.Sequential(mlp((n_features, *hidden), activation, out_activation=activation))
            self.head = nn.Linear(hidden[-1], 2 * n_components)                       # (B, h) -> (B, 2p)
            self.decoder = mlp((n_components, *reversed(hidden), n_features), activation)  # (B, p) -> (B, n)
        self._generators: dict = {}

    def noise_generator(self, device) -> torch.Generator:
        """The model's own generator of reparameterisation noise on ``device``, seeded by ``seed``."""
        device = torch.device(device)
        key = str(device)
        if key not in self._generators:
            g = torch.Generator(device=device)
            # seed=None: draw the seed from torch's global stream (so set_seed still makes a run repeatable).
            g.manual_seed(self.seed if self.seed is not None else int(torch.randint(0, 2**62, ()).item()))
            self._generators[key] = g
        return self._generators[key]

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The parameters of q(z|x): mean and log-variance, each (B, p)."""
        mu, logvar = self.head(self.encoder(x)).chunk(2, dim=-1)  # (B, 2p) -> 2 x (B, p)
        return mu, logvar

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor, n_samples: int | None = None,
                       generator: torch.Generator | None = None) -> torch.Tensor:
        """z = mu + exp(logvar / 2) * eps, eps ~ N(0, I): (B, p), or (K, B, p) with ``n_samples=K``."""
        shape = mu.shape if n_samples is None else (n_samples, *mu.shape)
        eps = torch.randn(shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + (0.5 * logvar).exp() * eps

    def decoder_output(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder's raw output for codes z (..., p): logits (Bernoulli) or means (Gaussian), (..., n)."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The mean of p(x|z), an image in pixel space: (..., p) -> (..., n)."""
        out = self.decoder(z)
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    def log_px_given_z(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x|z) in nats: x (B, n), z (..., B, p) -> (..., B)."""
        out = self.decoder(z)
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(x, out)
        return gaussian_log_likelihood(x, out, self.decoder_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """A deterministic reconstruction: the decoder's mean at the posterior mean, (B, n)."""
        mu, _ = self.encode(x)
        return self.decode(mu)

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """Decode ``n`` codes drawn from the prior N(0, I): (n, n_features) images (decoder means)."""
        n = check_int(n, "n", low=1)
        device = next(self.parameters()).device
        g = torch.Generator(device=device).manual_seed(seed)
        z = torch.randn((n, self.n_components), generator=g, device=device)  # (n, p)
        return self.decode(z)


def _check_vae(model) -> VAE:
    if not isinstance(model, VAE):
        raise TypeError(f"model of type {type(model).__name__} is not a VAE; build one with aecourse.VAE(...).")
    return model


def _as_input(model: VAE, X, name: str = "X") -> torch.Tensor:
    device = next(model.parameters()).device
    if isinstance(X, torch.Tensor) and X.ndim == 2 and X.is_floating_point():
        x = X.to(device=device, dtype=torch.float32)
    else:
        x = torch.as_tensor(as_2d_float(X, name, dtype=np.float32), device=device)
    if x.shape[-1] != model.n_features:
        raise ValueError(
            f"{name} has {x.shape[-1]} features, but the VAE was built with n_features={model.n_features}; "
            "pass data with the same columns as the training data."
        )
    return x


def _generator(model: VAE, device, seed: int | None) -> torch.Generator:
    if seed is None:
        return model.noise_generator(device)
    return torch.Generator(device=device).manual_seed(check_int(seed, "seed", low=0))


def elbo(model: VAE, x: torch.Tensor, *, n_samples: int = 1, target: torch.Tensor | None = None,
         seed: int | None = None) -> torch.Tensor:
    """The evidence lower bound per example, in nats: (B,). Differentiable (use ``torch.no_grad`` to evaluate).

    ELBO(x) = E_{q(z|x)}[log p(x|z)] - KL(q(z|x) || p(z)) <= log p(x)  (Kingma & Welling 2014, eq. 10).
    The expectation is averaged over ``n_samples`` reparameterised draws; the KL is analytic.
    ``target`` (default ``x``) is what is scored, so a corrupted input can be encoded. ``seed=None`` draws
    from the model's own noise stream (training); an integer gives a fresh, repeatable draw.
    """
    recon, kl = _elbo_terms(model, x, n_samples=n_samples, target=target, seed=seed)
    return recon - kl                                                               # (B,)


def _elbo_terms(model: VAE, x: torch.Tensor, *, n_samples: int = 1, target: torch.Tensor | None = None,
                seed: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(E_q[log p(target|z)] averaged over ``n_samples`` draws, KL(q(z|x) || p(z))), each (B,)."""
    _check_vae(model)
    n_samples = check_int(n_samples, "n_samples", low=1)
    target = x if target is None else target
    mu, logvar = model.encode(x)                                                   # (B, p) each
    z = model.reparameterize(mu, logvar, n_samples, _generator(model, mu.device, seed))  # (K, B, p)
    recon = model.log_px_given_z(target, z).mean(0)                                # (B,)
    return recon, gaussian_kl(mu, logvar)


def elbo_loss(model: VAE, x_in: torch.Tensor, target: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """Loss hook for :func:`aecourse.train`: minus the ELBO, in nats per example (one draw of z each).

    ``beta`` weights the KL term: -E_q[log p(x|z)] + beta KL(q(z|x) || p(z)), the beta-VAE objective of
    Higgins et al. (2017), distortion + beta * rate in the terms of Alemi et al. (2018). ``beta=1`` is minus
    the ELBO; for other values the loss is no longer minus a bound on log p(x). See :func:`beta_vae_loss`.
    """
    recon, kl = _elbo_terms(model, x_in, target=target)
    return -(recon - beta * kl).mean()


def beta_vae_loss(beta: float):
    """The loss hook of a beta-VAE (Higgins et al. 2017) for :func:`aecourse.train`:
    ``loss_fn(model, x_in, target) = elbo_loss(model, x_in, target, beta=beta)``.

    beta > 1 charges more for the information the code carries (the rate), beta < 1 less; beta = 0 drops
    the KL term and leaves a noisy autoencoder.
    """
    beta = check_positive(beta, "beta", allow_zero=True)

    def loss_fn(model: VAE, x_in: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return elbo_loss(model, x_in, target, beta=beta)

    loss_fn.beta = beta
    return loss_fn


@torch.no_grad()
def iw_log_likelihood(model: VAE, X, n_samples: int = 1000, seed: int = 0, batch_size: int = 256,
                      proposal: str = "encoder") -> np.ndarray:
    """Importance-weighted estimate of log p(x) per row of ``X``, in nats: (N,) float64.

    log p(x) ~ log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x), z_k ~ q(z|x) (Burda, Grosse & Salakhutdinov
    2016). Its expectation is a lower bound that rises with K towards log p(x); K = 1 is the ELBO with a
    sampled KL. The encoder's q is the proposal: it says where in code space to look.
    ``proposal="prior"`` draws z_k from p(z) instead, ignoring x (the weights become p(x|z_k)): the same
    estimator with a blind proposal, to measure what the encoder contributes.
    """
    _check_vae(model)
    n_samples = check_int(n_samples, "n_samples", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    check_choice(proposal, "proposal", ("encoder", "prior"))
    x_all = _as_input(model, X)
    g = _generator(model, x_all.device, seed)
    out = []
    for i in range(0, len(x_all), batch_size):
        x = x_all[i:i + batch_size]                                       # (B, n)
        mu, logvar = model.encode(x)                                      # (B, p)
        if proposal == "prior":
            mu, logvar = torch.zeros_like(mu), torch.zeros_like(logvar)   # q = p(z) = N(0, I)
        z = model.reparameterize(mu, logvar, n_samples, g)                # (K, B, p)
        log_pz = -0.5 * (z ** 2 + _LOG_2PI).sum(-1)                        # (K, B)
        log_qz = -0.5 * ((z - mu) ** 2 / logvar.exp() + logvar + _LOG_2PI).sum(-1)  # (K, B)
        log_w = model.log_px_given_z(x, z) + log_pz - log_qz               # (K, B)
        out.append(log_mean_exp(log_w.double(), dim=0))
    return torch.cat(out).cpu().numpy()


def _latent_grid(model: VAE, n_grid: int, limit: float, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes (G, p) of a regular grid over [-limit, limit]^p, end points included, and the log weights (G,)
    of the trapezoidal rule on it: step^p per node, halved along every axis on which the node is an end point."""
    if model.n_components > 2:
        raise ValueError(
            f"the VAE has n_components={model.n_components}; a grid over the latent is only affordable for "
            "1 or 2 latent dimensions. Use iw_log_likelihood for larger latents."
        )
    n_grid = check_int(n_grid, "n_grid", low=2, hint="at least the two end points")
    limit = check_positive(limit, "limit")
    axis = torch.linspace(-limit, limit, n_grid, device=device, dtype=torch.float64)   # (n_grid,)
    step = 2.0 * limit / (n_grid - 1)
    w = torch.full((n_grid,), step, device=device, dtype=torch.float64)
    w[0] = w[-1] = step / 2.0                                                         # trapezoid end points
    mesh = torch.meshgrid(*([axis] * model.n_components), indexing="ij")
    wmesh = torch.meshgrid(*([w.log()] * model.n_components), indexing="ij")
    z = torch.stack([m.reshape(-1) for m in mesh], dim=-1)                            # (G, p)
    log_w = sum(m.reshape(-1) for m in wmesh)                                         # (G,)
    return z, log_w


def _grid_log_joint(model: VAE, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """log p(x|z) + log p(z) for every image and grid node: x (N, n), z (g, p) -> (N, g), float64."""
    log_pz = -0.5 * (z ** 2 + _LOG_2PI).sum(-1)                                       # (g,)
    out = model.decoder(z.float()).double()                                          # (g, n)
    xd = x.double()
    if model.likelihood == "bernoulli":
        # x log sigma(l) + (1 - x) log sigma(-l) for every (image, node): two matrix products.
        ll = xd @ F.logsigmoid(out).T + (1 - xd) @ F.logsigmoid(-out).T               # (N, g)
    else:
        # -||x - m||^2 / (2 s^2) - n/2 log(2 pi s^2), with ||x - m||^2 expanded into matrix products.
        s = model.decoder_std
        sq = (xd ** 2).sum(1)[:, None] - 2.0 * xd @ out.T + (out ** 2).sum(1)[None, :]   # (N, g)
        ll = -0.5 * sq / s ** 2 - 0.5 * model.n_features * (_LOG_2PI + 2.0 * math.log(s))
    return ll + log_pz                                                                # (N, g)


@torch.no_grad()
def grid_log_likelihood(model: VAE, X, n_grid: int = 401, limit: float = 5.0, batch_size: int = 4096) -> np.ndarray:
    """log p(x) = log of the integral of p(x|z) p(z) dz by the trapezoidal rule on a grid: (N,) float64.

    Only for a 1-d or 2-d latent: ``n_grid`` nodes per axis, evenly spaced over [-limit, limit] with both
    end points, weighted step^p (halved on the boundary). This is the exact value, up to the quadrature
    error and the prior mass outside the box, that the ELBO and the importance-weighted estimate approach.
    Needs a grid fine enough for the sharpest posterior: compare two values of ``n_grid``.
    """
    _check_vae(model)
    x = _as_input(model, X)                                                   # (N, n)
    z, log_w = _latent_grid(model, n_grid, limit, x.device)                   # (G, p), (G,)
    parts = []
    for i in range(0, len(z), batch_size):
        lj = _grid_log_joint(model, x, z[i:i + batch_size])                   # (N, g)
        parts.append(torch.logsumexp(lj + log_w[i:i + batch_size], dim=1))    # (N,)
    return torch.logsumexp(torch.stack(parts, dim=1), dim=1).cpu().numpy()


@torch.no_grad()
def grid_log_posterior(model: VAE, X, n_grid: int = 201, limit: float = 5.0,
                       batch_size: int = 4096) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The true posterior p(z|x) = p(x|z) p(z) / p(x) on the grid of :func:`grid_log_likelihood`.

    Returns ``(z, log_w, log_post)``: the nodes (G, p), the log trapezoid weights (G,) and the log posterior
    density at every node for every row of ``X``, (N, G), all float64 numpy arrays, normalised so that
    sum_g exp(log_w + log_post[i]) = 1. A quadrature of f against the posterior is then
    ``(np.exp(log_w + log_post) * f(z)).sum(1)``. Memory grows as N * G: pass a few images at a time.
    """
    _check_vae(model)
    x = _as_input(model, X)                                                   # (N, n)
    z, log_w = _latent_grid(model, n_grid, limit, x.device)                   # (G, p), (G,)
    lj = torch.cat([_grid_log_joint(model, x, z[i:i + batch_size]) for i in range(0, len(z), batch_size)],
                   dim=1)                                                      # (N, G)
    log_px = torch.logsumexp(lj + log_w, dim=1, keepdim=True)                 # (N, 1)
    return z.cpu().numpy(), log_w.cpu().numpy(), (lj - log_px).cpu().numpy()


# ------------------------------------------------------------------ what the code carries: rate, units

@torch.no_grad()
def rate_distortion(model: VAE, X, n_samples: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rate and distortion per row of ``X``, in nats: two (N,) float64 arrays (Alemi et al. 2018).

    rate = KL(q(z|x) || p(z)) (analytic), the information the code is charged for; distortion =
    -E_q[log p(x|z)] (``n_samples`` reparameterised draws), the reconstruction cost. Their sum is minus
    the ELBO, so every line rate + distortion = constant is a line of equal ELBO.
    """
    _check_vae(model)
    x = _as_input(model, X)
    recon, kl = _elbo_terms(model, x, n_samples=n_samples, seed=check_int(seed, "seed", low=0))
    return kl.double().cpu().numpy(), (-recon).double().cpu().numpy()


@torch.no_grad()
def unit_rates(model: VAE, X) -> np.ndarray:
    """The mean over the rows of ``X`` of each latent unit's KL(q(z_j|x) || p(z_j)), in nats: (p,) float64.

    The terms sum to the mean rate; a unit whose rate is about 0 has q(z_j|x) = p(z_j) for every x: it
    carries nothing about the input (posterior collapse of that unit).
    """
    _check_vae(model)
    mu, logvar = model.encode(_as_input(model, X))                            # (N, p) each
    per_unit = 0.5 * (mu.double() ** 2 + logvar.double().exp() - 1.0 - logvar.double())   # (N, p)
    return per_unit.mean(0).cpu().numpy()


@torch.no_grad()
def latent_activity(model: VAE, X) -> np.ndarray:
    """The activity of each latent unit (Burda, Grosse & Salakhutdinov 2016): Cov_x(E_q[z_j]), the variance
    over the rows of ``X`` of the posterior mean mu_j(x) (unbiased, N - 1): (p,) float64."""
    _check_vae(model)
    x = _as_input(model, X)
    if len(x) < 2:
        raise ValueError(f"X has {len(x)} row; a variance across the data needs at least 2 rows.")
    mu, _ = model.encode(x)                                                   # (N, p)
    return mu.double().var(0).cpu().numpy()


def active_units(model: VAE, X, threshold: float = 0.01) -> int:
    """How many latent units are active: activity Cov_x(E_q[z_j]) above ``threshold`` (Burda et al. 2016
    use 0.01). An inactive unit's posterior mean is the same for every input."""
    threshold = check_positive(threshold, "threshold", allow_zero=True)
    return int((latent_activity(model, X) > threshold).sum())


# ----------------------------------------------------------------------- the aggregate posterior

def _log_normal_diag(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z_m; mu_n, diag exp(logvar_n)) for every pair: z (M, p), mu and logvar (N, p) -> (M, N).

    The square (z - mu)^2 / var is expanded into z^2 / var - 2 z mu / var + mu^2 / var, so that the pairs
    cost two matrix products instead of an (M, N, p) tensor (use float64 inputs: the terms cancel)."""
    prec = (-logvar).exp()                                                    # (N, p) 1 / var
    quad = (z ** 2) @ prec.T - 2.0 * z @ (mu * prec).T + (mu ** 2 * prec).sum(-1)[None]   # (M, N)
    return -0.5 * (quad + logvar.sum(-1)[None] + mu.shape[-1] * _LOG_2PI)


@torch.no_grad()
def aggregate_log_density(model: VAE, X, z, batch_size: int = 4096) -> np.ndarray:
    """log q(z) of the aggregate posterior q(z) = (1/N) sum_n q(z | x_n) over the rows of ``X``, at each row
    of ``z`` (M, p): (M,) float64. It is where the encoder actually puts codes; generation draws from the
    prior p(z) instead, so where q(z) is much smaller than p(z) the decoder is asked for codes it never saw."""
    _check_vae(model)
    x = _as_input(model, X)
    batch_size = check_int(batch_size, "batch_size", low=1)
    zt = torch.as_tensor(as_2d_float(z, "z"), device=x.device)               # (M, p) float64
    if zt.shape[1] != model.n_components:
        raise ValueError(f"z has {zt.shape[1]} columns, but the VAE's latent has n_components="
                         f"{model.n_components}; pass codes of that width.")
    mu, logvar = (t.double() for t in model.encode(x))                       # (N, p) each
    out = [torch.logsumexp(_log_normal_diag(zt[i:i + batch_size], mu, logvar), dim=1) - math.log(len(mu))
           for i in range(0, len(zt), batch_size)]
    return torch.cat(out).cpu().numpy()


def _draw_aggregate(model: VAE, x: torch.Tensor, n: int, g: torch.Generator) -> torch.Tensor:
    """n codes from the aggregate posterior: pick a row of x at random, then z ~ q(z | that row): (n, p)."""
    with torch.no_grad():
        mu, logvar = model.encode(x)
    idx = torch.randint(len(x), (n,), generator=g, device=x.device)
    eps = torch.randn((n, model.n_components), generator=g, device=x.device)
    return (mu[idx] + (0.5 * logvar[idx]).exp() * eps).double()


def aggregate_kl(model: VAE, X, n_samples: int = 10000, seed: int = 0) -> float:
    """Monte-Carlo estimate of KL(q(z) || p(z)) in nats, q the aggregate posterior over the rows of ``X``:
    the mean of log q(z) - log p(z) over ``n_samples`` draws z ~ q(z). 0 when the codes of the data, taken
    together, fill the prior exactly. It is smaller than the mean rate (the KL terms of the ELBO), which
    is the mutual information between x and z plus this KL (Hoffman & Johnson 2016)."""
    _check_vae(model)
    n_samples = check_int(n_samples, "n_samples", low=1)
    x = _as_input(model, X)
    g = torch.Generator(device=x.device).manual_seed(check_int(seed, "seed", low=0))
    z = _draw_aggregate(model, x, n_samples, g)                               # (n, p)
    log_pz = -0.5 * (z ** 2 + _LOG_2PI).sum(-1)                               # (n,)
    log_q = torch.as_tensor(aggregate_log_density(model, x, z.cpu().numpy()), device=x.device)
    return float((log_q - log_pz).mean())


def prior_hole_fraction(model: VAE, X, n_samples: int = 10000, ratio: float = 0.1, seed: int = 0) -> float:
    """The fraction of prior draws z ~ p(z) at which the aggregate posterior q(z) over the rows of ``X`` is
    below ``ratio`` times p(z): the share of generated codes that fall where the encoder (almost) never
    puts a training image, a "hole" in the aggregate posterior."""
    _check_vae(model)
    n_samples = check_int(n_samples, "n_samples", low=1)
    ratio = check_positive(ratio, "ratio")
    x = _as_input(model, X)
    g = torch.Generator(device=x.device).manual_seed(check_int(seed, "seed", low=0))
    z = torch.randn((n_samples, model.n_components), generator=g, device=x.device).double()   # (n, p)
    log_pz = (-0.5 * (z ** 2 + _LOG_2PI).sum(-1)).cpu().numpy()
    log_q = aggregate_log_density(model, x, z.cpu().numpy())
    return float(np.mean(log_q < math.log(ratio) + log_pz))


def nearest_neighbour_distance(X, X_ref) -> np.ndarray:
    """Euclidean distance from each row of ``X`` to its nearest row of ``X_ref``: (N,) float64.

    Applied to generated images, it says how far each sample is from the closest real image: large
    means unlike any real example; zero means a copy (Theis, van den Oord & Bethge 2016 discuss why
    neither end is the whole story).
    """
    A = as_2d_float(X, "X")
    B = as_2d_float(X_ref, "X_ref")
    if A.shape[1] != B.shape[1]:
        raise ValueError(
            f"X has {A.shape[1]} features and X_ref has {B.shape[1]}; compare images of the same size."
        )
    d2 = (A ** 2).sum(1)[:, None] - 2.0 * A @ B.T + (B ** 2).sum(1)[None, :]  # (N, M)
    return np.sqrt(np.maximum(d2.min(axis=1), 0.0))
