"""Checkers on convolutional autoencoders and their applications: the parameter count of a convolutional
autoencoder (predicted, then measured), the ROC AUC by the rank formula, precision@k, and a detection threshold
at a given false-positive rate."""
from __future__ import annotations

import numpy as np

from ..anomaly import roc_auc, threshold_at_fpr
from ..retrieval import precision_at_k
from ._core import check_function, check_value, checker, tolerant

__all__ = ["check_conv_params", "check_roc_auc", "check_precision_at_k", "check_threshold_at_fpr",
           "CONV_CHANNELS", "CONV_CODE"]

CONV_CHANNELS, CONV_CODE = (8, 16), 10     # the chapter's ConvAutoencoder: 8x8 images, code width 10


# ------------------------------------------------------------------------------------- parameter count

def _conv_params(bias: bool = True, channel_product: bool = True) -> int:
    c1, c2 = CONV_CHANNELS
    p, b = CONV_CODE, int(bias)

    def conv(c_in, c_out):                               # a 3x3 filter per (input, output) channel pair
        return 9 * (c_in if channel_product else 1) * c_out + b * c_out

    n_map = c2 * 2 * 2                                  # 8x8 -> 4x4 -> 2x2
    return (conv(1, c1) + conv(c1, c2) + n_map * p + b * p          # encoder
            + p * n_map + b * n_map + conv(c2, c1) + conv(c1, 1))  # decoder (transposed convolutions)


@checker("ex-conv-params", kind="value", example=lambda: _conv_params())
def check_conv_params(value):
    """The number of trainable parameters of ``ConvAutoencoder(10, channels=(8, 16))`` on 8x8 images."""
    want = _conv_params()
    return check_value(
        "ex-conv-params", value, want, rtol=0, atol=0.5, what="the parameter count",
        mistakes=[
            (_conv_params(bias=False), "you left out the biases: one per output channel of each (transposed) "
                                       "convolution and one per output of each linear layer."),
            (_conv_params(channel_product=False),
             "a 3x3 convolution from c_in to c_out channels has c_in * c_out filters of 9 weights, not c_out."),
            (want - (16 * 4 * 10 + 10) - (10 * 64 + 64),
             "do not forget the two linear layers between the 2x2x16 feature map and the 10-unit code."),
            (2 * (9 * 8 + 8 + 9 * 8 * 16 + 16 + 64 * 10 + 10),
             "the decoder is not an exact mirror: its biases sit on the other side of each layer (8 and 1 "
             "channels for the transposed convolutions, 64 for the linear layer)."),
        ],
        hint="count each layer: Conv2d(1, 8, 3), Conv2d(8, 16, 3), Linear(64, 10), Linear(10, 64), "
             "ConvTranspose2d(16, 8, 3), ConvTranspose2d(8, 1, 3); a 3x3 layer has 9 c_in c_out weights and c_out biases.",
    )


# ------------------------------------------------------------------------------------------- ROC AUC

