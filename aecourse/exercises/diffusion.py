"""Checkers on diffusion models: the forward process x_t given x_0, the score of a Gaussian smoothed by noise,
the mean of one ancestral DDPM step, and the signal a noise schedule leaves at its last step (predicted,
then measured)."""
from __future__ import annotations

import numpy as np
import torch

from ..diffusion import NoiseSchedule, ddpm_step_mean, forward_sample
from ._core import check_function, check_value, checker, tolerant

__all__ = ["check_forward_sample", "check_gaussian_score", "check_ddpm_mean", "check_signal_left",
           "SCHEDULE_STEPS"]

SCHEDULE_STEPS = 100   # the chapter's schedule: 100 steps, beta linear from 0.001 to 0.2


def _schedule_from(betas) -> NoiseSchedule:
    b = np.asarray(betas, dtype=np.float64)
    return NoiseSchedule(len(b), beta_start=float(b[0]), beta_end=float(b[-1]))


def _betas(T, b0, b1):
    return np.linspace(b0, b1, T)


# ------------------------------------------------------------------------------------- forward process

def _reference_forward(x0, t, noise, betas):
    out = forward_sample(torch.as_tensor(x0), torch.as_tensor(t), torch.as_tensor(noise), _schedule_from(betas))
    return out.numpy()


def _example_forward(x0, t, noise, betas):
    alpha_bar = np.cumprod(1 - betas)[t][:, None]                      # (B, 1)
    return np.sqrt(alpha_bar) * x0 + np.sqrt(1 - alpha_bar) * noise


def _forward_cases():
    rng = np.random.default_rng(4)
    cases = []
    for (B, n, T, b0, b1) in [(4, 3, 10, 0.01, 0.3), (6, 2, 50, 0.002, 0.2), (3, 5, 100, 0.001, 0.2)]:
        x0 = rng.standard_normal((B, n))
        noise = rng.standard_normal((B, n))
        t = rng.integers(0, T, B)
        t[0] = 0
        cases.append((x0, t, noise, _betas(T, b0, b1)))
    return cases


def _ab(betas):
    return np.cumprod(1 - betas)


@checker("ex-diffusion-forward", example=lambda: _example_forward)
def check_forward_sample(fn):
    """``fn(x0, t, noise, betas)``: x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise for rows x0 (B, n),
    0-based steps t (B,) and the schedule's betas (T,); numpy in, numpy out."""
    return check_function(
        "ex-diffusion-forward", fn, reference=_reference_forward, cases=_forward_cases(), expect="array",
        rtol=1e-5, atol=1e-7,
        case_names=["4 rows, T = 10", "6 rows, T = 50", "3 rows, T = 100"],
        mistakes=[(tolerant(wrong), why) for wrong, why in [
            (lambda x0, t, e, b: np.sqrt(1 - b[t])[:, None] * x0 + np.sqrt(b[t])[:, None] * e,
             "you used alpha_t = 1 - beta_t of one step; x_t given x_0 needs alpha_bar_t, the PRODUCT of the alphas "
             "up to step t (np.cumprod)."),
            (lambda x0, t, e, b: _ab(b)[t][:, None] * x0 + (1 - _ab(b)[t])[:, None] * e,
             "you multiplied by alpha_bar_t and 1 - alpha_bar_t; those are the VARIANCES. Scale by their "
             "square roots."),
            (lambda x0, t, e, b: np.sqrt(np.concatenate([[1.0], _ab(b)])[t])[:, None] * x0
             + np.sqrt(1 - np.concatenate([[1.0], _ab(b)])[t])[:, None] * e,
             "an off-by-one: step t (0-based) includes beta_t itself, so alpha_bar_t = prod(1 - betas[:t + 1])."),
            (lambda x0, t, e, b: np.sqrt(_ab(b)[t])[:, None] * x0 + e,
             "the noise must be scaled by sqrt(1 - alpha_bar_t), so that the variance stays 1 when x0 has variance 1."),
        ]],
        hint="alpha_bar = np.cumprod(1 - betas)[t][:, None]; then "
             "np.sqrt(alpha_bar) * x0 + np.sqrt(1 - alpha_bar) * noise.",
    )


# --------------------------------------------------------------------------------- smoothed Gaussian score

def _reference_score(x, m, s, sigma):
    return (np.asarray(m) - np.asarray(x)) / (s ** 2 + sigma ** 2)


def _score_cases():
    rng = np.random.default_rng(7)
    return [(rng.standard_normal((5, 2)), np.array([0.5, -1.0]), 0.3, 0.2),
            (rng.standard_normal((4, 3)) * 2, np.zeros(3), 1.0, 0.5),
            (rng.standard_normal((3, 2)), np.array([2.0, 0.0]), 0.2, 1.5)]


