"""Denoising: corruptions (statistics, seeds, inputs untouched), the clean training target, the figure's noisy
row, the ideal denoiser against torch.distributions, the vector field, the baselines, and the checkers."""
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA as SkPCA
from sklearn.linear_model import LinearRegression

import aecourse
import aecourse.decomposition as decomposition
from aecourse import denoising as dn
from aecourse.data import corrupt
from aecourse.exercises import ExerciseFailed, REGISTRY
from aecourse.exercises import denoising as checks

KINDS = ("gaussian", "masking", "salt_pepper")


@pytest.fixture(autouse=True)
def _no_grade_log(monkeypatch):
    monkeypatch.delenv("AECOURSE_GRADE_LOG", raising=False)


@pytest.fixture
def grey():
    return np.full((400, 50), 0.5, dtype=np.float32)  # 20 000 entries: every change is visible


# ------------------------------------------------------------------------------------------- corrupt

def test_gaussian_statistics(grey):
    noise = corrupt(grey, "gaussian", 0.3, seed=0) - grey
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 0.3) < 0.005
    # Not clipped: clipping is a separate, visible step.
    assert (corrupt(grey, "gaussian", 1.0, seed=0) > 1).any()


@pytest.mark.parametrize("level", [0.1, 0.25, 0.5])
def test_masking_statistics(grey, level):
    out = corrupt(grey, "masking", level, seed=1)
    hit = out != grey
    assert abs(hit.mean() - level) < 4 * math.sqrt(level * (1 - level) / grey.size)
    assert (out[hit] == 0).all()                    # masked entries are 0
    assert np.array_equal(out[~hit], grey[~hit])     # the others are untouched, exactly


@pytest.mark.parametrize("level", [0.1, 0.3])
def test_salt_pepper_statistics(grey, level):
    out = corrupt(grey, "salt_pepper", level, seed=2)
    hit = out != grey
    assert abs(hit.mean() - level) < 4 * math.sqrt(level * (1 - level) / grey.size)
    assert set(np.unique(out[hit])) <= {0.0, 1.0}
    assert abs((out[hit] == 1).mean() - 0.5) < 0.05  # salt and pepper with equal odds


@pytest.mark.parametrize("kind", KINDS)
def test_level_zero_is_an_exact_copy(kind):
    X = np.random.default_rng(0).random((20, 8)).astype(np.float32)
    out = corrupt(X, kind, 0.0, seed=0)
    assert np.array_equal(out, X) and not np.shares_memory(out, X)


@pytest.mark.parametrize("kind", KINDS)
def test_seeds(kind):
    X = np.random.default_rng(0).random((30, 16)).astype(np.float32)
    assert np.array_equal(corrupt(X, kind, 0.3, seed=5), corrupt(X, kind, 0.3, seed=5))
    assert not np.array_equal(corrupt(X, kind, 0.3, seed=5), corrupt(X, kind, 0.3, seed=6))
    # numpy and a CPU tensor with the same seed get the same corruption.
    t = corrupt(torch.from_numpy(X), kind, 0.3, seed=5)
    assert np.array_equal(t.numpy(), corrupt(X, kind, 0.3, seed=5))
    # An explicit generator gives a reproducible stream too.
    a = corrupt(torch.from_numpy(X), kind, 0.3, generator=torch.Generator().manual_seed(9))
    b = corrupt(torch.from_numpy(X), kind, 0.3, generator=torch.Generator().manual_seed(9))
    assert torch.equal(a, b)


@pytest.mark.parametrize("kind", KINDS)
def test_input_never_modified_numpy(kind):
    X = np.random.default_rng(1).random((10, 6))          # float64
    before = X.copy()
    out = corrupt(X, kind, 0.5, seed=0)
    assert np.array_equal(X, before)
    assert out.dtype == np.float64 and out.shape == X.shape and not np.shares_memory(out, X)


@pytest.mark.parametrize("kind", KINDS)
def test_input_never_modified_torch(kind):
    X = torch.rand(10, 6)
    before = X.clone()
    out = corrupt(X, kind, 0.5, seed=0)
    assert torch.equal(X, before)
    assert isinstance(out, torch.Tensor) and out.dtype == X.dtype and out.device == X.device
    assert out.data_ptr() != X.data_ptr()


