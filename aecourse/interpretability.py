"""Sparse autoencoders as a tool for looking inside another network, and the measures used to judge them.

A sparse autoencoder (SAE) trained on a network's hidden activations rewrites each activation vector as a
sparse combination of learned directions, its latents (Bricken et al. 2023; Cunningham et al. 2023; Gao et
al. 2024). This module holds what that needs around the SAE itself (which is
:class:`aecourse.sparse.OneLayerAutoencoder`):

- :func:`record_activations`: the output of one module of a network, for a batch of inputs;
- :func:`spliced`: a context manager that replaces that output by a function of it (the SAE's
  reconstruction, or the mean activation), to measure what the rest of the network still does;
- :func:`variance_explained`: the fraction of the activations' variance that the reconstruction keeps;
- :func:`label_purity`: for each latent (or neuron), the share of its top-activating examples that carry its
  most common label, a crude, label-based stand-in for "monosemantic".

The sparsity measures (L0, dead latents) are :func:`aecourse.sparse.l0` and
:func:`aecourse.sparse.dead_fraction`.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable

import numpy as np
import torch
from torch import nn

from ._validation import check_int
from .train import to_tensor

__all__ = ["record_activations", "spliced", "variance_explained", "label_purity"]


def _check_module(model, module) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model of type {type(model).__name__} is not a torch.nn.Module.")
    if not isinstance(module, nn.Module) or not any(m is module for m in model.modules()):
        raise ValueError("module must be one of model's own submodules, e.g. model[1] for the first hidden "
                         "activation of an nn.Sequential classifier.")


@torch.no_grad()
def record_activations(model: nn.Module, module: nn.Module, X) -> torch.Tensor:
    """The output of ``module`` (a submodule of ``model``) when ``model`` runs on the rows of X: (N, width).

    A forward hook copies the output as the network computes it; the network itself is not changed.
    """
    _check_module(model, module)
    dev = next(model.parameters()).device
    x = to_tensor(X, dev)                                           # (N, n)
    seen: list[torch.Tensor] = []
    handle = module.register_forward_hook(lambda m, inputs, out: seen.append(out.detach()))
    was_training = model.training
    try:
        model.eval()
        model(x)
    finally:
        handle.remove()
        model.train(was_training)
    return seen[-1]                                                 # (N, width)


@contextmanager
def spliced(model: nn.Module, module: nn.Module, replace: Callable[[torch.Tensor], torch.Tensor]):
    """Within the ``with`` block, ``module``'s output ``a`` is replaced by ``replace(a)`` in every forward pass.

    ``with spliced(clf, clf[1], sae): acc = accuracy(clf, X, y)`` measures the classifier when its hidden
    activations are replaced by the SAE's reconstruction of them; ``replace=lambda a: mean.expand_as(a)``
    removes all information the layer carries (mean ablation), the floor any reconstruction should beat.
    The hook is removed on leaving the block, even after an error.
    """
    _check_module(model, module)
    if not callable(replace):
        raise TypeError(f"replace of type {type(replace).__name__} is not callable; pass a function of the "
                        "activations, e.g. the trained sparse autoencoder itself.")

    def hook(m, inputs, out):
        new = replace(out)
        if not isinstance(new, torch.Tensor) or new.shape != out.shape:
            raise ValueError(f"replace returned {tuple(getattr(new, 'shape', ()))} for activations of shape "
                             f"{tuple(out.shape)}; it must return a tensor of the same shape.")
        return new

    handle = module.register_forward_hook(hook)
    try:
        yield model
    finally:
        handle.remove()


def _matrix(A, name: str) -> np.ndarray:
    A = A.detach().cpu().numpy() if isinstance(A, torch.Tensor) else np.asarray(A)
    if A.ndim != 2 or A.size == 0:
        raise ValueError(f"{name} has shape {A.shape}; expected (n_samples, n_features) with at least one of each.")
    return A.astype(np.float64)


def variance_explained(A, A_hat) -> float:
    """1 - sum ||a - a_hat||^2 / sum ||a - mean(a)||^2 over the rows of A (N, d) and its reconstruction.

    1 for a perfect reconstruction, 0 for one that predicts the mean activation every time. It weighs every
    coordinate by its variance (scikit-learn's ``r2_score(A, A_hat, multioutput="variance_weighted")``);
    Gao et al. (2024) report its complement, the normalised MSE.
    """
    A, B = _matrix(A, "A"), _matrix(A_hat, "A_hat")
    if A.shape != B.shape:
        raise ValueError(f"A has shape {A.shape} but A_hat has shape {B.shape}; pass activations and their "
                         "reconstruction, row for row.")
    total = ((A - A.mean(axis=0)) ** 2).sum()
    if total == 0:
        raise ValueError("A has zero variance (every row is the same); the fraction explained is undefined.")
    return float(1.0 - ((A - B) ** 2).sum() / total)


def label_purity(Z, y, n_top: int = 10) -> np.ndarray:
    """For each column j of the codes Z (N, p): the share of its ``n_top`` largest activations whose label
    is the most common one among them. Shape (p,); NaN for a column active (> 0) on fewer than n_top rows.

    1 means the unit's strongest examples all share a label; with c balanced classes and random top sets it
    is about 1 / c plus chance clumping. This sees only the labels: a unit can be pure for the labels and
    still mean something else, or mean one thing the labels do not name.
    """
    Z = _matrix(Z, "Z")
    y = np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y)
    if y.shape != (len(Z),):
        raise ValueError(f"y has shape {y.shape}; expected one label per row of Z, shape ({len(Z)},).")
    n_top = check_int(n_top, "n_top", low=1, high=len(Z), hint=f"at most the {len(Z)} rows of Z")
    _, codes = np.unique(y, return_inverse=True)                     # labels as 0..c-1
    order = np.argsort(-Z, axis=0, kind="stable")[:n_top]            # (n_top, p): rows of the largest values
    counts = np.apply_along_axis(np.bincount, 0, codes[order], minlength=codes.max() + 1)  # (c, p)
    purity = counts.max(axis=0) / n_top
    purity[(Z > 0).sum(axis=0) < n_top] = np.nan                     # too few active rows for a top set
    return purity
