"""Metrics against scipy, utilities, and plotting helpers' contract (ax=None, return the Axes)."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import scipy.linalg
import torch

import aecourse
from aecourse import plotting


def test_mse_psnr():
    x = np.zeros((4, 4))
    assert aecourse.mse(x, x + 0.1) == pytest.approx(0.01)
    assert aecourse.psnr(x, x + 0.1) == pytest.approx(20.0)
    assert aecourse.psnr(x, x + 0.1, data_range=2.0) == pytest.approx(20 + 20 * np.log10(2))
    assert aecourse.psnr(x, x) == float("inf")
    assert aecourse.mse(torch.zeros(2, 2), torch.ones(2, 2)) == 1.0
    with pytest.raises(ValueError, match=r"x has shape \(4, 4\) but x_hat has shape \(4, 3\)"):
        aecourse.mse(x, x[:, :3])


@pytest.mark.parametrize("p, q", [(2, 2), (3, 5), (5, 3)])
def test_principal_angles_match_scipy(p, q):
    rng = np.random.default_rng(p * 10 + q)
    A, B = rng.standard_normal((20, p)), rng.standard_normal((20, q))
    ours = aecourse.principal_angles(A, B)
    ref = np.sort(scipy.linalg.subspace_angles(A, B))
    assert np.allclose(ours, ref, atol=1e-10)
    assert np.all(np.diff(ours) >= 0)


def test_principal_angles_small_angles_are_accurate():
    rng = np.random.default_rng(0)
    A = np.linalg.qr(rng.standard_normal((30, 3)))[0]
    B = A + 1e-9 * rng.standard_normal((30, 3))
    ang = aecourse.principal_angles(A, B)
    assert ang.max() < 1e-7 and ang.max() > 0  # arccos alone would give 0 or ~1e-4 noise
    assert np.allclose(aecourse.principal_angles(A, A @ rng.standard_normal((3, 3))), 0, atol=1e-7)


def test_principal_angles_errors():
    with pytest.raises(ValueError, match="A has 5 rows and B has 4"):
        aecourse.principal_angles(np.ones((5, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="A has 2 columns but rank 1"):
        aecourse.principal_angles(np.ones((5, 2)), np.eye(5)[:, :2])


def test_set_seed_and_device(monkeypatch):
    aecourse.set_seed(3)
    a = torch.rand(2), np.random.rand(2)
    aecourse.set_seed(3)
    b = torch.rand(2), np.random.rand(2)
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert aecourse.get_device("cpu").type == "cpu"
    monkeypatch.setenv("AECOURSE_DEVICE", "tpu")
    with pytest.raises(ValueError, match="device 'tpu' is not supported"):
        aecourse.get_device()


def test_setup_reports_device(capsys):
    dev = aecourse.setup(seed=0, device="cpu")
    assert dev.type == "cpu" and "Using CPU" in capsys.readouterr().out


def test_glue_returns_plain_float():
    assert aecourse.glue("x", np.float32(1.5)) == 1.5 and type(aecourse.glue("x", np.float64(2))) is float


def test_show_source():
    code = aecourse.show_source(aecourse.mse)
    assert "def mse" in code.data


def test_plotting_helpers_return_axes():
    X = np.random.default_rng(0).random((12, 64))
    for call in (lambda ax: plotting.image_grid(X, ax=ax),
                 lambda ax: plotting.plot_reconstructions({"a": X, "b": X}, ax=ax),
                 lambda ax: plotting.plot_loss([1.0, 0.5, 0.2], ax=ax, label="run"),
                 lambda ax: plotting.scatter_codes(X[:, :2], np.arange(12) % 3, ax=ax)):
        fig, ax = plt.subplots()
        assert call(ax) is ax
        assert call(None) is not None
        plt.close("all")
    with pytest.raises(ValueError, match=r"needs 2-D codes of shape \(N, 2\)"):
        plotting.scatter_codes(X[:, :3])
