"""Checkers for generative models and density estimation: the Gaussian KL of a VAE, the importance-weighted
estimate from log-weights, a reconstruction loss converted to bits per dimension, and the count of a VAE's
active latent units."""
from __future__ import annotations

import math

import numpy as np
import torch

from ._core import check_function, check_value, checker

__all__ = ["check_gaussian_kl", "check_log_mean_exp", "check_bits_per_dim", "check_active_units"]


# ------------------------------------------------------------------------------------------ Gaussian KL

def _reference_kl(mu, logvar):
    mu, logvar = mu.double(), logvar.double()
    return 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(-1)  # (B,)


def _example_kl(mu, logvar):
    return 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def _kl_cases():
    g = torch.Generator().manual_seed(0)
    return [
        (torch.zeros(3, 2), torch.zeros(3, 2)),                                   # q = prior: KL = 0
        (torch.randn(4, 2, generator=g), 0.5 * torch.randn(4, 2, generator=g)),
        (torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g) - 1.0),
    ]


@checker("ex-generative-kl", example=lambda: _example_kl)
def check_gaussian_kl(fn):
    """``fn(mu, logvar)`` (B, p) tensors -> (B,) KL(N(mu, exp(logvar)) || N(0, I)) per row, in nats."""
    return check_function(
        "ex-generative-kl", fn, reference=_reference_kl, cases=_kl_cases(), expect="any", rtol=1e-4, atol=1e-5,
        case_names=["mu = 0, logvar = 0 (q equals the prior)", "a batch of 4 with p = 2",
                    "a batch of 5 with p = 8"],
        mistakes=[
            (lambda m, lv: (m ** 2 + lv.exp() - 1 - lv).sum(-1),
             "you forgot the factor 1/2 in front of the sum."),
            (lambda m, lv: 0.5 * (m ** 2 + (2 * lv).exp() - 1 - 2 * lv).sum(-1),
             "logvar is the log of the VARIANCE sigma^2, not of sigma: sigma^2 = exp(logvar)."),
            (lambda m, lv: 0.5 * (m ** 2 + lv.exp() - 1 - lv).mean(-1),
             "you averaged over the latent dimensions; the KL of independent dimensions is their SUM."),
            (lambda m, lv: 0.5 * (lv.exp() - 1 - lv).sum(-1),
             "the mu^2 term is missing: moving the mean away from 0 also costs nats."),
            (lambda m, lv: -0.5 * (m ** 2 + lv.exp() - 1 - lv).sum(-1),
             "the sign is flipped: a KL divergence is never negative."),
            (lambda m, lv: 0.5 * (m ** 2 + lv.exp() - 1 - lv).sum(),
             "you summed over the whole batch; return one KL per row, shape (B,)."),
        ],
        hint="KL = 1/2 * sum over latent dimensions of (mu^2 + exp(logvar) - 1 - logvar), one number per row.",
    )


# ---------------------------------------------------------------------------------------- log-mean-exp

def _reference_lme(log_w):
    lw = log_w.double()
    return torch.logsumexp(lw, dim=0) - math.log(lw.shape[0])  # (B,)


def _example_lme(log_w):
    m = log_w.max(dim=0).values                                    # (B,) shift, so that exp never underflows
    return m + torch.log(torch.exp(log_w - m).mean(dim=0))


def _naive_lme(log_w):
    return torch.log(torch.exp(log_w).mean(dim=0))


def _lme_cases():
    g = torch.Generator().manual_seed(1)
    small = torch.randn(5, 3, generator=g, dtype=torch.float64)
    # log-weights of real images are hundreds of nats below 0: exp underflows to 0 in float64 below -745.
    big = -800.0 + 3.0 * torch.randn(50, 4, generator=g, dtype=torch.float64)
    return [(small,), (torch.zeros(1, 2, dtype=torch.float64),), (big,)]


@checker("ex-generative-log-mean-exp", example=lambda: _example_lme)
def check_log_mean_exp(fn):
    """``fn(log_w)`` with log_w (K, B) -> (B,) log of the mean over K of exp(log_w), computed stably."""
    return check_function(
        "ex-generative-log-mean-exp", fn, reference=_reference_lme, cases=_lme_cases(), expect="any",
        rtol=1e-6, atol=1e-6,
        case_names=["K = 5 samples for B = 3 images", "K = 1 sample", "K = 50 log-weights near -800"],
        mistakes=[
            (_naive_lme,
             "exp(-800) underflows to 0 and log(0) = -inf: subtract the largest log-weight of each column "
             "before exponentiating, and add it back after the log (the log-sum-exp trick)."),
            (lambda lw: lw.mean(dim=0),
             "that is the mean of the log-weights, which by Jensen's inequality is lower: it estimates the "
             "ELBO, not the tighter bound. Take the log of the mean of the weights, not the mean of their logs."),
            (lambda lw: torch.logsumexp(lw, dim=0),
             "that is log SUM exp; subtract log K to turn the sum into a mean."),
            (lambda lw: torch.logsumexp(lw, dim=1) - math.log(lw.shape[1]),
             "you reduced over the wrong axis: the K samples are along axis 0, the images along axis 1."),
        ],
        hint="compute m = max over axis 0, then m + log(mean(exp(log_w - m), axis 0)).",
    )


