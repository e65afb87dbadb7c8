import numpy as np
import pytest

from alnb.query import scores
from alnb.query.selection import top_k

P = np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0]])


def test_least_confidence():
    assert np.allclose(scores.least_confidence(P), [0.3, 0.6, 2 / 3, 0.5])


def test_max_entropy():
    expected = [-(0.7 * np.log(0.7) + 0.2 * np.log(0.2) + 0.1 * np.log(0.1)),
                -(0.4 * np.log(0.4) + 0.35 * np.log(0.35) + 0.25 * np.log(0.25)), np.log(3), np.log(2)]
    assert np.allclose(scores.max_entropy(P), expected)


def test_min_margin():
    assert np.allclose(scores.min_margin(P), [-0.5, -0.05, 0.0, 0.0])


def test_top_k_breaks_ties_with_rng():
    s = np.array([0.0, 1.0, 1.0, 1.0, 0.5])
    picks = {tuple(sorted(top_k(s, 2, np.random.default_rng(seed)))) for seed in range(20)}
    assert picks <= {(1, 2), (1, 3), (2, 3)} and len(picks) > 1
    assert np.array_equal(top_k(s, 4, np.random.default_rng(0))[-1:], [4])
    assert np.array_equal(top_k(s, 2, np.random.default_rng(7)), top_k(s, 2, np.random.default_rng(7)))
    with pytest.raises(ValueError):
        top_k(s, 6, np.random.default_rng(0))
