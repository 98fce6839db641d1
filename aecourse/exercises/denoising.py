"""Checkers on denoising: the PSNR of Gaussian noise, the denoising loss (clean target!), the ideal denoiser,
the Wiener filter's PSNR predicted from the eigenvalues of the data."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data import corrupt
from ..denoising import WienerDenoiser, ideal_denoiser
from ._core import check_function, check_value, checker

__all__ = ["check_noisy_psnr", "check_denoising_loss", "check_posterior_mean", "check_wiener_psnr"]

SIGMA = 0.2  # the noise level of the PSNR exercise


# ------------------------------------------------------------------------------ PSNR of the noisy input

@checker("ex-denoise-noisy-psnr", kind="value", example=lambda: 10 * math.log10(1 / SIGMA ** 2))
def check_noisy_psnr(value):
    """The expected PSNR (dB) of images in [0, 1] with added N(0, 0.2^2) noise, before any clipping."""
    return check_value(
        "ex-denoise-noisy-psnr", value, 10 * math.log10(1 / SIGMA ** 2), rtol=0, atol=0.02,
        what="the PSNR in dB",
        mistakes=[
            (10 * math.log10(1 / SIGMA),
             "the MSE of N(0, sigma^2) noise is its variance sigma^2, not sigma: square it."),
            (20 * math.log10(1 / SIGMA ** 2),
             "PSNR is 10 log10 of a ratio of squared quantities (powers); 20 log10 is for amplitudes, "
             "so 20 log10(1 / sigma) is right but 20 log10(1 / sigma^2) counts the square twice."),
            (10 * math.log(1 / SIGMA ** 2),
             "decibels use the base-10 logarithm: math.log10, not math.log."),
            (10 * math.log10(SIGMA ** 2),
             "the ratio is peak^2 / MSE = 1 / sigma^2; you have it upside down (PSNR is positive here)."),
        ],
        hint="the noise is the whole error: MSE = E[(sigma * eps)^2] = sigma^2, and PSNR = 10 log10(1 / MSE).",
    )


# ------------------------------------------------------------------------------------- denoising loss

def _no_grad(f):
    """Run ``f`` without building a graph (the checker only needs the loss's value)."""
    def run(*args):
        with torch.no_grad():
            return f(*args)
    return run


@_no_grad
def _reference_loss(model, x, sigma, seed):
    x_noisy = corrupt(x, "gaussian", sigma, seed=seed)  # (B, n), the input
    return float(F.mse_loss(model(x_noisy), x))         # compared with the CLEAN x (Vincent et al. 2008)


def _example_loss(model, x, sigma, seed):
    x_tilde = corrupt(x, "gaussian", sigma, seed=seed)
    return ((model(x_tilde) - x) ** 2).mean()


def _loss_cases():
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(0)
        lin = nn.Linear(4, 4)
        net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 6), nn.Sigmoid())
        x1, x2 = torch.rand(5, 4), torch.rand(7, 6)
    return [(lin, x1, 0.3, 0), (net, x2, 0.1, 5), (net, x2, 0.5, 1)]


@checker("ex-denoise-loss", example=lambda: _example_loss)
def check_denoising_loss(fn):
    """``fn(model, x, sigma, seed)``: corrupt x with Gaussian noise (aecourse.corrupt, that seed), feed the
    noisy batch to the model and return the mean squared error against the CLEAN batch x."""
    noisy = lambda x, s, k: corrupt(x, "gaussian", s, seed=k)  # noqa: E731
    return check_function(
        "ex-denoise-loss", fn, reference=_reference_loss, cases=_loss_cases(), expect="float",
        rtol=1e-4, atol=1e-6,
        case_names=["a linear model, sigma=0.3", "a sigmoid network, sigma=0.1", "a sigmoid network, sigma=0.5"],
        mistakes=[(_no_grad(wrong), why) for wrong, why in [
            (lambda m, x, s, k: float(F.mse_loss(m(noisy(x, s, k)), noisy(x, s, k))),
             "you compared the output with the NOISY input: that trains the network to reproduce the noise "
             "(it learns the identity). The target must be the clean x."),
            (lambda m, x, s, k: float(F.mse_loss(m(x), x)),
             "you fed the clean x to the model: that is a plain autoencoder. Feed the corrupted x, compare "
             "with the clean x."),
            (lambda m, x, s, k: float(F.mse_loss(m(noisy(x, s, k)), x, reduction="sum")),
             "that is the total squared error; take the mean over every entry (F.mse_loss's default)."),
            (lambda m, x, s, k: float(((m(noisy(x, s, k)) - x) ** 2).sum(1).mean()),
             "you summed over the features of each sample; average over every entry instead."),
            (lambda m, x, s, k: float(F.mse_loss(m(noisy(x, s, k)) + x - noisy(x, s, k), x)),
             "compare the model's output itself with x; do not add back the noise."),
        ]],
        hint="draw the noise with x_tilde = aecourse.corrupt(x, 'gaussian', sigma, seed=seed), so that the "
             "checker can reproduce it, then return ((model(x_tilde) - x) ** 2).mean().",
    )


