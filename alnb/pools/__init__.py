"""Initial-pool strategies: ``resolve_pool(name).build(ctx)`` returns global indices of U."""

from alnb.pools import (balanced, clustering, herding, kcenter, pretext, probcover, random,  # noqa: F401  (register)
                        typiclust)
from alnb.pools.base import (PoolContext, PoolStrategy, declared_pool_options, is_oracle, pool_family_label, pool_label,
                             pool_names, register_pool_family, resolve_pool)

__all__ = ["PoolContext", "PoolStrategy", "declared_pool_options", "is_oracle", "pool_family_label", "pool_label",
           "pool_names", "register_pool_family", "resolve_pool"]
