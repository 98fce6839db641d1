"""Property-based tests of EVERY registered exercise checker (the registry is walked, so a new topic module
is covered as soon as it exists): each accepts its registered ``example``, and random wrong answers (None,
strings, huge ints, NaN/inf arrays, wrong shapes, tensors where arrays are expected and the reverse,
functions that raise or return garbage) produce ``ExerciseFailed``, never another exception.

``AECOURSE_HYPOTHESIS_EXAMPLES`` sets the number of random answers per checker (default 30).
"""
import inspect
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from aecourse.exercises import ExerciseFailed, Result, load_all

REGISTRY = load_all()
LABELS = sorted(REGISTRY)
N = int(os.environ.get("AECOURSE_HYPOTHESIS_EXAMPLES", "30"))
# Learner garbage (numpy functions on tensors) may trigger numpy's deprecation notes; they are not the point.
pytestmark = pytest.mark.filterwarnings("ignore:__array_wrap__:DeprecationWarning")
SETTINGS = settings(max_examples=N, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])


@pytest.fixture(autouse=True)
def quiet(monkeypatch, capsys):
    monkeypatch.delenv("AECOURSE_GRADE_LOG", raising=False)
    with np.errstate(all="ignore"):   # learner garbage overflows; the checker must still answer
        yield


# ----------------------------------------------------------------------------------------- wrong answers

class Named:
    """A learner "function" with a readable repr, so that hypothesis reports show what was tried."""

    def __init__(self, name, fn):
        self.name, self.fn = name, fn

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def __repr__(self):
        return self.name


def _raises(exc_type):
    def fn(*args, **kwargs):
        raise exc_type("raised on purpose by a wrong answer")
    return Named(f"raises {exc_type.__name__}", fn)


def _returns(value):
    return Named(f"returns {value!r:.60}", lambda *args, **kwargs: value)


def _map_leaves(obj, f):
    """Apply ``f`` to every array, tensor and real number in ``obj`` (through tuples and lists)."""
    if isinstance(obj, (tuple, list)):
        return type(obj)(_map_leaves(o, f) for o in obj)
    if isinstance(obj, (np.ndarray, torch.Tensor)) or (isinstance(obj, (int, float, np.number))
                                                       and not isinstance(obj, (bool, np.bool_))):
        return f(obj)
    return obj


def _has_leaf(obj) -> bool:
    found = []
    _map_leaves(obj, lambda x: found.append(x) or x)
    return bool(found)


def _to_float_array(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


def _nan_like(x):
    a = np.full(np.shape(_to_float_array(x)), np.nan)
    return torch.from_numpy(a).to(x.dtype if x.dtype.is_floating_point else torch.float64) \
        if isinstance(x, torch.Tensor) else (a if a.ndim else float("nan"))


def _doubled(x):
    """Same values, wrong shape: stacked twice along a new first axis."""
    if isinstance(x, torch.Tensor):
        return torch.stack([x, x])
    return np.stack([np.asarray(x), np.asarray(x)])


def _swap_type(x):
    """numpy <-> torch, and numbers to 0-d arrays: the right values in the other container."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(x))
    return np.asarray(x)


def _transform_output(name, example_fn, f):
    """A learner function that computes the right answer, then spoils it with ``f``."""
    def fn(*args, **kwargs):
        out = example_fn(*args, **kwargs)
        return _map_leaves(out, f) if _has_leaf(out) else None
    return Named(name, fn)


def _mutating(example_fn):
    """Right answer, but the learner's function also scribbles over its array input."""
    def fn(*args, **kwargs):
        out = example_fn(*args, **kwargs)
        for a in args:
            if isinstance(a, (np.ndarray, torch.Tensor)) and a.ndim:
                a[...] = 0
        return out
    return Named("right answer, but zeroes its input in place", fn)


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
numeric_arrays = hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64, np.bool_]), shapes)
nonfinite_arrays = hnp.arrays(np.float64, shapes, elements=st.sampled_from([np.nan, np.inf, -np.inf]))
odd_arrays = st.sampled_from([np.array(["a", "b"]), np.array([None, 1.0], dtype=object), np.ones(3, complex),
                              np.empty((0, 2))])
tensors = st.one_of(numeric_arrays, nonfinite_arrays).map(lambda a: torch.from_numpy(np.ascontiguousarray(a)))

