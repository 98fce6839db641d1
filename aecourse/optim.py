"""FlatAdam: torch's Adam update, bit for bit on the CPU, computed on one flat vector.

Why it exists: for the small networks of this course a training step costs a few microseconds per tensor
operation, whatever the tensor's size, not per floating-point operation. ``torch.optim.Adam`` runs about
ten operations per parameter tensor (the 64-32-2-32-64 autoencoder has eight tensors), plus bookkeeping;
its multi-tensor form cuts the calls, not the bookkeeping. FlatAdam moves every parameter into one
contiguous buffer (each parameter becomes a view of it), so each line of the update below is a single
operation on one vector. With the same arithmetic in the same order, each element gets exactly the same
result as in ``torch.optim.Adam`` (tests/test_optim.py checks this bitwise against torch's for-loop and
multi-tensor implementations); bench/training_loop.py measures the time saved.

The update (Kingma & Ba 2015, Algorithm 1, with torch's L2 ``weight_decay``), for step t = 1, 2, ...:

    g  = grad + weight_decay * theta
    m  = beta1 * m + (1 - beta1) * g            (computed as m.lerp_(g, 1 - beta1), as torch does)
    v  = beta2 * v + (1 - beta2) * g * g
    theta -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

Limits, each reported with an error rather than a silent difference: one parameter group; every
parameter must get a gradient at every step (torch's Adam skips a parameter without one; freeze it with
``requires_grad_(False)`` before building the optimiser instead); all parameters on one device, of one
dtype (moving the whole model later is fine: the next step links them to a new buffer); no saving or
loading of the optimiser's state.
"""
from __future__ import annotations

import numbers

import torch

from ._validation import check_positive

__all__ = ["FlatAdam"]


def _mismatch(params) -> int | None:
    """Index of the first parameter FlatAdam cannot share a buffer with (not floating point, or another
    device or dtype than parameter 0); None when all can."""
    ref = params[0]
    for i, p in enumerate(params):
        if p.device != ref.device or p.dtype != ref.dtype or not p.dtype.is_floating_point:
            return i
    return None


