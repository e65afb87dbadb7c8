"""The usual initial pool (ALR): uniform random from U."""

from __future__ import annotations

import numpy as np

from alnb.methods.pools.base import PoolContext, PoolStrategy, register_pool_family


def random_pool(n_candidates: int, budget: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of ``budget`` candidates drawn uniformly without replacement."""
    return rng.choice(n_candidates, size=budget, replace=False)


@register_pool_family("random", examples=("random",))
def _random_strategy(name: str) -> PoolStrategy:
    def build(ctx: PoolContext) -> np.ndarray:
        return ctx.candidates[random_pool(len(ctx.candidates), ctx.budget, ctx.rng)]

    return PoolStrategy(name, build)