# --------------------------------------------------------------------------------------- bits per dim

# An image of 64 binary pixels, 20 of them on; the decoder gives P(on) = 0.8 to each pixel that is on and
# P(on) = 0.1 to each pixel that is off.
_N_ON, _N_OFF, _P_ON, _P_OFF_ON = 20, 44, 0.8, 0.1
_NATS = -(_N_ON * math.log(_P_ON) + _N_OFF * math.log(1.0 - _P_OFF_ON))
_BPD = _NATS / (64 * math.log(2.0))


@checker("ex-generative-bits-per-dim", kind="value", example=lambda: _BPD)
def check_bits_per_dim(value):
    """The negative log-likelihood of the described image, in bits per dimension."""
    wrong_off = -(_N_ON * math.log(_P_ON) + _N_OFF * math.log(_P_OFF_ON))
    return check_value(
        "ex-generative-bits-per-dim", value, _BPD, rtol=2e-3, what="the bits per dimension",
        mistakes=[
            (_NATS, "that is the negative log-likelihood in nats per IMAGE; divide by 64 ln 2."),
            (_NATS / 64, "that is nats per pixel; divide by ln 2 = 0.693 to convert nats to bits."),
            (_NATS / math.log(2.0), "that is bits per IMAGE; divide by the 64 pixels."),
            (-_BPD, "a negative log-likelihood of a discrete image is >= 0: check the sign."),
            (wrong_off / (64 * math.log(2.0)),
             "an OFF pixel has probability 1 - P(on) = 0.9 of coming out as it is, not 0.1."),
            (wrong_off, "two slips: use 1 - P(on) for the off pixels, and convert nats per image to bits "
                        "per dimension."),
        ],
        hint="-log p(x|z) = -(20 ln 0.8 + 44 ln 0.9) nats; bits per dimension = nats / (64 ln 2).",
    )


# ------------------------------------------------------------------------------------- active units

def _reference_active(mu, threshold):
    mu = np.asarray(mu, dtype=np.float64)
    return np.asarray(float((mu.var(axis=0, ddof=1) > threshold).sum()))


def _example_active(mu, threshold):
    return int((np.var(mu, axis=0, ddof=1) > threshold).sum())


def _active_cases():
    """Posterior means (N, p) whose columns have variances far from the threshold (so that N - 1 or N in the
    variance does not matter), with one column that is constant but far from 0 and one whose standard
    deviation is above the threshold while its variance is below."""
    rng = np.random.default_rng(5)
    sds = np.array([1.0, 0.5, 0.05, 0.0, 0.3, 0.001, 0.8])   # variances 1, 0.25, 0.0025, 0, 0.09, 1e-6, 0.64
    mu1 = rng.standard_normal((200, 7)) * sds + np.array([0.0, 1.0, -0.5, 2.0, 0.0, 3.0, -1.0])
    mu2 = rng.standard_normal((50, 3)) * np.array([0.02, 2.0, 0.0]) + 1.5
    mu3 = rng.standard_normal((40, 8)) * np.array([1.0, 0.2, 0.2, 0.6, 0.01, 0.0, 0.7, 0.1])
    return [(mu1, 0.01), (mu2, 0.01), (mu3, 0.1)]


@checker("ex-generative-active-units", example=lambda: _example_active)
def check_active_units(fn):
    """``fn(mu, threshold)`` with posterior means mu (N, p) -> how many of the p units have a variance across
    the N inputs above ``threshold``: the active units of Burda, Grosse & Salakhutdinov (2016)."""
    return check_function(
        "ex-generative-active-units", fn, reference=_reference_active, cases=_active_cases(), expect="float",
        rtol=0, atol=1e-9,
        case_names=["200 inputs, 7 units, threshold 0.01", "50 inputs, 3 units, threshold 0.01",
                    "40 inputs, 8 units, threshold 0.1"],
        mistakes=[
            (lambda mu, t: float((np.std(mu, axis=0) > t).sum()),
             "you compared the standard deviation with the threshold; the criterion is the VARIANCE of the "
             "posterior mean, Cov_x(E_q[z_j]), above 0.01."),
            (lambda mu, t: float((np.var(mu, axis=1) > t).sum()),
             "you took the variance across the units of each input (axis 1); take it across the inputs, "
             "one number per unit (axis 0)."),
            (lambda mu, t: float((np.abs(np.mean(mu, axis=0)) > t).sum()),
             "a unit is active when its posterior mean CHANGES with the input, not when the mean is far "
             "from 0: a constant mean of 2 carries no information about x."),
            (lambda mu, t: float((np.var(mu, axis=0) <= t).sum()),
             "you counted the inactive units; count those whose variance is ABOVE the threshold."),
        ],
        hint="np.var(mu, axis=0) gives one variance per unit; count how many exceed threshold.",
    )
