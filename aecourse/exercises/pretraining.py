"""Checkers on greedy layer-wise pretraining: the clean codes each layer trains on, the forward pass of the
unrolled deep autoencoder, the balanced labelled subset of a few-label experiment, and the gain of one
method over another with its standard error over paired seeds."""
from __future__ import annotations

import numpy as np

from ._core import _call, _to_numpy, check_function, checker, failed, passed, tolerant

__all__ = ["check_clean_codes", "check_unrolled_forward", "check_balanced_subset", "check_gain_and_error"]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _params(rng, widths):
    """(W, b) pairs in PyTorch's layout: W (n_out, n_in), so that a layer computes h @ W.T + b."""
    return [(rng.standard_normal((o, i)), 0.5 * rng.standard_normal(o)) for i, o in zip(widths[:-1], widths[1:])]


# ---------------------------------------------------------------------------------------- clean codes

def _reference_codes(X, weights, biases):
    h = np.asarray(X, dtype=np.float64)            # (N, n)
    for W, b in zip(weights, biases):
        h = _sigmoid(h @ np.asarray(W).T + b)      # (N, n_out): what the next layer is trained on
    return h


def _example_codes(X, weights, biases):
    h = X
    for W, b in zip(weights, biases):
        h = 1 / (1 + np.exp(-(h @ W.T + b)))
    return h


def _codes_cases():
    rng = np.random.default_rng(7)
    cases = []
    for widths, n in [((6, 4, 3), 5), ((8, 6, 5, 2), 4), ((3, 3), 6)]:
        pairs = _params(rng, widths)
        cases.append((rng.random((n, widths[0])), [W for W, _ in pairs], [b for _, b in pairs]))
    return cases


def _codes_linear(X, weights, biases):
    h = X
    for W, b in zip(weights, biases):
        h = h @ W.T + b
    return h


def _codes_top_only(X, weights, biases):
    return _sigmoid(_codes_linear(X, weights, biases))


def _codes_tanh(X, weights, biases):
    h = X
    for W, b in zip(weights, biases):
        h = np.tanh(h @ W.T + b)
    return h


def _codes_no_bias(X, weights, biases):
    h = X
    for W in weights:
        h = _sigmoid(h @ W.T)
    return h


@checker("ex-stack-clean-codes", example=lambda: _example_codes)
def check_clean_codes(fn):
    """``fn(X, weights, biases)`` must return the codes of the top layer of a sigmoid stack: every layer
    computes sigmoid(h @ W.T + b) of the previous layer's clean output."""
    return check_function(
        "ex-stack-clean-codes", fn, reference=_reference_codes, cases=_codes_cases(), expect="array",
        rtol=1e-6, atol=1e-8,
        mistakes=[
            (_codes_linear, "every layer of this stack applies the sigmoid; without it the stack of linear "
                            "maps collapses into a single linear map."),
            (_codes_top_only, "apply the sigmoid after EVERY layer, not once at the end: each layer was "
                              "trained on the sigmoid codes of the layer below."),
            (_codes_tanh, "the stack uses the logistic sigmoid 1 / (1 + exp(-z)), not tanh."),
            (_codes_no_bias, "each layer adds its bias: sigmoid(h @ W.T + b)."),
        ],
        hint="start from h = X and, for each (W, b) in turn, set h = sigmoid(h @ W.T + b) (W has shape "
             "(n_out, n_in), PyTorch's layout); no noise between layers; return the last h.",
    )


# ----------------------------------------------------------------------------------- unrolled forward

def _reference_unrolled(X, encoders, decoders):
    h = np.asarray(X, dtype=np.float64)                       # (N, n)
    k = len(encoders)
    for i, (W, b) in enumerate(encoders):
        h = h @ np.asarray(W).T + b
        if i < k - 1:                                         # hidden layers: sigmoid; the code is linear
            h = _sigmoid(h)
    for i, (V, c) in zip(range(k - 1, -1, -1), reversed(decoders)):  # top decoder first
        h = h @ np.asarray(V).T + c
        if i > 0:                                             # hidden layers: sigmoid; the output is linear
            h = _sigmoid(h)
    return h                                                  # (N, n)


def _example_unrolled(X, encoders, decoders):
    h = X
    for i, (W, b) in enumerate(encoders):
        h = h @ W.T + b
        if i < len(encoders) - 1:
            h = 1 / (1 + np.exp(-h))
    for i in reversed(range(len(decoders))):
        V, c = decoders[i]
        h = h @ V.T + c
        if i > 0:
            h = 1 / (1 + np.exp(-h))
    return h


