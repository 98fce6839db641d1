"""Greedy layer-wise pretraining of stacked autoencoders, and what to build from the pretrained layers.

The recipe of Hinton & Salakhutdinov (2006) with the autoencoder layers of Bengio et al. (2007): train a
shallow autoencoder on the data, keep its encoder, train the next shallow autoencoder on the CLEAN codes of
the first, and so on (optionally each one denoising, Vincent et al. 2010). Then either unroll the stack into a
deep autoencoder (an :class:`~aecourse.models.MLPAutoencoder`) or put a classifier head on its encoder, and
fine-tune the whole network end to end with :func:`aecourse.train`.

Also here: the small helpers a few-label classification experiment needs (a seeded classifier, a balanced
labelled subset, the cross-entropy loss hook and accuracy).
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._validation import check_int, check_positive
from .models import INITS, MLPAutoencoder, _check_sizes, init_weights, make_activation, mlp
from .train import History, to_tensor, train

__all__ = ["PretrainedStack", "pretrain", "unroll", "pretrained_classifier", "mlp_classifier",
           "balanced_subset", "classification_loss", "accuracy"]

_LINEAR = (None, "linear", "identity")


def _act(name: str | None) -> nn.Module:
    return make_activation(None if name in _LINEAR else name)


@dataclass
class PretrainedStack:
    """The layers that :func:`pretrain` trained, one shallow autoencoder per layer.

    Attributes
    ----------
    sizes : (n_features, h_1, ..., h_k): the input width, then each layer's code width.
    encoders : k ``nn.Linear``; ``encoders[i]`` maps width ``sizes[i]`` to ``sizes[i + 1]``.
    decoders : k ``nn.Linear``; ``decoders[i]`` maps ``sizes[i + 1]`` back to ``sizes[i]``.
    activation : hidden activation (after every encoder but the last, after every decoder but the first).
    code_activation : after the last encoder (``None``: a linear code, as in the 2006 deep autoencoders).
    out_activation : after ``decoders[0]``, the reconstruction of the data.
    histories : the training :class:`~aecourse.train.History` of each layer.
    """

    sizes: tuple
    encoders: list
    decoders: list
    activation: str | None
    code_activation: str | None
    out_activation: str | None
    histories: list = field(default_factory=list)

    @property
    def n_layers(self) -> int:
        return len(self.encoders)

    def encoder_activation(self, i: int) -> str | None:
        """Activation after ``encoders[i]``: the hidden one, or the code's for the top layer."""
        return self.code_activation if i == self.n_layers - 1 else self.activation

    def decoder_activation(self, i: int) -> str | None:
        """Activation after ``decoders[i]``: the output one for the bottom layer, else the hidden one
        (layer i > 0 reconstructs the codes of layer i - 1, which went through ``activation``)."""
        return self.out_activation if i == 0 else self.activation

    @torch.no_grad()
    def encode(self, X, depth: int | None = None) -> torch.Tensor:
        """Clean codes (N, sizes[depth]) of ``X`` after the first ``depth`` encoders (default: all)."""
        depth = self.n_layers if depth is None else check_int(depth, "depth", low=0, high=self.n_layers)
        dev = self.encoders[0].weight.device
        h = to_tensor(X, dev)                                      # (N, n)
        for i in range(depth):
            h = _act(self.encoder_activation(i))(self.encoders[i](h))  # (N, sizes[i + 1])
        return h


