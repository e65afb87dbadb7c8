"""Selection rules that turn scores into positions; ties are broken by the trial's seeded rng."""

from __future__ import annotations

import numpy as np


def top_k(scores: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of the ``k`` largest scores; equal scores are ordered by a random permutation."""
    scores = np.asarray(scores, dtype=np.float64)
    if not 0 <= k <= len(scores):
        raise ValueError(f"cannot pick {k} of {len(scores)} candidates")
    tie_break = rng.permutation(len(scores))
    order = np.lexsort((tie_break, -scores))
    return order[:k]
