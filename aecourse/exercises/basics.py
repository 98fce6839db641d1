"""Checkers on the basics: reconstruction error, the identity trap, counting parameters, the width of the code."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._core import _call, _to_numpy, check_function, check_value, checker, failed, passed

__all__ = ["check_reconstruction_mse", "check_identity_weights", "check_parameter_count", "check_code_width",
           "CODE_WIDTHS"]


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


# --- ex-code-width ---------------------------------------------------------------------------------------

CODE_WIDTHS = (1, 2, 5, 10)


@lru_cache(maxsize=1)
def _width_references() -> dict:
    """PCA's test MSE per p on the book's split, and the errors of the usual mistakes (computed once)."""
    from ..data import load_digits
    from ..decomposition import PCA
    from ..metrics import mse

    X_train, X_test, _, _ = load_digits(test_size=0.25, seed=0)
    right, fit_on_test, train_error = [], [], []
    for p in CODE_WIDTHS:
        pca = PCA(p).fit(X_train)
        right.append(mse(X_test, pca.reconstruct(X_test)))
        train_error.append(mse(X_train, pca.reconstruct(X_train)))
        fit_on_test.append(mse(X_test, PCA(p).fit(X_test).reconstruct(X_test)))
    mean_image = mse(X_test, np.broadcast_to(X_train.mean(axis=0), X_test.shape))
    return {"pca": np.array(right), "train": np.array(train_error), "fit_on_test": np.array(fit_on_test),
            "mean_image": mean_image}


@lru_cache(maxsize=1)
def _example_code_width_values() -> tuple[tuple[float, ...], tuple[float, ...]]:
    from ..data import load_digits
    from ..decomposition import PCA, Autoencoder
    from ..metrics import mse

    X_train, X_test, _, _ = load_digits(test_size=0.25, seed=0)
    pca = [mse(X_test, PCA(p).fit(X_train).reconstruct(X_test)) for p in CODE_WIDTHS]
    # A short run (the chapter's solution trains 30 epochs): any honest measurement must pass.
    ae = [mse(X_test, Autoencoder(p, hidden=(32,), epochs=5, seed=0, device="cpu").fit(X_train).reconstruct(X_test))
          for p in CODE_WIDTHS]
    return tuple(pca), tuple(ae)


def _example_code_width():
    pca, ae = _example_code_width_values()
    return list(pca), list(ae)


def _curve(label: str, values, name: str) -> np.ndarray:
    if values is None:
        failed(label, f"{name} is None.", "fill in one test error per code size p = 1, 2, 5, 10 (a list of floats).")
    arr = _to_numpy(label, values, "any", name)
    if arr.shape != (len(CODE_WIDTHS),):
        failed(label, f"{name} should hold one test error per code size p = {list(CODE_WIDTHS)}, i.e. "
                      f"{len(CODE_WIDTHS)} numbers, but it has shape {arr.shape}.",
               "build it as a list with one aecourse.mse(...) per p, in the order of widths.")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        failed(label, f"{name} contains NaN or infinite values.")
    return arr


@checker("ex-code-width", kind="value", example=_example_code_width)
def check_code_width(answer):
    """``answer = (pca_mse, ae_mse)``, two lists: test MSE per pixel of PCA and of the autoencoder for p = 1, 2, 5, 10.

    PCA's errors are compared with the reference; the autoencoder's, which depend on training, must be
    plausible: better than predicting the mean image, not implausibly low, and lower at p = 10 than at p = 1.
    """
    label = "ex-code-width"
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        failed(label, f"expected a pair (pca_mse, ae_mse), got {type(answer).__name__}"
                      f"{' of length ' + str(len(answer)) if isinstance(answer, (tuple, list)) else ''}.",
               "pass both lists together: basics.check_code_width((pca_mse, ae_mse)).")
    pca = _curve(label, answer[0], "the first list (PCA's test errors)")
    ae = _curve(label, answer[1], "the second list (the autoencoder's test errors)")
    ref = _width_references()
    if not np.allclose(pca, ref["pca"], rtol=1e-4, atol=1e-7):
        for wrong, why in [
            (ref["fit_on_test"], "you fitted PCA on the test images; fit it on X_train and only evaluate on X_test."),
            (ref["train"], "those are PCA's errors on the training images; reconstruct X_test."),
            (ref["pca"] * 64, "that is the squared error per image; aecourse.mse averages over every pixel."),
            (np.sqrt(ref["pca"]), "that is the root mean squared error; leave out the square root."),
        ]:
            if np.allclose(pca, wrong, rtol=1e-4, atol=1e-7):
                failed(label, "the first list is not PCA's test error per pixel.", why)
        k = int(np.argmax(np.abs(pca - ref["pca"])))
        failed(label, f"the first list differs from PCA's test error at p = {CODE_WIDTHS[k]}: expected "
                      f"{ref['pca'][k]:.6g}, got {pca[k]:.6g}.",
               "for each p: aecourse.PCA(p).fit(X_train), then aecourse.mse(X_test, pca.reconstruct(X_test)).")
    if np.allclose(ae, pca, rtol=1e-6, atol=0):
        failed(label, "the two lists are equal.", "the second list should hold the autoencoder's test errors.")
    if (ae > 1.0).any() and np.all((ae / 64 > 0.3 * ref["pca"]) & (ae / 64 < ref["mean_image"])):
        failed(label, "the autoencoder's errors look like squared errors per image, not per pixel.",
               "use aecourse.mse(X_test, ae.reconstruct(X_test)), the mean over every pixel.")
    worst = int(np.argmax(ae))
    if ae[worst] >= ref["mean_image"]:
        failed(label, f"at p = {CODE_WIDTHS[worst]} the autoencoder's test error {ae[worst]:.4g} is no better "
                      f"than predicting the mean training image ({ref['mean_image']:.4g}).",
               "check that you reconstruct X_test with the fitted model, and that it trained (epochs, lr).")
    low = ae < 0.3 * ref["pca"]
    if low.any():
        k = int(np.argmax(low))
        failed(label, f"at p = {CODE_WIDTHS[k]} the autoencoder's test error {ae[k]:.4g} is implausibly low "
                      f"(under a third of PCA's {ref['pca'][k]:.4g}).",
               "measure on X_test, and compare the reconstruction with the clean input it came from.")
    if not ae[-1] < ae[0]:
        failed(label, f"the autoencoder's error at p = 10 ({ae[-1]:.4g}) is not below its error at p = 1 "
                      f"({ae[0]:.4g}); a wider code should reconstruct better.",
               "keep the lists in the order of widths = [1, 2, 5, 10], and train every model the same way.")
    gap = pca - ae
    return passed(label, "PCA's errors are right and the autoencoder's are plausible. The gap PCA - AE: "
                         + ", ".join(f"p={p}: {g:+.4f}" for p, g in zip(CODE_WIDTHS, gap)) + ".")
