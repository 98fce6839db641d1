"""Fully connected autoencoders as ``nn.Module``: configurable widths and activations, linear code layer.

An autoencoder is an encoder A: R^n -> R^p and a decoder B: R^p -> R^n trained so that B(A(x)) is close
to x (Bank, Koenigstein & Giryes 2020). Here both are stacks of ``nn.Linear`` layers.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ._validation import check_choice, check_int, check_positive

__all__ = ["ACTIVATIONS", "INITS", "make_activation", "mlp", "MLPAutoencoder", "init_weights"]

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
    "identity": nn.Identity,
    "linear": nn.Identity,
}
INITS = ("default", "xavier", "he", "normal")


def make_activation(name: str | None) -> nn.Module:
    """An activation module by name (``None`` means identity)."""
    if name is None:
        return nn.Identity()
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(
            f"activation={name!r} is not supported; choose one of {sorted(ACTIVATIONS)} (or None for linear)."
        )
    return ACTIVATIONS[name]()


def _check_sizes(sizes, name: str) -> tuple[int, ...]:
    if isinstance(sizes, (int,)) and not isinstance(sizes, bool):
        sizes = (sizes,)
    if not isinstance(sizes, Sequence) or isinstance(sizes, str):
        raise TypeError(f"{name}={sizes!r} must be a sequence of positive layer widths, e.g. (128, 32).")
    out = []
    for i, s in enumerate(sizes):
        if isinstance(s, bool) or not isinstance(s, int) or s <= 0:
            raise ValueError(
                f"{name}[{i}]={s!r} is not a valid layer width; every width must be a positive integer, "
                f"e.g. {name}=(128, 32)."
            )
        out.append(int(s))
    return tuple(out)


def mlp(sizes: Sequence[int], activation: str | None = "relu", out_activation: str | None = None) -> nn.Sequential:
    """``Linear -> activation`` for each consecutive pair in ``sizes``; the last layer gets ``out_activation``.

    ``mlp((64, 32, 2))`` is Linear(64, 32), activation, Linear(32, 2).
    """
    sizes = _check_sizes(sizes, "sizes")
    if len(sizes) < 2:
        raise ValueError(f"sizes={sizes} needs at least an input and an output width, e.g. (64, 10).")
    make_activation(activation), make_activation(out_activation)  # validate names early
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        last = i == len(sizes) - 2
        act = out_activation if last else activation
        if act not in (None, "identity", "linear"):
            layers.append(make_activation(act))
    return nn.Sequential(*layers)


def init_weights(module: nn.Module, scheme: str = "default", std: float = 0.01, seed: int | None = None) -> nn.Module:
    """(Re)initialise every ``nn.Linear`` in ``module`` in place and return it.

    - ``"default"``: PyTorch's uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kept as constructed).
    - ``"xavier"``: Glorot & Bengio (2010), variance 2 / (fan_in + fan_out), zero biases.
    - ``"he"``: He et al. (2015), variance 2 / fan_in for ReLU, zero biases.
    - ``"normal"``: N(0, std^2) weights and zero biases: the naive start of the 1980s-2000s. Small ``std``
      makes early-layer gradients tiny in deep sigmoid nets (Hinton & Salakhutdinov 2006).
    """
    check_choice(scheme, "init", INITS)
    std = check_positive(std, "init_std")
    if scheme == "default":
        return module
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    with torch.no_grad():
        for layer in module.modules():
            if not isinstance(layer, nn.Linear):
                continue
            fan_out, fan_in = layer.weight.shape
            if scheme == "xavier":
                s = math.sqrt(2.0 / (fan_in + fan_out))
            elif scheme == "he":
                s = math.sqrt(2.0 / fan_in)
            else:
                s = std
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=g) * s)
            layer.bias.zero_()
    return module


class MLPAutoencoder(nn.Module):
    """A fully connected autoencoder with a linear code layer.

    Encoder: n_features -> hidden[0] -> ... -> hidden[-1] -> n_components (no activation on the code).
    Decoder: the mirror image, n_components -> hidden[-1] -> ... -> n_features, then ``out_activation``.

    Parameters
    ----------
    n_features : input width n.
    n_components : code width p (p < n: undercomplete; p >= n risks learning the identity).
    hidden : widths of the hidden layers of the encoder (the decoder mirrors them); ``()`` for none.
    activation : hidden activation name, or ``None`` / ``"linear"`` for a linear autoencoder.
    out_activation : activation on the reconstruction, e.g. ``"sigmoid"`` for data in [0, 1].
    init : weight initialisation scheme, see :func:`init_weights`.
    seed : seeds the weights, so the same seed gives the same network.
    """

    def __init__(self, n_features: int, n_components: int = 2, hidden: Sequence[int] = (32,),
                 activation: str | None = "relu", out_activation: str | None = None,
                 init: str = "default", init_std: float = 0.01, seed: int | None = 0):
        super().__init__()
        n_features = check_int(n_features, "n_features", low=1)
        n_components = check_int(n_components, "n_components", low=1,
                                 hint="the code needs at least one unit")
        hidden = _check_sizes(hidden, "hidden")
        check_choice(init, "init", INITS)
        if seed is not None:
            # Constructing layers draws from torch's global generator; fork it so the caller's stream
            # is left untouched and the same seed always gives the same weights.
            with torch.random.fork_rng(devices=[]):
                torch.default_generator.manual_seed(seed)  # CPU only: torch.manual_seed would also reseed CUDA
                self._build(n_features, n_components, hidden, activation, out_activation)
        else:
            self._build(n_features, n_components, hidden, activation, out_activation)
        init_weights(self, init, std=init_std, seed=seed)
        self.n_features, self.n_components, self.hidden = n_features, n_components, hidden

    def _build(self, n, p, hidden, activation, out_activation):
        self.encoder = mlp((n, *hidden, p), activation, out_activation=None)          # x (B, n) -> z (B, p)
        self.decoder = mlp((p, *reversed(hidden), n), activation, out_activation)   # z (B, p) -> x_hat (B, n)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)  # (B, n) -> (B, p)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (B, p) -> (B, n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))
