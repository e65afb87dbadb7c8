"""Acquisition scores as pure functions of prediction arrays; larger means "query first".

``probs`` is ``[N, C]``; MC-dropout arrays are ``[N, C, T]``; committee arrays are ``[M, N, C]``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy


def entropy_of(probs: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy ``H(p) = −Σ p log p`` along ``axis``, exact down to the smallest probabilities
    (``xlogy``: 0 log 0 = 0, no clipping, so near-certain samples keep their order)."""
    p = np.asarray(probs, dtype=np.float64)
    return -xlogy(p, p).sum(axis=axis)


def least_confidence(probs: np.ndarray) -> np.ndarray:
    """Least confidence, ``1 − p1`` (Lewis & Gale, SIGIR 1994)."""
    return 1.0 - np.asarray(probs, dtype=np.float64).max(axis=1)


def max_entropy(probs: np.ndarray) -> np.ndarray:
    """Max-entropy, ``H(p)`` (Shannon 1948; as used in AL by Settles 2009)."""
    return entropy_of(probs, axis=1)


def min_margin(probs: np.ndarray) -> np.ndarray:
    """Min-margin, ``−(p1 − p2)`` (Scheffer, Decomain, Wrobel 2001)."""
    top2 = np.partition(np.asarray(probs, dtype=np.float64), -2, axis=1)[:, -2:]
    return -(top2[:, 1] - top2[:, 0])


def mc_entropy(mc_probs: np.ndarray) -> np.ndarray:
    """DBAL's max-entropy on MC dropout, ``H(p̄)`` with ``p̄ = mean_t p^(t)`` (Gal, Islam, Ghahramani, ICML 2017).

    ``mc_probs`` is ``[N, C, T]``.
    """
    return entropy_of(np.asarray(mc_probs, dtype=np.float64).mean(axis=2), axis=1)


def bald(mc_probs: np.ndarray) -> np.ndarray:
    """BALD mutual information, ``H(p̄) − mean_t H(p^(t))`` (Houlsby, Huszár, Ghahramani, Lengyel 2011).

    ``mc_probs`` is ``[N, C, T]``. Non-negative by Jensen's inequality; rounding below zero is clipped,
    so it is zero when all passes agree.
    """
    mc_probs = np.asarray(mc_probs, dtype=np.float64)
    expected_entropy = entropy_of(mc_probs, axis=1).mean(axis=1)
    return np.maximum(mc_entropy(mc_probs) - expected_entropy, 0.0)


def variation_ratio(member_probs: np.ndarray) -> np.ndarray:
    """Committee variation ratio, ``1 − (votes for the modal class) / M`` (Beluch et al., CVPR 2018).

    ``member_probs`` is ``[M, N, C]``; each member votes for its argmax class.
    """
    member_probs = np.asarray(member_probs)
    n_members, n_samples, n_classes = member_probs.shape
    votes = member_probs.argmax(axis=2)
    counts = np.zeros((n_samples, n_classes), dtype=np.int64)
    np.add.at(counts, (np.broadcast_to(np.arange(n_samples), votes.shape), votes), 1)
    return 1.0 - counts.max(axis=1) / n_members
