"""FlatAdam gives torch.optim.Adam's updates bit for bit (the reference is torch's own Adam)."""
import pytest
import torch
from torch import nn

import aecourse
from aecourse import FlatAdam, MLPAutoencoder

SHAPES = [(1,), (3,), (7, 5), (17,), (33, 5), (2, 3, 4), (64, 32), (32,)]  # odd sizes: vector tails


def _params(seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return [nn.Parameter(torch.randn(s, generator=g, dtype=dtype)) for s in SHAPES]


def _run(opt, params, steps=25, seed=1, scheduler=None):
    """Feed both optimisers the same sequence of gradients, including large and tiny ones."""
    g = torch.Generator().manual_seed(seed)
    for k in range(steps):
        opt.zero_grad()
        for p in params:
            p.grad = torch.randn(p.shape, generator=g, dtype=p.dtype) * (10.0 ** (k % 7 - 3))
        opt.step()
        if scheduler is not None:
            scheduler.step()


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("settings", [
    {"lr": 1e-3},
    {"lr": 3e-2, "weight_decay": 1e-2},
    {"lr": 5e-3, "betas": (0.5, 0.9), "eps": 1e-6},
    {"lr": 1e-2, "betas": (0.0, 0.99), "eps": 0.0, "weight_decay": 0.3},
])
def test_updates_equal_torch_adam_bitwise(settings, foreach):
    ref, flat = _params(), _params()
    _run(torch.optim.Adam(ref, foreach=foreach, **settings), ref)
    _run(FlatAdam(flat, **settings), flat)
    for i, (a, b) in enumerate(zip(ref, flat)):
        assert torch.equal(a, b), f"parameter {i} {tuple(a.shape)} differs by {(a - b).abs().max():.3g}"


def test_float64_parameters_equal_torch_adam_bitwise():
    ref, flat = _params(dtype=torch.float64), _params(dtype=torch.float64)
    _run(torch.optim.Adam(ref, lr=1e-2), ref)
    _run(FlatAdam(flat, lr=1e-2), flat)
    assert all(torch.equal(a, b) for a, b in zip(ref, flat))


def test_learning_rate_scheduler_is_followed():
    ref, flat = _params(), _params()
    opt_ref, opt_flat = torch.optim.Adam(ref, lr=1e-2), FlatAdam(flat, lr=1e-2)
    _run(opt_ref, ref, scheduler=torch.optim.lr_scheduler.StepLR(opt_ref, step_size=5, gamma=0.3))
    _run(opt_flat, flat, scheduler=torch.optim.lr_scheduler.StepLR(opt_flat, step_size=5, gamma=0.3))
    assert all(torch.equal(a, b) for a, b in zip(ref, flat))
    assert opt_flat.param_groups[0]["lr"] == pytest.approx(1e-2 * 0.3**5)


def test_model_trained_by_backward_equals_torch_adam():
    X = torch.rand(100, 12, generator=torch.Generator().manual_seed(0))
    a, b = MLPAutoencoder(12, 2, hidden=(8,), seed=3), MLPAutoencoder(12, 2, hidden=(8,), seed=3)
    for model, opt in ((a, torch.optim.Adam(a.parameters(), lr=1e-2)), (b, FlatAdam(b.parameters(), lr=1e-2))):
        for _ in range(30):
            loss = torch.nn.functional.mse_loss(model(X), X)
            opt.zero_grad()
            loss.backward()
            opt.step()
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(p, q), name


def test_parameters_become_views_of_one_buffer_with_their_values_kept():
    model = MLPAutoencoder(12, 2, hidden=(8,), seed=3)
    before = [p.detach().clone() for p in model.parameters()]
    x = torch.rand(5, 12)
    out_before = model(x).detach()
    opt = FlatAdam(model.parameters())
    assert opt.flat_.numel() == sum(p.numel() for p in model.parameters())
    for p, old in zip(model.parameters(), before):
        assert torch.equal(p, old) and p.untyped_storage().data_ptr() == opt.flat_.untyped_storage().data_ptr()
    assert torch.equal(model(x), out_before)


def test_closure_and_zero_grad():
    p = nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = FlatAdam([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == pytest.approx(5.0)
    assert torch.allclose(p.detach(), torch.tensor([0.9, -1.9]))  # Adam's first step moves each by lr
    opt.zero_grad()
    assert p.grad is None


@pytest.mark.parametrize("kwargs, error, match", [
    ({"lr": torch.tensor(0.1)}, TypeError, "float learning rate"),
    ({"lr": -1.0}, ValueError, "lr=-1.0 must be > 0"),
    ({"lr": float("nan")}, TypeError, "lr=nan"),
    ({"betas": (0.9, 1.0)}, ValueError, r"betas=\(0.9, 1.0\) must be two numbers in \[0, 1\)"),
    ({"betas": 0.9}, ValueError, "betas=0.9"),
    ({"eps": -1e-8}, ValueError, "eps=-1e-08 must be >= 0"),
    ({"weight_decay": -0.1}, ValueError, "weight_decay=-0.1 must be >= 0"),
])
def test_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        FlatAdam(_params(), **kwargs)


def test_bad_parameter_sets():
    a, b = _params()[:2]
    with pytest.raises(ValueError, match="2 parameter groups but supports one"):
        FlatAdam([{"params": [a]}, {"params": [b], "lr": 0.1}])
    frozen = nn.Parameter(torch.ones(3), requires_grad=False)
    with pytest.raises(ValueError, match=r"parameter 1 \(shape \(3,\)\) does not require a gradient"):
        FlatAdam([a, frozen])
    with pytest.raises(ValueError, match="parameter 1 is torch.float64 on cpu but parameter 0 is torch.float32"):
        FlatAdam([a, nn.Parameter(torch.ones(3, dtype=torch.float64))])
    with pytest.raises(ValueError, match="empty parameter list"):  # torch's own check
        FlatAdam([])
    opt = FlatAdam([a])
    with pytest.raises(RuntimeError, match="one parameter group fixed at construction"):
        opt.add_param_group({"params": [b]})


def test_missing_gradient_is_reported():
    a, b = _params()[:2]
    opt = FlatAdam([a, b])
    a.grad = torch.ones_like(a)
    with pytest.raises(RuntimeError, match=r"parameter 1 \(shape \(3,\)\) has no gradient"):
        opt.step()


def test_parameters_moved_after_building_are_relinked_and_updates_stay_equal():
    ref, flat = _params(), _params()
    opt_ref, opt_flat = torch.optim.Adam(ref, lr=1e-2), FlatAdam(flat, lr=1e-2)
    _run(opt_ref, ref, steps=5)
    _run(opt_flat, flat, steps=5)
    old_buffer = opt_flat.flat_
    for p in ref + flat:
        p.data = p.data.clone()  # what model.to(other device) does to each parameter
    _run(opt_ref, ref, steps=5, seed=2)
    _run(opt_flat, flat, steps=5, seed=2)
    assert all(torch.equal(a, b) for a, b in zip(ref, flat))
    assert opt_flat.flat_ is not old_buffer
    assert all(p.untyped_storage().data_ptr() == opt_flat.flat_.untyped_storage().data_ptr() for p in flat)


def test_parameters_changed_after_building_are_reported():
    a, b = _params()[:2]
    opt = FlatAdam([a, b])
    a.grad, b.grad = torch.ones_like(a), torch.ones_like(b)
    b.data = b.data.double()
    b.grad = torch.ones_like(b)
    with pytest.raises(ValueError, match="parameter 1 is torch.float64 on cpu but parameter 0 is torch.float32"):
        opt.step()
    b.data = torch.zeros(5)
    b.grad = torch.ones_like(b)
    with pytest.raises(RuntimeError, match="parameter 1 now has 5 values but had 3"):
        opt.step()


def test_state_dict_is_refused_with_a_fix():
    opt = FlatAdam(_params())
    with pytest.raises(NotImplementedError, match="torch.optim.Adam"):
        opt.state_dict()
    with pytest.raises(NotImplementedError, match="torch.optim.Adam"):
        opt.load_state_dict({})


def test_autoencoder_fit_equals_torch_adam_with_weight_decay():
    """Autoencoder.fit builds FlatAdam; the model equals one trained with torch.optim.Adam."""
    X = aecourse.load_digits().X_train[:300]
    ae = aecourse.Autoencoder(n_components=2, epochs=3, lr=3e-3, weight_decay=1e-3, seed=5).fit(X)
    ref = MLPAutoencoder(64, 2, (32,), "relu", ae.out_activation, seed=5)
    aecourse.train(ref, X, epochs=3, batch_size=ae.batch_size, seed=5, progress=False,
                   optimizer=torch.optim.Adam(ref.parameters(), lr=3e-3, weight_decay=1e-3))
    for (name, p), q in zip(ref.named_parameters(), ae.model_.parameters()):
        assert torch.equal(p, q), name
