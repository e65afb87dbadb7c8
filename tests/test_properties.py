"""Properties of every registered initial-pool strategy and query method, on random inputs (hypothesis).

For any pool size, budget and class count: exactly ``budget`` unique integer indices, all from U (the
candidates, or the unlabeled indices), none from a held-out validation/test set, never an already
labeled one; and the same seed gives the same selection. Inputs may be degenerate (every sample
identical), which stresses tie-breaking. Strategies are read from the registries, so a newly
registered one is covered without editing this file.
"""

import numpy as np
import pytest
from helpers import FakeOutputs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alnb.methods.pools import PoolContext, pool_names, resolve_pool
from alnb.methods.query import QUERY_METHODS, QueryContext
from alnb.run.loop import SelectionError, check_selection

# Expensive strategies train a model per call: fewer examples, and options that keep the training tiny.
EXPENSIVE = ("vaal", "deepcluster", "typiclust", "probcover")
FAST_OPTIONS = {
    "mc_passes": 4,
    "vaal_epochs": 0.5,
    "vaal_batch_size": 16,
    "vaal_width": 8,
    "vaal_latent_dim": 4,
    "device": "cpu",
}


def examples_for(name: str) -> int:
    return 6 if any(word in name for word in EXPENSIVE) else 25


def check_picks(picks, allowed: np.ndarray, forbidden: np.ndarray, budget: int, who: str) -> np.ndarray:
    """The loop's own invariant check, plus the same properties spelled out."""
    picks = np.asarray(picks)
    mask = np.zeros(int(max(allowed.max(initial=0), forbidden.max(initial=0))) + 1, dtype=bool)
    mask[allowed] = True
    check_selection(picks, mask, budget, who)
    assert picks.shape == (budget,) and np.issubdtype(picks.dtype, np.integer)
    assert len(np.unique(picks)) == budget
    assert np.isin(picks, allowed).all() and not np.isin(picks, forbidden).any()
    return picks


@st.composite
def pool_problems(draw):
    n_candidates = draw(st.integers(2, 48))
    return {
        "n_candidates": n_candidates,
        "n_held_out": draw(st.integers(1, 30)),
        "budget": draw(st.integers(1, n_candidates)),
        "n_classes": draw(st.integers(2, 10)),
        "n_clusters": draw(st.integers(1, 12)),
        "dim": draw(st.integers(1, 6)),
        "degenerate": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


def pool_context(problem: dict, rng_seed: int, name: str) -> tuple[PoolContext, np.ndarray]:
    """A PoolContext over random candidates for strategy ``name`` (the true labels only for an oracle); the
    remaining global indices are the held-out val/test set."""
    arrays = np.random.default_rng(problem["seed"])
    n = problem["n_candidates"]
    order = arrays.permutation(n + problem["n_held_out"])
    candidates, held_out = np.sort(order[:n]), order[n:]
    dim, degenerate = problem["dim"], problem["degenerate"]
    features = {}

    def features_of(representation: str) -> np.ndarray:
        if representation not in features:
            features[representation] = (
                np.ones((n, dim), np.float32) if degenerate else arrays.standard_normal((n, dim)).astype(np.float32)
            )
        return features[representation]

    def scores_of(task: str) -> np.ndarray:
        return np.zeros(n) if degenerate else arrays.random(n)

    def clusters_of(method: str) -> np.ndarray:
        k = min(problem["n_clusters"], n)
        return np.zeros(n, np.int64) if degenerate else arrays.integers(0, k, n)

    def oracle_labels() -> np.ndarray:
        return np.zeros(n, np.int64) if degenerate else arrays.integers(0, problem["n_classes"], n)

    ctx = PoolContext(
        candidates=candidates,
        budget=problem["budget"],
        rng=np.random.default_rng(rng_seed),
        n_classes=problem["n_classes"],
        features=features_of,
        scores=scores_of,
        clusters=clusters_of,
        options={"device": "cpu"},
        oracle_labels=oracle_labels if resolve_pool(name).oracle else None,
    )
    return ctx, held_out


POOL_NAMES = sorted(set(pool_names()))


def test_every_pool_family_is_covered():
    assert {"random", "maxherding", "balanced_random"} <= set(POOL_NAMES)
    assert "uherding" in QUERY_METHODS
    for name in POOL_NAMES:
        assert resolve_pool(name).name == name


@pytest.mark.parametrize("name", POOL_NAMES)
def test_initial_pool_properties(name):
    strategy = resolve_pool(name)

    @settings(
        max_examples=examples_for(name),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(problem=pool_problems(), rng_seed=st.integers(0, 2**32 - 1))
    def check(problem, rng_seed):
        ctx, held_out = pool_context(problem, rng_seed, name)
        picks = check_picks(strategy.build(ctx), ctx.candidates, held_out, ctx.budget, name)
        again, _ = pool_context(problem, rng_seed, name)
        assert np.array_equal(strategy.build(again), picks), "same seed, different pool"

    check()


@st.composite
def query_problems(draw):
    n_unlabeled = draw(st.integers(2, 48))
    return {
        "n_unlabeled": n_unlabeled,
        "n_labeled": draw(st.integers(1, 20)),
        "n_held_out": draw(st.integers(1, 20)),
        "budget": draw(st.integers(1, n_unlabeled)),
        "n_classes": draw(st.integers(2, 10)),
        "dim": draw(st.integers(1, 6)),
        "degenerate": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


def query_context(problem: dict, n_members: int, rng_seed: int) -> tuple[QueryContext, np.ndarray]:
    n_u, n_l = problem["n_unlabeled"], problem["n_labeled"]
    n_total = n_u + n_l + problem["n_held_out"]
    order = np.random.default_rng(problem["seed"]).permutation(n_total)
    unlabeled, labeled, held_out = np.sort(order[:n_u]), np.sort(order[n_u : n_u + n_l]), order[n_u + n_l :]
    outputs = FakeOutputs(
        n_total,
        problem["n_classes"],
        seed=problem["seed"],
        n_members=n_members,
        dim=problem["dim"],
        domain=np.concatenate([unlabeled, labeled]),
        degenerate=problem["degenerate"],
    )
    ctx = QueryContext(
        labeled=labeled,
        unlabeled=unlabeled,
        budget=problem["budget"],
        rng=np.random.default_rng(rng_seed),
        outputs=outputs,
        options=dict(FAST_OPTIONS),
        seed=rng_seed,
    )
    return ctx, np.concatenate([held_out, labeled])


QUERY_NAMES = sorted(QUERY_METHODS)


@pytest.mark.parametrize("name", QUERY_NAMES)
def test_query_method_properties(name):
    method = QUERY_METHODS[name]

    @settings(
        max_examples=examples_for(name),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(problem=query_problems(), rng_seed=st.integers(0, 2**32 - 1))
    def check(problem, rng_seed):
        ctx, forbidden = query_context(problem, method.n_members, rng_seed)
        picks = check_picks(method.select(ctx), ctx.unlabeled, forbidden, ctx.budget, name)
        again, _ = query_context(problem, method.n_members, rng_seed)
        assert np.array_equal(method.select(again), picks), "same seed, different selection"

    check()


def test_check_picks_can_fail():
    """The property check itself rejects a selection that reaches into the held-out set."""
    with pytest.raises(SelectionError, match="outside the unlabeled pool"):
        check_picks(np.array([0, 5]), np.array([0, 1, 2]), np.array([5]), 2, "cheat")
