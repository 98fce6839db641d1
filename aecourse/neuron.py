"""One sigmoid neuron in numpy, and gradient sizes in deep torch networks.

The neuron a = sigmoid(w x + b) is the smallest network in which backpropagation, saturation and the choice of
cost can be worked out by hand (Nielsen 2015, "Neural Networks and Deep Learning", ch. 3): its exact forward
pass, its cost and gradients for the quadratic and cross-entropy costs, and a deterministic run of plain
gradient descent that records the whole trajectory. For deep networks, :func:`layer_gradient_norms` measures
how large each layer's weight gradient is, the quantity that vanishes in deep sigmoid networks
(Glorot & Bengio 2010), and :func:`activation_derivatives` measures each activation layer's mean slope
sigma'(z) on data, which tells a saturated network (slopes near 0) from one whose units sit in their linear
range (slopes near the maximum, 1/4 for the sigmoid).
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from ._validation import check_choice, check_int, check_positive

__all__ = ["COSTS", "sigmoid", "sigmoid_prime", "neuron_output", "neuron_cost", "neuron_gradients",
           "NeuronRun", "train_neuron", "layer_gradient_norms", "activation_derivatives"]

COSTS = ("quadratic", "cross_entropy")


def _real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"{name}={value!r} must be a finite real number, e.g. {name}=1.0.")
    return float(value)


def _target(y, cost: str) -> float:
    y = _real(y, "y")
    if cost == "cross_entropy" and not 0.0 <= y <= 1.0:
        raise ValueError(f"y={y!r} must lie in [0, 1] for the cross-entropy cost (it is a probability); "
                         "rescale the target or use cost='quadratic'.")
    return y


def sigmoid(z):
    """The logistic function 1 / (1 + exp(-z)), computed without overflow for large |z|."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    out = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out.item() if out.ndim == 0 else out


def sigmoid_prime(z):
    """The derivative sigmoid(z) (1 - sigmoid(z)); at most 1/4, reached at z = 0."""
    s = np.asarray(sigmoid(z))
    out = s * (1.0 - s)
    return out.item() if out.ndim == 0 else out


def neuron_output(w: float, b: float, x: float = 1.0) -> float:
    """The neuron's output a = sigmoid(z) with weighted input z = w x + b."""
    return sigmoid(_real(w, "w") * _real(x, "x") + _real(b, "b"))


def neuron_cost(w: float, b: float, x: float = 1.0, y: float = 0.0, cost: str = "quadratic") -> float:
    """The cost of one training example (x, y).

    - ``"quadratic"``: C = (a - y)^2 / 2.
    - ``"cross_entropy"``: C = -[y ln a + (1 - y) ln(1 - a)], written with softplus in terms of z so that a
      saturated neuron (a rounding to 0 or 1) still gives a finite cost.
    """
    check_choice(cost, "cost", COSTS)
    z = _real(w, "w") * _real(x, "x") + _real(b, "b")
    y = _target(y, cost)
    if cost == "quadratic":
        return 0.5 * (sigmoid(z) - y) ** 2
    # -ln(sigmoid(z)) = softplus(-z) and -ln(1 - sigmoid(z)) = softplus(z); softplus(t) = logaddexp(0, t).
    return float(y * np.logaddexp(0.0, -z) + (1.0 - y) * np.logaddexp(0.0, z))


def neuron_gradients(w: float, b: float, x: float = 1.0, y: float = 0.0,
                     cost: str = "quadratic") -> tuple[float, float]:
    """(dC/dw, dC/db) for one example, by the chain rule.

    The error of the neuron is delta = dC/dz = dC/da * da/dz, and then dC/dw = delta * x, dC/db = delta.

    - quadratic: dC/da = a - y, so delta = (a - y) sigma'(z): small whenever the neuron saturates, right or
      wrong (Nielsen 2015, eq. 55-56).
    - cross-entropy: dC/da = (a - y) / (a (1 - a)) and sigma'(z) = a (1 - a) cancel: delta = a - y
      (Nielsen 2015, eq. 61-62), large exactly when the neuron is badly wrong.
    """
    check_choice(cost, "cost", COSTS)
    w, b, x = _real(w, "w"), _real(b, "b"), _real(x, "x")
    y = _target(y, cost)
    z = w * x + b
    a = sigmoid(z)
    delta = (a - y) * sigmoid_prime(z) if cost == "quadratic" else a - y
    return float(delta * x), float(delta)


