"""Known answers of MaxHerding, UHerding (and its calibration) and the class-balanced random oracle."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.special import softmax

from alnb.methods.kernel_herding import kernel_herding, rbf_kernel
from alnb.methods.pools import PoolContext, is_oracle, pool_names, resolve_pool
from alnb.methods.pools.balanced import balanced_random_pool
from alnb.methods.query.uherding import fit_temperature, labeled_bandwidth, margin_uncertainty, uherding


def two_blobs(n_per_blob=60, seed=0):
    """Two tight blobs around opposite directions (still far apart after L2 normalisation)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[5.0, 0.0, 0.0], [-5.0, 0.0, 0.0]])
    points = np.concatenate([c + 0.4 * rng.standard_normal((n_per_blob, 3)) for c in centres]).astype(np.float32)
    return points, np.repeat([0, 1], n_per_blob)


def near_centre(features, blob, members, pick, quantile=0.2):
    """Whether ``pick`` is among the ``quantile`` of its blob's points nearest to the blob's (normalised) mean."""
    x = features / np.linalg.norm(features, axis=1, keepdims=True)
    centre = x[members == blob].mean(0)
    distances = np.linalg.norm(x[members == blob] - centre, axis=1)
    return np.linalg.norm(x[pick] - centre) <= np.quantile(distances, quantile)


def coverage(features, chosen, bandwidth=1.0):
    x = torch.as_tensor(features / np.linalg.norm(features, axis=1, keepdims=True))
    return float(rbf_kernel(x[chosen], x, bandwidth).max(0).values.mean())


def test_maxherding_takes_one_point_near_each_blob_centre():
    features, blobs = two_blobs()
    picks = kernel_herding(features, 2, np.random.default_rng(0))
    assert sorted(blobs[picks]) == [0, 1]
    assert all(near_centre(features, blobs[p], blobs, p) for p in picks)


def test_maxherding_strategy_reads_simclr_embeddings_and_returns_global_indices():
    features, blobs = two_blobs()
    candidates = np.arange(len(features)) * 3 + 7
    ctx = PoolContext(
        candidates=candidates,
        budget=2,
        rng=np.random.default_rng(0),
        n_classes=2,
        features=lambda rep: {"simclr": features}[rep],
        scores=None,
        options={"device": "cpu"},
    )
    strategy = resolve_pool("maxherding")
    assert strategy.pretext_tasks == ("simclr",) and not strategy.oracle
    picks = strategy.build(ctx)
    assert np.isin(picks, candidates).all() and sorted(blobs[(picks - 7) // 3]) == [0, 1]
    assert resolve_pool("maxherding_pca").representations == ("pca",)


def test_greedy_gains_stay_exact_and_the_subsample_is_seeded():
    """The greedy with corrected gains equals the plain greedy (every gain recomputed each step)."""
    rng = np.random.default_rng(1)
    features = rng.standard_normal((80, 5)).astype(np.float32)
    x = torch.as_tensor(features / np.linalg.norm(features, axis=1, keepdims=True))
    kernel = rbf_kernel(x, x, 0.7).double().numpy()
    covered, plain = np.zeros(80), []
    for _ in range(10):
        gains = np.clip(kernel - covered, 0, None).sum(1)
        gains[plain] = -1
        plain.append(int(gains.argmax()))
        covered = np.maximum(covered, kernel[plain[-1]])
    assert kernel_herding(features, 10, np.random.default_rng(0), bandwidth=0.7).tolist() == plain
    sub = kernel_herding(features, 10, np.random.default_rng(3), bandwidth=0.7, max_candidates=30)
    assert np.array_equal(sub, kernel_herding(features, 10, np.random.default_rng(3), bandwidth=0.7, max_candidates=30))
    assert coverage(features, plain) >= coverage(features, sub)


def test_labeled_points_are_never_picked_and_cover_their_neighbourhood():
    features, blobs = two_blobs()
    labeled = np.flatnonzero(blobs == 0)[:3]
    picks = kernel_herding(features, 1, np.random.default_rng(0), labeled_positions=labeled)
    assert blobs[picks[0]] == 1  # blob 0 is already covered by its labeled points


def test_herding_fills_the_budget_when_everything_is_covered():
    features = np.ones((10, 4), np.float32)
    picks = kernel_herding(features, 6, np.random.default_rng(0))
    assert len(np.unique(picks)) == 6


def test_uherding_without_a_model_is_maxherding():
    features, _ = two_blobs()
    labeled = np.array([0, 70])
    expected = kernel_herding(features, 5, np.random.default_rng(4), labeled_positions=labeled, bandwidth=0.3)
    assert np.array_equal(uherding(features, 5, np.random.default_rng(4), labeled, bandwidth=0.3), expected)


def test_uherding_with_a_narrow_kernel_is_margin_sampling():
    rng = np.random.default_rng(2)
    features = rng.standard_normal((40, 6)).astype(np.float32)
    probs = rng.dirichlet(np.ones(4), size=40)
    labeled = np.arange(5)
    picks = uherding(features, 6, np.random.default_rng(0), labeled, probs=probs, bandwidth=0.02)
    uncertainty = margin_uncertainty(probs[5:])
    assert sorted(picks) == sorted(5 + np.argsort(-uncertainty)[:6])


def test_temperature_fit_recovers_the_scale_of_overconfident_logits():
    rng = np.random.default_rng(0)
    calibrated = rng.standard_normal((4000, 5)) * 2
    labels = np.array([rng.choice(5, p=p) for p in softmax(calibrated, axis=1)])
    assert fit_temperature(3.0 * calibrated, labels) == pytest.approx(3.0, rel=0.1)
    assert fit_temperature(np.zeros((0, 5)), np.zeros(0, int)) == 1.0


def test_margin_uncertainty_and_temperature():
    probs = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2]])
    assert np.allclose(margin_uncertainty(probs), [0.5, 1.0])
    assert margin_uncertainty(probs, 5.0)[0] > 0.5  # a higher temperature flattens the prediction


