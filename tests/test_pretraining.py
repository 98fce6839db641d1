"""Tests of aecourse.pretraining (greedy layer-wise pretraining, unrolling, classifiers from a stack) and of
the pretraining exercise checkers, against numpy forward passes, numpy's SVD and scikit-learn."""
import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score

import aecourse
from aecourse import pretraining as pt
from aecourse.exercises import ExerciseFailed, load_all
from aecourse.exercises import pretraining as checks


def _data(n=150, d=10, rank=3, seed=0):
    """Data in (0, 1) near a low-dimensional subspace, float32."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, d)) * 0.3
    X += 0.02 * rng.standard_normal((n, d))
    return (1 / (1 + np.exp(-X))).astype(np.float32)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _np(layer):
    return layer.weight.detach().cpu().numpy().astype(np.float64), layer.bias.detach().cpu().numpy().astype(np.float64)


def _np_encode(stack, X, depth=None):
    h = np.asarray(X, dtype=np.float64)
    depth = stack.n_layers if depth is None else depth
    for i in range(depth):
        W, b = _np(stack.encoders[i])
        h = h @ W.T + b
        act = stack.code_activation if i == stack.n_layers - 1 else stack.activation
        h = _sigmoid(h) if act == "sigmoid" else h
    return h


@pytest.fixture(scope="module")
def stack():
    return pt.pretrain(_data(), (6, 4, 2), activation="sigmoid", code_activation=None, out_activation=None,
                       epochs=30, seed=0)


# --------------------------------------------------------------------------------------------- pretrain

def test_pretrain_builds_one_layer_pair_per_width(stack):
    assert stack.sizes == (10, 6, 4, 2) and stack.n_layers == 3
    assert [tuple(e.weight.shape) for e in stack.encoders] == [(6, 10), (4, 6), (2, 4)]
    assert [tuple(d.weight.shape) for d in stack.decoders] == [(10, 6), (6, 4), (4, 2)]
    assert len(stack.histories) == 3 and all(len(h) == 30 for h in stack.histories)
    # each layer's own reconstruction loss went down
    assert all(h.loss[-1] < h.loss[0] for h in stack.histories)


def test_encode_matches_numpy(stack):
    X = _data(seed=1)
    for depth in (1, 2, 3):
        got = stack.encode(X, depth=depth).numpy()
        assert np.allclose(got, _np_encode(stack, X, depth), atol=1e-5)


def test_each_layer_trains_on_the_clean_codes_of_the_layers_below(monkeypatch):
    """Vincent et al. (2010): corruption only on the input of the layer being trained, never propagated."""
    seen = []
    real_train = pt.train

    def spy(model, X, **kwargs):
        seen.append((X.detach().clone().numpy(), kwargs.get("corrupt")))
        return real_train(model, X, **kwargs)

    monkeypatch.setattr(pt, "train", spy)
    X = _data()
    st = pt.pretrain(X, (5, 3), code_activation="sigmoid", corrupt=("masking", 0.3), epochs=5, seed=0)
    assert len(seen) == 2
    assert np.allclose(seen[0][0], X)
    assert np.allclose(seen[1][0], _np_encode(st, X, depth=1), atol=1e-5)   # clean codes of layer 1
    assert all(c == ("masking", 0.3) for _, c in seen)


def test_same_seed_same_stack_other_seed_differs():
    X = _data()
    a = pt.pretrain(X, (4, 2), epochs=5, seed=3)
    b = pt.pretrain(X, (4, 2), epochs=5, seed=3)
    c = pt.pretrain(X, (4, 2), epochs=5, seed=4)
    for la, lb, lc in zip(a.encoders + a.decoders, b.encoders + b.decoders, c.encoders + c.decoders):
        assert torch.equal(la.weight, lb.weight)
    assert not torch.equal(a.encoders[0].weight, c.encoders[0].weight)


def test_pretrain_leaves_the_global_generator_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    pt.pretrain(_data(), (3,), epochs=2, seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_one_linear_layer_reaches_the_eckart_young_bound():
    """A single linear layer is a linear autoencoder: its optimum is PCA's error (numpy SVD reference)."""
    X = _data(n=200, d=8, rank=4)
    p = 2
    Xc = X.astype(np.float64) - X.mean(0)
    s = np.linalg.svd(Xc, compute_uv=False)
    bound = (s[p:] ** 2).sum() / X.size                             # per-entry MSE of the best rank-p fit
    st = pt.pretrain(X, (p,), activation=None, code_activation=None, out_activation=None, epochs=1000,
                     lr=0.1, seed=0)
    mse = aecourse.mse(X, pt.unroll(st)(torch.as_tensor(X)).detach())
    assert bound <= mse * (1 + 1e-4) and mse < 1.02 * bound, (mse, bound)


