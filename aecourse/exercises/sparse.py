"""Checkers on sparse and contractive autoencoders: the KL penalty of an untrained sigmoid code (predicted, then
measured), the top-k activation, the closed-form contractive penalty, and the variance a sparse autoencoder
explains."""
from __future__ import annotations

import math

import numpy as np
import torch

from ..interpretability import variance_explained
from ..sparse import topk
from ._core import check_function, check_value, checker, tolerant

__all__ = ["check_kl_at_init", "check_topk", "check_contractive_penalty", "check_variance_explained",
           "KL_UNITS", "KL_RHO"]

KL_UNITS, KL_RHO = 256, 0.05   # the code width and target rate of the chapter's KL-penalised network


def _kl(p: float, q: float) -> float:
    """KL(Bernoulli(p) || Bernoulli(q)) in nats."""
    return p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))


# ------------------------------------------------------------------------------------- KL at initialisation

@checker("ex-sparse-kl-init", kind="value", example=lambda: KL_UNITS * _kl(KL_RHO, 0.5))
def check_kl_at_init(value):
    """The KL sparsity penalty sum_j KL(rho || rho_hat_j) of 256 sigmoid units, rho = 0.05, when every unit's
    average activation is 1/2 (an untrained sigmoid layer), in nats."""
    want = KL_UNITS * _kl(KL_RHO, 0.5)
    return check_value(
        "ex-sparse-kl-init", value, want, rtol=2e-3, what="the penalty",
        mistakes=[
            (KL_UNITS * _kl(0.5, KL_RHO),
             "that is KL(rho_hat || rho), the divergence the other way round; the penalty is KL(rho || rho_hat_j) "
             "with the target rate rho = 0.05 first."),
            (_kl(KL_RHO, 0.5), "that is the penalty of one unit; the penalty sums over all 256 units."),
            (want / math.log(2), "that is in bits (log base 2); use the natural logarithm (nats), as the loss does."),
            (KL_UNITS * KL_RHO * math.log(KL_RHO / 0.5),
             "you kept only the first term, rho log(rho / rho_hat); the Bernoulli KL also has "
             "(1 - rho) log((1 - rho) / (1 - rho_hat))."),
            (KL_UNITS * (KL_RHO - 0.5) ** 2,
             "that is a squared difference, not the KL divergence between two Bernoulli distributions."),
        ],
        hint="KL(rho || q) = rho log(rho / q) + (1 - rho) log((1 - rho) / (1 - q)) with q = 1/2, times the 256 units.",
    )


# ----------------------------------------------------------------------------------------------- top-k

def _example_topk(a, k):
    values, idx = torch.topk(a, k, dim=1)
    return torch.zeros_like(a).scatter(1, idx, torch.relu(values))


def _topk_cases():
    g = torch.Generator().manual_seed(3)
    a1 = torch.randn(3, 6, generator=g)
    a2 = torch.randn(4, 5, generator=g) - 1.0           # mostly negative: the ReLU matters
    a3 = torch.randn(2, 8, generator=g)
    a4 = torch.tensor([[3.0, -5.0, 1.0, -0.5], [-2.0, -1.0, -3.0, 4.0]])   # largest |a| is negative
    return [(a1, 2), (a2, 3), (a3, 8), (a4, 1), (a4, 2)]


def _global_topk(a, k):
    flat = a.flatten()
    values, idx = torch.topk(flat, k)
    return torch.zeros_like(flat).scatter(0, idx, torch.relu(values)).reshape(a.shape)


def _topk_no_relu(a, k):
    values, idx = torch.topk(a, k, dim=1)
    return torch.zeros_like(a).scatter(1, idx, values)


def _smallest_topk(a, k):
    values, idx = torch.topk(a, k, dim=1, largest=False)
    return torch.zeros_like(a).scatter(1, idx, torch.relu(values))


def _abs_topk(a, k):
    _, idx = torch.topk(a.abs(), k, dim=1)
    return torch.zeros_like(a).scatter(1, idx, torch.relu(a.gather(1, idx)))