def test_integer_inputs():
    out = corrupt(np.arange(12).reshape(3, 4), "gaussian", 0.1, seed=0)
    assert out.dtype == np.float32
    with pytest.raises(TypeError, match=r"dtype torch.int64.*floating-point tensor, e.g. X.float\(\)"):
        corrupt(torch.arange(12).reshape(3, 4), "gaussian", 0.1)


def test_corrupt_errors():
    X = np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError, match="kind='blur' is not supported; choose one of 'gaussian'"):
        corrupt(X, "blur", 0.1)
    with pytest.raises(ValueError, match=r"level=1.5 is a fraction of entries for kind='masking'"):
        corrupt(X, "masking", 1.5)
    with pytest.raises(ValueError, match="level=-0.1 must be >= 0"):
        corrupt(X, "gaussian", -0.1)
    with pytest.raises(TypeError, match="X of type list is not supported"):
        corrupt([[0.0, 1.0]], "gaussian", 0.1)


# ------------------------------------------------------------------ bug 1: the target is the clean data

class Spy:
    """A loss hook that records (input, target) of every step, then computes the usual MSE."""

    def __init__(self):
        self.calls = []

    def __call__(self, model, x_in, target):
        self.calls.append((x_in.detach().clone(), target.detach().clone()))
        return F.mse_loss(model(x_in), target)


@pytest.mark.parametrize("batch_size", [None, 16])
@pytest.mark.parametrize("kind", KINDS)
def test_train_target_is_the_clean_batch(kind, batch_size):
    X = torch.rand(48, 6)
    X0 = X.clone()
    spy = Spy()
    aecourse.train(torch.nn.Linear(6, 6), X, epochs=2, batch_size=batch_size, loss_fn=spy,
                   corrupt=(kind, 0.3), seed=0, progress=False)
    assert spy.calls and torch.equal(X, X0)
    rows = {tuple(r.tolist()) for r in X0}
    for x_in, target in spy.calls:
        assert all(tuple(r.tolist()) in rows for r in target), "a target row is not a clean training row"
        assert not torch.equal(x_in, target), "the input was not corrupted"
    if batch_size is None:
        assert all(torch.equal(t, X0) for _, t in spy.calls)


def test_train_target_stays_clean_with_an_in_place_corrupter():
    """A home-made corruption that writes into its argument must not reach the target (or the data)."""
    X = torch.rand(20, 4)
    X0 = X.clone()
    spy = Spy()

    def add_noise_in_place(x, g):
        return x.add_(0.5 * torch.randn(x.shape, generator=g))

    aecourse.train(torch.nn.Linear(4, 4), X, epochs=2, batch_size=None, loss_fn=spy,
                   corrupt=add_noise_in_place, progress=False)
    for x_in, target in spy.calls:
        assert torch.equal(target, X0) and not torch.equal(x_in, X0)
    assert torch.equal(X, X0)


def test_fit_denoiser_trains_against_the_clean_data():
    X = np.random.default_rng(0).random((32, 5)).astype(np.float32)
    spy = Spy()
    dn.fit_denoiser(X, ("gaussian", 0.2), width=8, epochs=2, batch_size=None, loss_fn=spy, device="cpu")
    for x_in, target in spy.calls:
        assert np.array_equal(target.numpy(), X)
        assert abs(float((x_in - target).std()) - 0.2) < 0.05


def test_autoencoder_with_corrupt_trains_against_the_clean_data(monkeypatch):
    spy = Spy()
    real_train = decomposition.train

    def train_with_spy(*args, **kwargs):
        assert kwargs["corrupt"] == ("masking", 0.25)
        return real_train(*args, **{**kwargs, "loss_fn": spy})

    monkeypatch.setattr(decomposition, "train", train_with_spy)
    X = np.random.default_rng(0).random((30, 6)).astype(np.float32)
    aecourse.Autoencoder(2, hidden=(4,), epochs=2, batch_size=None, corrupt=("masking", 0.25), device="cpu").fit(X)
    assert len(spy.calls) == 2
    for x_in, target in spy.calls:
        assert np.array_equal(target.numpy(), X) and (x_in.numpy() == 0).sum() > (X == 0).sum()


