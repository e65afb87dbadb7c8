"""Clustering initial pools: allocation arithmetic, k-means pools, TypiClust, ProbCover."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from alnb.methods.geometry import knn_mean_distances, l2_normalize, typicality
from alnb.methods.pools import PoolContext, resolve_pool
from alnb.methods.pools.clustering import cluster_pool, equal_allocation, kmeans_clusters, proportional_allocation
from alnb.methods.pools.neighbors import nearest_foreign_distances, radius_graph
from alnb.methods.pools.probcover import (
    below_rounding,
    max_coverage,
    probcover,
    probcover_delta,
    pseudo_label_foreign_distances,
    purity_delta,
)
from alnb.methods.pools.typiclust import typiclust


def blobs(n_blobs=6, per_blob=40, dim=16, seed=0):
    """Well-separated Gaussian blobs (also after L2 normalisation): features and blob ids."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(n_blobs, dim))
    centers *= 10 / np.linalg.norm(centers, axis=1, keepdims=True)
    blob = np.repeat(np.arange(n_blobs), per_blob)
    features = centers[blob] + 0.3 * rng.normal(size=(len(blob), dim))
    order = rng.permutation(len(blob))
    return features[order].astype(np.float32), blob[order]


# ---------------------------------------------------------------------------- allocation


@pytest.mark.parametrize(
    "sizes, budget, expected",
    [
        ([10, 10, 10], 9, [3, 3, 3]),
        ([3, 3, 3, 3], 10, [3, 3, 2, 2]),  # B not divisible by K: the lower ids break the tie
        ([2, 9, 9], 5, [1, 2, 2]),  # equal remainders go to the larger clusters first
        ([10, 1, 10], 7, [3, 1, 3]),  # a cluster smaller than its share passes the rest on
        ([5, 2, 8], 12, [5, 2, 5]),  # ... repeatedly: 4 each → 2 full → 5 each → 5 full → 5
        ([0, 4, 4], 3, [0, 2, 1]),
        ([4, 4], 8, [4, 4]),
    ],
)
def test_equal_allocation(sizes, budget, expected):
    assert equal_allocation(np.array(sizes), budget).tolist() == expected


@pytest.mark.parametrize(
    "sizes, budget, expected",
    [
        ([6, 3, 1], 5, [3, 2, 0]),  # shares 3, 1.5, 0.5: the tie of remainders goes to the larger cluster
        ([7, 0, 3], 4, [3, 0, 1]),  # shares 2.8, 0, 1.2
        ([50, 30, 20], 10, [5, 3, 2]),
        ([1, 1, 98], 3, [0, 0, 3]),  # shares 0.03, 0.03, 2.94
        ([5, 2, 8], 15, [5, 2, 8]),  # B = N takes everything
    ],
)
def test_proportional_allocation(sizes, budget, expected):
    assert proportional_allocation(np.array(sizes), budget).tolist() == expected


@pytest.mark.parametrize("allocate", [equal_allocation, proportional_allocation])
def test_allocation_sums_to_budget_within_sizes(allocate):
    rng = np.random.default_rng(3)
    for _ in range(200):
        sizes = rng.integers(0, 30, size=rng.integers(1, 12))
        budget = int(rng.integers(0, sizes.sum() + 1))
        counts = allocate(sizes, budget)
        assert counts.sum() == budget
        assert np.all((0 <= counts) & (counts <= sizes))


def test_allocation_rejects_budget_above_n():
    with pytest.raises(ValueError, match="exceeds"):
        equal_allocation(np.array([2, 3]), 6)
    with pytest.raises(ValueError, match="exceeds"):
        proportional_allocation(np.array([2, 3]), 6)


# ---------------------------------------------------------------------------- k-means pools


