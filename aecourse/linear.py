"""Linear autoencoders: the network whose optimum is PCA's subspace, and the closed forms it is judged by.

Holds :class:`LinearAutoencoder` (a reducer with PCA's verbs, trained by full-batch L-BFGS in float64), its
``nn.Module`` :class:`LinearAE`, and the yardsticks from linear algebra: :func:`covariance_eigenvalues`,
:func:`eckart_young_bound` and :func:`eigenvalues_from_decoder`.

The facts behind it:

- Baldi & Hornik (1989): with squared error, at every critical point of a linear autoencoder x -> B A x
  (full-rank weights, invertible covariance C) B A is an orthogonal projector that commutes with C, hence
  the projector onto p eigenvectors of C. Every minimum projects onto the top-p principal subspace; A and B
  themselves are fixed only up to an invertible p x p matrix G (A -> G^-1 A, B -> B G); every other
  critical point is a saddle.
- Eckart & Young (1936): no rank-p reconstruction does better than the sum of the discarded covariance
  eigenvalues.
- Kunin, Bloom, Goeva & Seed (2019): with L2 weight decay lambda > 0 every critical point is symmetric
  (A = B^T); for lambda below the p-th eigenvalue the minimum keeps all p directions, with the left singular
  vectors of B on the principal axes and squared singular values 1 - lambda / l_i. The rotation of the code
  (B -> B O, O orthogonal) is still free: weight decay fixes the singular vectors, not the columns.
"""
from __future__ import annotations

import math
import time
import warnings
from typing import Callable

import numpy as np
import torch
from torch import nn

from ._validation import as_2d_float, check_choice, check_fitted, check_int, check_n_features, check_positive
from .decomposition import _Reducer
from .train import History

__all__ = ["LinearAE", "LinearAutoencoder", "covariance_eigenvalues", "eckart_young_bound",
           "eigenvalues_from_decoder", "squared_error_from_covariance", "SOLVERS"]

SOLVERS = ("lbfgs", "adam")


def covariance_eigenvalues(X) -> np.ndarray:
    """Eigenvalues l_1 >= ... >= l_n of the covariance of ``X`` (n_samples, n_features), normalised by 1/N.

    The 1/N normalisation (not sklearn's 1/(N-1)) is the one of a mean squared error: the mean squared
    distance of the centred samples to a p-dimensional subspace is sum_{i>p} l_i at best.
    Returns an array of length n_features (zeros beyond the rank).
    """
    X = as_2d_float(X)
    n_samples, n_features = X.shape
    s = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)      # (min(N, n),)
    ev = np.zeros(n_features)
    ev[: len(s)] = s ** 2 / n_samples
    return ev


def eckart_young_bound(X, n_components: int) -> float:
    """The smallest mean squared error per entry that any rank-p reconstruction of ``X`` can reach.

    Eckart & Young (1936): the best rank-p approximation of the centred data is its truncated SVD, with
    squared error sum_{i>p} l_i per sample; divided by n_features that is the per-entry MSE of
    ``aecourse.mse``. PCA with ``n_components=p`` attains it on the data it was fitted on.
    """
    X = as_2d_float(X)
    p = check_int(n_components, "n_components", low=0, high=X.shape[1],
                  hint=f"X has {X.shape[1]} features, so 0 <= p <= {X.shape[1]}")
    ev = covariance_eigenvalues(X)
    return float(ev[p:].sum() / X.shape[1])


def eigenvalues_from_decoder(singular_values, weight_decay: float) -> np.ndarray:
    """Covariance eigenvalues read off a weight-decayed linear autoencoder's decoder (Kunin et al. 2019).

    At the optimum of (1/N) sum ||x - B A x||^2 + lambda (||A||^2 + ||B||^2) the decoder's singular values
    satisfy s_i^2 = 1 - lambda / l_i, so l_i = lambda / (1 - s_i^2). Needs 0 < s_i < 1 and lambda > 0.
    """
    s = np.asarray(singular_values, dtype=np.float64)
    lam = check_positive(weight_decay, "weight_decay")
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"singular_values has shape {s.shape}; pass the 1-D array of the decoder's "
                         "singular values, e.g. np.linalg.svd(decoder_weight, compute_uv=False).")
    if not ((s > 0) & (s < 1)).all():
        raise ValueError(
            f"singular_values must lie strictly between 0 and 1 at a weight-decayed optimum, but got "
            f"{np.array2string(s, precision=4)}; a value >= 1 means the model was trained without weight decay "
            "(or has not converged), a 0 means weight_decay exceeded that direction's eigenvalue."
        )
    return lam / (1.0 - s ** 2)


