"""Checkers on the basics: reconstruction error, the identity trap, counting parameters."""
from __future__ import annotations

import numpy as np

from ._core import _call, _to_numpy, check_function, check_value, checker, failed, passed

__all__ = ["check_reconstruction_mse", "check_identity_weights", "check_parameter_count"]


def _reference_mse(X, X_hat):
    return float(np.mean((np.asarray(X, float) - np.asarray(X_hat, float)) ** 2))


def _mse_cases():
    rng = np.random.default_rng(0)
    X = rng.random((5, 4))
    return [(X, X + 0.1), (X, rng.random((5, 4))), (rng.random((3, 64)), rng.random((3, 64)))]


def _example_mse(X, X_hat):
    return float(((X - X_hat) ** 2).mean())


@checker("ex-recon-mse", example=lambda: _example_mse)
def check_reconstruction_mse(fn):
    """``fn(X, X_hat)`` must return the mean squared error over every entry, as one number."""
    return check_function(
        "ex-recon-mse", fn, reference=_reference_mse, cases=_mse_cases(), expect="float",
        mistakes=[
            (lambda X, Xh: float(((X - Xh) ** 2).sum(axis=1).mean()),
             "you summed over the features of each sample, then averaged over samples; average over "
             "every entry (per pixel), so the number does not depend on the image size."),
            (lambda X, Xh: float(np.sqrt(((X - Xh) ** 2).mean())),
             "that is the root mean squared error; leave out the square root."),
            (lambda X, Xh: float(np.abs(X - Xh).mean()),
             "that is the mean absolute error; square the differences instead."),
            (lambda X, Xh: float(((X - Xh) ** 2).sum()),
             "that is the total squared error; divide by the number of entries (X.size)."),
        ],
        hint="square the differences X - X_hat, then take the mean over all entries.",
    )


def _example_identity(n, p):
    W_enc = np.zeros((p, n))
    W_enc[:n, :n] = np.eye(n)
    return W_enc, W_enc.T.copy()


@checker("ex-identity-weights", example=lambda: _example_identity)
def check_identity_weights(fn):
    """``fn(n, p)`` with p >= n must return (W_enc (p, n), W_dec (n, p)) with W_dec @ W_enc = I_n."""
    label = "ex-identity-weights"
    rng = np.random.default_rng(1)
    for n, p in [(3, 3), (4, 6), (8, 10)]:
        case = f"n={n}, p={p}"
        out = _call(label, fn, (n, p), case)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            failed(label, f"expected a pair (W_enc, W_dec), got {type(out).__name__} (on {case}).",
                   "return W_enc, W_dec")
        W_enc = _to_numpy(label, out[0], "array", case)
        W_dec = _to_numpy(label, out[1], "array", case)
        if W_enc.shape != (p, n) or W_dec.shape != (n, p):
            swapped = W_enc.shape == (n, p) and W_dec.shape == (p, n)
            failed(label, f"expected W_enc of shape {(p, n)} and W_dec of shape {(n, p)}, got "
                          f"{W_enc.shape} and {W_dec.shape} (on {case}).",
                   "you returned them in the wrong order or transposed: the encoder maps R^n to R^p, so "
                   "z = W_enc @ x needs p rows and n columns." if swapped else
                   "the encoder is a p x n matrix (z = W_enc @ x), the decoder n x p.")
        if not (np.isfinite(W_enc).all() and np.isfinite(W_dec).all()):
            failed(label, f"your weights contain NaN or infinite values (on {case}).")
        x = rng.standard_normal((n, 5))
        x_hat = W_dec @ (W_enc @ x)
        err = float(np.abs(x_hat - x).max())
        if err > 1e-6:
            failed(label, f"the reconstruction W_dec @ W_enc @ x differs from x by up to {err:.3g} (on {case}).",
                   "with p >= n the code has room for every coordinate: copy x into the first n code units "
                   "and read them back, so that W_dec @ W_enc is the n x n identity.")
    return passed(label, "W_dec @ W_enc = I: this overcomplete linear autoencoder reconstructs every input "
                         "perfectly, and has learned nothing about the data.")


def _count_parameters(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


@checker("ex-param-count", kind="value", example=lambda: _count_parameters((64, 32, 2, 32, 64)))
def check_parameter_count(value):
    """The number of trainable parameters of a 64-32-2-32-64 fully connected autoencoder."""
    sizes = (64, 32, 2, 32, 64)
    right = _count_parameters(sizes)
    weights_only = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    encoder_only = _count_parameters(sizes[:3])
    return check_value(
        "ex-param-count", value, right, rtol=0, atol=0.5, what="the parameter count",
        mistakes=[(weights_only, "every nn.Linear(n_in, n_out) also has n_out biases."),
                  (encoder_only, "that is the encoder alone; the decoder has its own weights.")],
        hint="add n_in * n_out + n_out for each of the four Linear layers.",
    )
