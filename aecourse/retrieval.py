"""Search by similarity in code space: nearest neighbours, precision@k, binary codes and Hamming search.

Retrieval with an autoencoder encodes a database once, then answers a query with the database items whose
codes are nearest. Semantic hashing (Salakhutdinov & Hinton 2009) makes the codes binary: a sigmoid code
trained with noise added before the sigmoid, so that only values near 0 or 1 carry information through the
noise, then thresholded at 1/2. Binary codes are packed into bytes and compared by the Hamming distance,
the number of differing bits: an XOR and a population count.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ._validation import as_2d_float, check_int, check_positive
from .models import _check_sizes, mlp

__all__ = ["nearest_neighbors", "precision_at_k", "binarize", "pack_bits", "hamming_distances",
           "hamming_neighbors", "HashingAutoencoder"]


def _top_k(D: np.ndarray, k: int) -> np.ndarray:
    """The column indices of the k smallest entries of each row of D, nearest first."""
    rows = np.arange(len(D))[:, None]
    idx = np.argpartition(D, k - 1, axis=1)[:, :k] if k < D.shape[1] else np.tile(np.arange(D.shape[1]), (len(D), 1))
    order = np.argsort(D[rows, idx], axis=1, kind="stable")                  # sort the k candidates
    return idx[rows, order]


def nearest_neighbors(queries, database, k: int = 10) -> np.ndarray:
    """Indices (n_queries, k) of the k rows of ``database`` nearest to each query by Euclidean distance."""
    Q, D = as_2d_float(queries, "queries"), as_2d_float(database, "database")
    if Q.shape[1] != D.shape[1]:
        raise ValueError(f"queries have {Q.shape[1]} features but database has {D.shape[1]}; encode both the same way.")
    k = check_int(k, "k", low=1, high=len(D), hint=f"the database has {len(D)} rows")
    d2 = (Q ** 2).sum(1)[:, None] - 2 * Q @ D.T + (D ** 2).sum(1)[None, :]       # (n_q, n_d), up to ||q||^2
    return _top_k(d2, k)


def precision_at_k(neighbor_indices, query_labels, database_labels) -> float:
    """The mean over queries of the fraction of their k retrieved items that share the query's label.

    neighbor_indices : (n_queries, k) integer indices into the database, as :func:`nearest_neighbors` returns.
    """
    idx = np.asarray(neighbor_indices)
    yq, yd = np.asarray(query_labels), np.asarray(database_labels)
    if idx.ndim != 2 or idx.dtype.kind not in "iu":
        raise ValueError(f"neighbor_indices must be a 2-D integer array (n_queries, k), but got shape "
                         f"{idx.shape} and dtype {idx.dtype}; pass the output of nearest_neighbors.")
    if len(idx) != len(yq):
        raise ValueError(f"neighbor_indices has {len(idx)} rows but query_labels has {len(yq)}; one row per query.")
    if idx.size and (idx.min() < 0 or idx.max() >= len(yd)):
        raise ValueError(f"neighbor_indices must lie in [0, {len(yd) - 1}] (the database has {len(yd)} labels).")
    return float((yd[idx] == yq[:, None]).mean())


def binarize(codes, threshold: float = 0.5) -> np.ndarray:
    """Bits (N, p) of dtype uint8: 1 where a code value is above ``threshold``."""
    if isinstance(codes, torch.Tensor):
        codes = codes.detach().cpu().numpy()
    return (as_2d_float(codes, "codes") > threshold).astype(np.uint8)


def pack_bits(bits) -> np.ndarray:
    """Pack 0/1 bits (N, p) into 64-bit words (N, ceil(p / 64)), uint64, for Hamming search.

    Bit j of a code lands in word j // 64; the unused bits of the last word are 0 in every code, so they
    never add to a Hamming distance.
    """
    b = np.asarray(bits)
    if b.ndim != 2 or not np.isin(b, (0, 1)).all():
        raise ValueError(f"bits must be a 2-D array of 0s and 1s, but got shape {b.shape}; use binarize(codes) first.")
    n_words = -(-b.shape[1] // 64)
    padded = np.zeros((len(b), 64 * n_words), dtype=np.uint8)
    padded[:, :b.shape[1]] = b
    return np.ascontiguousarray(np.packbits(padded, axis=1)).view(np.uint64)       # (N, n_words)


# A byte's population count, for numpy versions without np.bitwise_count (numpy < 2.0).
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)
    return _POPCOUNT[x.view(np.uint8)].reshape(*x.shape, 8).sum(-1, dtype=np.uint8)


def hamming_distances(packed_queries, packed_database) -> np.ndarray:
    """Hamming distances (n_q, n_d), int32, between packed binary codes (uint64, as :func:`pack_bits` returns)."""
    Q, D = np.asarray(packed_queries), np.asarray(packed_database)
    if Q.dtype != np.uint64 or D.dtype != np.uint64 or Q.ndim != 2 or D.ndim != 2 or Q.shape[1] != D.shape[1]:
        raise ValueError(f"packed codes must be 2-D uint64 arrays with the same number of words, but got "
                         f"{Q.dtype} {Q.shape} and {D.dtype} {D.shape}; pack both with pack_bits.")
    out = np.zeros((len(Q), len(D)), dtype=np.int32)
    for w in range(Q.shape[1]):                      # one XOR and one population count per 64-bit word
        out += _popcount(Q[:, w, None] ^ D[None, :, w])
    return out


def hamming_neighbors(packed_queries, packed_database, k: int = 10) -> np.ndarray:
    """Indices (n_q, k) of the k database codes nearest to each query in Hamming distance (ties: lower index).

    The distances are small integers, so a stable sort of them as uint8 or uint16 is a radix sort, linear in
    the database size (numpy sorts such integers that way).
    """
    D = hamming_distances(packed_queries, packed_database)
    k = check_int(k, "k", low=1, high=D.shape[1], hint=f"the database has {D.shape[1]} rows")
    small = D.astype(np.uint8 if 64 * np.asarray(packed_queries).shape[1] < 256 else np.uint16)
    return np.argsort(small, axis=1, kind="stable")[:, :k]


class HashingAutoencoder(nn.Module):
    """An autoencoder with a sigmoid code that training pushes towards 0 and 1 (semantic hashing).

    Encoder: n_features -> hidden -> n_bits logits; the code is sigmoid(logits). In training mode, Gaussian
    noise of standard deviation ``noise`` is added to the logits before the sigmoid (Salakhutdinov & Hinton
    2009): a value in the middle of the sigmoid is blurred by the noise, while one far out on either side
    comes through almost unchanged. In eval mode there is no noise. The decoder mirrors the encoder.

    Parameters
    ----------
    n_features, n_bits : input width and code width (bits).
    hidden : hidden widths of the encoder; the decoder mirrors them.
    noise : standard deviation of the noise on the logits during training (0: a plain sigmoid code).
    seed : seeds the weights and the noise.
    """

    def __init__(self, n_features: int, n_bits: int = 16, hidden: Sequence[int] = (64,), noise: float = 4.0,
                 out_activation: str | None = "sigmoid", seed: int = 0):
        super().__init__()
        n_features = check_int(n_features, "n_features", low=1)
        n_bits = check_int(n_bits, "n_bits", low=1)
        hidden = _check_sizes(hidden, "hidden")
        self.noise = check_positive(noise, "noise", allow_zero=True)
        seed = check_int(seed, "seed", low=0)
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(seed)
            self.encoder = mlp((n_features, *hidden, n_bits), "relu", None)                 # (B, n) -> (B, bits) logits
            self.decoder = mlp((n_bits, *reversed(hidden), n_features), "relu", out_activation)
        self._generator = torch.Generator().manual_seed(seed)
        self.n_features, self.n_bits = n_features, n_bits

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.encoder(x)                                                             # (B, bits)
        if self.training and self.noise > 0:
            eps = torch.randn(logits.shape, generator=self._generator).to(logits.device)
            logits = logits + self.noise * eps
        return torch.sigmoid(logits)                                                         # (B, bits) in (0, 1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)                                                               # (B, n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))