@checker("ex-sparse-topk", example=lambda: _example_topk)
def check_topk(fn):
    """``fn(a, k)``: for a tensor a (B, p), keep the k largest entries of each row, set the others to 0, and
    apply a ReLU to the kept ones (a tensor of the same shape)."""
    return check_function(
        "ex-sparse-topk", fn, reference=lambda a, k: topk(a, k, relu=True), cases=_topk_cases(), expect="any",
        rtol=1e-6, atol=1e-7,
        case_names=["3 rows of 6, k=2", "4 mostly negative rows of 5, k=3", "2 rows of 8, k=8 (keep all)",
                    "rows whose largest |a| is negative, k=1", "the same rows, k=2"],
        mistakes=[(tolerant(wrong), why) for wrong, why in [
            (lambda a, k: _topk_no_relu(a, k),
             "you kept negative values among the top k; apply a ReLU to the kept values, so no unit is negative."),
            (_abs_topk, "you ranked by |a|; the top-k activation keeps the k LARGEST values, not the largest in size."),
            (_global_topk, "you kept the k largest entries of the whole batch; keep k per row (dim=1), one code "
                           "per example."),
            (lambda a, k: _example_topk(a.T, k).T if k <= a.shape[0] else a * 0,
             "you selected along the wrong dimension (per column); each ROW is one example's code."),
            (_smallest_topk,
             "you kept the k smallest values; torch.topk returns the largest by default (largest=True)."),
            (lambda a, k: torch.relu(a),
             "that is a plain ReLU: every positive unit stays on. Keep only the k largest per row."),
        ]],
        hint="values, idx = torch.topk(a, k, dim=1); then torch.zeros_like(a).scatter(1, idx, torch.relu(values)).",
    )


# -------------------------------------------------------------------------------------- contractive penalty

def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _reference_cae(X, W, c):
    X, W, c = (np.asarray(v, dtype=np.float64) for v in (X, W, c))
    h = _sigmoid(X @ W.T + c)                                  # (N, p)
    return float(((h * (1 - h)) ** 2 @ (W ** 2).sum(axis=1)).mean())


def _example_cae(X, W, c):
    h = 1 / (1 + np.exp(-(X @ W.T + c)))
    return float(((h * (1 - h)) ** 2 * (W ** 2).sum(axis=1)).sum(axis=1).mean())


def _cae_cases():
    rng = np.random.default_rng(11)
    cases = []
    for n, p, N in [(4, 6, 5), (7, 3, 4), (5, 5, 1)]:
        cases.append((rng.random((N, n)), rng.standard_normal((p, n)), 0.5 * rng.standard_normal(p)))
    return cases


def _h(X, W, c):
    return _sigmoid(np.asarray(X) @ np.asarray(W).T + np.asarray(c))


def _slopes2(X, W, c):
    h = _h(X, W, c)
    return (h * (1 - h)) ** 2                                   # (N, p): squared sigmoid slopes