# ------------------------------------------------------------------------------------- ideal denoiser

def _example_posterior_mean(X_noisy, X_data, sigma):
    d2 = ((X_noisy[:, None, :] - X_data[None, :, :]) ** 2).sum(-1)      # (m, N)
    logits = -d2 / (2 * sigma ** 2)
    w = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (w / w.sum(axis=1, keepdims=True)) @ X_data                   # (m, d)


def _posterior_cases():
    rng = np.random.default_rng(3)
    D2 = rng.standard_normal((6, 2))
    D3 = rng.random((9, 3))
    far = np.array([[5.0, 5.0], [0.1, -0.2]])
    return [(rng.standard_normal((4, 2)), D2, 0.7), (rng.random((5, 3)), D3, 0.2), (far, D2, 0.05)]


def _softmax_rows(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _d2(A, B):
    return ((np.asarray(A)[:, None, :] - np.asarray(B)[None, :, :]) ** 2).sum(-1)


@checker("ex-denoise-posterior-mean", example=lambda: _example_posterior_mean)
def check_posterior_mean(fn):
    """``fn(X_noisy, X_data, sigma)`` -> (m, d): the posterior mean E[x | x~] for x uniform over the rows of
    X_data and x~ = x + N(0, sigma^2 I)."""
    return check_function(
        "ex-denoise-posterior-mean", fn, reference=ideal_denoiser, cases=_posterior_cases(), expect="any",
        rtol=1e-5, atol=1e-7,
        case_names=["4 points, 6 data points in 2-d, sigma=0.7", "5 points, 9 data points in 3-d, sigma=0.2",
                    "a point far from all data, sigma=0.05"],
        mistakes=[
            (lambda Xn, D, s: D[_d2(Xn, D).argmin(axis=1)],
             "you returned the nearest data point: that is the limit sigma -> 0. For sigma > 0 the answer is "
             "a weighted average of ALL data points."),
            (lambda Xn, D, s: _softmax_rows(-np.sqrt(_d2(Xn, D)) / (2 * s ** 2)) @ D,
             "the Gaussian likelihood uses the SQUARED distance |x~ - x_i|^2."),
            (lambda Xn, D, s: _softmax_rows(-_d2(Xn, D) / s ** 2) @ D,
             "the Gaussian density is exp(-|x~ - x_i|^2 / (2 sigma^2)): you left out the 2."),
            (lambda Xn, D, s: np.exp(-_d2(Xn, D) / (2 * s ** 2)) @ D,
             "normalise the weights so that each row sums to 1 (a posterior is a probability distribution)."),
            (lambda Xn, D, s: np.repeat(D.mean(axis=0, keepdims=True), len(Xn), axis=0),
             "that is the data mean, whatever the input: the weights must depend on the distances."),
        ],
        hint="weights w_i proportional to exp(-|x~ - x_i|^2 / (2 sigma^2)), normalised per row; subtract each "
             "row's largest exponent before np.exp, or far points give 0 / 0 = NaN.",
    )


# ------------------------------------------------------------------------ Wiener filter, predicted

def _reference_wiener_psnr(X, sigma):
    return 10 * math.log10(1 / WienerDenoiser(sigma).fit(X).expected_mse_)


def _example_wiener_psnr(X, sigma):
    lam = np.linalg.eigvalsh(np.cov(X, rowvar=False, bias=True))        # eigenvalues of the covariance
    mse = np.mean(lam * sigma ** 2 / (lam + sigma ** 2))                 # per direction: l sigma^2 / (l + sigma^2)
    return 10 * np.log10(1 / mse)


def _wiener_cases():
    rng = np.random.default_rng(11)
    # Pixel-like data: mean far from 0, decaying scales, one dead direction (a rank-deficient covariance).
    A = 0.4 + (rng.standard_normal((500, 5)) * [0.5, 0.3, 0.15, 0.05, 0.0]) @ np.linalg.qr(
        rng.standard_normal((5, 5)))[0]
    B = 0.3 + 0.2 * rng.random((600, 8))
    return [(A, 0.25), (A, 0.5), (B, 0.1)]


def _psnr_of(mse):
    return 10 * np.log10(1 / mse)


def _eig(X, centre=True):
    Xc = X - X.mean(axis=0) if centre else X
    return np.clip(np.linalg.eigvalsh(Xc.T @ Xc / len(X)), 0, None)


def _shrunk_error(lam, a, sigma):
    """Mean squared error per feature when direction i is scaled by a_i: (1 - a)^2 l + a^2 sigma^2."""
    return np.mean((1 - a) ** 2 * lam + a ** 2 * sigma ** 2)


@checker("ex-denoise-wiener-psnr", example=lambda: _example_wiener_psnr)
def check_wiener_psnr(fn):
    """``fn(X, sigma)`` -> float: the PSNR (dB) the Wiener filter fitted on the clean rows of X reaches on data
    like X with N(0, sigma^2) noise, predicted from the eigenvalues of X's covariance alone."""
    return check_function(
        "ex-denoise-wiener-psnr", fn, reference=_reference_wiener_psnr, cases=_wiener_cases(), expect="float",
        rtol=0, atol=0.02,
        case_names=["500 points in 5-d with one dead direction, sigma=0.25", "the same points, sigma=0.5",
                    "600 points in 8-d, sigma=0.1"],
        mistakes=[
            (lambda X, s: _psnr_of(np.mean(_eig(X, False) * s ** 2 / (_eig(X, False) + s ** 2))),
             "centre the data first: the filter works on x - mu, and the eigenvalues it needs are those of the "
             "covariance, not of X^T X / N (which has the squared mean in it)."),
            (lambda X, s: _psnr_of(np.mean(_eig(X) * s / (_eig(X) + s))),
             "the noise VARIANCE is sigma^2: use l / (l + sigma^2), not l / (l + sigma)."),
            (lambda X, s: _psnr_of(_shrunk_error(_eig(X), s ** 2 / (_eig(X) + s ** 2), s)),
             "the filter keeps the fraction l / (l + sigma^2) of each direction (near 1 for a strong direction); "
             "sigma^2 / (l + sigma^2) is the fraction it removes."),
            (lambda X, s: _psnr_of(np.mean((_eig(X) / (_eig(X) + s ** 2)) ** 2 * s ** 2)),
             "you counted only the noise that gets through, (l / (l + sigma^2))^2 sigma^2; shrinking also loses "
             "part of the signal, (sigma^2 / (l + sigma^2))^2 l. Together: l sigma^2 / (l + sigma^2)."),
            (lambda X, s: _psnr_of(np.sum(_eig(X) * s ** 2 / (_eig(X) + s ** 2))),
             "PSNR uses the mean squared error PER PIXEL: average over the directions, do not sum."),
            (lambda X, s: 20 * np.log10(1 / np.mean(_eig(X) * s ** 2 / (_eig(X) + s ** 2))),
             "the MSE is already a squared quantity: PSNR = 10 log10(1 / MSE), not 20 log10."),
            (lambda X, s: _psnr_of(s ** 2),
             "that is the PSNR of the noisy input; the filter removes part of the noise in every direction."),
        ],
        hint="in the eigenbasis of the covariance the filter scales direction i by a_i = l_i / (l_i + sigma^2); "
             "its error there is (1 - a_i)^2 l_i + a_i^2 sigma^2 = l_i sigma^2 / (l_i + sigma^2). Average over "
             "the directions and take 10 log10(1 / MSE).",
    )
