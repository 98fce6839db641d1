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


def test_code_width_checker_accepts_an_honest_measurement(capsys):
    """The registered example trains real (short) autoencoders; PCA's errors match an independent sklearn PCA."""
    from sklearn.decomposition import PCA as SkPCA

    import aecourse

    pca, ae = basics._example_code_width()
    X_train, X_test, _, _ = aecourse.load_digits()
    for p, value in zip(basics.CODE_WIDTHS, pca):
        sk = SkPCA(p).fit(X_train)
        assert value == pytest.approx(float(((X_test - sk.inverse_transform(sk.transform(X_test))) ** 2).mean()),
                                      rel=1e-5)
    assert basics.check_code_width((pca, ae)).passed
    assert "gap PCA - AE" in capsys.readouterr().out


@pytest.mark.parametrize("mistake, hint", [
    ("fit_on_test", "fitted PCA on the test images"),
    ("train", "errors on the training images"),
    ("per_image", "squared error per image"),
    ("same_twice", "the two lists are equal"),
    ("ae_reversed", "not below its error at p = 1"),
    ("ae_mean_image", "no better than predicting the mean"),
    ("ae_too_low", "implausibly low"),
    ("ae_per_image", "per image, not per pixel"),
    ("none", "is None"),
    ("short", "4 numbers"),
    ("not_a_pair", "expected a pair"),
])
def test_code_width_checker_rejects_mistakes(mistake, hint):
    pca, ae = basics._example_code_width()
    ref = basics._width_references()
    answers = {
        "fit_on_test": (ref["fit_on_test"], ae), "train": (ref["train"], ae), "per_image": (ref["pca"] * 64, ae),
        "same_twice": (pca, pca), "ae_reversed": (pca, ae[::-1]), "ae_mean_image": (pca, [0.08] * 4),
        "ae_too_low": (pca, [0.001] * 4), "ae_per_image": (pca, [a * 64 for a in ae]), "none": (None, ae),
        "short": (pca[:2], ae), "not_a_pair": pca,
    }
    with pytest.raises(ExerciseFailed, match=hint):
        basics.check_code_width(answers[mistake])
