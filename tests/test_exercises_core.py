"""The checker machinery (aecourse/exercises/_core.py): registration, messages, grading records, and
the promise that learner code never crashes a checker."""
import json

import numpy as np
import pytest
import torch

from aecourse.exercises import REGISTRY, TOPICS, ExerciseFailed, Result, check_function, check_value, checker, \
    failed, load_all, passed
from aecourse.exercises import _core
from aecourse.exercises._core import _call, _compare, _to_numpy, describe

L = "ex-core-test"


@pytest.fixture(autouse=True)
def no_grade_log(monkeypatch):
    monkeypatch.delenv("AECOURSE_GRADE_LOG", raising=False)


def _ref(X):
    return np.asarray(X, float).sum(axis=0)


CASES = [(np.arange(6.0).reshape(3, 2),), (np.ones((4, 3)),)]


def check(fn, **kw):
    return check_function(L, fn, reference=_ref, cases=CASES, **kw)


# ------------------------------------------------------------------------------------ passed / failed / record

def test_passed_prints_one_line_and_returns_a_result(capsys):
    r = passed(L, "all good.")
    assert r == Result(L, True, "all good.")
    assert capsys.readouterr().out.strip().splitlines() == [f"\u2705 {L}: all good."]


def test_failed_raises_with_label_message_and_hint():
    with pytest.raises(ExerciseFailed, match="Hint: try this") as info:
        failed(L, "it differs.", "try this")
    assert info.value.label == L
    assert isinstance(info.value, AssertionError)   # an assert-like failure, so nbval and pytest treat it as one
    assert str(info.value).startswith(f"\u274c {L}: it differs.")


def test_exercise_failed_renders_without_a_traceback():
    exc = ExerciseFailed(L, "short message")
    assert exc._render_traceback_() == ["short message"]


def test_results_are_recorded_as_json_lines_for_grading(tmp_path, monkeypatch, capsys):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv("AECOURSE_GRADE_LOG", str(log))
    passed(L, "fine.")
    with pytest.raises(ExerciseFailed):
        failed(L, "wrong.", "a hint\non two lines")
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert rows[0] == {"label": L, "passed": True, "message": "fine."}
    assert rows[1]["label"] == L and rows[1]["passed"] is False
    assert rows[1]["message"].startswith("wrong.") and "Hint: a hint" in rows[1]["message"]
    assert "\n   " not in rows[1]["message"]   # one line per record


