"""Plotting helpers: image grids, reconstructions, loss curves and code scatters.

Each takes ``ax=None`` (a new figure) or an existing Axes, draws on it and returns it; none calls
``plt.show()`` or changes global settings. Colours come from the Okabe-Ito palette, which stays
distinguishable under the common colour-vision deficiencies.
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["OKABE_ITO", "MARKERS", "image_grid", "plot_reconstructions", "plot_loss", "scatter_codes"]

# Okabe & Ito (2008), "Color Universal Design": eight colours safe for colour-blind readers.
OKABE_ITO = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]
# Ten classes need more than eight colours: markers tell them apart as well.
MARKERS = ["o", "s", "^", "v", "D", "P", "X", "*", "<", ">"]
CLASS_COLORS = OKABE_ITO[1:] + ["#999999", "#000000", "#882255"]


def _axes(ax, figsize=(6, 4)):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def _numpy(a) -> np.ndarray:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def image_grid(images, *, image_shape=(8, 8), ncols: int = 10, ax=None, cmap: str = "gray_r",
               vmin: float = 0.0, vmax: float = 1.0, title: str | None = None, pad: int = 1):
    """Tile flattened images (N, h*w) into one picture on one Axes; return the Axes."""
    imgs = _numpy(images).reshape(-1, *image_shape)  # (N, h, w)
    n = len(imgs)
    if n == 0:
        raise ValueError("images is empty; pass at least one image.")
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    h, w = image_shape
    canvas = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), np.nan)
    for i, img in enumerate(imgs):
        r, c = divmod(i, ncols)
        canvas[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = img
    ax = _axes(ax, figsize=(ncols * 0.6, nrows * 0.6 + 0.3))
    ax.imshow(np.ma.masked_invalid(canvas), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax


def plot_reconstructions(rows: dict, *, image_shape=(8, 8), n: int = 10, ax=None, cmap: str = "gray_r"):
    """Rows of images, one row per entry of ``rows`` (label -> (N, h*w) images); first ``n`` of each.

    Typical use: ``{"original": X, "PCA": X_pca, "autoencoder": X_ae}``. Returns the Axes.
    """
    if not rows:
        raise ValueError("rows is empty; pass e.g. {'original': X, 'reconstruction': X_hat}.")
    labels = list(rows)
    stacked = np.concatenate([_numpy(rows[k])[:n] for k in labels])
    ax = _axes(ax, figsize=(n * 0.7, len(labels) * 0.75 + 0.2))
    image_grid(stacked, image_shape=image_shape, ncols=n, ax=ax, cmap=cmap)
    h = image_shape[0]
    ax.set_yticks([(h + 1) * i + (h - 1) / 2 for i in range(len(labels))])
    ax.set_yticklabels(labels)
    ax.tick_params(axis="y", length=0)
    return ax


def plot_loss(history, *, ax=None, label: str | None = None, log: bool = True, val: bool = True,
              color: str | None = None, ylabel: str = "loss (MSE per entry)"):
    """Training (and validation) loss per epoch from a ``History`` or a list; returns the Axes."""
    ax = _axes(ax)
    loss = history.loss if hasattr(history, "loss") else list(history)
    epochs = np.arange(1, len(loss) + 1)
    (line,) = ax.plot(epochs, loss, label=f"{label} (train)" if label and val else label, color=color)
    val_loss = getattr(history, "val_loss", [])
    if val and len(val_loss):
        ax.plot(epochs, val_loss, "--", color=line.get_color(), label=f"{label} (test)" if label else "test")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    if label or (val and len(val_loss)):
        ax.legend()
    return ax


def scatter_codes(Z, y=None, *, ax=None, s: float = 8, alpha: float = 0.8, title: str | None = None,
                  legend: bool = True):
    """Scatter 2-D codes (N, 2), one colour and marker per class in ``y``; returns the Axes."""
    Z = _numpy(Z)
    if Z.ndim != 2 or Z.shape[1] != 2:
        raise ValueError(f"Z has shape {Z.shape}; scatter_codes needs 2-D codes of shape (N, 2).")
    ax = _axes(ax, figsize=(5, 5))
    if y is None:
        ax.scatter(Z[:, 0], Z[:, 1], s=s, alpha=alpha, color=OKABE_ITO[5])
    else:
        y = _numpy(y)
        for k, cls in enumerate(np.unique(y)):
            m = y == cls
            ax.scatter(Z[m, 0], Z[m, 1], s=s, alpha=alpha, color=CLASS_COLORS[k % len(CLASS_COLORS)],
                       marker=MARKERS[k % len(MARKERS)], label=str(cls))
        if legend:
            ax.legend(title="class", markerscale=2, fontsize="small", loc="best", ncol=2)
    ax.set_xlabel("code 1")
    ax.set_ylabel("code 2")
    if title:
        ax.set_title(title)
    return ax
