"""k-center greedy as an initial pool (Sener & Savarese, "Active Learning for Convolutional Neural Networks: A
Core-Set Approach", ICLR 2018): from a seeded random first centre, repeatedly label the point farthest from
every centre chosen so far, on L2-normalised self-supervised embeddings. The greedy is
:func:`alnb.methods.k_center_greedy.k_center_greedy` (exact, lazy, no N×N matrix); it minimises the covering radius.
"""

from __future__ import annotations

import numpy as np

from alnb.methods.geometry import l2_normalize
from alnb.methods.k_center_greedy import k_center_greedy
from alnb.methods.pools.base import PoolContext, PoolStrategy, register_pool_family
from alnb.methods.pools.clustering import REPRESENTATION_PATTERN, representation_needs


def kcenter(features: np.ndarray, budget: int, rng: np.random.Generator, labeled_positions=()) -> np.ndarray:
    """Positions of ``budget`` unlabeled rows of ``features`` (L ∪ U) picked by k-center greedy on the
    L2-normalised rows, in pick order; without labeled rows the first centre is drawn with ``rng``."""
    return k_center_greedy(l2_normalize(features), np.asarray(labeled_positions, dtype=np.int64), budget, rng)


@register_pool_family(rf"kcenter(?:_(?P<representation>{REPRESENTATION_PATTERN}))?", examples=("kcenter",))
def _kcenter_strategy(name: str, representation: str = "simclr") -> PoolStrategy:
    """k-center greedy on a representation (default: SimCLR embeddings)."""

    def build(ctx: PoolContext) -> np.ndarray:
        return ctx.candidates[kcenter(ctx.features(representation), ctx.budget, ctx.rng)]

    return PoolStrategy(name, build, **representation_needs(representation))