# ------------------------------------------------------ bug 2: the "noisy" panel shows the noisy input

def test_denoising_rows_noisy_is_the_corrupted_input():
    X = np.random.default_rng(0).random((6, 64)).astype(np.float32)
    fed = []
    rows = dn.denoising_rows(X, "gaussian", 0.2, {"spy": lambda x: fed.append(x.copy()) or x * 0}, seed=3)
    noisy = corrupt(X, "gaussian", 0.2, seed=3)
    assert np.array_equal(rows["clean"], X)
    assert np.array_equal(rows["noisy"], noisy) and not np.allclose(rows["noisy"], X)
    assert np.array_equal(fed[0], noisy), "the denoiser must be fed the noisy row"


@pytest.mark.parametrize("kind", KINDS)
def test_plot_denoising_noisy_panel_shows_the_corrupted_input(kind):
    X = np.random.default_rng(1).random((5, 64)).astype(np.float32)
    ax = dn.plot_denoising(X, kind, 0.3, {"identity": lambda x: x}, n=4, seed=2)
    canvas = np.ma.filled(ax.images[0].get_array().astype(float), np.nan)  # rows of 8x8 tiles, 1-pixel gaps
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "clean" and labels[1].startswith("noisy") and labels[2] == "identity"

    def row(r):  # (4, 64): the images of row r of the figure
        return np.stack([canvas[9 * r: 9 * r + 8, 9 * c: 9 * c + 8].ravel() for c in range(4)])

    noisy = corrupt(X[:4], kind, 0.3, seed=2)
    assert np.allclose(row(0), X[:4])
    assert np.allclose(row(1), noisy) and not np.allclose(row(1), X[:4])
    assert np.allclose(row(2), noisy)  # the identity "denoiser" was fed the noisy images
    plt.close(ax.figure)


def test_denoising_rows_errors():
    with pytest.raises(ValueError, match="denoiser name 'noisy' clashes with a built-in row"):
        dn.denoising_rows(np.zeros((2, 4)), "gaussian", 0.1, {"noisy": lambda x: x})
    with pytest.raises(ValueError, match="kind='speckle' is not supported"):
        dn.denoising_rows(np.zeros((2, 4)), "speckle", 0.1)


# ------------------------------------------------------------------------------ ideal denoiser, field

def test_ideal_denoiser_is_sigma2_times_the_score():
    """Tweedie: r*(x) - x = sigma^2 grad log p_sigma(x), with the score from torch.distributions + autograd."""
    rng = np.random.default_rng(0)
    data, probe, sigma = rng.standard_normal((30, 3)), rng.standard_normal((12, 3)) * 2, 0.4
    D = torch.distributions
    mix = D.MixtureSameFamily(D.Categorical(logits=torch.zeros(30, dtype=torch.float64)),
                              D.Independent(D.Normal(torch.as_tensor(data), sigma), 1))
    p = torch.tensor(probe, requires_grad=True)
    score, = torch.autograd.grad(mix.log_prob(p).sum(), p)
    assert np.allclose(dn.ideal_denoiser(probe, data, sigma) - probe, sigma ** 2 * score.numpy(), atol=1e-10)


def test_ideal_denoiser_limits():
    rng = np.random.default_rng(1)
    data, probe = rng.standard_normal((20, 2)), rng.standard_normal((7, 2))
    nearest = data[((probe[:, None] - data[None]) ** 2).sum(-1).argmin(1)]
    assert np.allclose(dn.ideal_denoiser(probe, data, 1e-3), nearest)           # sigma -> 0: nearest point
    assert np.allclose(dn.ideal_denoiser(probe, data, 1e4), data.mean(0), atol=1e-6)  # sigma -> inf: the mean
    far = dn.ideal_denoiser(np.array([[1e3, 1e3]]), data, 0.01)                 # would be 0/0 without the shift
    assert np.isfinite(far).all()


def test_ideal_denoiser_errors():
    with pytest.raises(ValueError, match="X_noisy has 3 features but X_data has 2"):
        dn.ideal_denoiser(np.zeros((1, 3)), np.zeros((4, 2)), 0.1)
    with pytest.raises(ValueError, match="sigma=0.0 must be > 0"):
        dn.ideal_denoiser(np.zeros((1, 2)), np.zeros((4, 2)), 0.0)