def test_optimizer_factory_is_used():
    X = _data()
    made = []

    def sgd(params):
        made.append(torch.optim.SGD(params, lr=0.5))
        return made[-1]

    st = pt.pretrain(X, (4, 2), epochs=3, optimizer=sgd, seed=0)
    assert len(made) == 2 and st.n_layers == 2


# ------------------------------------------------------------------------------------------------ unroll

def test_unroll_is_the_mirrored_deep_autoencoder(stack):
    X = _data(seed=2)
    model = pt.unroll(stack)
    assert isinstance(model, aecourse.MLPAutoencoder)
    assert (model.n_features, model.n_components, model.hidden) == (10, 2, (6, 4))
    h = _np_encode(stack, X)                                   # linear code
    for i in reversed(range(stack.n_layers)):                  # decoders from the top down
        V, c = _np(stack.decoders[i])
        h = h @ V.T + c
        h = _sigmoid(h) if i > 0 else h                        # linear output
    with torch.no_grad():
        got = model(torch.as_tensor(X)).numpy()
    assert np.allclose(got, h, atol=1e-5)
    # the unrolled model holds copies: fine-tuning it leaves the stack alone
    before = stack.encoders[0].weight.detach().clone()
    aecourse.train(model, X, epochs=3, batch_size=None, lr=0.1)
    assert torch.equal(stack.encoders[0].weight, before)


def test_unroll_needs_a_linear_code():
    st = pt.pretrain(_data(), (3,), code_activation="sigmoid", epochs=1)
    with pytest.raises(ValueError, match="code_activation='sigmoid'.*pretrained_classifier"):
        pt.unroll(st)
    with pytest.raises(TypeError, match="PretrainedStack"):
        pt.unroll(aecourse.MLPAutoencoder(10, 2))


# ------------------------------------------------------------------------------------------ classifiers

def test_pretrained_classifier_is_encoder_plus_head():
    X = _data()
    st = pt.pretrain(X, (6, 4), code_activation="sigmoid", epochs=5, seed=0)
    clf = pt.pretrained_classifier(st, 3, seed=1)
    head = clf[-1]
    assert tuple(head.weight.shape) == (3, 4)
    W, b = _np(head)
    with torch.no_grad():
        got = clf(torch.as_tensor(X)).numpy()
    assert np.allclose(got, _np_encode(st, X) @ W.T + b, atol=1e-5)
    # copies: training the classifier leaves the stack as it was
    before = st.encoders[0].weight.detach().clone()
    y = torch.as_tensor(np.arange(len(X)) % 3)
    aecourse.train(clf, X, target=y, loss_fn=pt.classification_loss, epochs=5, batch_size=None, lr=0.1)
    assert torch.equal(st.encoders[0].weight, before)
    # the head is seeded
    assert torch.equal(pt.pretrained_classifier(st, 3, seed=1)[-1].weight, pt.pretrained_classifier(st, 3, seed=1)[-1].weight)


def test_mlp_classifier_is_seeded_and_he_initialised():
    a = pt.mlp_classifier(64, (200, 200), 10, activation="relu", init="he", seed=0)
    b = pt.mlp_classifier(64, (200, 200), 10, activation="relu", init="he", seed=0)
    c = pt.mlp_classifier(64, (200, 200), 10, activation="relu", init="he", seed=1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a[0].weight, c[0].weight)
    assert abs(float(a[2].weight.detach().std()) - np.sqrt(2 / 200)) < 0.005            # He et al. (2015)
    d = pt.mlp_classifier(64, (32,), 10, seed=0)                               # PyTorch's default init
    assert float(d[0].weight.detach().abs().max()) <= 1 / np.sqrt(64)


