"""Data sets that need no network: sklearn's bundled digits, generated manifolds and clouds, and corruptions.

Everything here is seeded, returns float32 arrays, and never downloads anything.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ._validation import check_choice, check_int, check_positive

__all__ = [
    "Split", "load_digits", "digits_matrix", "make_swiss_roll", "make_s_curve",
    "make_gaussian_clouds", "corrupt", "CORRUPTIONS",
]


class Split(NamedTuple):
    """A train/test split: ``X_*`` of shape (n, n_features), ``y_*`` integer labels of shape (n,)."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def digits_matrix() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 of sklearn's 8x8 digits as ``(X, y)``: X (1797, 64) float32 in [0, 1], y (1797,) int64.

    The raw pixels are integers 0..16; dividing by 16 puts them in [0, 1], so a sigmoid output layer and
    a binary cross-entropy loss both make sense.
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    X = (bunch.data / 16.0).astype(np.float32)  # (1797, 64)
    return X, bunch.target.astype(np.int64)


def load_digits(test_size: float = 0.25, seed: int = 0) -> Split:
    """The 8x8 digits scaled to [0, 1], split into train and test sets stratified by class.

    Parameters
    ----------
    test_size : fraction of the 1797 images held out, strictly between 0 and 1.
    seed : seed of the split; the same seed always gives the same split.

    Returns
    -------
    Split(X_train, X_test, y_train, y_test); with the default 0.25, 1347 and 450 images.
    """
    from sklearn.model_selection import train_test_split

    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)) or not 0 < test_size < 1:
        raise ValueError(
            f"test_size={test_size!r} must be a fraction strictly between 0 and 1 (e.g. 0.25); "
            "use digits_matrix() for all images without a split."
        )
    seed = check_int(seed, "seed", low=0)
    X, y = digits_matrix()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y
    )
    return Split(X_train, X_test, y_train, y_test)


def _standardize(X: np.ndarray) -> np.ndarray:
    return (X - X.mean(axis=0)) / X.std(axis=0)


def make_swiss_roll(n_samples: int = 2000, noise: float = 0.05, seed: int = 0, standardize: bool = True):
    """Points on a noisy swiss roll in 3-D: ``(X, t)``, X (n_samples, 3) float32, t (n_samples,) the roll
    parameter (position along the spiral), which a faithful 1-d chart should recover.

    Standardised per axis by default, so that reconstruction errors are comparable across methods.
    """
    from sklearn.datasets import make_swiss_roll as _sk_swiss_roll

    n_samples = check_int(n_samples, "n_samples", low=2)
    noise = check_positive(noise, "noise", allow_zero=True)
    X, t = _sk_swiss_roll(n_samples=n_samples, noise=noise, random_state=seed)
    if standardize:
        X = _standardize(X)
    return X.astype(np.float32), t.astype(np.float32)


def make_s_curve(n_samples: int = 2000, noise: float = 0.05, seed: int = 0, standardize: bool = True):
    """Points on a noisy S-shaped surface in 3-D: ``(X, t)`` as in :func:`make_swiss_roll`."""
    from sklearn.datasets import make_s_curve as _sk_s_curve

    n_samples = check_int(n_samples, "n_samples", low=2)
    noise = check_positive(noise, "noise", allow_zero=True)
    X, t = _sk_s_curve(n_samples=n_samples, noise=noise, random_state=seed)
    if standardize:
        X = _standardize(X)
    return X.astype(np.float32), t.astype(np.float32)


def make_gaussian_clouds(
    n_samples: int = 600, n_features: int = 2, n_clusters: int = 3, spread: float = 1.0,
    separation: float = 5.0, seed: int = 0,
):
    """Isotropic Gaussian clouds: ``(X, y)``, X (n_samples, n_features) float32, y the cloud of each point.

    Centres are drawn uniformly in a cube of half-width ``separation``; each cloud has standard
    deviation ``spread``.
    """
    n_samples = check_int(n_samples, "n_samples", low=1)
    n_features = check_int(n_features, "n_features", low=1)
    n_clusters = check_int(n_clusters, "n_clusters", low=1, high=n_samples,
                           hint="there must be at least one point per cloud")
    spread = check_positive(spread, "spread")
    separation = check_positive(separation, "separation", allow_zero=True)
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-separation, separation, size=(n_clusters, n_features))
    y = np.arange(n_samples) % n_clusters
    rng.shuffle(y)
    X = centres[y] + spread * rng.standard_normal((n_samples, n_features))
    return X.astype(np.float32), y.astype(np.int64)


CORRUPTIONS = ("gaussian", "masking", "salt_pepper")


def corrupt(X, kind: str = "gaussian", level: float = 0.2, seed: int | None = 0,
            generator: torch.Generator | None = None):
    """Return a corrupted COPY of ``X`` (the input of a denoising autoencoder; the target stays clean).

    kinds (Vincent et al. 2008, 2010):
      - ``"gaussian"``: add N(0, level^2) noise to every entry (not clipped: clipping is a separate,
        visible step).
      - ``"masking"``: set a random fraction ``level`` of the entries to 0.
      - ``"salt_pepper"``: set a random fraction ``level`` of the entries to 0 or 1, with equal odds.

    ``X`` may be a numpy array (seeded by ``seed``) or a torch tensor (drawn from ``generator`` if given,
    else from a generator seeded by ``seed``); ``seed=None`` gives fresh randomness on every call. The
    result has the same type, dtype and device, and ``X`` itself is never modified.
    """
    check_choice(kind, "kind", CORRUPTIONS)
    level = check_positive(level, "level", allow_zero=True)
    if kind != "gaussian" and level > 1:
        raise ValueError(f"level={level} is a fraction of entries for kind={kind!r}; expected 0 <= level <= 1.")
    if isinstance(X, torch.Tensor):
        if not X.is_floating_point():
            raise TypeError(f"X has dtype {X.dtype}; corrupt needs a floating-point tensor, e.g. X.float().")
        if generator is None:
            generator = _generator(seed, X.device)
        return _corrupt_torch(X, kind, level, generator)
    if not isinstance(X, np.ndarray):
        raise TypeError(f"X of type {type(X).__name__} is not supported; pass a numpy array or torch tensor.")
    # Work in float64 for float64 input, so untouched entries come back exactly.
    dtype = np.float64 if X.dtype == np.float64 else np.float32
    t = torch.from_numpy(np.array(X, dtype=dtype, copy=True))
    return _corrupt_torch(t, kind, level, _generator(seed, "cpu")).numpy().astype(
        X.dtype if X.dtype.kind == "f" else np.float32)


def _generator(seed: int | None, device) -> torch.Generator:
    """A generator seeded with ``seed``; ``seed=None`` means fresh, non-reproducible randomness."""
    g = torch.Generator(device=device)
    if seed is None:
        g.seed()
    else:
        g.manual_seed(seed)
    return g


def _corrupt_torch(x: torch.Tensor, kind: str, level: float, g: torch.Generator) -> torch.Tensor:
    # Draw on the generator's device, then move: works for CPU generators with CUDA tensors too.
    dev = g.device
    if kind == "gaussian":
        noise = torch.randn(x.shape, generator=g, device=dev, dtype=x.dtype).to(x.device)
        return x + level * noise
    hit = (torch.rand(x.shape, generator=g, device=dev) < level).to(x.device)
    if kind == "masking":
        return x.masked_fill(hit, 0.0)
    salt = (torch.rand(x.shape, generator=g, device=dev) < 0.5).to(x.device)
    return torch.where(hit, salt.to(x.dtype), x)