def _unrolled_cases():
    rng = np.random.default_rng(11)
    cases = []
    # The first case has equal widths, so that decoders applied in the wrong order still run (and are caught).
    for widths, n in [((4, 4, 4), 5), ((6, 4, 3, 2), 4), ((5, 2), 3)]:
        enc = _params(rng, widths)
        dec = [(0.7 * rng.standard_normal((i, o)), 0.3 * rng.standard_normal(i))
               for i, o in zip(widths[:-1], widths[1:])]
        cases.append((rng.random((n, widths[0])), enc, dec))
    return cases


def _unrolled_variant(code_sigmoid=False, out_sigmoid=False, forward_order=False):
    def fn(X, encoders, decoders):
        h = np.asarray(X, dtype=np.float64)
        k = len(encoders)
        for i, (W, b) in enumerate(encoders):
            h = h @ W.T + b
            if i < k - 1 or code_sigmoid:
                h = _sigmoid(h)
        order = list(range(k)) if forward_order else list(range(k - 1, -1, -1))
        for i in order:
            V, c = decoders[i]
            h = h @ V.T + c
            if i > 0 or out_sigmoid:
                h = _sigmoid(h)
        return h
    return tolerant(fn)


@checker("ex-stack-unroll", example=lambda: _example_unrolled)
def check_unrolled_forward(fn):
    """``fn(X, encoders, decoders)`` must return the reconstruction of the unrolled deep autoencoder:
    encoders in order (sigmoid, linear code), then the decoders from the top down (sigmoid, linear output)."""
    return check_function(
        "ex-stack-unroll", fn, reference=_reference_unrolled, cases=_unrolled_cases(), expect="array",
        rtol=1e-6, atol=1e-8,
        mistakes=[
            (_unrolled_variant(forward_order=True),
             "the decoders run in reverse order: decoders[-1] (top layer) maps the code back first, "
             "decoders[0] produces the reconstruction last, mirroring the encoder."),
            (_unrolled_variant(code_sigmoid=True),
             "the code layer is linear, as in Hinton & Salakhutdinov's deep autoencoders: no sigmoid after "
             "the last encoder."),
            (_unrolled_variant(out_sigmoid=True),
             "the output layer is linear here (out_activation=None): no sigmoid after decoders[0]."),
            (_unrolled_variant(code_sigmoid=True, out_sigmoid=True),
             "both ends are linear: no sigmoid on the code, none on the reconstruction; only the hidden "
             "layers in between use it."),
        ],
        hint="encode with every (W, b) in order, sigmoid after all but the last; then decode with the "
             "decoders from last to first, sigmoid after all but decoders[0].",
    )


# --------------------------------------------------------------------------------- balanced subset

def _example_subset(y, n_per_class, seed):
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(y == c), n_per_class, replace=False) for c in np.unique(y)]
    return np.sort(np.concatenate(picks))


def _subset_cases():
    rng = np.random.default_rng(3)
    y1 = rng.permutation(np.repeat(np.arange(4), [30, 34, 31, 40]))   # unequal classes, shuffled
    y2 = rng.permutation(np.repeat(np.array([2, 5, 9]), [25, 26, 27]))  # labels that are not 0..C-1
    return [(y1, 3), (y2, 5), (y1, 1)]


