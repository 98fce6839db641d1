"""Tests of aecourse.neuron (against scipy and torch.autograd, and Nielsen's published numbers) and of the
backpropagation exercise checkers."""
import math

import numpy as np
import pytest
import torch
from scipy.special import expit

import aecourse
from aecourse.exercises import ExerciseFailed, backprop
from aecourse.neuron import (COSTS, activation_derivatives, layer_gradient_norms, neuron_cost, neuron_gradients,
                             neuron_output, sigmoid, sigmoid_prime, train_neuron)

POINTS = [(0.6, 0.9, 1.0, 0.0), (2.0, 2.0, 1.0, 0.0), (-1.3, 0.4, 2.5, 1.0), (0.2, -3.0, -0.8, 0.3),
          (5.0, 4.0, 1.0, 0.0), (-0.7, 0.0, 0.0, 0.9)]


def _autograd(w, b, x, y, cost):
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    z = wt * x + bt
    if cost == "quadratic":
        c = 0.5 * (torch.sigmoid(z) - y) ** 2
    else:
        c = torch.nn.functional.binary_cross_entropy_with_logits(z, torch.tensor(y, dtype=torch.float64))
    c.backward()
    return float(c.detach()), float(wt.grad), float(bt.grad)


# ------------------------------------------------------------------------------------------ the neuron

def test_sigmoid_matches_scipy_and_does_not_overflow():
    z = np.array([-800.0, -30.0, -2.0, 0.0, 1.5, 30.0, 800.0])
    with np.errstate(over="raise"):
        np.testing.assert_allclose(sigmoid(z), expit(z), rtol=1e-12, atol=0)
    assert isinstance(sigmoid(0.3), float)


def test_sigmoid_prime_peaks_at_zero_with_a_quarter():
    z = np.linspace(-8, 8, 16001)
    sp = sigmoid_prime(z)
    assert z[np.argmax(sp)] == pytest.approx(0.0, abs=1e-9)
    assert sp.max() == pytest.approx(0.25, rel=1e-12)
    np.testing.assert_allclose(sp, expit(z) * (1 - expit(z)), rtol=1e-12)


@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("w,b,x,y", POINTS)
def test_gradients_and_cost_match_autograd(w, b, x, y, cost):
    c_ref, dw_ref, db_ref = _autograd(w, b, x, y, cost)
    dw, db = neuron_gradients(w, b, x, y, cost)
    assert dw == pytest.approx(dw_ref, rel=1e-10, abs=1e-14)
    assert db == pytest.approx(db_ref, rel=1e-10, abs=1e-14)
    assert neuron_cost(w, b, x, y, cost) == pytest.approx(c_ref, rel=1e-10, abs=1e-14)


def test_cross_entropy_cost_is_finite_for_a_saturated_neuron():
    # a rounds to 1.0 in float64, yet the cost -ln(1 - a) ~ z stays finite and right.
    assert neuron_cost(40.0, 0.0, 1.0, 0.0, "cross_entropy") == pytest.approx(40.0, rel=1e-12)


def test_nielsen_quadratic_numbers():
    """Nielsen (2015), ch. 3: x = 1, y = 0, eta = 0.15, 300 epochs."""
    fast, slow = train_neuron(0.6, 0.9), train_neuron(2.0, 2.0)
    assert neuron_output(0.6, 0.9) == pytest.approx(0.82, abs=0.005)
    assert neuron_output(2.0, 2.0) == pytest.approx(0.98, abs=0.005)
    assert neuron_gradients(0.6, 0.9)[0] == pytest.approx(0.1219, abs=5e-4)
    assert neuron_gradients(2.0, 2.0)[0] == pytest.approx(0.0173, abs=5e-4)
    assert fast.a[-1] == pytest.approx(0.09, abs=0.006)
    assert slow.a[-1] == pytest.approx(0.20, abs=0.006)
    assert fast.first_epoch_below(0.5) == 36
    assert slow.first_epoch_below(0.5) == 232
    assert len(fast) == 301 and fast.a[0] == pytest.approx(neuron_output(0.6, 0.9))


def test_cross_entropy_removes_the_slowdown_at_the_same_learning_rate():
    for w0, b0 in [(0.6, 0.9), (2.0, 2.0)]:
        run = train_neuron(w0, b0, cost="cross_entropy")
        assert run.a[-1] == pytest.approx(0.012, abs=0.001)
        assert np.all(np.diff(run.cost) < 0)


def test_only_the_weighted_input_matters_when_x_is_one():
    a = train_neuron(2.0, -0.5).a
    b = train_neuron(0.6, 0.9).a
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_custom_gradient_is_used_and_runs_are_deterministic():
    exact = lambda w, b, x, y: neuron_gradients(w, b, x, y, "quadratic")  # noqa: E731
    r1, r2 = train_neuron(2.0, 2.0, epochs=50), train_neuron(2.0, 2.0, epochs=50, gradient=exact)
    np.testing.assert_array_equal(r1.w, r2.w)
    np.testing.assert_array_equal(r1.a, train_neuron(2.0, 2.0, epochs=50).a)
    frozen = train_neuron(2.0, 2.0, epochs=5, gradient=lambda w, b, x, y: (0.0, 0.0))
    assert np.all(frozen.w == 2.0) and np.all(frozen.b == 2.0)
    assert frozen.first_epoch_below(0.5) is None