def test_cluster_pool_counts_and_nearest():
    labels = np.array([0, 0, 0, 1, 1, 1, 1])
    features = np.array([[0.0], [1.0], [5.0], [10.0], [11.0], [12.0], [30.0]])
    random_pick = cluster_pool(labels, np.array([2, 3]), np.random.default_rng(0))
    assert np.bincount(labels[random_pick]).tolist() == [2, 3] and len(set(random_pick)) == 5
    nearest = cluster_pool(
        labels,
        np.array([1, 2]),
        np.random.default_rng(0),
        features=features,
        centers=np.array([[0.9], [11.2]]),
        within="nearest",
    )
    assert nearest.tolist() == [1, 4, 5]
    mean_nearest = cluster_pool(
        labels, np.array([1, 1]), np.random.default_rng(0), features=features, within="nearest"
    )  # cluster means 2.0 and 15.75
    assert mean_nearest.tolist() == [1, 5]
    with pytest.raises(ValueError):
        cluster_pool(labels, np.array([4, 0]), np.random.default_rng(0))


def context(features, budget, seed, n_classes, clusters=None, options=None):
    candidates = np.arange(1000, 1000 + len(features))
    return PoolContext(
        candidates=candidates,
        budget=budget,
        rng=np.random.default_rng(seed),
        n_classes=n_classes,
        features=lambda name: features,
        scores=lambda task: None,
        clusters=(lambda method: clusters) if clusters is not None else None,
        options=options or {},
    )


@pytest.mark.parametrize("name", ["kmeans_equal", "kmeans_prop", "kmeans_simclr_equal"])
def test_kmeans_pool_covers_every_blob(name):
    features, blob = blobs()
    strategy = resolve_pool(name)
    for within in ("random", "nearest"):
        pool = strategy.build(context(features, 12, 5, 6, options={"within": within}))
        assert len(np.unique(pool)) == 12 and np.all((pool >= 1000) & (pool < 1000 + len(features)))
        assert np.bincount(blob[pool - 1000]).tolist() == [2] * 6
        assert np.array_equal(pool, strategy.build(context(features, 12, 5, 6, options={"within": within})))


def test_registry_names_and_needs():
    assert resolve_pool("kmeans_equal").representations == ("pca",)
    assert resolve_pool("kmeans_pixels_prop").pretext_tasks == ()
    assert resolve_pool("kmeans_rotation_prop").pretext_tasks == ("rotation",)
    assert resolve_pool("typiclust").representations == ("simclr",)
    assert resolve_pool("typiclust").pretext_tasks == ("simclr",)
    assert resolve_pool("probcover_vae").representations == ("vae",)
    assert resolve_pool("deepcluster_equal").representations == ("deepcluster",)
    with pytest.raises(ValueError):
        resolve_pool("kmeans_foo_equal")


def test_deepcluster_pool_allocates_over_the_assignment():
    assignment = np.array([7] * 10 + [3] * 30 + [9] * 60)
    features = np.zeros((100, 2), dtype=np.float32)
    equal = resolve_pool("deepcluster_equal").build(context(features, 9, 0, 3, clusters=assignment))
    prop = resolve_pool("deepcluster_prop").build(context(features, 10, 0, 3, clusters=assignment))
    assert sorted(np.bincount(assignment[equal - 1000], minlength=10)[[7, 3, 9]].tolist()) == [3, 3, 3]
    assert np.bincount(assignment[prop - 1000], minlength=10)[[7, 3, 9]].tolist() == [1, 3, 6]
    with pytest.raises(ValueError, match="clusters"):
        resolve_pool("deepcluster_equal").build(context(features, 9, 0, 3))


# ---------------------------------------------------------------------------- TypiClust


def test_knn_mean_distances_and_typicality_by_hand():
    points = np.array([[0.0], [1.0], [3.0], [7.0]])
    assert np.allclose(knn_mean_distances(points, 1), [1, 1, 2, 4])
    assert np.allclose(knn_mean_distances(points, 2), [2, 1.5, 2.5, 5])
    assert np.allclose(typicality(points, 2), 1 / (np.array([2, 1.5, 2.5, 5]) + 1e-5))


