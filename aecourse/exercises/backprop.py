"""Checkers for backpropagation through one sigmoid neuron, saturation, the sigmoid's gradient bound, and a
prediction of the slopes sigma'(z) in a deep sigmoid network."""
from __future__ import annotations

import numpy as np

from ..neuron import neuron_gradients, sigmoid, sigmoid_prime, train_neuron
from ._core import _call, _to_numpy, check_function, checker, failed, passed

__all__ = ["check_neuron_gradients", "check_fast_start", "check_sigmoid_chain_bound",
           "check_predicted_sigma_prime"]


# ------------------------------------------------------------------ ex-backprop-neuron-grad

def _reference_grad(w, b, x, y):
    return np.array(neuron_gradients(w, b, x, y, "quadratic"))


def _example_grad(w, b, x, y):
    a = 1.0 / (1.0 + np.exp(-(w * x + b)))
    delta = (a - y) * a * (1.0 - a)       # dC/dz = dC/da * da/dz
    return delta * x, delta


# x != 1 and y != 0 in some cases, so that a forgotten x or y shows.
_GRAD_CASES = [(0.6, 0.9, 1.0, 0.0), (2.0, 2.0, 1.0, 0.0), (-1.5, 0.3, 2.0, 1.0), (0.4, -0.2, -0.7, 0.25)]


@checker("ex-backprop-neuron-grad", example=lambda: _example_grad)
def check_neuron_gradients(fn):
    """``fn(w, b, x, y)`` must return (dC/dw, dC/db) for C = (a - y)^2 / 2, a = sigmoid(w x + b)."""
    s = lambda w, b, x: sigmoid(w * x + b)  # noqa: E731
    sp = lambda w, b, x: sigmoid_prime(w * x + b)  # noqa: E731
    return check_function(
        "ex-backprop-neuron-grad", fn, reference=_reference_grad, cases=_GRAD_CASES, expect="array",
        rtol=1e-6, atol=1e-9,
        case_names=[f"w={w}, b={b}, x={x}, y={y}" for w, b, x, y in _GRAD_CASES],
        mistakes=[
            (lambda w, b, x, y: ((s(w, b, x) - y) * x, s(w, b, x) - y),
             "you left out sigma'(z). That is the cross-entropy gradient; for the quadratic cost the chain "
             "rule multiplies dC/da = a - y by da/dz = sigma'(z)."),
            (lambda w, b, x, y: ((s(w, b, x) - y) * sigmoid_prime(s(w, b, x)) * x,
                                 (s(w, b, x) - y) * sigmoid_prime(s(w, b, x))),
             "you evaluated sigma' at the output a; it belongs at the weighted input z = w x + b "
             "(or use sigma'(z) = a (1 - a))."),
            (lambda w, b, x, y: ((y - s(w, b, x)) * sp(w, b, x) * x, (y - s(w, b, x)) * sp(w, b, x)),
             "the sign is flipped: dC/da = a - y, not y - a (the update then subtracts eta times it)."),
            (lambda w, b, x, y: ((s(w, b, x) - y) * sp(w, b, x), (s(w, b, x) - y) * sp(w, b, x)),
             "dC/dw needs the extra factor x (dz/dw = x); with x = 1 you cannot see this, with x = 2 you can."),
            (lambda w, b, x, y: ((s(w, b, x) - y) * sp(w, b, x) * x, (s(w, b, x) - y) * sp(w, b, x) * x),
             "dC/db has no factor x: dz/db = 1."),
            (lambda w, b, x, y: (s(w, b, x) * sp(w, b, x) * x, s(w, b, x) * sp(w, b, x)),
             "you dropped the target y (a - y is only a when y = 0); some test cases have y != 0."),
        ],
        hint="delta = (a - y) * sigma'(z) with z = w x + b and sigma'(z) = a (1 - a); then "
             "dC/dw = delta * x and dC/db = delta. Return them as a pair (dC/dw, dC/db).",
    )


# ------------------------------------------------------------------ ex-backprop-fast-start

FAST_START_W0 = (2.0, 3.0, 5.0)
FAST_START_MIN_A0 = 0.75
FAST_START_MAX_EPOCHS = 50


def _example_fast_start(w0):
    return 1.5 - w0  # z0 = w0 + b0 = 1.5: a0 = 0.82, and sigma'(z0) = 0.15 is far from saturated


@checker("ex-backprop-fast-start", example=lambda: _example_fast_start)
def check_fast_start(fn):
    """``fn(w0)`` must return a bias b0 such that the neuron (x = 1, y = 0, eta = 0.15, quadratic cost)
    starts clearly wrong (a0 >= 0.75) and still gets below a = 0.5 within 50 epochs."""
    label = "ex-backprop-fast-start"
    for w0 in FAST_START_W0:
        case = f"w0={w0}"
        out = _call(label, fn, (w0,), case)
        b0 = float(_to_numpy(label, out, "float", case))
        if not np.isfinite(b0) or abs(b0) > 1e6:
            failed(label, f"your bias b0 = {b0} (on {case}) is not a usable finite number.",
                   "return a moderate number such as -0.5.")
        a0 = sigmoid(w0 + b0)
        if a0 < FAST_START_MIN_A0:
            failed(label, f"with w0={w0}, b0={b0:.4g} the neuron starts at a = {a0:.3f}, already close to the "
                          f"target 0; the exercise asks for a start that is clearly wrong, a0 >= "
                          f"{FAST_START_MIN_A0}.",
                   "raise b0 until sigmoid(w0 + b0) is at least 0.75, i.e. w0 + b0 >= ln 3 = 1.10.")
        run = train_neuron(w0, b0, eta=0.15, epochs=FAST_START_MAX_EPOCHS, cost="quadratic")
        t = run.first_epoch_below(0.5)
        if t is None:
            z0 = w0 + b0
            failed(label, f"with w0={w0}, b0={b0:.4g} the neuron starts at a = {a0:.3f} (z0 = {z0:.3g}, "
                          f"sigma'(z0) = {sigmoid_prime(z0):.3g}) and is still at a = {run.a[-1]:.3f} after "
                          f"{FAST_START_MAX_EPOCHS} epochs: it is saturated.",
                   "with x = 1, w and b receive the same update, so only z0 = w0 + b0 matters. Choose b0 so "
                   "that z0 sits just above ln 3, where sigma' is still large.")
    return passed(label, "a large weight learns fast when the bias cancels it: what saturates the neuron is "
                         "its weighted input z = w x + b, not w itself.")


