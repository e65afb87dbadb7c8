"""Acquisition scores as pure functions of prediction arrays; larger means "query first".

``probs`` is ``[N, C]``; MC-dropout arrays are ``[N, C, T]``; committee arrays are ``[M, N, C]``.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-12


def entropy_of(probs: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy ``H(p) = −Σ p log p`` along ``axis`` (0 log 0 = 0)."""
    p = np.asarray(probs, dtype=np.float64)
    return -(p * np.log(np.clip(p, _EPS, None))).sum(axis=axis)


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
