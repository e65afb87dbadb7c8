"""Class-balanced random (an oracle reference): B/K random samples of each class of U.

It reads the true labels, so no practitioner could run it; it shows what label balance alone is worth
(Lüth, Bungert, Klein, Jaeger, "Navigating the Pitfalls of Active Learning Evaluation", NeurIPS 2023).
Shares are B/K per class rounded to exactly B by the largest remainder; a class smaller than its share
gives all its samples and passes the rest on (:func:`alnb.methods.pools.allocation.equal_allocation`).
"""

from __future__ import annotations

import numpy as np

from alnb.methods.pools.allocation import equal_allocation
from alnb.methods.pools.base import PoolContext, PoolStrategy, register_pool_family
from alnb.methods.pools.clustering import cluster_pool


def balanced_random_pool(labels: np.ndarray, n_classes: int, budget: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of ``budget`` samples, an equal share of each class (labels in ``[0, n_classes)``) drawn at random."""
    labels = np.asarray(labels, dtype=np.int64)
    counts = equal_allocation(np.bincount(labels, minlength=n_classes), budget)
    return cluster_pool(labels, counts, rng)


@register_pool_family("balanced_random", examples=("balanced_random",))
def _balanced_random_strategy(name: str) -> PoolStrategy:
    def build(ctx: PoolContext) -> np.ndarray:
        if ctx.oracle_labels is None:
            raise ValueError(
                f"al.inits: {name} is an oracle reference and needs the labels of U, but the context has none"
            )
        return ctx.candidates[balanced_random_pool(ctx.oracle_labels(), ctx.n_classes, ctx.budget, ctx.rng)]

    return PoolStrategy(name, build, oracle=True)