class _LayerAutoencoder(nn.Module):
    """One shallow autoencoder of the stack: Linear -> activation -> Linear -> activation."""

    def __init__(self, n_in: int, n_out: int, enc_act, dec_act):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_in, n_out), _act(enc_act))   # (B, n_in) -> (B, n_out)
        self.decoder = nn.Sequential(nn.Linear(n_out, n_in), _act(dec_act))   # (B, n_out) -> (B, n_in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def pretrain(
    X,
    sizes: Sequence[int],
    *,
    activation: str | None = "sigmoid",
    code_activation: str | None = None,
    out_activation: str | None = None,
    corrupt=None,
    epochs: int = 200,
    batch_size: int | None = None,
    lr: float = 1e-2,
    optimizer: Callable | None = None,
    init: str = "default",
    seed: int = 0,
    device=None,
) -> PretrainedStack:
    """Greedy layer-wise pretraining: one shallow autoencoder per layer, each on the previous one's codes.

    Layer i is an autoencoder ``sizes[i-1] -> sizes[i] -> sizes[i-1]`` trained with :func:`aecourse.train`
    on the codes of layer i - 1; those codes are computed from the CLEAN data with the frozen encoders
    below (Vincent et al. 2010: corruption is applied to each layer's own input while it
    trains, never propagated upwards). Lower layers are not changed once trained: that is what makes the
    procedure greedy (Bengio et al. 2007).

    Parameters
    ----------
    X : (n_samples, n_features) training data (labels are never used).
    sizes : code widths (h_1, ..., h_k) of the k layers, e.g. ``(128, 64, 32, 2)``.
    activation : hidden activation of the stack.
    code_activation : activation after the top encoder; ``None`` gives a linear code (deep autoencoders,
        Hinton & Salakhutdinov 2006); the hidden activation suits a classifier put on top.
    out_activation : activation of the reconstruction of the data (bottom decoder), e.g. ``"sigmoid"``.
    corrupt : ``(kind, level)`` or ``f(x, generator)``: each layer becomes a denoising autoencoder.
    epochs, batch_size, lr : per-layer training (``batch_size=None``: full batch).
    optimizer : ``f(parameters) -> torch.optim.Optimizer``; default Adam with ``lr``.
    init : weight initialisation of each layer, see :func:`aecourse.init_weights`.
    seed : layer i uses ``seed + i`` for its weights and its training; same seed, same stack.
    device : where to train (default: CPU, or the device of ``X`` when it is a tensor).

    Returns
    -------
    PretrainedStack with the trained encoders and decoders (on ``device``) and each layer's History.
    """
    sizes = _check_sizes(sizes, "sizes")
    make_activation(None if activation in _LINEAR else activation)
    make_activation(None if code_activation in _LINEAR else code_activation)
    make_activation(None if out_activation in _LINEAR else out_activation)
    epochs = check_int(epochs, "epochs", low=1)
    check_positive(lr, "lr")
    seed = check_int(seed, "seed", low=0)
    if init not in INITS:
        raise ValueError(f"init={init!r} is not supported; choose one of {', '.join(map(repr, INITS))}.")
    if optimizer is not None and not callable(optimizer):
        raise TypeError(
            f"optimizer={optimizer!r} must be a function parameters -> optimiser, "
            "e.g. lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9)."
        )
    if device is None:
        device = X.device if isinstance(X, torch.Tensor) else torch.device("cpu")
    device = torch.device(device)
    h = to_tensor(X, device)                                     # (N, n): the input of layer 1
    widths = (h.shape[1], *sizes)
    stack = PretrainedStack(widths, [], [], activation, code_activation, out_activation)
    for i in range(len(sizes)):
        enc_act = code_activation if i == len(sizes) - 1 else activation
        dec_act = out_activation if i == 0 else activation
        with torch.random.fork_rng(devices=[]):  # seeded weights, caller's generator untouched
            torch.default_generator.manual_seed(seed + i)  # CPU only, so the CUDA stream is untouched too
            layer = _LayerAutoencoder(widths[i], widths[i + 1], enc_act, dec_act)
        init_weights(layer, init, seed=seed + i)
        layer.to(device)
        opt = optimizer(layer.parameters()) if optimizer is not None else None  # None: train's Adam(lr)
        hist = train(layer, h, epochs=epochs, batch_size=batch_size, optimizer=opt, lr=lr, corrupt=corrupt,
                     seed=seed + i, device=device)
        stack.encoders.append(layer.encoder[0])
        stack.decoders.append(layer.decoder[0])
        stack.histories.append(hist)
        with torch.no_grad():
            h = layer.encoder(h)                                 # (N, sizes[i]): clean codes, no noise
    return stack


def _check_stack(stack) -> PretrainedStack:
    if not isinstance(stack, PretrainedStack):
        raise TypeError(
            f"stack of type {type(stack).__name__} is not a PretrainedStack; build one with "
            "aecourse.pretraining.pretrain(X, sizes)."
        )
    return stack


