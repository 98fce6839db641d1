"""The training loop's fast paths give exactly the results of the plain loop they replace.

``aecourse.train`` gathers each epoch's shuffled rows with ``index_select``, cuts the batches with one
``split`` and builds its default Adam as ``aecourse.FlatAdam`` (torch's multi-tensor "foreach" Adam where
FlatAdam does not apply). The reference here is
the plain loop written out by hand (advanced indexing ``X[perm]``, a slice per step, torch's default Adam
for the CPU, the for-loop implementation); every comparison is bitwise (``==`` / ``torch.equal``).
"""
import pytest
import torch
import torch.nn.functional as F

import aecourse
from aecourse import MLPAutoencoder, train
from aecourse.data import corrupt as corrupt_fn


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # What every chapter's setup does (aecourse.configure_cpu): tiny models train several times faster on
    # one intra-op thread. Restored afterwards so other test modules keep their setting.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _data(n=203, p=12, seed=0):
    # 203 rows: no batch size used below divides it, so the last batch is short.
    return torch.rand(n, p, generator=torch.Generator().manual_seed(seed))


def _model(p=12, seed=3):
    return MLPAutoencoder(p, 2, hidden=(8,), seed=seed)


def _reference_loop(model, X, *, epochs, batch_size, optimizer, seed, target=None, corrupt=None):
    """The plain loop: X[perm] per epoch, a slice per step, the same loss bookkeeping as train()."""
    n = len(X)
    T = X if target is None else target
    g = torch.Generator().manual_seed(seed)
    g_noise = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        xs, ts = X[perm], T[perm]
        total = torch.zeros(())
        for i in range(0, n, batch_size):
            x, t = xs[i:i + batch_size], ts[i:i + batch_size]
            x_in = corrupt_fn(x, *corrupt, generator=g_noise) if corrupt is not None else x
            loss = F.mse_loss(model(x_in), t)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(x)
        losses.append(float(total) / n)
    model.eval()
    return losses


def _assert_same_parameters(a, b):
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(p, q), f"parameter {name} differs"


@pytest.mark.parametrize("batch_size, corrupt", [(64, None), (50, None), (32, ("gaussian", 0.3)),
                                                 (16, ("masking", 0.25))])
def test_train_equals_plain_loop_bitwise(batch_size, corrupt):
    X = _data()
    m_fast, m_ref = _model(), _model()
    h = train(m_fast, X, epochs=4, batch_size=batch_size, corrupt=corrupt, seed=11, progress=False,
              optimizer=torch.optim.Adam(m_fast.parameters(), lr=1e-2, foreach=False))
    ref = _reference_loop(m_ref, X, epochs=4, batch_size=batch_size, seed=11, corrupt=corrupt,
                          optimizer=torch.optim.Adam(m_ref.parameters(), lr=1e-2, foreach=False))
    assert h.loss == ref
    _assert_same_parameters(m_fast, m_ref)


def test_train_sees_the_same_batches_as_slicing():
    """Each step gets the rows of X[perm][i:i+b], in order, for inputs and targets alike."""
    X, Y = _data(), _data(seed=1)
    seen = []

    def spy(model, x_in, target):
        seen.append((x_in.clone(), target.clone()))
        return F.mse_loss(model(x_in), target)

    train(_model(), X, target=Y, epochs=2, batch_size=64, loss_fn=spy, seed=5, progress=False)
    g = torch.Generator().manual_seed(5)
    expected = []
    for _ in range(2):
        perm = torch.randperm(len(X), generator=g)
        expected += [(X[perm][i:i + 64], Y[perm][i:i + 64]) for i in range(0, len(X), 64)]
    assert len(seen) == len(expected) == 8
    for (x, t), (ex, et) in zip(seen, expected):
        assert torch.equal(x, ex) and torch.equal(t, et)