@checker("ex-contractive-penalty", example=lambda: _example_cae)
def check_contractive_penalty(fn):
    """``fn(X, W, c)``: the mean over the rows x of X (N, n) of ||J(x)||_F^2, the squared Frobenius norm of the
    Jacobian of h = sigmoid(W x + c), W (p, n) in PyTorch's layout, c (p,). One float."""
    return check_function(
        "ex-contractive-penalty", fn, reference=_reference_cae, cases=_cae_cases(), expect="float",
        rtol=1e-6, atol=1e-9,
        case_names=["5 inputs of 4, 6 units", "4 inputs of 7, 3 units", "one input of 5, 5 units"],
        mistakes=[(tolerant(wrong), why) for wrong, why in [
            (lambda X, W, c: float((_h(X, W, c) * (1 - _h(X, W, c)) @ (np.asarray(W) ** 2).sum(1)).mean()),
             "square the slope too: dh_j/dx_i = h_j (1 - h_j) W_ji, so each entry of J squared is "
             "(h_j (1 - h_j))^2 W_ji^2."),
            (lambda X, W, c: float((_h(X, W, c) ** 2 @ (np.asarray(W) ** 2).sum(1)).mean()),
             "the sigmoid's derivative is h (1 - h), not h: differentiate sigmoid(a) with respect to a."),
            (lambda X, W, c: float(_slopes2(X, W, c).sum(1).mean()),
             "you left out the weights: by the chain rule dh_j/dx_i = h_j (1 - h_j) W_ji, so the norm has a factor "
             "sum_i W_ji^2 for each unit j."),
            (lambda X, W, c: float((_slopes2(X, W, c) @ (np.asarray(W) ** 2).sum(1)).sum()),
             "you summed over the examples; average over them (the penalty per example, as the loss uses it)."),
            (lambda X, W, c: float(np.sqrt(_slopes2(X, W, c) @ (np.asarray(W) ** 2).sum(1)).mean()),
             "that is the Frobenius norm; the penalty is its SQUARE."),
        ]],
        hint="h = sigmoid(X @ W.T + c) (N, p); then ((h * (1 - h)) ** 2 @ (W ** 2).sum(axis=1)).mean().",
    )


# ------------------------------------------------------------------------------------- variance explained

def _example_ve(A, A_hat):
    return float(1 - ((A - A_hat) ** 2).sum() / ((A - A.mean(axis=0)) ** 2).sum())


def _ve_cases():
    rng = np.random.default_rng(5)
    scale = np.array([1.0, 5.0, 0.2, 2.0])                        # features of very different variance
    A = rng.standard_normal((20, 4)) * scale + np.array([3.0, -1.0, 0.5, 10.0])
    B = rng.standard_normal((15, 3)) + 2.0
    return [(A, A + 0.3 * rng.standard_normal(A.shape) * scale), (B, np.broadcast_to(B.mean(0), B.shape).copy()),
            (B, B + 0.5 * rng.standard_normal(B.shape))]


def _r2_uniform(A, A_hat):
    A, A_hat = np.asarray(A), np.asarray(A_hat)
    return float(np.mean(1 - ((A - A_hat) ** 2).sum(0) / ((A - A.mean(0)) ** 2).sum(0)))


@checker("ex-sae-variance-explained", example=lambda: _example_ve)
def check_variance_explained(fn):
    """``fn(A, A_hat)``: the fraction of the variance of the activations A (N, d) explained by their
    reconstruction A_hat, 1 - sum ||a - a_hat||^2 / sum ||a - mean(a)||^2 (one float)."""
    return check_function(
        "ex-sae-variance-explained", fn, reference=variance_explained, cases=_ve_cases(), expect="float",
        rtol=1e-6, atol=1e-9,
        case_names=["20 activations of 4 features with very different variances", "predicting the mean (should be 0)",
                    "15 activations of 3 features, noisy reconstruction"],
        mistakes=[(tolerant(wrong), why) for wrong, why in [
            (lambda A, B: float(1 - ((A - B) ** 2).sum() / (np.asarray(A) ** 2).sum()),
             "centre A first: the variance is measured around the mean activation, not around 0."),
            (_r2_uniform, "you averaged one R^2 per feature; weigh the features by their variance instead: "
                          "one ratio of total squared error to total variance."),
            (lambda A, B: float(((A - B) ** 2).sum() / ((A - np.asarray(A).mean(0)) ** 2).sum()),
             "that is the fraction left UNexplained (the normalised MSE); subtract it from 1."),
            (lambda A, B: float(1 - ((A - B) ** 2).sum() / ((A - np.asarray(A).mean(1, keepdims=True)) ** 2).sum()),
             "you centred each row; centre each feature (the mean over the examples, axis=0)."),
        ]],
        hint="1 - ((A - A_hat) ** 2).sum() / ((A - A.mean(axis=0)) ** 2).sum().",
    )
