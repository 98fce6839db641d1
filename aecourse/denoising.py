"""Denoising: the Bayes-optimal denoiser, the denoising vector field, baselines and their PSNR.

A denoising autoencoder (DAE) sees a corrupted input x~ and is trained to output the CLEAN x
(Vincent et al. 2008, 2010). This module holds what is needed to judge one:

- :func:`make_circle`, a toy data set: points on a circle, a 1-d manifold in the plane;
- :func:`ideal_denoiser`, the best possible denoiser for Gaussian noise on an empirical distribution (the
  posterior mean E[x | x~], which by Tweedie's formula is x~ + sigma^2 grad log p_sigma(x~));
- :func:`denoising_field`, the vector field r(x) - x of any denoiser on a grid (Alain & Bengio 2014);
- :func:`fit_denoiser`, a one-hidden-layer network trained with :func:`aecourse.train` (clean or denoising);
- :class:`WienerDenoiser`, the best LINEAR denoiser for Gaussian noise (the Wiener filter, the linear
  minimum-mean-squared-error estimator), which is the posterior mean when the data are Gaussian;
- :func:`best_pca_denoiser`, :func:`compare_denoisers`: PSNR of the baselines against the clean images;
- :func:`denoising_rows`, :func:`plot_denoising`: clean / noisy / denoised images, the noisy row being the
  corrupted input itself, never the clean one.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from ._validation import as_2d_float, check_fitted, check_int, check_n_features, check_positive
from .data import corrupt
from .decomposition import PCA
from .metrics import psnr
from .models import mlp
from .train import History, reconstruction_loss, train

__all__ = [
    "make_circle", "ideal_denoiser", "denoising_field", "fit_denoiser", "model_denoiser",
    "WienerDenoiser", "best_pca_denoiser", "DenoisingComparison", "compare_denoisers", "denoising_rows", "plot_denoising",
]

Denoiser = Callable[[np.ndarray], np.ndarray]


def make_circle(n_samples: int = 1000, radius: float = 1.0, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """Points on a circle of ``radius`` around the origin: X (n_samples, 2) float32.

    Angles are uniform; ``noise`` adds N(0, noise^2) to each coordinate (0: exactly on the circle). A circle
    is the simplest curved manifold: the projection onto it is ``radius * x / |x|``, known in closed form.
    """
    n_samples = check_int(n_samples, "n_samples", low=1)
    radius = check_positive(radius, "radius")
    noise = check_positive(noise, "noise", allow_zero=True)
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0.0, 2.0 * np.pi, n_samples)                    # (N,)
    X = radius * np.stack([np.cos(theta), np.sin(theta)], axis=1)        # (N, 2)
    X = X + noise * rng.standard_normal(X.shape)
    return X.astype(np.float32)


def ideal_denoiser(X_noisy, X_data, sigma: float) -> np.ndarray:
    """The posterior mean E[x | x~] when x is drawn uniformly from the rows of ``X_data`` and
    x~ = x + N(0, sigma^2 I): the denoiser with the smallest possible mean squared error.

    E[x | x~] = sum_i w_i x_i with w = softmax_i(-|x~ - x_i|^2 / (2 sigma^2)). By Tweedie's formula (Efron
    2011) this equals x~ + sigma^2 grad log p_sigma(x~), where p_sigma is the density of x~ (a Parzen
    window estimate with bandwidth sigma, Vincent 2011): the ideal r(x) - x is sigma^2 times the score.

    Parameters
    ----------
    X_noisy : (m, d) corrupted points.
    X_data : (N, d) the clean data (the empirical distribution).
    sigma : standard deviation of the Gaussian noise, > 0.

    Returns
    -------
    (m, d) float64 array of posterior means.
    """
    Xn = as_2d_float(X_noisy, "X_noisy")
    D = as_2d_float(X_data, "X_data")
    sigma = check_positive(sigma, "sigma")
    if Xn.shape[1] != D.shape[1]:
        raise ValueError(
            f"X_noisy has {Xn.shape[1]} features but X_data has {D.shape[1]}; both must be points in the same "
            "space (one row per point)."
        )
    # Squared distances without forming (m, N, d): |a|^2 - 2 a.b + |b|^2, clipped at 0 against round-off.
    d2 = (Xn ** 2).sum(1)[:, None] - 2.0 * Xn @ D.T + (D ** 2).sum(1)[None, :]    # (m, N)
    logits = -np.maximum(d2, 0.0) / (2.0 * sigma ** 2)                          # (m, N)
    logits -= logits.max(axis=1, keepdims=True)  # log-sum-exp shift: far points would underflow to 0/0
    w = np.exp(logits)
    w /= w.sum(axis=1, keepdims=True)                                           # (m, N), rows sum to 1
    return w @ D                                                                # (m, d)


def denoising_field(denoiser: Denoiser, xlim=(-1.5, 1.5), ylim=(-1.5, 1.5), n: int = 21):
    """The vector field r(x) - x of a 2-d ``denoiser`` on an n x n grid.

    Returns ``(grid, field)``: grid (n*n, 2) the points x, field (n*n, 2) the displacements r(x) - x. For a
    denoising autoencoder trained with small Gaussian noise, r(x) - x is about sigma^2 grad log p(x): it
    points towards the data (Alain & Bengio 2014). ``plt.quiver(*grid.T, *field.T)`` draws it.
    """
    if not callable(denoiser):
        raise TypeError(
            f"denoiser of type {type(denoiser).__name__} is not callable; pass a function from (m, 2) arrays "
            "to (m, 2) arrays, e.g. model_denoiser(model)."
        )
    n = check_int(n, "n", low=2)
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        if len(lim) != 2 or not lim[0] < lim[1]:
            raise ValueError(f"{name}={lim!r} must be a pair (low, high) with low < high, e.g. (-1.5, 1.5).")
    xs, ys = np.linspace(*xlim, n), np.linspace(*ylim, n)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)                        # (n*n, 2)
    out = np.asarray(denoiser(grid.astype(np.float32)), dtype=np.float64)
    if out.shape != grid.shape:
        raise ValueError(f"the denoiser returned shape {out.shape} for input shape {grid.shape}; it must "
                         "return one 2-d point per input point.")
    return grid, out - grid


def fit_denoiser(X, corrupt=None, *, width: int = 256, epochs: int = 150, batch_size: int | None = 128,
                 lr: float = 3e-3, activation: str = "relu", out_activation: str | None = "sigmoid",
                 loss_fn: Callable = reconstruction_loss, seed: int = 0, device=None) -> tuple[nn.Module, History]:
    """Train an n-width-n network to reconstruct the clean rows of ``X`` from (optionally corrupted) inputs.

    ``corrupt=None`` trains a plain autoencoder (clean -> clean); ``corrupt=("gaussian", 0.2)`` a denoising
    autoencoder: :func:`aecourse.train` corrupts each input batch afresh and keeps the clean batch as the
    target. ``width`` may exceed n: with noise, an overcomplete layer no longer learns the identity
    (Vincent et al. 2008). ``out_activation="sigmoid"`` keeps outputs in [0, 1] like the pixels; use None for
    unbounded data. Returns ``(model, history)``; the model is in eval mode on ``device``.
    """
    X = as_2d_float(X, dtype=np.float32)
    width = check_int(width, "width", low=1)
    n = X.shape[1]
    # Seed the weights without disturbing the caller's global generator.
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)  # the CPU stream only, where the layers are built
        model = mlp((n, width, n), activation, out_activation)               # x (B, n) -> x_hat (B, n)
    if device is None:
        from .utils import get_device
        device = get_device()
    model = model.to(device)
    history = train(model, X, epochs=epochs, batch_size=batch_size, lr=lr, loss_fn=loss_fn,  # Adam(lr)
                    corrupt=corrupt, seed=seed, device=device)
    return model.eval(), history


def model_denoiser(model: nn.Module) -> Denoiser:
    """Wrap a trained torch model as a numpy function (m, n) -> (m, n), run without gradients."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model of type {type(model).__name__} is not a torch.nn.Module; pass the trained network.")

    def denoise(X) -> np.ndarray:
        p = next(model.parameters(), None)
        dev = p.device if p is not None else torch.device("cpu")
        with torch.no_grad():
            return model(torch.as_tensor(np.asarray(X), dtype=torch.float32, device=dev)).cpu().numpy()

    return denoise