def test_train_neuron_matches_a_torch_sgd_run():
    w = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=0.15)
    for _ in range(100):
        opt.zero_grad()
        (0.5 * torch.sigmoid(w + b) ** 2).backward()
        opt.step()
    run = train_neuron(2.0, 2.0, epochs=100)
    assert run.w[-1] == pytest.approx(w.item(), rel=1e-10)
    assert run.b[-1] == pytest.approx(b.item(), rel=1e-10)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(cost="mse"), ValueError, "cost='mse'"),
    (dict(eta=0.0), ValueError, "eta=0.0"),
    (dict(epochs=0), ValueError, "epochs=0"),
    (dict(epochs=2.5), TypeError, "epochs=2.5"),
    (dict(y=2.0, cost="cross_entropy"), ValueError, "y=2.0 must lie in"),
    (dict(x=float("nan")), TypeError, "x=nan must be a finite"),
    (dict(gradient="exact"), TypeError, "gradient='exact'"),
])
def test_train_neuron_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        train_neuron(0.6, 0.9, **kwargs)


def test_gradient_errors():
    with pytest.raises(TypeError, match="w=None"):
        neuron_gradients(None, 0.0)
    with pytest.raises(ValueError, match="cost='ce'"):
        neuron_gradients(0.0, 0.0, cost="ce")


# ------------------------------------------------------------------------------ gradient norms of a net

def test_layer_gradient_norms_match_backward_and_leave_grads_alone():
    X = np.random.default_rng(0).random((20, 6)).astype(np.float32)
    model = aecourse.MLPAutoencoder(6, 2, hidden=(5,), activation="sigmoid", seed=3)
    norms = layer_gradient_norms(model, X)
    assert list(norms) == ["1: 6->5", "2: 5->2", "3: 2->5", "4: 5->6"]
    assert all(p.grad is None for p in model.parameters())
    aecourse.reconstruction_loss(model, torch.as_tensor(X), torch.as_tensor(X)).backward()
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    for value, layer in zip(norms.values(), layers):
        assert value == pytest.approx(float(layer.weight.grad.norm()), rel=1e-6)


def test_naive_start_vanishes_and_seeds_repeat():
    X = aecourse.load_digits().X_train[:200]
    make = lambda init, act: aecourse.MLPAutoencoder(64, 2, hidden=(128, 64, 32), activation=act,  # noqa: E731
                                                     out_activation="sigmoid", init=init, seed=0)
    naive = list(layer_gradient_norms(make("normal", "sigmoid"), X).values())
    relu = list(layer_gradient_norms(make("he", "relu"), X).values())
    assert naive[0] < 1e-8 * naive[-1]          # twelve orders of magnitude in the real chapter
    assert relu[0] > 0.1 * relu[-1]
    assert naive == list(layer_gradient_norms(make("normal", "sigmoid"), X).values())


def test_layer_gradient_norms_errors():
    with pytest.raises(TypeError, match="must be a torch nn.Module"):
        layer_gradient_norms("model", np.ones((2, 2)))
    with pytest.raises(ValueError, match="has no nn.Linear layer"):
        layer_gradient_norms(torch.nn.Sequential(torch.nn.Sigmoid(), torch.nn.Flatten()), np.ones((2, 2)))


# ------------------------------------------------------------------------- slopes of the activations