@dataclass
class NeuronRun:
    """The trajectory of :func:`train_neuron`: entry t of each array is the state after t epochs
    (entry 0 is the start), so every array has ``epochs + 1`` entries."""

    w: np.ndarray
    b: np.ndarray
    a: np.ndarray
    cost: np.ndarray
    eta: float
    cost_name: str
    x: float = 1.0
    y: float = 0.0
    epochs: np.ndarray = field(init=False)

    def __post_init__(self):
        self.epochs = np.arange(len(self.a))

    def __len__(self) -> int:
        return len(self.a)

    def first_epoch_below(self, threshold: float) -> int | None:
        """The first epoch t at which the output a_t is below ``threshold``; None if it never is."""
        below = np.flatnonzero(self.a < _real(threshold, "threshold"))
        return int(below[0]) if below.size else None


def train_neuron(w0: float, b0: float, *, x: float = 1.0, y: float = 0.0, eta: float = 0.15,
                 epochs: int = 300, cost: str = "quadratic",
                 gradient: Callable[[float, float, float, float], tuple[float, float]] | None = None
                 ) -> NeuronRun:
    """Plain gradient descent on one example, w <- w - eta dC/dw, b <- b - eta dC/db, for ``epochs`` steps.

    There is one training example, so an epoch is one step. Nothing is random: the same arguments always
    give the same trajectory. Nielsen's experiment is ``train_neuron(0.6, 0.9)`` against
    ``train_neuron(2.0, 2.0)``.

    Parameters
    ----------
    w0, b0 : the starting weight and bias.
    x, y : the training input and its target output.
    eta : the learning rate.
    epochs : the number of gradient steps.
    cost : ``"quadratic"`` or ``"cross_entropy"``: which cost is recorded and, by default, differentiated.
    gradient : optional ``gradient(w, b, x, y) -> (dC/dw, dC/db)`` used instead of the exact gradient of
        ``cost``, e.g. to test what an update rule with a mistake in it does.

    Returns
    -------
    NeuronRun with arrays ``w``, ``b``, ``a`` and ``cost`` of length ``epochs + 1``.
    """
    check_choice(cost, "cost", COSTS)
    w, b = _real(w0, "w0"), _real(b0, "b0")
    x = _real(x, "x")
    y = _target(y, cost)
    eta = check_positive(eta, "eta")
    epochs = check_int(epochs, "epochs", low=1)
    if gradient is not None and not callable(gradient):
        raise TypeError(f"gradient={gradient!r} must be a function gradient(w, b, x, y) -> (dC/dw, dC/db), "
                        "or None for the exact gradient of the cost.")
    grad = gradient if gradient is not None else (lambda w_, b_, x_, y_: neuron_gradients(w_, b_, x_, y_, cost))
    ws, bs = np.empty(epochs + 1), np.empty(epochs + 1)
    ws[0], bs[0] = w, b
    for t in range(epochs):
        dw, db = grad(w, b, x, y)
        w, b = w - eta * dw, b - eta * db
        ws[t + 1], bs[t + 1] = w, b
    a = np.asarray(sigmoid(ws * x + bs))  # (epochs + 1,)
    costs = np.array([neuron_cost(wi, bi, x, y, cost) for wi, bi in zip(ws, bs)])
    return NeuronRun(w=ws, b=bs, a=a, cost=costs, eta=eta, cost_name=cost, x=x, y=y)


