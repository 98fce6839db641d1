"""The sparse and contractive chapter's checkers accept the reference solutions and name known mistakes;
their references agree with the library and with automatic differentiation."""
import math

import numpy as np
import pytest
import torch

from aecourse import interpretability as interp
from aecourse import sparse as sp
from aecourse.exercises import ExerciseFailed
from aecourse.exercises import sparse as checks


@pytest.fixture(autouse=True)
def quiet(monkeypatch):
    monkeypatch.delenv("AECOURSE_GRADE_LOG", raising=False)


# ----------------------------------------------------------------------------------------- KL at init

def test_kl_init_accepts_the_prediction_and_matches_the_library():
    value = 256 * (0.05 * math.log(0.1) + 0.95 * math.log(1.9))
    assert checks.check_kl_at_init(value).passed
    assert value == pytest.approx(float(sp.kl_sparsity_penalty(torch.full((3, 256), 0.5), 0.05)), rel=1e-5)


@pytest.mark.parametrize("value, hint", [
    (256 * (0.5 * math.log(10) + 0.5 * math.log(0.5 / 0.95)), "the divergence the other way round"),
    (0.05 * math.log(0.1) + 0.95 * math.log(1.9), "the penalty of one unit"),
    (256 * (0.05 * math.log(0.1) + 0.95 * math.log(1.9)) / math.log(2), "in bits"),
    (256 * 0.05 * math.log(0.1), "you kept only the first term"),
    (256 * 0.45 ** 2, "squared difference"),
    (50.0, "too low"),
])
def test_kl_init_names_mistakes(value, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_kl_at_init(value)


# ------------------------------------------------------------------------------------------------ top-k

def test_topk_checker_accepts_the_library_and_the_example():
    assert checks.check_topk(lambda a, k: sp.topk(a, k)).passed
    assert checks.check_topk(lambda a, k: sp.topk(torch.as_tensor(a), k).numpy()).passed   # numpy is fine too


@pytest.mark.parametrize("wrong, hint", [
    (lambda a, k: sp.topk(a, k, relu=False), "kept negative values"),
    (lambda a, k: torch.relu(a), "plain ReLU"),
    (checks._smallest_topk, "kept the k smallest"),
    (lambda a, k: torch.topk(a, k, dim=1).values, "expected shape"),
])
def test_topk_checker_names_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_topk(wrong)


def test_topk_checker_names_the_global_and_absolute_value_mistakes():
    with pytest.raises(ExerciseFailed, match="whole batch"):
        checks.check_topk(checks._global_topk)
    with pytest.raises(ExerciseFailed, match=r"ranked by \|a\|"):
        checks.check_topk(checks._abs_topk)


# ------------------------------------------------------------------------------------ contractive penalty

def test_contractive_reference_agrees_with_jacrev():
    from torch.func import jacrev, vmap
    for X, W, c in checks._cae_cases():
        Xt, Wt, ct = (torch.as_tensor(v, dtype=torch.float64) for v in (X, W, c))
        J = vmap(jacrev(lambda x: torch.sigmoid(Wt @ x + ct)))(Xt)           # (N, p, n)
        assert checks._reference_cae(X, W, c) == pytest.approx(float((J ** 2).sum((1, 2)).mean()), rel=1e-10)


def test_contractive_checker_accepts_a_jacobian_based_answer():
    def by_autograd(X, W, c):
        Wt, ct = torch.as_tensor(W), torch.as_tensor(c)
        J = torch.stack([torch.autograd.functional.jacobian(lambda x: torch.sigmoid(Wt @ x + ct), x)
                         for x in torch.as_tensor(X)])
        return float((J ** 2).sum((1, 2)).mean())
    assert checks.check_contractive_penalty(by_autograd).passed


@pytest.mark.parametrize("wrong, hint", [
    (lambda X, W, c: float((np.sqrt(checks._slopes2(X, W, c)) @ (W ** 2).sum(1)).mean()), "square the slope"),
    (lambda X, W, c: float((checks._h(X, W, c) ** 2 @ (W ** 2).sum(1)).mean()), "derivative is h"),
    (lambda X, W, c: float(checks._slopes2(X, W, c).sum(1).mean()), "left out the weights"),
    (lambda X, W, c: float((checks._slopes2(X, W, c) @ (W ** 2).sum(1)).sum()), "summed over the examples"),
    (lambda X, W, c: None, "forget the `return`"),
])
def test_contractive_checker_names_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_contractive_penalty(wrong)


# ------------------------------------------------------------------------------------ variance explained

def test_variance_checker_accepts_the_library():
    assert checks.check_variance_explained(interp.variance_explained).passed


@pytest.mark.parametrize("wrong, hint", [
    (lambda A, B: float(1 - ((A - B) ** 2).sum() / (A ** 2).sum()), "centre A first"),
    (checks._r2_uniform, "one R\\^2 per feature"),
    (lambda A, B: float(((A - B) ** 2).sum() / ((A - A.mean(0)) ** 2).sum()), "UNexplained"),
    (lambda A, B: float(1 - ((A - B) ** 2).sum() / ((A - A.mean(1, keepdims=True)) ** 2).sum()), "centred each row"),
])
def test_variance_checker_names_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_variance_explained(wrong)