def test_integer_label_targets_are_gathered_like_indexing():
    X = _data()
    y = torch.arange(len(X)) % 5  # (N,) int64 labels
    seen = []

    def spy(model, x_in, labels):
        seen.append(labels.clone())
        return F.cross_entropy(model(x_in)[:, :5], labels)

    train(_model(), X, target=y, epochs=1, batch_size=50, loss_fn=spy, seed=2, progress=False)
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(2))
    assert torch.equal(torch.cat(seen), y[perm]) and seen[0].dtype == torch.int64


@pytest.mark.parametrize("batch_size", [64, None])
def test_default_optimizer_matches_torch_default_adam_bitwise(batch_size):
    """optimizer=None (aecourse's FlatAdam) == torch.optim.Adam(params, lr) (for-loop on the CPU)."""
    X = _data()
    m_default, m_plain = _model(), _model()
    h_default = train(m_default, X, epochs=5, batch_size=batch_size, lr=3e-3, seed=4, progress=False)
    plain = torch.optim.Adam(m_plain.parameters(), lr=3e-3, foreach=False)
    h_plain = train(m_plain, X, epochs=5, batch_size=batch_size, optimizer=plain, seed=4, progress=False)
    assert h_default.loss == h_plain.loss
    _assert_same_parameters(m_default, m_plain)


def test_default_optimizer_on_digits_with_validation_matches_plain_adam():
    split = aecourse.load_digits()
    X, Xv = split.X_train[:400], split.X_test[:100]
    m_default, m_plain = MLPAutoencoder(64, 2, hidden=(32,), seed=0), MLPAutoencoder(64, 2, hidden=(32,), seed=0)
    h1 = train(m_default, X, X_val=Xv, epochs=3, batch_size=64, lr=1e-3, progress=False)
    h2 = train(m_plain, X, X_val=Xv, epochs=3, batch_size=64, progress=False,
               optimizer=torch.optim.Adam(m_plain.parameters(), lr=1e-3, foreach=False))
    assert h1.loss == h2.loss and h1.val_loss == h2.val_loss
    _assert_same_parameters(m_default, m_plain)


def test_tensor_learning_rate_still_works_and_equals_float_lr():
    X = _data()
    m_tensor, m_float = _model(), _model()
    h_tensor = train(m_tensor, X, epochs=2, batch_size=64, lr=torch.tensor(3e-3), progress=False)
    h_float = train(m_float, X, epochs=2, batch_size=64, lr=3e-3, progress=False)
    assert h_tensor.loss == pytest.approx(h_float.loss, rel=1e-6)


def test_default_optimizer_is_flat_adam_over_the_model_with_torch_adams_settings():
    from aecourse.train import _default_optimizer

    m = _model()
    opt, ref = _default_optimizer(m, 2e-3), torch.optim.Adam(m.parameters(), lr=2e-3)
    assert type(opt) is aecourse.FlatAdam
    for key in ("lr", "betas", "eps", "weight_decay"):
        assert opt.defaults[key] == ref.defaults[key], key
    assert opt.param_groups[0]["params"] == list(m.parameters())


def test_default_optimizer_skips_frozen_parameters_like_torch_adam():
    X = _data()
    m_default, m_plain = _model(), _model()
    for m in (m_default, m_plain):
        m.encoder[0].weight.requires_grad_(False)
    h1 = train(m_default, X, epochs=3, batch_size=64, lr=3e-3, progress=False)
    h2 = train(m_plain, X, epochs=3, batch_size=64, progress=False,
               optimizer=torch.optim.Adam(m_plain.parameters(), lr=3e-3, foreach=False))
    assert h1.loss == h2.loss
    _assert_same_parameters(m_default, m_plain)
    assert torch.equal(m_default.encoder[0].weight, _model().encoder[0].weight)


def test_default_optimizer_falls_back_to_foreach_adam_where_flat_adam_does_not_apply():
    from aecourse.train import _default_optimizer

    mixed = _model()
    mixed.decoder.double()  # two dtypes: no single flat buffer
    opt = _default_optimizer(mixed, 1e-3)
    assert type(opt) is torch.optim.Adam and opt.defaults["foreach"] is True
    assert type(_default_optimizer(_model(), torch.tensor(1e-3))) is torch.optim.Adam