def _numpy_slopes(model, X, act):
    """Mean f'(z) per activation layer by a hand-written numpy forward pass through the Linear layers."""
    slope = {"sigmoid": lambda z: expit(z) * (1 - expit(z)), "tanh": lambda z: 1 - np.tanh(z) ** 2,
             "relu": lambda z: (z > 0).astype(float)}
    f = {"sigmoid": expit, "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0)}
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    h, out = np.asarray(X, dtype=np.float64), []
    n_enc = len(model.hidden) + 1                       # encoder Linear layers; the last one is the linear code
    for i, m in enumerate(layers):
        z = h @ m.weight.detach().double().numpy().T + m.bias.detach().double().numpy()
        if i == n_enc - 1:
            h = z                                       # linear code: no activation
            continue
        name = "sigmoid" if i == len(layers) - 1 else act   # sigmoid output layer
        out.append(slope[name](z).mean())
        h = f[name](z)
    return out


@pytest.mark.parametrize("act, init", [("sigmoid", "normal"), ("sigmoid", "xavier"), ("tanh", "xavier"),
                                       ("relu", "he")])
def test_activation_derivatives_match_a_numpy_forward_pass(act, init):
    X = np.random.default_rng(1).random((40, 8))
    model = aecourse.MLPAutoencoder(8, 2, hidden=(6, 4), activation=act, out_activation="sigmoid", init=init,
                                    init_std=0.5, seed=2).double()
    got = activation_derivatives(model, X)
    names = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU"}
    assert list(got) == [f"1: {names[act]} (6)", f"2: {names[act]} (4)", f"3: {names[act]} (4)",
                         f"4: {names[act]} (6)", "5: Sigmoid (8)"]
    np.testing.assert_allclose(list(got.values()), _numpy_slopes(model, X, act), rtol=1e-5, atol=1e-7)
    assert all(p.grad is None for p in model.parameters())


def test_activation_derivatives_tell_saturation_from_the_linear_range():
    X = np.random.default_rng(0).random((30, 5))
    small = aecourse.MLPAutoencoder(5, 2, hidden=(4,), activation="sigmoid", init="normal", init_std=0.01, seed=0)
    large = aecourse.MLPAutoencoder(5, 2, hidden=(4,), activation="sigmoid", init="normal", init_std=30.0, seed=0)
    assert min(activation_derivatives(small, X).values()) > 0.249       # z ~ 0: the top of sigma'
    assert max(activation_derivatives(large, X).values()) < 0.05        # |z| large: saturated


def test_activation_derivatives_errors():
    with pytest.raises(TypeError, match="must be a torch nn.Module"):
        activation_derivatives("model", np.ones((2, 2)))
    with pytest.raises(ValueError, match="has no element-wise activation layer"):
        activation_derivatives(torch.nn.Sequential(torch.nn.Linear(2, 2)), np.ones((2, 2)))
    class Unused(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.extra = torch.nn.Linear(2, 2), torch.nn.Sigmoid()   # extra: never called

        def forward(self, x):
            return self.lin(x)

    unused = Unused()
    with pytest.raises(ValueError, match="were not used by its forward pass"):
        activation_derivatives(unused, np.ones((2, 2)))


# ------------------------------------------------------------------------------------------ checkers

def test_checkers_accept_their_examples(capsys):
    for check, example in [(backprop.check_neuron_gradients, backprop._example_grad),
                           (backprop.check_fast_start, backprop._example_fast_start),
                           (backprop.check_sigmoid_chain_bound, backprop._example_bound)]:
        assert check(example).passed
    assert backprop.check_predicted_sigma_prime(0.25).passed


def test_predicted_sigma_prime_reference_is_the_measured_mean():
    X = aecourse.load_digits().X_train
    model = aecourse.MLPAutoencoder(64, 2, hidden=(128, 64, 32), activation="sigmoid", out_activation="sigmoid",
                                    init="normal", init_std=0.01, seed=0)
    hidden = list(activation_derivatives(model, X).values())[:-1]      # the output layer is not hidden
    backprop.check_predicted_sigma_prime(float(np.mean(hidden)))


@pytest.mark.parametrize("wrong, match", [
    (0.5, "value sigma\\(0\\), not its slope"),
    (1.0, "tanh's"),
    (0.25 ** 7, "product of the seven slopes"),
    (0.01, "saturated units"),
    (0.3, "outside the range"),
    (0.18, "too low"),
    (None, "is None"),
])
def test_predicted_sigma_prime_checker_rejects(wrong, match):
    with pytest.raises(ExerciseFailed, match=match):
        backprop.check_predicted_sigma_prime(wrong)


@pytest.mark.parametrize("wrong, match", [
    (lambda w, b, x, y: ((expit(w * x + b) - y) * x, expit(w * x + b) - y), "cross-entropy gradient"),
    (lambda w, b, x, y: (-backprop._example_grad(w, b, x, y)[0], -backprop._example_grad(w, b, x, y)[1]),
     "sign is flipped"),
    (lambda w, b, x, y: (backprop._example_grad(w, b, x, y)[1],) * 2, "extra factor x"),
    (lambda w, b, x, y: backprop._example_grad(w, b, x, 0.0), "dropped the target y"),
])
def test_gradient_checker_names_known_mistakes(wrong, match):
    with pytest.raises(ExerciseFailed, match=match):
        backprop.check_neuron_gradients(wrong)


@pytest.mark.parametrize("wrong, match", [
    (lambda w0: 2.0 - w0 + 1.0, "saturated"),              # z0 = 3
    (lambda w0: -w0, "already close to the"),               # z0 = 0: a0 = 0.5
    (lambda w0: float("nan"), "not a usable finite number"),
])
def test_fast_start_checker_rejects(wrong, match):
    with pytest.raises(ExerciseFailed, match=match):
        backprop.check_fast_start(wrong)


@pytest.mark.parametrize("wrong, match", [
    (lambda n: 0.5 ** n, "not its slope"),
    (lambda n: 0.25 * n, "multiply"),
    (lambda n: 0.25 ** (n - 1), "n layers give n factors"),
])
def test_bound_checker_names_known_mistakes(wrong, match):
    with pytest.raises(ExerciseFailed, match=match):
        backprop.check_sigmoid_chain_bound(wrong)


def test_bound_value():
    assert backprop._reference_bound(5) == pytest.approx(math.pow(0.25, 5))