def test_denoising_field():
    grid, field = dn.denoising_field(lambda x: x, n=5)
    assert grid.shape == field.shape == (25, 2) and np.allclose(field, 0)
    grid, field = dn.denoising_field(lambda x: 0.5 * x, xlim=(-1, 1), ylim=(0, 2), n=4)
    assert np.allclose(field, -0.5 * grid)
    assert grid[:, 0].min() == -1 and grid[:, 1].max() == 2
    with pytest.raises(TypeError, match="denoiser of type int is not callable"):
        dn.denoising_field(3)
    with pytest.raises(ValueError, match=r"xlim=\(1, 0\) must be a pair \(low, high\) with low < high"):
        dn.denoising_field(lambda x: x, xlim=(1, 0))
    with pytest.raises(ValueError, match="returned shape"):
        dn.denoising_field(lambda x: x[:, :1])


def test_make_circle():
    X = dn.make_circle(500, radius=2.0, seed=3)
    assert X.shape == (500, 2) and X.dtype == np.float32
    assert np.allclose(np.linalg.norm(X, axis=1), 2.0, atol=1e-5)
    assert np.array_equal(X, dn.make_circle(500, radius=2.0, seed=3))
    assert not np.array_equal(X, dn.make_circle(500, radius=2.0, seed=4))
    with pytest.raises(ValueError, match="radius=-1.0 must be > 0"):
        dn.make_circle(10, radius=-1.0)


# ------------------------------------------------------------------------------------ Wiener filter

def _low_rank_data(n=300, d=10, seed=0):
    rng = np.random.default_rng(seed)
    scales = np.array([1.0, 0.6, 0.3, 0.15, 0.05] + [0.0] * (d - 5))     # a rank-5 covariance
    return 0.5 + (rng.standard_normal((n, d)) * scales) @ np.linalg.qr(rng.standard_normal((d, d)))[0]


def test_wiener_is_mu_plus_S_times_inverse_of_S_plus_sigma2():
    """The library works in the eigenbasis; the closed form solves the linear system directly."""
    X, sigma = _low_rank_data(), 0.3
    probe = X[:20] + sigma * np.random.default_rng(1).standard_normal((20, 10))
    mu = X.mean(0)
    S = np.cov(X, rowvar=False, bias=True)
    expected = mu + (probe - mu) @ np.linalg.solve(S + sigma ** 2 * np.eye(10), S)   # S symmetric: row form
    w = dn.WienerDenoiser(sigma).fit(X)
    assert np.allclose(w.transform(probe), expected, atol=1e-10)
    assert np.allclose(w(probe), expected, atol=1e-10)
    assert np.allclose(w.fit_transform(X, probe), expected, atol=1e-10)


def test_wiener_shrinks_each_principal_direction_by_l_over_l_plus_sigma2():
    X, sigma = _low_rank_data(), 0.2
    w = dn.WienerDenoiser(sigma).fit(X)
    lam, V = np.linalg.eigh(np.cov(X, rowvar=False, bias=True))
    assert np.allclose(w.eigenvalues_, np.clip(lam[::-1], 0, None), atol=1e-12)
    assert np.all(np.diff(w.eigenvalues_) <= 0)
    assert np.allclose(w.shrinkage_, w.eigenvalues_ / (w.eigenvalues_ + sigma ** 2))
    for i in (0, 2, 4, 7):                       # a strong, a middle, a weak and a dead direction
        v = V[:, ::-1][:, i]
        out = w.transform((X.mean(0) + 0.7 * v)[None])[0] - X.mean(0)
        assert np.allclose(out, 0.7 * w.shrinkage_[i] * v, atol=1e-10)
    assert w.shrinkage_[0] > 0.95 and w.shrinkage_[-1] < 1e-10


