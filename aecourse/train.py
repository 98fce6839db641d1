"""The one training loop of aecourse, for in-memory tensors.

Everything it depends on is passed in: the model, the data, the optimiser, the loss. A loss hook
``loss_fn(model, x_in, target) -> scalar`` lets the plain, denoising and variational autoencoders (and a
classifier) share this loop. No DataLoader: the data sit in one tensor, each epoch permutes it once and
takes contiguous slices, so the loop adds almost nothing to forward/backward/step (bench/training_loop.py
measures it against a DataLoader loop and a bare loop).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._validation import as_2d_float, check_int
from .data import corrupt as _corrupt
from .optim import FlatAdam, _mismatch

__all__ = ["History", "reconstruction_loss", "train", "to_tensor"]


@dataclass
class History:
    """What :func:`train` records: the mean training loss per epoch, validation loss (if any), seconds."""

    loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.loss)


def reconstruction_loss(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error between the reconstruction of ``x`` and ``target``, averaged over every entry."""
    return F.mse_loss(model(x), target)


def to_tensor(X, device=None, dtype=torch.float32, name: str = "X") -> torch.Tensor:
    """A 2-D float tensor on ``device`` from a numpy array or tensor, with aecourse's input checks."""
    if isinstance(X, torch.Tensor) and X.ndim == 2 and X.is_floating_point():
        if not torch.isfinite(X).all():
            as_2d_float(X, name)  # raises the detailed message
        return X.to(device=device, dtype=dtype)
    return torch.as_tensor(as_2d_float(X, name, dtype=np.float32), dtype=dtype, device=device)


def _as_target(T, n: int, device) -> torch.Tensor:
    if isinstance(T, np.ndarray):
        T = torch.from_numpy(T)
    if not isinstance(T, torch.Tensor):
        raise TypeError(f"target of type {type(T).__name__} must be a numpy array or a torch tensor.")
    if len(T) != n:
        raise ValueError(f"target has {len(T)} rows but X has {n}; they must match row for row.")
    return T.to(device=device, dtype=torch.float32 if T.is_floating_point() else T.dtype)


def _make_corrupter(corrupt):
    if corrupt is None:
        return None
    if callable(corrupt):
        # Hand the function a copy: an in-place corruption (x.add_(...)) would otherwise also corrupt the
        # target, which is the very same tensor when target=None (the noisy-target bug), and the caller's X.
        return lambda x, g: corrupt(x.clone(), g)
    if isinstance(corrupt, tuple) and len(corrupt) == 2:
        kind, level = corrupt
        _corrupt(torch.zeros(1, 1), kind, level)  # validate now, not in the loop
        return lambda x, g: _corrupt(x, kind, level, generator=g)
    raise TypeError(
        f"corrupt={corrupt!r} must be None, a (kind, level) tuple such as ('gaussian', 0.2), "
        "or a function (x, generator) -> corrupted x."
    )


