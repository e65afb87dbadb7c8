"""Initial-pool strategies: ``resolve_pool(name).build(ctx)`` returns global indices of U."""

from alnb.pools import random  # noqa: F401  (registers the family)
from alnb.pools.base import PoolContext, PoolStrategy, pool_names, register_pool_family, resolve_pool

__all__ = ["PoolContext", "PoolStrategy", "pool_names", "register_pool_family", "resolve_pool"]