class FlatAdam(torch.optim.Optimizer):
    """Adam over all parameters as one flat vector; the same updates as ``torch.optim.Adam``.

    Parameters
    ----------
    params : the parameters to train, e.g. ``model.parameters()`` (one group, one device, one dtype).
    lr, betas, eps, weight_decay : as in ``torch.optim.Adam`` (float ``lr`` only).

    Building it moves the parameters' values into one buffer, ``flat_`` (each parameter becomes a view of
    it); the model computes exactly as before.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        if isinstance(lr, torch.Tensor):
            raise TypeError(
                f"lr={lr!r} is a tensor; FlatAdam takes a float learning rate. "
                "Pass lr=float(lr), or use torch.optim.Adam for a tensor learning rate."
            )
        lr = check_positive(lr, "lr")
        eps = check_positive(eps, "eps", allow_zero=True)
        weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
        if (not isinstance(betas, (tuple, list)) or len(betas) != 2
                or not all(isinstance(b, numbers.Real) and 0.0 <= b < 1.0 for b in betas)):
            raise ValueError(f"betas={betas!r} must be two numbers in [0, 1), e.g. (0.9, 0.999).")
        betas = (float(betas[0]), float(betas[1]))
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        if len(self.param_groups) != 1:
            raise ValueError(
                f"FlatAdam got {len(self.param_groups)} parameter groups but supports one; pass a flat "
                "list of parameters, or use torch.optim.Adam for per-group settings."
            )
        ps = list(self.param_groups[0]["params"])
        for i, p in enumerate(ps):
            if not p.requires_grad:
                raise ValueError(
                    f"parameter {i} (shape {tuple(p.shape)}) does not require a gradient, so Adam would never "
                    "update it; pass only trainable parameters, e.g. "
                    "[p for p in model.parameters() if p.requires_grad]."
                )
        self._params = ps
        self._sizes = [p.numel() for p in ps]
        self._link()
        self._grad = torch.zeros_like(self.flat_)        # (P,) gradients, gathered by one cat per step
        self._exp_avg = torch.zeros_like(self.flat_)     # (P,) m: first-moment estimate
        self._exp_avg_sq = torch.zeros_like(self.flat_)  # (P,) v: second-moment estimate
        self._step = 0

    def _link(self) -> None:
        """Copy the parameters' values into a new flat buffer ``flat_`` and make each parameter a view of it."""
        ps = self._params
        i = _mismatch(ps)
        if i is not None:
            raise ValueError(
                f"parameter {i} is {ps[i].dtype} on {ps[i].device} but parameter 0 is {ps[0].dtype} on "
                f"{ps[0].device}; FlatAdam needs all parameters floating point, on one device, of one "
                "dtype. Move the whole model (model.to(device, dtype)) or use torch.optim.Adam."
            )
        for i, p in enumerate(ps):
            if p.numel() != self._sizes[i]:
                raise RuntimeError(
                    f"parameter {i} now has {p.numel()} values but had {self._sizes[i]} when the optimiser "
                    "was built; build a new optimiser for the changed model."
                )
        self.flat_ = torch.empty(sum(self._sizes), dtype=ps[0].dtype, device=ps[0].device)  # (P,)
        with torch.no_grad():
            for p, view in zip(ps, self.flat_.split(self._sizes)):
                view.copy_(p.reshape(-1))
                p.data = view.view_as(p)  # the parameter now lives in flat_: one update moves them all
        self._addresses = [p.data_ptr() for p in ps]

    def add_param_group(self, param_group: dict) -> None:
        if hasattr(self, "flat_"):  # built: torch's __init__ adds the one group before flat_ exists
            raise RuntimeError(
                "FlatAdam holds one parameter group fixed at construction; build a new optimiser over all "
                "parameters instead of adding a group, or use torch.optim.Adam."
            )
        super().add_param_group(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        # Always to None: backward then stores each new gradient as is, without adding it to zeros.
        for p in self._params:
            p.grad = None

    def _gather_grads(self) -> torch.Tensor:
        if any(p.data_ptr() != a for p, a in zip(self._params, self._addresses)):
            # The parameters were moved or replaced (model.to(device) after building the optimiser, as
            # torch's optimisers allow): link them to a new buffer and bring the moments along.
            self._link()
            self._grad, self._exp_avg, self._exp_avg_sq = (
                t.to(self.flat_) for t in (self._grad, self._exp_avg, self._exp_avg_sq))
        grads = []
        for i, p in enumerate(self._params):
            if p.grad is None:
                raise RuntimeError(
                    f"parameter {i} (shape {tuple(p.shape)}) has no gradient: the loss does not depend on it. "
                    "torch.optim.Adam would skip it this step; FlatAdam updates all parameters together. "
                    "Freeze it (p.requires_grad_(False)) before building the optimiser, or use torch.optim.Adam."
                )
            if p.grad.is_sparse:
                raise RuntimeError(f"parameter {i} has a sparse gradient; FlatAdam needs dense gradients.")
            grads.append(p.grad.reshape(-1))
        return torch.cat(grads, out=self._grad)  # (P,)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        group = self.param_groups[0]  # read each step: learning-rate schedulers change it
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        grad = self._gather_grads()
        if wd != 0:
            grad = grad.add(self.flat_, alpha=wd)
        self._step += 1
        t = float(self._step)  # torch keeps the step in a float tensor and reads it back as a float
        self._exp_avg.lerp_(grad, 1 - beta1)
        self._exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        step_size = lr / (1 - beta1**t)
        bias_correction2_sqrt = (1 - beta2**t) ** 0.5
        denom = (self._exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
        self.flat_.addcdiv_(self._exp_avg, denom, value=-step_size)
        return loss

    def state_dict(self):
        raise NotImplementedError(
            "FlatAdam does not save its state; to checkpoint and resume training, train with "
            "torch.optim.Adam (the same updates) and save that optimiser's state_dict()."
        )

    def load_state_dict(self, state_dict) -> None:
        raise NotImplementedError(
            "FlatAdam cannot load a saved state; resume training with torch.optim.Adam and its state_dict."
        )