garbage = st.one_of(
    st.none(), st.text(max_size=6), st.binary(max_size=4), st.booleans(),
    st.integers(), st.sampled_from([10 ** 400, -(10 ** 400)]),
    st.floats(allow_nan=True, allow_infinity=True), st.complex_numbers(max_magnitude=10),
    st.lists(st.floats(), max_size=4), st.lists(st.lists(st.integers(), max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2), st.tuples(st.integers(), st.text()),
    numeric_arrays, nonfinite_arrays, odd_arrays, tensors,
    st.sampled_from([object(), type, Ellipsis, slice(1), range(3), {1, 2}]),
    st.sampled_from([torch.tensor(1.0, device="meta"), torch.zeros(2, 2, dtype=torch.bfloat16),
                     torch.ones(3, requires_grad=True)]),
)

exceptions = st.sampled_from([ValueError, TypeError, ZeroDivisionError, KeyError, IndexError, RuntimeError,
                              NotImplementedError, AttributeError, RecursionError, AssertionError,
                              FloatingPointError, OverflowError, StopIteration, MemoryError, LookupError])


def _near(a, b) -> bool:
    """True when ``a`` could be a right answer close to ``b`` (then it is not a wrong answer to test)."""
    try:
        if isinstance(a, complex) or np.iscomplexobj(a):
            return False
        x, y = _to_float_array(a).reshape(-1), _to_float_array(b).reshape(-1)
        return x.size == y.size and bool(np.allclose(x, y, rtol=0.05, atol=1e-6))
    except Exception:
        return False


def strict_wrong(entry):
    """Answers that no checker may accept."""
    if entry["kind"] == "value":
        callables = st.sampled_from([len, lambda: 1.0, _returns(1.0)])
        return st.one_of(garbage, callables)
    example_fn = entry["example"]()
    return st.one_of(
        garbage,                                                        # not a function at all
        exceptions.map(_raises),                                        # raises
        garbage.map(_returns),                                          # returns garbage
        st.just(Named("takes no arguments", lambda: 1.0)),              # wrong signature
        st.just(_transform_output("right shape, all NaN", example_fn, _nan_like)),
        st.just(_transform_output("right values, wrong shape (stacked twice)", example_fn, _doubled)),
    )


def lenient_wrong(entry):
    """Plausible answers that a checker may accept or reject, but never crash on."""
    example = entry["example"]()
    if entry["kind"] == "value":
        return st.sampled_from([_map_leaves(example, _swap_type), _map_leaves(example, lambda x: x * 3 + 1),
                                [example], (example,)])
    return st.sampled_from([
        _transform_output("right values, numpy <-> torch", example, _swap_type),
        _transform_output("times 3 plus 1", example, lambda x: x * 3 + 1),
        _transform_output("transposed", example, lambda x: x.T if getattr(x, "ndim", 0) == 2 else x),
        Named("returns its first argument", lambda *a, **k: a[0] if a else None),
        Named("works on tensors of the inputs",
              lambda *a, **k: example(*[torch.as_tensor(x) if isinstance(x, np.ndarray) else x for x in a])),
        Named("works on arrays of the inputs",
              lambda *a, **k: example(*[x.numpy() if isinstance(x, torch.Tensor) else x for x in a])),
        _mutating(example),
    ])


# ---------------------------------------------------------------------------------------------------- tests

def test_there_are_checkers():
    assert LABELS, "no checker is registered"


@pytest.mark.parametrize("label", LABELS)
def test_checker_is_registered_properly(label):
    entry = REGISTRY[label]
    assert label.startswith("ex-"), f"{label}: exercise labels start with 'ex-'"
    assert entry["kind"] in ("function", "value"), f"{label}: kind={entry['kind']!r}"
    assert entry["example"] is not None, f"{label}: register an example=lambda: <a correct answer>"
    params = [p for p in inspect.signature(entry["check"]).parameters.values()
              if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    assert len(params) == 1, f"{label}: a checker takes exactly one argument, the learner's answer"
    example = entry["example"]()
    assert callable(example) == (entry["kind"] == "function"), (
        f"{label}: kind={entry['kind']!r} but its example is {'' if callable(example) else 'not '}callable")


@pytest.mark.parametrize("label", LABELS)
def test_checker_accepts_its_example(label):
    entry = REGISTRY[label]
    result = entry["check"](entry["example"]())
    assert isinstance(result, Result) and result.passed and result.label == label


@pytest.mark.parametrize("label", LABELS)
@SETTINGS
@given(data=st.data())
def test_checker_rejects_random_wrong_answers(label, data):
    entry = REGISTRY[label]
    answer = data.draw(strict_wrong(entry), label="answer")
    if entry["kind"] == "value":
        assume(not _near(answer, entry["example"]()))
    with pytest.raises(ExerciseFailed) as info:
        entry["check"](answer)
    assert info.value.label == label


@pytest.mark.parametrize("label", LABELS)
@SETTINGS
@given(data=st.data())
def test_checker_never_crashes_on_plausible_answers(label, data):
    entry = REGISTRY[label]
    answer = data.draw(lenient_wrong(entry), label="answer")
    try:
        result = entry["check"](answer)
    except ExerciseFailed as exc:
        assert exc.label == label
    else:
        assert isinstance(result, Result) and result.label == label


def test_labels_are_registered_once():
    """Two topic modules registering the same label would silently replace one checker by the other."""
    found = []
    for path in sorted(Path(load_all.__code__.co_filename).parent.glob("*.py")):
        found += re.findall(r"@checker\(\s*[\"']([^\"']+)[\"']", path.read_text(encoding="utf-8"))
    duplicates = sorted({label for label in found if found.count(label) > 1})
    assert not duplicates, f"labels registered more than once: {duplicates}"
