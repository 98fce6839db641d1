"""The autoencoder module and the training loop."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import aecourse
from aecourse import MLPAutoencoder, train


def test_architecture_shapes_and_linear_code():
    m = MLPAutoencoder(64, 3, hidden=(32, 16), activation="tanh", out_activation="sigmoid")
    x = torch.rand(5, 64)
    assert m.encode(x).shape == (5, 3) and m(x).shape == (5, 64)
    assert isinstance(m.encoder[-1], torch.nn.Linear), "the code layer is linear"
    assert isinstance(m.decoder[-1], torch.nn.Sigmoid)
    widths = [l.out_features for l in m.modules() if isinstance(l, torch.nn.Linear)]
    assert widths == [32, 16, 3, 16, 32, 64]
    lin = MLPAutoencoder(10, 2, hidden=(), activation=None)
    assert all(isinstance(l, torch.nn.Linear) for l in lin.modules() if not isinstance(l, (torch.nn.Sequential, MLPAutoencoder)))


def test_seed_gives_identical_weights_and_leaves_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    a = MLPAutoencoder(8, 2, seed=5)
    assert torch.equal(torch.rand(1), expected), "constructing a seeded model must not consume the global RNG"
    b = MLPAutoencoder(8, 2, seed=5)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize("scheme, fan_std", [("xavier", lambda i, o: (2 / (i + o)) ** 0.5),
                                              ("he", lambda i, o: (2 / i) ** 0.5),
                                              ("normal", lambda i, o: 0.01)])
def test_init_schemes(scheme, fan_std):
    m = MLPAutoencoder(400, 2, hidden=(300,), init=scheme, seed=0)
    first = m.encoder[0]
    assert first.weight.std().item() == pytest.approx(fan_std(400, 300), rel=0.05)
    assert torch.all(first.bias == 0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(hidden=(0,)), r"hidden\[0\]=0 is not a valid layer width"),
    (dict(hidden=(8, -1)), r"hidden\[1\]=-1 is not a valid layer width"),
    (dict(hidden="abc"), "must be a sequence of positive layer widths"),
    (dict(activation="swishy"), "activation='swishy' is not supported"),
    (dict(n_components=0), "n_components=0 must be between 1"),
    (dict(init="kaiming"), "init='kaiming' is not supported"),
])
def test_model_errors(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        MLPAutoencoder(8, **{"n_components": 2, **kwargs})


def test_train_reduces_loss_and_is_seeded():
    X = aecourse.load_digits().X_train
    runs = []
    for _ in range(2):
        m = MLPAutoencoder(64, 2, hidden=(16,), seed=0)
        h = train(m, X, epochs=5, batch_size=64, seed=7, progress=False)
        runs.append((h, m))
    assert runs[0][0].loss == runs[1][0].loss
    assert runs[0][0].loss[-1] < runs[0][0].loss[0]
    assert len(runs[0][0]) == 5 and runs[0][0].seconds > 0


def test_train_full_batch_matches_manual_gradient_descent():
    """One full-batch SGD epoch equals one step computed by hand with autograd."""
    X = torch.rand(32, 6)
    m1, m2 = MLPAutoencoder(6, 2, hidden=(4,), seed=1), MLPAutoencoder(6, 2, hidden=(4,), seed=1)
    train(m1, X, epochs=1, batch_size=None, optimizer=torch.optim.SGD(m1.parameters(), lr=0.1), progress=False)
    loss = F.mse_loss(m2(X), X)
    grads = torch.autograd.grad(loss, list(m2.parameters()))
    with torch.no_grad():
        for p, g in zip(m2.parameters(), grads):
            p -= 0.1 * g
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


def test_train_corrupts_inputs_but_never_targets():
    X = torch.rand(40, 5)
    seen = []

    def spy(model, x_in, target):
        seen.append((x_in.clone(), target.clone()))
        return F.mse_loss(model(x_in), target)

    m = MLPAutoencoder(5, 2, hidden=(), seed=0)
    train(m, X, epochs=1, batch_size=40, loss_fn=spy, corrupt=("gaussian", 0.3), progress=False)
    x_in, target = seen[0]
    assert not torch.allclose(x_in, target)
    # The target rows are exactly the clean rows (permuted): same multiset of rows as X.
    assert torch.allclose(target.sort(0).values, X.sort(0).values)


def test_train_with_labels_and_validation():
    split = aecourse.load_digits()
    net = aecourse.mlp((64, 32, 10))
    h = train(net, split.X_train, target=split.y_train, X_val=split.X_test, target_val=split.y_test,
              loss_fn=lambda m, x, y: F.cross_entropy(m(x), y), epochs=3, progress=False)
    assert len(h.val_loss) == 3 and h.val_loss[-1] < h.val_loss[0]


def test_train_callback_and_errors():
    X = torch.rand(10, 4)
    calls = []
    m = MLPAutoencoder(4, 2, hidden=())
    train(m, X, epochs=3, callback=lambda e, model, h: calls.append(e), progress=False)
    assert calls == [0, 1, 2]
    with pytest.raises(ValueError, match="epochs=0 must be between 1"):
        train(m, X, epochs=0)
    with pytest.raises(ValueError, match="target has 3 rows but X has 10"):
        train(m, X, target=torch.rand(3, 4))
    with pytest.raises(ValueError, match="contains 1 NaN"):
        train(m, torch.tensor([[float("nan"), 0, 0, 0]]))
    with pytest.raises(TypeError, match="corrupt=.* must be None, a \\(kind, level\\) tuple"):
        train(m, X, corrupt="gaussian")
