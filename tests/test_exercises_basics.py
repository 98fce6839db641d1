"""The first chapter's checkers accept the reference and explain known mistakes."""
import numpy as np
import pytest

from aecourse.exercises import ExerciseFailed, basics


def test_mse_checker_accepts_reference(capsys):
    r = basics.check_reconstruction_mse(lambda X, Xh: float(((X - Xh) ** 2).mean()))
    assert r.passed and "ex-recon-mse" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, hint", [
    (lambda X, Xh: float(((X - Xh) ** 2).sum(axis=1).mean()), "summed over the features"),
    (lambda X, Xh: float(np.sqrt(((X - Xh) ** 2).mean())), "root mean squared"),
    (lambda X, Xh: None, "forget the `return`"),
    (lambda X, Xh: 1 / 0, "raised ZeroDivisionError"),
])
def test_mse_checker_rejects_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        basics.check_reconstruction_mse(wrong)


def test_identity_checker():
    assert basics.check_identity_weights(lambda n, p: (np.eye(p, n), np.eye(n, p))).passed
    with pytest.raises(ExerciseFailed, match="wrong order or transposed"):
        basics.check_identity_weights(lambda n, p: (np.eye(n, p), np.eye(p, n)))
    with pytest.raises(ExerciseFailed, match="differs from x"):
        basics.check_identity_weights(lambda n, p: (np.ones((p, n)), np.ones((n, p))))
