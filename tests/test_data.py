"""Data sets: shapes, ranges, seeded splits, and corruptions that never touch their input."""
import numpy as np
import pytest
import torch

import aecourse
from aecourse.data import corrupt


def test_digits_split_stratified_and_seeded():
    s = aecourse.load_digits()
    assert s.X_train.shape == (1347, 64) and s.X_test.shape == (450, 64)
    assert s.X_train.dtype == np.float32 and 0 <= s.X_train.min() and s.X_train.max() <= 1
    # Stratified: every class keeps (nearly) its share in the test set.
    assert np.all(np.abs(np.bincount(s.y_test) / 450 - np.bincount(s.y_train) / 1347) < 0.01)
    again = aecourse.load_digits()
    assert np.array_equal(s.X_test, again.X_test)
    other = aecourse.load_digits(seed=1)
    assert not np.array_equal(s.X_test, other.X_test)


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, "0.2", True])
def test_digits_bad_test_size(bad):
    with pytest.raises(ValueError, match=f"test_size={bad!r} must be a fraction strictly between 0 and 1"):
        aecourse.load_digits(test_size=bad)


def test_generated_sets():
    X, t = aecourse.make_swiss_roll(500, seed=1)
    assert X.shape == (500, 3) and t.shape == (500,)
    assert np.allclose(X.mean(0), 0, atol=1e-5) and np.allclose(X.std(0), 1, atol=1e-4)
    assert np.array_equal(X, aecourse.make_swiss_roll(500, seed=1)[0])
    X, t = aecourse.make_s_curve(300, seed=0)
    assert X.shape == (300, 3)
    X, y = aecourse.make_gaussian_clouds(90, n_features=5, n_clusters=3, seed=2)
    assert X.shape == (90, 5) and set(np.unique(y)) == {0, 1, 2}
    with pytest.raises(ValueError, match="n_clusters=10 must be between 1 and 5"):
        aecourse.make_gaussian_clouds(5, n_clusters=10)


@pytest.mark.parametrize("kind", aecourse.data.CORRUPTIONS)
def test_corrupt_copies_and_is_seeded(kind):
    X = np.random.default_rng(0).random((200, 64)).astype(np.float32)
    before = X.copy()
    Y = corrupt(X, kind, 0.25, seed=1)
    assert np.array_equal(X, before), "corrupt must never modify its input"
    assert Y.shape == X.shape and Y.dtype == X.dtype and not np.array_equal(X, Y)
    assert np.array_equal(Y, corrupt(X, kind, 0.25, seed=1))
    assert not np.array_equal(Y, corrupt(X, kind, 0.25, seed=2))
    T = torch.from_numpy(X)
    out = corrupt(T, kind, 0.25, seed=1)
    assert isinstance(out, torch.Tensor) and torch.equal(T, torch.from_numpy(before))


def test_corrupt_statistics():
    X = np.full((400, 100), 0.5, dtype=np.float32)
    g = corrupt(X, "gaussian", 0.2, seed=0) - X
    assert abs(g.std() - 0.2) < 0.005 and abs(g.mean()) < 0.005
    m = corrupt(X, "masking", 0.3, seed=0)
    assert abs((m == 0).mean() - 0.3) < 0.01 and set(np.unique(m)) <= {0.0, 0.5}
    sp = corrupt(X, "salt_pepper", 0.3, seed=0)
    assert abs((sp != 0.5).mean() - 0.3) < 0.01
    assert abs((sp == 1).mean() - 0.15) < 0.01 and abs((sp == 0).mean() - 0.15) < 0.01


def test_corrupt_errors():
    X = np.zeros((2, 2))
    with pytest.raises(ValueError, match="kind='blur' is not supported; choose one of 'gaussian'"):
        corrupt(X, "blur", 0.1)
    with pytest.raises(ValueError, match="level=1.5 is a fraction of entries"):
        corrupt(X, "masking", 1.5)
    with pytest.raises(ValueError, match="level=-0.1 must be >= 0"):
        corrupt(X, "gaussian", -0.1)