def layer_gradient_norms(model: nn.Module, X, loss_fn: Callable | None = None, target=None) -> dict[str, float]:
    """The Frobenius norm of dLoss/dW for every ``nn.Linear`` weight W of ``model``, in forward order.

    The loss is ``loss_fn(model, X, target)`` on the whole of ``X`` (default: the mean squared reconstruction
    error of an autoencoder, ``target = X``). Computed with ``torch.autograd.grad``, so the model's ``.grad``
    fields are left untouched. Keys read ``"3: 64->32"`` (layer number, fan-in -> fan-out).

    In a deep sigmoid network started with small weights these norms shrink layer after layer going back
    from the output: every layer multiplies the backpropagated error by its weights and by sigma' <= 1/4
    (the vanishing gradient; Hochreiter 1991, Glorot & Bengio 2010).
    """
    from .train import reconstruction_loss, to_tensor

    if not isinstance(model, nn.Module):
        raise TypeError(f"model of type {type(model).__name__} must be a torch nn.Module.")
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError(f"model {type(model).__name__} has no nn.Linear layer; there is no weight gradient "
                         "to measure.")
    p = next(model.parameters())
    x = to_tensor(X, p.device)                                              # (N, n)
    t = x if target is None else torch.as_tensor(target, device=p.device)   # (N, ...)
    loss = (loss_fn or reconstruction_loss)(model, x, t)
    grads = torch.autograd.grad(loss, [m.weight for m in layers])
    return {f"{i + 1}: {m.in_features}->{m.out_features}": float(g.norm())
            for i, (m, g) in enumerate(zip(layers, grads))}


# Element-wise activations whose slope activation_derivatives measures (nn.Identity is left out: slope 1).
_ELEMENTWISE = (nn.Sigmoid, nn.Tanh, nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.Softplus, nn.SiLU)


def activation_derivatives(model: nn.Module, X) -> dict[str, float]:
    """The mean derivative f'(z) of every element-wise activation layer of ``model`` on the rows of ``X``.

    For each activation module (sigmoid, tanh, ReLU, ...) in forward order, the derivative of its output with
    respect to its input z is evaluated at every unit and every row of ``X`` and averaged. Keys read
    ``"3: Sigmoid (32)"`` (activation number, module, width). The model is run once in ``torch.no_grad``;
    each slope comes from ``torch.autograd`` on a detached copy of that layer's input, so the model's
    ``.grad`` fields are left untouched.

    Backpropagation multiplies the error by these slopes, once per layer. A mean near 0 means saturated
    units (large |z|, as for a neuron started far from z = 0); a mean near the activation's maximum slope
    (1/4 for the sigmoid, reached at z = 0) means the units are in their linear range, so any shrinking of
    the error must then come from the weights.
    """
    from .train import to_tensor

    if not isinstance(model, nn.Module):
        raise TypeError(f"model of type {type(model).__name__} must be a torch nn.Module.")
    acts = [m for m in model.modules() if isinstance(m, _ELEMENTWISE)]
    if not acts:
        raise ValueError(f"model {type(model).__name__} has no element-wise activation layer (sigmoid, tanh, "
                         "ReLU, ...); a linear network has slope 1 everywhere.")
    p = next(model.parameters())
    x = to_tensor(X, p.device, dtype=p.dtype)                               # (N, n), in the model's precision
    means: dict[int, float] = {}
    widths: dict[int, int] = {}

    def hook(index):
        def record(module, inputs, output):
            with torch.enable_grad():
                z = inputs[0].detach().requires_grad_(True)                # (N, width)
                # Element-wise, so d(sum of outputs)/dz_i is f'(z_i) at every entry.
                (slope,) = torch.autograd.grad(module.forward(z).sum(), z)  # (N, width); forward: no hooks
            means[index] = float(slope.double().mean())
            widths[index] = z.shape[-1]
        return record

    handles = [m.register_forward_hook(hook(i)) for i, m in enumerate(acts)]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    missing = [i for i in range(len(acts)) if i not in means]
    if missing:
        raise ValueError(f"activation layers {[i + 1 for i in missing]} of {type(model).__name__} were not "
                         "used by its forward pass; measure a model whose forward calls every activation.")
    return {f"{i + 1}: {type(m).__name__} ({widths[i]})": means[i] for i, m in enumerate(acts)}
