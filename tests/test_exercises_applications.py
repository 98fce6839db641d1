"""The applications chapter's checkers accept the reference solutions and name known mistakes; their references
agree with scikit-learn and with the library."""
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from aecourse import anomaly as an
from aecourse import conv
from aecourse import retrieval as rt
from aecourse.exercises import ExerciseFailed
from aecourse.exercises import applications as checks


@pytest.fixture(autouse=True)
def quiet(monkeypatch):
    monkeypatch.delenv("AECOURSE_GRADE_LOG", raising=False)


def test_conv_params_prediction_equals_the_measured_count():
    model = conv.ConvAutoencoder(checks.CONV_CODE, channels=checks.CONV_CHANNELS)
    assert checks.check_conv_params(conv.count_parameters(model)).passed
    assert checks._conv_params() == 3835


@pytest.mark.parametrize("value, hint", [
    (checks._conv_params(bias=False), "left out the biases"),
    (checks._conv_params(channel_product=False), "c_in \\* c_out filters"),
    (3835 - 650 - 704, "two linear layers"),
    (4000, "too high"),
])
def test_conv_params_names_mistakes(value, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_conv_params(value)


def test_auc_checker_accepts_the_library_sklearn_and_the_example():
    assert checks.check_roc_auc(an.roc_auc).passed
    assert checks.check_roc_auc(lambda y, s: roc_auc_score(y, s)).passed
    assert checks.check_roc_auc(checks._example_auc).passed


@pytest.mark.parametrize("wrong, hint", [
    (checks._auc_strict, "a tie counts one half"),
    (lambda y, s: 1 - an.roc_auc(y, s), "flipped"),
    (checks._auc_ordinal_ranks, "average rank"),
    (lambda y, s: float(((np.asarray(s) > np.median(s)) == np.asarray(y)).mean()), "accuracy at one threshold"),
])
def test_auc_checker_names_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_roc_auc(wrong)


def test_precision_checker_accepts_the_library_and_a_loop():
    assert checks.check_precision_at_k(rt.precision_at_k).passed

    def loop(idx, yq, yd):
        return float(np.mean([np.mean([yd[j] == yq[i] for j in row]) for i, row in enumerate(idx)]))
    assert checks.check_precision_at_k(loop).passed


@pytest.mark.parametrize("wrong, hint", [
    (lambda idx, yq, yd: float((yd[idx[:, 0]] == yq).mean()), "precision@1"),
    (lambda idx, yq, yd: float((yd[idx] == yq[:, None]).sum(1).mean()), "divide by k"),
    (lambda idx, yq, yd: float((idx == yq[:, None]).mean()), "compared the indices with the labels"),
])
def test_precision_checker_names_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_precision_at_k(wrong)


def test_threshold_checker_accepts_the_library_and_the_example():
    assert checks.check_threshold_at_fpr(an.threshold_at_fpr).passed
    assert checks.check_threshold_at_fpr(checks._example_thr).passed


@pytest.mark.parametrize("wrong, hint", [
    (lambda s, f: float(np.quantile(s, f)), "the false positives are the HIGH scores"),
    (lambda s, f: float(np.quantile(s, 1 - f)), "interpolates"),
    (lambda s, f: float(np.sort(s)[::-1][int(np.floor(f * len(s) + 1e-9)) + 1]), "one normal score too many"),
])
def test_threshold_checker_names_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checks.check_threshold_at_fpr(wrong)
