"""Initial-pool strategies: ``resolve_pool(name).build(ctx)`` returns global indices of U."""

from alnb.methods.pools import (  # noqa: F401
    balanced,
    clustering,
    kcenter,
    maxherding,
    pretext,
    probcover,
    random,
    typiclust,  # (register)
)
from alnb.methods.pools.base import (
    PoolContext,
    PoolStrategy,
    declared_pool_options,
    is_oracle,
    pool_family_label,
    pool_label,
    pool_names,
    register_pool_family,
    resolve_pool,
)

__all__ = [
    "PoolContext",
    "PoolStrategy",
    "declared_pool_options",
    "is_oracle",
    "pool_family_label",
    "pool_label",
    "pool_names",
    "register_pool_family",
    "resolve_pool",
]
