"""One registration for the cold-start selectors that run on a representation of U (TypiClust, ProbCover,
MaxHerding): ``<method>`` on SimCLR embeddings, as in their papers, and ``<method>_<representation>`` on another."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from alnb.methods.pools.base import PoolContext, PoolStrategy, register_pool_family
from alnb.methods.pools.clustering import REPRESENTATION_PATTERN, representation_needs
from alnb.methods.registry import Option, read_options

Select = Callable[[np.ndarray, PoolContext, dict], np.ndarray]


def register_embedding_pool(method: str, options: tuple[Option, ...], select: Select, title: str) -> None:
    """Register ``method`` and ``method_<representation>``: ``select(features of U, context, its read options)``
    returns positions into the candidates; ``title`` names the method in each strategy's docstring."""

    @register_pool_family(
        rf"{method}(?:_(?P<representation>{REPRESENTATION_PATTERN}))?",
        examples=(method, f"{method}_pca"),
        options=options,
    )
    def strategy(name: str, representation: str = "simclr") -> PoolStrategy:
        def build(ctx: PoolContext) -> np.ndarray:
            return ctx.candidates[select(ctx.features(representation), ctx, read_options(options, ctx.options))]

        return PoolStrategy(name, build, **representation_needs(representation))

    strategy.__doc__ = f"{title} on a representation (default: SimCLR embeddings, as in the paper)."