def unroll(stack: PretrainedStack) -> MLPAutoencoder:
    """The deep autoencoder made of the stack: encoders in order, then the decoders in reverse order.

    Returns an :class:`~aecourse.models.MLPAutoencoder` holding copies of the pretrained weights, ready to
    be fine-tuned end to end with :func:`aecourse.train` (Hinton & Salakhutdinov 2006, Fig. 1). The stack
    must have a linear code (``code_activation=None``), as ``MLPAutoencoder`` does.
    """
    stack = _check_stack(stack)
    if stack.code_activation not in _LINEAR:
        raise ValueError(
            f"code_activation={stack.code_activation!r}, but MLPAutoencoder has a linear code layer; "
            "pretrain with code_activation=None to unroll, or use pretrained_classifier(stack, ...)."
        )
    n, *hidden, p = stack.sizes
    dev = stack.encoders[0].weight.device
    model = MLPAutoencoder(n, p, tuple(hidden), stack.activation, stack.out_activation, seed=0).to(dev)
    enc = [m for m in model.encoder if isinstance(m, nn.Linear)]
    dec = [m for m in model.decoder if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for target, source in zip(enc, stack.encoders):
            target.weight.copy_(source.weight)
            target.bias.copy_(source.bias)
        for target, source in zip(dec, reversed(stack.decoders)):  # decoder mirrors: top layer first
            target.weight.copy_(source.weight)
            target.bias.copy_(source.bias)
    return model


def pretrained_classifier(stack: PretrainedStack, n_classes: int, seed: int = 0) -> nn.Sequential:
    """The stack's encoder (copied, with its activations) and a new linear output layer of ``n_classes``
    logits: ``(B, n) -> (B, n_classes)``. The head is PyTorch's default initialisation, seeded by ``seed``.
    Fine-tune it with :func:`aecourse.train` and ``loss_fn=classification_loss`` (Bengio et al. 2007).
    """
    stack = _check_stack(stack)
    n_classes = check_int(n_classes, "n_classes", low=2, hint="a classifier needs at least two classes")
    layers: list[nn.Module] = []
    for i, enc in enumerate(stack.encoders):
        layers.append(copy.deepcopy(enc))
        if stack.encoder_activation(i) not in _LINEAR:
            layers.append(_act(stack.encoder_activation(i)))
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        head = nn.Linear(stack.sizes[-1], n_classes)
    return nn.Sequential(*layers, head.to(stack.encoders[0].weight.device))


def mlp_classifier(n_features: int, hidden: Sequence[int], n_classes: int, *, activation: str = "sigmoid",
                   init: str = "default", seed: int = 0) -> nn.Sequential:
    """A randomly initialised classifier ``n_features -> hidden... -> n_classes`` (logits), seeded.

    ``init="default"`` is PyTorch's uniform(+-1/sqrt(fan_in)); ``"he"`` (He et al. 2015) suits ReLU.
    """
    n_features = check_int(n_features, "n_features", low=1)
    n_classes = check_int(n_classes, "n_classes", low=2, hint="a classifier needs at least two classes")
    hidden = _check_sizes(hidden, "hidden")
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        model = mlp((n_features, *hidden, n_classes), activation)
    return init_weights(model, init, seed=seed)


def balanced_subset(y, n_per_class: int, seed: int = 0) -> np.ndarray:
    """Indices (sorted) of ``n_per_class`` examples of every class in ``y``, drawn without replacement.

    The labelled set of a few-label experiment: 10 per class of the ten digits is "100 labels".
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"y has shape {y.shape}; expected a non-empty 1-D array of class labels.")
    n_per_class = check_int(n_per_class, "n_per_class", low=1)
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < n_per_class:
        small = classes[counts.argmin()].item()  # a plain Python value for the message
        raise ValueError(
            f"n_per_class={n_per_class} but class {small!r} has only {counts.min()} examples; "
            f"ask for at most {counts.min()} per class."
        )
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(y == c), size=n_per_class, replace=False) for c in classes]
    return np.sort(np.concatenate(picks))


def classification_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the logits ``model(x)`` (B, C) against integer labels ``y`` (B,): a ``loss_fn``
    for :func:`aecourse.train` (pass the labels as ``target``)."""
    return F.cross_entropy(model(x), y)


@torch.no_grad()
def accuracy(model: nn.Module, X, y) -> float:
    """Fraction of rows of ``X`` whose largest logit is the label in ``y``."""
    dev = next(model.parameters()).device
    x = to_tensor(X, dev)                                          # (N, n)
    y = y.to(dev) if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y), device=dev)  # (N,)
    if y.shape != (len(x),):
        raise ValueError(f"y has shape {tuple(y.shape)}; expected one label per row of X, shape ({len(x)},).")
    was_training = model.training
    model.eval()
    acc = float((model(x).argmax(dim=1) == y).float().mean())
    model.train(was_training)
    return acc