class WienerDenoiser:
    """The Wiener filter: the linear denoiser with the smallest mean squared error for x~ = x + N(0, sigma^2 I).

    Fitted on CLEAN data with mean mu and covariance S, it maps a noisy x~ to

        r(x~) = mu + S (S + sigma^2 I)^-1 (x~ - mu).

    Among all affine maps this minimises E|r(x~) - x|^2 (it is linear regression of x on x~ with infinitely
    many noise draws; Wiener 1949). In the eigenbasis of S, S = V diag(l) V^T, it keeps every direction and
    shrinks the centred coordinate along direction i by ``l_i / (l_i + sigma^2)``: strong directions pass
    almost untouched, weak ones are pulled towards the mean. PCA instead keeps p directions whole and
    drops the rest. If x is Gaussian, N(mu, S), the filter IS the posterior mean E[x | x~], the best
    denoiser of all (by Tweedie's formula: x~ + sigma^2 grad log N(x~; mu, S + sigma^2 I)).

    Parameters
    ----------
    sigma : standard deviation of the Gaussian noise the filter is built for, > 0.

    Attributes (after :meth:`fit`)
    ------------------------------
    mean_ : (n,) the mean mu of the clean training data.
    eigenvalues_ : (n,) the eigenvalues l_i of S (the covariance with 1/N, that of the empirical
        distribution), largest first, clipped at 0 against round-off.
    components_ : (n, n) the matching unit eigenvectors, one per ROW (PCA's convention).
    shrinkage_ : (n,) the factors l_i / (l_i + sigma^2), in [0, 1).
    expected_mse_ : the mean squared error per feature that the filter achieves on data with mean mu and
        covariance S: mean_i l_i sigma^2 / (l_i + sigma^2).
    """

    def __init__(self, sigma: float = 0.2):
        self.sigma = check_positive(sigma, "sigma")

    def fit(self, X, y=None) -> "WienerDenoiser":
        """Estimate mu and S from the CLEAN rows of X (N, n); no noise is drawn."""
        X = as_2d_float(X)
        self.mean_ = X.mean(axis=0)                                            # (n,)
        Xc = X - self.mean_                                                    # centred: S is a covariance
        S = Xc.T @ Xc / len(X)                                                 # (n, n)
        lam, V = np.linalg.eigh(S)                                             # ascending
        self.eigenvalues_ = np.maximum(lam[::-1], 0.0)                         # (n,), largest first
        self.components_ = V[:, ::-1].T.copy()                                 # (n, n), rows
        s2 = self.sigma ** 2
        self.shrinkage_ = self.eigenvalues_ / (self.eigenvalues_ + s2)        # (n,)
        self.expected_mse_ = float(np.mean(self.eigenvalues_ * s2 / (self.eigenvalues_ + s2)))
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X_noisy) -> np.ndarray:
        """Denoise the rows of X_noisy (m, n): mu + V diag(shrinkage) V^T (x~ - mu), float64."""
        check_fitted(self, "shrinkage_")
        Xn = as_2d_float(X_noisy, "X_noisy")
        check_n_features(Xn, self.n_features_in_, "WienerDenoiser", "X_noisy")
        Z = (Xn - self.mean_) @ self.components_.T                             # (m, n) PCA coordinates
        return self.mean_ + (Z * self.shrinkage_) @ self.components_           # (m, n)

    def fit_transform(self, X, X_noisy=None) -> np.ndarray:
        """Fit on the clean X, then denoise X_noisy (X itself when X_noisy is None)."""
        return self.fit(X).transform(X if X_noisy is None else X_noisy)

    def __call__(self, X_noisy) -> np.ndarray:
        """The fitted filter as a denoiser function, e.g. for :func:`compare_denoisers`."""
        return self.transform(X_noisy)

    def __repr__(self) -> str:
        return f"WienerDenoiser(sigma={self.sigma!r})"


