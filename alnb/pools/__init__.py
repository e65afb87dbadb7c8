"""Initial-pool strategies: ``resolve_pool(name).build(ctx)`` returns global indices of U."""

from alnb.pools import clustering, pretext, probcover, random, typiclust  # noqa: F401  (register the families)
from alnb.pools.base import (PoolContext, PoolStrategy, declared_pool_options, pool_family_label, pool_names,
                             register_pool_family, resolve_pool)

__all__ = ["PoolContext", "PoolStrategy", "declared_pool_options", "pool_family_label", "pool_names",
           "register_pool_family", "resolve_pool"]
