import numpy as np
import pytest

from alnb.methods.query import scores
from alnb.methods.selection import top_k

P = np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0]])


def test_least_confidence():
    assert np.allclose(scores.least_confidence(P), [0.3, 0.6, 2 / 3, 0.5])


def test_max_entropy():
    expected = [
        -(0.7 * np.log(0.7) + 0.2 * np.log(0.2) + 0.1 * np.log(0.1)),
        -(0.4 * np.log(0.4) + 0.35 * np.log(0.35) + 0.25 * np.log(0.25)),
        np.log(3),
        np.log(2),
    ]
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


def test_entropy_is_exact_for_near_certain_samples():
    """Clipping at 1e-12 gave both samples the same entropy; the exact values differ by 2e-13·log 2."""
    probs = np.array([[1 - 2e-13, 2e-13, 0.0], [1 - 2e-13, 1e-13, 1e-13]])
    clipped = -(probs * np.log(np.clip(probs, 1e-12, None))).sum(axis=1)  # the former rule
    assert clipped[0] == clipped[1]
    big = -probs[0, 0] * np.log1p(probs[0, 0] - 1)  # the stored near-1 value, logged without cancellation
    exact = [big - 2e-13 * np.log(2e-13), big - 2 * 1e-13 * np.log(1e-13)]
    entropy = scores.max_entropy(probs)
    assert np.allclose(entropy, exact, rtol=1e-12, atol=0) and entropy[1] - entropy[0] == pytest.approx(
        2e-13 * np.log(2)
    )
    for seed in range(10):  # no tie left for the rng to break: the spread sample always comes first
        assert top_k(entropy, 1, np.random.default_rng(seed)).tolist() == [1]
    mc = np.repeat(probs[:, :, None], 3, axis=2)
    assert scores.mc_entropy(mc)[1] > scores.mc_entropy(mc)[0] and np.allclose(scores.bald(mc), 0, atol=1e-20)