def _check_kind_level(kind: str, level: float) -> None:
    corrupt(np.zeros((1, 1), np.float32), kind, level)  # raises the library's clear message if invalid


def best_pca_denoiser(X_train, kind: str = "gaussian", level: float = 0.2, *, seed: int = 1,
                      max_components: int | None = None) -> PCA:
    """The PCA projection that denoises best, with the number of components chosen on TRAINING data.

    PCA is fitted on the clean training images; each p in 1..max_components is scored by the MSE between
    the clean training images and the projection of a corrupted copy (noise drawn with ``seed``). Few
    components discard the noise and the detail alike, many keep both: the best p depends on the noise
    level. Choosing p on the test images would flatter the baseline. Returns the fitted ``PCA(p)``.
    """
    X = as_2d_float(X_train)
    _check_kind_level(kind, level)
    top = min(X.shape) if max_components is None else check_int(
        max_components, "max_components", low=1, high=min(X.shape),
        hint=f"at most min(n_samples, n_features)={min(X.shape)}")
    full = PCA(top).fit(X)
    Xn = corrupt(X, kind, level, seed=seed)
    Z = (Xn - full.mean_) @ full.components_.T                                 # (N, top) codes of noisy data
    errors = []
    rec = np.broadcast_to(full.mean_, X.shape).copy()                          # p = 0: the mean image
    for p in range(top):
        rec += Z[:, p:p + 1] * full.components_[p]                             # add one component at a time
        errors.append(float(np.mean((rec - X) ** 2)))
    return PCA(int(np.argmin(errors)) + 1).fit(X)


