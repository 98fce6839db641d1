"""Anomaly scores and their evaluation: the ROC AUC against scikit-learn's roc_auc_score, the k-NN distance
against NearestNeighbors, reconstruction scores against numpy, and thresholds at a false-positive rate."""
import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

import aecourse
from aecourse import anomaly as an


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_matches_sklearn_with_and_without_ties(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(200) < 0.3).astype(int)
    s = rng.standard_normal(200) + y
    assert an.roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    tied = np.round(s)                                                # many ties
    assert an.roc_auc(y, tied) == pytest.approx(roc_auc_score(y, tied), abs=1e-12)


def test_roc_auc_edge_values():
    assert an.roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert an.roc_auc([0, 0, 1, 1], [0.4, 0.3, 0.2, 0.1]) == 0.0
    assert an.roc_auc([0, 1], [0.5, 0.5]) == 0.5
    assert an.roc_auc(torch.tensor([0, 1, 1]), torch.tensor([0.0, 1.0, 2.0])) == 1.0


def test_roc_auc_errors():
    with pytest.raises(ValueError, match="labels holds 0 anomalies and 3 normal"):
        an.roc_auc([0, 0, 0], [1, 2, 3])
    with pytest.raises(ValueError, match="labels must be 0 \\(normal\\) or 1"):
        an.roc_auc([0, 2], [1, 2])
    with pytest.raises(ValueError, match="labels has 2 entries but scores has 3"):
        an.roc_auc([0, 1], [1, 2, 3])
    with pytest.raises(ValueError, match="scores contains NaN"):
        an.roc_auc([0, 1], [1, np.nan])


@pytest.mark.parametrize("k", [1, 3])
def test_knn_distance_matches_sklearn(k):
    rng = np.random.default_rng(1)
    A, B = rng.random((60, 5)), rng.random((20, 5))
    dist, _ = NearestNeighbors(n_neighbors=k).fit(A).kneighbors(B)
    assert np.allclose(an.knn_distance_scores(A, B, k=k), dist[:, -1], atol=1e-9)
    with pytest.raises(ValueError, match="k=61 must be between 1 and 60"):
        an.knn_distance_scores(A, B, k=61)
    with pytest.raises(ValueError, match="X has 4 features but X_normal has 5"):
        an.knn_distance_scores(A, B[:, :4])


def test_reconstruction_scores_for_a_network_and_for_pca():
    X = aecourse.load_digits().X_test[:50]
    model = aecourse.MLPAutoencoder(64, 3, (8,), seed=0)
    with torch.no_grad():
        want = ((model(torch.as_tensor(X)) - torch.as_tensor(X)) ** 2).mean(1).numpy()
    assert np.allclose(an.reconstruction_scores(model, X), want, rtol=1e-5)
    pca = aecourse.PCA(4).fit(X)
    assert np.allclose(an.reconstruction_scores(pca, X), ((pca.reconstruct(X) - X) ** 2).mean(1))
    with pytest.raises(TypeError, match="must be a torch autoencoder"):
        an.reconstruction_scores("model", X)


def test_reconstruction_scores_in_eval_mode_and_mode_restored():
    # A network with training-time noise (the hashing autoencoder) must be scored without it, and left as found.
    X = aecourse.load_digits().X_test[:20]
    model = aecourse.retrieval.HashingAutoencoder(64, 8, (16,), noise=4.0, seed=0)
    model.eval()
    with torch.no_grad():
        want = ((model(torch.as_tensor(X)) - torch.as_tensor(X)) ** 2).mean(1).numpy()
    model.train()
    got = an.reconstruction_scores(model, X)
    assert model.training
    assert np.allclose(got, want, rtol=1e-5) and np.allclose(an.reconstruction_scores(model, X), got)


def test_threshold_at_fpr_flags_at_most_the_rate_and_is_the_lowest_such():
    rng = np.random.default_rng(2)
    for n, fpr in [(100, 0.05), (37, 0.1), (10, 0.0), (200, 0.01)]:
        s = rng.standard_normal(n)
        t = an.threshold_at_fpr(s, fpr)
        assert (s > t).mean() <= fpr + 1e-12
        lower = np.sort(s)[np.sort(s) < t]
        if len(lower):
            assert (s > lower.max()).mean() > fpr           # any lower candidate flags too many
    assert an.threshold_at_fpr(np.arange(100.0), 0.05) == 94.0
    with pytest.raises(ValueError, match="fpr=1.5 must be a false-positive rate"):
        an.threshold_at_fpr([1.0, 2.0], 1.5)


def test_detection_rates():
    fpr, recall = an.detection_rates([0.1, 0.2, 0.3, 0.9], [0.5, 0.95, 0.1], 0.4)
    assert fpr == 0.25 and recall == pytest.approx(2 / 3)