def squared_error_from_covariance(W_enc: torch.Tensor, W_dec: torch.Tensor, C: torch.Tensor) -> torch.Tensor:
    """(1/N) sum_i ||x_i - W_dec W_enc x_i||^2 computed from C = X^T X / N alone (X centred or not).

    With M = W_dec W_enc: tr((I - M) C (I - M)^T) = tr(C) - 2 tr(M C) + tr(M C M^T), evaluated in O(p n^2)
    without forming M. W_enc (p, n), W_dec (n, p), C (n, n); differentiable in the weights.
    """
    A = W_enc @ C                                                                        # (p, n)
    return torch.trace(C) - 2 * (A * W_dec.T).sum() + ((W_dec.T @ W_dec) * (A @ W_enc.T)).sum()


class LinearAE(nn.Module):
    """x -> W_dec (W_enc x): a linear autoencoder without biases, for centred data.

    Parameters
    ----------
    n_features, n_components : n and p; ``encoder_weight`` is (p, n), the decoder weight (n, p).
    tied : if True the decoder is the encoder's transpose (one weight matrix).
    seed : seeds the initial weights, N(0, 1/n) for encoder and decoder alike.
    dtype : float64 by default, see :class:`LinearAutoencoder`.

    No biases: for squared error and fixed weights the best decoder bias is b = mean - W_dec W_enc mean
    (set the gradient in b to zero), which turns x_hat into mean + W_dec W_enc (x - mean). So
    :class:`LinearAutoencoder` subtracts the mean in closed form, as PCA does, and trains on centred data.
    """

    def __init__(self, n_features: int, n_components: int, tied: bool = False, seed: int | None = 0,
                 dtype: torch.dtype = torch.float64):
        super().__init__()
        n = check_int(n_features, "n_features", low=1)
        p = check_int(n_components, "n_components", low=1)
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        # Balanced start: encoder and decoder entries both N(0, 1/n). Gradient flow conserves
        # W_enc W_enc^T - W_dec^T W_dec (Du, Hu & Lee 2018), so an unbalanced start (e.g. nn.Linear's
        # fan-in rule, which makes the decoder sqrt(n/p) times larger) stays unbalanced and trains slower.
        std = 1.0 / math.sqrt(n)
        self.encoder_weight = nn.Parameter(torch.randn((p, n), generator=g, dtype=dtype) * std)   # (p, n)
        self.decoder_weight_untied = (None if tied else                                           # (n, p)
                                      nn.Parameter(torch.randn((n, p), generator=g, dtype=dtype) * std))
        self.tied = bool(tied)

    @property
    def decoder_weight(self) -> torch.Tensor:
        """(n, p): the decoder's matrix (the encoder's transpose when tied)."""
        return self.encoder_weight.T if self.tied else self.decoder_weight_untied

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.encoder_weight.T            # (B, n) -> (B, p)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return z @ self.decoder_weight.T            # (B, p) -> (B, n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def penalty(self) -> torch.Tensor:
        """||W_enc||^2 + ||W_dec||^2 (for tied weights, 2 ||W||^2: the same objective as untied at A = B^T)."""
        return self.encoder_weight.pow(2).sum() + self.decoder_weight.pow(2).sum()