def test_classification_loss_and_accuracy_against_references():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((20, 4))
    y = rng.integers(0, 4, 20)
    model = torch.nn.Linear(4, 4, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(4))
    x = torch.as_tensor(logits, dtype=torch.float32)
    log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    expected = -log_softmax[np.arange(20), y].mean()
    assert np.isclose(pt.classification_loss(model, x, torch.as_tensor(y)).item(), expected, atol=1e-5)
    assert np.isclose(pt.accuracy(model, logits, y), accuracy_score(y, logits.argmax(1)))
    assert np.isclose(pt.accuracy(model, x, torch.as_tensor(y)), accuracy_score(y, logits.argmax(1)))
    with pytest.raises(ValueError, match="one label per row"):
        pt.accuracy(model, logits, y[:5])


# ------------------------------------------------------------------------------------- balanced subsets

def test_balanced_subset_draws_n_per_class_without_repeats():
    y = np.random.default_rng(0).permutation(np.repeat([3, 7, 8], [20, 25, 30]))
    idx = pt.balanced_subset(y, 4, seed=0)
    assert idx.dtype.kind == "i" and len(np.unique(idx)) == 12
    assert [int((y[idx] == c).sum()) for c in (3, 7, 8)] == [4, 4, 4]
    assert np.array_equal(idx, pt.balanced_subset(y, 4, seed=0))
    assert not np.array_equal(idx, pt.balanced_subset(y, 4, seed=1))


def test_balanced_subset_errors():
    y = np.repeat([0, 1], [5, 3])
    with pytest.raises(ValueError, match="n_per_class=4 but class 1 has only 3"):
        pt.balanced_subset(y, 4)
    with pytest.raises(ValueError, match="1-D array of class labels"):
        pt.balanced_subset(y.reshape(2, 4), 1)
    with pytest.raises(ValueError, match="n_per_class=0"):
        pt.balanced_subset(y, 0)


# ------------------------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("kwargs, exc, match", [
    ({"sizes": (4, 0)}, ValueError, r"sizes\[1\]=0"),
    ({"sizes": "4"}, TypeError, "sequence of positive layer widths"),
    ({"activation": "sigmod"}, ValueError, "activation='sigmod' is not supported"),
    ({"code_activation": "softmax"}, ValueError, "activation='softmax' is not supported"),
    ({"epochs": 0}, ValueError, "epochs=0"),
    ({"lr": -1.0}, ValueError, "lr=-1.0"),
    ({"init": "glorot"}, ValueError, "init='glorot' is not supported"),
    ({"optimizer": "adam"}, TypeError, "optimizer='adam' must be a function"),
    ({"corrupt": ("blur", 0.1)}, ValueError, "kind='blur'"),
])
def test_pretrain_rejects_bad_arguments(kwargs, exc, match):
    args = {"sizes": (4, 2), "epochs": 1, **kwargs}
    with pytest.raises(exc, match=match):
        pt.pretrain(_data(), **args)


def test_bad_data_and_classifier_arguments():
    with pytest.raises(ValueError, match="must be 2-D"):
        pt.pretrain(np.zeros(10), (2,))
    with pytest.raises(ValueError, match="NaN"):
        pt.pretrain(np.full((4, 3), np.nan), (2,))
    st = pt.pretrain(_data(), (3,), code_activation="sigmoid", epochs=1)
    with pytest.raises(ValueError, match="n_classes=1"):
        pt.pretrained_classifier(st, 1)
    with pytest.raises(TypeError, match="PretrainedStack"):
        pt.pretrained_classifier("stack", 3)
    with pytest.raises(ValueError, match="depth=5"):
        st.encode(_data(), depth=5)


# ---------------------------------------------------------------------------------------------- checkers

def test_checkers_are_registered():
    reg = load_all()
    for label in ("ex-stack-clean-codes", "ex-stack-unroll", "ex-stack-balanced-subset", "ex-stack-gain"):
        assert reg[label]["module"] == checks.__name__


@pytest.mark.parametrize("label", ["ex-stack-clean-codes", "ex-stack-unroll", "ex-stack-balanced-subset",
                                   "ex-stack-gain"])
def test_checker_accepts_its_example(label, capsys):
    entry = load_all()[label]
    assert entry["check"](entry["example"]()).passed


def test_clean_codes_checker_agrees_with_the_library(stack):
    """The checker's reference is the library's PretrainedStack.encode for an all-sigmoid stack."""
    st = pt.pretrain(_data(), (5, 3), code_activation="sigmoid", epochs=2, seed=0)
    X = _data(seed=4)
    weights = [_np(e)[0] for e in st.encoders]
    biases = [_np(e)[1] for e in st.encoders]
    assert np.allclose(checks._reference_codes(X, weights, biases), st.encode(X).numpy(), atol=1e-5)