def test_labeled_bandwidth_is_the_smallest_distance_between_labeled_points():
    points = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [0.6, 0.8]])
    assert labeled_bandwidth(points) == pytest.approx(np.linalg.norm([0.6, -0.2]), rel=1e-5)
    assert labeled_bandwidth(points[:1]) == 1.0


def test_balanced_random_gives_an_equal_share_of_each_class():
    labels = np.repeat(np.arange(4), [40, 30, 20, 10])
    picks = balanced_random_pool(labels, 4, 20, np.random.default_rng(0))
    assert np.bincount(labels[picks], minlength=4).tolist() == [5, 5, 5, 5] and len(np.unique(picks)) == 20
    uneven = np.bincount(labels[balanced_random_pool(labels, 4, 22, np.random.default_rng(0))], minlength=4)
    assert uneven.sum() == 22 and set(uneven) == {5, 6}
    small = np.bincount(labels[balanced_random_pool(labels, 4, 48, np.random.default_rng(0))], minlength=4)
    assert small.tolist()[3] == 10 and small.sum() == 48 and max(small) - min(small[:3]) <= 1


def test_balanced_random_is_the_only_oracle_and_needs_the_labels():
    assert is_oracle("balanced_random")
    assert not any(is_oracle(name) for name in set(pool_names()) - {"balanced_random"})
    labels = np.repeat(np.arange(3), 10)
    candidates = np.arange(30) + 100
    ctx = PoolContext(
        candidates=candidates,
        budget=9,
        rng=np.random.default_rng(0),
        n_classes=3,
        features=None,
        scores=None,
        oracle_labels=lambda: labels,
    )
    picks = resolve_pool("balanced_random").build(ctx)
    assert np.bincount(labels[picks - 100]).tolist() == [3, 3, 3]
    ctx.oracle_labels = None
    with pytest.raises(ValueError, match="oracle"):
        resolve_pool("balanced_random").build(ctx)


def test_labeled_class_balance_is_cumulative_per_trial():
    from alnb.analysis.classes import labeled_class_balance
    from alnb.methods.pools import pool_label

    labels = np.array([0, 0, 1, 1, 2, 2])
    labeled = pd.DataFrame(
        {"init": ["a"] * 4 + ["b"] * 2, "seed": 0, "cycle": [0, 0, 1, 1, 0, 1], "index": [0, 1, 2, 4, 0, 2]}
    )
    table = labeled_class_balance(labeled, labels, 3)
    a = table[table["init"] == "a"]
    assert a["n_labeled"].tolist() == [2, 4] and a["class_coverage"].tolist() == pytest.approx([1 / 3, 1.0])
    nats = -(0.5 * np.log(0.5) + 2 * 0.25 * np.log(0.25))
    assert a["class_entropy"].tolist() == pytest.approx([0.0, nats / np.log(3)])  # one scale: / log K
    assert table[table["init"] == "b"]["class_entropy"].tolist() == pytest.approx([0.0, np.log(2) / np.log(3)])
    assert pool_label("balanced_random") == "balanced_random (oracle)" and pool_label("random") == "random"