def test_wiener_is_the_limit_of_linear_regression_of_clean_on_noisy():
    """sklearn's least squares of x on many noisy copies x~ approaches the Wiener filter."""
    X, sigma = _low_rank_data(n=200), 0.3
    rng = np.random.default_rng(2)
    reps = 200
    clean = np.tile(X, (reps, 1))
    noisy = clean + sigma * rng.standard_normal(clean.shape)
    reg = LinearRegression().fit(noisy, clean)
    probe = X[:50] + sigma * rng.standard_normal((50, 10))
    w = dn.WienerDenoiser(sigma).fit(X)
    gap = np.abs(reg.predict(probe) - w.transform(probe)).max()
    assert gap < 0.02, gap
    # ... and it is not the best PCA projection (which keeps directions whole): a different map.
    assert np.abs(dn.best_pca_denoiser(X, "gaussian", sigma).reconstruct(probe) - w.transform(probe)).max() > 0.05


def test_wiener_expected_mse_matches_a_monte_carlo_measurement():
    X, sigma = _low_rank_data(n=400), 0.25
    w = dn.WienerDenoiser(sigma).fit(X)
    lam = w.eigenvalues_
    assert w.expected_mse_ == pytest.approx(np.mean(lam * sigma ** 2 / (lam + sigma ** 2)))
    clean = np.tile(X, (50, 1))
    noisy = clean + sigma * np.random.default_rng(3).standard_normal(clean.shape)
    measured = np.mean((w.transform(noisy) - clean) ** 2)
    assert measured == pytest.approx(w.expected_mse_, rel=0.02)
    assert w.expected_mse_ < sigma ** 2   # better than doing nothing


def test_wiener_on_gaussian_data_is_the_posterior_mean():
    """For x ~ N(mu, S), Tweedie: E[x | x~] = x~ + sigma^2 grad log N(x~; mu, S + sigma^2 I) (torch autograd)."""
    X, sigma = _low_rank_data(n=150, d=6), 0.2
    w = dn.WienerDenoiser(sigma).fit(X)
    S = torch.as_tensor(np.cov(X, rowvar=False, bias=True))
    noisy = torch.distributions.MultivariateNormal(torch.as_tensor(X.mean(0)), S + sigma ** 2 * torch.eye(6))
    probe = torch.tensor(X[:15] + 0.3, requires_grad=True)
    score, = torch.autograd.grad(noisy.log_prob(probe).sum(), probe)
    tweedie = probe.detach().numpy() + sigma ** 2 * score.numpy()
    assert np.allclose(w.transform(probe.detach().numpy()), tweedie, atol=1e-9)


def test_wiener_errors():
    with pytest.raises(ValueError, match="sigma=0.0 must be > 0"):
        dn.WienerDenoiser(0.0)
    with pytest.raises(TypeError, match="sigma='0.1' must be a finite real number"):
        dn.WienerDenoiser("0.1")
    with pytest.raises(RuntimeError, match=r"not fitted yet; call WienerDenoiser.fit\(X\)"):
        dn.WienerDenoiser(0.1).transform(np.zeros((2, 3)))
    w = dn.WienerDenoiser(0.1).fit(np.random.default_rng(0).random((20, 4)))
    with pytest.raises(ValueError, match="X_noisy has 3 features, but WienerDenoiser was fitted with 4"):
        w.transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="X_noisy must be 2-D"):
        w.transform(np.zeros(4))
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        dn.WienerDenoiser(0.1).fit(np.array([[0.0, np.nan], [1.0, 2.0]]))
    assert repr(w) == "WienerDenoiser(sigma=0.1)"


# ----------------------------------------------------------------------------- networks and baselines

def test_fit_denoiser_seeded_and_model_denoiser():
    X = np.random.default_rng(0).random((40, 6)).astype(np.float32)
    a, ha = dn.fit_denoiser(X, ("gaussian", 0.2), width=8, epochs=3, batch_size=16, seed=4, device="cpu")
    b, hb = dn.fit_denoiser(X, ("gaussian", 0.2), width=8, epochs=3, batch_size=16, seed=4, device="cpu")
    c, _ = dn.fit_denoiser(X, ("gaussian", 0.2), width=8, epochs=3, batch_size=16, seed=5, device="cpu")
    assert ha.loss == hb.loss and not a.training
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))
    out = dn.model_denoiser(a)(X)
    with torch.no_grad():
        assert np.array_equal(out, a(torch.from_numpy(X)).numpy())
    assert ((out >= 0) & (out <= 1)).all()  # sigmoid outputs
    with pytest.raises(TypeError, match="model of type function is not a torch.nn.Module"):
        dn.model_denoiser(lambda x: x)