def test_unroll_checker_agrees_with_the_library(stack):
    X = _data(seed=5)
    enc = [_np(e) for e in stack.encoders]
    dec = [_np(d) for d in stack.decoders]
    with torch.no_grad():
        lib = pt.unroll(stack)(torch.as_tensor(X)).numpy()
    assert np.allclose(checks._reference_unrolled(X, enc, dec), lib, atol=1e-5)


def _linear_codes(X, weights, biases):
    h = X
    for W, b in zip(weights, biases):
        h = h @ W.T + b
    return h


def _tanh_codes(X, weights, biases):
    h = X
    for W, b in zip(weights, biases):
        h = np.tanh(h @ W.T + b)
    return h


@pytest.mark.parametrize("wrong, hint", [(_linear_codes, "collapses into a single linear map"),
                                         (_tanh_codes, "not tanh")])
def test_clean_codes_checker_names_the_mistake(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_clean_codes(wrong)


def _unrolled(code_sigmoid=False, forward=False):
    def fn(X, encoders, decoders):
        h = X
        for i, (W, b) in enumerate(encoders):
            h = h @ W.T + b
            if i < len(encoders) - 1 or code_sigmoid:
                h = _sigmoid(h)
        for i in (range(len(decoders)) if forward else reversed(range(len(decoders)))):
            V, c = decoders[i]
            h = h @ V.T + c
            if i > 0:
                h = _sigmoid(h)
        return h
    return fn


@pytest.mark.parametrize("wrong, hint", [(_unrolled(code_sigmoid=True), "code layer is linear"),
                                         (_unrolled(forward=True), "reverse order")])
def test_unroll_checker_names_the_mistake(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_unrolled_forward(wrong)


def _first_n(y, n, seed):
    return np.concatenate([np.flatnonzero(y == c)[:n] for c in np.unique(y)])


def _overall(y, n, seed):
    return np.random.default_rng(seed).choice(len(y), n * len(np.unique(y)), replace=False)


def _with_replacement(y, n, seed):
    """Draws with replacement; made to repeat an index for sure, so that the test does not rely on luck."""
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(y == c), n, replace=True) for c in np.unique(y)]
    picks[0][-1] = picks[0][0]
    return np.concatenate(picks)


def _global_state(y, n, seed):
    return np.concatenate([np.random.choice(np.flatnonzero(y == c), n, replace=False) for c in np.unique(y)])


@pytest.mark.parametrize("wrong, hint", [
    (_first_n, "draw at random"),
    (_overall, "from EACH class"),
    (_with_replacement, "without replacement"),
    (_global_state, "depend only on seed"),
    (lambda y, n, s: np.isin(np.arange(len(y)), _first_n(y, n, s)), "boolean mask"),
])
def test_balanced_subset_checker_names_the_mistake(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_balanced_subset(wrong)


# ------------------------------------------------------------------------------ gain with its error

def test_gain_checker_reference_is_a_paired_standard_error():
    """Against scipy: the paired t statistic is the mean difference over its standard error."""
    from scipy import stats

    for a, b in checks._gain_cases():
        gain, se = checks._reference_gain(a, b)
        assert gain == pytest.approx(np.mean(a) - np.mean(b))
        assert gain / se == pytest.approx(stats.ttest_rel(a, b).statistic)
    assert checks.check_gain_and_error(lambda a, b: checks._reference_gain(a, b)).passed
    assert checks.check_gain_and_error(lambda a, b: [float(np.mean(a - b)),
                                                     float(np.std(a - b, ddof=1) / np.sqrt(len(a)))]).passed


@pytest.mark.parametrize("wrong, hint", [
    (lambda a, b: (a.mean() - b.mean(), np.hypot(a.std(ddof=1), b.std(ddof=1)) / np.sqrt(len(a))), "paired"),
    (lambda a, b: ((a - b).mean(), (a - b).std() / np.sqrt(len(a))), "ddof=1"),
    (lambda a, b: ((a - b).mean(), (a - b).std(ddof=1)), "sqrt\\(S\\)"),
    (lambda a, b: ((b - a).mean(), (a - b).std(ddof=1) / np.sqrt(len(a))), "sign is flipped"),
    (lambda a, b: (a - b).mean(), "shape"),
])
def test_gain_checker_names_the_mistake(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_gain_and_error(wrong)