def test_nothing_is_recorded_without_the_variable(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    passed(L, "fine.")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------------------------- registry

def test_checker_registers_under_its_label():
    @checker("ex-core-registered", kind="value", example=lambda: 3.0)
    def check_three(value):
        return check_value("ex-core-registered", value, 3.0)

    try:
        entry = REGISTRY["ex-core-registered"]
        assert entry["check"] is check_three and entry["kind"] == "value"
        assert entry["example"]() == 3.0 and entry["module"] == __name__
        assert check_three.label == "ex-core-registered"
    finally:
        REGISTRY.pop("ex-core-registered")


def test_load_all_imports_every_topic():
    registry = load_all()
    assert "basics" in TOPICS and not any(t.startswith("_") for t in TOPICS)
    assert {"ex-recon-mse", "ex-identity-weights"} <= set(registry)
    assert {entry["module"].rsplit(".", 1)[-1] for entry in registry.values()} <= set(TOPICS) | {__name__}


# ----------------------------------------------------------------------------------------------- describe

@pytest.mark.parametrize("obj, text", [
    (None, "None"),
    (torch.zeros(2, 3), "torch.Tensor of shape (2, 3) and dtype torch.float32"),
    (np.zeros((4,), dtype=np.int64), "numpy array of shape (4,) and dtype int64"),
    ([1, 2], "list of length 2"),
    ((1,), "tuple of length 1"),
    (2.5, "float 2.5"),
    ("abc", "str"),
])
def test_describe(obj, text):
    assert describe(obj) == text


def test_describe_survives_numbers_too_long_to_print():
    assert describe(10 ** 5000).startswith("int ")
    assert len(describe(1 / 3)) < 60


# -------------------------------------------------------------------------------------------------- _call

def test_call_passes_copies_and_returns_the_output():
    x = np.arange(3.0)
    assert _call(L, lambda a: a * 2, (x,), "case").tolist() == [0.0, 2.0, 4.0]


@pytest.mark.parametrize("fn, match", [
    (3, "expected a function, but got int 3"),
    (lambda x: (_ for _ in ()).throw(NotImplementedError(L)), "not attempted yet"),
    (lambda x: 1 / 0, "raised ZeroDivisionError: division by zero \\(on case\\)"),
    (lambda x, y: x, "raised TypeError"),
])
def test_call_turns_learner_errors_into_messages(fn, match):
    with pytest.raises(ExerciseFailed, match=match):
        _call(L, fn, (np.ones(2),), "case")


@pytest.mark.parametrize("x", [np.ones(3), torch.ones(3)])
def test_call_detects_changing_the_input_in_place(x):
    def centre_in_place(a):
        a -= a.mean()
        return a
    with pytest.raises(ExerciseFailed, match="changed its input in place"):
        _call(L, centre_in_place, (x,), "case")
    assert float(x.sum()) == 3.0   # the caller's data are untouched


def test_call_lets_an_inner_exercise_failure_through():
    def inner(_):
        failed("ex-other", "inner failure")
    with pytest.raises(ExerciseFailed) as info:
        _call(L, inner, (1,), "case")
    assert info.value.label == "ex-other"


# ---------------------------------------------------------------------------------------------- _to_numpy

def test_to_numpy_converts_arrays_tensors_and_numbers():
    assert _to_numpy(L, [1, 2], "array", "c").tolist() == [1, 2]
    assert _to_numpy(L, torch.ones(2, requires_grad=True) * 2, "tensor", "c").tolist() == [2.0, 2.0]
    assert _to_numpy(L, np.ones(2), "any", "c").shape == (2,)
    assert float(_to_numpy(L, torch.tensor([0.5]), "float", "c")) == 0.5
    assert float(_to_numpy(L, np.float32(0.25), "float", "c")) == 0.25
    assert float(_to_numpy(L, 3, "float", "c")) == 3.0


@pytest.mark.parametrize("out, expect, match", [
    (None, "array", "(?s)returned None .*Hint: did you forget the `return`"),
    (torch.ones(2), "array", "(?s)expected a numpy array, but got a torch.Tensor.*detach\\(\\).cpu\\(\\).numpy\\(\\)"),
    (np.ones(2), "tensor", "(?s)expected a torch.Tensor, but got a numpy array.*torch.from_numpy"),
    (np.ones(2), "float", "expected a single number, but got numpy array of shape \\(2,\\)"),
    (True, "float", "expected a single number, but got bool"),
    ("0.5", "float", "expected a single number, but got str"),
    (10 ** 400, "float", "not a usable float"),
    (torch.tensor(1.0, device="meta"), "float", "expected a single number"),
    ([[1, 2], [3]], "array", "expected numbers"),
    (np.array(["a"]), "array", "expected numbers"),
    (np.ones(2, dtype=complex), "array", "expected numbers"),
    ({"a": 1}, "any", "expected numbers, but got dict"),
])
def test_to_numpy_rejects_with_a_friendly_message(out, expect, match):
    with pytest.raises(ExerciseFailed, match=match):
        _to_numpy(L, out, expect, "case")


# ------------------------------------------------------------------------------------------------ _compare

def test_compare_says_what_differed():
    want = np.zeros((2, 3))
    assert _compare(L, want.copy(), want, 1e-5, 1e-6, "c") is None
    assert "expected shape (2, 3), but got shape (3, 2)" in _compare(L, np.zeros((3, 2)), want, 1e-5, 1e-6, "c")
    assert "looks transposed" in _compare(L, np.zeros((3, 2)), want, 1e-5, 1e-6, "c")
    assert "NaN or infinite" in _compare(L, np.full((2, 3), np.nan), want, 1e-5, 1e-6, "c")
    got = want.copy()
    got[1, 2] = 0.5
    msg = _compare(L, got, want, 1e-5, 1e-6, "c")
    assert "expected 0 at index (1, 2), got 0.5" in msg and "largest difference 0.5" in msg
    assert "expected 1, got 2" in _compare(L, np.asarray(2.0), np.asarray(1.0), 1e-5, 1e-6, "c")


# ------------------------------------------------------------------------------------------ check_function

def test_check_function_accepts_a_correct_answer(capsys):
    assert check(lambda X: X.sum(axis=0)).passed
    assert "correct on all 2 test inputs" in capsys.readouterr().out


def test_check_function_names_a_known_mistake_and_falls_back_to_the_hint():
    mistakes = [(lambda X: np.asarray(X).sum(axis=1), "sum over samples (axis 0), not features.")]
    with pytest.raises(ExerciseFailed, match="(?s)expected shape.*Hint: sum over samples"):
        check(lambda X: X.sum(axis=1), mistakes=mistakes, hint="generic")
    with pytest.raises(ExerciseFailed, match="(?s)values differ.*Hint: generic"):
        check(lambda X: X.sum(axis=0) + 1, mistakes=mistakes, hint="generic")


def test_check_function_uses_case_names():
    with pytest.raises(ExerciseFailed, match="on the ones"):
        check(lambda X: X.sum(axis=0) * (X.min() == 0), case_names=["the range", "the ones"])


def test_a_broken_mistake_never_crashes_the_checker_nor_pollutes_the_grade_log(tmp_path, monkeypatch):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv("AECOURSE_GRADE_LOG", str(log))
    mistakes = [(lambda X: 1 / 0, "never shown"), (lambda X: None, "never shown either"),
                (lambda X: torch.as_tensor(np.asarray(X)).sum(dim=0) + 1, "off by one")]
    with pytest.raises(ExerciseFailed, match="Hint: off by one"):
        check(lambda X: X.sum(axis=0) + 1, mistakes=mistakes)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(rows) == 1 and "off by one" in rows[0]["message"]


@pytest.mark.parametrize("fn", [
    None, "sum", 3, lambda X: None, lambda X: "text", lambda X: {"a": 1}, lambda X: [[1], [2, 3]],
    lambda X: np.full(2, np.nan), lambda X: np.full(2, np.inf), lambda X: 10 ** 400,
    lambda X: torch.as_tensor(X).sum(0), lambda: 0, lambda X: X.undefined_attribute,
    lambda X: (_ for _ in ()).throw(RecursionError()), lambda X: np.ones((5, 5, 5)),
])
def test_check_function_never_crashes_on_learner_code(fn):
    with pytest.raises(ExerciseFailed):
        check(fn)


# --------------------------------------------------------------------------------------------- check_value

def test_check_value_accepts_numbers_within_tolerance(capsys):
    assert check_value(L, 2.0004, 2.0).passed
    assert check_value(L, np.float32(2.0), 2.0).passed
    assert check_value(L, torch.tensor(2.0), 2.0).passed
    assert check_value(L, np.array([2.0]), 2.0).passed


@pytest.mark.parametrize("value, match", [
    (None, "the answer is None"),
    (len, "expected a number for the answer, but got a function"),
    (float("nan"), "is nan; expected a finite number"),
    (float("inf"), "is inf; expected a finite number"),
    ("2.0", "expected a single number, but got str"),
    ([2.0, 3.0], "expected a single number, but got list of length 2"),
    (10 ** 5000, "not a usable float"),
    (2.5, "the answer = 2.5 is not right"),
], ids=["none", "function", "nan", "inf", "str", "list", "huge-int", "wrong"])
def test_check_value_rejects_with_a_friendly_message(value, match):
    with pytest.raises(ExerciseFailed, match=match):
        check_value(L, value, 2.0)


def test_check_value_names_a_known_mistake():
    with pytest.raises(ExerciseFailed, match="Hint: you forgot the square root"):
        check_value(L, 4.0, 2.0, mistakes=[(4.0, "you forgot the square root")], hint="generic")
    with pytest.raises(ExerciseFailed, match="Hint: generic"):
        check_value(L, 5.0, 2.0, mistakes=[(4.0, "you forgot the square root")], hint="generic")


def test_module_exports_exist():
    for name in _core.__all__:
        assert hasattr(_core, name), name