class LinearAutoencoder(_Reducer):
    """A linear autoencoder with PCA's verbs, trained to convergence by full-batch L-BFGS in float64.

    It minimises (1/N) sum_i ||x_i - mean - W_dec W_enc (x_i - mean)||^2 + weight_decay (||W_enc||^2 +
    ||W_dec||^2) over the training rows. Without weight decay the optimum spans PCA's subspace but its
    weights are any basis of it (Baldi & Hornik 1989); with weight decay the optimum is symmetric and its
    decoder's left singular vectors are PCA's axes (Kunin et al. 2019), see :meth:`recover_pca`.

    Why these defaults: the loss is nearly flat along rotations of the subspace (a rotation by theta from
    axis p towards axis p+1 costs only (l_p - l_{p+1}) sin^2 theta), so first-order methods reach a low loss
    long before the right subspace. L-BFGS (Liu & Nocedal 1989) keeps the last 20 pairs (step, change of
    the full-batch gradient over that step), estimates the inverse curvature from them and takes long
    steps along those flat directions; float64 keeps the tiny loss
    differences that steer the subspace above rounding error; stopping on the gradient (``tol``), not on the
    change of the loss, avoids stopping in the flat region. The mean is subtracted in closed form and the
    start is balanced (see :class:`LinearAE`), because learning the mean through a bias and an unbalanced
    start both slow training further. Each step evaluates the loss from the covariance matrix, so its cost
    does not grow with the number of samples.

    Parameters
    ----------
    n_components : p, the code width (1 <= p <= n_features).
    tied : share one matrix between encoder and decoder (decoder = encoder^T).
    weight_decay : lambda >= 0, the L2 penalty above; keep it below the p-th eigenvalue or a direction dies.
    solver : ``"lbfgs"`` (default) or ``"adam"`` (full-batch Adam, for comparison).
    max_iter : maximum optimiser steps (default 1000 for L-BFGS, 3000 for Adam).
    lr : step size (default 1.0 for L-BFGS, whose line search scales it; 1e-2 for Adam).
    lr_decay : Adam only: the learning rate decays exponentially to ``lr * lr_decay`` at ``max_iter``
        (1.0 keeps it constant).
    tol : stop once every entry of the gradient of loss / total variance is below ``tol``.
    center : subtract the training mean first (as PCA does). ``False`` fits the best subspace through the
        origin instead, which is not PCA's unless the data are already centred.
    seed : seeds the initial weights; the same seed gives the same model.
    device : ``"cpu"``, ``"cuda"`` or ``None`` (CUDA when available).

    Attributes
    ----------
    encoder_weight_ : (p, n_features) the encoder W_enc; codes are (X - mean_) @ encoder_weight_.T.
    decoder_weight_ : (n_features, p) the decoder W_dec.
    components_ : (p, n_features) = decoder_weight_.T, playing the role of PCA's ``components_`` in
        ``inverse_transform`` (Z @ components_ + mean_); in general neither unit length nor orthogonal.
    singular_values_ : (p,) the decoder's singular values, descending.
    mean_ : (n_features,) the training mean (zeros when ``center=False``).
    model_ : the trained :class:`LinearAE` (float64, on ``device``).
    history_ : :class:`~aecourse.train.History`; ``loss[k]`` is the training MSE per entry after k steps.
    n_iter_, converged_ : steps taken and whether the gradient tolerance was met.
    n_components_, n_features_in_ : as for PCA.
    """

    def __init__(self, n_components: int = 2, *, tied: bool = False, weight_decay: float = 0.0,
                 solver: str = "lbfgs", max_iter: int | None = None, lr: float | None = None,
                 lr_decay: float = 1.0, tol: float = 1e-6, center: bool = True, seed: int = 0, device=None):
        self.n_components = n_components
        self.tied = tied
        self.weight_decay = weight_decay
        self.solver = solver
        self.max_iter = max_iter
        self.lr = lr
        self.lr_decay = lr_decay
        self.tol = tol
        self.center = center
        self.seed = seed
        self.device = device

    def _params(self):
        keys = ("n_components", "tied", "weight_decay", "solver", "max_iter", "lr", "lr_decay", "tol",
                "center", "seed", "device")
        return {k: getattr(self, k) for k in keys}

    def fit(self, X, y=None, callback: Callable | None = None) -> "LinearAutoencoder":
        """Train on the rows of ``X``; return ``self``.

        ``callback(step, encoder_weight, decoder_weight)`` (numpy arrays (p, n) and (n, p)) is called at
        step 0 (the initial weights) and after every optimiser step, e.g. to save snapshots.
        """
        from .utils import get_device

        X = as_2d_float(X)
        n_samples, n_features = X.shape
        p = check_int(self.n_components, "n_components", low=1, high=n_features,
                      hint=f"X has {n_features} features; a code wider than the input cannot compress")
        check_choice(self.solver, "solver", SOLVERS)
        lam = check_positive(self.weight_decay, "weight_decay", allow_zero=True)
        max_iter = check_int(self.max_iter if self.max_iter is not None else
                             (1000 if self.solver == "lbfgs" else 3000), "max_iter", low=1)
        lr = check_positive(self.lr if self.lr is not None else (1.0 if self.solver == "lbfgs" else 1e-2), "lr")
        lr_decay = check_positive(self.lr_decay, "lr_decay")
        tol = check_positive(self.tol, "tol", allow_zero=True)
        if not isinstance(self.tied, bool) or not isinstance(self.center, bool):
            raise TypeError(f"tied={self.tied!r} and center={self.center!r} must both be True or False.")
        if callback is not None and not callable(callback):
            raise TypeError(f"callback={callback!r} must be a function (step, encoder_weight, decoder_weight).")
        seed = check_int(self.seed, "seed", low=0)
        device = get_device(self.device)

        mean = X.mean(axis=0) if self.center else np.zeros(n_features)
        x = torch.as_tensor(X - mean, dtype=torch.float64, device=device)               # (N, n)
        # With squared error a linear autoencoder sees the data only through their second moments:
        # (1/N) sum ||x - M x||^2 = tr(C) - 2 tr(M C) + tr(M C M^T), with M = W_dec W_enc and
        # C = X^T X / N. So training costs O(p n^2) per step whatever N is. (That alone does not make the
        # answer PCA's: the critical points do. There M is a projector that commutes with C, so it
        # projects onto eigenvectors of C; Baldi & Hornik 1989.) float64 matters here twice:
        # the three terms cancel more and more as p grows, and the loss differences that steer the
        # subspace are ~1e-5 of the loss (a 1 degree turn of the p=2 digits subspace costs 8e-6).
        C = x.T @ x / n_samples                                                          # (n, n)
        trace_c = float(torch.trace(C))          # total variance: the error of the zero map
        if not trace_c > 0:
            raise ValueError(
                f"X ({n_samples} x {n_features}) has no variance{' around its mean' if self.center else ''}: "
                "every row is the same, so there is no subspace to learn; pass at least two distinct rows."
            )
        if lam > 0:
            ev = np.linalg.eigvalsh(C.cpu().numpy())[::-1]
            if lam >= ev[p - 1]:
                warnings.warn(
                    f"weight_decay={lam:g} is not below the {p}-th eigenvalue {ev[p - 1]:.4g} of the data, so "
                    f"at least one code direction collapses to zero (Kunin et al. 2019); use weight_decay < "
                    f"{ev[p - 1]:.4g}.", UserWarning, stacklevel=2)
        model = LinearAE(n_features, p, tied=self.tied, seed=seed).to(device)
        params = list(model.parameters())

        def squared_error() -> torch.Tensor:
            return squared_error_from_covariance(model.encoder_weight, model.decoder_weight, C)

        def closure():
            opt.zero_grad(set_to_none=True)
            loss = squared_error() + lam * model.penalty() if lam > 0 else squared_error()
            # Divided by the total variance: the same minimiser, but a loss of order one whatever the
            # data's scale, so that L-BFGS's absolute thresholds (e.g. on curvature) and ``tol`` hold.
            loss = loss / trace_c
            loss.backward()
            return loss

        if self.solver == "lbfgs":
            # One iteration per call, so that history and callbacks see every step; the memory of the
            # last history_size (step, gradient change) pairs lives in opt.state and carries over.
            opt = torch.optim.LBFGS(params, lr=lr, max_iter=1, max_eval=25, history_size=20,
                                    tolerance_grad=tol, tolerance_change=0.0,
                                    line_search_fn="strong_wolfe")
            sched = None
        else:
            opt = torch.optim.Adam(params, lr=lr)
            sched = torch.optim.lr_scheduler.ExponentialLR(opt, lr_decay ** (1.0 / max_iter))

        def report(step):
            if callback is not None:
                callback(step, model.encoder_weight.detach().cpu().numpy().copy(),
                         model.decoder_weight.detach().cpu().numpy().copy())

        def mse_now() -> float:
            with torch.no_grad():
                return float(squared_error()) / n_features       # per entry, as aecourse.mse reports it

        history = History()
        start = time.perf_counter()
        # Every step works on n x n and p x n matrices: far too small for intra-op threads to pay off, and
        # on a busy machine threads waiting for each other made fits 10-100x slower. One thread while we fit.
        threads = torch.get_num_threads()
        if device.type == "cpu":
            torch.set_num_threads(1)
        try:
            converged, n_iter = self._run(opt, sched, closure, params, max_iter, tol, history, mse_now, report)
        finally:
            torch.set_num_threads(threads)
        history.seconds = time.perf_counter() - start

        self.model_ = model.eval()
        self.mean_ = mean
        self.history_ = history
        self.n_iter_ = n_iter
        self.converged_ = converged
        self.encoder_weight_ = model.encoder_weight.detach().cpu().numpy().copy()      # (p, n)
        self.decoder_weight_ = model.decoder_weight.detach().cpu().numpy().copy()      # (n, p)
        self.components_ = self.decoder_weight_.T.copy()                                # (p, n)
        self.singular_values_ = np.linalg.svd(self.decoder_weight_, compute_uv=False)
        self.n_components_ = p
        self.n_features_in_ = n_features
        return self

    def _run(self, opt, sched, closure, params, max_iter, tol, history, mse_now, report) -> tuple[bool, int]:
        """The optimisation loop: returns (converged, steps taken); records history and calls report.

        Its own few lines rather than ``aecourse.train``: L-BFGS needs a closure that re-evaluates the loss
        during its line search, and the loss here is computed from the covariance, not from batches.
        """
        history.loss.append(mse_now())
        report(0)
        converged, n_iter = False, 0
        for step in range(1, max_iter + 1):
            if self.solver == "lbfgs":
                before = opt.state[params[0]].get("n_iter", 0)
                opt.step(closure)
                if opt.state[params[0]].get("n_iter", 0) == before:   # gradient below tol: no step taken
                    converged = True
                    break
            else:
                opt.step(closure)
                sched.step()
                # The gradient of the point just left: a cheap convergence test without another pass.
                converged = max(float(q.grad.abs().max()) for q in params) <= tol
            n_iter = step
            history.loss.append(mse_now())
            report(step)
            if converged:
                break
        return converged, n_iter

    def transform(self, X) -> np.ndarray:
        """Codes (N, p) = (X - mean_) @ encoder_weight_.T."""
        check_fitted(self, "encoder_weight_")
        X = as_2d_float(X)
        check_n_features(X, self.n_features_in_, "LinearAutoencoder")
        return (X - self.mean_) @ self.encoder_weight_.T

    def inverse_transform(self, Z) -> np.ndarray:
        """Back to data space (N, n_features): Z @ components_ + mean_."""
        check_fitted(self, "encoder_weight_")
        return self._check_code(Z) @ self.components_ + self.mean_

    def recover_pca(self) -> tuple[np.ndarray, np.ndarray]:
        """PCA's axes and eigenvalues read off a weight-decayed model (Kunin et al. 2019).

        Returns ``(components, eigenvalues)``: the decoder's left singular vectors as rows (p, n_features),
        in decreasing order of singular value and with PCA's sign convention (largest |entry| positive),
        and l_i = weight_decay / (1 - s_i^2) (covariance eigenvalues, 1/N normalisation).

        Without weight decay the decoder is any basis of the subspace (Baldi & Hornik 1989): its singular
        vectors are not the axes, so this raises.
        """
        check_fitted(self, "decoder_weight_")
        if self.weight_decay == 0:
            raise ValueError(
                "weight_decay=0: an unregularised linear autoencoder determines only PCA's subspace, not its "
                "axes (its weights are fixed up to an invertible p x p matrix); refit with weight_decay > 0, "
                "e.g. LinearAutoencoder(p, weight_decay=0.01), or use PCA."
            )
        U, S, _ = np.linalg.svd(self.decoder_weight_, full_matrices=False)           # U (n, p)
        axes = U.T                                                                      # (p, n)
        signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
        signs[signs == 0] = 1.0
        return axes * signs[:, None], eigenvalues_from_decoder(S, self.weight_decay)
