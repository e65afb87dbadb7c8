"""Query methods: invariants of every registered method, hand-checked scores and selections, exactness of
the fast k-center and of BADGE's factored distances, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import FakeOutputs
from hypothesis import given, settings
from hypothesis import strategies as st

from alnb.methods.k_center_greedy import k_center_greedy
from alnb.methods.query import QUERY_METHODS, QueryContext, get_query_method, scores
from alnb.methods.query.badge import badge_select, gradient_embedding_factors
from alnb.methods.query.vaal import VaalConfig, VaalVAE, padded_size, vaal_labeled_probability

FAST_VAAL = {"vaal_epochs": 0.2, "vaal_width": 8}


def softmax(logits: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def make_context(
    outputs: FakeOutputs, n_labeled: int, budget: int, seed: int, n_total: int, options: dict | None = None
) -> QueryContext:
    order = np.random.default_rng(seed + 100).permutation(n_total)
    return QueryContext(
        labeled=np.sort(order[:n_labeled]),
        unlabeled=np.sort(order[n_labeled:]),
        budget=budget,
        rng=np.random.default_rng(seed),
        outputs=outputs,
        options={"mc_passes": 5, **FAST_VAAL, **(options or {})},
        seed=seed,
    )


def assert_valid(picked: np.ndarray, ctx: QueryContext) -> None:
    picked = np.asarray(picked)
    assert picked.shape == (ctx.budget,)
    assert len(np.unique(picked)) == ctx.budget
    assert np.isin(picked, ctx.unlabeled).all()


# ----------------------------------------------------------------------------- every registered method

STUDY_METHODS = [
    "random",
    "lc",
    "entropy",
    "margin",
    "dbal",
    "bald",
    "coreset",
    "vaal",
    "ens_varr",
    "ens_lc",
    "ens_entropy",
    "ens_margin",
    "badge",
]


def test_every_study_method_is_registered_with_its_committee_size():
    assert set(STUDY_METHODS) <= set(QUERY_METHODS)
    committees = {name for name, method in QUERY_METHODS.items() if method.n_members > 1}
    assert committees == {"ens_varr", "ens_lc", "ens_entropy", "ens_margin"}
    assert all(QUERY_METHODS[name].n_members == 3 for name in committees)


@pytest.mark.parametrize("name", sorted(QUERY_METHODS))
def test_method_returns_budget_unique_unlabeled_indices_and_is_reproducible(name):
    n = 90
    outputs = FakeOutputs(n, n_classes=4)
    first = get_query_method(name).select(make_context(outputs, 15, 12, seed=3, n_total=n))
    again = get_query_method(name).select(make_context(outputs, 15, 12, seed=3, n_total=n))
    assert_valid(first, make_context(outputs, 15, 12, seed=3, n_total=n))
    np.testing.assert_array_equal(first, again)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(8, 60), n_classes=st.integers(2, 6), data=st.data())
def test_methods_on_random_pools(n, n_classes, data):
    n_labeled = data.draw(st.integers(1, n - 2))
    budget = data.draw(st.integers(0, n - n_labeled))
    name = data.draw(st.sampled_from(sorted(QUERY_METHODS)))
    ctx = make_context(FakeOutputs(n, n_classes, seed=n), n_labeled, budget, seed=n_classes, n_total=n)
    assert_valid(get_query_method(name).select(ctx), ctx)


# ----------------------------------------------------------------------------- scores by hand

PROBS = np.array([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0]])


def test_single_model_scores_by_hand():
    np.testing.assert_allclose(scores.least_confidence(PROBS), [0.5, 0.1, 2 / 3, 0.5])
    h = lambda *p: -sum(q * math.log(q) for q in p if q > 0)  # noqa: E731
    np.testing.assert_allclose(
        scores.max_entropy(PROBS), [h(0.5, 0.3, 0.2), h(0.9, 0.05, 0.05), math.log(3), math.log(2)]
    )
    np.testing.assert_allclose(scores.min_margin(PROBS), [-0.2, -0.85, 0.0, 0.0], atol=1e-12)


def test_variation_ratio_by_hand():
    one_hot = np.eye(3)
    votes = np.array([[0, 0, 2], [1, 1, 1], [0, 1, 2], [2, 0, 2]])  # [N, M] votes
    member_probs = 0.1 + 0.7 * one_hot[votes.T]  # [M, N, C], argmax = the vote
    np.testing.assert_allclose(scores.variation_ratio(member_probs), [1 / 3, 0.0, 2 / 3, 1 / 3])


def test_mc_entropy_and_bald_by_hand():
    passes = np.array([[0.9, 0.1], [0.1, 0.9]]).T[None]  # one sample, C=2, T=2, passes disagree
    h09 = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    np.testing.assert_allclose(scores.mc_entropy(passes), [math.log(2)])
    np.testing.assert_allclose(scores.bald(passes), [math.log(2) - h09])


def test_bald_is_zero_when_all_passes_agree():
    agreeing = np.repeat(softmax(np.random.default_rng(0).normal(size=(50, 7)), axis=1)[:, :, None], 25, axis=2)
    np.testing.assert_allclose(scores.bald(agreeing), 0.0, atol=1e-12)
    assert np.all(scores.bald(agreeing) >= 0.0)
    np.testing.assert_allclose(scores.mc_entropy(agreeing), scores.max_entropy(agreeing[:, :, 0]))


class AgreeingPasses(FakeOutputs):
    def mc_probs(self, indices, passes):
        return np.repeat(self.probs(indices)[:, :, None], passes, axis=2)


def test_dbal_with_identical_passes_picks_as_entropy():
    outputs = AgreeingPasses(200, n_classes=5, seed=1)
    dbal = get_query_method("dbal").select(make_context(outputs, 20, 30, seed=4, n_total=200))
    entropy = get_query_method("entropy").select(make_context(outputs, 20, 30, seed=4, n_total=200))
    np.testing.assert_array_equal(dbal, entropy)


def test_ensemble_methods_score_the_members_mean():
    outputs = FakeOutputs(100, n_classes=4, seed=2)
    for ensemble, single in [("ens_lc", "lc"), ("ens_entropy", "entropy"), ("ens_margin", "margin")]:
        np.testing.assert_array_equal(
            get_query_method(ensemble).select(make_context(outputs, 10, 9, 5, 100)),
            get_query_method(single).select(make_context(outputs, 10, 9, 5, 100)),
        )


def test_variation_ratio_query_prefers_disagreement():
    outputs = FakeOutputs(6, n_classes=3)
    one_hot = np.eye(3)
    votes = np.array([[0, 0, 0], [0, 1, 2], [1, 1, 1], [0, 0, 1], [2, 2, 2], [1, 2, 0]])
    outputs._member_probs = 0.1 + 0.7 * one_hot[votes.T]
    ctx = QueryContext(
        labeled=np.array([0]), unlabeled=np.arange(1, 6), budget=2, rng=np.random.default_rng(0), outputs=outputs
    )
    assert set(get_query_method("ens_varr").select(ctx)) == {1, 5}


# ----------------------------------------------------------------------------- k-center


def naive_k_center(features: np.ndarray, initial: np.ndarray, budget: int) -> list[int]:
    """The definition, in float64: after every pick, distances from the new centre to all points."""
    x = features.astype(np.float64)
    nearest = np.full(len(x), np.inf)
    for c in initial:
        nearest = np.minimum(nearest, np.linalg.norm(x - x[c], axis=1))
    nearest[initial] = -1.0
    picks = []
    for _ in range(budget):
        best = int(np.argmax(nearest))
        picks.append(best)
        nearest = np.minimum(nearest, np.linalg.norm(x - x[best], axis=1))
        nearest[best] = -1.0
    return picks


def test_k_center_on_a_line_by_hand():
    points = np.array([[0.0], [1.0], [2.5], [4.0], [10.0], [6.0], [7.5]])
    # from centre 0: 10 is farthest; then 4 and 6 are both 4 away: tie, the first position (3) wins;
    # then 7.5 (2.5 from 10); then 2.5 and 6 are both 1.5 away: tie again, position 2 wins.
    np.testing.assert_array_equal(k_center_greedy(points, np.array([0]), 4), [4, 3, 6, 2])


def test_coreset_query_on_a_line():
    outputs = FakeOutputs(7, n_classes=2)
    outputs._embeddings = np.array([[0.0], [1.0], [2.5], [4.0], [10.0], [6.0], [7.5]], dtype=np.float32)
    ctx = QueryContext(
        labeled=np.array([0, 4]),
        unlabeled=np.array([1, 2, 3, 5, 6]),
        budget=2,
        rng=np.random.default_rng(0),
        outputs=outputs,
    )
    # nearest centre distances: 1→1, 2.5→2.5, 4→4, 6→4, 7.5→2.5; pick 4 (first of the tie), then 7.5.
    np.testing.assert_array_equal(get_query_method("coreset").select(ctx), [3, 6])


@pytest.mark.parametrize("seed", range(4))
def test_k_center_equals_the_naive_definition(seed):
    rng = np.random.default_rng(seed)
    n, dim = 1500, [2, 16, 64, 8][seed]
    clusters = 4.0 * rng.normal(size=(12, dim))
    features = (clusters[rng.integers(12, size=n)] + rng.normal(size=(n, dim))).astype(np.float32)
    initial = rng.choice(n, size=[1, 10, 40, 3][seed], replace=False)
    mask = np.zeros(n, dtype=bool)
    mask[initial] = True
    # block and candidates small, so the lazy refresh paths and block refreshes are all exercised
    picks = k_center_greedy(features, mask, 400, block=8, candidates=4)
    assert picks.tolist() == naive_k_center(features, np.sort(initial), 400)
    np.testing.assert_array_equal(k_center_greedy(features, initial, 400), picks)


def test_k_center_without_initial_centres_starts_from_an_rng_draw():
    features = np.random.default_rng(0).normal(size=(300, 5)).astype(np.float32)
    picks = k_center_greedy(features, np.zeros(300, dtype=bool), 20, rng=np.random.default_rng(7))
    first = int(np.random.default_rng(7).integers(300))
    assert picks[0] == first
    assert picks.tolist() == [first] + naive_k_center(features, np.array([first]), 19)


def test_k_center_with_duplicates_and_full_budget():
    features = np.repeat(np.arange(5.0)[:, None], 3, axis=0).astype(np.float32)  # each point three times
    picks = k_center_greedy(features, np.array([0]), 14, block=2, candidates=2)
    # values 4, 2, 1, 3 (first copies), then every remaining copy is 0 away: lowest positions first
    assert picks.tolist() == [12, 6, 3, 9, 1, 2, 4, 5, 7, 8, 10, 11, 13, 14]
    with pytest.raises(ValueError, match="cannot pick 15"):
        k_center_greedy(features, np.array([0]), 15)


def test_k_center_restores_the_thread_setting():
    threads = torch.get_num_threads()
    k_center_greedy(np.random.default_rng(0).normal(size=(50, 3)), np.array([0]), 5)
    assert torch.get_num_threads() == threads


# ----------------------------------------------------------------------------- BADGE


def materialized_badge(probs: np.ndarray, features: np.ndarray, k: int, rng: np.random.Generator) -> list[int]:
    """BADGE with the gradient embeddings built explicitly, in float64."""
    ys = probs.argmax(axis=1)
    g = np.stack([np.outer(p - np.eye(probs.shape[1])[y], h).ravel() for p, y, h in zip(probs, ys, features)])
    picks = [int(np.argmax(np.linalg.norm(g, axis=1)))]
    nearest = np.full(len(g), np.inf)
    while len(picks) < k:
        nearest = np.minimum(nearest, ((g - g[picks[-1]]) ** 2).sum(axis=1))
        weights = nearest.copy()
        weights[picks] = 0.0
        picks.append(int(rng.choice(len(g), p=weights / weights.sum())))
    return picks


def test_gradient_embedding_factors_by_hand():
    a, h = gradient_embedding_factors(np.array([[0.7, 0.2, 0.1]]), np.array([[2.0, -1.0]]))
    np.testing.assert_allclose(a, [[-0.3, 0.2, 0.1]], rtol=1e-6)
    np.testing.assert_allclose(np.outer(a[0], h[0]), [[-0.6, 0.3], [0.4, -0.2], [0.2, -0.1]], rtol=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_badge_factored_distances_equal_the_materialized_embedding(seed):
    rng = np.random.default_rng(seed)
    probs = softmax(2.0 * rng.normal(size=(150, 4)), axis=1)
    features = rng.normal(size=(150, 9))
    picks = badge_select(probs, features, 25, np.random.default_rng(seed))
    assert picks.tolist() == materialized_badge(probs, features, 25, np.random.default_rng(seed))


def test_badge_first_pick_has_the_largest_gradient_norm_and_picks_are_unique():
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.5, 0.5], [0.99, 0.01]])
    features = np.array([[1.0], [1.0], [1.0], [100.0]])  # gradient norms √2 · (0.1, 0.4, 0.5, 0.01 · 100)
    picks = badge_select(probs, features, 4, np.random.default_rng(0))
    assert picks[0] == 3
    assert sorted(picks.tolist()) == [0, 1, 2, 3]


# ----------------------------------------------------------------------------- VAAL


@pytest.mark.parametrize("size,channels", [(8, 1), (28, 1), (32, 3), (64, 3)])
def test_vaal_vae_adapts_to_the_image_size(size, channels):
    vae = VaalVAE(channels, size, latent_dim=32, width=4)
    recon, mu, logvar = vae(torch.zeros(2, channels, size, size))
    assert recon.shape == (2, channels, size, size)
    assert mu.shape == logvar.shape == (2, 32)
    assert [padded_size(s) for s in (8, 28, 32, 64)] == [8, 32, 32, 64]


def test_vaal_is_seeded_and_leaves_the_global_rng_alone():
    images = torch.from_numpy(np.random.default_rng(0).integers(0, 256, size=(40, 1, 8, 8), dtype=np.uint8))
    config = VaalConfig(epochs=1, width=8)
    state = torch.get_rng_state()
    first = vaal_labeled_probability(images[:10], images[10:], seed=5, config=config)
    assert torch.equal(torch.get_rng_state(), state)
    np.testing.assert_array_equal(first, vaal_labeled_probability(images[:10], images[10:], seed=5, config=config))
    assert not np.array_equal(first, vaal_labeled_probability(images[:10], images[10:], seed=6, config=config))
    assert first.shape == (30,) and np.all((first > 0) & (first < 1))