def _default_optimizer(model: nn.Module, lr) -> torch.optim.Optimizer:
    """Adam(lr) over the trainable parameters: :class:`aecourse.optim.FlatAdam` whenever it applies.

    For the course's small networks the optimiser step is a large share of a training step, and nearly all
    of it is fixed cost per tensor operation. FlatAdam keeps the parameters in one vector and runs each
    line of the update as one operation, with the same arithmetic in the same order as
    ``torch.optim.Adam(model.parameters(), lr)``: on the CPU the updates are bitwise identical
    (tests/test_train_speed_semantics.py, tests/test_optim.py), and a step of the 64-32-2 autoencoder
    takes about a third less time (bench/training_loop.py). Where FlatAdam does not apply (a tensor
    ``lr``, parameters on several devices or of several dtypes) it is torch's multi-tensor ("foreach")
    Adam, the same updates again.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    if params and not isinstance(lr, torch.Tensor) and _mismatch(params) is None:
        return FlatAdam(params, lr=lr)
    if isinstance(lr, torch.Tensor):
        return torch.optim.Adam(params, lr=lr)  # a tensor lr needs the default implementation
    return torch.optim.Adam(params, lr=lr, foreach=True)


def _progress(epochs: int, progress):
    quiet = os.environ.get("CI") or os.environ.get("AECOURSE_QUIET")
    if progress is False or (progress == "auto" and quiet):
        return None
    from .utils import progress_bar_class

    tqdm = progress_bar_class()  # plain text bars in Colab with ipywidgets 8 (its front end has 7)
    # delay: the bar appears only for runs longer than a few seconds.
    return tqdm(total=epochs, delay=0 if progress is True else 3.0, leave=False, unit="epoch")


def train(
    model: nn.Module,
    X,
    *,
    epochs: int = 100,
    batch_size: int | None = 64,
    optimizer: torch.optim.Optimizer | None = None,
    lr: float = 1e-3,
    loss_fn: Callable = reconstruction_loss,
    target=None,
    corrupt=None,
    scheduler=None,
    X_val=None,
    target_val=None,
    seed: int = 0,
    device=None,
    callback: Callable | None = None,
    progress="auto",
) -> History:
    """Train ``model`` on the rows of ``X`` and return a :class:`History`.

    Parameters
    ----------
    model : the network; moved to ``device`` (default: the device of its parameters).
    X : (n_samples, n_features) array or tensor: the inputs.
    epochs : passes over the data.
    batch_size : rows per step; ``None`` for full-batch gradient descent.
    optimizer : a ``torch.optim`` optimiser over ``model.parameters()``; default Adam(lr) as
        :class:`aecourse.optim.FlatAdam`: the same updates as ``torch.optim.Adam(model.parameters(), lr)``,
        computed faster.
    loss_fn : ``loss_fn(model, x_in, target) -> scalar tensor``; default mean squared reconstruction error.
    target : what the model should output for each row; default ``X`` itself (an autoencoder). Labels work
        too (with a cross-entropy ``loss_fn``).
    corrupt : ``(kind, level)`` or ``f(x, generator)``: corrupts each input batch, never the target
        (a denoising autoencoder, Vincent et al. 2008). The generator lives on the data's device, so a
        custom ``f`` must draw there: ``torch.randn(x.shape, generator=g, device=x.device)``.
    scheduler : an optional learning-rate scheduler, stepped once per epoch.
    X_val, target_val : optional held-out data; its loss (without corruption) is recorded per epoch.
    seed : seeds the shuffling and the corruption noise.
    callback : called as ``callback(epoch, model, history)`` after each epoch (e.g. to save snapshots).
    progress : ``"auto"`` shows a progress bar for runs longer than a few seconds, except when the
        environment variable ``CI`` or ``AECOURSE_QUIET`` is set; ``True`` / ``False`` force it.
    """
    epochs = check_int(epochs, "epochs", low=1)
    if device is None:
        p = next(model.parameters(), None)
        device = p.device if p is not None else torch.device("cpu")
    device = torch.device(device)
    model.to(device)
    x_all = to_tensor(X, device)                                        # (N, n)
    n = len(x_all)
    t_all = x_all if target is None else _as_target(target, n, device)  # (N, ...)
    if batch_size is None or batch_size >= n:
        batch_size = n
    batch_size = check_int(batch_size, "batch_size", low=1)
    if X_val is not None:
        xv = to_tensor(X_val, device, name="X_val")
        tv = xv if target_val is None else _as_target(target_val, len(xv), device)
    if optimizer is None:
        optimizer = _default_optimizer(model, lr)
    corrupter = _make_corrupter(corrupt)
    g = torch.Generator().manual_seed(seed)                   # shuffling, on the CPU
    g_noise = torch.Generator(device=device).manual_seed(seed)  # corruption, where the data live

    history = History()
    bar = _progress(epochs, progress)
    start = time.perf_counter()
    model.train()
    for epoch in range(epochs):
        if batch_size < n:
            perm = torch.randperm(n, generator=g).to(device)
            # One gather per epoch; the batches are then views. index_select copies whole rows and is
            # several times faster than advanced indexing x_all[perm] on the CPU, with the same result.
            xs, ts = x_all.index_select(0, perm), t_all.index_select(0, perm)
        else:
            xs, ts = x_all, t_all
        total = torch.zeros((), device=device)
        # split makes all of the epoch's batch views in one call instead of two slicing calls per step.
        for x, t in zip(xs.split(batch_size), ts.split(batch_size)):
            x_in = corrupter(x, g_noise) if corrupter is not None else x
            loss = loss_fn(model, x_in, t)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(x)
        if scheduler is not None:
            scheduler.step()
        history.loss.append(float(total) / n)  # one device sync per epoch, not per step
        if X_val is not None:
            model.eval()
            with torch.no_grad():
                history.val_loss.append(float(loss_fn(model, xv, tv)))
            model.train()
        if callback is not None:
            callback(epoch, model, history)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    model.eval()
    history.seconds = time.perf_counter() - start
    return history