def _brute_force_best_p(X, kind, level, seed):
    Xn = corrupt(X, kind, level, seed=seed)
    errors = []
    for p in range(1, min(X.shape) + 1):
        sk = SkPCA(p, svd_solver="full").fit(X)
        errors.append(np.mean((sk.inverse_transform(sk.transform(Xn)) - X) ** 2))
    return int(np.argmin(errors)) + 1


@pytest.mark.parametrize("kind, level", [("gaussian", 0.3), ("masking", 0.3)])
def test_best_pca_denoiser_matches_brute_force_sklearn(kind, level):
    rng = np.random.default_rng(0)
    # Rank-4 structure with decaying scales, plus a little noise, in 12 dimensions.
    X = 0.5 + (rng.standard_normal((200, 4)) * [1.0, 0.6, 0.3, 0.15]) @ rng.standard_normal((4, 12))
    X = X + 0.01 * rng.standard_normal(X.shape)
    pca = dn.best_pca_denoiser(X, kind, level, seed=1)
    assert pca.n_components_ == _brute_force_best_p(X, kind, level, seed=1)
    assert 1 < pca.n_components_ < 12  # neither extreme: a real trade-off


def test_best_pca_without_noise_keeps_everything():
    X = np.random.default_rng(0).random((50, 6))
    assert dn.best_pca_denoiser(X, "gaussian", 0.0).n_components_ == 6
    with pytest.raises(ValueError, match="max_components=9 must be between 1 and 6"):
        dn.best_pca_denoiser(X, max_components=9)


def test_compare_denoisers():
    split = aecourse.load_digits()
    X_train, X_test = split.X_train[:400], split.X_test[:100]
    fed = []
    res = dn.compare_denoisers(X_train, X_test, "gaussian", 0.2, seed=3,
                               denoisers={"spy": lambda x: fed.append(x.copy()) or np.clip(x, 0, 1)})
    noisy = corrupt(X_test, "gaussian", 0.2, seed=3)
    assert np.array_equal(res.X_noisy, noisy) and np.array_equal(fed[0], noisy)
    ref = lambda Y: 10 * np.log10(1 / np.mean((X_test.astype(np.float64) - Y) ** 2))  # noqa: E731
    assert res.psnr["noisy input"] == pytest.approx(ref(noisy), abs=1e-9)
    assert res.psnr["clipping"] == pytest.approx(ref(np.clip(noisy, 0, 1)), abs=1e-9)
    assert res.psnr["spy"] == res.psnr["clipping"]
    sk = SkPCA(res.pca_components, svd_solver="full").fit(X_train)
    assert res.psnr["PCA"] == pytest.approx(ref(sk.inverse_transform(sk.transform(noisy))), abs=1e-4)
    assert res.pca.n_components_ == res.pca_components
    assert res.pca.n_components_ == dn.best_pca_denoiser(X_train, "gaussian", 0.2, seed=4).n_components_
    assert list(res.psnr)[:6] == ["noisy input", "clipping", "PCA", "PCA + clipping", "Wiener", "Wiener + clipping"]
    w = dn.WienerDenoiser(0.2).fit(X_train)
    assert res.psnr["Wiener"] == pytest.approx(ref(w.transform(noisy)), abs=1e-9)
    assert res.psnr["Wiener + clipping"] == pytest.approx(ref(np.clip(w.transform(noisy), 0, 1)), abs=1e-9)
    assert res.psnr["Wiener"] > res.psnr["PCA"]   # the best linear map beats the best projection
    masked = dn.compare_denoisers(X_train, X_test, "masking", 0.2, seed=3)
    assert "Wiener" not in masked.psnr            # built for Gaussian noise only
    assert res.psnr["PCA"] > res.psnr["noisy input"]
    with pytest.raises(ValueError, match="X_train has 64 features but X_test has 3"):
        dn.compare_denoisers(X_train, np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"denoisers\['x'\] of type int is not callable"):
        dn.compare_denoisers(X_train, X_test, denoisers={"x": 1})


# -------------------------------------------------------------------------------------------- checkers

