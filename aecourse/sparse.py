"""Sparse and contractive autoencoders: the penalties, the top-k activation, the one-hidden-layer autoencoder
they share, and Jacobians with their singular values.

- Sparsity: :func:`l1_penalty` (read as a Laplace prior on the code, Goodfellow, Bengio & Courville 2016,
  14.2.1), :func:`kl_sparsity_penalty` (each unit's mean activation pulled towards a target rate, Ng's CS294A
  notes, 2011), :func:`topk` and :class:`TopK` (keep the k largest units, Makhzani & Frey 2014; Gao et al.
  2024). :func:`sparse_loss` turns a penalty into a ``loss_fn`` for :func:`aecourse.train`.
- :class:`OneLayerAutoencoder`: ``z = act(W_e (x - b) + c)``, ``x_hat = W_d z + b``, with the options of the
  interpretability literature (a learned pre-bias ``b``, unit-norm decoder columns, the encoder initialised
  as the decoder's transpose) and tied weights ``W_d = W_e^T`` for the classic contractive autoencoder.
- Contraction: :func:`contractive_penalty`, the squared Frobenius norm of a sigmoid encoder's Jacobian in
  closed form (Rifai et al. 2011), and :func:`contractive_loss`; :func:`sigmoid_encoder_jacobian` builds
  those Jacobians, :func:`jacobian` any function's (``torch.func.jacrev``), :func:`jacobian_spectrum` and
  :func:`top_share` summarise their singular values.
- Code statistics: :func:`l0`, :func:`active_fraction`, :func:`dead_fraction`.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._validation import check_choice, check_int, check_positive

__all__ = [
    "l1_penalty", "kl_sparsity_penalty", "topk", "TopK", "OneLayerAutoencoder", "sparse_loss",
    "contractive_penalty", "contractive_loss", "sigmoid_encoder_jacobian", "jacobian", "jacobian_spectrum",
    "top_share", "l0", "active_fraction", "dead_fraction", "CODE_ACTIVATIONS",
]

CODE_ACTIVATIONS = ("relu", "sigmoid", "topk")


# ------------------------------------------------------------------------------------------- penalties

def l1_penalty(z: torch.Tensor) -> torch.Tensor:
    """The L1 sparsity penalty: sum_j |z_j| per example, averaged over the batch; z (B, p) -> scalar.

    Minimising ``MSE + lambda * l1_penalty(z)`` is maximum a posteriori training with an independent
    Laplace prior p(z_j) = (lambda / 2) exp(-lambda |z_j|) on each code unit, whose negative log is
    lambda |z_j| plus a constant (Goodfellow, Bengio & Courville 2016, section 14.2.1). It penalises the
    size of every active unit, not just their number.
    """
    return z.abs().sum(dim=-1).mean()


def _bernoulli_kl(rho: float, rho_hat: torch.Tensor) -> torch.Tensor:
    return rho * torch.log(rho / rho_hat) + (1.0 - rho) * torch.log((1.0 - rho) / (1.0 - rho_hat))


def kl_sparsity_penalty(z: torch.Tensor, rho: float = 0.05, eps: float = 1e-6) -> torch.Tensor:
    """Ng's sparsity penalty: sum_j KL(rho || rho_hat_j), rho_hat_j the mean of unit j over the batch.

    For units in (0, 1) (sigmoid codes), rho_hat_j is unit j's average activation and KL is between two
    Bernoulli distributions with means rho and rho_hat_j (Ng, CS294A lecture notes, 2011). The penalty is 0
    exactly when every unit's average equals the target rate ``rho``; it constrains averages, not how the
    activity is spread over the examples. z (B, p) -> scalar; rho_hat is clamped to [eps, 1 - eps].
    """
    rho = float(rho)
    if not 0.0 < rho < 1.0:
        raise ValueError(f"rho={rho!r} is a target activation rate and must lie strictly between 0 and 1, "
                         "e.g. rho=0.05.")
    rho_hat = z.mean(dim=0).clamp(eps, 1.0 - eps)      # (p,): each unit's average activation
    return _bernoulli_kl(rho, rho_hat).sum()


# ---------------------------------------------------------------------------------------- top-k activation

def topk(a: torch.Tensor, k: int, relu: bool = True) -> torch.Tensor:
    """Keep the ``k`` largest entries of each row of ``a`` (B, p) and set the others to 0.

    The k-sparse autoencoder's nonlinearity (Makhzani & Frey 2014). With ``relu=True`` a kept entry that is
    negative also becomes 0, as in the TopK autoencoders of Gao et al. (2024), so that a code unit is never
    negative; then at most k units are nonzero. Gradients flow to the kept entries only.
    """
    if not isinstance(a, torch.Tensor) or a.ndim < 1:
        raise TypeError(f"a of type {type(a).__name__} must be a torch.Tensor of pre-activations, shape (B, p).")
    k = check_int(k, "k", low=1, high=a.shape[-1],
                  hint=f"k counts the units kept per row, at most the code width {a.shape[-1]}")
    values, idx = a.topk(k, dim=-1)                  # (B, k) the k largest, and where they are
    if relu:
        values = F.relu(values)
    return torch.zeros_like(a).scatter(-1, idx, values)  # (B, p), zero outside the top k


class TopK(nn.Module):
    """:func:`topk` as a module: ``TopK(k)(a)`` keeps the k largest entries of each row."""

    def __init__(self, k: int, relu: bool = True):
        super().__init__()
        self.k = check_int(k, "k", low=1)
        self.relu = bool(relu)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return topk(a, self.k, self.relu)

    def extra_repr(self) -> str:
        return f"k={self.k}, relu={self.relu}"


# ------------------------------------------------------------------------------------------ the model

class OneLayerAutoencoder(nn.Module):
    """One hidden layer, linear decoder: ``z = act(W_e (x - b) + c)`` and ``x_hat = W_d z + b``.

    Parameters
    ----------
    n_features : input width n.
    n_latents : code width p (p > n: overcomplete).
    activation : ``"relu"``, ``"sigmoid"`` or ``"topk"`` (ReLU after keeping the k largest, :func:`topk`).
    k : units kept by ``"topk"``; required for it, not allowed otherwise.
    pre_bias : initial value (n,) of the learned bias ``b`` subtracted before encoding and added back after
        decoding, e.g. the training mean, so that every unit starts by seeing centred inputs; default zeros.
    tied : the decoder is the encoder's transpose, ``W_d = W_e^T``, as in the classic denoising and
        contractive autoencoders: no separate decoder weights, and the encoder cannot shrink its Jacobian
        by moving scale into the decoder.
    unit_decoder : every column of ``W_d`` (one code unit's contribution to the output) has unit norm,
        as in the sparse autoencoders of Bricken et al. (2023) and Gao et al. (2024); then a penalty on the
        size of ``z`` cannot be dodged by shrinking ``z`` and growing ``W_d``.
    tied_init : start with ``W_e = W_d^T`` and ``c = 0`` (untied afterwards), which Gao et al. (2024) found
        to prevent most dead latents.
    seed : seeds the weights; the caller's random stream is left untouched.
    """

    def __init__(self, n_features: int, n_latents: int, activation: str = "relu", *, k: int | None = None,
                 pre_bias=None, tied: bool = False, unit_decoder: bool = False, tied_init: bool = False,
                 seed: int | None = 0):
        super().__init__()
        n = check_int(n_features, "n_features", low=1)
        p = check_int(n_latents, "n_latents", low=1)
        check_choice(activation, "activation", CODE_ACTIVATIONS)
        if activation == "topk":
            if k is None:
                raise ValueError("activation='topk' needs k, the number of units kept per example, e.g. k=16.")
            k = check_int(k, "k", low=1, high=p, hint=f"at most n_latents={p}")
        elif k is not None:
            raise ValueError(f"k={k!r} is only used with activation='topk', not {activation!r}; drop k.")
        if tied and (unit_decoder or tied_init):
            raise ValueError("tied=True makes the decoder the encoder's transpose; it cannot be combined with "
                             "unit_decoder or tied_init. Choose tied=True alone, or untied options.")
        if pre_bias is None:
            b = torch.zeros(n)
        else:
            b = torch.as_tensor(np.asarray(pre_bias, dtype=np.float32) if not isinstance(pre_bias, torch.Tensor)
                                else pre_bias.detach().cpu().float())
            if b.shape != (n,):
                raise ValueError(f"pre_bias has shape {tuple(b.shape)}; expected ({n},), one value per input "
                                 "feature (e.g. X_train.mean(0)).")
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.default_generator.manual_seed(seed)  # CPU only, like MLPAutoencoder
            self.encoder = nn.Linear(n, p)                             # (B, n) -> (B, p) pre-activations
            if not tied:
                self.decoder = nn.Linear(p, n, bias=False)             # weight (n, p): one column per unit
        self.pre_bias = nn.Parameter(b.clone())
        self.activation = TopK(k) if activation == "topk" else (nn.ReLU() if activation == "relu" else nn.Sigmoid())
        self.n_features, self.n_latents, self.kind, self.k = n, p, activation, k
        self.tied, self.unit_decoder = bool(tied), bool(unit_decoder)
        if tied_init:
            with torch.no_grad():
                W = self.decoder.weight
                if unit_decoder:
                    W.div_(W.norm(dim=0, keepdim=True))
                self.encoder.weight.copy_(W.T)
                self.encoder.bias.zero_()

    @property
    def decoder_weight(self) -> torch.Tensor:
        """W_d (n, p), column j the output direction of code unit j (unit norm if ``unit_decoder``)."""
        if self.tied:
            return self.encoder.weight.T
        W = self.decoder.weight
        return W / W.norm(dim=0, keepdim=True) if self.unit_decoder else W

    def encode_pre_act(self, x: torch.Tensor) -> torch.Tensor:
        """W_e (x - b) + c: the code before the activation, (B, n) -> (B, p)."""
        return self.encoder(x - self.pre_bias)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.encode_pre_act(x))              # (B, n) -> (B, p)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return F.linear(z, self.decoder_weight) + self.pre_bias      # (B, p) -> (B, n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def _check_model(model, need_sigmoid: bool = False):
    if not (hasattr(model, "encode") and hasattr(model, "decode")):
        raise TypeError(f"model of type {type(model).__name__} needs encode and decode methods, e.g. an "
                        "aecourse.sparse.OneLayerAutoencoder.")
    if need_sigmoid and getattr(model, "kind", None) != "sigmoid":
        raise ValueError(f"the closed-form contractive penalty holds for a one-layer sigmoid encoder; this model "
                         f"has activation={getattr(model, 'kind', None)!r}. Build OneLayerAutoencoder(..., "
                         "activation='sigmoid'), or use aecourse.sparse.jacobian for any encoder.")


def sparse_loss(penalty: str = "l1", weight: float = 1e-3, rho: float = 0.05) -> Callable:
    """A ``loss_fn(model, x, target)`` for :func:`aecourse.train`: MSE + ``weight`` x a sparsity penalty.

    ``penalty="l1"`` uses :func:`l1_penalty`, ``"kl"`` :func:`kl_sparsity_penalty` with target rate ``rho``
    (for sigmoid codes). The code is computed once per step and shared by both terms.
    """
    check_choice(penalty, "penalty", ("l1", "kl"))
    weight = check_positive(weight, "weight", allow_zero=True)
    if penalty == "kl":
        kl_sparsity_penalty(torch.full((1, 1), 0.5), rho)          # validate rho now, not in the loop
        term = lambda z: kl_sparsity_penalty(z, rho)               # noqa: E731
    else:
        term = l1_penalty

    def loss_fn(model, x, target):
        z = model.encode(x)                                          # (B, p)
        return F.mse_loss(model.decode(z), target) + weight * term(z)

    return loss_fn


# ------------------------------------------------------------------------------------------ contraction

def _sigmoid_norm2(h: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """||J||_F^2 per example for h = sigmoid(W x + c): sum_j (h_j (1 - h_j))^2 sum_i W_ji^2; h (B, p) -> (B,)."""
    return ((h * (1.0 - h)) ** 2) @ (W ** 2).sum(dim=1)


def contractive_penalty(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The contractive penalty ||J_f(x)||_F^2 of a one-layer sigmoid encoder, averaged over the batch.

    For h = sigmoid(W x + c), dh_j/dx_i = h_j (1 - h_j) W_ji, so the squared Frobenius norm of the Jacobian
    is sum_j (h_j (1 - h_j))^2 sum_i W_ji^2 (Rifai et al. 2011): one forward pass, no Jacobian formed.
    """
    _check_model(model, need_sigmoid=True)
    return _sigmoid_norm2(model.encode(x), model.encoder.weight).mean()


def contractive_loss(weight: float = 1e-2) -> Callable:
    """A ``loss_fn(model, x, target)`` for :func:`aecourse.train`: MSE + ``weight`` x :func:`contractive_penalty`
    (the contractive autoencoder, Rifai et al. 2011). The model must have a sigmoid code."""
    weight = check_positive(weight, "weight", allow_zero=True)

    def loss_fn(model, x, target):
        h = model.encode(x)                                          # (B, p), computed once for both terms
        return F.mse_loss(model.decode(h), target) + weight * _sigmoid_norm2(h, model.encoder.weight).mean()

    return loss_fn


@torch.no_grad()
def sigmoid_encoder_jacobian(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Jacobians dh/dx of a one-layer sigmoid encoder at each row of x: (B, n) -> (B, p, n), in closed form
    ``diag(h (1 - h)) W`` (no automatic differentiation)."""
    _check_model(model, need_sigmoid=True)
    h = model.encode(x)                                              # (B, p)
    return (h * (1.0 - h))[:, :, None] * model.encoder.weight[None]   # (B, p, n)


def jacobian(f: Callable, x: torch.Tensor) -> torch.Tensor:
    """The Jacobian of ``f`` at every row of x: (B, n) -> (B, m, n), for any f mapping one input (n,) to (m,).

    Computed by reverse-mode automatic differentiation, ``torch.func.vmap(torch.func.jacrev(f))``: one
    backward pass per output coordinate, batched over the rows. Use it on a few hundred rows at most.
    """
    if not callable(f):
        raise TypeError(f"f of type {type(f).__name__} is not callable; pass a function such as model.encode.")
    if not isinstance(x, torch.Tensor) or x.ndim != 2:
        raise ValueError(f"x must be a 2-D tensor (B, n) of points; got {type(x).__name__} "
                         f"{tuple(getattr(x, 'shape', ()))}.")
    from torch.func import jacrev, vmap

    return vmap(jacrev(f))(x).detach()                              # (B, m, n)


def jacobian_spectrum(J) -> torch.Tensor:
    """Singular values of each Jacobian in a batch, largest first: (B, m, n) -> (B, min(m, n))."""
    J = torch.as_tensor(J)
    if J.ndim != 3:
        raise ValueError(f"J has shape {tuple(J.shape)}; expected a batch of Jacobians (B, m, n).")
    return torch.linalg.svdvals(J)


def top_share(s, k: int = 5) -> torch.Tensor:
    """Share of the squared Frobenius norm held by the k largest singular values: (B, r) -> (B,).

    ||J||_F^2 is the sum of the squared singular values, so the share is sum_{i<=k} s_i^2 / sum_i s_i^2: 1
    when the Jacobian has rank <= k, k / r when all r singular values are equal.
    """
    s = torch.as_tensor(s)
    if s.ndim != 2:
        raise ValueError(f"s has shape {tuple(s.shape)}; expected singular values (B, r), e.g. from "
                         "jacobian_spectrum(J).")
    k = check_int(k, "k", low=1, high=s.shape[1], hint=f"at most the {s.shape[1]} singular values per row")
    s2 = torch.sort(s, dim=1, descending=True).values ** 2
    return s2[:, :k].sum(1) / s2.sum(1)


# -------------------------------------------------------------------------------------- code statistics

def _codes(Z) -> np.ndarray:
    Z = Z.detach().cpu().numpy() if isinstance(Z, torch.Tensor) else np.asarray(Z)
    if Z.ndim != 2 or Z.size == 0:
        raise ValueError(f"Z has shape {Z.shape}; expected codes (n_samples, n_units) with at least one of each.")
    return Z


def l0(Z, threshold: float = 0.0) -> float:
    """Mean number of active units (value > threshold) per row of the codes Z (N, p): the "L0" of a code."""
    return float((_codes(Z) > threshold).sum(axis=1).mean())


def active_fraction(Z, threshold: float = 0.0) -> float:
    """Mean fraction of the p units active (value > threshold) per row: ``l0(Z) / p``."""
    Z = _codes(Z)
    return float((Z > threshold).mean())


def dead_fraction(Z, threshold: float = 0.0) -> float:
    """Fraction of units (columns of Z) that are active on none of the rows: dead units (or latents)."""
    return float(((_codes(Z) > threshold).sum(axis=0) == 0).mean())