@checker("ex-stack-balanced-subset", example=lambda: _example_subset)
def check_balanced_subset(fn):
    """``fn(y, n_per_class, seed)`` must return the indices of ``n_per_class`` examples of every class,
    drawn at random without replacement, the same for the same seed."""
    label = "ex-stack-balanced-subset"
    changed_with_seed = False
    for k, (y, n) in enumerate(_subset_cases()):
        classes = np.unique(y)
        case = f"test input {k + 1} (n_per_class={n}, {len(classes)} classes, {len(y)} labels)"
        outs = []
        for seed in (0, 0, 1):
            out = _to_numpy(label, _call(label, fn, (y, n, seed), case), "array", case)
            if out.ndim != 1:
                failed(label, f"expected a 1-D array of indices, but got shape {out.shape} (on {case}).",
                       "return one flat array of row indices, e.g. with np.concatenate.")
            if out.dtype.kind == "b":
                failed(label, f"expected indices, but got a boolean mask (on {case}).",
                       "turn a mask into indices with np.flatnonzero(mask).")
            if out.dtype.kind not in "iu":
                failed(label, f"expected integer indices, but got dtype {out.dtype} (on {case}).",
                       "indices are integers: np.flatnonzero and rng.choice return them.")
            if len(out) and (out.min() < 0 or out.max() >= len(y)):
                failed(label, f"some indices are outside 0..{len(y) - 1} (on {case}).",
                       "return positions in y (rows), not labels or counts.")
            if len(np.unique(out)) != len(out):
                failed(label, f"some indices appear twice (on {case}).",
                       "draw without replacement: rng.choice(..., replace=False).")
            counts = {int(c): int((y[out] == c).sum()) for c in classes}
            if len(out) != n * len(classes) or any(v != n for v in counts.values()):
                failed(label, f"expected {n} examples of each of the {len(classes)} classes "
                              f"({n * len(classes)} in all), but got class counts {counts} (on {case}).",
                       f"draw n_per_class from EACH class (stratified), not {n * len(classes)} at random "
                       "overall: loop over np.unique(y) and pick within np.flatnonzero(y == c).")
            outs.append(np.sort(out))
        if not np.array_equal(outs[0], outs[1]):
            failed(label, f"two calls with the same seed gave different subsets (on {case}).",
                   "make the draw depend only on seed: rng = np.random.default_rng(seed), and use rng.")
        changed_with_seed |= not np.array_equal(outs[0], outs[2])
    if not changed_with_seed:
        failed(label, "seeds 0 and 1 gave exactly the same subsets on every test input.",
               "draw at random with rng = np.random.default_rng(seed): taking the first n of each class "
               "picks the same examples whatever the seed, so the error bars over seeds would be meaningless.")
    return passed(label, "balanced, without repeats, and reproducible for a seed: a fair labelled subset.")


# ------------------------------------------------------------------------------------ gain with error

def _reference_gain(acc_a, acc_b):
    d = np.asarray(acc_a, dtype=np.float64) - np.asarray(acc_b, dtype=np.float64)   # (S,) paired by seed
    return np.array([d.mean(), d.std(ddof=1) / np.sqrt(len(d))])


def _example_gain(acc_a, acc_b):
    diff = np.asarray(acc_a) - np.asarray(acc_b)
    return diff.mean(), diff.std(ddof=1) / np.sqrt(len(diff))


def _gain_cases():
    # Seed s gives both methods the same labelled subset, so their accuracies move together: the paired
    # error is much smaller than the unpaired one on these inputs.
    a1, b1 = np.array([0.84, 0.88, 0.81, 0.86, 0.83]), np.array([0.73, 0.79, 0.69, 0.76, 0.72])
    a2, b2 = np.array([0.95, 0.96, 0.955, 0.962]), np.array([0.87, 0.88, 0.861, 0.874])
    a3, b3 = np.array([0.6, 0.7, 0.65]), np.array([0.62, 0.64, 0.70])
    return [(a1, b1), (a2, b2), (a3, b3)]


def _unpaired(acc_a, acc_b):
    a, b = np.asarray(acc_a), np.asarray(acc_b)
    return np.array([a.mean() - b.mean(), np.hypot(a.std(ddof=1), b.std(ddof=1)) / np.sqrt(len(a))])


@checker("ex-stack-gain", example=lambda: _example_gain)
def check_gain_and_error(fn):
    """``fn(acc_a, acc_b)`` with per-seed accuracies (S,) of two methods, paired by seed -> (gain, standard
    error): the mean of the per-seed differences a - b and its standard error."""
    d = lambda a, b: np.asarray(a) - np.asarray(b)   # noqa: E731
    return check_function(
        "ex-stack-gain", fn, reference=_reference_gain, cases=_gain_cases(), expect="array", rtol=1e-6,
        atol=1e-9, case_names=["5 seeds", "4 seeds", "3 seeds, b sometimes better"],
        mistakes=[
            (_unpaired,
             "that is the unpaired error, sqrt(s_a^2 + s_b^2) / sqrt(S). Seed s gives both networks the same "
             "labelled subset, so take the difference seed by seed first and use the spread of those "
             "differences: the subset's difficulty cancels."),
            (lambda a, b: np.array([d(a, b).mean(), d(a, b).std(ddof=0) / np.sqrt(len(a))]),
             "use the sample standard deviation (ddof=1): the mean of the differences is estimated from the "
             "same few seeds."),
            (lambda a, b: np.array([d(a, b).mean(), d(a, b).std(ddof=1)]),
             "that is the spread of the per-seed differences; the standard error of their MEAN divides it "
             "by sqrt(S)."),
            (lambda a, b: np.array([-d(a, b).mean(), d(a, b).std(ddof=1) / np.sqrt(len(a))]),
             "the sign is flipped: the gain of a over b is mean(a - b)."),
        ],
        hint="diff = acc_a - acc_b (one number per seed); return diff.mean(), diff.std(ddof=1) / sqrt(len(diff)).",
    )