@pytest.mark.parametrize("label", ["ex-denoise-noisy-psnr", "ex-denoise-loss", "ex-denoise-posterior-mean",
                                   "ex-denoise-wiener-psnr"])
def test_checker_accepts_its_example(label):
    entry = REGISTRY[label]
    assert entry["check"](entry["example"]()).passed


@pytest.mark.parametrize("value, hint", [(10 * math.log10(5), "square it"), (27.96, "counts the square twice"),
                                         (10 * math.log(25), "base-10 logarithm")])
def test_noisy_psnr_checker_names_mistakes(value, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_noisy_psnr(value)


def test_denoising_loss_checker_names_the_noisy_target_bug():
    def noisy_target(model, x, sigma, seed):
        x_tilde = corrupt(x, "gaussian", sigma, seed=seed)
        return F.mse_loss(model(x_tilde), x_tilde)

    def clean_input(model, x, sigma, seed):
        return F.mse_loss(model(x), x)

    with pytest.raises(ExerciseFailed, match="compared the output with the NOISY input"):
        checks.check_denoising_loss(noisy_target)
    with pytest.raises(ExerciseFailed, match="that is a plain autoencoder"):
        checks.check_denoising_loss(clean_input)


def test_posterior_mean_checker_names_mistakes():
    def nearest(Xn, D, s):
        return D[((Xn[:, None] - D[None]) ** 2).sum(-1).argmin(1)]

    def unstable(Xn, D, s):
        w = np.exp(-((Xn[:, None] - D[None]) ** 2).sum(-1) / (2 * s ** 2))
        return (w / w.sum(1, keepdims=True)) @ D

    with pytest.raises(ExerciseFailed, match="nearest data point"):
        checks.check_posterior_mean(nearest)
    with np.errstate(all="ignore"), pytest.raises(ExerciseFailed, match="largest exponent"):
        checks.check_posterior_mean(unstable)


def _eig(X, centre=True):
    Xc = X - X.mean(0) if centre else X
    return np.clip(np.linalg.eigvalsh(Xc.T @ Xc / len(X)), 0, None)


def _db(mse):
    return 10 * np.log10(1 / mse)


def test_wiener_psnr_checker_accepts_the_sample_covariance_and_the_library():
    def sample_cov(X, s):       # 1/(N - 1) instead of 1/N: a negligible difference, accepted
        lam = np.linalg.eigvalsh(np.cov(X, rowvar=False))
        return _db(np.mean(lam * s ** 2 / (lam + s ** 2)))

    assert checks.check_wiener_psnr(sample_cov).passed
    assert checks.check_wiener_psnr(lambda X, s: _db(dn.WienerDenoiser(s).fit(X).expected_mse_)).passed


@pytest.mark.parametrize("wrong, hint", [
    (lambda X, s: _db(np.mean(_eig(X, False) * s ** 2 / (_eig(X, False) + s ** 2))), "centre the data first"),
    (lambda X, s: _db(np.mean(_eig(X) * s / (_eig(X) + s))), r"not l / \(l \+ sigma\)"),
    (lambda X, s: _db(np.mean((1 - s ** 2 / (_eig(X) + s ** 2)) ** 2 * _eig(X)      # scaled by sigma^2/(l+sigma^2)
                              + (s ** 2 / (_eig(X) + s ** 2)) ** 2 * s ** 2)), "the fraction it removes"),
    (lambda X, s: _db(np.mean((_eig(X) / (_eig(X) + s ** 2)) ** 2 * s ** 2)), "only the noise that gets through"),
    (lambda X, s: _db(np.sum(_eig(X) * s ** 2 / (_eig(X) + s ** 2))), "do not sum"),
    (lambda X, s: 20 * np.log10(1 / np.mean(_eig(X) * s ** 2 / (_eig(X) + s ** 2))), "not 20 log10"),
    (lambda X, s: _db(s ** 2), "PSNR of the noisy input"),
])
def test_wiener_psnr_checker_names_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_wiener_psnr(wrong)


def test_wiener_psnr_checker_reports_a_missing_answer():
    def stub(X, s):
        raise NotImplementedError("ex-denoise-wiener-psnr")

    with pytest.raises(ExerciseFailed):
        checks.check_wiener_psnr(stub)