def test_typiclust_one_per_blob_first():
    features, blob = blobs()
    picks = typiclust(features, 6, np.random.default_rng(1))
    assert sorted(blob[picks].tolist()) == list(range(6))
    # the pick is the blob's most typical point: the densest, near the blob's centre
    for position in picks:
        members = np.flatnonzero(blob == blob[position])
        scores = typicality(l2_normalize(features[members]), 20)
        assert members[np.argmax(scores)] == position


def test_typiclust_prefers_clusters_without_labels():
    features, blob = blobs()
    labeled = [np.flatnonzero(blob == b)[0] for b in (0, 1)]
    picks = typiclust(features, 4, np.random.default_rng(2), labeled_positions=labeled)
    assert sorted(blob[picks].tolist()) == [2, 3, 4, 5]


def test_typiclust_exact_budget_seeded_and_fallback():
    features, _ = blobs(per_blob=30)
    first = typiclust(features, 25, np.random.default_rng(4))
    assert len(np.unique(first)) == 25
    assert np.array_equal(first, typiclust(features, 25, np.random.default_rng(4)))
    tiny = np.random.default_rng(0).normal(size=(20, 3))
    fallback = typiclust(tiny, 10, np.random.default_rng(0))  # 10 clusters of about 2 points: all dropped
    assert len(np.unique(fallback)) == 10
    with pytest.raises(ValueError):
        typiclust(tiny, 21, np.random.default_rng(0))


# ---------------------------------------------------------------------------- ProbCover


def test_nearest_foreign_distances_by_hand():
    points = np.array([[0.0], [1.0], [5.0], [6.0], [8.0]])
    assert np.allclose(nearest_foreign_distances(points, np.array([0, 0, 1, 1, 2])), [5, 4, 3, 2, 2])


def test_purity_delta_is_the_largest_radius_with_enough_purity():
    foreign = np.arange(1, 21) / 10.0  # 0.1 … 2.0
    delta = purity_delta(foreign, 0.95)
    assert delta == pytest.approx(0.2)
    assert np.mean(foreign >= delta) >= 0.95 and np.mean(foreign >= np.nextafter(delta, 3)) < 0.95
    assert purity_delta(foreign, 1.0) == pytest.approx(0.1)
    assert purity_delta(foreign, 0.5) == pytest.approx(1.1)


def test_probcover_delta_matches_brute_force_purity():
    features, _ = blobs(n_blobs=4, per_blob=50, seed=3)
    features = l2_normalize(features + np.random.default_rng(0).normal(size=features.shape).astype(np.float32) * 3)
    labels, foreign = pseudo_label_foreign_distances(features, 4, np.random.default_rng(0))
    distances = cdist(features, features)
    brute = np.where(labels[:, None] != labels[None, :], distances, np.inf).min(1)
    assert np.allclose(foreign, brute, atol=1e-5)
    delta = probcover_delta(features, 4, np.random.default_rng(0), normalize=False)
    boundary = purity_delta(foreign, 0.95)
    assert boundary * (1 - 1e-4) < delta < boundary  # just below the boundary, by float32 rounding only
    assert np.mean(foreign >= boundary) >= 0.95 > np.mean(foreign >= np.nextafter(boundary, 3))


def _graph_purity(graph, labels: np.ndarray) -> float:
    return float(np.mean([np.all(labels[graph.neighbours(p)] == labels[p]) for p in range(graph.n_points)]))


