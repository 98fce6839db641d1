"""Dimension reducers with scikit-learn's verbs: :class:`PCA` (closed form) and :class:`Autoencoder` (trained).

Both follow sklearn's conventions: the constructor only stores its arguments, ``fit`` returns ``self``,
learned attributes end in ``_``, and ``transform`` / ``inverse_transform`` map between data and codes, so a
chapter swaps one for the other in one line.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ._validation import as_2d_float, check_choice, check_fitted, check_int, check_n_features, check_positive
from .models import MLPAutoencoder
from .optim import FlatAdam
from .train import train

__all__ = ["PCA", "Autoencoder"]


class _Reducer:
    def fit_transform(self, X) -> np.ndarray:
        return self.fit(X).transform(X)

    def reconstruct(self, X) -> np.ndarray:
        """``inverse_transform(transform(X))``: the reconstruction of X through the code."""
        return self.inverse_transform(self.transform(X))

    def _check_code(self, Z) -> np.ndarray:
        Z = as_2d_float(Z, "Z")
        if Z.shape[1] != self.n_components_:
            raise ValueError(
                f"Z has {Z.shape[1]} columns, but this {type(self).__name__} has n_components="
                f"{self.n_components_}; pass codes produced by transform()."
            )
        return Z

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"


class PCA(_Reducer):
    """Principal component analysis by the SVD of the centred data.

    Parameters
    ----------
    n_components : p, the number of principal directions kept (1 <= p <= min(n_samples, n_features)).

    Attributes
    ----------
    components_ : (p, n_features) orthonormal principal axes, by decreasing variance.
    mean_ : (n_features,) the training mean (PCA is about the centred data).
    explained_variance_ : (p,) variance along each axis, with sklearn's 1/(N-1) normalisation.
    explained_variance_ratio_ : (p,) fraction of the total variance along each axis.
    singular_values_ : (p,) singular values of the centred training data.
    n_features_in_, n_samples_ : the training shape.
    """

    def __init__(self, n_components: int = 2):
        self.n_components = n_components

    def _params(self):
        return {"n_components": self.n_components}

    def fit(self, X, y=None) -> "PCA":
        X = as_2d_float(X)
        n_samples, n_features = X.shape
        check_int(self.n_components, "n_components", low=1, high=min(n_samples, n_features),
                  hint=f"the upper bound is min(n_samples, n_features)=min({n_samples}, {n_features})")
        self.mean_ = X.mean(axis=0)
        Xc = X - self.mean_                                       # (N, n)
        U, S, Vt = np.linalg.svd(Xc, full_matrices=False)          # Vt (min(N, n), n)
        # Flip signs so the largest-magnitude entry of each axis is positive: deterministic output
        # (the same convention as sklearn's svd_flip with u_based_decision=False).
        signs = np.sign(Vt[np.arange(len(Vt)), np.abs(Vt).argmax(axis=1)])
        signs[signs == 0] = 1.0
        Vt *= signs[:, None]
        p = int(self.n_components)
        total_var = (S ** 2).sum() / max(n_samples - 1, 1)
        self.components_ = Vt[:p]
        self.singular_values_ = S[:p].copy()
        self.explained_variance_ = S[:p] ** 2 / max(n_samples - 1, 1)
        self.explained_variance_ratio_ = (
            self.explained_variance_ / total_var if total_var > 0 else np.zeros(p)
        )
        self.n_components_ = p
        self.n_features_in_ = n_features
        self.n_samples_ = n_samples
        return self

    def transform(self, X) -> np.ndarray:
        """Codes (N, p): coordinates of the centred data along the principal axes."""
        check_fitted(self, "components_")
        X = as_2d_float(X)
        check_n_features(X, self.n_features_in_, "PCA")
        return (X - self.mean_) @ self.components_.T

    def inverse_transform(self, Z) -> np.ndarray:
        """Back to data space (N, n_features): mean + Z @ components_."""
        check_fitted(self, "components_")
        return self._check_code(Z) @ self.components_ + self.mean_


class Autoencoder(_Reducer):
    """A fully connected autoencoder as a dimension reducer (sklearn verbs; see :class:`MLPAutoencoder`).

    Parameters
    ----------
    n_components : code width p.
    hidden : encoder hidden widths (mirrored in the decoder).
    activation, out_activation : hidden and output activations (names as in ``aecourse.models``).
    epochs, batch_size, lr, weight_decay : Adam training settings.
    corrupt : ``(kind, level)`` to train a denoising autoencoder (inputs corrupted, targets clean).
    seed : seeds the weights and the training; the same seed gives the same model.
    device : ``"cpu"``, ``"cuda"`` or ``None`` (CUDA when available).

    Attributes
    ----------
    model_ : the trained ``MLPAutoencoder``.
    history_ : the training :class:`~aecourse.train.History`.
    n_components_, n_features_in_ : as for PCA.
    """

    def __init__(self, n_components: int = 2, hidden: Sequence[int] = (32,), activation: str = "relu",
                 out_activation: str | None = None, epochs: int = 150, batch_size: int | None = 64,
                 lr: float = 3e-3, weight_decay: float = 0.0, corrupt=None, seed: int = 0, device=None):
        self.n_components = n_components
        self.hidden = hidden
        self.activation = activation
        self.out_activation = out_activation
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.corrupt = corrupt
        self.seed = seed
        self.device = device

    def _params(self):
        keys = ("n_components", "hidden", "activation", "out_activation", "epochs", "batch_size", "lr",
                "weight_decay", "corrupt", "seed", "device")
        return {k: getattr(self, k) for k in keys}

    def fit(self, X, y=None, X_val=None) -> "Autoencoder":
        from .utils import get_device

        X = as_2d_float(X, dtype=np.float32)
        n_features = X.shape[1]
        check_int(self.n_components, "n_components", low=1,
                  hint="the code needs at least one unit (and fewer than n_features to compress)")
        check_positive(self.lr, "lr")
        check_positive(self.weight_decay, "weight_decay", allow_zero=True)
        device = get_device(self.device)
        model = MLPAutoencoder(n_features, self.n_components, self.hidden, self.activation,
                               self.out_activation, seed=self.seed).to(device)
        # The same updates as torch.optim.Adam(model.parameters(), lr, weight_decay), computed faster.
        opt = FlatAdam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        self.history_ = train(model, X, epochs=self.epochs, batch_size=self.batch_size, optimizer=opt,
                              corrupt=self.corrupt, X_val=X_val, seed=self.seed, device=device)
        self.model_ = model.eval()
        self.n_components_ = int(self.n_components)
        self.n_features_in_ = n_features
        return self

    def _run(self, f, A) -> np.ndarray:
        dev = next(self.model_.parameters()).device
        with torch.no_grad():
            out = f(torch.as_tensor(A, dtype=torch.float32, device=dev))
        return out.cpu().numpy().astype(np.float64)

    def transform(self, X) -> np.ndarray:
        """Codes (N, p) from the encoder."""
        check_fitted(self, "model_")
        X = as_2d_float(X)
        check_n_features(X, self.n_features_in_, "Autoencoder")
        return self._run(self.model_.encode, X)

    def inverse_transform(self, Z) -> np.ndarray:
        """Decoded data (N, n_features) from codes."""
        check_fitted(self, "model_")
        return self._run(self.model_.decode, self._check_code(Z))