class DenoisingComparison(NamedTuple):
    """What :func:`compare_denoisers` returns.

    psnr : method name -> PSNR in dB against the clean test images (higher is better).
    X_noisy : (N, n) the corrupted test images every method was fed.
    pca_components : the number of components of the PCA baseline (chosen on training data).
    pca : that fitted :class:`~aecourse.PCA`, to reuse (e.g. ``pca.reconstruct`` as a denoiser in a figure).
    """

    psnr: dict
    X_noisy: np.ndarray
    pca_components: int
    pca: PCA


def compare_denoisers(X_train, X_test, kind: str = "gaussian", level: float = 0.2, *,
                      denoisers: Mapping[str, Denoiser] | None = None, seed: int = 1) -> DenoisingComparison:
    """PSNR of the baselines and of the given denoisers on the corrupted held-out images.

    The test images are corrupted once (``corrupt(X_test, kind, level, seed)``) and every method gets the
    same corrupted images; each output is compared with the CLEAN test images:

    - ``"noisy input"``: no denoising at all;
    - ``"clipping"``: clip to [0, 1], the pixel range (a no-op for masking and salt-and-pepper);
    - ``"PCA"`` and ``"PCA + clipping"``: the best PCA projection (:func:`best_pca_denoiser`, p chosen on
      the training images with noise seed ``seed + 1``);
    - ``"Wiener"`` and ``"Wiener + clipping"``, for Gaussian noise only: the best linear denoiser
      (:class:`WienerDenoiser` fitted on the clean training images with sigma = ``level``);
    - then each entry of ``denoisers`` (name -> function from noisy to denoised images), e.g.
      ``{"clean-trained AE": model_denoiser(ae), "DAE": model_denoiser(dae)}``.

    PSNR is 10 log10(1 / MSE) with the MSE over every pixel of every test image (:func:`aecourse.psnr`).
    """
    X_train = as_2d_float(X_train, "X_train", dtype=np.float32)
    X_test = as_2d_float(X_test, "X_test", dtype=np.float32)
    if X_train.shape[1] != X_test.shape[1]:
        raise ValueError(f"X_train has {X_train.shape[1]} features but X_test has {X_test.shape[1]}; "
                         "both must hold the same kind of images.")
    _check_kind_level(kind, level)
    X_noisy = corrupt(X_test, kind, level, seed=seed)                         # (N, n), fed to every method
    pca = best_pca_denoiser(X_train, kind, level, seed=seed + 1)
    X_pca = pca.reconstruct(X_noisy)
    scores = {
        "noisy input": psnr(X_test, X_noisy),
        "clipping": psnr(X_test, np.clip(X_noisy, 0.0, 1.0)),
        "PCA": psnr(X_test, X_pca),
        "PCA + clipping": psnr(X_test, np.clip(X_pca, 0.0, 1.0)),
    }
    if kind == "gaussian" and level > 0:
        X_wiener = WienerDenoiser(level).fit(X_train).transform(X_noisy)
        scores["Wiener"] = psnr(X_test, X_wiener)
        scores["Wiener + clipping"] = psnr(X_test, np.clip(X_wiener, 0.0, 1.0))
    for name, f in (denoisers or {}).items():
        if not callable(f):
            raise TypeError(f"denoisers[{name!r}] of type {type(f).__name__} is not callable; pass functions "
                            "from noisy images to denoised images, e.g. model_denoiser(model).")
        out = np.asarray(f(X_noisy.copy()))  # a copy: a denoiser that works in place cannot spoil the others
        scores[name] = psnr(X_test, out)
    return DenoisingComparison(scores, X_noisy, pca.n_components_, pca)


