"""Retrieval: nearest neighbours against scikit-learn's NearestNeighbors, precision@k against a loop, packed
Hamming distances against a numpy bit count, and the hashing autoencoder's noise."""
import numpy as np
import pytest
import torch
from sklearn.neighbors import NearestNeighbors

import aecourse
from aecourse import retrieval as rt


def test_nearest_neighbors_match_sklearn():
    rng = np.random.default_rng(0)
    D, Q = rng.random((200, 6)), rng.random((30, 6))
    _, want = NearestNeighbors(n_neighbors=7).fit(D).kneighbors(Q)
    assert np.array_equal(rt.nearest_neighbors(Q, D, 7), want)
    assert np.array_equal(rt.nearest_neighbors(Q, D, 200)[:, :7], want)
    with pytest.raises(ValueError, match="k=201 must be between 1 and 200"):
        rt.nearest_neighbors(Q, D, 201)
    with pytest.raises(ValueError, match="queries have 5 features but database has 6"):
        rt.nearest_neighbors(Q[:, :5], D)


def test_precision_at_k_against_a_loop():
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 50, (20, 10))
    yq, yd = rng.integers(0, 3, 20), rng.integers(0, 3, 50)
    want = np.mean([np.mean([yd[j] == yq[i] for j in idx[i]]) for i in range(20)])
    assert rt.precision_at_k(idx, yq, yd) == pytest.approx(want)
    with pytest.raises(ValueError, match="must be a 2-D integer array"):
        rt.precision_at_k(idx.astype(float), yq, yd)
    with pytest.raises(ValueError, match="must lie in \\[0, 49\\]"):
        rt.precision_at_k(idx + 1, yq, yd)


@pytest.mark.parametrize("n_bits", [5, 32, 64, 100])
def test_hamming_distances_match_a_bit_count(n_bits):
    rng = np.random.default_rng(n_bits)
    A, B = rng.integers(0, 2, (13, n_bits)), rng.integers(0, 2, (17, n_bits))
    want = (A[:, None, :] != B[None, :, :]).sum(2)
    P, R = rt.pack_bits(A), rt.pack_bits(B)
    assert P.dtype == np.uint64 and P.shape == (13, -(-n_bits // 64))
    assert np.array_equal(rt.hamming_distances(P, R), want)
    # The neighbours: the k smallest distances, ties broken by the lower index.
    order = np.argsort(want, axis=1, kind="stable")[:, :4]
    assert np.array_equal(rt.hamming_neighbors(P, R, 4), order)


def test_popcount_fallback_matches_numpy(monkeypatch):
    x = np.random.default_rng(3).integers(0, 2**63, (4, 5), dtype=np.uint64)
    want = np.array([[bin(int(v)).count("1") for v in row] for row in x])
    assert np.array_equal(rt._popcount(x), want)
    monkeypatch.delattr(np, "bitwise_count", raising=False)
    assert np.array_equal(rt._popcount(x), want)


def test_binarize_and_pack_errors():
    assert np.array_equal(rt.binarize(torch.tensor([[0.2, 0.7], [0.5, 0.51]])), [[0, 1], [0, 1]])
    with pytest.raises(ValueError, match="bits must be a 2-D array of 0s and 1s"):
        rt.pack_bits(np.array([[0, 2]]))
    with pytest.raises(ValueError, match="2-D uint64 arrays with the same number of words"):
        rt.hamming_distances(np.zeros((2, 1), np.uint8), np.zeros((2, 1), np.uint8))


def test_hashing_autoencoder_noise_only_in_training():
    m = rt.HashingAutoencoder(64, 8, (16,), noise=4.0, seed=0)
    x = torch.rand(6, 64, generator=torch.Generator().manual_seed(0))
    m.train()
    a, b = m.encode(x), m.encode(x)
    assert not torch.allclose(a, b)                                   # fresh noise each call
    m.eval()
    assert torch.equal(m.encode(x), m.encode(x))
    assert torch.allclose(m.encode(x), torch.sigmoid(m.encoder(x)))
    assert m(x).shape == (6, 64)
    same = rt.HashingAutoencoder(64, 8, (16,), noise=4.0, seed=0)
    assert all(torch.equal(p, q) for p, q in zip(m.parameters(), same.parameters()))
    with pytest.raises(ValueError, match="noise=-1"):
        rt.HashingAutoencoder(64, 8, noise=-1.0)


def test_hashing_autoencoder_trains_and_noise_saturates_the_code():
    X = aecourse.load_digits().X_train[:400]
    codes = {}
    for noise in (0.0, 4.0):
        m = rt.HashingAutoencoder(64, 16, (32,), noise=noise, seed=0)
        aecourse.train(m, X, epochs=40, batch_size=100, lr=1e-2, progress=False)
        with torch.no_grad():
            codes[noise] = m.encode(torch.as_tensor(X)).numpy()
    saturated = {k: float(((c < 0.1) | (c > 0.9)).mean()) for k, c in codes.items()}
    assert saturated[4.0] > saturated[0.0] + 0.2, saturated