@checker("ex-diffusion-gaussian-score", example=lambda: _reference_score)
def check_gaussian_score(fn):
    """``fn(x, m, s, sigma)``: the score grad_x log p_sigma(x) at the rows of x (N, d) of N(m, s^2 I) smoothed
    by Gaussian noise of standard deviation sigma; numpy in, (N, d) numpy out."""
    return check_function(
        "ex-diffusion-gaussian-score", fn, reference=_reference_score, cases=_score_cases(), expect="array",
        rtol=1e-6, atol=1e-9,
        case_names=["2-d, s = 0.3, sigma = 0.2", "3-d, s = 1, sigma = 0.5", "2-d, s = 0.2, sigma = 1.5"],
        mistakes=[(tolerant(wrong), why) for wrong, why in [
            (lambda x, m, s, sg: (m - x) / s ** 2,
             "that is the score of the clean density; smoothing by sigma adds sigma^2 to the variance."),
            (lambda x, m, s, sg: (x - m) / (s ** 2 + sg ** 2),
             "the sign is flipped: the score points towards the mean, where the density grows."),
            (lambda x, m, s, sg: (m - x) / (s + sg) ** 2,
             "standard deviations do not add; the VARIANCES of independent Gaussians do: s^2 + sigma^2."),
            (lambda x, m, s, sg: (m - x) / np.sqrt(s ** 2 + sg ** 2),
             "divide by the variance s^2 + sigma^2, not by the standard deviation."),
        ]],
        hint="p_sigma = N(m, (s^2 + sigma^2) I), and the score of N(m, v I) is (m - x) / v.",
    )


# ------------------------------------------------------------------------------------ one ancestral step

def _reference_mean(x_t, eps_hat, t, betas):
    return ddpm_step_mean(torch.as_tensor(x_t), torch.as_tensor(eps_hat), int(t), _schedule_from(betas)).numpy()


def _example_mean(x_t, eps_hat, t, betas):
    alpha = 1 - betas[t]
    alpha_bar = np.prod(1 - betas[:t + 1])
    return (x_t - betas[t] / np.sqrt(1 - alpha_bar) * eps_hat) / np.sqrt(alpha)


def _mean_cases():
    rng = np.random.default_rng(11)
    return [(rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), t, _betas(T, b0, b1))
            for t, T, b0, b1 in [(5, 10, 0.01, 0.3), (49, 50, 0.002, 0.2), (1, 100, 0.001, 0.2)]]


@checker("ex-diffusion-ddpm-mean", example=lambda: _example_mean)
def check_ddpm_mean(fn):
    """``fn(x_t, eps_hat, t, betas)``: the mean of one ancestral DDPM step, (x_t - beta_t / sqrt(1 - alpha_bar_t)
    eps_hat) / sqrt(alpha_t), for rows x_t and predicted noise eps_hat (B, n), an integer 0-based step t and the
    betas (T,)."""
    return check_function(
        "ex-diffusion-ddpm-mean", fn, reference=_reference_mean, cases=_mean_cases(), expect="array",
        rtol=1e-5, atol=1e-7,
        case_names=["t = 5 of 10", "the last step, t = 49 of 50", "t = 1 of 100"],
        mistakes=[(tolerant(wrong), why) for wrong, why in [
            (lambda x, e, t, b: (x - b[t] / np.sqrt(1 - b[t]) * e) / np.sqrt(1 - b[t]),
             "in the noise coefficient use 1 - alpha_bar_t (all the noise added up to step t), not beta_t's "
             "own alpha."),
            (lambda x, e, t, b: x - b[t] / np.sqrt(1 - _ab(b)[t]) * e,
             "you forgot to divide by sqrt(alpha_t): each forward step shrinks x by sqrt(alpha_t), so the step "
             "back must scale it up."),
            (lambda x, e, t, b: (x - np.sqrt(1 - _ab(b)[t]) * e) / np.sqrt(_ab(b)[t]),
             "that is Tweedie's estimate of x_0 (all the noise removed at once), not the mean of x_{t-1}."),
            (lambda x, e, t, b: (x - b[t] / (1 - _ab(b)[t]) * e) / np.sqrt(1 - b[t]),
             "the noise coefficient is beta_t / SQRT(1 - alpha_bar_t)."),
        ]],
        hint="alpha_bar_t = np.prod(1 - betas[:t + 1]); mean = (x_t - betas[t] / sqrt(1 - alpha_bar_t) * eps_hat) "
             "/ sqrt(1 - betas[t]).",
    )


# ------------------------------------------------------------------------- the signal left at the end

def _signal_left() -> float:
    return float(NoiseSchedule(SCHEDULE_STEPS).alpha_bars[-1])


@checker("ex-diffusion-signal-left", kind="value", example=_signal_left)
def check_signal_left(value):
    """alpha_bar_T of the chapter's schedule (100 steps, beta linear from 0.001 to 0.2): the fraction of x_0's
    variance left in x_T."""
    b = _betas(SCHEDULE_STEPS, 0.001, 0.2)
    want = _signal_left()
    return check_value(
        "ex-diffusion-signal-left", value, want, rtol=1e-3, what="alpha_bar_T",
        mistakes=[
            (float(np.sqrt(want)),
             "that is sqrt(alpha_bar_T), the factor on x_0; the variance fraction is its square."),
            (float(1 - b[-1]), "that is alpha_T of the last step alone; multiply the alphas of all 100 steps."),
            (float(np.exp(-b.sum())), "exp(-sum beta) is a good approximation, but not the product asked for: "
                                      "compute prod(1 - beta_t) exactly."),
            (float(1 - want), "that is the NOISE variance 1 - alpha_bar_T."),
        ],
        hint="alpha_bar_T = prod over t of (1 - beta_t), with the 100 betas np.linspace(0.001, 0.2, 100).",
    )