def _example_auc(labels, scores):
    labels, scores = np.asarray(labels), np.asarray(scores)
    pos, neg = scores[labels == 1], scores[labels == 0]
    return float((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())


def _auc_cases():
    rng = np.random.default_rng(4)
    y1 = (rng.random(40) < 0.3).astype(int)
    s1 = rng.standard_normal(40) + 1.2 * y1
    y2 = np.array([0, 0, 1, 0, 1, 1, 0, 1])
    s2 = np.array([0.1, 0.4, 0.4, 0.2, 0.9, 0.1, 0.5, 0.4])             # ties across the classes
    y3 = (rng.random(30) < 0.5).astype(int)
    s3 = np.round(rng.standard_normal(30) - y3, 0)                      # worse than chance, many ties
    return [(y1, s1), (y2, s2), (y3, s3)]


def _auc_strict(labels, scores):
    labels, scores = np.asarray(labels), np.asarray(scores)
    return float((scores[labels == 1][:, None] > scores[labels == 0][None, :]).mean())


def _auc_ordinal_ranks(labels, scores):
    labels, scores = np.asarray(labels), np.asarray(scores)
    r = np.argsort(np.argsort(scores, kind="stable"), kind="stable") + 1.0
    n1 = labels.sum()
    return float((r[labels == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * (len(labels) - n1)))


@checker("ex-roc-auc", example=lambda: _example_auc)
def check_roc_auc(fn):
    """``fn(labels, scores)``: the ROC AUC of the scores (higher: more anomalous) for 0/1 labels, ties counting
    one half; one float."""
    return check_function(
        "ex-roc-auc", fn, reference=roc_auc, cases=_auc_cases(), expect="float", rtol=1e-9, atol=1e-12,
        case_names=["40 examples, no ties", "8 examples with ties across the classes",
                    "30 examples, worse than chance, many ties"],
        mistakes=[(tolerant(wrong), why) for wrong, why in [
            (_auc_strict, "you counted only the pairs where the anomaly scores strictly higher; a tie counts one half."),
            (lambda y, s: 1 - roc_auc(y, s), "your AUC is flipped: it is the probability that an ANOMALY (label 1) "
                                             "scores higher than a normal example."),
            (_auc_ordinal_ranks, "tied scores must share their average rank; argsort of argsort gives tied "
                                 "scores different ranks."),
            (lambda y, s: float(((np.asarray(s) > np.median(s)) == np.asarray(y)).mean()),
             "that is the accuracy at one threshold (the median); the AUC summarises every threshold."),
        ]],
        hint="average over all (anomaly, normal) pairs of [s_anomaly > s_normal] + 0.5 [s_anomaly == s_normal].",
    )


# ------------------------------------------------------------------------------------------ precision@k

def _example_pak(idx, yq, yd):
    return float((np.asarray(yd)[idx] == np.asarray(yq)[:, None]).mean())


def _pak_cases():
    rng = np.random.default_rng(8)
    yd = rng.integers(0, 4, 60)
    cases = []
    for n_q, k in [(12, 10), (5, 3), (7, 1)]:
        yq = rng.integers(0, 4, n_q)
        idx = np.stack([rng.permutation(60)[:k] for _ in range(n_q)])
        # Make the first neighbour usually right, so that precision@1 differs from precision@k.
        same = [np.flatnonzero(yd == c) for c in yq]
        idx[:, 0] = [s[0] for s in same]
        cases.append((idx, yq, yd))
    return cases


@checker("ex-precision-at-k", example=lambda: _example_pak)
def check_precision_at_k(fn):
    """``fn(neighbor_indices, query_labels, database_labels)``: the mean over queries of the fraction of their
    k retrieved items (rows of ``neighbor_indices``, indices into the database) that share the query's label."""
    return check_function(
        "ex-precision-at-k", fn, reference=precision_at_k, cases=_pak_cases(), expect="float", rtol=1e-9,
        atol=1e-12, case_names=["12 queries, k = 10", "5 queries, k = 3", "7 queries, k = 1"],
        mistakes=[(tolerant(wrong), why) for wrong, why in [
            (lambda idx, yq, yd: float((np.asarray(yd)[idx[:, 0]] == yq).mean()),
             "you scored only the first neighbour (precision@1); count all k retrieved items of each query."),
            (lambda idx, yq, yd: float((np.asarray(yd)[idx] == np.asarray(yq)[:, None]).sum(1).mean()),
             "that is the number of correct items per query; divide by k for a fraction."),
            (lambda idx, yq, yd: float((np.asarray(idx) == np.asarray(yq)[:, None]).mean()),
             "you compared the indices with the labels; look the labels up first: database_labels[neighbor_indices]."),
            (lambda idx, yq, yd: float((np.asarray(yd)[idx] == np.asarray(yq)[None, :idx.shape[1]]).mean()),
             "compare each row of retrieved labels with ITS query's label: query_labels[:, None]."),
        ]],
        hint="(database_labels[neighbor_indices] == query_labels[:, None]).mean().",
    )


# ------------------------------------------------------------------------------------ threshold at a rate

def _example_thr(scores, fpr):
    s = np.sort(np.asarray(scores))[::-1]
    return float(s[int(np.floor(fpr * len(s) + 1e-9))])


def _thr_cases():
    rng = np.random.default_rng(6)
    return [(rng.standard_normal(100), 0.05), (rng.random(37), 0.1), (rng.exponential(size=250), 0.01),
            (rng.standard_normal(20), 0.0)]


@checker("ex-threshold-fpr", example=lambda: _example_thr)
def check_threshold_at_fpr(fn):
    """``fn(normal_scores, fpr)``: the lowest threshold t such that at most a fraction fpr of the normal scores
    exceed it (an example is flagged when its score > t); one float."""
    return check_function(
        "ex-threshold-fpr", fn, reference=threshold_at_fpr, cases=_thr_cases(), expect="float", rtol=1e-12,
        atol=1e-12, case_names=["100 scores, fpr 0.05", "37 scores, fpr 0.1", "250 scores, fpr 0.01",
                                "20 scores, fpr 0 (flag none)"],
        mistakes=[(tolerant(wrong), why) for wrong, why in [
            (lambda s, f: float(np.quantile(s, f)),
             "that threshold flags a fraction 1 - fpr of the normal scores; the false positives are the HIGH scores."),
            (lambda s, f: float(np.quantile(s, 1 - f)),
             "np.quantile interpolates between scores, so its threshold can flag more than the rate allows or "
             "sit between two scores; use one of the scores themselves."),
            (lambda s, f: float(np.sort(s)[::-1][max(int(np.floor(f * len(s) + 1e-9)) - 1, 0)]),
             "off by one: your threshold flags fewer normal scores than the rate allows; the lowest valid "
             "threshold is the (floor(fpr n) + 1)-th largest score."),
            (lambda s, f: float(np.sort(s)[::-1][int(np.floor(f * len(s) + 1e-9)) + 1]),
             "off by one: your threshold flags one normal score too many."),
        ]],
        hint="sort the scores in decreasing order and take the one at position floor(fpr * n) (0-based).",
    )
