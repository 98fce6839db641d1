"""Interpretability helpers: recording and splicing activations against a hand-written forward pass,
variance explained against scikit-learn, label purity against a plain loop."""
import numpy as np
import pytest
import torch
from sklearn.metrics import r2_score

from aecourse import interpretability as interp
from aecourse import pretraining as pt


def _net():
    return pt.mlp_classifier(5, (7,), 3, activation="relu", seed=0)      # Linear, ReLU, Linear


def test_record_activations_equals_the_forward_pass_and_removes_its_hook():
    net = _net()
    X = torch.rand(6, 5, generator=torch.Generator().manual_seed(1))
    A = interp.record_activations(net, net[1], X)
    with torch.no_grad():
        assert torch.allclose(A, torch.relu(net[0](X)))
    assert not net[1]._forward_hooks, "the hook must be removed"
    assert net.training, "the network's mode is restored"
    A2 = interp.record_activations(net, net[1], X.numpy())                 # numpy input works too
    assert torch.allclose(A, A2)


def test_spliced_replaces_the_output_only_inside_the_block():
    net = _net()
    X = torch.rand(4, 5, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        before = net(X)
        with interp.spliced(net, net[1], lambda a: torch.zeros_like(a)):
            inside = net(X)
        after = net(X)
    assert torch.allclose(inside, net[2].bias.expand(4, 3).detach())    # zero hidden layer -> output bias
    assert torch.equal(before, after) and not net[1]._forward_hooks


def test_spliced_removes_the_hook_after_an_error_and_checks_shapes():
    net = _net()
    X = torch.rand(2, 5)
    with pytest.raises(ValueError, match="it must return a tensor of the same shape"):
        with interp.spliced(net, net[1], lambda a: a[:, :3]):
            net(X)
    assert not net[1]._forward_hooks
    with pytest.raises(TypeError, match="is not callable"):
        with interp.spliced(net, net[1], 3):
            pass


def test_module_must_belong_to_the_model():
    with pytest.raises(ValueError, match="module must be one of model's own submodules"):
        interp.record_activations(_net(), torch.nn.ReLU(), torch.rand(2, 5))
    with pytest.raises(TypeError, match="is not a torch.nn.Module"):
        interp.record_activations("net", torch.nn.ReLU(), torch.rand(2, 5))


def test_variance_explained_matches_sklearn_variance_weighted_r2():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 6)) * np.array([1, 10, 0.1, 3, 1, 2]) + 5
    A_hat = A + rng.standard_normal(A.shape)
    want = r2_score(A, A_hat, multioutput="variance_weighted")
    assert interp.variance_explained(A, A_hat) == pytest.approx(want, rel=1e-10)
    assert interp.variance_explained(torch.from_numpy(A), torch.from_numpy(A)) == pytest.approx(1.0)
    assert interp.variance_explained(A, np.broadcast_to(A.mean(0), A.shape)) == pytest.approx(0.0, abs=1e-12)


def test_variance_explained_errors():
    with pytest.raises(ValueError, match="A has shape .* but A_hat has shape"):
        interp.variance_explained(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="A has zero variance"):
        interp.variance_explained(np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"expected \(n_samples, n_features\)"):
        interp.variance_explained(np.ones(3), np.ones(3))


def _purity_loop(Z, y, n_top):
    out = []
    for j in range(Z.shape[1]):
        if (Z[:, j] > 0).sum() < n_top:
            out.append(np.nan)
            continue
        top = np.argsort(-Z[:, j], kind="stable")[:n_top]
        _, counts = np.unique(y[top], return_counts=True)
        out.append(counts.max() / n_top)
    return np.array(out)


def test_label_purity_matches_a_loop_and_marks_rare_units():
    rng = np.random.default_rng(3)
    Z = np.maximum(rng.standard_normal((60, 9)), 0)
    Z[:, 4] = 0.0
    Z[:3, 4] = 1.0                                                          # active on 3 rows only
    y = rng.choice(np.array([2, 5, 7]), size=60)                            # labels need not be 0..c-1
    got = interp.label_purity(Z, y, n_top=5)
    want = _purity_loop(Z, y, 5)
    np.testing.assert_allclose(got, want)
    assert np.isnan(got[4])
    pure = np.zeros((20, 1))
    pure[:6, 0] = np.arange(6, 0, -1)
    assert interp.label_purity(pure, np.array([1] * 6 + [0] * 14), n_top=6)[0] == 1.0
    assert interp.label_purity(torch.from_numpy(Z), torch.from_numpy(y), 5).shape == (9,)


def test_label_purity_errors():
    with pytest.raises(ValueError, match=r"y has shape \(3,\); expected one label per row"):
        interp.label_purity(np.ones((4, 2)), np.zeros(3), 2)
    with pytest.raises(ValueError, match="n_top=5 must be between 1 and 4"):
        interp.label_purity(np.ones((4, 2)), np.zeros(4), 5)