def denoising_rows(X, kind: str = "gaussian", level: float = 0.2, denoisers: Mapping[str, Denoiser] | None = None,
                   *, seed: int = 0) -> dict:
    """Rows of images for a figure: ``"clean"``, ``"noisy"`` (the corrupted copy of X) and one row per
    denoiser, each fed the noisy row.

    The noisy row is made HERE from X, and the denoisers get exactly that array: a figure built from these
    rows cannot show the clean image under the label "noisy", nor denoise the clean input by mistake.
    """
    X = as_2d_float(X, dtype=np.float32)
    _check_kind_level(kind, level)
    X_noisy = corrupt(X, kind, level, seed=seed)                              # (N, n)
    rows = {"clean": X, "noisy": X_noisy}
    for name, f in (denoisers or {}).items():
        if name in rows:
            raise ValueError(f"denoiser name {name!r} clashes with a built-in row; choose another name.")
        rows[name] = np.asarray(f(X_noisy.copy()))
    return rows


def plot_denoising(X, kind: str = "gaussian", level: float = 0.2, denoisers: Mapping[str, Denoiser] | None = None,
                   *, n: int = 10, seed: int = 0, image_shape=(8, 8), ax=None):
    """Clean, noisy and denoised images, one row each (see :func:`denoising_rows`); returns the Axes.

    The first ``n`` rows of X are shown. Out-of-range pixels of the noisy row are displayed saturated
    (black or white), not clipped in the data.
    """
    from .plotting import plot_reconstructions

    n = check_int(n, "n", low=1)
    X = as_2d_float(X, dtype=np.float32)[:n]
    rows = denoising_rows(X, kind, level, denoisers, seed=seed)
    labels = {"noisy": f"noisy ({kind.replace('_', ' & ')} {level:g})"}
    ax = plot_reconstructions({labels.get(k, k): v for k, v in rows.items()}, image_shape=image_shape, n=n, ax=ax)
    return ax