# ------------------------------------------------------------------ ex-backprop-sigmoid-bound

def _reference_bound(n_layers):
    return 0.25 ** n_layers


def _example_bound(n_layers):
    return 0.25 ** n_layers


@checker("ex-backprop-sigmoid-bound", example=lambda: _example_bound)
def check_sigmoid_chain_bound(fn):
    """``fn(n_layers)`` must return the largest value the product of ``n_layers`` sigmoid derivatives can
    take, (1/4) ** n_layers."""
    cases = [(1,), (3,), (5,), (10,)]
    return check_function(
        "ex-backprop-sigmoid-bound", fn, reference=_reference_bound, cases=cases, expect="float",
        rtol=1e-6, atol=1e-15, case_names=[f"n_layers={n}" for (n,) in cases],
        mistakes=[
            (lambda n: 0.5 ** n, "0.5 is the sigmoid's value at z = 0, not its slope: sigma'(0) = "
                                 "sigma(0)(1 - sigma(0)) = 1/4."),
            (lambda n: 0.25 * n, "the factors multiply along the chain rule, they do not add: use 0.25 ** n."),
            (lambda n: 0.25 ** (n - 1), "count one factor sigma' per sigmoid layer: n layers give n factors."),
            (lambda n: 0.25, "that is the bound for one layer; n layers multiply n such factors."),
            (lambda n: 1.0, "sigma' is at most 1/4, not 1 (that would be tanh's peak slope)."),
        ],
        hint="sigma'(z) = sigma(z)(1 - sigma(z)) peaks at z = 0, where it equals 1/4; the chain rule multiplies "
             "one such factor per layer.",
    )



# ------------------------------------------------------------------ ex-backprop-predict-sigma-prime

# The naive start of the deep autoencoder: weights N(0, 0.01^2), zero biases, inputs in [0, 1] (64 pixels).
# Then |z| <= 0.01 * sqrt(64) * (a few) and sigma'(z) = 1/4 - z^2/16 + ... is 1/4 to within about 1e-3.
PREDICT_SIGMA_PRIME = 0.25
PREDICT_SIGMA_PRIME_ATOL = 0.005


@checker("ex-backprop-predict-sigma-prime", kind="value", example=lambda: PREDICT_SIGMA_PRIME)
def check_predicted_sigma_prime(value):
    """``value``: the predicted mean sigma'(z) over the hidden sigmoid units of the deep autoencoder at its naive
    start (weights N(0, 0.01^2), zero biases), averaged over the training digits."""
    label = "ex-backprop-predict-sigma-prime"
    if value is None:
        failed(label, "predicted_sigma_prime is None.", "assign your number to predicted_sigma_prime first.")
    if callable(value):
        failed(label, "expected a number, but got a function.", "call it and pass the result.")
    g = float(_to_numpy(label, value, "float", "predicted_sigma_prime"))
    if not np.isfinite(g):
        failed(label, f"predicted_sigma_prime is {g}; expected a finite number.",
               "sigma'(z) = sigma(z)(1 - sigma(z)) lies between 0 and 1/4.")
    if abs(g - PREDICT_SIGMA_PRIME) <= PREDICT_SIGMA_PRIME_ATOL:
        return passed(label, f"predicted_sigma_prime = {g:.4g}: with weights of size 0.01 every weighted input "
                             "z is close to 0, where sigma' takes its largest value. Now measure it.")
    mistakes = [
        (0.25 ** 7, "that is the bound on the product of the seven slopes along the whole chain; the question "
                    "asks for the mean slope of one unit, layer by layer."),
        (0.5, "0.5 is the sigmoid's value sigma(0), not its slope: sigma'(0) = sigma(0)(1 - sigma(0))."),
        (1.0, "a slope of 1 at the origin is tanh's (or the identity's); the sigmoid is flatter."),
    ]
    for wrong, why in mistakes:
        if np.isclose(g, wrong, rtol=0.05, atol=1e-6):
            failed(label, f"predicted_sigma_prime = {g:.4g} is not right.", why)
    if 0.0 <= g < 0.1:
        failed(label, f"predicted_sigma_prime = {g:.4g} is not right (it is too low).",
               "a slope near 0 would mean saturated units, |z| large. With weights of size 0.01, zero biases and "
               "pixels in [0, 1], how large can z = W x + b be?")
    if g < 0.0 or g > 0.25 + PREDICT_SIGMA_PRIME_ATOL:
        failed(label, f"predicted_sigma_prime = {g:.4g} is outside the range of sigma'.",
               "sigma'(z) = sigma(z)(1 - sigma(z)) lies between 0 and 1/4.")
    failed(label, f"predicted_sigma_prime = {g:.4g} is not right (it is too low).",
           "estimate z: with weights of size 0.01, zero biases and inputs in [0, 1], z is close to 0; where does "
           "sigma' peak?")