@pytest.mark.parametrize("threshold", [0.95, 0.9])
def test_probcover_graph_respects_its_purity_threshold(threshold):
    """The graph ProbCover builds is at least as pure as asked, under the float32 arithmetic that builds it
    (δ exactly on a boundary distance left it 94.8–95% pure in about 1 of 5 cases)."""
    for seed in range(40):
        rng = np.random.default_rng(seed)
        n, d, k = int(rng.integers(100, 400)), int(rng.integers(2, 32)), int(rng.integers(2, 10))
        features = l2_normalize(rng.normal(size=(n, d)).astype(np.float32))
        labels, foreign = pseudo_label_foreign_distances(features, k, np.random.default_rng(seed))
        delta = below_rounding(purity_delta(foreign, threshold), features)
        for graph in (
            radius_graph(features, delta, pseudo_labels=labels, foreign_distances=foreign),
            radius_graph(features, delta),
        ):
            assert _graph_purity(graph, labels) >= threshold, (seed, _graph_purity(graph, labels))


def test_radius_graph_pruned_by_pseudo_labels_is_exact():
    features, _ = blobs(n_blobs=5, per_blob=60, seed=4)
    features = l2_normalize(features + np.random.default_rng(1).normal(size=features.shape).astype(np.float32) * 4)
    labels, foreign = pseudo_label_foreign_distances(features, 5, np.random.default_rng(1))
    delta = purity_delta(foreign, 0.9)
    full = radius_graph(features, delta)
    pruned = radius_graph(features, delta, pseudo_labels=labels, foreign_distances=foreign)
    distances = cdist(features.astype(np.float64), features.astype(np.float64))
    clear = np.abs(distances - delta) > 1e-5  # away from the boundary, where float32 rounding decides
    for point in range(len(features)):
        assert set(full.neighbours(point)) == set(pruned.neighbours(point))
        expected = np.zeros(len(features), dtype=bool)
        expected[full.neighbours(point)] = True
        assert np.array_equal(expected[clear[point]], (distances[point] < delta)[clear[point]])
    assert full.n_edges == pruned.n_edges > len(features)


def test_max_coverage_by_hand():
    points = np.array([[0.0], [0.1], [0.2], [10.0], [10.1], [20.0]])
    graph = radius_graph(points, 0.5)
    assert graph.degrees().tolist() == [3, 3, 3, 2, 2, 1]
    picks = max_coverage(graph, 3, np.random.default_rng(0))
    assert picks[0] in (0, 1, 2) and picks[1] in (3, 4) and picks[2] == 5
    assert max_coverage(graph, 2, np.random.default_rng(0), labeled_positions=[4]).tolist()[1] == 5
    everything_covered = max_coverage(graph, 5, np.random.default_rng(0))  # 3 greedy, then 2 at random
    assert len(np.unique(everything_covered)) == 5 and everything_covered[2] == 5


def test_probcover_one_per_blob_first_and_seeded():
    features, blob = blobs()
    picks = probcover(features, 15, 6, np.random.default_rng(6))
    assert len(np.unique(picks)) == 15
    assert sorted(blob[picks[:6]].tolist()) == list(range(6))
    assert np.array_equal(picks, probcover(features, 15, 6, np.random.default_rng(6)))
    labeled = [np.flatnonzero(blob == b)[0] for b in (0, 1, 2)]
    rest = probcover(features, 3, 6, np.random.default_rng(6), labeled_positions=labeled)
    assert sorted(blob[rest].tolist()) == [3, 4, 5]


@pytest.mark.parametrize("name", ["typiclust", "probcover", "typiclust_pca", "probcover_pixels"])
def test_typiclust_and_probcover_strategies(name):
    features, blob = blobs()
    strategy = resolve_pool(name)
    pool = strategy.build(context(features, 6, 8, 6, options={"device": "cpu"}))
    assert sorted(blob[pool - 1000].tolist()) == list(range(6))
    assert np.array_equal(pool, strategy.build(context(features, 6, 8, 6, options={"device": "cpu"})))


def test_kmeans_clusters_seeded():
    features, blob = blobs()
    labels, centers = kmeans_clusters(features, 6, np.random.default_rng(0))
    again, _ = kmeans_clusters(features, 6, np.random.default_rng(0))
    assert np.array_equal(labels, again) and centers.shape == (6, 16)
    assert len({(a, b) for a, b in zip(labels, blob)}) == 6  # recovers the blobs
