"""Initial pools from pretext losses: top-B and binned hard + easy, checked against hand-computed answers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alnb.methods.pools import PoolContext, pool_names, resolve_pool
from alnb.methods.pools.pretext import bin_quotas, binned_hard_easy, top_b


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_top_b_hand_computed():
    scores = np.array([0.1, 0.9, 0.5, 0.8, 0.2])
    assert top_b(scores, 2, rng()).tolist() == [1, 3]
    assert top_b(scores, 3, rng()).tolist() == [1, 3, 2]
    assert top_b(scores, 0, rng()).tolist() == []


def test_top_b_ties_follow_the_rng():
    scores = np.array([1.0, 0.0, 1.0, 1.0, 1.0])
    picks = [frozenset(top_b(scores, 2, rng(seed)).tolist()) for seed in range(20)]
    assert all(p <= {0, 2, 3, 4} for p in picks)
    assert len(set(picks)) > 1
    assert picks[7] == frozenset(top_b(scores, 2, rng(7)).tolist())


def test_bin_quotas_rounding():
    # N = 11 in 3 bins: sizes 4, 4, 3; B = 5: quotas 2, 2, 1 (the extra pick goes to the hardest bin)
    sizes, quotas = bin_quotas(11, 5, 3)
    assert sizes.tolist() == [4, 4, 3] and quotas.tolist() == [2, 2, 1]
    sizes, quotas = bin_quotas(7, 7, 5)
    assert sizes.tolist() == [2, 2, 1, 1, 1] and quotas.tolist() == [2, 2, 1, 1, 1]
    sizes, quotas = bin_quotas(20, 3, 5)
    assert sizes.tolist() == [4] * 5 and quotas.tolist() == [1, 1, 1, 0, 0]


def test_binned_divisible_hand_computed():
    # positions 0..9 with scores 9..0: descending order is 0, 1, ..., 9; two bins {0..4}, {5..9}
    scores = np.arange(10.0)[::-1]
    assert sorted(binned_hard_easy(scores, 4, 2, rng())) == [0, 1, 8, 9]
    # five bins of 2: top 1 of the first four bins, the lowest of the last
    assert sorted(binned_hard_easy(scores, 5, 5, rng())) == [0, 2, 4, 6, 9]


def test_binned_non_divisible_hand_computed():
    # 11 scores in a shuffled layout; rank r (0 = highest) sits at position where[r]
    where = np.array([3, 7, 0, 10, 5, 1, 8, 2, 6, 9, 4])
    scores = np.empty(11)
    scores[where] = np.arange(11)[::-1]
    # bins by rank: {0..3}, {4..7}, {8..10}; quotas 2, 2, 1: ranks 0, 1, 4, 5 and the last rank, 10
    assert sorted(binned_hard_easy(scores, 5, 3, rng())) == sorted(where[[0, 1, 4, 5, 10]].tolist())
    # B = 7 of 11 in 3 bins: quotas 3, 2, 2: ranks 0-2, 4-5, 9-10
    assert sorted(binned_hard_easy(scores, 7, 3, rng())) == sorted(where[[0, 1, 2, 4, 5, 9, 10]].tolist())


def test_binned_rejects_bad_arguments():
    with pytest.raises(ValueError, match="at least 2 bins"):
        binned_hard_easy(np.zeros(5), 2, 1, rng())
    with pytest.raises(ValueError, match="cannot pick 6 of 5"):
        binned_hard_easy(np.zeros(5), 6, 2, rng())


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_binned_exactly_budget_unique_positions(data):
    n = data.draw(st.integers(1, 300), label="N")
    n_bins = data.draw(st.integers(2, 12), label="n")
    budget = data.draw(st.integers(0, n), label="B")
    scores = np.array(data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)), dtype=float)
    seed = data.draw(st.integers(0, 2**32 - 1))
    picks = binned_hard_easy(scores, budget, n_bins, rng(seed))
    assert len(picks) == budget
    assert len(np.unique(picks)) == budget
    assert picks.min(initial=0) >= 0 and picks.max(initial=0) < n
    np.testing.assert_array_equal(picks, binned_hard_easy(scores, budget, n_bins, rng(seed)))
    if budget >= n_bins:  # the last bin contributes, and it gives its lowest score
        assert scores[picks].min() == scores.min()
    top = top_b(scores, budget, rng(seed))
    assert len(np.unique(top)) == budget
    if 0 < budget < n:
        assert scores[top].min() >= np.delete(scores, top).max()


def test_registered_names():
    for name, task in [
        ("rotation", "rotation"),
        ("vae_bin5", "vae"),
        ("simclr_bin10", "simclr"),
        ("inpainting_bin2", "inpainting"),
    ]:
        assert resolve_pool(name).pretext_tasks == (task,)
    assert {"rotation", "inpainting", "vae", "simclr", "vae_bin5"} <= set(pool_names())
    with pytest.raises(ValueError, match="at least 2 bins"):
        resolve_pool("vae_bin1")
    for bad in ("jigsaw", "vae_bin", "vae_5"):
        with pytest.raises(ValueError, match="unknown name"):
            resolve_pool(bad)


def _context(scores: np.ndarray, budget: int, asked: list) -> PoolContext:
    def read_scores(task: str) -> np.ndarray:
        asked.append(task)
        return scores

    return PoolContext(
        candidates=np.arange(100, 100 + len(scores)),
        budget=budget,
        rng=rng(),
        n_classes=10,
        features=lambda name: pytest.fail("pretext pools read no features"),
        scores=read_scores,
    )


def test_strategies_return_global_indices():
    scores = np.arange(10.0)[::-1]  # candidate 100 is the hardest
    asked: list[str] = []
    assert sorted(resolve_pool("rotation").build(_context(scores, 3, asked))) == [100, 101, 102]
    assert sorted(resolve_pool("vae_bin2").build(_context(scores, 4, asked))) == [100, 101, 108, 109]
    assert asked == ["rotation", "vae"]
    misaligned = _context(scores, 3, [])
    misaligned.scores = lambda task: scores[:9]
    with pytest.raises(ValueError, match="expected 10 simclr losses"):
        resolve_pool("simclr").build(misaligned)
